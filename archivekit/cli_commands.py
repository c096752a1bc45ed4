"""The `archivekit` commands other than validate (inspect, reconcile, report, schema, filter,
split, merge, redact, fix): loaded only when one of them runs or --help lists them, so that
validate's start-up does not build their options (`archivekit.cli` is the group and validate).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, Literal, cast

import click

from archivekit.check.rules.context import DEFAULT_MAX_POST_SIZE
from archivekit.check.target import SETTINGS, load_target
from archivekit.cli import (
    ARCHIVE_PATH,
    CONFIG_PATH,
    EXIT_INVALID,
    EXIT_VALID,
    OUTPUT_PATH,
    _bandwidth,
    _echo,
    _emit,
    _existing,
    _output_option,
    _Progress,
    _read_limit_options,
    _run,
    _standard_output,
    _to_stdout,
    _workers_option,
    cli,
    read_limits,
    validate,
)
from archivekit.errors import UsageError
from archivekit.report.choices import BY as TABLES_BY
from archivekit.report.choices import DEFAULT_MAX_ITEMS


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option(
    "--by",
    type=click.Choice(list(TABLES_BY)),
    default=None,
    help="one table instead of the summary: a row per team, channel, user, DM/GM (direct), "
    "month, day, line type or file type",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv", "parquet"]),
    default="text",
    show_default=True,
    help="csv and parquet need --by (parquet: pip install 'archivekit[parquet]')",
)
@_workers_option
@_output_option
def inspect(
    archive: str, by: str | None, output_format: str, workers: int | None, output: str | None
) -> None:
    """Show what ARCHIVE holds: counts, teams, channels and dates (fast, no validation).

    ARCHIVE may be - (standard input) or a pipe (not with --by).

    \b
    Example:
      archivekit inspect export.zip --format json
      archivekit inspect export.zip --by channel --format csv -o channels.csv
      archivekit inspect export.zip --by month --format parquet -o months.parquet
    """

    def body() -> int:
        if by is not None:
            return _inspect_table(archive, by, output_format, workers, output)
        if output_format not in ("text", "json"):
            raise UsageError(f"--format {output_format} needs --by (a table)")
        from archivekit.inspect import inspect as inspect_archive
        from archivekit.report.render import inspection_json, inspection_text

        result = inspect_archive(archive, workers=workers)
        render = inspection_json if output_format == "json" else inspection_text
        _emit(render(result), output, archive)
        return EXIT_VALID

    _run(body)


# --- inspect --by: tables (issue 12) ----------------------------------------------------------


def _inspect_table(
    archive: str, by: str, output_format: str, workers: int | None, output: str | None
) -> int:
    from archivekit.report import table_output
    from archivekit.report.tables import tables as archive_tables

    if output_format == "parquet" and not table_output.parquet_available():
        raise UsageError(f"--format parquet needs pyarrow: {table_output.PARQUET_INSTALL}")
    if output_format == "parquet" and output is None and sys.stdout.isatty():
        raise UsageError("--format parquet is binary: give -o FILE (or redirect stdout)")
    result = archive_tables(archive, workers=workers)
    table = result.table(TABLES_BY[by])
    data = {
        "csv": table_output.table_csv,
        "text": table_output.table_text,
        "parquet": table_output.table_parquet,
    }.get(output_format)
    payload = data(table) if data else table_output.table_json(table, result.summary())
    if table.widened:
        click.echo(
            f"note: the posts' create_at dates span more periods than are counted one by one: "
            f"the {table.columns[0][0]} column counts per {table.period}",
            err=True,
        )
    _emit_bytes(payload, output, archive)
    return EXIT_VALID


def _emit_bytes(payload: bytes, output: str | None, *inputs: str) -> None:
    """Bytes on stdout, or atomically into `output` (never over an input)."""
    if output is None:
        _to_stdout(payload)
        return
    from archivekit.write.atomic import write_atomic

    write_atomic(output, payload, protect=list(inputs))


# --- reconcile (issue 12) ---------------------------------------------------------------------


@cli.command()
@click.argument("source", type=ARCHIVE_PATH)
@click.argument("target", type=ARCHIVE_PATH)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="csv: one file per table into the folder given with -o",
)
@click.option(
    "--max-items",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_ITEMS,
    show_default=True,
    help="list at most N missing items (counts stay exact); 0 = no limit",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="1 reads the two archives one after the other (default: side by side, 2 processes)",
)
@click.option(
    "--output",
    "-o",
    type=OUTPUT_PATH,
    default=None,
    help="write to this file (csv: this folder, one file per table), atomically",
)
def reconcile(
    source: str,
    target: str,
    output_format: str,
    max_items: int,
    workers: int | None,
    output: str | None,
) -> None:
    """Check that everything in SOURCE (the archive imported) is in TARGET (an export of the
    destination taken afterwards: mmctl export create + download).

    What only TARGET has is the destination's own data (extra, information); what SOURCE has
    and TARGET lacks is missing. What exports legitimately change (lowercased names, clamped
    reply times, archived channels left out...) is not missing. Exit codes: 0 nothing
    missing, 1 something missing, 2 usage error, 3 an archive unreadable.

    \b
    Example:
      archivekit reconcile import.zip after-export.zip
      archivekit reconcile import.zip after-export.zip --format csv -o reconcile/
    """

    def body() -> int:
        from archivekit.report import reconcile_output
        from archivekit.report.reconcile import reconcile as reconcile_archives
        from archivekit.write.atomic import write_atomic_set

        if output_format == "csv" and output is None:
            raise UsageError("--format csv writes one file per table: give -o FOLDER")
        result = reconcile_archives(source, target, max_items=max_items, workers=workers)
        if output_format == "csv":
            assert output is not None
            tables = reconcile_output.reconcile_csv(result)
            write_atomic_set(output, tables, protect=[source, target])
        else:
            render = (
                reconcile_output.reconcile_json
                if output_format == "json"
                else reconcile_output.reconcile_text
            )
            _emit_bytes(render(result), output, source, target)
        return EXIT_VALID if result.ok else EXIT_INVALID

    _run(body)


# --- report: the HTML triage page (issue 13) --------------------------------------------------

# validate's options the report takes too (the same objects: one definition, one help text).
# The page lists every kept issue: --verbose (text format only) has no meaning there.
_REPORT_SKIPS = {"archive", "output_format", "output", "verbose"}


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option(
    "--against",
    type=ARCHIVE_PATH,
    default=None,
    help="an export of the destination taken after the import: show what did not arrive "
    "(as `archivekit reconcile`)",
)
@click.option(
    "--checksums",
    is_flag=True,
    help="list each file's SHA-256 and a digest of the whole manifest (reads every file)",
)
@click.option(
    "--output",
    "-o",
    type=OUTPUT_PATH,
    default=None,
    help="the HTML file to write (atomically); stdout when not given and not a terminal",
)
def report(
    archive: str,
    against: str | None,
    checksums: bool,
    output: str | None,
    **options: Any,
) -> None:
    """Write ONE self-contained HTML page about ARCHIVE for a ticket or a manager: the verdict
    in words, the problems by kind with how to fix them, the target's limits, charts of what
    the archive holds, its files, and (with --against) what did not arrive.

    The page loads nothing (no network, fonts, scripts or styles from elsewhere) and works
    offline. It takes validate's options. Needs the optional extra: pip install
    'archivekit[report]'. Exit codes as validate: 0 valid, 1 errors found, 2 usage or an
    output that cannot be written, 3 unreadable (or a pipe: after the JSONL's one pass the
    page reads the zip's file list and members at their offsets; save it to a file first).

    \b
    Example:
      archivekit report export.zip -o triage.html
      archivekit report export.zip -o triage.html --target-config config.json
      archivekit report export.zip -o after.html --against after-export.zip
    """

    def body() -> int:
        from archivekit.triage import require_report_modules, triage
        from archivekit.write.atomic import write_atomic

        require_report_modules()
        if output is None and sys.stdout.isatty():
            raise UsageError("report writes HTML: give -o FILE (or redirect stdout)")
        from archivekit.report.html import render_html

        settings = {k: options.pop(k) for k in list(options) if k in _SETTING_NAMES}
        overrides = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
        overrides = {k: v for k, v in overrides.items() if v is not None and v != []}
        target, explicit = load_target(
            options.pop("target_config"), env=os.environ, overrides=overrides
        )
        limits = read_limits(
            options.pop("max_member_size"), options.pop("max_total_size"), options.pop("max_ratio")
        )
        progress = options.pop("progress")
        show = sys.stderr.isatty() if progress is None else progress
        bar = _Progress() if show else None
        existing = _existing(
            options.pop("existing_team"),
            options.pop("existing_channel"),
            options.pop("existing_user"),
            options.pop("existing_scheme"),
        )
        try:
            page = triage(
                archive,
                target=target,
                explicit=explicit,
                bandwidth_bps=_bandwidth(options.pop("bandwidth")),
                max_issues=options.pop("max_issues") or None,
                read_limits=limits,
                progress=bar,
                existing=existing,
                workers=options.pop("workers"),
                verify_files=options.pop("verify_files"),
                against=against,
                checksums=checksums,
            )
            if options:  # a validate option this command takes but does not pass on
                raise AssertionError(f"report ignores {', '.join(sorted(options))}")
        finally:
            if bar:
                bar.close()
        html = render_html(page).encode("utf-8")
        if output is None:
            _emit_bytes(html, None)
        else:
            protect = [archive] if against is None else [archive, against]
            write_atomic(output, html, protect=protect)
        return EXIT_VALID if page.report.valid else EXIT_INVALID

    _run(body)


_SETTING_NAMES = {setting.attribute for setting in SETTINGS}
report.params[1:1] = [p for p in validate.params if p.name not in _REPORT_SKIPS]


@cli.group()
def schema() -> None:
    """JSON Schemas of the line types."""


@schema.command("export")
@click.argument("directory", type=OUTPUT_PATH)
def schema_export(directory: str) -> None:
    """Write one JSON Schema per line type into DIRECTORY (all of them, or none)."""

    def body() -> int:
        from archivekit.write.schemas import export_schemas

        _echo("".join(f"{written}\n" for written in export_schemas(directory)))
        return EXIT_VALID

    _run(body)


# --- writers: filter, split, merge -----------------------------------------------------------


def _selector_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter's selectors, each with its --exclude-... form."""
    options = [
        ("team", "NAME", "the team's channels and posts (and its members)"),
        ("channel", "TEAM/CHANNEL", "one channel's posts (and its members)"),
        ("user", "NAME", "posts by, and DMs/GMs with, this user"),
        ("dm", "USER,USER[,...]", "the DM or GM with exactly these members"),
    ]
    for name, metavar, text in reversed(options):
        func = click.option(
            "--exclude-" + name, multiple=True, metavar=metavar, help=f"leave out {text}"
        )(func)
        func = click.option("--" + name, multiple=True, metavar=metavar, help=f"keep {text}")(func)
    return func


def _summary_format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="what to print: a summary for people, or one JSON document",
    )(func)


