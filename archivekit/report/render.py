"""Turn reports into text for people, or JSON / JSON Lines for machines. No I/O here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from archivekit.check.causes import cause_key
from archivekit.check.limits import FIXED_LIMITS
from archivekit.issues import CODES, DROPS_DATA, FAILS_IMPORT, Issue, Severity
from archivekit.report.causes import RootCause, plural
from archivekit.report.model import Report

if TYPE_CHECKING:
    from archivekit.report.inventory import Inspection


def _json(document: Any) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def report_json(report: Report) -> str:
    return _json(report.to_dict())


def report_jsonl(report: Report) -> str:
    """One issue per line (``"type": "issue"``), then one ``"type": "cause"`` line per root
    cause, then one ``"type": "summary"`` line (the JSON document without the two lists)."""
    out = [orjson.dumps({"type": "issue", **i.to_dict()}).decode() for i in report.issues]
    out += [orjson.dumps({"type": "cause", **c.to_dict()}).decode() for c in report.causes]
    summary = {k: v for k, v in report.to_dict().items() if k not in ("issues", "causes")}
    out.append(orjson.dumps({"type": "summary", **summary}).decode())
    return "\n".join(out) + "\n"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"  # pragma: no cover


# --- the text report: root causes first, then their lines ---------------------------------------

# Problems named in the summary at the top (the first screen); the rest follow below it.
CAUSES_AT_TOP = 10
# Lines shown per problem without --verbose.
ISSUES_PER_CAUSE = 3

_EFFECT_WORDS = {FAILS_IMPORT: "stops the import", DROPS_DATA: "loses data"}


def _tag(cause: RootCause) -> str:
    if cause.severity is Severity.ERROR:
        return _EFFECT_WORDS.get(cause.effect or "", "error")
    return "warning"


def _sentence(text: str) -> str:
    """The text as a sentence: a full stop unless it ends with one."""
    return text if text.endswith((".", "…")) else text + "."


def _summary(report: Report) -> str:
    verdict = "VALID" if report.valid else "INVALID"
    if not report.causes:
        return f"summary: {verdict} — no problems found"
    counts = f"{report.errors:,} error(s), {report.warnings:,} warning(s)"
    first = report.causes[0]
    if first.severity is Severity.ERROR:
        advice = f"fix 1 first: it {_EFFECT_WORDS.get(first.effect or '', 'is an error')}"
    else:
        advice = "nothing stops the import"
    return f"summary: {verdict} — {plural(len(report.causes), 'problem')} ({counts}); {advice}"


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
    return f"    {_where(issue)}: {issue.message}{server}"


def issues_by_cause(report: Report) -> list[list[Issue]]:
    """The kept issues of each root cause, in report order."""
    index = {cause.key: n for n, cause in enumerate(report.causes) if cause.key is not None}
    others = {cause.code: n for n, cause in enumerate(report.causes) if cause.key is None}
    groups: list[list[Issue]] = [[] for _ in report.causes]
    for issue in report.issues:
        n = index.get(cause_key(issue), others.get(issue.code))
        if n is not None:
            groups[n].append(issue)
    return groups


def _details(report: Report, verbose: bool) -> list[str]:
    shown = "every kept line" if verbose else f"the first {ISSUES_PER_CAUSE} lines"
    out = [f"the problems in detail ({shown} of each; --format json has all kept issues):"]
    for n, (cause, issues) in enumerate(
        zip(report.causes, issues_by_cause(report), strict=True), 1
    ):
        info = CODES.get(cause.code)
        title = f" — {info.title}" if info else ""
        severity = "error" if cause.severity is Severity.ERROR else "warning"
        out.append(f"  {n}. {cause.code}{title} ({plural(cause.count, severity)})")
        if cause.note:
            out.append(f"    note: {_sentence(cause.note)}")
        listed = issues if verbose else issues[:ISSUES_PER_CAUSE]
        out.extend(_issue_line(issue) for issue in listed)
        hidden = cause.count - len(listed)
        if hidden > 0:
            why = "not kept: --max-issues" if verbose else "--verbose lists them"
            out.append(f"    … and {hidden:,} more ({why})")
    return out


def report_text(report: Report, *, verbose: bool = False) -> str:
    """The report for people: a summary naming every problem (root cause) with its fix, in
    the order to fix them, then each problem's lines, counts, files and limits."""
    out = [
        f"archive: {report.archive} ({report.jsonl}, {plural(report.lines, 'line')})",
        _summary(report),
    ]
    for n, shape in enumerate(report.shapes):
        out.append(("shape:   " if n == 0 else "         ") + shape.message)
    if report.causes:
        out.append("")
        for n, cause in enumerate(report.causes[:CAUSES_AT_TOP], 1):
            out.append(f"  {n}. [{_tag(cause)}] {cause.cause} — fix: {_sentence(cause.fix)}")
        if len(report.causes) > CAUSES_AT_TOP:
            more = len(report.causes) - CAUSES_AT_TOP
            out.append(f"  … and {plural(more, 'more problem')} (below)")
        out.append("")
        out.extend(_details(report, verbose))
    out.append("")
    counts = report.counts.to_dict()
    out.append("counts:  " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()))
    stats = report.attachments
    out.append(
        f"files:   {stats.referenced:,} referenced ({human_bytes(stats.bytes)}), "
        f"{stats.missing:,} missing, {stats.unreferenced:,} unreferenced "
        f"({human_bytes(stats.unreferenced_bytes)})"
    )
    failing = [name for name, limit in report.limits.items() if not limit.get("ok", True)]
    if report.limits:
        source = "given target" if report.target_explicit else "default server settings"
        state = f"{len(failing)} not met" if failing else "all met"
        out.append(f"limits:  {state} ({source})")
        for name in failing:
            limit = report.limits[name]
            # A limit no setting changes is not "configured": it allows so much.
            word = "allows" if name in FIXED_LIMITS else "configured"
            out.append(
                f"  {limit.get('setting', name)}: {word} {limit.get('configured')}, "
                f"needed {limit.get('needed')}"
            )
    if report.upload_seconds is not None:
        out.append(f"upload:  about {report.upload_seconds:,.0f} s at the assumed bandwidth")
    if report.what_to_change:
        out.append("")
        out.append("what to change on the target before the import:")
        out.extend(f"  {command}" for command in report.what_to_change)
        if report.revert:
            out.append("and afterwards, to revert:")
            out.extend(f"  {command}" for command in report.revert)
    out.append("")
    if report.truncated:
        out.append(f"(issue list truncated at {len(report.issues):,}; counts are exact)")
    verdict = "VALID" if report.valid else "INVALID"
    out.append(
        f"result:  {verdict} — {report.errors:,} error(s), {report.warnings:,} warning(s)"
        + ("" if report.valid else "; the import would fail or lose data")
    )
    return "\n".join(out) + "\n"


def _date(ms: int | None) -> str:
    if ms is None:
        return "-"
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return str(ms)


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
            f"{ch.attachments:>7,}  {_date(ch.first_post_at)} … {_date(ch.last_post_at)}"
        )
    out.append("")
    out.append(
        f"direct: {result.counts.direct_channels:,} channels "
        f"({result.group_channels:,} group), {result.counts.direct_posts:,} posts"
    )
    return "\n".join(out) + "\n"
