"""The interview rubric as data: a versioned YAML file in rubrics/, validated when loaded.

A bad file fails with its path, the line and what is wrong. A procedure pins a rubric by
id, version and content hash and keeps its own copy of the content, so editing a file
never changes a procedure that already pinned it. Pure code: no database, no web.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

STARR_STEPS = ("situatie", "taak", "actie", "resultaat", "reflectie")
REQUIRED_CRITERIA = ("self_reflection", "collaboration", "learnability")


class Text(BaseModel):
    """A text in Dutch and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    nl: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nl


class ScaleLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    level: Annotated[int, Field(ge=1, le=10)]
    label: Text


class Suitability(BaseModel):
    """The suitability rule: suitable when no criterion is below `minimum_level`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    minimum_level: int
    description: Text


class Starr(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    situatie: Text
    taak: Text
    actie: Text
    resultaat: Text
    reflectie: Text

    def steps(self) -> list[tuple[str, Text]]:
        return [(step, getattr(self, step)) for step in STARR_STEPS]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    name: Text
    description: Text
    weight: Annotated[int, Field(ge=1, le=10)]
    starr: Starr
    levels: dict[int, Text]


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=60)]
    version: Annotated[int, Field(ge=1)]
    title: Text
    description: Text
    scale: Annotated[list[ScaleLevel], Field(min_length=2)]
    suitability: Suitability
    criteria: Annotated[list[Criterion], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        levels = [item.level for item in self.scale]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError("scale: levels must be 1, 2, 3, ... in order")
        if self.suitability.minimum_level not in levels:
            raise ValueError("suitability: minimum_level is not a level of the scale")
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.id in seen:
                raise ValueError(f"criteria[{index}]: id {criterion.id!r} is used twice")
            seen.add(criterion.id)
            missing = sorted(set(levels) - set(criterion.levels))
            extra = sorted(set(criterion.levels) - set(levels))
            if missing:
                raise ValueError(
                    f"criteria[{index}] ({criterion.id}): no description for level "
                    + ", ".join(map(str, missing))
                )
            if extra:
                raise ValueError(
                    f"criteria[{index}] ({criterion.id}): level "
                    + ", ".join(map(str, extra))
                    + " is not on the scale"
                )
        absent = [name for name in REQUIRED_CRITERIA if name not in seen]
        if absent:
            raise ValueError("criteria: the guideline asks for " + ", ".join(absent))
        return self

    @property
    def max_level(self) -> int:
        return len(self.scale)

    def level_label(self, level: int, language: str) -> str:
        return self.scale[level - 1].label.get(language)

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def content(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        return content_hash(self.content())


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RubricError(ValueError):
    """A rubric file that cannot be used: where (path and line) and what is wrong."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


def load(path: Path) -> Rubric:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RubricError(path, None, f"cannot read the file ({error.strerror})") from None
    return _parse(path, text)


# The editor lists the rubrics on every page and parsing the YAML takes a good part of a
# request, so a file is parsed once per content: it is read every time, and an edited file
# (new text) is parsed anew. A bad file is not kept and fails every time.
@lru_cache(maxsize=64)
def _parse(path: Path, text: str) -> Rubric:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(error, "problem", None) or str(error)
        raise RubricError(path, line, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise RubricError(path, 1, "the file must hold a mapping with id, version, criteria, ...")
    try:
        return Rubric.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in location)
        problem = f"{where}: {message}" if where else message
        # The nodes (with their lines) are only needed to say where a bad file is wrong.
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        return _raise(path, _line(node, location, message), problem)


def _raise(path: Path, line: int | None, problem: str) -> Rubric:
    raise RubricError(path, line, problem)


def _line(node: yaml.Node | None, location: tuple[Any, ...], message: str) -> int | None:
    """The line of the deepest YAML node on `location` (or named in a model-level message)."""
    if node is None:
        return None
    if not location and message.startswith("criteria["):
        index = int(message[len("criteria[") : message.index("]")])
        location = ("criteria", index)
    elif not location and ":" in message:
        location = (message.split(":")[0],)
    line = node.start_mark.line + 1
    for part in location:
        child = _child(node, part)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def available(directory: Path) -> dict[tuple[str, int], Path]:
    """The rubric files in `directory`, by (id, version); a bad file raises RubricError."""
    found: dict[tuple[str, int], Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        rubric = load(path)
        found[(rubric.id, rubric.version)] = path
    return found
