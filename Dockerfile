# Production image: slim Python, a non-root user, migrations on start, several workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/var/lib/selectie \
    WEB_CONCURRENCY=4 \
    PORT=8000

# Pango and its fonts for the PDF round report (WeasyPrint).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/app app \
 && mkdir -p /var/lib/selectie && chown app /var/lib/selectie

WORKDIR /srv/app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY templates ./templates
COPY rubrics ./rubrics
COPY migrations ./migrations
RUN pip install --upgrade pip && pip install -e .

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz',timeout=4)"
# ROLE=web (the default): migrate once, then serve; behind a proxy set TRUSTED_PROXIES to
# its address. uvicorn's own proxy-header handling stays off: the app alone decides whom to
# believe. `python -m uvicorn`, not the uvicorn script: the PDF checker's children then
# start without re-importing it. ROLE=worker: the job worker (mail, the published times,
# the daily purge and checkpoints, the report PDFs), as many as you like, on PostgreSQL.
ENV ROLE=web
CMD ["sh", "-c", "if [ \"$ROLE\" = worker ]; then exec python -m app worker; fi; python -m app migrate && exec python -m uvicorn app.main:create_app --factory --host 0.0.0.0 --port ${PORT} --workers ${WEB_CONCURRENCY} --no-proxy-headers --timeout-keep-alive 75"]
