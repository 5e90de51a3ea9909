"""Tablet app figures: cold start to today's route (50 visits on the device) and scrolling 500 visits.

    .venv/bin/python bench/mobile_bench.py [--runs 3]

Runs offscreen (SDL offscreen, Mesa llvmpipe): a real window, a real GL frame per step. Prints
figures; it does not pass or fail. Targets: cold start <= 1.5 s; no scroll frame a person would
notice (> 50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The store is encrypted (SQLCipher): a cold start shows the PIN screen, the PIN is entered (here by
# the script, at once) and the route is drawn. UNLOCK is the PIN -> route part: Argon2id + opening the store.
CHILD = """
import sys, time
from mobile import headless
headless.configure()
from mobile.app import FieldSyncApp
app = FieldSyncApp(sys.argv[1], auto_sync=False)
headless.start(app)
assert app.manager.current == "unlock", app.manager.current
screen = app.current_screen
screen.ids.pin.text = sys.argv[3]
t = time.perf_counter()
screen.submit()
headless.settle(1)
rv = app.current_screen.ids.rv
assert app.manager.current == "route" and len(rv.data) == int(sys.argv[2]), (app.manager.current, len(rv.data))
headless.settle(1)
print("UNLOCK", time.perf_counter() - t, flush=True)
print("READY", flush=True)
"""


def cold_start(jobs: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds from launching a fresh Python process to today's route drawn with ``jobs`` visits, the
    PIN typed in no time: (wall clock, CPU time of the process, PIN -> route part)."""
    import resource

    from mobile.demo import DEMO_PIN, load_demo
    from mobile.viewmodels.unlock import UnlockViewModel

    times, cpus, unlocks = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "device.sqlite"
        store = UnlockViewModel(path).setup(DEMO_PIN, DEMO_PIN).store
        assert store is not None and store.encrypted
        load_demo(store, jobs=jobs)
        store.close()
        env = dict(os.environ, PYTHONPATH=str(ROOT), SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1",
                   MESA_SHADER_CACHE_DISABLE="true", KIVY_NO_CONSOLELOG="1", KIVY_HOME=tmp)
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(jobs), DEMO_PIN], env=env,
                                 capture_output=True, text=True, timeout=120)
            elapsed = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if "READY" not in out.stdout:
                raise SystemExit(f"cold start failed:\n{out.stderr[-2000:]}")
            times.append(elapsed)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            unlocks.append(float(next(x for x in out.stdout.split("\n") if x.startswith("UNLOCK")).split()[1]))
    return times, cpus, unlocks


