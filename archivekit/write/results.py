"""What the writers report: results (`FilterResult`...), the input checks, and their text.

Pure data and strings: the CLI prints `render_*`'s text or `to_dict()` as JSON; the manifest
reuses the same dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archivekit.errors import ArchiveKitError
from archivekit.gosem.strings import members_text
from archivekit.issues import Issue, Severity
from archivekit.report.model import Report
from archivekit.report.render import human_bytes
from archivekit.write.core import WrittenArchive
from archivekit.write.filter import FilterStats
from archivekit.write.manifest import archive_entry, json_bytes, printable_text
from archivekit.write.merge import MergeStats
from archivekit.write.redact import KEPT_VERBATIM, TOKEN_REASONS, Attachments, RedactStats
from archivekit.write.select import EXPORT_ORDER, Selection, by_export_order
from archivekit.write.split import PartInfo, SplitStats

CHECK_ISSUES = 20  # issues kept from each input's check (its counts stay exact)


class InputHasErrors(ArchiveKitError):
    """``strict``: an input has errors, so nothing was written."""

    exit_code = 1

    def __init__(self, checks: list[InputCheck]) -> None:
        bad = [c for c in checks if c.errors]
        parts = [f"{Path(c.path).name} has {c.errors:,} error(s)" for c in bad]
        super().__init__(
            "; ".join(parts)
            + " — refused (--strict); nothing was written. Run `archivekit validate` on it for "
            "the details, or leave out --strict to write the output anyway (it then carries "
            "those errors)."
        )
        self.checks = checks


@dataclass(frozen=True, slots=True)
class InputCheck:
    """What `validate` found in one input."""

    path: str
    errors: int
    warnings: int
    issue_counts: dict[str, int]
    issues: tuple[Issue, ...]  # the first errors (then warnings), at most a few
    failed: str | None = None  # the check raised (how): it found nothing, the input is unchecked

    @staticmethod
    def failure(path: str, how: str) -> InputCheck:
        return InputCheck(path, 0, 0, {}, (), how)

    @staticmethod
    def of(path: str, report: Report) -> InputCheck:
        errors = [i for i in report.issues if i.severity is Severity.ERROR]
        others = [i for i in report.issues if i.severity is not Severity.ERROR]
        return InputCheck(
            path,
            report.errors,
            report.warnings,
            dict(sorted(report.issue_counts.items())),
            tuple((errors + others)[:CHECK_ISSUES]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": Path(self.path).name,
            "valid": None if self.failed else self.errors == 0,
            "failed": self.failed,
            "errors": self.errors,
            "warnings": self.warnings,
            "issue_counts": self.issue_counts,
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass(slots=True)
class FilterResult:
    """What `filter_archive` did. `to_dict` is the CLI's JSON."""

    source: str
    output: str | None
    dry_run: bool
    selection: Selection
    stats: FilterStats
    written: WrittenArchive | None = None
    manifest: str | None = None
    checks: list[InputCheck] = field(default_factory=list)

    @property
    def input_errors(self) -> int:
        return sum(c.errors for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "filter",
            "source": self.source,
            "output": self.output,
            "dry_run": self.dry_run,
            "selection": selection_dict(self.selection),
            **self.stats.to_dict(),
            "archive": None if self.written is None else archive_entry(self.written),
            "manifest": self.manifest,
            "input_check": [c.to_dict() for c in self.checks],
        }


def selection_dict(selection: Selection) -> dict[str, Any]:
    """The selectors that were given (JSON-ready, sorted)."""
    out: dict[str, Any] = {}
    for name in ("teams", "users", "exclude_teams", "exclude_users"):
        values = getattr(selection, name)
        if values:
            out[name] = sorted(values)
    for name in ("channels", "exclude_channels"):
        values = getattr(selection, name)
        if values:
            out[name] = sorted(f"{t}/{c}" for t, c in values)
    for name in ("dms", "exclude_dms"):
        values = getattr(selection, name)
        if values:
            out[name] = sorted(members_text(m) for m in values)
    for name in ("since", "until"):
        if getattr(selection, name) is not None:
            out[name] = getattr(selection, name)
    if selection.types is not None:
        out["types"] = sorted(selection.types)
    if selection.exclude_types:
        out["exclude_types"] = sorted(selection.exclude_types)
    if not selection.attachments:
        out["attachments"] = False
    if not selection.direct:
        out["direct"] = False
    return out


# --- text -------------------------------------------------------------------------------------


