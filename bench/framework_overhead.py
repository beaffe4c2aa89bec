"""How much of an autosave is the framework: the same app and middleware, with a route that
runs only the shared dependencies (CSRF, control characters, identifying the user) and
parses the form, against the real autosave. In-process (TestClient), sequential saves,
median of 3 runs of 300 each; prints milliseconds per request.

    .venv/bin/python bench/framework_overhead.py
"""

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from fastapi import Request
    from fastapi.responses import PlainTextResponse
    from fastapi.testclient import TestClient

    from app.deps import CurrentPrincipal
    from app.main import create_app
    from bench.scoring_autosave import PASSWORD, VERSION, changes, prepare

    work = Path(tempfile.mkdtemp(prefix="overhead-"))
    reference, application, members = prepare(work, f"sqlite:///{work / 'app.db'}", 3)
    app = create_app()

    @app.post("/bench/noop")
    async def noop(request: Request, principal: CurrentPrincipal) -> PlainTextResponse:
        await request.form()
        return PlainTextResponse('id="sheet-version" value="1"')

    email, member_id = members[0]
    sheet = f"/committee/{reference}/applicants/{application}/sheets/{member_id}"
    with TestClient(app) as client:
        page = client.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        token = found.group(1)
        client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        headers = {"HX-Request": "true", "X-Fragment": "status", "X-CSRF-Token": token}
        state = {"version": "0", "member": 0}

        def run(url: str, count: int = 300) -> float:
            state["member"] += 1
            started = time.perf_counter()
            for change in changes(state["member"], count):
                response = client.post(
                    url, data={"version": state["version"], **change}, headers=headers
                )
                if url == sheet:
                    version = VERSION.search(response.text)
                    assert version, response.status_code
                    state["version"] = version.group(1)
            return (time.perf_counter() - started) / count * 1000

        run("/bench/noop", 50)
        run(sheet, 50)
        bare = statistics.median(run("/bench/noop") for _ in range(3))
        full = statistics.median(run(sheet) for _ in range(3))
    print(f"dependencies and form only: {bare:.2f} ms per request")
    print(f"full autosave:              {full:.2f} ms per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
