# Two entry points: `make site` and `make test`. Both set up what they need first.
# While editing: `make check` (ruff, JS checks, the tests that need no browser and no TensorFlow).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SITE_MODEL ?= models/default
# What `make check` leaves to `make test`: the browser tests and the ones converting models.
# tests/browser is not even collected: test_yolo.py skips at import without the yolo-test extra,
# and with CI=true that skip would fail the run.
FAST_TESTS := --ignore=tests/browser -m "not browser and not tensorflow"

.PHONY: setup deps chromium site test check lint js-check unit browser serve clean

setup: deps chromium

# Everything but a browser: the venv and the npm-built runtimes.
deps: $(VENV)/.installed assets/vendor/tfjs/runtime.json assets/vendor/litert/runtime.json

# The build verifies its backends in Chromium and the browser tests drive it: find one, else
# install one, else say in one line what to run (and fail). SITEGEN_NO_BROWSER_INSTALL=1: look only.
chromium: $(VENV)/.installed
	@VENV=$(VENV) tools/ensure_chromium.sh

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[convert,verify,test]'
	touch $@

# The YOLO tests' exporter (Ultralytics, CPU PyTorch): only `make test` needs it.
$(VENV)/.yolo-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[convert,verify,test,yolo-test]'
	$(BIN)/pip install --quiet --no-deps 'onnx2tf>=1.26.3,<1.29'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets/vendor/tfjs/runtime.json: node_modules/.installed tools/build_runtime.mjs
	npm run --silent build:runtime

assets/vendor/litert/runtime.json: node_modules/.installed tools/build_litert.mjs
	npm run --silent build:litert

site: setup
	$(BIN)/sitegen build $(SITE_MODEL) --out dist

serve: site
	$(BIN)/sitegen serve dist

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

js-check: deps
	for f in assets/js/*.js tools/*.mjs; do node --check $$f || exit 1; done
	node --test tests/js/

# The fast loop while editing: no browser, no model conversion.
check: lint js-check
	$(BIN)/python -m pytest $(FAST_TESTS)

# Every test that needs no browser (TensorFlow conversion included).
unit: deps
	$(BIN)/python -m pytest --ignore=tests/browser -m "not browser"

# The headless Chromium tests (the YOLO ones need the yolo-test extra).
browser: setup $(VENV)/.yolo-installed
	$(BIN)/python -m pytest -m browser

# The full suite, what CI runs (.ci/run).
test: setup lint js-check $(VENV)/.yolo-installed
	$(BIN)/python -m pytest

clean:
	rm -rf dist build node_modules assets/vendor $(VENV)
