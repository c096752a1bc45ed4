"""The references of post-like lines: posts, direct posts and direct channels.

A post names its team and channel and, everywhere inside it, users: the author, flaggers,
reactions, thread followers, and the same in every reply; a direct post names its channel's
members, a direct channel its members or participants. Each is checked against what earlier
lines defined (`References`, with the server's case rules), and the objects inside a post are
counted on the way (replies, reactions, attachments) with the running maxima of message
lengths and file lists (`Maxima`).

This is the hot part of the general path (most lines are posts): a reference that resolves
exactly — nearly all of them — costs one set lookup; only misses go through `References` to
build their issue.
"""

from __future__ import annotations

from typing import Any

from archivekit.check.facts import Findings, Maxima
from archivekit.check.references import (
    BATCH_NOTE,
    POST_CHANNEL_NOT_FOUND,
    REACTION_USER_NOT_FOUND,
    TEAMS_NOT_FOUND,
    USERS_NOT_FOUND,
    References,
)
from archivekit.gosem.strings import go_lower

Payload = dict[str, Any]
POST_ITSELF = -1  # `PostReferences._post_or_reply` on the post, not one of its replies


def _path(kind: str, reply: int, name: str) -> str:
    """The field path of `name` in a post (`kind`) or in its reply number `reply`."""
    return f"{kind}.{name}" if reply == POST_ITSELF else f"{kind}.replies[{reply}].{name}"


class PostReferences:
    """Checks and counts the references of post-like lines into the `Findings` given."""

    __slots__ = ("maxima", "member", "refs")

    def __init__(self, refs: References, maxima: Maxima, member: str) -> None:
        self.refs = refs
        self.maxima = maxima
        self.member = member  # the JSONL, where the issues are placed

    def place(self, found: Findings, line: int, team: Any, channel: Any) -> None:
        """A post's team and channel (exact lookups)."""
        refs = self.refs
        if team is None or (
            team in refs.teams and (channel is None or (team, channel) in refs.channels)
        ):
            return
        reported = refs.ref_team(team, "post.team", exact=True, server_id=TEAMS_NOT_FOUND)
        if reported is None and channel is not None:
            reported = refs.ref_channel(
                team, channel, "post.channel", server_id=POST_CHANNEL_NOT_FOUND, note=BATCH_NOTE
            )
        if reported:
            found.add(reported[0], self.member, line, reported[1])

    def post(self, found: Findings, line: int, data: Payload, kind: str, note: str) -> None:
        """Counts and every user reference of a post or direct post (author, flaggers,
        reactions, followers, replies) in one pass."""
        self._post_or_reply(found, line, data, kind, POST_ITSELF, note)
        message = data.get("message")
        maxima = self.maxima
        if message is not None and len(message) > maxima.message:
            maxima.longest_message(found, line, f"{kind}.message", len(message))
        replies = data.get("replies")
        if not replies:
            return
        found.counts.replies += len(replies)
        for r_index, reply in enumerate(replies):
            self._post_or_reply(found, line, reply, kind, r_index, "")

    def _post_or_reply(
        self, found: Findings, line: int, data: Payload, kind: str, reply: int, note: str
    ) -> None:
        """What a post and each of its replies both hold: the author, flaggers, reactions and
        attachments — and a post's thread followers. `reply` is the reply's index in the
        post's, or POST_ITSELF; `note` goes with the author's and the flaggers' issues."""
        # Field paths are only made for what is reported (this is hot).
        counts = found.counts
        users = self.refs.users
        author = data.get("user")
        if author is not None and author not in users:
            at = _path(kind, reply, "user")
            self._user(found, line, author, at, True, USERS_NOT_FOUND, note)
        flagged = data.get("flagged_by")
        if flagged:
            self.users(found, line, flagged, _path(kind, reply, "flagged_by"), note)
        reactions = data.get("reactions")
        if reactions:
            counts.reactions += len(reactions)
            self._reactions(found, line, reactions, _path(kind, reply, "reactions"))
        followers = data.get("thread_followers") if reply == POST_ITSELF else None
        if followers:
            for index, follower in enumerate(followers):
                name = follower.get("user")
                if name and name not in users and go_lower(name) not in users:
                    field = f"{kind}.thread_followers[{index}].user"
                    self._user(found, line, name, field, False, USERS_NOT_FOUND, "")
        attachments = data.get("attachments")
        if attachments:
            counts.attachments += sum(1 for a in attachments if a.get("path"))
            at = _path(kind, reply, "attachments")
            self.maxima.file_count(found, line, at, len(attachments))

    def direct_channel(self, found: Findings, line: int, data: Payload) -> None:
        """A direct channel's members (or participants): exact lookups."""
        participants = data.get("participants")
        if participants is not None:
            names = [(p or {}).get("username") for p in participants]
            prefix = "direct_channel.participants"
            suffix = ".username"
        else:
            names = list(data.get("members") or ())
            prefix = "direct_channel.members"
            suffix = ""
        users = self.refs.users
        for index, name in enumerate(names):
            if name is not None and name not in users:
                field = f"{prefix}[{index}]{suffix}"
                self._user(found, line, name, field, True, USERS_NOT_FOUND, "")

    def users(self, found: Findings, line: int, names: list[str], prefix: str, note: str) -> None:
        """A list of usernames looked up exactly (flaggers, a direct post's members)."""
        users = self.refs.users
        for index, name in enumerate(names):
            if name is not None and name not in users:
                self._user(found, line, name, f"{prefix}[{index}]", True, USERS_NOT_FOUND, note)

    def _reactions(self, found: Findings, line: int, reactions: list[Payload], prefix: str) -> None:
        # Reactions look their user up case-insensitively.
        users = self.refs.users
        for index, reaction in enumerate(reactions):
            name = reaction.get("user")
            if name is not None and name not in users and go_lower(name) not in users:
                field = f"{prefix}[{index}].user"
                self._user(found, line, name, field, False, REACTION_USER_NOT_FOUND, "")

    def _user(
        self,
        found: Findings,
        line: int,
        name: str,
        field: str,
        exact: bool,
        server_id: str,
        note: str,
    ) -> None:
        reported = self.refs.ref_user(name, field, exact=exact, server_id=server_id, note=note)
        if reported:
            found.add(reported[0], self.member, line, reported[1])
