"""sync/ is a protocol core with no I/O: it imports no framework, database driver or socket."""

from __future__ import annotations

import ast
import pathlib

FORBIDDEN = {"flask", "flask_smorest", "sqlalchemy", "kivy", "sqlite3", "requests", "socket", "http", "urllib3",
             "psycopg", "server", "mobile"}
SYNC = pathlib.Path(__file__).resolve().parents[2] / "sync"


def imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_sync_imports_only_pure_python_and_marshmallow():
    files = sorted(SYNC.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(SYNC)): sorted(imported_roots(f) & FORBIDDEN) for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_the_scan_would_catch_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom sqlalchemy.orm import Session\nimport http.client\n")
    assert imported_roots(bad) & FORBIDDEN == {"sqlalchemy", "http"}
