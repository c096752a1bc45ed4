"""Choices and defaults of the table commands (`inspect --by`, `reconcile`), in a module of
their own so the command line can offer them without loading the counting (or numpy).
"""

from __future__ import annotations

# inspect --by VALUE -> the table's name (`archivekit.report.tables`).
BY: dict[str, str] = {
    "team": "teams",
    "channel": "channels",
    "user": "users",
    "direct": "directs",
    "month": "months",
    "day": "days",
    "type": "types",
    "file": "files",
}

# reconcile lists at most this many missing items by default (the counts stay exact).
DEFAULT_MAX_ITEMS = 1000
