"""The passes over post lines in C for the tables and reconcile (archivekit/check/fast/_report.c):
the tables' counter (`TALLY`, for archivekit/check/table_lines.py: the tables' own pass and
validate's workers, which count the report page's tables beside their checks — the reason it
lives in check/ and not report/) and reconcile's identity records (`RECORDS`, for
archivekit/report/reconcile_read.py). Both None when the extension was not built or
``ARCHIVEKIT_PURE_PYTHON`` is set: then the Python code reads every line itself."""

from __future__ import annotations

from typing import Any

from archivekit.native import native_module

_REPORT = native_module("archivekit.check.fast._report")
TALLY: Any = None if _REPORT is None else _REPORT.Tally
RECORDS: Any = None if _REPORT is None else _REPORT.Records
