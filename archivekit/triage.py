"""`triage`: everything the HTML triage page shows (`archivekit report`), and the page itself.

The page's data comes from the same code as the other commands: `validate` (the issues, the
target limits), the tables of `inspect --by` (the charts), `reconcile` (with `against`) and
the member manifest. One pass over the JSONL: validate's workers count the tables' figures of
the lines they check (`validate`'s `table_counts`; in one process, in a thread beside the
checks: `archivekit.check.table_lines`); with `against`, the reconciliation's SOURCE
side is read from the same batches (`validate`'s `also_read`, in one process: its records come
in line order) and only the destination's export is read apart. On two or more cores the
charts are drawn in a child process that imports pandas and matplotlib while the pass runs, so
that only the drawing itself comes after it (bench/results.md has the cost next to validate's
alone).

The command is `report`; the function is `triage` because `archivekit.report` is the package
of report models and renderers.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from archivekit.check.limits import DEFAULT_BANDWIDTH_BPS
from archivekit.check.references import Existing
from archivekit.check.table_counts import TableCounts
from archivekit.check.target import TargetConfig
from archivekit.errors import UsageError
from archivekit.read import ReadLimits, open_archive
from archivekit.read.source import is_stream, needs_file
from archivekit.report.archive_members import member_manifest
from archivekit.report.html import (
    MAX_MISSING_ROWS,
    REPORT_INSTALL,
    TriagePage,
    load_template,
    missing_report_modules,
    render_html,
)
from archivekit.report.model import DEFAULT_MAX_ISSUES
from archivekit.report.tables import uncounted_tables
from archivekit.runtime import (
    RunDirectory,
    default_workers,
    forking_workers,
    guard_worker,
    usable_cores,
    worker_ended,
)
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


class ChartDrawer:
    """Draws the page's charts in a child process that imports pandas and matplotlib (and
    warms them up, then makes the charts' figures ahead: `charts.prepare`) while this one
    reads the archive, then draws from the tables it is sent.

    Forked before the validation workers, with no thread running. One child: a second
    drawing process forked from it once the tables are known halved the drawing's wall
    time but counted its ~130 MB of touched pages again in the tree's memory (the drawing is
    cheap enough now for one core, bench/results.md). Use as a context manager: leaving it
    ends the child (it also ends with this process however that ends: `guard_worker`).
    """

    def __init__(self, max_users_per_team: int) -> None:
        import multiprocessing

        # fork: the child starts at once with archivekit loaded (spawn where there is none).
        context: Any = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        self._conn, child_end = context.Pipe(duplex=True)
        self._child = context.Process(
            target=_draw_charts, args=(child_end, os.getpid(), max_users_per_team), daemon=True
        )
        with forking_workers():  # no SIGTERM before the child's own handlers (guard_worker)
            self._child.start()
        child_end.close()

    def draw(self, tables: ArchiveTables) -> None:
        """Start drawing the charts of `tables` (in the child)."""
        try:
            self._conn.send(tables)
        except OSError:  # the child has gone (a broken pipe is not the CLI's closed stdout)
            raise self._ended() from None

    def charts(self) -> list[Chart]:
        """The charts `draw` started."""
        try:
            outcome, value = self._conn.recv()
        except (EOFError, OSError):
            raise self._ended() from None
        if outcome == "error":
            raise value
        charts: list[Chart] = value
        return charts

    def _ended(self) -> Exception:
        """The error of a child that ended before its charts (killed, out of memory)."""
        self._child.join(timeout=1)
        what, code = "the chart drawing process", self._child.exitcode
        return worker_ended(what, code, "its charts", "rerun with more memory")

    def __enter__(self) -> ChartDrawer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child.is_alive():
            self._child.kill()
        self._child.join()
        self._conn.close()


# Optional imports of pandas and matplotlib the charts never use, left unfound in the drawing
# process: both libraries go on without them. pandas imports pyarrow whenever it is installed
# (the dev extra has it for Parquet), only to store the tables' strings: ~60 MB of memory and a
# sixth of pandas' import for charts of a few dozen names (pandas then keeps strings itself).
# matplotlib.projections imports the 3D axes (mpl_toolkits.mplot3d) to register them: ~0.1 s
# of CPU, on the core the report's pass counts its tables with (it warns, and goes on without).
UNUSED_IMPORTS = ("pyarrow", "mpl_toolkits.mplot3d")
_NO_3D_WARNING = "Unable to import Axes3D"


def _drawing_imports() -> None:
    """Import what the charts need, without `UNUSED_IMPORTS` (unless already imported)."""
    import warnings

    for name in UNUSED_IMPORTS:
        if name.partition(".")[0] not in sys.modules:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _NO_3D_WARNING, UserWarning)
        import matplotlib.projections  # noqa: F401  (what matplotlib.figure imports)


def _draw_charts(conn: Connection, parent: int, max_users_per_team: int) -> None:
    guard_worker(parent)
    try:
        _drawing_imports()
        from archivekit.report.charts import AHEAD, prepare, warm_up
        from archivekit.report.html import draw_charts

        warm_up()
        for chart_id in AHEAD:  # while the archive is read, until its tables come
            if conn.poll():
                break
            prepare(chart_id)
        tables = conn.recv()
        conn.send(("ok", draw_charts(tables, max_users_per_team)))
    except EOFError:  # the parent stopped before sending the tables
        pass
    except BaseException as exc:  # the parent raises it
        conn.send(("error", exc))
    finally:
        conn.close()


def _before_the_pass(
    source: str, workers: int | None, read_limits: ReadLimits | None
) -> tuple[ArchiveTables, int]:
    """The archive's tables before its lines are counted, and validate's processes when the
    charts are drawn in a child beside it: the child takes one of the `workers` (None:
    validate's default for this archive), validate the rest.

    On two cores that is validate in one process: its workers' duplicate reading of the
    JSONL costs more than the second core gives back when the chart child needs it too."""
    with open_archive(source, limits=read_limits) as archive:
        tables = uncounted_tables(source, archive)
        if workers is None:
            workers = default_workers(archive.jsonl.size)
    return tables, max(1, workers - 1)


def _draw_when_counted(drawer: ChartDrawer, tables: ArchiveTables) -> Callable[[TableCounts], None]:
    """validate's `tables_counted`: the charts are drawn while validate ends its run (the
    checks that follow the read) and the manifest is made."""

    def counted(counts: TableCounts) -> None:
        tables.fill(counts)
        drawer.draw(tables)

    return counted


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
    if is_stream(source):
        raise needs_file(
            source,
            "`report` needs the archive as a file (seekable): after reading the JSONL it reads "
            "the zip's central directory again for the page's list of files, and reads members "
            "at their offsets (images, --checksums)",
        )
    options: dict[str, Any] = {
        "target": target,
        "explicit": explicit,
        "bandwidth_bps": bandwidth_bps,
        "max_issues": max_issues,
        "read_limits": read_limits,
        "progress": progress,
        "workers": workers,
        "verify_files": verify_files,
        "existing": existing,
    }
    with contextlib.ExitStack() as stack:
        drawer = counted = None
        # Not when one process is asked for, nor on one core.
        if workers != 1 and usable_cores() >= 2:
            counted, options["workers"] = _before_the_pass(source, workers, read_limits)
            drawer = stack.enter_context(ChartDrawer(target.max_users_per_team))
            options["tables_counted"] = _draw_when_counted(drawer, counted)
        source_side = run = None
        if against is not None:
            from archivekit.report.reconcile_read import SidePass, spool_path

            open_archive(against, limits=read_limits).close()  # fails now, not after the pass
            run = stack.enter_context(RunDirectory())
            # The reconciliation's SOURCE side is read from validate's own read of the lines.
            source_side = SidePass(
                stack.enter_context(open_archive(source, limits=read_limits)),
                "source",
                spool_path(str(run.path), "source"),
            )
        counts = TableCounts()  # added up from the workers' counts
        # One pass: validate's workers count the tables too.
        report = validate(source, table_counts=counts, also_read=source_side, **options)
        with open_archive(path, limits=read_limits) as archive:
            if counted is None:
                counted = uncounted_tables(source, archive)
                counted.fill(counts)
            manifest = member_manifest(archive, checksums=checksums)
            kind, size, jsonl_size = archive.kind, archive.size, archive.jsonl.size
        reconciliation = None
        if against is not None and source_side is not None and run is not None:
            from archivekit.report.reconcile import reconcile_read_source

            side = source_side.finish(report.lines)
            side.path = source
            reconciliation = reconcile_read_source(
                side, against, str(run.path), max_items=MAX_MISSING_ROWS, read_limits=read_limits
            )
        if drawer is not None:  # drawing since validate counted the tables
            load_template()  # while the child draws
            charts = drawer.charts()
        else:
            from archivekit.report.html import draw_charts

            charts = draw_charts(counted, target.max_users_per_team)
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
