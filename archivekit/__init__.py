"""archivekit: preflight, inspect, filter, split, merge, fix, redact, reconcile and report on
Mattermost bulk export/import archives.

The public API::

    from archivekit import validate, inspect, load_target
    report = validate("export.zip")          # a Report; report.to_dict() is the CLI's JSON
    summary = inspect("export.zip")           # an Inspection
    t = tables("export.zip")                  # t.channels, t.users, t.months... DataFrames
    r = reconcile("import.zip", "export.zip")  # r.ok, r.missing, r.frame("channels")
    filter_archive("export.zip", "eng.zip", Selection(teams=frozenset({"eng"})))
    split_archive("export.zip", "parts", max_bytes=500_000_000)
    merge_archives(["a.zip", "b.zip"], "all.zip")
    redact_archive("export.zip", "for-support.zip", mapping="keep-me.json")

Every name is imported on first use (PEP 562), so that ``import archivekit`` — and the CLI's
start-up — costs only what a command really needs.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archivekit.check.target import TargetConfig, load_target
    from archivekit.errors import (
        ArchiveError,
        ArchiveKitError,
        OutputError,
        UsageError,
        WorkerKilled,
    )
    from archivekit.inspect import inspect
    from archivekit.issues import CODES, Issue, Severity
    from archivekit.options import parse_date
    from archivekit.read import Archive, ReadLimits, open_archive
    from archivekit.report.inventory import Inspection
    from archivekit.report.model import Report
    from archivekit.report.reconcile import Reconciliation, reconcile
    from archivekit.report.tables import ArchiveTables, tables
    from archivekit.validate import validate
    from archivekit.write.atomic import atomic_output, write_atomic
    from archivekit.write.repairs import FixOptions
    from archivekit.write.select import Selection
    from archivekit.writers import (
        filter_archive,
        fix_archive,
        merge_archives,
        redact_archive,
        split_archive,
    )

# Public name -> the module that defines it.
_EXPORTS = {
    "CODES": "archivekit.issues",
    "FixOptions": "archivekit.write.repairs",
    "Archive": "archivekit.read",
    "ArchiveError": "archivekit.errors",
    "ArchiveKitError": "archivekit.errors",
    "ArchiveTables": "archivekit.report.tables",
    "Inspection": "archivekit.report.inventory",
    "Issue": "archivekit.issues",
    "OutputError": "archivekit.errors",
    "ReadLimits": "archivekit.read",
    "Reconciliation": "archivekit.report.reconcile",
    "Report": "archivekit.report.model",
    "Selection": "archivekit.write.select",
    "Severity": "archivekit.issues",
    "TargetConfig": "archivekit.check.target",
    "UsageError": "archivekit.errors",
    "WorkerKilled": "archivekit.errors",
    "atomic_output": "archivekit.write.atomic",
    "filter_archive": "archivekit.writers",
    "fix_archive": "archivekit.writers",
    "inspect": "archivekit.inspect",
    "load_target": "archivekit.check.target",
    "merge_archives": "archivekit.writers",
    "open_archive": "archivekit.read",
    "parse_date": "archivekit.options",
    "reconcile": "archivekit.report.reconcile",
    "redact_archive": "archivekit.writers",
    "split_archive": "archivekit.writers",
    "tables": "archivekit.report.tables",
    "validate": "archivekit.validate",
    "write_atomic": "archivekit.write.atomic",
}

__all__ = [
    "CODES",
    "Archive",
    "ArchiveError",
    "ArchiveKitError",
    "ArchiveTables",
    "FixOptions",
    "Inspection",
    "Issue",
    "OutputError",
    "ReadLimits",
    "Reconciliation",
    "Report",
    "Selection",
    "Severity",
    "TargetConfig",
    "UsageError",
    "WorkerKilled",
    "atomic_output",
    "filter_archive",
    "fix_archive",
    "inspect",
    "load_target",
    "merge_archives",
    "open_archive",
    "parse_date",
    "reconcile",
    "redact_archive",
    "split_archive",
    "tables",
    "validate",
    "write_atomic",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'archivekit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(ModuleType):
    """`archivekit.validate` and `archivekit.inspect` name both a function (the API) and its
    module. Importing the module makes Python set the package attribute to the module; this
    keeps the attribute for the function, as the eager imports this package once had did."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
