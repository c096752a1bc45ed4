"""The accept-only fast path for post lines: ``fastpath`` (Python) and ``_scan`` (its C twin,
compiled at install when a compiler is present)."""
