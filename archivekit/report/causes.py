"""Root causes in words: what each problem is, where it is, and how to fix it.

`archivekit.check.causes` groups the issues of a run by cause as they stream; this module
turns each group into a `RootCause` — one sentence that names the thing and its lines
("team 'myteam' is referenced by 48 lines (channels 2–9, users 10–24, posts 25–56) and defined
by none"), the fix, the usual reason where one is known — and orders them the way to work
through them: what stops the import first, then what loses data, then the rest; within each,
the cause that affects the most lines first. The text, JSON and HTML reports all show these
same causes. Pure data and words; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from archivekit.check.causes import MAX_CAUSES, Cause, CauseKey, CauseTally, Other, field_pattern
from archivekit.check.files import REPLY_AFTER_FAILURE
from archivekit.check.references import LOWERCASE_REPAIR
from archivekit.check.rules.context import MAX_POST_SIZE, MAX_POST_SIZE_SOURCE
from archivekit.check.rules.direct import GROUP_MAX_MEMBERS, GROUP_MIN_MEMBERS
from archivekit.check.rules.user import MISSING_EMAIL_NOTE
from archivekit.issues import CODES, DROPS_DATA, FAILS_IMPORT, Scalar, Severity

Runs = list[tuple[int, int]]

# Line types as a report names them: (one, several).
_LABELS: dict[str, tuple[str, str]] = {
    "role": ("role", "roles"),
    "scheme": ("scheme", "schemes"),
    "team": ("team", "teams"),
    "channel": ("channel", "channels"),
    "user": ("user", "users"),
    "bot": ("bot", "bots"),
    "post": ("post", "posts"),
    "direct_channel": ("direct channel", "direct channels"),
    "direct_post": ("direct post", "direct posts"),
    "emoji": ("emoji", "emoji"),
    "": ("line", "lines"),
}
# What the issues of a cause share, shown as the cause's `values`.
_SHARED = ("kind", "key", "setting", "limit", "unit", "rule")


@dataclass(frozen=True, slots=True)
class RootCause:
    """One problem of the archive: its issues, where they are, and the fix.

    `lines` are the runs of lines by line type, in order of appearance ("" for lines of no
    known type); lines after `lines_cut` are not listed (the runs are capped), the `count`
    and `line_count` are exact. `names` are the first things it names (users, teams, files)
    with their line. `repair` names the mechanical repair when there is one.
    """

    cause: str
    fix: str
    code: str
    severity: Severity
    effect: str | None
    count: int
    line_count: int
    lines: dict[str, Runs]
    lines_cut: int | None
    names: tuple[tuple[str, int | None], ...]
    note: str | None = None
    repair: str | None = None
    server_error_id: str | None = None
    values: tuple[tuple[str, Scalar], ...] = ()
    key: CauseKey | None = None  # None: issues beyond the cause cap, counted per code

    @property
    def first_line(self) -> int | None:
        starts = [runs[0][0] for runs in self.lines.values() if runs]
        return min(starts) if starts else None

    def to_dict(self) -> dict[str, object]:
        return {
            "cause": self.cause,
            "code": self.code,
            "severity": self.severity.value,
            "effect": self.effect,
            "count": self.count,
            "line_count": self.line_count,
            "lines": {
                kind or "other": [list(run) for run in runs] for kind, runs in self.lines.items()
            },
            "lines_cut": self.lines_cut,
            "fix": self.fix,
            "note": self.note,
            "repair": self.repair,
            "names": [{"name": name, "line": line} for name, line in self.names],
            "server_error_id": self.server_error_id,
            "values": dict(self.values),
        }


# --- words -------------------------------------------------------------------------------------


def plural(n: int, one: str, several: str | None = None) -> str:
    """'1 line', '2 lines' (`several` for irregular plurals)."""
    return f"{n:,} {one if n == 1 else several or one + 's'}"


def _is(n: int) -> str:
    return "is" if n == 1 else "are"


def _has(n: int) -> str:
    return "has" if n == 1 else "have"


def ranges_text(lines: dict[str, Runs], cut: int | None) -> str:
    """'channels 2–9, users 10–24, posts 25–56' (with '…' when lines after `cut` exist)."""
    parts = []
    for kind, runs in lines.items():
        one, several = _LABELS.get(kind, (kind, kind))
        single = len(runs) == 1 and runs[0][0] == runs[0][1] and cut is None
        spans = ", ".join(f"{a:,}" if a == b else f"{a:,}–{b:,}" for a, b in runs)
        parts.append(f"{one if single else several} {spans}")
    text = ", ".join(parts)
    return f"{text}, … (more after line {cut:,})" if cut is not None else text


def _names_text(cause: Cause) -> str:
    """ "'jdoe' (line 22), 'bob' (line 30)", and '…' when there are more."""
    shown = [f"{name!r}" + (f" (line {line:,})" if line else "") for name, line in cause.names]
    more = ", …" if cause.count > len(cause.names) else ""
    return ", ".join(shown) + more


def _where(cause: Cause, runs: dict[str, Runs], cut: int | None) -> str:
    """The lines of a cause, or the names of an archive-level one."""
    if runs:
        return ranges_text(runs, cut)
    return _names_text(cause) or "the archive"


# --- one explanation per kind of cause ----------------------------------------------------------


@dataclass(slots=True)
class _Words:
    cause: str
    fix: str
    note: str | None = None
    repair: str | None = None


Explain = Callable[[Cause, str], _Words]
Limits = dict[str, dict[str, Any]]


def _lines_word(cause: Cause) -> str:
    return plural(cause.lines or cause.count, "line")


def _written(cause: Cause, key: str) -> list[str]:
    """The ways the references write `key` that are not `key` itself."""
    return [repr(name) for name, _ in cause.names if name != key]


def _with_case_note(words: _Words, cause: Cause, key: str, when: str) -> _Words:
    """References looked up exactly that write the name in another case: they need
    lowercasing too."""
    written = _written(cause, key)
    if cause.miscased and written:
        words.note = (
            f"{plural(cause.miscased, 'reference')} "
            f"{'writes' if cause.miscased == 1 else 'write'} it {', '.join(written)} where the "
            f"server looks the name up exactly as written, so {when} they must say {key!r} "
            f"(the repair '{LOWERCASE_REPAIR}')"
        )
        words.repair = LOWERCASE_REPAIR
    return words


def _unknown(cause: Cause, where: str) -> _Words:
    kind, key = str(cause.first.values.get("kind")), str(cause.first.values.get("key"))
    first = cause.first_line
    words = _Words(
        f"{kind} {key!r} is referenced by {_lines_word(cause)} ({where}) and defined by none",
        f"if the target server already has it, pass --existing-{kind} {key}; otherwise add a "
        f"{kind} line for it" + (f" before line {first:,}" if first else ""),
    )
    return _with_case_note(words, cause, key, "even once it exists")


def _defined_later(cause: Cause, where: str) -> _Words:
    kind, key = str(cause.first.values.get("kind")), str(cause.first.values.get("key"))
    defined = cause.defined_line
    first = cause.first_line
    words = _Words(
        f"{kind} {key!r} is used by {_lines_word(cause)} ({where}) before line "
        f"{defined or 0:,} defines it",
        f"move line {defined or 0:,} (the {kind} line) before line {first or 0:,}: the server "
        "imports the lines in file order, so nothing exists before the line that defines it",
    )
    return _with_case_note(words, cause, key, "once it is defined before them")


def _reference_case(cause: Cause, where: str) -> _Words:
    kind, key = str(cause.first.values.get("kind")), str(cause.first.values.get("key"))
    written = ", ".join(_written(cause, key)) or repr(key)
    return _Words(
        f"{kind} {key!r} is written {written} by {_lines_word(cause)} ({where}); the server "
        f"stores it as {key!r} and looks these references up exactly, so it finds none",
        f"make these references say {key!r}: lowercase them where the archive is made (the "
        f"source export or the converter) — the repair '{LOWERCASE_REPAIR}'",
        repair=LOWERCASE_REPAIR,
    )


def _missing_email(cause: Cause, where: str) -> _Words:
    n = cause.lines or cause.count
    return _Words(
        f"{plural(n, 'user')} {_has(n)} no email: {_names_text(cause)}",
        "give each of them an email",
        note=MISSING_EMAIL_NOTE,
    )


def _message_length(cause: Cause, where: str) -> _Words:
    n = cause.count
    limit = cause.first.values.get("limit")
    longest = f"; the longest has {cause.largest:,}" if cause.largest is not None else ""
    return _Words(
        f"{plural(n, 'message')} {_is(n)} longer than {MAX_POST_SIZE} ({limit:,} characters"
        f"{longest}): {where}",
        "split each into several posts, or shorten it",
        note=f"{MAX_POST_SIZE} is not a config setting: {MAX_POST_SIZE_SOURCE}; current mmetl "
        "versions split over-long Slack messages when converting",
    )


def _limit(cause: Cause, where: str, needed: Scalar = None) -> _Words:
    """A target limit: what it is, what the archive needs (from the limits table), where."""
    values = cause.first.values
    setting, limit, unit = values.get("setting"), values.get("limit"), values.get("unit") or ""
    is_text = f"{limit:,} {unit}".strip() if isinstance(limit, int) else f"{limit}"
    if isinstance(needed, int) and not isinstance(needed, bool):
        needs = f", and the archive needs {needed:,}"
        fix = (
            f"raise {setting} to at least {needed:,} on the target for the import (the "
            "commands are below)"
        )
    else:
        needs, fix = "", cause.first.message
    if "Settings." not in str(setting):
        fix = cause.first.message
    return _Words(f"{setting} is {is_text}{needs}: {where}", fix)


def _missing_files(cause: Cause, where: str) -> _Words:
    n = cause.count
    if cause.first.values.get("rule") == REPLY_AFTER_FAILURE:
        return _Words(
            f"{plural(n, 'reply attachment')} {_is(n)} dropped because an earlier attachment "
            f"of the same line is missing or invalid: {where}",
            "fix that attachment (it is listed at the same line) and the server imports these too",
        )
    folder = cause.folder
    under = f", all under {folder}" if folder and folder != "data/" else ""
    return _Words(
        f"{plural(n, 'attachment')} {_is(n)} not in the archive{under}: {where}",
        "put each file in the zip at data/ followed by its JSONL path (the JSONL names it "
        "relative to data/), or remove the reference",
    )


def _unreferenced(cause: Cause, where: str) -> _Words:
    n = cause.count
    return _Words(
        f"{plural(n, 'file')} under data/ {_is(n)} never read by the server: {where}",
        "nothing stops the import (the server ignores them); remove them to make the archive "
        "smaller, or check the lines that should use them (a misspelt path, or a reply "
        "attachment dropped after a failed one)",
    )


def _group_size(cause: Cause, where: str) -> _Words:
    server_id = cause.first.server_error_id or ""
    if not server_id.endswith("too_many.error"):
        return _generic(cause, where)
    n = cause.count
    if cause.key.code == "direct-channel-skipped":
        return _Words(
            f"{plural(n, 'group conversation')} {_has(n)} more than {GROUP_MAX_MEMBERS} "
            f"members and {_is(n)} skipped: {where}",
            f"a Mattermost group message holds {GROUP_MIN_MEMBERS} to {GROUP_MAX_MEMBERS} "
            "users (a Slack group DM up to 9): make it a private channel with these members, "
            "or leave members out",
        )
    return _Words(
        f"{plural(n, 'direct post')} {_is(n)} in a conversation of more than "
        f"{GROUP_MAX_MEMBERS} users, where the server stops the import: {where}",
        "import the conversation as a private channel and move these posts there, or leave "
        "members out of it (in its direct_channel line and in these posts' channel_members)",
    )


def _generic(cause: Cause, where: str) -> _Words:
    """Any other cause: the code's title, the field, the lines; the first message as the fix
    (every message says how to fix its issue)."""
    info = CODES.get(cause.key.code)
    title = info.title if info else cause.key.code
    field = field_pattern(cause.first.field)
    about = f" ({field})" if field else ""
    if cause.lines:
        return _Words(
            f"{title}{about} on {plural(cause.lines, 'line')}: {where}", cause.first.message
        )
    return _Words(f"{title}{about} ({plural(cause.count, 'issue')}): {where}", cause.first.message)


def _explainer(cause: Cause) -> Explain:
    code = cause.key.code
    values = cause.first.values
    server_id = cause.first.server_error_id or ""
    if code.startswith("unknown-") and "key" in values:
        return _unknown
    if code == "defined-later" and "key" in values:
        return _defined_later
    if code == "reference-case" and "key" in values:
        return _reference_case
    if code == "missing-field" and server_id.endswith(".email_missing.error"):
        return _missing_email
    if values.get("setting") == MAX_POST_SIZE:
        return _message_length
    if code == "limit-exceeded":
        return _limit
    if code == "attachment-missing":
        return _missing_files
    if code == "attachment-unreferenced":
        return _unreferenced
    if server_id.endswith("members_too_many.error"):
        return _group_size
    return _generic


# --- building and ordering -----------------------------------------------------------------------


def _needed(cause: Cause, limits: Limits) -> Scalar:
    """What the archive needs of the cause's setting, from the limits table."""
    setting = cause.first.values.get("setting")
    for row in limits.values():
        if row.get("setting") == setting:
            needed: Scalar = row.get("needed")
            return needed
    return None


