"""`triage`: everything the HTML triage page shows (`archivekit report`), and the page itself.

The page's data comes from the same code as the other commands: `validate` (the issues, the
target limits), `tables` (what `inspect --by` counts: the charts), `reconcile` (with
`against`) and the member manifest. `validate` and `tables` are two streaming passes over the
JSONL today (bench/results.md has their cost next to validate's alone); the one-pass engine
they could share is described in the README's `report` section.

The command is `report`; the function is `triage` because `archivekit.report` is the package
of report models and renderers.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

from archivekit.check.limits import DEFAULT_BANDWIDTH_BPS
from archivekit.check.references import Existing
from archivekit.check.target import TargetConfig
from archivekit.errors import UsageError
from archivekit.read import ReadLimits, open_archive
from archivekit.report.html import (
    MAX_MISSING_ROWS,
    REPORT_INSTALL,
    TriagePage,
    missing_report_modules,
    render_html,
)
from archivekit.report.manifest import build_manifest
from archivekit.report.model import DEFAULT_MAX_ISSUES
from archivekit.validate import Progress, validate

__all__ = ["require_report_modules", "triage", "triage_html"]


def require_report_modules() -> None:
    """Raise `UsageError` (exit code 2) with the install command when jinja2 or matplotlib is
    missing (they are the optional extra ``archivekit[report]``)."""
    missing = missing_report_modules()
    if missing:
        raise UsageError(f"report needs {' and '.join(missing)}: {REPORT_INSTALL}")


def _version() -> str:
    try:
        return version("archivekit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dev"


def triage(
    path: str | os.PathLike[str],
    *,
    target: TargetConfig | None = None,
    explicit: bool = False,
    bandwidth_bps: float = DEFAULT_BANDWIDTH_BPS,
    max_issues: int | None = DEFAULT_MAX_ISSUES,
    read_limits: ReadLimits | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    verify_files: bool = False,
    existing: Existing | None = None,
    against: str | os.PathLike[str] | None = None,
    checksums: bool = False,
) -> TriagePage:
    """The triage page's data for an archive (the arguments are `validate`'s, plus):

    Args:
        against: an export of the destination taken after the import: the page then shows
            what did not arrive (`archivekit.reconcile`).
        checksums: read every member in full for its SHA-256 (the manifest).

    Raises:
        ArchiveError: an archive cannot be used at all.
    """
    from archivekit.report.tables import tables

    target = target or TargetConfig()
    report = validate(
        path,
        target=target,
        explicit=explicit,
        bandwidth_bps=bandwidth_bps,
        max_issues=max_issues,
        read_limits=read_limits,
        progress=progress,
        workers=workers,
        verify_files=verify_files,
        existing=existing,
    )
    counted = tables(path, workers=workers, read_limits=read_limits)
    with open_archive(path, limits=read_limits) as archive:
        manifest = build_manifest(archive, checksums=checksums)
        kind, size, jsonl_size = archive.kind, archive.size, archive.jsonl.size
    reconciliation = None
    if against is not None:
        from archivekit.report.reconcile import reconcile

        # reconcile's workers: 1 reads the two archives one after the other, else side by side.
        reconciliation = reconcile(
            path,
            against,
            max_items=MAX_MISSING_ROWS,
            workers=1 if workers == 1 else None,
            read_limits=read_limits,
        )
    return TriagePage(
        report=report,
        tables=counted,
        manifest=manifest,
        archive_kind=kind,
        archive_size=size,
        jsonl_size=jsonl_size,
        max_users_per_team=target.max_users_per_team,
        reconciliation=reconciliation,
        against=None if against is None else os.fspath(against),
        version=_version(),
    )


def triage_html(path: str | os.PathLike[str], **options: object) -> str:
    """The triage page of an archive as one self-contained HTML document (`triage`'s options)."""
    require_report_modules()
    return render_html(triage(path, **options))  # type: ignore[arg-type]
