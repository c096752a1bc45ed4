"""Cross-line state: what earlier lines defined, and the checks of references against it.

Memory is bounded by the number of teams, channels, users, schemes, roles and emoji — never by
posts. Lookups follow the server's case rules (reference §5.1, §7): names are stored lowercase;
`channel.team`, reactions and thread followers are looked up case-insensitively, everything
else exactly, so a mixed-case reference that mmctl accepts fails on the server.

A line can only use what an *earlier block* created (the server finishes each block of
same-typed lines before the next). References never point to a line of the same type, so
"defined on an earlier line" is the same as "defined in an earlier block".
"""

from __future__ import annotations

from typing import Any, NamedTuple

from archivekit.check.facts import Unresolved
from archivekit.check.rules.context import DEFAULT_CHANNELS
from archivekit.gosem.strings import go_lower
from archivekit.issues import LOWERCASE_REPAIR, Issue, Scalar, Values, error, warning

TEAMS_NOT_FOUND = "app.import.get_teams_by_names.some_teams_not_found.error"
USERS_NOT_FOUND = "app.import.get_users_by_username.some_users_not_found.error"
CHANNEL_TEAM_NOT_FOUND = "app.import.import_channel.team_not_found.error"
USER_CHANNEL_NOT_FOUND = "app.import.import_user_channels.channel_not_found.error"
POST_CHANNEL_NOT_FOUND = "app.import.import_post.channel_not_found.error"
REACTION_USER_NOT_FOUND = "app.import.import_post.user_not_found.error"
SCHEME_NOT_FOUND = "app.scheme.get.app_error"
EMAIL_EXISTS = "app.user.save.email_exists.app_error"

BATCH_NOTE = " (the server reports this with line number 0: posts are written in batches)"

# A reference's issue, with what it could not resolve (None: a case error, a wrong scope):
# the engine keeps the pair so that a later definition can turn it into "defined-later".
Reported = tuple[Issue, Unresolved | None]


def _existing_note(kind: str) -> str:
    return f", unless the target server already has it (then pass --existing-{kind})"


def _miscased_note(key: str) -> str:
    return (
        f"and once it exists the reference must say {key!r}: the server stores names in "
        "lowercase and looks this one up exactly as written"
    )


class Existing(NamedTuple):
    """What the target server already has, as declared by the user (like mmctl's ``--team``):
    references to these resolve without a defining line. Names as stored on the server. (A
    named tuple: a frozen dataclass would cost start-up a millisecond.)"""

    teams: frozenset[str] = frozenset()
    channels: frozenset[tuple[str, str]] = frozenset()  # (team, channel)
    users: frozenset[str] = frozenset()
    schemes: frozenset[str] = frozenset()


ON_TARGET = 0  # the "line" of what exists on the target before the import


class Definition:
    """Where a name is defined (`ON_TARGET`: on the target already) and what else its line says
    (scheme scope, user email, ...). A plain class: nothing compares them, and a dataclass costs
    start-up ~0.5 ms."""

    __slots__ = ("extra", "line")

    def __init__(self, line: int, extra: Any = None) -> None:
        self.line = line
        self.extra = extra


def _where(previous: Definition) -> str:
    if previous.line == ON_TARGET:
        return "already exists on the target server (declared as existing)"
    return f"was already defined on line {previous.line}"


# The line types `mmctl import validate` checks for repeated names (compared as written); it
# reports them as errors where the importer updates. It knows no role or bot lines at all.
_MMCTL_DUPLICATES = frozenset({"team", "channel", "user", "emoji", "scheme"})
# What mmctl says of a name the target server already has (its default server check).
_MMCTL_ON_SERVER = {"team": "a team named", "channel": "a channel", "user": "a user"}


# importUser on an existing user: without password or auth_data it sets a new random password.
_USER_UPDATE_NOTE = {
    "user": " (without `password` or `auth_data` it sets a new random password, and without"
    " `locale` it resets the locale to the default)"
}


def _mmctl_note(kind: str, previous: Definition) -> str:
    """Where mmctl import validate differs: it reports a repeat as an error."""
    if kind not in _MMCTL_DUPLICATES:
        return ""
    if previous.line != ON_TARGET:
        return (
            "; mmctl import validate reports a repeat written the same way as an error "
            f'("duplicate entry, previous was in line: {previous.line}")'
        )
    what = _MMCTL_ON_SERVER.get(kind)
    if what is None:
        return ""
    return (
        "; mmctl import validate reports it as an error "
        f'("duplicate entry, server already has {what} …")'
    )


def _duplicate(kind: str, name: str, previous: Definition) -> dict[str, Scalar]:
    """The values of a duplicate definition (`first_line` None: it exists on the target)."""
    first = None if previous.line == ON_TARGET else previous.line
    return {"kind": kind, "name": name, "first_line": first}