def _root(cause: Cause, limits: Limits) -> RootCause:
    runs = {kind: [(a, b) for a, b in r.runs] for kind, r in cause.runs.items()}
    cuts = [r.cut for r in cause.runs.values() if r.cut is not None]
    cut = min(cuts) if cuts else None
    where = _where(cause, runs, cut)
    explain = _explainer(cause)
    if explain is _limit:
        words = _limit(cause, where, _needed(cause, limits))
    else:
        words = explain(cause, where)
    shared: dict[str, Scalar] = {
        k: cause.first.values[k] for k in _SHARED if k in cause.first.values
    }
    for name, value in (
        ("folder", cause.folder),
        ("largest", cause.largest),
        ("defined_line", cause.defined_line),
    ):
        if value is not None and value != "":
            shared[name] = value
    return RootCause(
        cause=words.cause,
        fix=words.fix,
        code=cause.key.code,
        severity=cause.severity,
        effect=cause.effect,
        count=cause.count,
        line_count=cause.lines,
        lines=runs,
        lines_cut=cut,
        names=tuple(cause.names),
        note=words.note,
        repair=words.repair,
        server_error_id=cause.first.server_error_id,
        values=tuple(shared.items()),
        key=cause.key,
    )


def _other(other: Other, n: int) -> RootCause:
    info = CODES.get(other.code)
    return RootCause(
        cause=f"{plural(n, 'more ' + other.code + ' issue')} (not grouped: the archive has more "
        f"than {MAX_CAUSES:,} distinct problems)",
        fix=info.description if info else "see the issues",
        code=other.code,
        severity=other.severity,
        effect=other.effect,
        count=n,
        line_count=0,
        lines={},
        lines_cut=None,
        names=(),
    )


_EFFECT_ORDER = {FAILS_IMPORT: 0, DROPS_DATA: 1}


def order_key(cause: RootCause) -> tuple[int, int, int, int, str]:
    """Errors that stop the import, then those that lose data, other errors, warnings; then
    the most lines affected; then the earliest line."""
    rank = _EFFECT_ORDER.get(cause.effect or "", 2)
    severity = 0 if cause.severity is Severity.ERROR else 1
    first = cause.first_line
    return (severity, rank, -(cause.line_count or cause.count), first or 0, cause.code)


def root_causes(
    tally: CauseTally | Iterable[Cause], limits: Limits | None = None
) -> list[RootCause]:
    """Every cause of the tally in words, in the order to fix them. `limits`: the limits
    table of the report (what the archive needs of each setting)."""
    causes = [_root(c, limits or {}) for c in tally if c.count > 0]
    if isinstance(tally, CauseTally):
        causes += [_other(other, n) for other, n in tally.others.items() if n > 0]
    return sorted(causes, key=order_key)
