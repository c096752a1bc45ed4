"""The shape of an archive: what a support engineer says first on seeing it.

Some archives are not broken line by line but built for a different import than the one
being checked: a converter's output with no team line (mmetl writes none: the team is created
in Mattermost first), posts without the users they need, attachments zipped outside data/.
Each `Shape` is one sentence naming the shape and what to do, recognised from the counts, the
file statistics and the root causes — never from messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from archivekit.check.facts import Counts
from archivekit.report.words import plural

if TYPE_CHECKING:
    from archivekit.report.causes import RootCause

# The shapes, by their stable ids (the JSON report's ``shapes[].shape``).
NO_LINES = {"team": "no-team-lines", "channel": "no-channel-lines", "user": "no-user-lines"}
USERS_IN_NO_TEAM = "users-in-no-team"
FILES_OUTSIDE_DATA = "files-outside-data"
FILES_NOT_INCLUDED = "files-not-included"
USERS_LEFT_OUT = "users-left-out"
SHAPES = {
    NO_LINES["team"]: "no team line, but team references: a converter's output (mmetl)",
    NO_LINES["channel"]: "no channel line, but channel references",
    NO_LINES["user"]: "no user or bot line, but user references",
    USERS_IN_NO_TEAM: "teams defined, but no user joins one",
    FILES_OUTSIDE_DATA: "attachments missing from data/ while files sit outside it",
    FILES_NOT_INCLUDED: "attachments referenced, but no file under data/ at all",
    USERS_LEFT_OUT: "users defined, but others referenced and defined nowhere: left out",
}
# From this many users referenced but defined nowhere, users were left out (one is a typo).
LEFT_OUT_USERS = 2


class Shape(NamedTuple):
    """A recognised shape: a stable id and the sentence to say; when it explains a problem,
    the `code` of that problem and the `reason` in a few words (the text report says it in
    the problem's line rather than apart). A named tuple: a frozen dataclass would cost
    start-up a millisecond."""

    shape: str
    message: str
    code: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, str | None]:
        return {
            "shape": self.shape,
            "message": self.message,
            "code": self.code,
            "reason": self.reason,
        }


def _keys(causes: list[RootCause], code: str) -> list[str]:
    """The targets of reference causes of `code` (their lowercased keys), in order."""
    keys = []
    for cause in causes:
        for part in cause.leaves():
            key = dict(part.values).get("key")
            if part.code == code and isinstance(key, str):
                keys.append(key)
    return keys


def _written(causes: list[RootCause], code: str) -> tuple[list[str], bool]:
    """The targets of reference causes of `code` as the lines write them, and whether some
    references write them in a case the server does not find."""
    written, miscased = [], False
    for cause in causes:
        for part in cause.leaves():
            key = dict(part.values).get("key")
            if part.code == code and isinstance(key, str):
                written.append(next((n.name for n in part.names if n.name != key), key))
                miscased = miscased or part.repair is not None
    return written, miscased


def _listed(names: list[str], most: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def _flags(option: str, names: list[str], most: int = 3) -> str:
    flags = " ".join(f"{option} {n}" for n in names[:most])
    return flags + (" …" if len(names) > most else "")


def _undefined(
    kind: str, several: str, counts_of_kind: int, causes: list[RootCause]
) -> Shape | None:
    """No line of a kind, but references to some: made for a server that has them."""
    shape = NO_LINES[kind]
    names = _keys(causes, f"unknown-{kind}")
    if counts_of_kind or not names:
        return None
    option = f"--existing-{kind}"
    code = f"unknown-{kind}"
    if kind == "team":
        reason = "a converter's output"
    else:
        reason = f"the archive has no {kind} line at all: made for a server that has them"
    written, miscased = _written(causes, code)
    lowercase = (
        f" The lines write {'it' if len(names) == 1 else 'them'} in mixed case, which the "
        "server does not find: lowercase the references too, where the archive is made."
        if miscased
        else ""
    )
    if kind == "team" and len(names) == 1:
        return Shape(
            shape,
            f"No team line, and the lines name one team, {written[0]!r}: a converter's output "
            "(mmetl writes no team line; the team is made in Mattermost first). Create the "
            f"team on the target, validate with {option} {names[0]} and import into it."
            + lowercase,
            code,
            reason,
        )
    what = (
        "a converter's output" if kind == "team" else "an archive made for a server that has them"
    )
    return Shape(
        shape,
        f"No {kind} line, but the lines name {plural(len(names), kind, several)} "
        f"({_listed(written)}): {what}. If the target has them, validate with "
        f"{_flags(option, names)}; otherwise import their {kind} lines first." + lowercase,
        code,
        reason,
    )


def archive_shapes(
    counts: Counts,
    causes: list[RootCause],
    *,
    users_in_teams: int,
    files_missing: int,
    files_present: int,
    zipped: bool,
) -> list[Shape]:
    """The shapes an archive has (usually none), most telling first.

    `files_present`: members under data/ (referenced or not); `zipped`: a zip or folder
    (a bare JSONL has no files to look at).
    """
    shapes: list[Shape] = []
    for kind, several, count in (
        ("team", "teams", counts.teams),
        ("channel", "channels", counts.channels),
        ("user", "users", counts.users + counts.bots),
    ):
        shape = _undefined(kind, several, count, causes)
        if shape is not None:
            shapes.append(shape)
    left_out, _ = _written(causes, "unknown-user")
    if counts.users + counts.bots and len(left_out) >= LEFT_OUT_USERS:
        shapes.append(
            Shape(
                USERS_LEFT_OUT,
                f"The archive defines {plural(counts.users + counts.bots, 'user')}, but the "
                f"lines name {plural(len(left_out), 'more user')} it defines nowhere "
                f"({_listed(left_out)}): their user lines were left out — deleted or "
                "deactivated users dropped from the export, or a partial export. Export them "
                "too (a user line with delete_at imports a deactivated user), or pass "
                "--existing-user for those the target has.",
                "unknown-user",
                "left out: deleted users, or a partial export",
            )
        )
    if counts.teams and counts.users and not users_in_teams:
        shapes.append(
            Shape(
                USERS_IN_NO_TEAM,
                f"Teams are defined, but none of the {plural(counts.users, 'user')} joins one "
                "(no user line lists teams): they are imported as accounts in no team, in no "
                "channel. Give each user line its teams and channels (user.teams), or add "
                "the users to the teams after the import.",
            )
        )
    outside = [c for c in causes if c.code == "attachment-outside-data"]
    if zipped and files_missing and outside:
        example = outside[0].names[0][0] if outside[0].names else "?"
        shapes.append(
            Shape(
                FILES_OUTSIDE_DATA,
                f"{plural(files_missing, 'file')} the lines name {_is_are(files_missing)} not "
                f"under data/, and the archive has files outside it (e.g. {example!r}): the "
                "attachments folder was zipped under another name. The server looks only "
                "under data/: name the folder data (with mmetl, --attachments-dir data) and zip "
                "it with the JSONL.",
                "attachment-missing",
                "the attachments folder was zipped under another name than data/",
            )
        )
    elif zipped and files_missing and not files_present:
        shapes.append(
            Shape(
                FILES_NOT_INCLUDED,
                f"The lines name {plural(files_missing, 'file')}, but the archive has no "
                "data/ folder: it was zipped without its attachments. Zip the JSONL together "
                "with the data/ folder (zip -r export.zip import.jsonl data).",
                "attachment-missing",
                "the archive has no data/ folder: it was zipped without its attachments",
            )
        )
    return shapes


def _is_are(n: int) -> str:
    return "is" if n == 1 else "are"
