"""Where an autosave's time goes: the server's own CPU time per request (from /proc, so the
load generator's share is not counted), one request at a time, for

- a bare FastAPI endpoint that parses the form (no database),
- the app with a probe route: middleware, the global dependencies (CSRF, control
  characters) and the form, no database,
- the same probe that also identifies the signed-in user (session and roles),
- a real autosave of a score sheet.

Each on a real uvicorn server on 127.0.0.1, median of 3 runs of 400 requests. Linux only.

    .venv/bin/python bench/framework_overhead.py
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.deps import CurrentPrincipal  # noqa: E402 (resolved by FastAPI at run time)
from bench.deadline_rush import free_port, start  # noqa: E402

bare = FastAPI()


@bare.post("/probe")
async def bare_probe(request: Request) -> PlainTextResponse:
    await request.form()
    return PlainTextResponse("ok")


def app_with_probes() -> FastAPI:
    from app.main import create_app

    app = create_app()

    @app.post("/bench/probe")
    async def probe(request: Request) -> PlainTextResponse:
        await request.form()
        return PlainTextResponse("ok")

    @app.post("/bench/probe-principal")
    async def probe_principal(request: Request, principal: CurrentPrincipal) -> PlainTextResponse:
        await request.form()
        return PlainTextResponse("ok" if principal.authenticated else "anonymous")

    return app


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(command: list[str], env: dict[str, str], login: str | None, paths: list[str]) -> dict[str, list[float]]:  # fmt: skip
    from bench.scoring_autosave import PASSWORD, VERSION, changes

    port = free_port()
    server = start([*command, "--port", str(port), "--log-level", "warning"], env, port)
    result: dict[str, list[float]] = {path: [] for path in paths}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            token = ""
            if login:
                page = client.get("/login")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
                client.post("/login", data={"csrf_token": token, "email": login, "password": PASSWORD})  # fmt: skip
            headers = {"HX-Request": "true", "X-Fragment": "status", "X-CSRF-Token": token}
            version = "0"
            for run in range(4):  # the first run warms up and is not counted
                for path in paths:
                    sent = changes(run * 10 + len(path), 400)
                    before = cpu_seconds(server.pid)
                    for change in sent:
                        response = client.post(path, data={"version": version, **change}, headers=headers)  # fmt: skip
                        assert response.status_code == 200, (path, response.status_code)
                        found = VERSION.search(response.text)
                        version = found.group(1) if found else version
                    if run:
                        result[path].append((cpu_seconds(server.pid) - before) / len(sent) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return result


def main() -> int:
    from bench.scoring_autosave import prepare

    work = Path(tempfile.mkdtemp(prefix="overhead-"))
    database_url = f"sqlite:///{work / 'app.db'}"
    reference, application, members = prepare(work, database_url, 3)
    env = {**os.environ, "VAR_DIR": str(work), "DATABASE_URL": database_url}
    uvicorn = [sys.executable, "-m", "uvicorn"]
    email, member_id = members[0]
    sheet = f"/committee/{reference}/applicants/{application}/sheets/{member_id}"
    figures = measure([*uvicorn, "bench.framework_overhead:bare"], env, None, ["/probe"])
    figures |= measure(
        [*uvicorn, "bench.framework_overhead:app_with_probes", "--factory"],
        env, email, ["/bench/probe", "/bench/probe-principal", sheet],
    )  # fmt: skip
    labels = {
        "/probe": "bare FastAPI, form only",
        "/bench/probe": "app: middleware, global dependencies, form",
        "/bench/probe-principal": "app: the same and who is asking",
        sheet: "app: a full autosave",
    }
    print("server CPU per request, median of 3 runs of 400 (ms):")
    for path, label in labels.items():
        runs = figures[path]
        print(f"  {label:45s} {statistics.median(runs):6.2f}   (runs: {', '.join(f'{r:.2f}' for r in runs)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"took {time.perf_counter() - started:.0f} s")
    sys.exit(code)
