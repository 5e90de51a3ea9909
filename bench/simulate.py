"""Run the seeded protocol simulation over many seeds and report guarantee violations.

    .venv/bin/python bench/simulate.py --seeds 1000 [--steps 120] [--first 0]

Each seed simulates technicians editing offline, dispatchers editing in the office, a network that
loses, duplicates, delays and reorders requests, and crashes of tablets and the server; then every
device syncs to quiescence and G1, G2, G3, G5, G6, G7 and G8 are checked (sync/sim/checks.py).
A failing seed is shrunk to the shortest prefix of steps that still fails and its trace printed.
The last line is always ``seeds: N, violations: V``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sync.sim import scenario  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the seeds; exit status 1 when any guarantee was violated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds to run (default 1000)")
    parser.add_argument("--first", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--steps", type=int, default=120, help="steps per seed before quiescence (default 120)")
    parser.add_argument("--max-traces", type=int, default=3, help="failing seeds to shrink and print (default 3)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    violations = 0
    failing: list[scenario.Outcome] = []
    for seed in range(args.first, args.first + args.seeds):
        outcome = scenario.run(seed, args.steps)
        if outcome.violations:
            violations += len(outcome.violations)
            failing.append(outcome)
            print(f"seed {seed}: {len(outcome.violations)} violation(s): {outcome.violations[0]}", flush=True)
    for outcome in failing[: args.max_traces]:
        small = scenario.shrink(outcome)
        print(f"\n--- seed {small.seed}, shrunk to {small.steps} of {outcome.steps} steps ---")
        print("\n".join(small.violations))
        print("\n".join(small.trace))
    elapsed = time.perf_counter() - started
    print(f"{elapsed:.1f} s, {args.seeds / elapsed:.1f} seeds/s", file=sys.stderr)
    print(f"seeds: {args.seeds}, violations: {violations}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
