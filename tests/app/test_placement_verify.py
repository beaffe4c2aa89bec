"""The public verify page /placement/verify and `python -m app verify-placement`, on the
worked example of shared/spec/placement.md and on tampered and broken input."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from app.__main__ import main as cli
from app.main import create_app
from tests.app.conftest import Browser

DATA = Path(__file__).resolve().parents[1] / "data" / "placement"


def text(name: str) -> str:
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


def test_anyone_verifies_both_rounds_with_the_draw(browser: Browser) -> None:
    page = browser.get("/placement/verify")
    assert page.status_code == 200 and 'name="previous_file"' in page.text
    page = browser.post("/placement/verify", {"record": text("round-1")})
    assert page.status_code == 200 and says(page, "every step checks out")
    assert says(page, "the draw record was not given")
    page = browser.post(
        "/placement/verify",
        {"record": text("round-2"), "previous": text("round-1"), "draw": text("draw-2")},
    )
    assert page.status_code == 200 and says(page, "every step checks out")
    assert says(page, "Nobody moved down") and says(page, "the priority is the draw's order")
    assert not says(page, "Not checked")
    # The same as uploaded files.
    files = {
        "record_file": ("round-2.json", text("round-2").encode(), "application/json"),
        "previous_file": ("round-1.json", text("round-1").encode(), "application/json"),
    }
    page = browser.post("/placement/verify", files=files)
    assert page.status_code == 200 and says(page, "every step checks out")
    assert says(page, "the draw record was not given")


def test_a_tampered_round_names_the_failing_step(browser: Browser) -> None:
    tampered = json.loads(text("round-2"))
    tampered["assignment"]["ANE-UTR-2027-1-0013"] = "MMA"
    page = browser.post(
        "/placement/verify", {"record": json.dumps(tampered), "previous": text("round-1")}
    )
    assert page.status_code == 200 and says(page, "does not check out")
    assert says(page, "✗ Nobody moved down")
    assert says(page, "ANE-UTR-2027-1-0013 (UMCU → MMA)")
    assert says(page, "✗ Assignment") and says(page, "✓ Link to the previous round")
    wrong = json.loads(text("round-2")) | {"previous": "0" * 64}
    page = browser.post(
        "/placement/verify", {"record": json.dumps(wrong), "previous": text("round-1")}
    )
    assert says(page, "✗ Link to the previous round")


def test_bad_input_is_refused_with_a_clear_message(browser: Browser) -> None:
    page = browser.post("/placement/verify", {"record": "{niet json"})
    assert page.status_code == 422
    assert says(page, "Round record: The text is not valid JSON (line 1, column 2).")
    page = browser.post("/placement/verify", {"record": text("round-2"), "draw": "[1, 2]"})
    assert page.status_code == 422 and says(page, "Draw record: The record must be a JSON object")
    assert text("round-2")[:40] in html.unescape(page.text)  # what was pasted stays
    page = browser.post("/placement/verify", {"record": "  "})
    assert page.status_code == 422 and says(page, "Paste the record of a placement round")
    page = browser.post(
        "/placement/verify", files={"record_file": ("x.json", b"\xff\xfe{", "application/json")}
    )
    assert page.status_code == 422 and says(page, "The file is not UTF-8 text.")
    big = b"{" + b" " * 2_000_000 + b"}"
    page = browser.post("/placement/verify", files={"record_file": ("x.json", big, "text/plain")})
    assert page.status_code == 422 and says(page, "The file is larger than 2 MB")
    page = browser.post("/placement/verify", {"record": " " * 1_100_000})
    assert page.status_code == 400 and says(page, "larger than 1 MB. Send less, or choose a file")
    # A record of the right version with fields of the wrong kind is a failed step, not a 500.
    page = browser.post(
        "/placement/verify",
        {"record": json.dumps({"version": "selection-placement/v1", "round": "1"})},
    )
    assert page.status_code == 200 and says(page, "✗ Record complete")
    # No form token: refused like every other form.
    refused = browser.client.post("/placement/verify", data={"record": text("round-1")})
    assert refused.status_code == 403


def test_the_page_speaks_dutch(settings: Any) -> None:
    app = create_app(settings.model_copy(update={"default_language": "nl"}))
    dutch = Browser(app, settings)
    page = dutch.post("/placement/verify", {"record": text("round-2"), "previous": text("round-1")})
    assert page.status_code == 200 and says(page, "De plaatsing klopt: elke stap komt uit.")
    assert says(page, "Niemand gaat achteruit") and says(page, "het lotingsverslag niet is gegeven")
    page = dutch.post("/placement/verify", {"record": "{"})
    assert page.status_code == 422 and says(page, "De tekst is geen geldige JSON")
    app.state.database.dispose()


def test_verify_placement_command(tmp_path: Path, capsys: Any) -> None:
    for name in ("round-1", "round-2", "draw-2"):
        (tmp_path / f"{name}.json").write_text(text(name))
    round_1, round_2, draw = (str(tmp_path / f"{n}.json") for n in ("round-1", "round-2", "draw-2"))
    assert cli(["verify-placement", round_2, round_1, draw]) == 0
    out = capsys.readouterr().out
    assert "The placement is correct." in out and "ok   moved_down" in out
    assert "Not checked" not in out
    # The draw may come second when there is no previous round.
    assert cli(["verify-placement", round_1, draw]) == 0
    assert "ok   priority: the priority is the draw's order" in capsys.readouterr().out
    tampered = json.loads(text("round-2"))
    tampered["withdrawn"] = []
    (tmp_path / "bad.json").write_text(json.dumps(tampered))
    assert cli(["verify-placement", str(tmp_path / "bad.json"), round_1]) == 1
    out = capsys.readouterr().out
    assert "FAIL assignment" in out and "does NOT check out" in out
    (tmp_path / "broken.json").write_text("geen json")
    assert cli(["verify-placement", str(tmp_path / "broken.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert cli(["verify-placement", str(tmp_path / "missing.json")]) == 2
