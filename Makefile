# Callsight: `make up` brings the whole system up on this machine; `make test` runs every test.
.PHONY: install up down status test lint protos bench

RUN_DIR ?= .run

install:
	@bash scripts/install.sh

up: install
	@.venv/bin/python -m callsight_stack up --run-dir $(RUN_DIR)

down:
	@.venv/bin/python -m callsight_stack down --run-dir $(RUN_DIR)

status:
	@.venv/bin/python -m callsight_stack status --run-dir $(RUN_DIR)

test: install
	@bash scripts/test.sh

lint: install
	.venv/bin/ruff check .

protos: install
	.venv/bin/python -m grpc_tools.protoc --version >/dev/null && bash -c '. .venv/bin/activate && scripts/gen_protos.sh'

bench: install
	@.venv/bin/pip install -q -r requirements/bench.txt && .venv/bin/pip install -q --no-deps pyopenjtalk-plus==0.4.1.post10 SudachiPy==0.7.0
	@.venv/bin/python -c "from bench.calls.sources import mfa_data; mfa_data()"  # spontaneous speech, once, into ~/.cache
	@.venv/bin/python -m bench $(BENCH_ARGS)