def render_json(document: dict[str, Any]) -> str:
    """A result's JSON document, indented like `validate --format json`."""
    return json_bytes(document).decode() + "\n"


def _type_table(stats: FilterStats) -> list[str]:
    rows = [f"  {'lines':<16}{'kept':>10}{'left out':>10}{'needed':>10}{'rewritten':>11}"]
    for kind in EXPORT_ORDER:
        kept, dropped = stats.kept[kind], stats.dropped[kind]
        if not (kept or dropped):
            continue
        needed = stats.needed[kind] or ""
        rewritten = stats.rewritten[kind] or ""
        rows.append(f"  {kind:<16}{kept:>10,}{dropped:>10,}{needed:>10}{rewritten:>11}".rstrip())
    total_kept, total_dropped = sum(stats.kept.values()), sum(stats.dropped.values())
    rows.append(f"  {'total':<16}{total_kept:>10,}{total_dropped:>10,}")
    return rows


def _input_lines(checks: list[InputCheck], output: str | None) -> list[str]:
    lines = []
    for check in checks:
        name = Path(check.path).name
        if check.failed:
            lines.append(
                f"input {name} went unchecked: its check failed ({check.failed}); "
                f"`archivekit validate {name}` checks it"
            )
            continue
        if not check.errors:
            lines.append(f"input {name}: no errors ({check.warnings:,} warnings)")
            continue
        where = f"`archivekit validate {Path(output).name}`" if output else "`archivekit validate`"
        lines.append(
            f"input {name} has {check.errors:,} error(s): the output carries those in the lines "
            f"and files it kept — {where} lists them; --strict refuses such an input"
        )
    return lines


def render_filter(result: FilterResult) -> str:
    stats = result.stats
    target = "(dry run: nothing written)" if result.written is None else result.output
    out = [f"filter {result.source} → {target}", *_type_table(stats)]
    if stats.unjudged:
        out.append(
            f"  {stats.unjudged:,} line(s) kept as they are: they cannot be decoded or have no "
            "known type (the input's errors)"
        )
    if stats.version_added:
        out.append("  line 1 was not a version line: one was written first")
    if stats.too_long:
        out.append(f"  {stats.too_long:,} line(s) over 16 MiB left out (the server stops there)")
    out.append(
        f"JSONL: {human_bytes(stats.jsonl_bytes_kept)} kept, "
        f"{human_bytes(stats.jsonl_bytes_dropped)} left out"
    )
    out.append(
        f"files: {stats.files_kept:,} kept ({human_bytes(stats.file_bytes_kept)}), "
        f"{stats.files_dropped:,} left out ({human_bytes(stats.file_bytes_dropped)}): no kept "
        "line refers to them"
    )
    if stats.files_missing:
        out.append(f"  {stats.files_missing:,} reference(s) to files the input does not have")
    if result.written is not None:
        written = result.written
        out.append(
            f"wrote {written.path} ({human_bytes(written.size)}, sha256 {written.sha256}); "
            f"manifest {result.manifest}"
        )
    out += _input_lines(result.checks, result.output)
    return printable_text("\n".join(out) + "\n")


# --- split ------------------------------------------------------------------------------------


def import_commands(part: PartInfo, folder: str) -> dict[str, str]:
    """The mmctl commands that import one part (reference §1.2, §1.5)."""
    path = str(Path(folder) / part.file)
    return {
        "upload": f"mmctl import upload {path}",
        "process": f"mmctl import process <upload-id>_{part.file}",
        "local": f"mmctl --local import process --bypass-upload {Path(path).resolve()}",
    }


IMPORT_STEPS = (
    "Import the parts in order, each only after the previous import job succeeded: "
    "`mmctl import upload PART` stores it as `<upload-id>_PART` (`mmctl import list available` "
    "shows the name), `mmctl import process <upload-id>_PART` starts the job, "
    "`mmctl import job show JOB_ID` tells when it is done. On the server itself (v9.5+), "
    "`mmctl --local import process --bypass-upload /path/PART` skips the upload."
)