def _writer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = _summary_format_option(func)
    func = click.option(
        "--strict", is_flag=True, help="refuse an input with errors (exit 1, nothing written)"
    )(func)
    return click.option(
        "--check/--no-check",
        default=True,
        show_default=True,
        help="validate the input on the side (in a second process) and say whether the "
        "output carries its errors",
    )(func)


def _print_result(text: str, document: dict[str, Any], output_format: str) -> None:
    from archivekit.write.results import render_json

    _echo(render_json(document) if output_format == "json" else text)


@cli.command("filter")
@click.argument("archive", type=ARCHIVE_PATH)
@click.option("--output", "-o", type=OUTPUT_PATH, help="the zip to write")
@_selector_options
@click.option("--since", metavar="DATE", help="posts created on or after DATE (YYYY-MM-DD, ...)")
@click.option("--until", metavar="DATE", help="posts created on or before DATE (that whole day)")
@click.option(
    "--types",
    multiple=True,
    metavar="TYPE[,TYPE]",
    help="keep only these line types (and what they need)",
)
@click.option(
    "--exclude-types", multiple=True, metavar="TYPE[,TYPE]", help="leave out these line types"
)
@click.option("--no-attachments", is_flag=True, help="leave out attachment files and references")
@click.option("--no-direct", is_flag=True, help="leave out DMs and GMs (channels only)")
@click.option("--dry-run", is_flag=True, help="print what would be kept; write nothing")
@_writer_options
def filter(
    archive: str,
    output: str | None,
    team: tuple[str, ...],
    exclude_team: tuple[str, ...],
    channel: tuple[str, ...],
    exclude_channel: tuple[str, ...],
    user: tuple[str, ...],
    exclude_user: tuple[str, ...],
    dm: tuple[str, ...],
    exclude_dm: tuple[str, ...],
    since: str | None,
    until: str | None,
    types: tuple[str, ...],
    exclude_types: tuple[str, ...],
    no_attachments: bool,
    no_direct: bool,
    dry_run: bool,
    check: bool,
    strict: bool,
    output_format: str,
) -> None:
    """Write the part of ARCHIVE the selectors pick to OUT.zip, with everything it needs to
    import: the teams, channels and users its lines name, memberships pruned to what is kept,
    exactly the files kept lines refer to (copied as they are). Lines kept unchanged stay
    byte-identical; OUT.manifest.json beside it lists every member with size and SHA-256.
    Selectors combine: places (--team, --channel, --user, --dm) add up, the rest narrow.
    ARCHIVE is a file, not - or a pipe (exit 3: save a download first).

    \b
    Example:
      archivekit filter export.zip -o eng.zip --team engineering --since 2024-07-01
      archivekit filter export.zip -o small.zip --no-attachments --no-direct
      archivekit filter export.zip --user alice --dry-run
    """

    def body() -> int:
        from archivekit.options import parse_date, parse_members, parse_place, parse_types
        from archivekit.write.results import render_filter
        from archivekit.write.select import Selection
        from archivekit.writers import filter_archive

        selection = Selection(
            teams=frozenset(team),
            channels=frozenset(parse_place(c) for c in channel),
            users=frozenset(user),
            dms=frozenset(parse_members(d) for d in dm),
            exclude_teams=frozenset(exclude_team),
            exclude_channels=frozenset(
                parse_place(c, "--exclude-channel") for c in exclude_channel
            ),
            exclude_users=frozenset(exclude_user),
            exclude_dms=frozenset(parse_members(d, "--exclude-dm") for d in exclude_dm),
            since=None if since is None else parse_date(since),
            until=None if until is None else parse_date(until, end=True),
            types=parse_types(types) if types else None,
            exclude_types=parse_types(exclude_types, "--exclude-types"),
            attachments=not no_attachments,
            direct=not no_direct,
        )
        result = filter_archive(
            archive, output, selection, dry_run=dry_run, strict=strict, check_input=check
        )
        _print_result(render_filter(result), result.to_dict(), output_format)
        return EXIT_VALID

    _run(body)


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option(
    "--output",
    "-o",
    required=True,
    type=OUTPUT_PATH,  # a file is refused by prepare_folder, in archivekit's words
    help="the folder to write the parts and manifest.json into (created when missing)",
)
@click.option(
    "--max-bytes",
    metavar="SIZE",
    help="largest part, e.g. 500MB, 2GiB (default: FileSettings.MaxFileSize of --target-config)",
)
@click.option(
    "--by",
    type=click.Choice(["team", "channel", "month"]),
    help="one group of parts per team, channel or month, after the definitions",
)
@click.option(
    "--target-config",
    type=CONFIG_PATH,
    help="the target server's config.json: its FileSettings.MaxFileSize is the default size",
)
@_writer_options
def split(
    archive: str,
    output: str,
    max_bytes: str | None,
    by: str | None,
    target_config: str | None,
    check: bool,
    strict: bool,
    output_format: str,
) -> None:
    """Cut ARCHIVE into parts that import one after the other, each at most SIZE bytes (so
    `mmctl import upload` accepts it), or one group per team, channel or month. Every part
    starts with the version line; a post never leaves its replies or files; parts hold the
    source's lines in order, so earlier parts define what later ones use. OUT/manifest.json
    lists the parts in import order with size, SHA-256, counts and the mmctl commands.
    ARCHIVE is a file, not - or a pipe (exit 3: save a download first).

    \b
    Example:
      archivekit split export.zip -o parts/ --max-bytes 500MB
      archivekit split export.zip -o parts/ --target-config config.json
      archivekit split export.zip -o parts/ --by month --max-bytes 2GiB
    """

    def body() -> int:
        from archivekit.options import parse_size
        from archivekit.write.results import render_split
        from archivekit.writers import split_archive

        limit = None if max_bytes is None else parse_size(max_bytes)
        if limit is None and target_config is not None:
            target, _ = load_target(target_config, env=os.environ)
            limit = target.max_file_size
        result = split_archive(
            archive,
            output,
            max_bytes=limit,
            by=cast("Literal['team', 'channel', 'month'] | None", by),
            strict=strict,
            check_input=check,
        )
        _print_result(render_split(result), result.to_dict(), output_format)
        return EXIT_VALID

    _run(body)


