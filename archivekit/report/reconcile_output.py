"""A reconciliation as text for people, one JSON document, or one CSV file per table."""

from __future__ import annotations

import orjson

from archivekit.report.reconcile import REASON_TEXT, SIDED, Reconciliation, incomplete_places
from archivekit.report.table_output import table_csv, table_text

SHOWN_MISSING = 50
SHOWN_PLACES = 20  # channels and DMs/GMs with something missing, worst first


def reconcile_json(result: Reconciliation) -> bytes:
    return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"


def reconcile_csv(result: Reconciliation) -> dict[str, bytes]:
    """File name -> CSV bytes, one per table (`archivekit.report.reconcile.TABLES`)."""
    return {f"{name}.csv": table_csv(table) for name, table in result.tables.items()}


def _where(item: dict[str, object]) -> str:
    if item["members"]:
        return f"DM/GM {item['members']}"
    if item["channel"]:
        return f"{item['team']}/{item['channel']}"
    if item["team"]:
        return f"team {item['team']}"
    return ""


def _places(result: Reconciliation) -> list[str]:
    """The channels and DMs/GMs with something missing, worst first (capped; counts exact):
    what is missing, then each kind's count on both sides."""
    places = incomplete_places(result)
    if not places:
        return []
    out = ["", f"PLACES WITH SOMETHING MISSING ({len(places):,}, most first)"]
    for place in places[:SHOWN_PLACES]:
        lost = ", ".join(f"{kind} {n:,}" for kind, n in place.missing.items() if n)
        sides = ", ".join(
            f"{stem} {place.row[f'source_{stem}']:,}->{place.row[f'target_{stem}']:,}"
            for stem in SIDED[place.table]
        )
        out.append(f"  {place.place} ({place.status}): missing {lost}; source->target {sides}")
    hidden = len(places) - SHOWN_PLACES
    if hidden > 0:
        out.append(f"  … and {hidden:,} more (--format csv: channels.csv, directs.csv)")
    return out


def reconcile_text(result: Reconciliation) -> bytes:
    notes = result.notes
    out = [
        f"source: {result.source} ({notes.get('source_lines', 0):,} lines)",
        f"target: {result.target} ({notes.get('target_lines', 0):,} lines)",
        "",
        table_text(result.tables["summary"]).decode(),
        f"attachments compared by {result.files_compared_by}"
        + ("" if result.files_compared_by != "name" else " (an archive without files)"),
    ]
    if result.missing_total:
        out += ["", f"MISSING from TARGET ({result.missing_total:,})"]
        for missing in result.missing[:SHOWN_MISSING]:
            item = missing.to_dict()
            words = [f"  line {missing.line}", missing.kind, _where(item)]
            if missing.user:
                words.append(f"user {missing.user}")
            if missing.detail:
                words.append(missing.detail)
            out.append("  ".join(w for w in words if w))
        hidden = result.missing_total - min(len(result.missing), SHOWN_MISSING)
        if hidden > 0:
            out.append(f"  … and {hidden:,} more (--format json or csv lists up to --max-items)")
    out += _places(result)
    if result.expected:
        out += ["", "NOT EXPORTED, NOT LOST (what exports leave out)"]
        for reason, counts in sorted(result.expected.items()):
            what = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items()))
            out.append(f"  {reason}: {what} — {REASON_TEXT[reason]}")
    if result.changes:
        out += ["", f"USERS CHANGED ({len(result.changes):,})"]
        for change in result.changes:
            out.append(
                f"  {change.user} (line {change.line}): {change.field} "
                f"{change.source!s} -> {change.target!s}"
            )
    extra = sum(counts["extra"] for counts in result.summary.values())
    out.append("")
    if result.ok:
        out.append(
            f"result:  OK — everything from SOURCE is in TARGET ({extra:,} extra item(s) "
            "that only TARGET has: the destination's own data)"
        )
    else:
        out.append(
            f"result:  MISSING — {result.missing_total:,} item(s) from SOURCE are not in TARGET"
        )
    return ("\n".join(out) + "\n").encode("utf-8")