@dataclass(slots=True)
class SplitResult:
    """What `split_archive` wrote. `to_dict` is the CLI's JSON; the manifest has the same."""

    source: str
    folder: str
    max_bytes: int | None
    by: str | None
    stats: SplitStats
    manifest: str | None = None
    checks: list[InputCheck] = field(default_factory=list)

    @property
    def over_limit(self) -> list[PartInfo]:
        return [p for p in self.stats.parts if p.over_limit]

    def manifest_document(self) -> dict[str, Any]:
        stats = self.stats
        parts = []
        for part in stats.parts:
            entry = part.to_dict()
            entry["commands"] = import_commands(part, self.folder)
            if part.written is not None:
                entry["members"] = archive_entry(part.written)["members"]
            parts.append(entry)
        return {
            "source": Path(self.source).name,
            "max_bytes": self.max_bytes,
            "by": self.by,
            "parts": parts,
            "import": IMPORT_STEPS,
            "lines_read": stats.lines_read,
            "left_out": {
                "too_long_lines": stats.too_long,
                "files": {"count": stats.files_left_out, "bytes": stats.file_bytes_left_out},
                "files_why": "no line refers to them",
            },
            "input_check": [c.to_dict() for c in self.checks],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "split",
            "folder": self.folder,
            "manifest": self.manifest,
            **self.manifest_document(),
        }


_TYPES_SHOWN = 8  # line types named per part in the text (the manifest has every one)


def _line_counts(part: PartInfo) -> str:
    """``total (type count, ...)`` of one part, in export order, the first few types named."""
    counts = by_export_order(part.lines)
    named = [f"{kind} {count:,}" for kind, count in counts.items()]
    if len(named) > _TYPES_SHOWN:
        named[_TYPES_SHOWN:] = [f"{len(named) - _TYPES_SHOWN} more types"]
    return f"{sum(counts.values()):,} ({', '.join(named)})"


def render_split(result: SplitResult) -> str:
    stats = result.stats
    limit = f"at most {result.max_bytes:,} bytes" if result.max_bytes else "no size limit"
    by = f", one group per {result.by}" if result.by else ""
    out = [f"split {result.source} → {result.folder}: {len(stats.parts)} part(s), {limit}{by}"]
    for part in stats.parts:
        written = part.written
        size = f"{written.size:,} bytes ({human_bytes(written.size)})" if written else "?"
        group = f"  [{part.group}]" if part.group else ""
        out.append(f"  {part.number:>3}. {part.file}  {size}{group}")
        if written is not None:
            out.append(f"       sha256 {written.sha256}")
        out.append(f"       lines: {_line_counts(part)}")
        out.append(f"       files: {part.files:,} ({human_bytes(part.file_bytes)})")
        if part.over_limit:
            out.append(f"       over the limit: {part.over_limit}")
    if stats.files_left_out:
        out.append(
            f"files left out: {stats.files_left_out:,} ({human_bytes(stats.file_bytes_left_out)})"
            ": no line refers to them"
        )
    if stats.too_long:
        out.append(f"lines over 16 MiB left out: {stats.too_long:,} (the server stops there)")
    out.append(f"manifest: {result.manifest}")
    out.append("import in this order, each after the previous job succeeded:")
    for part in stats.parts:
        commands = import_commands(part, result.folder)
        out.append(f"  {commands['upload']}")
        out.append(f"  {commands['process']}    # name from `mmctl import list available`")
    out.append("  (on the server, v9.5+: mmctl --local import process --bypass-upload PART)")
    out += _input_lines(result.checks, None)
    return printable_text("\n".join(out) + "\n")


# --- merge ------------------------------------------------------------------------------------


@dataclass(slots=True)
class MergeResult:
    """What `merge_archives` wrote. `to_dict` is the CLI's JSON."""

    sources: list[str]
    output: str
    stats: MergeStats
    written: WrittenArchive
    manifest: str | None = None
    checks: list[InputCheck] = field(default_factory=list)

    def manifest_document(self) -> dict[str, Any]:
        return {
            "sources": [Path(s).name for s in self.sources],
            **self.stats.to_dict(),
            "archive": archive_entry(self.written),
            "input_check": [c.to_dict() for c in self.checks],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "merge",
            "output": self.output,
            "manifest": self.manifest,
            **self.manifest_document(),
        }


