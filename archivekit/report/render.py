"""Turn reports into text for people, or JSON / JSON Lines for machines. No I/O here."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, Any

import orjson

from archivekit.check.causes import CauseKey, cause_key
from archivekit.check.limits import FIXED_LIMITS
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Severity
from archivekit.report.model import Report
from archivekit.report.shapes import Shape
from archivekit.report.words import plural

if TYPE_CHECKING:
    from archivekit.report.causes import RootCause
    from archivekit.report.inventory import Inspection

# Control characters (C0 with TAB and LF, DEL, C1) a value may carry into a line of text: raw,
# a NUL cuts a ticket or a log there and an ESC drives the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def escaped(text: str) -> str:
    """One line of text with every control character in it shown as ``\\uXXXX`` (as JSON
    writes it, and as the messages name a NUL)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_bytes(document: Any) -> bytes:
    """The document as indented JSON and a newline, in UTF-8 as orjson writes it: what the CLI
    writes. A report can be large (a thousand root causes naming long names: 120 MB); as a str
    it costs a copy, and two to four bytes a character once one character is not ASCII."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _json(document: Any) -> str:
    return _json_bytes(document).decode()


def report_json_bytes(report: Report) -> bytes:
    return _json_bytes(report.to_dict())


def report_jsonl_bytes(report: Report) -> bytes:
    """One issue per line (``"type": "issue"``), then one ``"type": "cause"`` line per root
    cause, then one ``"type": "summary"`` line (the JSON document without the two lists)."""
    out = [orjson.dumps({"type": "issue", **i.to_dict()}) for i in report.issues]
    out += [orjson.dumps({"type": "cause", **c.to_dict()}) for c in report.causes]
    summary = {k: v for k, v in report.to_dict().items() if k not in ("issues", "causes")}
    out += [orjson.dumps({"type": "summary", **summary}), b""]
    return b"\n".join(out)


def report_json(report: Report) -> str:
    return report_json_bytes(report).decode()


def report_jsonl(report: Report) -> str:
    return report_jsonl_bytes(report).decode()


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"  # pragma: no cover


# --- the text report: root causes first, then their lines ---------------------------------------

# Problems named in the summary at the top (the first screen), in the order to fix them; past
# it, the summary still names the first problem of every other code (a different code is never
# hidden behind the cap) and counts the rest, which follow in the details.
CAUSES_AT_TOP = 10
# Lines shown per problem without --verbose.
ISSUES_PER_CAUSE = 3
# Parts of a problem (names of a family, effects) listed without --verbose.
PARTS_PER_CAUSE = 12
# Columns of the text report when the width is not the terminal's.
WIDTH = 100
_NOT_KEPT = "not kept: rerun with --max-issues 0 to keep them all, --format jsonl for one a line"

# What a problem does, for the summary: (one problem, several problems).
_EFFECT_WORDS = {FAILS_IMPORT: "stops the import", DROPS_DATA: "loses data"}
_DOES: dict[str, tuple[str, str]] = {
    "stops the import": ("stops the import", "stop the import"),
    "loses data": ("loses data", "lose data"),
    "error": ("is an error", "are errors"),
    "warning": ("is a warning", "are warnings"),
}


def _tag(cause: RootCause) -> str:
    if cause.severity is Severity.ERROR:
        return _EFFECT_WORDS.get(cause.effect or "", "error")
    return "warning"


def _sentence(text: str) -> str:
    """The text as a sentence: a full stop unless it ends with one."""
    return text if text.endswith((".", "…")) else text + "."


def _numbers(numbers: list[int]) -> str:
    """'1–3, 5' for [1, 2, 3, 5]."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in spans)


