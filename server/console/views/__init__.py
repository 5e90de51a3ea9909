"""The console's pages; importing this package attaches every route to ``server.console.bp``."""

from server.console.views import auth, board, clocks, conflicts, households, intake, planning  # noqa: F401
