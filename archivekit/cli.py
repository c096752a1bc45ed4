"""The `archivekit` command: a thin click layer over the library.

Exit codes (documented in --help and README):
  0  the archive is valid (warnings allowed)
  1  the archive has errors: the import would fail or lose data
  2  usage or output error: bad option, unreadable or invalid --target-config, an output
     that cannot be written (no space left, permission denied, read-only, a directory)
  3  the archive is unreadable: not a zip, truncated, no JSONL, unusable compression,
     permission denied or an I/O error while reading it, a stream that needs saving first
  4  internal error in archivekit (a bug: please report it with the message)
  130  interrupted (Ctrl-C, SIGINT); 143  stopped by SIGTERM — both after ending the
       workers and removing temporary files and partial outputs
  137  a worker process was killed by SIGKILL (the OOM killer, kill -9), or 143 by SIGTERM
       alone (earlyoom): no bug of archivekit's
Data goes to stdout; diagnostics and the progress bar (only on a terminal) to stderr.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Any

import click

from archivekit.check.limits import DEFAULT_BANDWIDTH_BPS
from archivekit.check.references import Existing
from archivekit.check.target import SETTINGS, load_target
from archivekit.errors import ArchiveKitError, OutputError, UsageError, WorkerKilled
from archivekit.read import ReadLimits
from archivekit.report.model import DEFAULT_MAX_ISSUES
from archivekit.runtime import Terminated, stop_on_sigterm

# Each command imports what only it needs when it runs (validate never loads inspect's code,
# nor inspect validate's): start-up is most of a run on a small archive.

EXIT_VALID, EXIT_INVALID, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, Terminated.exit_code
EXIT_KILLED = WorkerKilled.exit_code  # a worker process SIGKILL ended (ArchiveKitError's code)

# An input archive (a zip, a JSONL, an export's folder, ``-``): click checks nothing of it —
# a missing or unreadable one, or a folder without an export, is the library's exit-3 message
# naming the cause, not a usage error.
ARCHIVE_PATH = click.Path(readable=False, path_type=str)
# An output file (-o, --mapping): click checks nothing of it either — a directory, a missing
# folder or one that refuses writes is `atomic_output`'s one-line message (exit 2).
OUTPUT_PATH = click.Path(path_type=str)
# --target-config likewise: a missing or unreadable file, or a folder, is the library's
# message naming the path and the cause (a usage error, exit 2: an option's file).
CONFIG_PATH = click.Path(readable=False, path_type=str)


class _Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if not total:  # a stream: its size is known at its end
            megabytes = done >> 20
            if megabytes != self.last:
                self.last = megabytes
                click.echo(f"\rreading JSONL… {megabytes:,} MiB", err=True, nl=False)
            return
        percent = int(done * 100 / total)
        if percent != self.last:
            self.last = percent
            click.echo(f"\rreading JSONL… {percent:3d}%", err=True, nl=False)

    def close(self) -> None:
        if self.last >= 0:
            click.echo("\r" + " " * 24 + "\r", err=True, nl=False)


def _run(action: Callable[[], int]) -> None:
    """Run a command body; map library exceptions to exit codes, never a traceback.

    SIGTERM stops the body as Ctrl-C does (`archivekit.runtime.Terminated`): the context
    managers on the way out end worker processes and remove temporary files.
    """
    stop_on_sigterm()
    try:
        code = action()
        with _standard_output():  # what click.echo left in the buffer: refused now, not at exit
            sys.stdout.flush()
    except UsageError as exc:
        click.echo(f"archivekit: {exc}", err=True)
        code = EXIT_USAGE
    except ArchiveKitError as exc:
        click.echo(f"archivekit: {exc}", err=True)
        code = exc.exit_code
    except (KeyboardInterrupt, BrokenPipeError):
        code = EXIT_INTERRUPTED
    except Terminated:
        code = EXIT_TERMINATED
    except Exception as exc:  # the last line of defence against tracebacks
        click.echo(
            f"archivekit: internal error ({type(exc).__name__}: {exc}); "
            "please report this with the command you ran",
            err=True,
        )
        code = EXIT_INTERNAL
    sys.exit(code)


_EXISTING = (
    ("team", "NAME", "a team the target server already has: references to it resolve"),
    ("channel", "TEAM/CHANNEL", "a channel the target server already has"),
    ("user", "USERNAME", "a user the target server already has"),
    ("scheme", "NAME", "a scheme the target server already has"),
)


def _existing_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for kind, metavar, text in reversed(_EXISTING):
        func = click.option(
            "--existing-" + kind, multiple=True, metavar=metavar, help=f"{text} (repeatable)"
        )(func)
    return func


def _existing(
    teams: tuple[str, ...],
    channels: tuple[str, ...],
    users: tuple[str, ...],
    schemes: tuple[str, ...],
) -> Existing | None:
    if not (teams or channels or users or schemes):
        return None
    places = []
    for place in channels:
        team, slash, channel = place.partition("/")
        if not slash or not team or not channel:
            raise UsageError(f"--existing-channel wants TEAM/CHANNEL, not {place!r}")
        places.append((team, channel))
    return Existing(frozenset(teams), frozenset(places), frozenset(users), frozenset(schemes))


def _workers_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help=(
            "processes to use (default: one per core, up to 8, for a JSONL over 32 MB; for a "
            "stream, up to 2)"
        ),
    )(func)


def _read_limit_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The zip-bomb guards of a command that reads members (`read_limits` makes them one
    `ReadLimits`)."""
    func = click.option(
        "--max-ratio",
        type=click.FloatRange(min=1),
        default=None,
        help="zip-bomb guard: highest compression ratio of a member",
    )(func)
    func = click.option(
        "--max-total-size",
        type=click.IntRange(min=1),
        default=None,
        help="zip-bomb guard: most uncompressed bytes read in total",
    )(func)
    return click.option(
        "--max-member-size",
        type=click.IntRange(min=1),
        default=None,
        help="zip-bomb guard: largest uncompressed member in bytes",
    )(func)