@cli.command()
@click.argument("archives", nargs=-1, required=True, type=ARCHIVE_PATH)
@click.option(
    "--output",
    "-o",
    required=True,
    type=OUTPUT_PATH,
    help="the zip to write",
)
@_writer_options
def merge(
    archives: tuple[str, ...], output: str, check: bool, strict: bool, output_format: str
) -> None:
    """Combine ARCHIVES into one archive that imports like importing them in turn: one version
    line, the exporter's block order, each team, channel, user... once (the later input's
    definition wins, memberships are united; differences are reported), posts deduplicated by
    the importer's identity (channel, create_at, message), each file once. ARCHIVES are
    files, not - or pipes (exit 3: save a download first).

    \b
    Example:
      archivekit merge slack-2019.zip slack-2020.zip -o all.zip
      archivekit merge parts/export-part-*.zip -o export-again.zip
    """

    def body() -> int:
        from archivekit.write.results import render_merge
        from archivekit.writers import merge_archives

        result = merge_archives(list(archives), output, strict=strict, check_input=check)
        _print_result(render_merge(result), result.to_dict(), output_format)
        return EXIT_VALID

    _run(body)


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option(
    "--output",
    "-o",
    required=True,
    type=OUTPUT_PATH,
    help="the zip to write",
)
@click.option(
    "--key",
    envvar="ARCHIVEKIT_REDACT_KEY",
    metavar="TEXT",
    help="the pseudonyms' secret key (same key, same output); default: a random key stored "
    "nowhere [env ARCHIVEKIT_REDACT_KEY]",
)
@click.option(
    "--mapping",
    type=OUTPUT_PATH,
    help="also write the reverse mapping (pseudonym → original name, mapped file → original "
    "file) to this JSON file — keep it, do not send it",
)
@click.option(
    "--no-attachments",
    is_flag=True,
    help="leave out attachment files (profile and emoji images stay, as placeholders)",
)
@click.option(
    "--keep-references",
    is_flag=True,
    help="with --no-attachments: keep the attachment references in posts (validate then "
    "reports the files as missing)",
)
@_summary_format_option
def redact(
    archive: str,
    output: str,
    key: str | None,
    mapping: str | None,
    no_attachments: bool,
    keep_references: bool,
    output_format: str,
) -> None:
    """Write ARCHIVE with every personal string and file replaced, for support: usernames,
    emails, names, team and channel names, headers, purposes, messages, props text, custom
    status, file names and contents become consistent pseudonyms that keep what validation
    depends on (lengths, character classes, case, reserved words, duplicates, image format
    and dimensions), so `archivekit validate OUT.zip` reports the same issues at the same
    lines. Timestamps, enumerations and structure are kept verbatim (the summary lists them).

    \b
    Example:
      archivekit redact export.zip -o for-support.zip
      archivekit redact export.zip -o for-support.zip --mapping keep-me.json --key "$SECRET"
      archivekit redact export.zip -o small.zip --no-attachments
    """

    def body() -> int:
        from archivekit.write.results import render_redact
        from archivekit.writers import redact_archive

        if keep_references and not no_attachments:
            raise UsageError("--keep-references goes with --no-attachments")
        attachments: Literal["placeholders", "drop", "drop-references"] = (
            "placeholders"
            if not no_attachments
            else ("drop" if keep_references else "drop-references")
        )
        result = redact_archive(
            archive,
            output,
            key=None if key is None else key.encode("utf-8", "surrogateescape"),
            mapping=mapping,
            attachments=attachments,
        )
        _print_result(render_redact(result), result.to_dict(), output_format)
        return EXIT_VALID

    _run(body)


