# Two entry points for a fresh machine: `make serve` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# HOST / PORT override the bind address; unset, the gateway's defaults (or INTERLOCK_HOST / INTERLOCK_PORT) apply.
HOST ?=
PORT ?=

.PHONY: serve test bench-overhead clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing interlock and its dependencies (llama-cpp-python compiles once, several minutes on 2 cores) ..."
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/interlock serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench-overhead: $(STAMP)
	$(BIN)/python benchmarks/gateway_overhead/bench.py

clean:
	rm -rf $(VENV) build *.egg-info
