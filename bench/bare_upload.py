"""The baseline for the deadline rush: a bare FastAPI endpoint that takes the same
multipart upload (two files and a field) and drops it."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.formparsers import MultiPartParser

# The same spooling threshold as the app, so the two are compared like for like.
MultiPartParser.spool_max_size = 64 * 1024

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/upload")
async def upload(request: Request) -> JSONResponse:
    form = await request.form()
    return JSONResponse({"fields": len(form)})
