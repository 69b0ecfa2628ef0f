# approach-bot — `make chat` serves the chat UI, `make test` runs the tests.
# Both set up .venv on first use (CPU torch first, then the project pinned by constraints.txt).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORPUS ?= corpus
INDEX ?= index
# a corpus profile (YAML); empty: <corpus>/bot.yaml when there is one
PROFILE ?=
HOST ?= 127.0.0.1
PORT ?= 7860

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install browser strace chat index check test bench clean-index

# The fast tier: no model, no browser, no server (made-up pages and a deterministic fake embedder).
FAST_TESTS := tests/test_markdown.py tests/test_mdx.py tests/test_patterns.py tests/test_ranking.py tests/test_config.py tests/test_matrix.py tests/test_rendering.py tests/test_scoring.py tests/test_bookkeeping.py

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,llm,bench]'
	touch $(STAMP)

chat: install
	$(BIN)/bot chat --corpus $(CORPUS) --index $(INDEX) $(if $(PROFILE),--profile $(PROFILE)) --host $(HOST) --port $(PORT)

index: install
	$(BIN)/bot index --corpus $(CORPUS) --index $(INDEX) $(if $(PROFILE),--profile $(PROFILE))

# The browser tests drive Debian's Chromium; install it when we can (root with apt-get),
# otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found and cannot be installed here: the browser tests will skip"; fi; }

# The egress test watches bot index / ask / chat under strace; install it the same way.
strace:
	@command -v strace >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; \
	  else echo "strace not found and cannot be installed here: the egress test will skip"; fi; }

# The tests run with no network but loopback: in a network namespace of their own when
# this machine allows one (root), and always behind pytest-socket (see pyproject.toml).
# The egress test runs first, outside the namespace, with the network there to be reached:
# it checks that nothing approach-bot runs tries to.
test: install browser strace
	@echo "egress: bot index, ask and chat under strace, outside any network namespace"
	$(BIN)/python -m pytest tests/test_egress.py
	@if command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then \
	  echo "running the tests in a network namespace: loopback only"; \
	  unshare -n sh -c 'ip link set lo up && exec $(BIN)/python -m pytest --ignore=tests/test_egress.py'; \
	else \
	  $(BIN)/python -m pytest --ignore=tests/test_egress.py; \
	fi

# Lint, types and the fast tier (about a minute); `make test` runs everything.
check: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q $(FAST_TESTS)

bench: install
	$(BIN)/python bench/run.py --sizes approaches,wiki,1000,10000,1000docs,100000 --naive-up-to 200000 --pure-up-to 11000 --out docs/bench-latest.md
	$(BIN)/python bench/ui_latency.py --questions 20 | tee -a docs/bench-latest.md

clean-index:
	rm -rf $(INDEX)/chroma $(INDEX)/lexical-* $(INDEX)/manifest.json