def render_merge(result: MergeResult) -> str:
    stats = result.stats
    out = [f"merge {', '.join(result.sources)} → {result.output}"]
    out.append(f"  {'lines':<16}{'written':>10}{'merged':>10}{'duplicates':>12}")
    for kind in EXPORT_ORDER:
        count, merged = stats.written[kind], stats.merged[kind]
        duplicates = stats.duplicates[kind]
        if count or merged or duplicates:
            row = f"  {kind:<16}{count:>10,}{merged or '':>10}{duplicates or '':>12}"
            out.append(row.rstrip())
    if stats.unjudged:
        out.append(f"  {stats.unjudged:,} line(s) that cannot be judged, kept at the end")
    if stats.versions_dropped:
        out.append(f"  one version line kept, {stats.versions_dropped} dropped")
    out.append(
        f"files: {stats.files:,} ({human_bytes(stats.file_bytes)}), {stats.files_merged:,} "
        f"present in several inputs, {stats.files_left_out:,} left out (no line refers to them)"
    )
    conflicts = sum(stats.conflicts.values())
    if conflicts:
        kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(stats.conflicts.items()) if n)
        out.append(f"conflicts: {kinds} — the later input's version is kept:")
        out += [f"  {i.member}:{i.line or '-'}: {i.message}" for i in stats.issues[:10]]
    written = result.written
    out.append(
        f"wrote {written.path} ({human_bytes(written.size)}, sha256 {written.sha256}); "
        f"manifest {result.manifest}"
    )
    out += _input_lines(result.checks, result.output)
    return printable_text("\n".join(out) + "\n")


@dataclass(slots=True)
class RedactResult:
    """What `redact_archive` wrote. `to_dict` is the CLI's JSON; it names no original value
    (only the output's and the mapping's paths), so it can travel with the archive."""

    output: str
    attachments: Attachments
    key_given: bool
    stats: RedactStats
    written: WrittenArchive
    manifest: str | None = None
    mapping: str | None = None

    def manifest_document(self) -> dict[str, Any]:
        return {
            "attachments": self.attachments,
            "key": "given" if self.key_given else "random, stored nowhere",
            **self.stats.to_dict(),
            "kept_verbatim": list(KEPT_VERBATIM),
            "archive": archive_entry(self.written),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "redact",
            "output": self.output,
            "manifest": self.manifest,
            "mapping": self.mapping,
            **self.manifest_document(),
        }


def render_redact(result: RedactResult) -> str:
    stats = result.stats
    out = [f"redact → {result.output}", f"  {'lines':<16}{'rewritten':>10}"]
    for kind in (*EXPORT_ORDER, "?"):
        if stats.lines[kind]:
            out.append(f"  {kind:<16}{stats.lines[kind]:>10,}")
    if stats.token_rewritten:
        why = ", ".join(
            f"{stats.token_reasons[r]:,} {r}" for r in TOKEN_REASONS if stats.token_reasons[r]
        )
        out.append(
            f"  {stats.token_rewritten:,} line(s) the walk cannot take ({why}): rewritten token"
            " by token (structure kept)"
        )
    if stats.too_long:
        out.append(f"  {stats.too_long:,} line(s) over the line limit: same-length filler")
    placeholders = ", ".join(f"{n:,} {kind}" for kind, n in sorted(stats.files.items()))
    out.append(
        f"files: {sum(stats.files.values()):,} placeholder(s) ({placeholders or 'none'};"
        f" {human_bytes(stats.file_bytes)}), {stats.files_dropped:,} left out"
        f" ({human_bytes(stats.file_bytes_dropped)}), {stats.references_dropped:,}"
        " attachment reference(s) removed"
    )
    if stats.larger:
        out.append(
            f"  {stats.larger:,} image placeholder(s) larger than the original (the smallest"
            " image of those dimensions is)"
        )
    names = ", ".join(f"{n:,} {kind}" for kind, n in stats.names.items() if n)
    out.append(f"pseudonyms: {names or 'none'}")
    if stats.not_reproduced:
        lost = ", ".join(f"{code} ({n:,})" for code, n in sorted(stats.not_reproduced.items()))
        out.append(
            f"problems not reproduced: {lost} — validate will not report them on the output;"
            " tell support"
        )
    if stats.reproduced:
        kept = ", ".join(f"{code} ({n:,})" for code, n in sorted(stats.reproduced.items()))
        out.append(
            f"damaged data reproduced: {kept} — the placeholders of these files are damaged"
            " alike (validate --verify-files reports them)"
        )
    out.append("kept verbatim:")
    out += [f"  - {item}" for item in KEPT_VERBATIM]
    written = result.written
    out.append(
        f"wrote {written.path} ({human_bytes(written.size)}, sha256 {written.sha256}); "
        f"manifest {result.manifest}"
    )
    if result.mapping:
        out.append(f"reverse mapping: {result.mapping} — keep it; do not send it")
    elif not result.key_given:
        out.append("key: random and stored nowhere — the pseudonyms cannot be traced back")
    return printable_text("\n".join(out) + "\n")