class References:
    """Definitions seen so far and the reference checks that use them.

    Every ``ref_*`` method returns None when the reference resolves, else its issue paired
    with the `Unresolved` target (None when defining it later would not help).
    """

    def __init__(self, default_channels: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        self.default_channels = default_channels
        self.teams: dict[str, Definition] = {}
        self.channels: dict[tuple[str, str], Definition] = {}
        self.users: dict[str, Definition] = {}
        self.emails: dict[str, str] = {}
        self.schemes: dict[str, Definition] = {}
        self.roles: dict[str, Definition] = {}
        self.emojis: dict[str, Definition] = {}
        self.direct_channels: set[tuple[str, ...]] = set()

    def seed(self, existing: Existing) -> None:
        """Start from what the target already has (an existing team has its default
        channels); a scheme's scope is unknown, so it is not checked."""
        for team in existing.teams:
            key = go_lower(team)
            self.teams[key] = Definition(ON_TARGET, "existing")
            # Its default channels, as for a team line: a channel line for one of them (a
            # converter writes town-square) updates it without a duplicate warning.
            for channel in self.default_channels:
                self.channels.setdefault((key, channel), Definition(ON_TARGET, "default"))
        for team, channel in existing.channels:
            self.teams.setdefault(go_lower(team), Definition(ON_TARGET, "existing"))
            self.channels[(go_lower(team), go_lower(channel))] = Definition(ON_TARGET, "existing")
        for user in existing.users:
            self.users[go_lower(user)] = Definition(ON_TARGET, "existing")
        for scheme in existing.schemes:
            self.schemes[scheme] = Definition(ON_TARGET, None)

    # --- definitions ---------------------------------------------------------------------
    def define_team(self, name: str, line: int) -> Issue | None:
        key = go_lower(name)
        previous = self.teams.get(key)
        self.teams[key] = Definition(line)
        for channel in self.default_channels:
            self.channels.setdefault((key, channel), Definition(line, "default"))
        if previous is not None:
            return warning(
                "duplicate-team",
                f"team {name!r} {_where(previous)}; this line updates it"
                + _mmctl_note("team", previous),
                field="team.name",
                values=_duplicate("team", name, previous),
            )
        return None

    def define_channel(self, team: str, name: str, line: int) -> Issue | None:
        key = (go_lower(team), go_lower(name))
        previous = self.channels.get(key)
        self.channels[key] = Definition(line)
        if previous is not None and previous.extra != "default":
            return warning(
                "duplicate-channel",
                f"channel {team}/{name} {_where(previous)}; this line updates it"
                + _mmctl_note("channel", previous),
                field="channel.name",
                values={**_duplicate("channel", name, previous), "team": team},
            )
        return None

    def define_user(self, username: str, email: str | None, line: int, kind: str) -> list[Issue]:
        issues: list[Issue] = []
        key = go_lower(username)
        previous = self.users.get(key)
        self.users[key] = Definition(line, kind)
        if previous is not None:
            issues.append(
                warning(
                    "duplicate-user",
                    f"{kind} {username!r} {_where(previous)}; this line updates it"
                    + _USER_UPDATE_NOTE.get(kind, "")
                    + _mmctl_note(kind, previous),
                    field=f"{kind}.username",
                    values=_duplicate(kind, username, previous),
                )
            )
        if email:
            lowered = go_lower(email)
            owner = self.emails.get(lowered)
            if owner is not None and owner != key:
                issues.append(
                    error(
                        "duplicate-email",
                        f"email {email!r} of user {username!r} is already used by user "
                        f"{owner!r}; the server refuses to save the second user",
                        field="user.email",
                        server_error_id=EMAIL_EXISTS,
                        values={"kind": "email", "name": email, "user": owner, "subject": username},
                    )
                )
            else:
                self.emails[lowered] = key
        return issues

    def define_named(self, table: str, name: str, line: int, extra: Any = None) -> Issue | None:
        """Schemes, roles and emoji: exact names; a repeat updates (emoji: overwrites)."""
        store: dict[str, Definition] = getattr(self, table)
        previous = store.get(name)
        store[name] = Definition(line, extra)
        if previous is not None:
            singular = {"schemes": "scheme", "roles": "role", "emojis": "emoji"}[table]
            return warning(
                f"duplicate-{singular}",
                f"{singular} {name!r} {_where(previous)}; this line updates it"
                + _mmctl_note(singular, previous),
                field=f"{singular}.name",
                values=_duplicate(singular, name, previous),
            )
        return None

    # --- references ----------------------------------------------------------------------
    @staticmethod
    def _unknown(
        code: str,
        kind: str,
        written: str,
        key: str,
        message: str,
        field: str,
        server_id: str,
        *,
        miscased: bool = False,
    ) -> Reported:
        """A reference to nothing defined so far. Values: the `kind` of target, its `name` as
        written and the `key` a definition is stored under (one root cause, many lines);
        `miscased` when the server looks the name up exactly and it is not in lowercase (it
        would not be found even once defined)."""
        if key == written:
            # One string for both (the usual case): the issue, its root cause and the pending
            # reference all keep this name, and it may be long (memory per undefined target).
            key = written
        values: dict[str, Scalar] = {"kind": kind, "name": written, "key": key}
        if miscased:
            values["miscased"] = True
            message += f"; {_miscased_note(key)}"
        issue = error(code, message, field=field, server_error_id=server_id, values=values)
        return issue, Unresolved(kind, key)

    @staticmethod
    def _case(
        kind: str, written: str, stored: str, field: str, server_id: str, note: str
    ) -> Reported:
        """A mixed-case reference to a defined target, looked up exactly: never found."""
        issue = error(
            "reference-case",
            f"{kind} {written!r} is stored as {stored!r}; the server looks this reference up "
            f"exactly as written and will not find it. It must say {stored!r}: lowercase it "
            "where the archive is made (the source export or the converter); mmctl import "
            "validate compares names as written and misses this" + note,
            field=field,
            server_error_id=server_id,
            values={"kind": kind, "name": written, "key": stored, "repair": LOWERCASE_REPAIR},
        )
        return issue, None

    def ref_team(self, name: str, field: str, *, exact: bool, server_id: str) -> Reported | None:
        """A team reference. `exact`: the server looks the raw value up (stored lowercase).

        A mixed-case name is a case error only when the team is defined (it is stored under
        its lowercase name); otherwise the team is unknown, whatever the case."""
        key = go_lower(name)
        miscased = exact and name != key
        if key in self.teams:
            return self._case("team", name, key, field, server_id, "") if miscased else None
        return self._unknown(
            "unknown-team",
            "team",
            name,
            key,
            f"team {name!r} is not defined on an earlier line{_existing_note('team')}",
            field,
            server_id,
            miscased=miscased,
        )

    def ref_channel(
        self, team: str, name: str, field: str, *, server_id: str, note: str = ""
    ) -> Reported | None:
        """A channel reference inside a team; both names are looked up exactly."""
        key = (go_lower(team), go_lower(name))
        written, stored = f"{team}/{name}", f"{key[0]}/{key[1]}"
        miscased = written != stored
        if key in self.channels:
            if miscased:
                return self._case("channel", written, stored, field, server_id, note)
            return None
        return self._unknown(
            "unknown-channel",
            "channel",
            written,
            stored,
            f"channel {written} is not defined on an earlier line{_existing_note('channel')}{note}",
            field,
            server_id,
            miscased=miscased,
        )

    def ref_user(
        self, name: str, field: str, *, exact: bool, server_id: str, note: str = ""
    ) -> Reported | None:
        key = go_lower(name)
        miscased = exact and name != key
        if key in self.users:
            return self._case("user", name, key, field, server_id, note) if miscased else None
        return self._unknown(
            "unknown-user",
            "user",
            name,
            key,
            f"user {name!r} is not defined on an earlier line{_existing_note('user')}{note}",
            field,
            server_id,
            miscased=miscased,
        )

    def ref_scheme(self, name: str, scope: str, field: str, wrong_scope_id: str) -> Reported | None:
        found = self.schemes.get(name)
        if found is None:
            return self._unknown(
                "unknown-scheme",
                "scheme",
                name,
                name,
                f"scheme {name!r} is not defined on an earlier line{_existing_note('scheme')}",
                field,
                SCHEME_NOT_FOUND,
            )
        if found.extra is not None and found.extra != scope:
            issue = error(
                "apply-invalid",
                f"scheme {name!r} (line {found.line}) has scope {found.extra!r}; "
                f"a {scope} needs a {scope}-scoped scheme",
                field=field,
                server_error_id=wrong_scope_id,
                values={
                    "kind": "scheme",
                    "name": name,
                    "found": found.extra,
                    "expected": scope,
                    "defined_line": found.line,
                },
            )
            return issue, None
        return None


def defined_later(unknown: Issue, target: Unresolved, line: int) -> Issue:
    """The "unknown ..." issue of a reference whose target turns out to be defined on a
    later `line`: the server imports blocks of lines in file order, so it still fails. The
    reference is named as the line wrote it (the lowercase key is what it must say)."""
    written = str(unknown.values.get("name", target.key))
    return Issue(
        "defined-later",
        unknown.severity,
        f"{target.kind} {written!r} is only defined on line {line}, after this line; the "
        "server imports blocks of lines in file order, so it does not exist yet here — "
        "move the definition before its first use"
        + (f"; {_miscased_note(target.key)}" if unknown.values.get("miscased") else ""),
        unknown.member,
        unknown.line,
        unknown.field,
        unknown.server_error_id,
        unknown.effect,
        Values({**unknown.values, "defined_line": line}),
    )
