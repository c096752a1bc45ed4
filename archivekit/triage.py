"""`triage`: everything the HTML triage page shows (`archivekit report`), and the page itself.

The page's data comes from the same code as the other commands: `validate` (the issues, the
target limits), `tables` (what `inspect --by` counts: the charts), `reconcile` (with
`against`) and the member manifest. `validate` and `tables` are two streaming passes over the
JSONL, run side by side on two or more cores (bench/results.md has their cost next to
validate's alone); the one-pass engine they could share is proposed in the README's `report`
section.

The command is `report`; the function is `triage` because `archivekit.report` is the package
of report models and renderers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from archivekit.check.limits import DEFAULT_BANDWIDTH_BPS
from archivekit.check.references import Existing
from archivekit.check.target import TargetConfig
from archivekit.errors import UsageError
from archivekit.read import ReadLimits, open_archive
from archivekit.report.archive_members import member_manifest
from archivekit.report.html import (
    MAX_MISSING_ROWS,
    REPORT_INSTALL,
    TriagePage,
    missing_report_modules,
    render_html,
)
from archivekit.report.model import DEFAULT_MAX_ISSUES, Report
from archivekit.runtime import default_workers, forking_workers, guard_worker
from archivekit.validate import Progress, validate

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from archivekit.report.charts import Chart
    from archivekit.report.tables import ArchiveTables

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


Counted = tuple["ArchiveTables", list["Chart"]]


def count_and_draw(
    source: str, workers: int, read_limits: ReadLimits | None, max_users_per_team: int
) -> Counted:
    """The archive's tables and the page's charts drawn from them."""
    from archivekit.report.html import draw_charts
    from archivekit.report.tables import tables

    counted = tables(source, workers=workers, read_limits=read_limits)
    return counted, draw_charts(counted, max_users_per_team)


def _validate_and_count(
    source: str,
    check: Callable[[int | None], Report],
    workers: int | None,
    read_limits: ReadLimits | None,
    max_users_per_team: int,
) -> tuple[Report, Counted]:
    """`validate`, and `tables` with the charts, side by side when there are cores for both:
    the tables are counted and drawn in a child process with half of them (importing pandas
    and matplotlib there too) while validate runs here with the rest.

    (They are two streaming passes; sharing one is the engine change the README's report
    section proposes.) A child ends with this process however it ends (`guard_worker`), and
    leaving early (an error, Ctrl-C, SIGTERM) terminates it.
    """
    if workers is None:
        with open_archive(source, limits=read_limits) as archive:
            workers = default_workers(archive.jsonl.size)
    if workers < 2:
        return check(1), count_and_draw(source, 1, read_limits, max_users_per_team)
    import multiprocessing

    # fork: the child starts at once with the modules loaded. Not a daemon (run_in_workers'
    # workers are): the tables may start workers of their own.
    context: Any = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    counting = workers // 2
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_count_tables,
        args=(send, os.getpid(), source, counting, read_limits, max_users_per_team),
    )
    with forking_workers():  # no SIGTERM before the child's own handlers (guard_worker)
        child.start()
    send.close()
    try:
        report = check(workers - counting)
        try:
            outcome, value = receive.recv()
        except EOFError:
            raise RuntimeError(
                f"the table counting process ended without its result (exit code "
                f"{child.exitcode}); was it killed, e.g. for lack of memory?"
            ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if outcome == "error":
        raise value
    return report, value


def _count_tables(
    conn: Connection,
    parent: int,
    source: str,
    workers: int,
    read_limits: ReadLimits | None,
    max_users_per_team: int,
) -> None:
    guard_worker(parent)
    try:
        conn.send(("ok", count_and_draw(source, workers, read_limits, max_users_per_team)))
    except BaseException as exc:  # the parent raises it (ArchiveError pickles with its issue)
        conn.send(("error", exc))
    finally:
        conn.close()


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
    target = target or TargetConfig()
    source = os.fspath(path)

    def check(validate_workers: int | None) -> Report:
        return validate(
            source,
            target=target,
            explicit=explicit,
            bandwidth_bps=bandwidth_bps,
            max_issues=max_issues,
            read_limits=read_limits,
            progress=progress,
            workers=validate_workers,
            verify_files=verify_files,
            existing=existing,
        )

    report, (counted, charts) = _validate_and_count(
        source, check, workers, read_limits, target.max_users_per_team
    )
    with open_archive(path, limits=read_limits) as archive:
        manifest = member_manifest(archive, checksums=checksums)
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
        charts=charts,
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