def read_limits(
    max_member_size: int | None, max_total_size: int | None, max_ratio: float | None
) -> ReadLimits:
    """The `ReadLimits` of `_read_limit_options`' values (None: the default of each)."""
    defaults = ReadLimits()
    return ReadLimits(
        max_member_size=max_member_size or defaults.max_member_size,
        max_total_size=max_total_size or defaults.max_total_size,
        max_ratio=max_ratio or defaults.max_ratio,
    )


def _output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--output",
        "-o",
        type=OUTPUT_PATH,
        default=None,
        help="write the report to this file (atomically) instead of stdout",
    )(func)


def _emit(text: str | bytes, output: str | None, archive: str) -> None:
    """The report (text, or bytes in UTF-8) on stdout, or atomically into `output` (never over
    the archive itself)."""
    payload = text if isinstance(text, bytes) else text.encode("utf-8")
    if output is None:
        _to_stdout(payload)
        return
    from archivekit.write.atomic import write_atomic

    write_atomic(output, payload, protect=[archive])


@contextlib.contextmanager
def _standard_output() -> Iterator[None]:
    """Around every write of a command's data to standard output (`_to_stdout`, `_echo`, and
    `_run`'s last flush): a full disk or a closed terminal is an output error (exit 2), not an
    internal one. (A closed pipe, e.g. `| head`, stays a quiet stop.)"""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        # What is still buffered would fail again when Python flushes it at exit (a second
        # message, exit 120): standard output is lost, so the rest goes nowhere.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _to_stdout(payload: bytes) -> None:
    """Write to standard output now (see `_standard_output`)."""
    with _standard_output():
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()


def _echo(text: str) -> None:
    """A command's text on standard output: every command's data goes through here or
    `_to_stdout` (tests/test_io_errors.py runs each command with a full standard output)."""
    _to_stdout(text.encode("utf-8"))


def _bandwidth(text: str | None) -> float:
    if text is None:
        return DEFAULT_BANDWIDTH_BPS
    from archivekit.options import parse_bandwidth  # only when given: it compiles patterns

    return parse_bandwidth(text)


def _config_key(path: str | None) -> str:
    """Where a setting is in config.json, for its help (nothing for one that is no key)."""
    return f"config {path}; " if path else ""


def _text_width(output: str | None) -> int:
    """Columns to wrap the text report at: the terminal's, or WIDTH when not a terminal."""
    from archivekit.report.render import WIDTH

    if output is None and sys.stdout.isatty():
        import shutil  # only on a terminal: shutil imports bz2 and lzma

        return max(40, shutil.get_terminal_size((WIDTH, 24)).columns)
    return WIDTH


def _target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for setting in reversed(SETTINGS):
        many = setting.type is list
        func = click.option(
            setting.option,
            setting.attribute,
            type=str if many else setting.type,
            multiple=many,
            default=None,
            help=f"{setting.help} ({_config_key(setting.config_path)}default "
            f"{setting.default!r}){' — repeat for several' if many else ''}",
        )(func)
    return func


# The other commands, by name: defined in archivekit.cli_commands, which `_Commands` imports
# only when one of them runs or --help lists them (start-up is most of a run on a small
# archive, and building every command's options is a good part of it).
LAZY_COMMANDS = frozenset(
    {"inspect", "reconcile", "report", "schema", "filter", "split", "merge", "redact", "fix"}
)


