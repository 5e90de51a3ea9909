# The two commands (README): `make demo` and `make test`. Long runs have their own targets.
.PHONY: demo test lint simulate bench

demo:
	scripts/demo.sh

test:
	scripts/test.sh

lint:
	scripts/setup.sh && .venv/bin/ruff check .

simulate:
	scripts/setup.sh && .venv/bin/python bench/simulate.py --seeds 10000

bench:
	scripts/setup.sh && .venv/bin/python bench/sync_bench.py --rows 10000
