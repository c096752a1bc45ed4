"""An imitation of "import SOURCE, then `mmctl export create` + `mmctl export download`": the
TARGET archive a destination server would export after a successful import.

For reconcile's tests and benchmark. Streams SOURCE line by line and writes what Mattermost's
exporter writes for the same data (reference §1.1 and §4): names and emails lowercased (the
importer stores them so), no passwords, replies older than their post clamped to its
``create_at`` (the importer's clamp), archived channels and their memberships left out unless
``include_archived_channels``, DMs/GMs as ``participants`` with a self-DM as ``[u, u]``, DMs/GMs
that lost a member and reactions of users the destination no longer has (``deleted_users``)
left out, no emoji lines, non-guests in their teams' town-square, and attachments under new
exporter-style paths ``YYYYMMDD/teams/<id>/channels/<id>/users/<id>/<file id>/<name>`` — copied
when ``attachments`` is true, listed without files otherwise (``--no-attachments``).

``edit(line, record)`` sees every exported record with the SOURCE line it came from and may
change it or return None to leave it out (how tests lose data on purpose); ``extra_lines``
are appended (what the destination held before the import); ``drop_files`` are SOURCE
attachment paths whose files the export lacks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import orjson

from archivekit.check.rules.context import TOWN_SQUARE
from archivekit.gosem.paths import DATA_PREFIX, resolve
from archivekit.gosem.strings import go_lower
from archivekit.read import MemberInfo, open_archive
from archivekit.read.records import RecordStream
from archivekit.write.core import JSONL_NAME

Record = dict[str, Any]
Edit = Callable[[int, Record], Record | None]


def _id(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:26]


def _low(value: Any) -> Any:
    return go_lower(value) if isinstance(value, str) else value


class _Exporter:
    def __init__(
        self,
        include_archived: bool,
        deleted_users: Collection[str],
        drop_files: Collection[str],
        lookup: Callable[[str], MemberInfo | None],
    ) -> None:
        self.include_archived = include_archived
        self.deleted = {go_lower(u) for u in deleted_users}
        self.drop_files = set(drop_files)
        self.lookup = lookup
        self.archived: set[tuple[str, str]] = set()
        self.files: list[tuple[str, MemberInfo]] = []  # new name, SOURCE member

    def record(self, record: Record) -> Record | None:
        kind = record.get("type")
        body = record.get(kind) if isinstance(kind, str) else None
        if kind == "version":
            return {
                "type": "version",
                "version": 1,
                "info": {"generator": "mattermost-server", "version": "imitation"},
            }
        if not isinstance(kind, str) or not isinstance(body, dict) or kind == "emoji":
            return None
        handler = getattr(self, f"_{kind}", None)
        out = handler(dict(body)) if handler else body
        return None if out is None else {"type": kind, kind: out}

    def _team(self, team: Record) -> Record:
        team["name"] = _low(team.get("name"))
        return team

    def _channel(self, channel: Record) -> Record | None:
        channel["team"], channel["name"] = _low(channel.get("team")), _low(channel.get("name"))
        deleted = channel.get("deleted_at")
        if isinstance(deleted, int) and deleted > 0:
            self.archived.add((channel["team"], channel["name"]))
            if not self.include_archived:
                return None
        channel.setdefault("deleted_at", 0)
        return channel

    def _user(self, user: Record) -> Record | None:
        user["username"] = _low(user.get("username"))
        if user["username"] in self.deleted:
            return None
        user["email"] = _low(user.get("email"))
        user.pop("password", None)
        user["auth_service"] = user.get("auth_service") or None
        user.setdefault("delete_at", 0)
        guest = "system_guest" in str(user.get("roles", ""))
        teams = []
        for team in user.get("teams") or []:
            team = dict(team)
            team["name"] = _low(team.get("name"))
            channels = [dict(c, name=_low(c.get("name"))) for c in team.get("channels") or []]
            channels = [c for c in channels if self._kept(team["name"], c["name"])]
            if not guest and not any(c["name"] == TOWN_SQUARE for c in channels):
                channels.append({"name": TOWN_SQUARE, "roles": "channel_user"})
            team["channels"] = channels
            teams.append(team)
        user["teams"] = teams
        return user

    def _kept(self, team: str, channel: str) -> bool:
        return self.include_archived or (team, channel) not in self.archived

    def _bot(self, bot: Record) -> Record:
        bot["username"] = _low(bot.get("username"))
        return bot

    def _post(self, post: Record) -> Record | None:
        post["team"], post["channel"] = _low(post.get("team")), _low(post.get("channel"))
        if not self._kept(post["team"], post["channel"]):
            return None
        return self._thread(post, f"teams/{_id(post['team'])}/channels/{_id(post['channel'])}")

    def _thread(self, post: Record, where: str) -> Record:
        post["user"] = _low(post.get("user"))
        at = post.get("create_at")
        self._children(post, where)
        replies = []
        for reply in post.get("replies") or []:
            reply = dict(reply, user=_low(reply.get("user")))
            if isinstance(at, int) and isinstance(reply.get("create_at"), int):
                reply["create_at"] = max(reply["create_at"], at)  # the importer's clamp
            self._children(reply, where)
            replies.append(reply)
        post["replies"] = replies
        return post

    def _children(self, post: Record, where: str) -> None:
        reactions = [
            dict(r, user=_low(r.get("user")))
            for r in post.get("reactions") or []
            if _low(r.get("user")) not in self.deleted
        ]
        post["reactions"] = reactions
        attachments = []
        for attachment in post.get("attachments") or []:
            path = attachment.get("path")
            key = resolve(path) if isinstance(path, str) and path else None
            member = self.lookup(key) if key else None
            if member is None:
                continue  # never imported: the server had no file to keep
            created = post.get("create_at")
            at = created if isinstance(created, int) else 0
            day = dt.datetime.fromtimestamp(at / 1000, dt.UTC).strftime("%Y%m%d")
            name = path.rpartition("/")[2]
            new = f"{day}/{where}/users/{_id(str(post.get('user')))}/{_id(path, str(at))}/{name}"
            attachments.append({"path": new})
            if path not in self.drop_files:
                self.files.append((DATA_PREFIX + new, member))
        if attachments:
            post["attachments"] = attachments
        else:
            post.pop("attachments", None)

    def _members(self, names: Any) -> list[str] | None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        members = [go_lower(n) for n in names]
        if any(m in self.deleted for m in members):
            return None  # the exporter leaves out DMs/GMs that lost a member
        return [members[0]] * 2 if len(set(members)) == 1 else members  # a self-DM

    def _direct_channel(self, direct: Record) -> Record | None:
        participants = direct.pop("participants", None)
        names = (
            [p.get("username") for p in participants if isinstance(p, dict)]
            if isinstance(participants, list)
            else direct.pop("members", None)
        )
        members = self._members(names)
        if members is None:
            return None
        direct["participants"] = [{"username": m} for m in members]
        return direct

    def _direct_post(self, post: Record) -> Record | None:
        members = self._members(post.get("channel_members"))
        if members is None:
            return None
        post["channel_members"] = members
        return self._thread(post, f"teams/noteam/channels/{_id(*members)}")


def _source_lines(path: str) -> Iterator[tuple[int, Record | None]]:
    with open_archive(path) as archive:
        for record in RecordStream(archive, exact=False):
            yield record.line, record.envelope


def reexport(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    edit: Edit | None = None,
    extra_lines: Sequence[Record] = (),
    include_archived_channels: bool = False,
    attachments: bool = True,
    deleted_users: Collection[str] = (),
    drop_files: Collection[str] = (),
) -> None:
    """Write the export a destination would give after importing `source` (module docstring)."""
    source = os.fspath(source)
    with open_archive(source) as archive:

        def lookup(key: str) -> MemberInfo | None:
            member = archive.lookup(key)
            return None if member is None or member.is_dir else member

        exporter = _Exporter(include_archived_channels, deleted_users, drop_files, lookup)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with zf.open(JSONL_NAME, "w", force_zip64=True) as out:
                for number, record in _source_lines(source):
                    exported = exporter.record(record) if record is not None else None
                    if exported is not None and edit is not None:
                        exported = edit(number, exported)
                    if exported is not None:
                        out.write(orjson.dumps(exported) + b"\n")
                for line in extra_lines:
                    out.write(orjson.dumps(line) + b"\n")
            if attachments:
                for name, member in exporter.files:
                    with zf.open(zipfile.ZipInfo(name), "w") as copy:
                        for block in archive.iter_member_blocks(member):
                            copy.write(block)
