"""The console's pages; importing this package attaches every route to ``server.console.bp``."""

from server.console.views import (  # noqa: F401
    audit,
    auth,
    board,
    clocks,
    closing,
    complaints,
    conflicts,
    devices,
    followups,
    households,
    intake,
    kpis,
    planning,
)
