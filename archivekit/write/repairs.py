"""The repairs `fix` makes inside one decoded line, and the file locations it settles.

Each repair works on the line's canonical envelope (`archivekit.gosem.decode.decode_line`:
the server's own view of it), changes it in place and logs a `Change` per value it touched.
They only do what the server needs and lose nothing:

- `strip-data-prefix`: an attachment, profile-image or emoji path starting with ``data/``
  (the server looks for ``data/data/...``) loses the prefix when the file is then found;
- `move-into-data`: a file the path names but stored outside ``data/`` (at the zip root or in
  another folder: the old layout) is moved under ``data/`` when exactly one member fits;
  two or more → reported, nothing moved;
- `remove-nul`: NUL characters removed from every string (PostgreSQL rejects them); not from
  a password (only its hash is stored: the NUL is harmless there and removing it would change
  the password); not from a team, channel, user, emoji, scheme or role name (or a reference
  to one) or a user's email when the value without them is another one the archive defines,
  or one an earlier removal produced from another (``bo\0b`` → ``bob``: two users would
  become one; two users with one email: duplicate-email), nor from an object's key when
  the key without them is another of its keys (a value would be lost) — reported instead;
- `lowercase-references`: a reference the server looks up exactly, written in another case
  than the stored (lowercase) name of a team, channel or user the archive defines, is
  rewritten to the stored name (and a bot's owner, which the validator refuses in mixed case);
- `lowercase-definitions`: a team's, channel's, user's or bot's own name (and a channel's
  team), which the server lowercases before storing it, written lowercase;
- `split-long-message`: a message over the server's limit becomes the post (or reply) plus
  replies right after it, cut on a line break or space where possible; joined again they give
  the message back, character for character — only the messages `check.rules.split.plan_split`
  splits, decided on the line as decoded (validate promises the split by the same predicate);
  the others are reported, the line kept;
- `reply-time`: a reply or reaction older than its post gets the post's time (the server
  moves it anyway; written down, a re-import stays idempotent).

Opt-in (`FixOptions`), as they change or drop data: `drop-missing-file`, `default-email`,
`truncate-field` (display names, nicknames, names, positions, headers, purposes, bot
descriptions cut at the server's limits — on character boundaries, which is where the server
counts; a team description at its limit in UTF-8 bytes, never half a character),
`drop-skipped` (direct channel lines the server skips for their member count); `dedupe` is
`archivekit.write.dedupe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from archivekit.check.rules.context import DEFAULT_MAX_POST_SIZE
from archivekit.check.rules.direct import is_skipped_size
from archivekit.check.rules.names import (
    BOT_DESCRIPTION_MAX_RUNES,
    BOT_DISPLAY_NAME_MAX_RUNES,
    CHANNEL_DISPLAY_NAME_MAX_RUNES,
    CHANNEL_HEADER_MAX_RUNES,
    CHANNEL_PURPOSE_MAX_RUNES,
    TEAM_DESCRIPTION_MAX_BYTES,
    TEAM_DISPLAY_NAME_MAX_RUNES,
    USER_FIRST_NAME_MAX_RUNES,
    USER_LAST_NAME_MAX_RUNES,
    USER_NICKNAME_MAX_RUNES,
    USER_POSITION_MAX_RUNES,
)
from archivekit.check.rules.split import (
    NO_SPLIT,
    SplitPlan,
    plan_split,
    post_messages,
    split_message,
)
from archivekit.gosem.decode import HASHED_ONLY, POST_LINE_TYPES, key_kind
from archivekit.gosem.paths import after_data_prefix, resolve
from archivekit.gosem.strings import go_lower
from archivekit.issues import (
    LOWERCASE_REPAIR,
    REPAIR_DATA_PREFIX,
    REPAIR_DEFAULT_EMAIL,
    REPAIR_DROP_MISSING_FILE,
    REPAIR_DROP_SKIPPED,
    REPAIR_LOWERCASE_DEFINITIONS,
    REPAIR_MOVE_INTO_DATA,
    REPAIR_NUL,
    REPAIR_REPLY_TIME,
    REPAIR_SPLIT_MESSAGE,
    REPAIR_TRUNCATE,
    Scalar,
)
from archivekit.read import MAX_LINE_BYTES, Archive, OutsideData
from archivekit.write.changes import Change, ChangeLog, shown_json

Payload = dict[str, Any]
# --truncate-long-fields: the fields cut, with the server's limits (characters = runes).
TRUNCATED: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    "team": (("display_name", TEAM_DISPLAY_NAME_MAX_RUNES),),
    "channel": (
        ("display_name", CHANNEL_DISPLAY_NAME_MAX_RUNES),
        ("header", CHANNEL_HEADER_MAX_RUNES),
        ("purpose", CHANNEL_PURPOSE_MAX_RUNES),
    ),
    "user": (
        ("nickname", USER_NICKNAME_MAX_RUNES),
        ("first_name", USER_FIRST_NAME_MAX_RUNES),
        ("last_name", USER_LAST_NAME_MAX_RUNES),
        ("position", USER_POSITION_MAX_RUNES),
    ),
    "bot": (
        ("display_name", BOT_DISPLAY_NAME_MAX_RUNES),
        ("description", BOT_DESCRIPTION_MAX_RUNES),
    ),
    "direct_channel": (("header", CHANNEL_HEADER_MAX_RUNES),),
}
# The fields whose limit the server counts in UTF-8 bytes: cut on a character boundary.
TRUNCATED_BYTES: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    "team": (("description", TEAM_DESCRIPTION_MAX_BYTES),),
}


@dataclass(frozen=True, slots=True)
class FixOptions:
    """What `fix` does beyond its default repairs, and the message limit it splits at."""

    max_post_size: int = DEFAULT_MAX_POST_SIZE
    drop_missing_files: bool = False
    default_email_domain: str | None = None
    truncate_long_fields: bool = False
    drop_skipped: bool = False
    dedupe: bool = False


@dataclass(slots=True)
class Definitions:
    """The stored (lowercase) names the archive defines anywhere: what a reference may be
    rewritten to. Bounded by the number of teams, channels and users."""

    teams: set[str] = field(default_factory=set)
    channels: set[tuple[str, str]] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)  # as written: looked up exactly
    emails: set[str] = field(default_factory=set)  # users' (lowercased: unique on the server)
    emojis: set[str] = field(default_factory=set)  # as written, like schemes and roles
    roles: set[str] = field(default_factory=set)  # a scheme's own roles included


# What a NUL removal that would merge two keys of each kind would do.
_NUL_CLASH: Final = {
    "user": "names another user: the two would become one",
    "team": "names another team: the two would become one",
    "channel": "names another channel: the two would become one",
    "email": "is another user's email: the server refuses the second user (duplicate-email)",
    "emoji": "names another emoji: the second would overwrite the first (duplicate-emoji)",
    "scheme": "names another scheme: the second would update the first (duplicate-scheme)",
    "role": "names another role: the second would update the first (duplicate-role)",
}
# Kinds of names the server looks up exactly, as written (the others: lowercased).
_EXACT_KINDS: Final = {"emoji": "emojis", "scheme": "schemes", "role": "roles"}


class FilePlan:
    """Where the files that JSONL paths name are, and the moves that put them under data/.

    Moves are decided while the JSONL is read (the files are copied after it): `moves` maps a
    member's index to the names it is written under.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.has_files = archive.kind != "jsonl"
        self.moves: dict[int, list[str]] = {}
        self._moved_to: dict[str, int] = {}  # destination key -> member index
        self._outside = OutsideData(archive.index) if self.has_files else None

    def found(self, key: str) -> bool:
        return key in self._moved_to or self.archive.index.find(key) >= 0

    def candidates(self, key: str) -> list[int]:
        """Members outside data/ that a path resolving to ``key`` (``data/REL``) could mean:
        named REL, or ending with ``/REL`` (never the JSONL)."""
        if self._outside is None:
            return []
        jsonl = self.archive.jsonl.index
        return [i for i in self._outside.candidates(key) if i != jsonl]

    def plan_move(self, member: int, key: str) -> None:
        self.moves.setdefault(member, []).append(key)
        self._moved_to[key] = member


