"""The baseline for the deadline rush: a bare FastAPI endpoint that takes the same
multipart upload (two files and a field) and drops it."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/upload")
async def upload(request: Request) -> JSONResponse:
    form = await request.form()
    return JSONResponse({"fields": len(form)})
