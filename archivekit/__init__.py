"""archivekit: preflight, inspect (and soon filter, split, reconcile) Mattermost bulk
export/import archives.

The public API::

    from archivekit import validate, inspect, load_target
    report = validate("export.zip")          # a Report; report.to_dict() is the CLI's JSON
    summary = inspect("export.zip")           # an Inspection
"""

from archivekit.check.target import TargetConfig, load_target
from archivekit.errors import ArchiveError, ArchiveKitError, OutputError, UsageError
from archivekit.inspect import Inspection
from archivekit.inspect import inspect as inspect
from archivekit.issues import CODES, Issue, Severity
from archivekit.read import Archive, ReadLimits, open_archive
from archivekit.report.model import Report
from archivekit.validate import validate as validate
from archivekit.write.atomic import atomic_output, write_atomic

__all__ = [
    "CODES",
    "Archive",
    "ArchiveError",
    "ArchiveKitError",
    "Inspection",
    "Issue",
    "OutputError",
    "ReadLimits",
    "Report",
    "Severity",
    "TargetConfig",
    "UsageError",
    "atomic_output",
    "inspect",
    "load_target",
    "open_archive",
    "validate",
    "write_atomic",
]
