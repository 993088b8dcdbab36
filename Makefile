# The stable face of app-storage. Every target installs what it needs into ./venv first.
PYTHON ?= python3
VENV   := venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.installed
STACK  ?= dev
FORMAT ?= text
OUT    ?= .env

.PHONY: install test lint plan policy env verify adopt alerts bench clean

# pip's chatter goes to stderr so that `make -s plan FORMAT=json` prints only JSON on stdout.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt >&2
	@cp requirements.txt $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n auto tests

# ruff (ruff.toml) and mypy (mypy.ini): style, imports and types of the library, the command and the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# make plan STACK=<s> [FORMAT=json] [SHOW_SECRETS=1] [NO_POLICY=1] [BASE=<plan JSON of what is deployed>]
# With BASE: the steps `pulumi up` would take from the deployed plan, in the engine's order; exit 1 on a hazard.
plan: $(STAMP)
	@$(PY) -m cli plan --stack $(STACK) $(if $(filter json,$(FORMAT)),--json) $(if $(SHOW_SECRETS),--show-secrets) \
		$(if $(NO_POLICY),--no-policy) $(if $(BASE),--base $(BASE))

# make policy STACK=<s> [DIR=<program dir>] [STACK_FILE=<file>] [CONFIG=<pack config>] [FORMAT=json]
# The storage-guard pack (policies/) checked offline, driven over the engine's Analyzer protocol. The command exits
# 1 on a mandatory violation and 2 on bad config or a pack that fails to start; make reports either as its own 2.
policy: $(STAMP)
	@$(PY) -m cli policy --stack $(STACK) $(if $(DIR),--dir $(DIR)) $(if $(STACK_FILE),--stack-file $(STACK_FILE)) \
		$(if $(CONFIG),--config $(CONFIG)) $(if $(filter json,$(FORMAT)),--json)

# make env STACK=<s> APP=<a> [DIALECT=<d>] [OUT=.env] [FROM=outputs.json] [DRY_RUN=1] [FORCE=1]
env: $(STAMP)
	@$(PY) -m cli env --stack $(STACK) $(if $(APP),--app $(APP)) $(if $(DIALECT),--dialect $(DIALECT)) \
		--out $(OUT) $(if $(FROM),--from $(FROM)) $(if $(DRY_RUN),--dry-run) $(if $(FORCE),--force)

# make verify ENV=<app .env> [DIALECT=<d>] [STACK=<s>|FROM=<outputs.json>] [APP=<a>] [ADMIN=1] [SKIP=<checks>] [JSON=1]
#             [REPLICATION_TIMEOUT=<seconds, default 900>]
# Live checks of the provisioned storage; the command exits 1 when a check fails and 2 on bad input or an
# unreachable endpoint (make reports either as its own 2).
verify: $(STAMP)
	@$(PY) -m cli verify --env $(ENV) $(if $(DIALECT),--dialect $(DIALECT)) $(if $(filter command line environment,$(origin STACK)),--stack $(STACK)) \
		$(if $(FROM),--from $(FROM)) $(if $(APP),--app $(APP)) $(if $(ADMIN),--admin) $(if $(SKIP),--skip $(SKIP)) \
		$(if $(JSON),--json) $(if $(REPLICATION_TIMEOUT),--replication-timeout $(REPLICATION_TIMEOUT))

# make adopt STACK=<s> APP=<a> [FORMAT=json] [STACK_FILE=<file>]
# Read-only preflight of the existing bucket an app adopts: what the first `pulumi up` replaces, blocks or cannot
# read. The command exits 1 when something will be lost or fail and 2 on bad input or an unreachable bucket.
adopt: $(STAMP)
	@$(PY) -m cli adopt --stack $(STACK) --app $(APP) $(if $(filter json,$(FORMAT)),--json) \
		$(if $(STACK_FILE),--stack-file $(STACK_FILE))

# make alerts STACK=<minio stack> [OUT=<rule file>] [STACK_FILE=<file>]
# The Prometheus alerting rules of the stack's buckets (stdout without OUT=); `promtool check rules` accepts them.
alerts: $(STAMP)
	@$(PY) -m cli alerts --stack $(STACK) $(if $(filter command line environment,$(origin OUT)),--out $(OUT)) \
		$(if $(STACK_FILE),--stack-file $(STACK_FILE))

bench: $(STAMP)
	@$(PY) -m cli bench $(if $(REPEAT),--repeat $(REPEAT)) $(if $(LARGE_APPS),--large-apps $(LARGE_APPS))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
