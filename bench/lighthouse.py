"""Lighthouse (npm `lighthouse`, in Debian's Chromium) on four pages of the demo: the home
page, a procedure page, a committee member's score sheet and an applicant's result, each
run R times; the median score per category, and every audit that did not pass.

It starts its own server with fresh demo data on 127.0.0.1, logs the member and the
applicant in with Playwright and hands Lighthouse their session cookie. Lighthouse's own
default: a phone (Moto G power) on a throttled network and CPU. Bounded: pages x R runs.

    npm install --prefix build/lighthouse --no-save --no-audit --no-fund lighthouse
    .venv/bin/python bench/lighthouse.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
LIGHTHOUSE = ROOT / "build" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("accessibility", "best-practices", "performance", "seo")
PAGES = (
    ("home", "/", None),
    ("procedure", "/procedures/ANE-UTR-2026-1", None),
    ("score sheet", "/committee/ANE-UTR-2026-2/applicants/ANE-UTR-2026-2-0002", "aios@example.org"),
    ("result", "/applications/ANE-UTR-2026-1-0001", "sollicitant1@example.org"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(var_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VAR_DIR": str(var_dir), "DATABASE_URL": f"sqlite:///{var_dir}/app.db",
           "BASE_URL": url}  # fmt: skip
    log = (var_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--demo", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError((var_dir / "server.log").read_text())


def cookie(url: str, email: str, password: str) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS.split())
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("#f-email", email)
        page.fill("#f-password", password)
        page.click("button[type=submit].button-primary")
        page.wait_for_load_state()
        found = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        browser.close()
    return found


def lighthouse(binary: Path, address: str, headers: dict[str, str], out: Path) -> dict[str, Any]:
    subprocess.run(
        [str(binary), address, "--quiet", "--output=json", f"--output-path={out}",
         f"--chrome-flags={FLAGS}", f"--only-categories={','.join(CATEGORIES)}",
         f"--extra-headers={json.dumps(headers)}"],
        check=True, env={**os.environ, "CHROME_PATH": CHROMIUM},
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.read_text())
    final = report.get("finalDisplayedUrl", "")
    if final.rstrip("/") != address.rstrip("/"):
        raise RuntimeError(f"{address} ended at {final}: the login did not hold")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lighthouse", type=Path, default=LIGHTHOUSE)
    parser.add_argument("--json", type=Path, default=ROOT / "test-artifacts" / "lighthouse.json")
    args = parser.parse_args()
    if not args.lighthouse.exists():
        print(f"{args.lighthouse} is missing: npm install --prefix build/lighthouse lighthouse")
        return 2
    var_dir = Path(tempfile.mkdtemp(prefix="bench-lighthouse-"))
    process, url = start(var_dir)
    try:
        passwords = {
            line.split("\t")[1]: line.split("\t")[2]
            for line in (var_dir / "demo-accounts.txt").read_text().splitlines()
        }
        results: dict[str, Any] = {}
        for name, path, who in PAGES:
            headers = {"Cookie": cookie(url, who, passwords[who])} if who else {}
            scores: dict[str, list[int]] = {}
            failed: set[str] = set()
            for _run in range(args.runs):
                report = lighthouse(args.lighthouse, url + path, headers, var_dir / "last.json")
                for key, category in report["categories"].items():
                    scores.setdefault(key, []).append(round(category["score"] * 100))
                    for ref in category["auditRefs"]:
                        audit = report["audits"][ref["id"]]
                        if ref["weight"] and audit.get("score") is not None and audit["score"] < 1:
                            failed.add(f"{key}: {ref['id']}")
            median = {key: statistics.median(values) for key, values in scores.items()}
            results[name] = {"path": path, "median": median, "runs": scores,
                             "not_passed": sorted(failed)}  # fmt: skip
            print(f"{name:12} " + "  ".join(f"{k} {median[k]:g}" for k in CATEGORIES))
            for item in sorted(failed):
                print(f"{'':12} not passed: {item}")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