@cli.command()
@click.argument("archive", type=ARCHIVE_PATH)
@click.option("--output", "-o", type=OUTPUT_PATH, help="the zip to write")
@click.option("--dry-run", is_flag=True, help="print the changes fix would make; write nothing")
@click.option(
    "--max-post-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_POST_SIZE,
    show_default=True,
    help="split messages longer than this many characters: the target's MaxPostSize (no "
    "config.json key: it comes from the database's posts.message column)",
)
@click.option(
    "--drop-missing-files",
    is_flag=True,
    help="opt-in: remove references to attachments and profile images not in the archive, "
    "and emoji lines whose image is not",
)
@click.option(
    "--default-email-domain",
    metavar="DOMAIN",
    help="opt-in: give users without an email USERNAME@DOMAIN (as mmetl does)",
)
@click.option(
    "--truncate-long-fields",
    is_flag=True,
    help="opt-in: cut display names, nicknames, first/last names, positions, headers, purposes "
    "and bot descriptions at the server's limits (on character boundaries)",
)
@click.option(
    "--drop-skipped",
    is_flag=True,
    help="opt-in: leave out direct channels the server skips (not 2 or 3-8 members)",
)
@click.option(
    "--dedupe",
    is_flag=True,
    help="opt-in: merge duplicate definitions (team, channel, user, bot, role, scheme, emoji) "
    "into the first, as the importer applies them (the later one wins), and drop the copies",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="what to print: a summary with the first changes, or JSON with every change",
)
@_read_limit_options
def fix(
    archive: str,
    output: str | None,
    dry_run: bool,
    max_post_size: int,
    drop_missing_files: bool,
    default_email_domain: str | None,
    truncate_long_fields: bool,
    drop_skipped: bool,
    dedupe: bool,
    output_format: str,
    max_member_size: int | None,
    max_total_size: int | None,
    max_ratio: float | None,
) -> None:
    """Write ARCHIVE to OUT.zip with what `validate` finds mechanically repaired, and print
    every change (repair, line, field, before → after). By default only repairs that lose
    nothing: a leading data/ removed from file paths, files outside data/ moved where their
    path points (when only one fits), BOM / CR / blank lines / text after the JSON / NUL
    characters removed, references and defined names lowercased to the stored names (as the
    server stores them), lines put in the server's
    block order, messages over the limit split into replies, replies and reactions older than
    their post moved to its time, members the server cannot read re-compressed with deflate
    (a stored member flagged encrypted whose bytes prove plain: the flag cleared).
    Opt-in repairs change or drop data, each behind its flag (below; left off, what each
    would change is counted and listed with its flag); --dedupe merges the
    duplicate definitions of a team, channel, user, role, scheme or emoji into the first, as
    the importer applies them (the later one wins). Lines no repair touches stay
    byte-identical; files are copied as they are. A repair that is not safe (two files could be
    meant, two definitions one line cannot merge) is reported and not made. Running fix on its
    own output changes nothing: it writes the same bytes.

    \b
    Exit codes: 0 written (or nothing to repair with --dry-run), 1 --dry-run found repairs
    to make, opt-in repairs its options would make (listed with the option), or problems fix
    cannot repair (reported under "not repaired"), 2 usage error, 3 unreadable archive,
    4 internal error.

    \b
    Example:
      archivekit fix export.zip -o fixed.zip
      archivekit fix export.zip --dry-run --format json
      archivekit fix export.zip -o fixed.zip --drop-missing-files --default-email-domain example.com
      archivekit fix export.zip -o fixed.zip --dedupe   # one line per team, channel, user...
    """

    def body() -> int:
        from archivekit.write.fix_report import render_fix
        from archivekit.write.repairs import FixOptions
        from archivekit.writers import fix_archive

        options = FixOptions(
            max_post_size=max_post_size,
            drop_missing_files=drop_missing_files,
            default_email_domain=default_email_domain,
            truncate_long_fields=truncate_long_fields,
            drop_skipped=drop_skipped,
            dedupe=dedupe,
        )
        result = fix_archive(
            archive,
            output,
            options,
            dry_run=dry_run,
            read_limits=read_limits(max_member_size, max_total_size, max_ratio),
        )
        try:
            if output_format == "json":
                with _standard_output():  # streamed: one change in memory at a time
                    sys.stdout.flush()
                    result.write_json(sys.stdout.buffer)
                    sys.stdout.buffer.flush()
            else:
                _echo(render_fix(result))
            found = result.changed or result.unrepaired or result.offered
            return EXIT_INVALID if dry_run and found else EXIT_VALID
        finally:
            result.close()

    _run(body)