class _Commands(click.Group):
    """The command group, with the commands of `LAZY_COMMANDS` loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import_module("archivekit.cli_commands")  # its decorators add them to `cli`
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archivekit")
def cli() -> None:
    """Preflight Mattermost bulk export/import archives.

    \b
    Exit codes: 0 valid, 1 errors found, 2 usage error,
                3 archive unreadable, 4 internal error,
                130 interrupted (Ctrl-C), 143 stopped by SIGTERM,
                137 a worker killed by SIGKILL (out of memory?).
    """


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "jsonl"]),
    default="text",
    show_default=True,
    help="text for people; json: one document; jsonl: one issue per line, then a summary",
)
@click.option(
    "--max-issues",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_ISSUES,
    show_default=True,
    help="keep at most N issues in the list (counts by code stay exact); 0 = no limit",
)
@click.option(
    "--target-config",
    type=CONFIG_PATH,
    help="the target server's config.json, or the output of `mmctl config show --json`",
)
@click.option(
    "--bandwidth",
    default=None,
    help=f"upload bandwidth for the timeout estimate, e.g. 10Mbit, 5MB/s "
    f"(default {DEFAULT_BANDWIDTH_BPS / 1e6:g} Mbit/s)",
)
@_read_limit_options
@_existing_options
@_workers_option
@click.option(
    "--verify-files",
    is_flag=True,
    help="also read every referenced file in full and report damaged ones (slower: all I/O)",
)
@click.option("--progress/--no-progress", default=None, help="progress on stderr (default: tty)")
# --- root causes (issue 16) ---
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="text format: under each problem, list every line (kept by --max-issues), not 3",
)
# --- end root causes ---
@_output_option
@_target_options
def validate(
    archive: str,
    output_format: str,
    max_issues: int,
    target_config: str | None,
    bandwidth: str | None,
    max_member_size: int | None,
    max_total_size: int | None,
    max_ratio: float | None,
    existing_team: tuple[str, ...],
    existing_channel: tuple[str, ...],
    existing_user: tuple[str, ...],
    existing_scheme: tuple[str, ...],
    workers: int | None,
    verify_files: bool,
    progress: bool | None,
    verbose: bool,
    output: str | None,
    **settings: Any,
) -> None:
    """Check ARCHIVE (zip, .jsonl or export folder) as the Mattermost server would.

    ARCHIVE may be - (standard input) or a pipe: it is then validated while it downloads
    (in two processes where there are two cores; --workers 1 for one), with the same report
    as from the saved file.

    \b
    The text report names each distinct problem (root cause) once, with its fix, in the order
    to fix them, then its lines; --verbose lists every line of each. It is wrapped at the
    terminal's width (100 columns when not on a terminal).

    \b
    Example:
      archivekit validate export.zip
      archivekit validate export.zip --format json --target-config config.json
      curl -s "$URL" | archivekit validate -
    """

    def body() -> int:
        from archivekit.report.render import report_json_bytes, report_jsonl_bytes, report_text
        from archivekit.validate import validate as validate_archive

        overrides = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
        overrides = {k: v for k, v in overrides.items() if v is not None and v != []}
        target, explicit = load_target(target_config, env=os.environ, overrides=overrides)
        limits = read_limits(max_member_size, max_total_size, max_ratio)
        show = sys.stderr.isatty() if progress is None else progress
        bar = _Progress() if show else None
        try:
            report = validate_archive(
                archive,
                target=target,
                explicit=explicit,
                bandwidth_bps=_bandwidth(bandwidth),
                max_issues=max_issues or None,
                read_limits=limits,
                progress=bar,
                verify_files=verify_files,
                workers=workers,
                existing=_existing(existing_team, existing_channel, existing_user, existing_scheme),
            )
        finally:
            if bar:
                bar.close()
        if output_format == "text":
            text = report_text(report, verbose=verbose, width=_text_width(output))
            _emit(text, output, archive)
        else:
            render = {"json": report_json_bytes, "jsonl": report_jsonl_bytes}[output_format]
            _emit(render(report), output, archive)
        return EXIT_VALID if report.valid else EXIT_INVALID

    _run(body)


def __getattr__(name: str) -> Any:
    """`archivekit.cli.inspect` and the others, as before they moved (PEP 562)."""
    if name in LAZY_COMMANDS:
        return getattr(import_module("archivekit.cli_commands"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The `archivekit` command (the console script; `python -m archivekit`).

    `gc.freeze()` before and after the command: what the imports built lives until the
    process ends, so the collector need not walk it during the run, and at exit the
    interpreter then leaves the frozen objects to the operating system instead of collecting
    them one by one — 15-20 ms of a run on a small archive (bench/startup.py). Exit handlers,
    buffered output and context managers still run as before; only `main` does this, never
    the library or the `cli` group that tests invoke in-process. What it costs: an object
    left to the collector at exit (a cycle) is never finalized — its `__del__` or a
    suspended generator's `finally` does not run — so no clean-up may rely on the collector:
    temporary files and outputs are closed by `with`/`finally` in the code that made them.
    """
    gc.freeze()
    try:
        cli()
    finally:
        gc.freeze()
