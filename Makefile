# The two commands (README): `make demo` and `make test`. Long runs have their own targets; each
# prints its figures and the command that produced them.
.PHONY: demo test lint simulate bench-sync bench-planning bench-mobile bench-reports bench-load faults fuzz screenshots

PY = .venv/bin/python
PG ?= postgresql://postgres@127.0.0.1:5432/test

demo:
	scripts/demo.sh

test:
	scripts/test.sh

lint:
	scripts/setup.sh && .venv/bin/ruff check .

simulate:        # 10,000-seed sync simulation; ends with "seeds: N, violations: V"
	scripts/setup.sh && $(PY) bench/simulate.py --seeds 10000

bench-sync:      # full pull / push / incremental pull over loopback HTTP into an on-disk device store
	scripts/setup.sh && $(PY) bench/sync_bench.py --rows 10000

bench-planning:  # 300 jobs, 25 technicians: VROOM against a greedy baseline
	scripts/setup.sh && $(PY) bench/planning_bench.py

bench-mobile:    # tablet cold start and route scrolling (offscreen Kivy)
	scripts/setup.sh && SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 $(PY) bench/mobile_bench.py

bench-reports:   # KPIs, daily close and service reports with 100,000 jobs
	scripts/setup.sh && $(PY) bench/reports_bench.py --jobs 100000

bench-load:      # 200 tablets against gunicorn + PostgreSQL
	scripts/setup.sh && $(PY) bench/load.py --tablets 200 --postgres $(PG)

faults:          # 20 tablets x 30 rounds through the fault-injecting proxy
	scripts/setup.sh && $(PY) bench/faults.py --tablets 20 --rounds 30

fuzz:            # long schemathesis pass over the OpenAPI document
	scripts/setup.sh && $(PY) bench/fuzz.py --examples 25 --roles dispatcher,technician,customer_service,admin

screenshots:     # tablet screens in zh-CN and en
	scripts/setup.sh && SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 $(PY) -m mobile.screenshots docs/screenshots
