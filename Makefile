# ridad: `make run` runs the daemon on embedded defaults, `make test` runs the tests.
# Both set up what they need on a fresh Debian/Ubuntu machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: all venv run test lint bench bench-packages system-packages clean install

all: venv

# System packages: installed when we are root with apt-get, else the exact command is printed.
system-packages:
	@missing=""; \
	command -v git >/dev/null 2>&1 || missing="$$missing git"; \
	command -v krb5-config >/dev/null 2>&1 || missing="$$missing libkrb5-dev krb5-config"; \
	{ command -v krb5kdc || test -x /usr/sbin/krb5kdc; } >/dev/null 2>&1 || missing="$$missing krb5-kdc"; \
	{ command -v kadmin.local || test -x /usr/sbin/kadmin.local; } >/dev/null 2>&1 || missing="$$missing krb5-admin-server"; \
	command -v kinit >/dev/null 2>&1 || missing="$$missing krb5-user"; \
	command -v rpmbuild >/dev/null 2>&1 || missing="$$missing rpm"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	{ test -e /usr/share/activemq/bin/activemq.jar && command -v java >/dev/null 2>&1; } || missing="$$missing activemq"; \
	/usr/bin/python3 -c "import gi" >/dev/null 2>&1 || missing="$$missing python3-gi"; \
	/usr/bin/python3 -c "import gi; gi.require_version('Modulemd', '2.0')" >/dev/null 2>&1 || missing="$$missing gir1.2-modulemd-2.0"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "Missing system packages. Run:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(BIN)/twistd: setup.py | system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -c "from twisted.plugin import IPlugin, getPlugins; list(getPlugins(IPlugin))"
	@$(BIN)/twistd --help | grep ' ridad ' >/dev/null || { echo "twistd does not list the ridad plugin"; exit 1; }
	@touch $@

venv: $(BIN)/twistd

run: venv
	$(BIN)/python -m ridad.devenv --dir .run

test: venv
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

RUFF_RULES := --select E,F,W,I,B,UP --ignore E501

lint: venv
	$(BIN)/ruff check $(RUFF_RULES) ridad tests twisted
	$(BIN)/ruff format --check ridad tests twisted

install: venv
	$(BIN)/python -c "from twisted.plugin import IPlugin, getPlugins; list(getPlugins(IPlugin))"

clean:
	rm -rf $(VENV) build *.egg-info

# What only the benchmarks need: wrk (installed as root with apt-get, else the
# command is printed) and py-spy in the virtualenv (for --profile).
bench-packages: venv
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing system packages: wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || exit 1; \
	  else \
	    echo "Missing system packages. Run:"; \
	    echo "  sudo apt-get install -y wrk"; \
	    exit 1; \
	  fi; \
	}
	@test -x $(BIN)/py-spy || $(BIN)/pip install -q py-spy

bench: bench-packages
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)