def store_costs(jobs: int, runs: int = 5) -> dict[str, float]:
    """CPU milliseconds (median of ``runs``) of what encryption adds to a cold start, without Kivy: the
    PIN's Argon2id unwrap, opening the store, and loading today's route, plaintext against SQLCipher."""
    from mobile.demo import DEMO_PIN, load_demo
    from mobile.keystore import Keystore
    from mobile.store import DeviceStore
    from mobile.viewmodels.route import RouteViewModel

    out: dict[str, list[float]] = {"unlock": [], "open_plain": [], "open_enc": [], "route_plain": [], "route_enc": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain_path, enc_path = Path(tmp) / "plain.sqlite", Path(tmp) / "enc.sqlite"
        keys = Keystore(enc_path)
        for path, key in ((plain_path, None), (enc_path, keys.create(DEMO_PIN))):
            store = DeviceStore(path, key=key)
            load_demo(store, jobs=jobs)
            store.close()
        for _ in range(runs):
            t = time.process_time()
            key = keys.unlock(DEMO_PIN)
            out["unlock"].append((time.process_time() - t) * 1000)
            for name, path, k in (("plain", plain_path, None), ("enc", enc_path, key)):
                t = time.process_time()
                store = DeviceStore(path, key=k)
                out[f"open_{name}"].append((time.process_time() - t) * 1000)
                t = time.process_time()
                RouteViewModel(store).load()
                out[f"route_{name}"].append((time.process_time() - t) * 1000)
                store.close()
    return {k: statistics.median(v) for k, v in out.items()}


def scroll(jobs: int, px_per_frame: float = 40) -> dict[str, float]:
    """Frame times while flinging the route list from top to bottom and back."""
    from mobile import headless

    headless.configure()
    from kivy.base import EventLoop
    from kivy.clock import Clock

    from mobile.app import FieldSyncApp
    from mobile.demo import DEMO_PIN, load_demo
    from mobile.viewmodels.route import RouteViewModel

    with tempfile.TemporaryDirectory() as tmp:
        app = FieldSyncApp(Path(tmp) / "device.sqlite", auto_sync=False, pin=DEMO_PIN)
        load_demo(app.store, jobs=jobs)
        t0 = time.perf_counter()
        cards = RouteViewModel(app.store).load()
        load_ms = (time.perf_counter() - t0) * 1000
        headless.start(app)
        rv = app.current_screen.ids.rv
        assert len(rv.data) == jobs == len(cards)
        frames = []
        # A brisk fling: ``px_per_frame`` pixels a frame (40 px at 60 fps is 2400 px/s), top to bottom.
        travel = max(1.0, rv.children[0].height - rv.height)
        steps = int(travel // px_per_frame)
        positions = [1 - i / steps for i in range(steps + 1)]
        cpu = []
        for y in positions:
            t, c = time.perf_counter(), time.process_time()
            rv.scroll_y = y
            Clock.tick()
            EventLoop.idle()
            frames.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        views = len(rv.children[0].children)
        from mobile.widgets import ROW_TEXTURES

        rendered = ROW_TEXTURES.rendered
        headless.stop(app)
    # Rows are canvas rectangles over cached text textures (mobile.widgets.RouteRow): a row entering
    # the view swaps textures. Re-rendering Label widgets instead uploaded into textures the previous
    # frame still drew, and llvmpipe waited for that whole frame per label (p95 519 ms, 2026-11-27).
    over_50 = sum(1 for f in frames if f > 50)
    frames.sort()
    cpu.sort()
    return {"cpu_p95_ms": cpu[int(len(cpu) * 0.95) - 1], "cpu_median_ms": statistics.median(cpu),
            "over_50ms": over_50, "route_load_ms": load_ms, "frames": len(frames), "mean_ms": statistics.fmean(frames), "median_ms": statistics.median(frames),
            "p95_ms": frames[int(len(frames) * 0.95) - 1], "max_ms": frames[-1], "row_widgets": views,
            "texts_rendered": rendered}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--scroll-jobs", type=int, default=500)
    parser.add_argument("--px-per-frame", type=float, default=40)
    args = parser.parse_args()
    starts, cpus, unlocks = cold_start(args.jobs, args.runs)
    print(f"cold start to today's route ({args.jobs} visits, encrypted store, PIN entered at once): "
          f"median {statistics.median(starts):.2f} s, best {min(starts):.2f} s, worst {max(starts):.2f} s "
          f"over {args.runs} runs (target <= 1.5 s); CPU time median {statistics.median(cpus):.2f} s; "
          f"of which PIN -> route (Argon2id + SQLCipher open + route) median {statistics.median(unlocks):.2f} s")
    c = store_costs(args.jobs)
    print(f"encryption's share (CPU, median of 5, {args.jobs} visits): PIN unwrap (Argon2id t=3, 64 MiB) "
          f"{c['unlock']:.0f} ms; open store {c['open_plain']:.1f} ms plain vs {c['open_enc']:.1f} ms SQLCipher; "
          f"load today's route {c['route_plain']:.1f} ms plain vs {c['route_enc']:.1f} ms SQLCipher")
    s = scroll(args.scroll_jobs, args.px_per_frame)
    print(f"(machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; GL is Mesa llvmpipe)")
    print(f"route view-model load ({args.scroll_jobs} visits): {s['route_load_ms']:.0f} ms")
    print(f"scrolling {args.scroll_jobs} visits top to bottom at {args.px_per_frame:g} px/frame: "
          f"{s['frames']} frames, median {s['median_ms']:.1f} ms, mean {s['mean_ms']:.1f} ms, "
          f"p95 {s['p95_ms']:.1f} ms, max {s['max_ms']:.1f} ms, {s['over_50ms']} frames over 50 ms "
          f"(CPU time of this process a frame: median {s['cpu_median_ms']:.1f} ms, p95 {s['cpu_p95_ms']:.1f} ms); "
          f"{s['row_widgets']} row widgets recycled "
          f"(not {args.scroll_jobs}); {s['texts_rendered']} row texts rendered (the rest came from the cache)")


if __name__ == "__main__":
    main()