def _summary(report: Report) -> str:
    verdict = "VALID" if report.valid else "INVALID"
    if not report.causes:
        return f"summary: {verdict} — no problems found"
    counts = ", ".join(
        plural(n, word) for n, word in ((report.errors, "error"), (report.warnings, "warning")) if n
    )
    by_tag: dict[str, list[int]] = {}
    for n, cause in enumerate(report.causes, 1):
        by_tag.setdefault(_tag(cause), []).append(n)
    what = ", ".join(
        f"{_numbers(numbers)} {_DOES[tag][0 if len(numbers) == 1 else 1]}"
        for tag, numbers in by_tag.items()
    )
    # Which to fix first, in words: the order puts it first (the tags say why).
    start = "; fix 1 first" if len(report.causes) > 1 else ""
    return f"summary: {verdict} — {plural(len(report.causes), 'problem')} ({counts}): {what}{start}"


def _at_top(causes: list[RootCause]) -> list[int]:
    """The problems the summary names (0-based, in order): the first `CAUSES_AT_TOP`, and the
    first problem of every code not among them."""
    shown = list(range(min(len(causes), CAUSES_AT_TOP)))
    codes = {causes[n].code for n in shown}
    for n in range(CAUSES_AT_TOP, len(causes)):
        if causes[n].code not in codes:
            shown.append(n)
            codes.add(causes[n].code)
    return shown


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        subject = issue.values.get("subject")
        parts.append(f"line {issue.line}" + (f" ({subject})" if subject else ""))
    elif issue.member:
        parts.append(issue.member)
    if issue.field:
        parts.append(issue.field)
    return "  ".join(parts) or "archive"


def _issue_line(issue: Issue) -> str:
    server = f" [{issue.server_error_id}]" if issue.server_error_id else ""
    return f"     {_where(issue)}: {issue.message}{server}"


def issues_by_cause(report: Report) -> list[list[Issue]]:
    """The kept issues of each problem, in report order."""
    index: dict[CauseKey, int] = {}
    others: dict[str, int] = {}
    for n, cause in enumerate(report.causes):
        for part in cause.leaves():
            if part.key is not None:
                index[part.key] = n
            else:
                others.setdefault(part.code, n)
    groups: list[list[Issue]] = [[] for _ in report.causes]
    for issue in report.issues:
        found = index.get(cause_key(issue), others.get(issue.code))
        if found is not None:
            groups[found].append(issue)
    return groups


def _hidden(cause: RootCause, kept: int, listed: int) -> str | None:
    """What '… and N more' says: which of the issues not listed --verbose would list, and
    which were not kept (--max-issues)."""
    more = cause.count - listed
    if more <= 0:
        return None
    listable, not_kept = kept - listed, cause.count - kept
    if not not_kept:
        why = "--verbose lists them"
    elif not listable:
        why = _NOT_KEPT
    else:
        why = f"--verbose lists {listable:,}; {not_kept:,} {_NOT_KEPT}"
    return f"     … and {more:,} more ({why})"


def _explained(report: Report, top: list[int]) -> dict[int, Shape]:
    """The shapes that explain a problem the summary names, by problem (0-based): said in
    that problem's line instead of apart."""
    explained: dict[int, Shape] = {}
    for shape in report.shapes:
        for n in top:
            codes = {part.code for part in report.causes[n].leaves()}
            if shape.code in codes and n not in explained:
                explained[n] = shape
                break
    return explained


