# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck docs-build docs pytest browser node container schemas builtin-index bench soak fuzz clean

# The runtime alone is what `make run` needs: a few packages, seconds to install. The dev
# tools (pytest, mypy, ruff, Playwright, the Graph SDKs ...) come with `make test`. pip -qq
# shows errors only: not setuptools' banner about editable installs.
RUNTIME := $(VENV)/.runtime

$(RUNTIME): pyproject.toml
	@echo "mockgraph: installing the runtime only (aiohttp, jsonschema, PyYAML, cryptography, PyJWT, fastjsonschema) into $(VENV); make test adds the dev tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -qq -e '.[fast]'
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/pip install -qq -e '.[dev]'
	touch $(STAMP)

run: $(RUNTIME)
	$(BIN)/mockgraph serve

test: lint typecheck docs-build pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The docs site (docs/, mkdocs.yml): built --strict, so a broken link or anchor fails the test;
# `make docs` writes the generated tables (tools/docs_tables.py) and serves it with live
# reload. NO_MKDOCS_2_WARNING: mkdocs-material's banner.
docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet -d $(VENV)/site

docs: $(STAMP)
	$(BIN)/python tools/docs_tables.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# On every core: the suite waits on subprocesses, a browser and sockets as much as it computes.
pytest: $(STAMP) browser node container
	$(BIN)/pytest -q -n auto --dist worksteal

# The inspector's tests drive Debian's Chromium through Playwright (a test tool's download of
# its own browser cannot work here), so it comes from Debian's packages, as wrk does.
browser:
	@test -n "$$MOCKGRAPH_CHROMIUM" || command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The container image's test (tests/test_container.py) builds and runs the Containerfile with
# buildah, the engine that works in this sandbox (docker has no daemon; podman run meets its
# rlimits), and makes the image's base from Debian's packages with mmdebstrap, as no registry
# can be reached.
container:
	@command -v buildah >/dev/null && command -v mmdebstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah mmdebstrap >/dev/null; }

# The Node.js bots' tests (tests/node, run by tests/test_node.py): Node from Debian's packages
# when the machine has none, the npm packages exactly as the lockfile says.
NODE_STAMP := tests/node/node_modules/.installed
node: $(NODE_STAMP)
$(NODE_STAMP): tests/node/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Benchmarks (never part of `make test`): mockgraph against naive aiohttp baselines, one table.
# wrk and valgrind come from Debian's packages.
# mockgraph's modules are compiled first, as pip does when it installs a wheel: an editable
# checkout under PYTHONDONTWRITEBYTECODE (set on this machine) would compile them at every start.
bench: $(STAMP)
	@command -v wrk >/dev/null && command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk valgrind >/dev/null; }
	$(BIN)/python -m compileall -q mockgraph
	$(BIN)/python bench/run.py

# Soak (never part of `make test`): 10,000 calls over a few minutes to a bot that answers a
# tenth of them badly; every notification delivered or journaled as failed, in order (RELIABILITY.md).
soak: $(STAMP)
	$(BIN)/python bench/soak.py

# Fuzz (never part of `make test`, which runs a small one): Schemathesis against the served
# OpenAPI description, about 11,000 requests; no 5xx, every answer as described.
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py

# Regenerate the Graph JSON Schemas from ../shared/graph-schemas (CSDL is the authority).
schemas: $(STAMP)
	$(BIN)/python tools/build_graph_schemas.py ../shared/graph-schemas mockgraph/schema

# Regenerate mockgraph/scenarios/builtin.json from the built-in scenario files (scenarios/):
# serve loads the built-ins from it, without PyYAML. The suite fails when it is stale.
builtin-index: $(STAMP)
	$(BIN)/python tools/build_builtin_index.py

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache tests/node/node_modules
