"""Rubric files: validated on load; a bad file fails with its path, line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.config import ROOT
from app.procedures import rubric


def text(word: str) -> dict[str, str]:
    return {"nl": f"{word} (nl)", "en": f"{word} (en)"}


def valid() -> dict:
    return {
        "id": "test-matrix",
        "version": 1,
        "title": text("Matrix"),
        "description": text("Uitleg"),
        "scale": [{"level": n, "label": text(f"niveau {n}")} for n in (1, 2, 3, 4)],
        "suitability": {"minimum_level": 3, "description": text("geen criterium onder 3")},
        "criteria": [
            {
                "id": name,
                "name": text(name),
                "description": text("wat en waarom"),
                "weight": 1,
                "starr": {step: text(step) for step in rubric.STARR_STEPS},
                "levels": {n: text(f"gedrag {n}") for n in (1, 2, 3, 4)},
            }
            for name in ("self_reflection", "collaboration", "learnability")
        ],
    }


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_valid_file_loads_and_hashes_its_content(tmp_path: Path) -> None:
    loaded = rubric.load(write(tmp_path, valid()))
    assert loaded.id == "test-matrix" and loaded.max_level == 4
    assert loaded.level_label(3, "en") == "niveau 3 (en)"
    assert len(loaded.content_hash()) == 64
    again = rubric.load(write(tmp_path, valid()))
    assert again.content_hash() == loaded.content_hash()
    changed = valid()
    changed["criteria"][0]["weight"] = 2
    assert rubric.load(write(tmp_path, changed)).content_hash() != loaded.content_hash()


def test_a_missing_level_is_named_with_its_line(tmp_path: Path) -> None:
    data = valid()
    del data["criteria"][1]["levels"][2]
    path = write(tmp_path, data)
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load(path)
    error = caught.value
    assert error.path == path
    assert "collaboration" in error.problem and "level 2" in error.problem
    lines = path.read_text().splitlines()
    assert error.line is not None
    assert "- id: collaboration" in lines[error.line - 1]
    assert str(error).startswith(f"{path}:{error.line}: ")


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["criteria"][0]["starr"].pop("reflectie"), "reflectie"),
        (lambda d: d["criteria"][2]["name"].pop("en"), "en"),
        (lambda d: d["criteria"][0].update(weight=0), "weight"),
        (lambda d: d["criteria"].pop(0), "self_reflection"),
        (lambda d: d.update(unexpected=1), "unexpected"),
        (lambda d: d["suitability"].update(minimum_level=9), "minimum_level"),
        (lambda d: d["criteria"][1].update(id="self_reflection"), "used twice"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, mutate, words: str) -> None:  # type: ignore[no-untyped-def]
    data = valid()
    mutate(data)
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load(write(tmp_path, data))
    assert words in caught.value.problem
    assert caught.value.line is not None


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\nversion: 1\ncriteria:\n  - id: [unclosed\n")
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load(path)
    assert "not valid YAML" in caught.value.problem and caught.value.line in (4, 5)


def test_the_shipped_rubrics_are_valid_and_cover_the_guideline() -> None:
    found = rubric.available(ROOT / "rubrics")
    assert found, "rubrics/ holds no rubric"
    for path in found.values():
        loaded = rubric.load(path)
        ids = {criterion.id for criterion in loaded.criteria}
        assert set(rubric.REQUIRED_CRITERIA) <= ids
        assert {"motivation", "communication"} <= ids
        for criterion in loaded.criteria:
            for level in loaded.scale:
                assert criterion.levels[level.level].nl and criterion.levels[level.level].en
