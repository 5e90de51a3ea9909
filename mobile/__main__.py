"""Run the tablet app on a desktop: ``python -m mobile --server URL``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m mobile", description="fieldsync technician tablet app")
    parser.add_argument("--server", help="server URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--data", default=str(Path.home() / ".fieldsync" / "device.sqlite"),
                        help="the device store file (default: ~/.fieldsync/device.sqlite)")
    parser.add_argument("--lang", choices=["zh-CN", "en"], help="language (default: the last one used, or zh-CN)")
    parser.add_argument("--demo", type=int, metavar="N", help="load a demo day of N visits (offline trial)")
    parser.add_argument("--size", default="1280x800", help="window size (a 10-inch tablet: 1280x800)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the app."""
    args = parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    width, height = (int(x) for x in args.size.split("x"))
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    from mobile.app import FieldSyncApp

    if args.demo:
        # A demo store is encrypted like any other; its PIN is DEMO_PIN (123456), asked at start.
        from mobile.demo import DEMO_PIN, load_demo
        from mobile.viewmodels.unlock import UnlockViewModel

        vm = UnlockViewModel(args.data)
        opened = vm.setup(DEMO_PIN, DEMO_PIN) if vm.needs_setup() else vm.unlock(DEMO_PIN)
        if opened.store is None:
            raise SystemExit(f"the demo store did not open with the demo PIN: {opened.message}")
        if not opened.store.count_rows("job"):
            load_demo(opened.store, jobs=args.demo)
        opened.store.close()
    FieldSyncApp(args.data, server_url=args.server, lang=args.lang).run()


if __name__ == "__main__":
    main()