def _details(
    report: Report, verbose: bool, summarised: set[int], explained: dict[int, Shape]
) -> list[tuple[str, int]]:
    shown = "every kept line" if verbose else f"the first {ISSUES_PER_CAUSE} lines"
    out = [(f"the problems in detail ({shown} of each; --format json has all kept issues):", 0)]
    for n, (cause, issues) in enumerate(
        zip(report.causes, issues_by_cause(report), strict=True), 1
    ):
        severity = "error" if cause.severity is Severity.ERROR else "warning"
        head = f"  {n}. [{_tag(cause)}] {cause.code}: {plural(cause.count, severity)}"
        out.append((f"{head}" + (f" on {cause.where}" if cause.where else ""), len(f"{n}. ") + 2))
        if n - 1 not in summarised:
            out.append((f"     {cause.cause} — fix: {_sentence(cause.fix)}", 0))
        shape = explained.get(n - 1)
        if shape is not None:
            out.append((f"     shape: {shape.message}", 7))
        if cause.note:
            out.append((f"     note: {_sentence(cause.note)}", 6))
        if cause.fixed_by:
            out.append((f"     repair: `archivekit fix` does this ({cause.fixed_by}).", 8))
        elif cause.opt_in:
            out.append((f"     repair: {opt_in_words(cause)}.", 8))
        parts = cause.parts if verbose else cause.parts[:PARTS_PER_CAUSE]
        for part in parts:
            where = f" on {part.where}" if part.where and part.label != part.where else ""
            severity = "error" if part.severity is Severity.ERROR else "warning"
            out.append((f"     {part.label}: {plural(part.count, severity)}{where}", 4))
        if len(parts) < len(cause.parts):
            out.append((f"     … and {len(cause.parts) - len(parts):,} more (--verbose)", 0))
        listed = issues if verbose else issues[:ISSUES_PER_CAUSE]
        out.extend((_issue_line(issue), 4) for issue in listed)
        hidden = _hidden(cause, len(issues), len(listed))
        if hidden is not None:
            out.append((hidden, 0))
    return out


def opt_in_words(cause: RootCause) -> str:
    """How a problem an opt-in repair removes is repaired, in words."""
    return (
        f"`archivekit fix {cause.fix_option}` does this ({cause.opt_in}; an opt-in repair: it "
        "changes or drops data)"
    )


