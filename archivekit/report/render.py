"""Turn reports into text for people, or JSON / JSON Lines for machines. No I/O here."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from archivekit.issues import CODES, Issue, Severity
from archivekit.report.model import Report

if TYPE_CHECKING:
    from archivekit.report.inventory import Inspection

ISSUES_PER_CODE = 20


def _json(document: Any) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def report_json(report: Report) -> str:
    return _json(report.to_dict())


def report_jsonl(report: Report) -> str:
    """One issue per line (``"type": "issue"``), then one ``"type": "summary"`` line."""
    out = [orjson.dumps({"type": "issue", **i.to_dict()}).decode() for i in report.issues]
    summary = {k: v for k, v in report.to_dict().items() if k != "issues"}
    out.append(orjson.dumps({"type": "summary", **summary}).decode())
    return "\n".join(out) + "\n"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"  # pragma: no cover


def _where(issue: Issue) -> str:
    parts = []
    if issue.line is not None:
        parts.append(f"line {issue.line}")
    elif issue.member:
        parts.append(issue.member)
    if issue.field:
        parts.append(issue.field)
    return "  ".join(parts) or "archive"


def _issue_lines(issues: list[Issue], counts: dict[str, int]) -> list[str]:
    by_code: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        by_code[issue.code].append(issue)
    lines: list[str] = []
    for code, group in by_code.items():
        info = CODES.get(code)
        title = f" — {info.title}" if info else ""
        lines.append(f"  {code} ({counts.get(code, len(group)):,}){title}")
        for issue in group[:ISSUES_PER_CODE]:
            server = f" [{issue.server_error_id}]" if issue.server_error_id else ""
            lines.append(f"    {_where(issue)}: {issue.message}{server}")
        hidden = counts.get(code, len(group)) - min(len(group), ISSUES_PER_CODE)
        if hidden > 0:
            lines.append(f"    … and {hidden:,} more (use --format json for all)")
    return lines


def report_text(report: Report) -> str:
    out = [f"archive: {report.archive}", f"jsonl:   {report.jsonl} ({report.lines:,} lines)", ""]
    for severity, label in ((Severity.ERROR, "ERRORS"), (Severity.WARNING, "WARNINGS")):
        issues = [i for i in report.issues if i.severity is severity]
        total = report.errors if severity is Severity.ERROR else report.warnings
        if total:
            out.append(f"{label} ({total:,})")
            out.extend(_issue_lines(issues, report.issue_counts))
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
            out.append(
                f"  {limit.get('setting', name)}: configured {limit.get('configured')}, "
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
