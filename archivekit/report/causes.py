"""Root causes in words: what each problem is, where it is, and how to fix it.

`archivekit.check.causes` groups the issues of a run by cause as they stream; this module
turns the groups into `RootCause`s — a short sentence that names the things ("team 'myteam' is
referenced by 48 lines and defined by none"), where they are ("channels 2–9, users 10–24,
posts 25–56"), the fix, the usual reason where one is known — and orders them the way to work
through them: what stops the import first, then what loses data, then the rest; within each,
the cause that affects the most lines first.

One problem is one fix, however many names it involves:

- references of one kind and code with the same fix are one problem listing the names
  ("12 usernames are referenced in mixed case: 'Alice' (lines 7, 31, …), …"): a *family*,
  whose `parts` are the causes of each name;
- two effects of one cause are one problem: a group conversation of more than 8 users (its
  direct channel line skipped, its direct posts stopping the import), and a failed attachment
  with the reply attachments the server drops after it. Their `parts` are the effects.

The text report, the JSON report (`causes`) and the HTML report (`archivekit report`) show these
same problems. Pure data and words; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from archivekit.check.causes import (
    MAX_CAUSES,
    REFERENCE_CODES,
    Cause,
    CauseKey,
    CauseTally,
    Named,
    Other,
)
from archivekit.check.files import DROPPED_FILE_CODE, MISSING_FILE_CODES
from archivekit.check.rules.context import MAX_POST_SIZE, MAX_POST_SIZE_SOURCE
from archivekit.check.rules.direct import GROUP_MAX_MEMBERS, GROUP_MIN_MEMBERS
from archivekit.check.rules.user import MISSING_EMAIL_NOTE
from archivekit.gosem.paths import DATA_PREFIX
from archivekit.gosem.spec import field_pattern
from archivekit.issues import (
    CODES,
    DROPS_DATA,
    FAILS_IMPORT,
    LOWERCASE_REPAIR,
    OPT_IN_OPTIONS,
    Scalar,
    Severity,
    opt_in_repair_for,
    repair_for,
)
from archivekit.report.words import plural

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
# Names a problem's sentence shows (the details list every name the tally kept).
NAMES_SHOWN = 2
# Failed attachments after which the server drops the line's reply attachments.
_FAILED_FILE_CODES = MISSING_FILE_CODES | {"attachment-invalid-path", "attachment-path-empty"}
# Server error ids of conversations with more members than a group message holds.
_TOO_MANY_MEMBERS = "members_too_many.error"


@dataclass(frozen=True, slots=True)
class RootCause:
    """One problem of the archive: its issues, where they are, and the fix.

    `cause` names the problem and the things it is about; `where` says which lines, from
    `lines`: the runs of lines by line type, in order of appearance ("" for lines of no
    known type); lines after `lines_cut` are not listed (the runs are capped). The `count`
    is exact, and so is `line_count`, the distinct lines (a line two parts of a problem share
    counts once), unless the runs of a part are capped: then it is a lower bound
    (`distinct_lines`). `names` are the first things it names (users,
    teams, files) with their line. `repair` names the mechanical repair when there is one;
    `fixed_by` is set when that repair is one `archivekit fix` makes by default and it removes
    every issue of the problem (`archivekit.issues.repair_for`; the text report says so in
    the problem's details); else `opt_in` names the opt-in repair that does
    (`archivekit.issues.opt_in_repair_for`; `fix_option` its option). `parts`: the
    causes this problem is made of (one per name of a family, or one per effect), each with
    its `label`; none for a single cause.
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
    names: tuple[Named, ...]
    note: str | None = None
    repair: str | None = None
    fixed_by: str | None = None  # the default `archivekit fix` repair that removes them all
    opt_in: str | None = None  # else the opt-in repair that does (`fix_option`: its option)
    server_error_id: str | None = None
    values: tuple[tuple[str, Scalar], ...] = ()
    key: CauseKey | None = None  # None: issues beyond the cause cap, counted per code
    where: str = ""
    parts: tuple[RootCause, ...] = ()
    label: str = ""

    @property
    def first_line(self) -> int | None:
        starts = [runs[0][0] for runs in self.lines.values() if runs]
        return min(starts) if starts else None

    @property
    def fix_option(self) -> str | None:
        """The `archivekit fix` option that makes the `opt_in` repair."""
        return OPT_IN_OPTIONS[self.opt_in] if self.opt_in else None

    def leaves(self) -> tuple[RootCause, ...]:
        """The single causes this problem is made of (itself when it has no parts)."""
        return self.parts or (self,)

    def to_dict(self) -> dict[str, object]:
        document: dict[str, object] = {
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
            "where": self.where,
            "fix": self.fix,
            "note": self.note,
            "repair": self.repair,
            "fixed_by": self.fixed_by,
            "opt_in_repair": self.opt_in,
            "fix_option": self.fix_option,
            "names": [{"name": n.name, "line": n.line, "found": n.found} for n in self.names],
            "server_error_id": self.server_error_id,
            "values": dict(self.values),
        }
        if self.label:
            document["label"] = self.label
        document["parts"] = [part.to_dict() for part in self.parts]
        return document


# --- words -------------------------------------------------------------------------------------


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


def _named(named: Named) -> str:
    """ "'jdoe' (line 22)", "'jdoe' (line 22: 'bad@')" (with the value found, if any)."""
    where = f"line {named.line:,}" if named.line else ""
    value = named.found if named.found not in (None, "", named.name) else None
    if value is not None:
        shown = repr(value) if isinstance(value, str) else f"{value:,}"
        where = f"{where}: {shown}" if where else shown
    return f"{named.name!r}" + (f" ({where})" if where else "")


def _names_text(names: Iterable[Named], total: int, most: int = NAMES_SHOWN) -> str:
    """ "'jdoe' (line 22), 'bob' (line 30) and 3 more" (`total`: how many there are)."""
    listed = list(names)
    shown = [_named(n) for n in listed[:most]]
    more = total - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def _where(cause: Cause, runs: dict[str, Runs], cut: int | None) -> str:
    """The lines of a cause, or the names of an archive-level one."""
    if runs:
        return ranges_text(runs, cut)
    return ", ".join(repr(n.name) for n in cause.names) or "the archive"


# --- one explanation per kind of cause ----------------------------------------------------------


@dataclass(slots=True)
class _Words:
    cause: str
    fix: str
    note: str | None = None
    repair: str | None = None


Explain = Callable[[Cause, str], _Words]
Limits = dict[str, dict[str, Any]]
_CASE_NOTE = (
    "the server stores names in lowercase and looks these references up exactly as written, "
    "so it finds none of them (mmctl import validate compares names as written and misses "
    "this)"
)
_WHERE_MADE = "at the source (the export or the converter)"


def _lines_word(cause: Cause) -> str:
    """'line 16', or '48 lines (2–56)': how many lines, from the first to the last."""
    n = cause.lines or cause.count
    first, last = cause.first_line, cause.last_line
    if n == 1 and first is not None:
        return f"line {first:,}"
    span = f" ({first:,}–{last:,})" if first is not None and last is not None else ""
    return plural(n, "line") + span


def _target(cause: Cause) -> tuple[str, str]:
    values = cause.first.values
    return str(values.get("kind")), str(values.get("key"))


def _written(cause: Cause, key: str) -> list[str]:
    """The ways the references write `key` that are not `key` itself."""
    return [repr(n.name) for n in cause.names if n.name != key]


def _as_written(cause: Cause, key: str) -> str:
    """The target as the archive writes it: 'Acme-Corp' rather than its key 'acme-corp'."""
    written = _written(cause, key)
    if not written:
        return repr(key)
    return written[0] + (f" (also {', '.join(written[1:])})" if len(written) > 1 else "")


def _lowercase_too(cause: Cause, key: str, lead: str = "either way") -> str:
    """The second fix of references the server looks up exactly that are not in lowercase
    (`lead`: "either way" after a choice of fixes, "also" after a single one)."""
    if not cause.miscased:
        return ""
    n = cause.miscased
    return (
        f"; {lead}, {plural(n, 'reference')} {'writes' if n == 1 else 'write'} it "
        f"{', '.join(_written(cause, key)) or repr(key)}, which the server looks up exactly: "
        f"make {'it' if n == 1 else 'them'} say {key!r} {_WHERE_MADE}"
    )


def _unknown(cause: Cause, where: str) -> _Words:
    kind, key = _target(cause)
    first = cause.first_line
    before = f" before line {first:,}" if first else ""
    words = _Words(
        f"{kind} {_as_written(cause, key)} is referenced by {_lines_word(cause)} and defined "
        "by none",
        f"pass --existing-{kind} {key} if the target has it, or add a {kind} line{before}"
        + _lowercase_too(cause, key),
    )
    if cause.miscased:
        words.note, words.repair = _CASE_NOTE, LOWERCASE_REPAIR
    return words


def _defined_later(cause: Cause, where: str) -> _Words:
    kind, key = _target(cause)
    defined = cause.defined_line or 0
    first = cause.first_line or 0
    words = _Words(
        f"{kind} {_as_written(cause, key)} is used by {_lines_word(cause)} before line "
        f"{defined:,} defines it",
        f"move line {defined:,} (the {kind} line) before line {first:,}: the server imports "
        "the lines in file order" + _lowercase_too(cause, key, "also"),
    )
    if cause.miscased:
        words.note, words.repair = _CASE_NOTE, LOWERCASE_REPAIR
    return words


def _reference_case(cause: Cause, where: str) -> _Words:
    kind, key = _target(cause)
    written = ", ".join(_written(cause, key)) or repr(key)
    return _Words(
        f"{kind} {key!r} is written {written} by {_lines_word(cause)}, which the server looks "
        "up exactly and does not find",
        f"lowercase these references {_WHERE_MADE}",
        note=_CASE_NOTE,
        repair=LOWERCASE_REPAIR,
    )


def _missing_email(cause: Cause, where: str) -> _Words:
    n = cause.lines or cause.count
    return _Words(
        f"{plural(n, 'user')} {_has(n)} no email: {_names_text(cause.names, n)}",
        "give each an email",
        note=MISSING_EMAIL_NOTE,
    )


def _message_length(cause: Cause, where: str) -> _Words:
    n = cause.count
    limit = cause.first.values.get("limit")
    if n == 1 and cause.largest is not None:
        what = f"1 message has {cause.largest:,} characters, over {MAX_POST_SIZE} ({limit:,})"
    else:
        longest = f"; the longest has {cause.largest:,}" if cause.largest is not None else ""
        what = f"{plural(n, 'message')} are over {MAX_POST_SIZE} ({limit:,} characters{longest})"
    return _Words(
        what,
        f"split {'it' if n == 1 else 'each'} into several posts",
        note=f"{MAX_POST_SIZE} is not a config setting: {MAX_POST_SIZE_SOURCE}; current mmetl "
        "versions split over-long Slack messages when converting",
    )


def _limit(cause: Cause, where: str, needed: Scalar = None) -> _Words:
    """A target limit: what it is, what the archive needs (from the limits table), where."""
    values = cause.first.values
    setting, limit, unit = values.get("setting"), values.get("limit"), values.get("unit") or ""
    is_text = f"{limit:,} {unit}".strip() if isinstance(limit, int) else f"{limit}"
    if isinstance(needed, bool):
        needs, fix = "", f"set {setting} to {str(needed).lower()} on the target for the import"
    elif isinstance(needed, int):
        needs = f", and the archive needs {needed:,}"
        fix = f"raise {setting} to at least {needed:,} on the target for the import"
    else:
        needs, fix = "", f"raise {setting} on the target for the import, or make the archive fit"
    return _Words(
        f"{setting} is {is_text}{needs}", fix + " (the commands are at the end of the report)"
    )


def _missing_files(cause: Cause, where: str) -> _Words:
    n = cause.count
    folder = cause.folder
    under = f"all are under {folder}" if n > 1 and folder and folder != DATA_PREFIX else None
    if cause.key.code == "attachment-data-prefix":
        held = cause.present
        if not held:
            files = ""
        elif held == n:
            files = f" ({'its file is' if n == 1 else 'their files are'} in the archive: only "
            files += f"the path{'' if n == 1 else 's'} {_is(n)} wrong)"
        else:
            files = f" ({held:,} of the files are in the archive: only their paths are wrong)"
        return _Words(
            f"{plural(n, 'attachment path')} {'starts' if n == 1 else 'start'} with data/, so "
            f"the server looks under data/data/ and does not find the file{files}",
            "remove the data/ prefix from these JSONL paths (they are relative to data/)",
            note=under,
        )
    return _Words(
        f"{plural(n, 'attachment')} {_is(n)} not in the archive",
        "add each file at data/<its JSONL path>, or remove the reference",
        note=under,
    )


def _dropped_files(cause: Cause, where: str) -> _Words:
    n = cause.count
    if not cause.present:
        held = ""
    elif cause.present == n:
        held = f" ({'its file is' if n == 1 else 'their files are'} in the archive)"
    else:
        held = f" ({cause.present:,} of the files are in the archive)"
    return _Words(
        f"{plural(n, 'reply attachment')} after a failed attachment of the same line "
        f"{_is(n)} dropped{held}",
        "fix the failed attachment of each line: the server then imports these too",
        note="once one attachment of a line fails, the server stops resolving the attachments "
        "of the replies that follow (server behaviour)",
    )


def _unreferenced(cause: Cause, where: str) -> _Words:
    n = cause.count
    names = f": {_names_text(cause.names, n, 2)}" if cause.names else ""
    return _Words(
        f"{plural(n, 'file')} under data/ {_is(n)} referenced by no line{names}",
        "none needed (the server ignores them); remove them to make the archive smaller, or "
        "check the lines that should use them (a misspelt path?)",
    )


def _group_size(cause: Cause, where: str) -> _Words:
    n = cause.count
    channels = cause.key.code == "direct-channel-skipped"
    what = (
        f"{plural(n, 'direct channel line')} of more than {GROUP_MAX_MEMBERS} users "
        f"{_is(n)} skipped"
        if channels
        else f"{plural(n, 'direct post')} in a conversation of more than {GROUP_MAX_MEMBERS} "
        f"users {'stops' if n == 1 else 'stop'} the import"
    )
    return _Words(what, _GROUP_FIX, note=_GROUP_NOTE)


_GROUP_FIX = "make each a private channel, or leave members out"
# The fix of a code missing from `FIXES` (a test holds every catalogued code to have one).
NO_FIX = "see the details"
_ONE_LINE_PER_NAME = (
    "keep one line per name (the later line updates the earlier one; `archivekit fix --dedupe` "
    "merges them as the server applies them)"
)
_GROUP_NOTE = (
    f"a Mattermost group message holds {GROUP_MIN_MEMBERS} to {GROUP_MAX_MEMBERS} users, a "
    "Slack group DM up to 9; the server skips a direct_channel line with more, and stops the "
    "import at a direct post with more. Leaving members out means in the direct_channel line "
    "and in the posts' channel_members"
)


def _uppercase_name(cause: Cause, where: str) -> _Words:
    """Team or channel names with uppercase letters: a warning (the verdict depends on the
    target's version)."""
    kind = field_pattern(cause.first.field).split(".", 1)[0]
    n = cause.lines or cause.count
    return _Words(
        f"{plural(n, kind + ' name')} {_has(n)} uppercase letters: "
        f"{_names_text(cause.names, n)}; current servers save {'it' if n == 1 else 'them'} "
        f"lowercased, older ones refuse {'it' if n == 1 else 'them'}",
        f"write {'it' if n == 1 else 'them'} in lowercase {_WHERE_MADE}, with every reference",
        note="servers since mattermost/mattermost#28906 (late 2024) lowercase team and channel "
        "names; older ones stop the import at such a name",
    )


def _not_zipped(cause: Cause, where: str) -> _Words:
    return _Words(
        "the archive is a bare JSONL, not a zip: the import job opens only zip archives, and "
        "no attachment could be checked",
        "zip it with its data folder: zip -r import.zip import.jsonl data",
    )


# The fix of every catalogued code, for all the lines of a cause whatever each line's own
# message adds: `_generic` uses it for the causes no explainer above takes, and the explainers'
# codes have one too (a cause of theirs without the values they need). A test holds it to the
# catalogue: no cause goes without a real fix.
_REZIP = "zip it again with deflate, e.g. zip -r -Z deflate new.zip import.jsonl data"
FIXES = {
    # the archive
    "not-a-zip": "give the zip the export wrote (or the JSONL itself); this file is neither",
    "zip-truncated": "copy or download the archive again: it ends early",
    "zip-corrupt": "copy or download the archive again, or zip it again from the export",
    "zip-multidisk": "join the parts into one zip (zip -s 0 split.zip --out whole.zip)",
    "input-unreadable": "check the file's permissions and the disk, or copy the archive again",
    "stream-unreadable": "save the archive to a file first (curl -o export.zip URL) and give "
    "that file",
    "jsonl-missing": "put the JSONL at the zip's root (zip -r import.zip import.jsonl data)",
    "jsonl-choice-differs": "keep one .jsonl in the archive (servers before v11.5 take the "
    "first anywhere)",
    "jsonl-not-zipped": "zip it with its data folder: zip -r import.zip import.jsonl data",
    "jsonl-extra": "remove the other .jsonl files from the archive's root",
    "jsonl-path-traversal": "rename the JSONL without '..' and zip it again",
    "jsonl-unsupported-compression": _REZIP,
    "member-encrypted": "zip the files again without a password",
    "member-unsupported-compression": _REZIP,
    "member-duplicate-name": "keep one member of each name (the server reads the last)",
    "member-unsafe-name": "zip the files again with relative names under data/",
    "member-backslash-name": "zip the files again with a tool that writes '/' between folders",
    "member-nfd-name": "write these file names in NFC (composed) form, as the JSONL paths are "
    "(servers before v11.7 do not find them)",
    "member-symlink": "zip the file a link points to instead of the link",
    "member-crc-mismatch": "zip the files again from the export: their data is damaged",
    "member-too-large": "if the file is genuine, raise --max-member-size; otherwise do not "
    "import this archive",
    "member-ratio": "if the file is genuine, raise --max-ratio; otherwise do not import this "
    "archive",
    "archive-too-large": "if the archive is genuine, raise --max-total-size; otherwise do not "
    "import it",
    # framing and decoding
    "line-too-long": "split or shorten {these} (the server reads at most 16 MiB a line)",
    "line-empty": "remove the empty lines",
    "json-decode": "repair or remove {these} {where_made}; the details give Go's error",
    "json-type": "give {field} the JSON type the server expects on {these}, {where_made}; the "
    "details give Go's error",
    "bom": "save the JSONL as UTF-8 without a byte order mark",
    "invalid-utf8": "write {these} as UTF-8 {where_made}: the server replaces the bytes with "
    "U+FFFD",
    "nul-character": "remove the NUL characters (\\u0000) from {field} on {these}",
    # envelope and version
    "version-missing": 'make line 1 a version line: {{"type": "version", "version": 1}}',
    "version-unsupported": 'make line 1 say {{"type": "version", "version": 1}}',
    "version-not-first": "move the first version line to line 1 and remove any other: "
    "the version line belongs on line 1 only",
    "unknown-line-type": "remove {these}, or correct the type",
    "payload-missing": "give {these} the object {its} type names",
    "empty-archive": "export again: the JSONL has no line to import",
    # record rules
    "invalid-field": "correct {field} on {these} (the details give the server's rule{each})",
    "missing-field": "add {field} on {these}",
    "direct-channel-skipped": "give each conversation 2 to 8 distinct members, or remove the line",
    "system-emoji-name": "rename the custom emoji (a system emoji has the name)",
    "apply-invalid": "correct {field} on {these} (the details give the rule the server applies "
    "when it saves {it})",
    "reply-before-parent": "correct the replies' create_at (the server moves it up to the post's)",
    "too-many-files": "keep at most 10 files on each post (split the others into more posts)",
    # references
    "unknown-team": "define the team on an earlier line, or pass --existing-team",
    "unknown-channel": "define the channel on an earlier line, or pass --existing-channel",
    "unknown-user": "define the user on an earlier line, or pass --existing-user",
    "unknown-scheme": "define the scheme on an earlier line, or pass --existing-scheme",
    "reference-case": "lowercase these references {where_made}",
    "defined-later": "move each definition before its first use: the server imports the lines "
    "in file order",
    "duplicate-team": _ONE_LINE_PER_NAME,
    "duplicate-channel": _ONE_LINE_PER_NAME,
    "duplicate-user": _ONE_LINE_PER_NAME,
    "duplicate-emoji": _ONE_LINE_PER_NAME,
    "duplicate-scheme": _ONE_LINE_PER_NAME,
    "duplicate-role": _ONE_LINE_PER_NAME,
    "duplicate-post": "remove the repeated posts, or give each a create_at of its own",
    "duplicate-email": "give each user an email of their own",
    # files
    "attachment-missing": "add each file at data/<its JSONL path>, or remove the reference",
    "attachment-invalid-path": "write each path relative to data/, without '..'",
    "attachment-path-empty": "remove these attachment entries, or give each its file's path",
    "attachment-data-prefix": "remove the data/ prefix from these JSONL paths (they are "
    "relative to data/)",
    "attachment-dropped": "fix the failed attachment of each line: the server then imports "
    "these too",
    "attachment-unreferenced": "none needed (the server ignores them); remove them to make the "
    "archive smaller",
    "attachment-outside-data": "move the files under data/ (the JSONL paths are relative to it)",
    "profile-image-missing": "add each image at data/<its path>, or remove {field} from {these}",
    "emoji-image-missing": "add each image at data/<its path>, or remove {these}",
    "emoji-image-too-large": "shrink each image under 512 KiB",
    "emoji-image-not-image": "convert each image to GIF, JPEG, PNG or WebP",
    # target limits and the rest
    "limit-exceeded": "raise the setting on the target for the import, or make the archive fit",
    "config-invalid": "correct the --target-config file (the details say what is wrong), or "
    "leave it out to check against a stock server",
    "issues-truncated": "rerun with --max-issues 0 to keep every issue",
    "merge-conflict": "check which input is right: the merge keeps the later input's",
}
# Catalogue titles that speak of a failure, for a code a warning also uses.
_WARNING_TITLES = {"apply-invalid": "Refused by some server versions"}


def _title(cause: Cause) -> str:
    code = cause.key.code
    if cause.severity is Severity.WARNING and code in _WARNING_TITLES:
        return _WARNING_TITLES[code]
    info = CODES.get(code)
    return info.title if info else code


# Codes whose problem is said as what its lines have ("3 users have an email the server
# refuses"); the others by the code's title.
_FIELD_WORDS = {
    "invalid-field": "the server refuses",
    "apply-invalid": "the server refuses",
    "system-emoji-name": "the server refuses",
    "direct-channel-skipped": "the server refuses",
    "too-many-files": "the server refuses",
    "json-type": "of the wrong JSON type",
    "missing-field": "",
}


def _generic(cause: Cause, where: str) -> _Words:
    """Any other cause: what the lines have (the field the server refuses, or the code's
    title), the things it names with the value found on each, and the code's fix for all of
    them: never one issue's message, which speaks of that issue only (the details list each)."""
    code = cause.key.code
    field = field_pattern(cause.first.field)
    n = cause.lines or cause.count
    names = f": {_names_text(cause.names, n)}" if cause.names else ""
    kind, _, attribute = field.partition(".")
    attribute = attribute.removesuffix("[]")
    label = _LABELS.get(kind) if kind and attribute else None
    these = "this line" if n == 1 else "these lines"
    fix = FIXES.get(code, NO_FIX).format(
        field=field or "the field",
        these=these,
        each="" if n == 1 else " for each",
        it="it" if n == 1 else "each",
        its="its" if n == 1 else "their",
        where_made=_WHERE_MADE,
    )
    what = _FIELD_WORDS.get(code)
    if cause.severity is Severity.ERROR and what is not None and label is not None and cause.lines:
        article = "" if attribute.endswith("s") else _article(attribute) + " "
        if code == "missing-field":
            return _Words(f"{plural(n, *label)} {_has(n)} no {attribute}{names}", fix)
        return _Words(f"{plural(n, *label)} {_has(n)} {article}{attribute} {what}{names}", fix)
    about = f" ({field})" if field else ""
    if cause.lines == 1 and names:  # the name says its line
        return _Words(f"{_title(cause)}{about}{names}", fix)
    if cause.lines:
        return _Words(f"{_title(cause)}{about} on {_lines_word(cause)}{names}", fix)
    if cause.names:  # archive-level: the members it names
        members = "" if cause.count == 1 else f" in {plural(cause.count, 'member')}"
        return _Words(f"{_title(cause)}{members}: {_names_text(cause.names, n)}", fix)
    return _Words(f"{_title(cause)}{about}", fix)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


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
    if code == "limit-exceeded" and "setting" in values:
        return _limit
    if code in MISSING_FILE_CODES:
        return _missing_files
    if code == DROPPED_FILE_CODE:
        return _dropped_files
    if code == "attachment-unreferenced":
        return _unreferenced
    if server_id.endswith(_TOO_MANY_MEMBERS):
        return _group_size
    if code == "apply-invalid" and cause.severity is Severity.WARNING and "key" in values:
        return _uppercase_name
    if code == "jsonl-not-zipped":
        return _not_zipped
    return _generic


# --- single causes -------------------------------------------------------------------------------


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
    fixed_by = repair_for(cause.first, cause.key.code)  # the code's own repair (the catalogue's)
    opt_in = opt_in_repair_for(cause.first, cause.key.code)
    repair = words.repair or fixed_by
    shared: dict[str, Scalar] = {
        k: cause.first.values[k] for k in _SHARED if k in cause.first.values
    }
    for name, value in (
        ("present", cause.present or None),
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
        repair=repair,
        fixed_by=fixed_by,
        opt_in=opt_in,
        server_error_id=cause.first.server_error_id,
        values=tuple(shared.items()),
        key=cause.key,
        where=where,
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
        where="lines not recorded",
        label=f"{plural(n, 'more')} (not recorded)",
    )


# --- problems of several causes -----------------------------------------------------------------


def _merged_lines(parts: Iterable[RootCause]) -> tuple[dict[str, Runs], int | None]:
    """The runs of several causes as one (by line type, in order of appearance)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    cuts = []
    for part in parts:
        for kind, runs in part.lines.items():
            spans.setdefault(kind, []).extend(runs)
        if part.lines_cut is not None:
            cuts.append(part.lines_cut)
    cut = min(cuts) if cuts else None
    merged: dict[str, Runs] = {}
    for kind, runs in spans.items():
        out: Runs = []
        for start, end in sorted(runs):
            if cut is not None and start > cut:
                continue
            if out and start <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        if out:
            merged[kind] = out
    return merged, cut


def _kind_of(parts: Iterable[RootCause]) -> Scalar:
    """The kind of target of a problem's parts (`ANY_KIND` for several; None for none)."""
    kinds = {dict(p.values).get("kind") for p in parts} - {None}
    return kinds.pop() if len(kinds) == 1 else (ANY_KIND if kinds else None)


def _spans(causes: Iterable[RootCause]) -> Runs:
    """The lines of causes as sorted, disjoint runs, whatever their line types."""
    out: Runs = []
    for start, end in sorted(r for c in causes for runs in c.lines.values() for r in runs):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _count(runs: Runs) -> int:
    return sum(end - start + 1 for start, end in runs)


def distinct_lines(causes: Iterable[RootCause]) -> tuple[int, bool]:
    """How many distinct lines several causes are on — a line two causes share counts once —
    and whether that is exact. It is exact when each cause's runs hold all its lines (no
    cap reached: the usual case); otherwise it is a lower bound: the distinct lines recorded,
    or the lines of the largest cause, whichever is more (which lines past a cap the causes
    share is not kept: memory stays bounded)."""
    listed = list(causes)
    exact = all(c.key is not None and _count(_spans([c])) == c.line_count for c in listed)
    recorded = _count(_spans(listed))
    if exact:
        return recorded, True
    return max([recorded, *(c.line_count for c in listed)]), False


def _problem(
    parts: list[RootCause], words: _Words, key: CauseKey, *, root_first: bool = False
) -> RootCause:
    """One problem made of several causes, in the order to fix them (`root_first`: the first
    part is the cause of the others, whatever their order)."""
    parts = (
        [parts[0], *sorted(parts[1:], key=order_key)]
        if root_first
        else sorted(parts, key=order_key)
    )
    lines, cut = _merged_lines(parts)
    first = parts[0]
    ids = {p.server_error_id for p in parts}
    fixed = {p.fixed_by for p in parts}  # repaired by fix only when every part is
    opt_in = {p.opt_in for p in parts}  # ...with one option
    return RootCause(
        cause=words.cause,
        fix=words.fix,
        code=first.code,
        severity=first.severity,
        effect=first.effect,
        count=sum(p.count for p in parts),
        line_count=distinct_lines(parts)[0],
        lines=lines,
        lines_cut=cut,
        names=tuple(n for p in parts for n in p.names[:1]),
        note=words.note,
        repair=words.repair or next((p.repair for p in parts if p.repair), None),
        fixed_by=fixed.pop() if len(fixed) == 1 else None,
        opt_in=opt_in.pop() if len(opt_in) == 1 else None,
        server_error_id=first.server_error_id if len(ids) == 1 else None,
        values=first.values if len(parts) == 1 else (("kind", _kind_of(parts)),),
        key=key,
        where=ranges_text(lines, cut) if lines else first.where,
        parts=tuple(parts),
    )


# The kind of a family of references to targets of several kinds (names in the wrong case).
ANY_KIND = "*"
# How a family's sentence names its kind of target: (one, several).
_TARGETS = {
    "team": ("team", "teams"),
    "channel": ("channel", "channels"),
    "user": ("user", "users"),
    "scheme": ("scheme", "schemes"),
}
_NAMES = {
    "team": ("team name", "team names"),
    "channel": ("channel name", "channel names"),
    "user": ("username", "usernames"),
    "scheme": ("scheme name", "scheme names"),
}


def _written_name(part: RootCause, *, with_kind: bool = False) -> str:
    """A family part by name: its target as the archive writes it (`with_kind`: "team 'Eng'",
    for a family of several kinds)."""
    values = dict(part.values)
    key = str(values.get("key", ""))
    name = repr(next((n.name for n in part.names if n.name != key), key))
    return f"{values.get('kind')} {name}" if with_kind else name


def _span_text(parts: list[RootCause]) -> str:
    """'line 16', or '69 lines (29–75)': the distinct lines of a problem's parts, from the first
    to the last recorded ('…' past a cap)."""
    n, exact = distinct_lines(parts)
    runs = _spans(parts)
    if not runs:
        return plural(n, "line")
    first, last = runs[0][0], runs[-1][1]
    if n == 1 and exact:
        return f"line {first:,}"
    cut = any(p.lines_cut is not None for p in parts) or not exact
    to = "…" if cut else f"{last:,}"
    return f"{'' if exact else 'at least '}{plural(n, 'line')} ({first:,}–{to})"


def _family_words(code: str, kind: str, parts: list[RootCause], extra: list[RootCause]) -> _Words:
    """One sentence and one fix for references of one code and kind to several targets
    (`extra`: references to targets past the cause cap, counted per code; their lines are not
    recorded)."""
    beyond = sum(p.count for p in extra)
    named = [p for p in parts if p.key is not None]
    total = len(named)
    mixed = len({dict(p.values).get("kind") for p in named}) > 1
    listed = ", ".join(_written_name(p, with_kind=mixed) for p in named[:NAMES_SHOWN])
    more = total - min(total, NAMES_SHOWN)
    listed += f" and {more:,} more" if more > 0 else ""
    if beyond:
        listed += (
            f", and {plural(beyond, 'reference')} to further ones (past {MAX_CAUSES:,} "
            "problems, the names are not kept)"
        )
    one, several = _TARGETS.get(kind, (kind, kind + "s"))
    by = f" by {_span_text(parts + extra)}"
    miscased = any(p.repair for p in named)
    case = f"; lowercase the references that are not {_WHERE_MADE}" if miscased else ""
    if code == "reference-case":
        one, several = (
            ("name", "names") if mixed else _NAMES.get(kind, (kind + " name", kind + " names"))
        )
        return _Words(
            f"{plural(total, one, several)} {_is(total)} referenced in mixed case{by}: {listed}",
            f"lowercase them {_WHERE_MADE}",
            note=f"{_CASE_NOTE}; with several names, the tool that wrote the archive kept the "
            "source's case",
            repair=LOWERCASE_REPAIR,
        )
    if code == "defined-later":
        return _Words(
            f"{plural(total, one, several)} {_is(total)} used{by} before the line that "
            f"defines {'it' if total == 1 else 'them'}: {listed}",
            "move each definition before its first use: the server imports the lines in file "
            "order" + case,
            note=_CASE_NOTE if miscased else None,
        )
    return _Words(
        f"{plural(total, one, several)} {_is(total)} referenced{by} but defined nowhere: {listed}",
        f"add their {kind} lines, or pass --existing-{kind} for each the target has" + case,
        note=_CASE_NOTE if miscased else None,
    )


def _families(causes: list[RootCause]) -> list[RootCause]:
    """References of one code and kind to several targets: one problem listing them. Issues
    beyond the cause cap (counted per code) join the family of their code."""
    families: dict[tuple[str, str], list[RootCause]] = {}
    rest: list[RootCause] = []
    for cause in causes:
        kind = dict(cause.values).get("kind")
        if cause.code in REFERENCE_CODES and cause.key is not None and isinstance(kind, str):
            # Names in the wrong case have one fix whatever they name: one problem.
            kind = ANY_KIND if cause.code == "reference-case" else kind
            families.setdefault((cause.code, kind), []).append(cause)
        else:
            rest.append(cause)
    beyond: dict[tuple[str, str], list[RootCause]] = {}
    out: list[RootCause] = []
    for cause in rest:
        home = next((f for f in families if f[0] == cause.code and cause.key is None), None)
        if home is None:
            out.append(cause)
        else:
            beyond.setdefault(home, []).append(cause)
    for (code, kind), parts in families.items():
        extra = beyond.get((code, kind), [])
        if len(parts) == 1 and not extra:
            out.append(parts[0])
            continue
        mixed = len({dict(p.values).get("kind") for p in parts}) > 1
        labelled = sorted(
            (replace(p, label=_written_name(p, with_kind=mixed)) for p in parts), key=order_key
        )
        if kind == ANY_KIND:
            kinds = {dict(p.values).get("kind") for p in parts}
            kind = str(next(iter(kinds))) if len(kinds) == 1 else ANY_KIND
        words = _family_words(code, kind, labelled, extra)
        out.append(_problem(labelled + extra, words, CauseKey(code, f"{kind}:*")))
    return out


def _linked(causes: list[RootCause]) -> list[RootCause]:
    """Two effects of one cause as one problem: conversations of too many users (the
    direct channel line skipped, the direct posts stopping the import); a failed attachment
    and the reply attachments the server drops after it."""
    out = list(causes)
    groups = [c for c in out if (c.server_error_id or "").endswith(_TOO_MANY_MEMBERS)]
    if len(groups) > 1:
        out = [c for c in out if c not in groups]
        channels = sum(c.count for c in groups if c.code == "direct-channel-skipped")
        posts = sum(c.count for c in groups) - channels
        words = _Words(
            f"conversations of more than {GROUP_MAX_MEMBERS} users: {plural(posts, 'direct post')} "
            f"{'stops' if posts == 1 else 'stop'} the import, "
            f"{plural(channels, 'direct channel line')} {_is(channels)} skipped",
            _GROUP_FIX,
            note=_GROUP_NOTE,
        )
        labelled = [replace(c, label=c.cause) for c in groups]
        out.append(_problem(labelled, words, groups[0].key or CauseKey(groups[0].code, "")))
    dropped = next((c for c in out if c.code == DROPPED_FILE_CODE and c.key is not None), None)
    failed = [c for c in out if c.code in _FAILED_FILE_CODES and c.key is not None]
    if dropped is not None and failed:
        first = dropped.first_line
        cause = next((c for c in failed if _covers(c, first)), failed[0])
        out = [c for c in out if c is not dropped and c is not cause]
        n = dropped.count
        words = _Words(
            f"{cause.cause}, and the server drops {plural(n, 'reply attachment')} after "
            f"{'it' if cause.count == 1 else 'them'}",
            cause.fix,
            note="; ".join(n for n in (cause.note, dropped.note) if n),
        )
        parts = [replace(cause, label=cause.cause), replace(dropped, label=dropped.cause)]
        out.append(_problem(parts, words, cause.key or CauseKey(cause.code, ""), root_first=True))
    return out


def _covers(cause: RootCause, line: int | None) -> bool:
    """Whether `line` is one of the cause's lines."""
    return line is not None and any(
        start <= line <= end for runs in cause.lines.values() for start, end in runs
    )


# --- ordering -------------------------------------------------------------------------------------

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
    """Every problem of the tally in words, in the order to fix them. `limits`: the limits
    table of the report (what the archive needs of each setting)."""
    causes = [_root(c, limits or {}) for c in tally if c.count > 0]
    if isinstance(tally, CauseTally):
        causes += [_other(other, n) for other, n in tally.others.items() if n > 0]
    return sorted(_linked(_families(causes)), key=order_key)