def _wrapped(lines: list[tuple[str, int]], width: int | None) -> list[str]:
    """Each line wrapped at `width` columns (None: not wrapped), its continuation lines
    indented past the line's own indentation by its hanging indent."""
    out: list[str] = []
    for line, hang in lines:
        text = escaped(line)  # a line's values: one line, no control character
        if width is None or len(text) <= width:
            out.append(text)
            continue
        body = text.lstrip(" ")
        lead = len(text) - len(body)
        out.extend(
            textwrap.wrap(
                body,
                width=width,
                initial_indent=" " * lead,
                subsequent_indent=" " * (lead + hang),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return out


def _prefixed(report: Report) -> str:
    """How many missing files are in the archive, named with a data/ prefix (referenced by a
    wrong path: counted among the referenced files, never as unreferenced)."""
    present = 0
    for cause in report.causes:
        for part in cause.leaves():
            if part.code == "attachment-data-prefix":
                value = dict(part.values).get("present")
                present += value if isinstance(value, int) else 0
    return f" ({present:,} in the archive, named with a data/ prefix)" if present else ""


def report_text(report: Report, *, verbose: bool = False, width: int | None = WIDTH) -> str:
    """The report for people: a summary naming every problem (root cause) with its fix, in
    the order to fix them, then each problem's lines, counts, files and limits. Lines are
    wrapped at `width` columns (None: not at all) with a hanging indent."""
    out: list[tuple[str, int]] = [
        (f"archive: {report.archive} ({report.jsonl}, {plural(report.lines, 'line')})", 9),
        (_summary(report), 9),
    ]
    top = _at_top(report.causes)
    explained = _explained(report, top)
    apart = [shape for shape in report.shapes if shape not in explained.values()]
    for n, shape in enumerate(apart):
        out.append(("shape:   " + shape.message, 9) if n == 0 else (" " * 9 + shape.message, 0))
    if report.causes:
        for n in top:
            cause = report.causes[n]
            number = f"  {n + 1}. "
            why = f" ({explained[n].reason})" if n in explained else ""
            out.append(
                (f"{number}{cause.cause}{why} — fix: {_sentence(cause.fix)}", len(number) - 2)
            )
        hidden = [n + 1 for n in range(len(report.causes)) if n not in set(top)]
        if hidden:
            codes = Counter(report.causes[n - 1].code for n in hidden)
            kinds = ", ".join(f"{k} {code}" for code, k in codes.items())
            out.append(
                (
                    f"  … and {plural(len(hidden), 'more problem')} of the codes above "
                    f"({_numbers(hidden)}: {kinds}), in the details below",
                    4,
                )
            )
        out.append(("", 0))
        out.extend(_details(report, verbose, set(top), explained))
    out.append(("", 0))
    counts = report.counts.to_dict()
    out.append(
        ("counts:  " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()), 9)
    )
    stats = report.attachments
    dropped = (
        f"{stats.dropped:,} dropped by the server (reply attachments after a failed one), "
        if stats.dropped
        else ""
    )
    out.append(
        (
            f"files:   {stats.referenced:,} referenced ({human_bytes(stats.bytes)}), "
            f"{stats.missing:,} missing{_prefixed(report)}, {dropped}"
            f"{stats.unreferenced:,} unreferenced "
            f"({human_bytes(stats.unreferenced_bytes)})",
            9,
        )
    )
    failing = [name for name, limit in report.limits.items() if not limit.get("ok", True)]
    if report.limits:
        source = "given target" if report.target_explicit else "default server settings"
        state = f"{len(failing)} not met" if failing else "all met"
        out.append((f"limits:  {state} ({source})", 9))
        for name in failing:
            limit = report.limits[name]
            # A limit no setting changes is not "configured": it allows so much.
            word = "allows" if name in FIXED_LIMITS else "configured"
            out.append(
                (
                    f"  {limit.get('setting', name)}: {word} {limit.get('configured')}, "
                    f"needed {limit.get('needed')}",
                    4,
                )
            )
    if report.upload_seconds is not None:
        out.append((f"upload:  about {report.upload_seconds:,.0f} s at the assumed bandwidth", 9))
    if report.what_to_change:
        out.append(("", 0))
        out.append(("what to change on the target before the import:", 0))
        out.extend((f"  {command}", 4) for command in report.what_to_change)
        if report.revert:
            out.append(("and afterwards, to revert:", 0))
            out.extend((f"  {command}", 4) for command in report.revert)
    out.append(("", 0))
    if report.truncated:
        out.append((f"(issue list truncated at {len(report.issues):,}; counts are exact)", 1))
    verdict = "VALID" if report.valid else "INVALID"
    out.append(
        (
            f"result:  {verdict} — {report.errors:,} error(s), {report.warnings:,} warning(s)"
            + ("" if report.valid else "; the import would fail or lose data"),
            9,
        )
    )
    return "\n".join(_wrapped(out, width)) + "\n"


def _date(ms: int | None) -> str:
    from archivekit.check import periods  # inspect's dates: validate's report has none

    return periods.date_text(ms) or "-"


def inspection_json(result: Inspection) -> str:
    return _json(result.to_dict())


def inspection_text(result: Inspection) -> str:
    out = [
        f"archive: {result.archive} ({result.kind}, {human_bytes(result.size)})",
        f"jsonl:   {result.jsonl} ({result.lines:,} lines"
        + (f", {result.undecodable:,} undecodable)" if result.undecodable else ")"),
        f"files:   {result.files:,} under data/ ({human_bytes(result.file_bytes)})",
        f"posts:   {_date(result.first_post_at)} … {_date(result.last_post_at)}",
        "counts:  "
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.counts.to_dict().items()),
        "",
        f"{'team':<32} {'members':>8} {'channels':>8} {'posts':>10}",
    ]
    for team in sorted(result.teams.values(), key=lambda t: t.name):
        out.append(f"{team.name:<32} {team.members:>8,} {team.channels:>8,} {team.posts:>10,}")
    out.append("")
    out.append(f"{'channel':<48} {'type':>4} {'posts':>10} {'replies':>9} {'files':>7}  dates")
    for ch in sorted(result.channels.values(), key=lambda c: (c.team, c.name)):
        name = f"{ch.team}/{ch.name}"
        out.append(
            f"{name:<48} {ch.type or '-':>4} {ch.posts:>10,} {ch.replies:>9,} "
            f"{ch.files:>7,}  {_date(ch.first_at)} … {_date(ch.last_at)}"
        )
    out.append("")
    out.append(
        f"direct: {result.counts.direct_channels:,} channels "
        f"({result.group_channels:,} group), {result.counts.direct_posts:,} posts"
    )
    return "\n".join(escaped(line) for line in out) + "\n"