class LineRepairs:
    """The repairs of one line's envelope (see the module doc). `repair` returns whether it
    changed the envelope; every change goes to the log."""

    def __init__(
        self, definitions: Definitions, files: FilePlan, options: FixOptions, log: ChangeLog
    ) -> None:
        self.defs = definitions
        self.files = files
        self.options = options
        self.log = log
        self._line = 0
        self._changed = False
        self.drop = False  # after `repair`: leave the line out (an opt-in repair said so)
        # Names NUL removal produced: (kind, name without NUL) -> the name it came from (both
        # stored forms; a channel's name with its team). Bounded by the definitions.
        self.nul_names: dict[tuple[str, object], object] = {}
        self._channel_teams: dict[str, list[str]] = {}  # channel name -> its teams (lazy)
        self._channels_indexed = -1

    def _change(
        self, repair: str, field: str | None, before: object, after: object, note: str | None = None
    ) -> None:
        self._changed = True
        self.log.add(Change(repair, self._line, field, shown_json(before), shown_json(after), note))

    def _refuse(
        self,
        repair: str,
        field: str | None,
        before: object,
        note: str,
        values: dict[str, Scalar] | None = None,
    ) -> None:
        change = Change(repair, self._line, field, shown_json(before), None, note, values)
        self.log.add(change)

    def _opt_in(self, repair: str, enabled: object) -> bool:
        """Whether the opt-in ``repair`` is made here (its option given); when it is not, the
        change it would make is counted (`ChangeLog.offered`: what to pass to make it)."""
        if not enabled:
            self.log.offer(repair)
        return bool(enabled)

    def repair(self, envelope: Payload, line: int, *, nul: bool = True) -> bool:
        """Repair ``envelope`` (of input line ``line``); ``nul=False``: the line has no escaped
        NUL, so no string can hold one (JSON has no other way to write it)."""
        self._line = line
        self._changed = False
        self.drop = False
        line_type = envelope.get("type")
        if not isinstance(line_type, str):
            return False
        payload = envelope.get(line_type)
        if isinstance(payload, dict):
            # Which messages are split is decided on the line as decoded, before any repair:
            # what validate promises (`plan_split`).
            plan = NO_SPLIT
            if line_type in POST_LINE_TYPES:
                plan = plan_split(payload, line_type, self.options.max_post_size)
            if nul:
                self._nul(payload, line_type)
            if line_type in POST_LINE_TYPES:
                self._post(payload, line_type, envelope, plan)
            elif line_type in ("user", "bot"):
                self._lowercase(payload, line_type, ("username",))
                self._user(payload, line_type)
            elif line_type == "team":
                self._lowercase(payload, line_type, ("name",))
            elif line_type == "channel":
                self._lowercase(payload, line_type, ("team", "name"))
            elif line_type == "emoji":
                self._image(payload, "image", "emoji.image", whole_line=True)
            elif line_type == "direct_channel":
                self._direct_channel(payload)
            self._truncate(payload, line_type)
        return self._changed

    # --- opt-in: limits and skipped lines ------------------------------------------------------
    def _truncate(self, payload: Payload, line_type: str) -> None:
        for name, limit in TRUNCATED.get(line_type, ()):
            value = payload.get(name)
            if isinstance(value, str) and len(value) > limit:
                if not self._opt_in(REPAIR_TRUNCATE, self.options.truncate_long_fields):
                    continue
                payload[name] = value[:limit]
                field = f"{line_type}.{name}"
                note = f"{len(value):,} characters cut to {limit:,}"
                self._change(REPAIR_TRUNCATE, field, value, value[:limit], note)
        for name, limit in TRUNCATED_BYTES.get(line_type, ()):
            value = payload.get(name)
            if not isinstance(value, str):
                continue
            encoded = value.encode("utf-8", "surrogatepass")
            if len(encoded) > limit:
                if not self._opt_in(REPAIR_TRUNCATE, self.options.truncate_long_fields):
                    continue
                # A character cut in two is left out whole (the server counts bytes).
                cut = encoded[:limit].decode("utf-8", "ignore")
                payload[name] = cut
                field = f"{line_type}.{name}"
                note = f"{len(encoded):,} bytes cut to {len(cut.encode()):,} (limit {limit:,})"
                self._change(REPAIR_TRUNCATE, field, value, cut, note)

    def _skipped(self, payload: Payload) -> None:
        participants, members = payload.get("participants"), payload.get("members")
        counts = [len(x) for x in (participants, members) if isinstance(x, list)]
        if not (counts and any(is_skipped_size(count) for count in counts)):
            return
        if self._opt_in(REPAIR_DROP_SKIPPED, self.options.drop_skipped):
            self.drop = True
            self._change(
                REPAIR_DROP_SKIPPED,
                "direct_channel.members",
                members if members is not None else participants,
                None,
                "line removed: the server skips a conversation of this size",
            )

    # --- NUL ---------------------------------------------------------------------------------
    def _nul(self, value: Any, path: str) -> Any:
        """``value`` without NUL characters in its strings (keys included), logging each."""
        if isinstance(value, str):
            if "\x00" in value:
                clean = value.replace("\x00", "")
                merged = self._nul_merge(value, clean, path)
                if merged is not None:
                    kind, other = merged
                    what = "email" if kind == "email" else f"{kind} name"
                    self._refuse(
                        REPAIR_NUL,
                        path,
                        value,
                        f"without its NUL characters this {what} would be {other!r}, "
                        f"which {_NUL_CLASH[kind]} — change one of them by hand",
                        {
                            "kind": kind,
                            "found": value if kind in _EXACT_KINDS else go_lower(value),
                            "name": other,
                        },
                    )
                    return value
                self._change(REPAIR_NUL, path, value, clean)
                return clean
            return value
        if isinstance(value, dict):
            for key in list(value):
                item = value[key]
                if f"{path}.{key}" in HASHED_ONLY:
                    continue  # only hashed: harmless, and removing it changes the password
                new_key = key
                if "\x00" in key:
                    new_key = key.replace("\x00", "")
                    if new_key in value:
                        # Two keys would become one and a value would be lost: keep both.
                        self._refuse(
                            REPAIR_NUL,
                            f"{path}.{key}",
                            key,
                            f"without its NUL characters this key would be {new_key!r}, which "
                            "the object already has: one value would be lost — rename one of "
                            "them by hand",
                            {"kind": "key", "found": key, "name": new_key},
                        )
                        value[key] = self._nul(item, f"{path}.{key}")
                        continue
                    self._change(REPAIR_NUL, f"{path}.{new_key}", key, new_key, "a key")
                    del value[key]
                value[new_key] = self._nul(item, f"{path}.{new_key}")
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = self._nul(item, f"{path}[{index}]")
        return value

    def _nul_merge(self, value: str, clean: str, path: str) -> tuple[str, str] | None:
        """(kind, the other name) when ``value``, in a field at ``path`` that holds a key the
        server keeps unique (`key_kind`: a team, channel, user, emoji, scheme or role name or a
        reference to one, a user's email), names one the archive defines and ``clean`` (it
        without NUL) would name another one: one the archive defines, or one an earlier removal
        produced from another. Else None, and the removal is remembered. (Any other string is
        free text: cleaned.)"""
        kind = key_kind(path)
        if kind is None:
            return None
        defs = self.defs
        low, clean_low = go_lower(value), go_lower(clean)
        keys: list[tuple[str, object, object, bool]] = []  # kind, raw, clean, clean defined
        if kind == "email":
            keys.append(("email", low, clean_low, clean_low in defs.emails))
        if kind == "user" and low in defs.users:
            keys.append(("user", low, clean_low, clean_low in defs.users))
        if kind == "team" and low in defs.teams:
            keys.append(("team", low, clean_low, clean_low in defs.teams))
        if kind in _EXACT_KINDS:
            exact: set[str] = getattr(defs, _EXACT_KINDS[kind])
            if value in exact:
                keys.append((kind, value, clean, clean in exact))
        for team in self._teams_of_channel(low) if kind == "channel" else ():
            defined = (team, clean_low) in defs.channels
            keys.append(("channel", (team, low), (team, clean_low), defined))
        for kind, raw, new, defined in keys:
            if defined or self.nul_names.setdefault((kind, new), raw) != raw:
                return kind, clean if kind in _EXACT_KINDS else clean_low
        return None

    def _teams_of_channel(self, name: str) -> list[str]:
        """The teams with a channel ``name`` (an index rebuilt when channels were defined
        since: only strings holding a NUL ask)."""
        channels = self.defs.channels
        if self._channels_indexed != len(channels):
            index: dict[str, list[str]] = {}
            for team, channel in channels:
                index.setdefault(channel, []).append(team)
            self._channel_teams = index
            self._channels_indexed = len(channels)
        return self._channel_teams.get(name, [])

    def cleaned_into(self, found: Definitions) -> bool:
        """Whether ``found`` (the names one line defines) holds a name an earlier NUL removal
        made out of another name: that removal merged two definitions after all."""
        names = self.nul_names
        if not names:
            return False
        kinds = (
            ("user", found.users),
            ("team", found.teams),
            ("channel", found.channels),
            ("email", found.emails),
            ("emoji", found.emojis),
            ("scheme", found.schemes),
            ("role", found.roles),
        )
        return any(names.get((kind, key), key) != key for kind, keys in kinds for key in keys)

    # --- files -------------------------------------------------------------------------------
    def _path(self, path: str, field: str) -> tuple[str, bool]:
        """The repaired path of a file reference and whether the server then finds it."""
        files = self.files
        key = resolve(path)
        if key is None or not files.has_files:
            return path, key is not None and not files.has_files
        if files.found(key):
            return path, True
        stripped = after_data_prefix(path)
        if stripped is not None:
            stripped_key = resolve(stripped)
            if stripped_key is not None and (
                files.found(stripped_key) or self._move(stripped_key, field, quiet=True)
            ):
                self._change(REPAIR_DATA_PREFIX, field, path, stripped)
                return stripped, True
        return path, self._move(key, field, quiet=False)

    def _move(self, key: str, field: str, *, quiet: bool) -> bool:
        """Plan the move of the one member outside data/ that ``key`` names; log it."""
        found = self.files.candidates(key)
        index = self.files.archive.index
        if len(found) == 1:
            self.files.plan_move(found[0], key)
            self.log.add(
                Change(
                    REPAIR_MOVE_INTO_DATA,
                    self._line,
                    field,
                    shown_json(index[found[0]].name),
                    shown_json(key),
                    "the file is moved; the path stays",
                )
            )
            return True
        if len(found) > 1 and not quiet:
            names = ", ".join(repr(index[i].name) for i in found[:3])
            self._refuse(
                REPAIR_MOVE_INTO_DATA,
                field,
                key,
                f"{len(found)} files outside data/ could be it ({names}): move the right one "
                f"to {key!r} by hand",
            )
        return False

    def _attachments(self, attachments: list[Any], field: str) -> list[Any]:
        kept: list[Any] = []
        for index, attachment in enumerate(attachments):
            at = f"{field}[{index}].path"
            path = attachment.get("path") if isinstance(attachment, dict) else None
            if isinstance(path, str) and path:
                new, found = self._path(path, at)
                if new != path:
                    attachment["path"] = new
                if not found and self._opt_in(
                    REPAIR_DROP_MISSING_FILE, self.options.drop_missing_files
                ):
                    self._change(REPAIR_DROP_MISSING_FILE, at, path, None, "reference removed")
                    continue
            kept.append(attachment)
        return kept

    def _image(self, payload: Payload, key: str, field: str, *, whole_line: bool) -> None:
        """A profile or emoji image's path; missing, with --drop-missing-files: the reference
        removed — or, for an emoji (``whole_line``), the line: the server fails the import on
        an emoji without its image, and the emoji cannot exist without one (what loses
        least: reactions keep its name; a profile image falls back to the default)."""
        path = payload.get(key)
        if not isinstance(path, str) or not path:
            return
        new, found = self._path(path, field)
        if new != path:
            payload[key] = new
        if found or not self._opt_in(REPAIR_DROP_MISSING_FILE, self.options.drop_missing_files):
            return
        if whole_line:
            self.drop = True
            note = "line removed: the server fails the import on an emoji without its image"
            self._change(REPAIR_DROP_MISSING_FILE, field, path, None, note)
            return
        self._change(REPAIR_DROP_MISSING_FILE, field, path, None, "reference removed")
        del payload[key]

    # --- names -------------------------------------------------------------------------------
    def _lowercase(self, payload: Payload, kind: str, names: tuple[str, ...]) -> None:
        """A definition's own names, which the server lowercases before it stores them (and
        looks up lowercased: a channel's team), written as stored."""
        for name in names:
            value = payload.get(name)
            if isinstance(value, str) and go_lower(value) != value:
                payload[name] = go_lower(value)
                self._change(REPAIR_LOWERCASE_DEFINITIONS, f"{kind}.{name}", value, payload[name])

    def _user_ref(self, holder: Any, key: str | int, field: str) -> None:
        """Rewrite ``holder[key]`` (a username looked up exactly) to its stored form."""
        name = holder[key]
        if isinstance(name, str):
            stored = go_lower(name)
            if stored != name and stored in self.defs.users:
                holder[key] = stored
                self._change(LOWERCASE_REPAIR, field, name, stored)

    def _user_refs(self, names: Any, field: str) -> None:
        if isinstance(names, list):
            for index in range(len(names)):
                self._user_ref(names, index, f"{field}[{index}]")

    def _place(self, payload: Payload, kind: str) -> None:
        """A post's team and channel, looked up exactly."""
        team, channel = payload.get("team"), payload.get("channel")
        if not isinstance(team, str):
            return
        stored_team = go_lower(team)
        if stored_team not in self.defs.teams:
            return
        if stored_team != team:
            payload["team"] = stored_team
            self._change(LOWERCASE_REPAIR, f"{kind}.team", team, stored_team)
        if isinstance(channel, str):
            stored = go_lower(channel)
            if stored != channel and (stored_team, stored) in self.defs.channels:
                payload["channel"] = stored
                self._change(LOWERCASE_REPAIR, f"{kind}.channel", channel, stored)

    def _user(self, payload: Payload, kind: str) -> None:
        self._image(payload, "profile_image", f"{kind}.profile_image", whole_line=False)
        if kind != "user":
            self._owner(payload)
            return
        domain = self.options.default_email_domain
        username = payload.get("username")
        if (
            not payload.get("email")
            and isinstance(username, str)
            and username
            and self._opt_in(REPAIR_DEFAULT_EMAIL, domain)
        ):
            email, before = f"{go_lower(username)}@{domain}", payload.get("email")
            payload["email"] = email
            self._change(REPAIR_DEFAULT_EMAIL, "user.email", before, email)
        for t_index, membership in enumerate(payload.get("teams") or ()):
            team = membership.get("name")
            if not isinstance(team, str):
                continue
            stored_team = go_lower(team)
            if stored_team not in self.defs.teams:
                continue
            at = f"user.teams[{t_index}]"
            if stored_team != team:
                membership["name"] = stored_team
                self._change(LOWERCASE_REPAIR, f"{at}.name", team, stored_team)
            for c_index, channel_membership in enumerate(membership.get("channels") or ()):
                channel = channel_membership.get("name")
                if isinstance(channel, str):
                    stored = go_lower(channel)
                    if stored != channel and (stored_team, stored) in self.defs.channels:
                        channel_membership["name"] = stored
                        field = f"{at}.channels[{c_index}].name"
                        self._change(LOWERCASE_REPAIR, field, channel, stored)

    def _owner(self, payload: Payload) -> None:
        """A bot's owner: looked up case-insensitively, but validated as written (a mixed-case
        owner is refused); rewritten only to the stored name of a user the archive defines
        (otherwise it may be a plugin id, stored as it is)."""
        owner = payload.get("owner")
        if isinstance(owner, str):
            stored = go_lower(owner)
            if stored != owner and stored in self.defs.users:
                payload["owner"] = stored
                self._change(LOWERCASE_REPAIR, "bot.owner", owner, stored)

    def _direct_channel(self, payload: Payload) -> None:
        self._skipped(payload)
        participants = payload.get("participants")
        if isinstance(participants, list):
            for index, participant in enumerate(participants):
                if isinstance(participant, dict) and "username" in participant:
                    field = f"direct_channel.participants[{index}].username"
                    self._user_ref(participant, "username", field)
        else:
            self._user_refs(payload.get("members"), "direct_channel.members")

    # --- posts -------------------------------------------------------------------------------
    def _post(self, payload: Payload, kind: str, envelope: Payload, plan: SplitPlan) -> None:
        if kind == "post":
            self._place(payload, kind)
        else:
            self._user_refs(payload.get("channel_members"), "direct_post.channel_members")
        self._post_like(payload, kind)
        replies = payload.get("replies")
        replies = replies if isinstance(replies, list) else []
        for index, reply in enumerate(replies):
            if isinstance(reply, dict):
                self._post_like(reply, f"{kind}.replies[{index}]")
        # The thread's replies by (create_at, message): the server's identity of a reply in
        # its thread (reference §7: channel, exact create_at, exact message, root). A reply
        # given both of another's would be imported as that one: never made (`_free_time`).
        taken = {
            (reply.get("create_at"), reply.get("message"))
            for reply in replies
            if isinstance(reply, dict)
        }
        self._times(payload, replies, kind, taken)
        self._split(payload, kind, envelope, taken, plan)

    def _post_like(self, post: Payload, field: str) -> None:
        """What a post and each of its replies share: author, flaggers, files."""
        if "user" in post:
            self._user_ref(post, "user", f"{field}.user")
        self._user_refs(post.get("flagged_by"), f"{field}.flagged_by")
        attachments = post.get("attachments")
        if isinstance(attachments, list) and attachments:
            kept = self._attachments(attachments, f"{field}.attachments")
            if len(kept) != len(attachments):
                post["attachments"] = kept

    def _times(
        self, payload: Payload, replies: list[Any], kind: str, taken: set[tuple[Any, Any]]
    ) -> None:
        """Replies and reactions older than their post get the post's time (a reply: the
        first millisecond from it where no reply has its text: `_free_time`)."""
        created = payload.get("create_at")
        if not isinstance(created, int):
            return
        self._reaction_times(payload.get("reactions"), created, f"{kind}.reactions")
        for index, reply in enumerate(replies):
            if not isinstance(reply, dict):
                continue
            at = f"{kind}.replies[{index}]"
            reply_at = reply.get("create_at")
            if isinstance(reply_at, int) and reply_at < created:
                text = reply.get("message")
                moved = _free_time(created, text, taken)
                taken.discard((reply_at, text))
                reply["create_at"] = moved
                self._change(REPAIR_REPLY_TIME, f"{at}.create_at", reply_at, moved)
                reply_at = moved
            if isinstance(reply_at, int):
                self._reaction_times(reply.get("reactions"), reply_at, f"{at}.reactions")

    def _reaction_times(self, reactions: Any, created: int, field: str) -> None:
        if not isinstance(reactions, list):
            return
        for index, reaction in enumerate(reactions):
            if isinstance(reaction, dict):
                at = reaction.get("create_at")
                if isinstance(at, int) and at < created:
                    reaction["create_at"] = created
                    self._change(REPAIR_REPLY_TIME, f"{field}[{index}].create_at", at, created)

    def _split(
        self,
        payload: Payload,
        kind: str,
        envelope: Payload,
        taken: set[tuple[Any, Any]],
        plan: SplitPlan,
    ) -> None:
        """The messages over the limit `plan_split` splits (decided on the line as decoded,
        as validate decides its promise): the post keeps the first part, replies carry the
        rest. The others are reported and kept as they are."""
        limit = self.options.max_post_size
        new_replies: list[Any] = []
        # What a split changes, to put back when the line would be too long; its changes.
        before: list[tuple[Payload, str]] = []
        made: list[tuple[str, str, str, str]] = []
        for at, post in post_messages(payload, kind):
            if post is not payload:
                new_replies.append(post)
            text = post.get("message") if isinstance(post, dict) else None
            if at in plan.refused:
                why, values = plan.refused[at]
                self._refuse(REPAIR_SPLIT_MESSAGE, at, text, why, values or None)
                continue
            if at not in plan.splits or not isinstance(text, str) or len(text) <= limit:
                continue  # (NUL removal may have brought it under the limit)
            parts = list(split_message(text, limit))
            before.append((post, text))
            post["message"] = parts[0]
            new_replies += _continuations(post, parts, taken)
            note = f"{len(text):,} characters in {len(parts)} parts: "
            made.append((at, text, parts[0], note + "the rest follow as replies"))
        if not made:
            return
        had_replies, original = "replies" in payload, payload.get("replies")
        payload["replies"] = new_replies
        size = len(orjson.dumps(envelope))
        if size <= MAX_LINE_BYTES:
            for at, text, first, note in made:
                self._change(REPAIR_SPLIT_MESSAGE, at, text, first, note)
            return
        # Never reached while `plan_split` counts every byte fix's repairs add (a safety net:
        # an over-long line must never be written): put back, reported.
        for post, text in before:
            post["message"] = text
        if had_replies:
            payload["replies"] = original
        else:
            del payload["replies"]
        for at, text, _, _ in made:
            self._refuse(
                REPAIR_SPLIT_MESSAGE,
                at,
                text,
                f"split, the line would be {size:,} bytes, over the server's line limit of "
                f"{MAX_LINE_BYTES:,}: kept as it is",
                {"found": size, "limit": MAX_LINE_BYTES},
            )


def _continuations(post: Payload, parts: list[str], taken: set[tuple[Any, Any]]) -> list[Payload]:
    """The replies that carry parts[1:] of a split message, a millisecond apart — one more
    where a reply of the thread has that time and that very text (`taken`, updated).

    A tie of time alone with another reply is harmless: the server tells replies apart by
    time and text together, so nothing is overwritten; only their order in that one
    millisecond is the server's (moving a piece past the other reply would break the
    message's order for certain instead)."""
    created: int = post["create_at"]
    out: list[Payload] = []
    for part in parts[1:]:
        created = _free_time(created + 1, part, taken)
        out.append({"user": post["user"], "message": part, "create_at": created})
    return out


def _free_time(at: int, message: object, taken: set[tuple[Any, Any]]) -> int:
    """The first millisecond from ``at`` where no reply of the thread has ``message`` (its
    identity with the time: `taken`, updated)."""
    while (at, message) in taken:
        at += 1
    taken.add((at, message))
    return at
