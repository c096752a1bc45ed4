"""The cross-line part of definition lines: what roles, schemes, teams, channels, users, bots
and emoji define, and what they refer to.

Each definition is recorded in `References` (a second definition of a name is reported, with
what the server does with it) and handed on as a fact (`TeamDefined`, `ChannelDefined`,
`UserDefined`, `SchemeDefined`): the report turns the earlier "unknown" references to it
into "defined later" (`report.tally` hands the facts to `IssueCollector.defined`), and the
target limits count teams, channels and memberships with them (`check.limits.needs`). The
references checked here are those of definition lines: a team's or channel's scheme, a
channel's team, a user's team and channel memberships (the references inside posts:
`archivekit.check.post_refs`). The engine calls one method a line, after the line's rules,
and passes the `Findings` of the moment (``take()`` replaces it).
"""

from __future__ import annotations

from typing import Any

from archivekit.check.facts import (
    ChannelDefined,
    Findings,
    SchemeDefined,
    TeamDefined,
    UserDefined,
)
from archivekit.check.references import (
    CHANNEL_TEAM_NOT_FOUND,
    TEAMS_NOT_FOUND,
    USER_CHANNEL_NOT_FOUND,
    References,
    Reported,
)
from archivekit.gosem.strings import go_lower
from archivekit.issues import Issue

Payload = dict[str, Any]


class Definitions:
    """Records the definitions of definition lines and checks their references, into the
    `Findings` given."""

    __slots__ = ("member", "refs")

    def __init__(self, refs: References, member: str) -> None:
        self.refs = refs
        self.member = member  # the JSONL, where the issues are placed

    def _add(self, found: Findings, line: int, issue: Issue | None) -> None:
        if issue is not None:
            found.add(issue, self.member, line)

    def _add_reported(self, found: Findings, line: int, reported: Reported | None) -> None:
        if reported:
            found.add(reported[0], self.member, line, reported[1])

    def role(self, found: Findings, line: int, data: Payload) -> None:
        name = data.get("name")
        if name:
            self._add(found, line, self.refs.define_named("roles", name, line))

    def scheme(self, found: Findings, line: int, data: Payload) -> None:
        name = data.get("name")
        if name:
            self._add(found, line, self.refs.define_named("schemes", name, line, data.get("scope")))
            found.facts.append(SchemeDefined(line, name))

    def _scheme_ref(self, found: Findings, line: int, data: Payload, kind: str) -> None:
        """The scheme a team or channel line names (`kind`: "team" or "channel")."""
        name = data.get("scheme")
        if name:
            reported = self.refs.ref_scheme(
                name,
                kind,
                f"{kind}.scheme",
                f"app.import.import_{kind}.scheme_wrong_scope.error",
            )
            self._add_reported(found, line, reported)

    def team(self, found: Findings, line: int, data: Payload) -> None:
        self._scheme_ref(found, line, data, "team")
        name = data.get("name")
        if name:
            self._add(found, line, self.refs.define_team(name, line))
            found.facts.append(TeamDefined(line, go_lower(name)))

    def channel(self, found: Findings, line: int, data: Payload) -> None:
        team_name, name = data.get("team"), data.get("name")
        if team_name is not None:
            # channel.team is looked up lowercased: any case works here.
            reported = self.refs.ref_team(
                team_name, "channel.team", exact=False, server_id=CHANNEL_TEAM_NOT_FOUND
            )
            self._add_reported(found, line, reported)
        self._scheme_ref(found, line, data, "channel")
        if team_name and name:
            self._add(found, line, self.refs.define_channel(team_name, name, line))
            deleted_at = data.get("deleted_at")
            archived = deleted_at is not None and deleted_at > 0
            found.facts.append(ChannelDefined(line, go_lower(team_name), go_lower(name), archived))

    def user(self, found: Findings, line: int, data: Payload) -> None:
        teams = data.get("teams") or []
        self._memberships(found, line, teams)
        username = data.get("username")
        if username:
            for issue in self.refs.define_user(username, data.get("email"), line, "user"):
                found.add(issue, self.member, line)
            names = tuple(go_lower(m["name"]) for m in teams if m.get("name"))
            active = not data.get("delete_at")
            found.facts.append(UserDefined(line, go_lower(username), active, names))

    def _memberships(self, found: Findings, line: int, teams: list[Payload]) -> None:
        """A user's teams (exact lookups) and, in each team that exists, its channels."""
        for t_index, membership in enumerate(teams):
            team_name = membership.get("name")
            if team_name is None:
                continue
            field = f"user.teams[{t_index}]"
            reported = self.refs.ref_team(
                team_name, f"{field}.name", exact=True, server_id=TEAMS_NOT_FOUND
            )
            if reported:
                self._add_reported(found, line, reported)
                continue
            for c_index, channel_membership in enumerate(membership.get("channels") or ()):
                channel_name = channel_membership.get("name")
                if channel_name is not None:
                    reported = self.refs.ref_channel(
                        team_name,
                        channel_name,
                        f"{field}.channels[{c_index}].name",
                        server_id=USER_CHANNEL_NOT_FOUND,
                    )
                    self._add_reported(found, line, reported)

    def bot(self, found: Findings, line: int, data: Payload) -> None:
        username = data.get("username")
        if username:
            for issue in self.refs.define_user(username, None, line, "bot"):
                found.add(issue, self.member, line)
            found.facts.append(UserDefined(line, go_lower(username)))

    def emoji(self, found: Findings, line: int, data: Payload) -> None:
        name = data.get("name")
        if name:
            self._add(found, line, self.refs.define_named("emojis", name, line))
