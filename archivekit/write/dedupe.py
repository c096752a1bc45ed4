"""`fix --dedupe`: duplicate definitions merged into one line, the way the importer applies them.

The importer upserts a team, channel, user, bot, role, scheme or emoji by its identity
(reference §6): a second line with the same name updates what the first one created — "the
later one wins", field by field, with the importer's own rules (read from its import
functions):

- team, role, bot: every field the later line gives replaces the earlier value; a field it
  leaves out keeps the earlier one;
- channel: the same, but the display name is always the later line's (absent or empty, the
  validator fills in that line's name as written), and an archived channel stays archived (a later
  ``deleted_at`` of 0 does not restore it; a later positive one re-dates it);
- emoji: the later line overwrites the image: the later line as it is;
- scheme: scope, name and display name from the later line, the description kept when left
  out, each of its role objects merged as a role (a left-out guest role is reset to the
  server's default display name, scheme-managed); a scope change stops the import, so it is
  not merged;
- user: as a team, except the sign-in (``auth_service``, ``auth_data``, ``password``) which is
  the later line's as a whole (neither given: the server generates a password), the locale
  (left out: reset to the default), and ``notify_props`` merged key by key (a later
  ``notify_props`` without ``mention_keys`` resets the mention keys); memberships: a team the
  later line lists replaces that membership (roles as the later line says, its theme kept
  when left out) and its channel memberships one by one — channels only the earlier line
  listed stay, except ``town-square``, which the server re-imports as a plain membership for
  a non-guest; a channel favourite is never unset. Teams only the earlier line listed stay.

The merged definition is written at the position of the *first* definition (so no line
after it uses a name before its definition), its later copies are left out, and every field
that changed is logged. Where the importer's result cannot be written as one line (a user and
a bot of the same name, a scheme changing scope, an email-interval preference only the
earlier line's notification settings produced, a user becoming or ceasing to be a guest with
memberships already imported, a line the validator refuses for a missing field) nothing is
merged: reported, the lines left as they are.

Memory: pass A keeps one entry per definition (its identity and first line); pass B decodes
only the duplicated definitions and keeps their merged result. Post lines are passed over in
C, unread, in both. Direct channels are not merged: validate does not flag them, and the
importer reuses a conversation by its member set.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from archivekit.check.parallel import definition_lines
from archivekit.check.rules.context import TOWN_SQUARE
from archivekit.gosem.decode import BOM, decode_line, leading_objects
from archivekit.gosem.strings import go_lower
from archivekit.issues import REPAIR_DEDUPE
from archivekit.read import Archive, LineTooLong, iter_line_batches
from archivekit.write.changes import Change, ChangeLog, shown_json

Payload = dict[str, Any]
Key = tuple[str, object]
_IDENTITY: Final = {
    "team": ("name",),
    "channel": ("team", "name"),
    "user": ("username",),
    "bot": ("username",),
}
# Fields the validator requires (absent or empty: the import stops at the line, and a merge
# would hide that).
_REQUIRED: Final = {
    "team": ("name", "display_name", "type"),
    "channel": ("team", "name", "type"),
    "user": ("username", "email"),
    "bot": ("username", "owner"),
    "emoji": ("name", "image"),
    "role": ("name", "display_name"),
    "scheme": ("name", "display_name", "scope"),
}
_SIGN_IN: Final = ("auth_service", "auth_data", "password")
_GUEST_ROLE_NAMES: Final = {
    "default_team_guest_role": "Team Guest Role for Scheme",
    "default_channel_guest_role": "Channel Guest Role for Scheme",
}
_SCHEME_ROLES: Final = (
    "default_team_admin_role",
    "default_team_user_role",
    "default_team_guest_role",
    "default_channel_admin_role",
    "default_channel_user_role",
    "default_channel_guest_role",
)


class NotMergeable(Exception):
    """The importer's result of two definitions cannot be written as one line."""


def framed(raw: bytes) -> bytes:
    """The line as the repairs see it: without a BOM (line 1's, or one where files were
    joined together) or a carriage return at its end."""
    raw = raw[3:] if raw.startswith(BOM) else raw
    return raw[:-1] if raw.endswith(b"\r") else raw


def definition_envelopes(archive: Archive) -> Iterator[tuple[int, Payload]]:
    """(line number, canonical envelope) of every line that may define something and
    decodes; posts and direct posts are passed over in C, unread."""
    before = 0  # lines in earlier batches
    for batch in iter_line_batches(archive.iter_jsonl_blocks()):
        for index in definition_lines(batch):
            raw = batch[index]
            if isinstance(raw, LineTooLong):
                continue
            number = before + index + 1
            text = framed(raw)
            envelope, _ = decode_line(text)
            if envelope is not None:
                yield number, envelope
                continue
            # Text after the JSON: the objects before it, as the repair will write them.
            for piece in leading_objects(text)[0]:
                envelope, _ = decode_line(piece)
                if envelope is not None:
                    yield number, envelope
        before += len(batch)


def _payload(envelope: Payload) -> tuple[str, Payload] | None:
    line_type = envelope.get("type")
    payload = envelope.get(line_type) if isinstance(line_type, str) else None
    if not isinstance(line_type, str) or not isinstance(payload, dict):
        return None
    return line_type, payload


def definition_key(envelope: Payload) -> Key | None:
    """The identity the importer upserts a definition by (validate's duplicate keys): teams
    and users (bots too) by lowercased name, channels by (team, name) lowercased, schemes,
    roles and emoji by their exact name."""
    found = _payload(envelope)
    if found is None:
        return None
    line_type, payload = found
    if line_type == "channel":
        team, name = payload.get("team"), payload.get("name")
        if isinstance(team, str) and isinstance(name, str):
            return "channel", (go_lower(team), go_lower(name))
        return None
    name = payload.get("username" if line_type in ("user", "bot") else "name")
    if not isinstance(name, str):
        return None
    if line_type in ("team", "user", "bot"):
        return ("user" if line_type == "bot" else line_type), go_lower(name)
    if line_type in ("role", "scheme", "emoji"):
        return line_type, name
    return None


# --- merging two payloads ----------------------------------------------------------------------


def _overlay(earlier: Payload, later: Payload) -> Payload:
    """What an update leaves: every field the later line gives, the others as they were."""
    merged = copy.deepcopy(earlier)
    for name, value in later.items():
        if value is not None:
            merged[name] = copy.deepcopy(value)
    return merged


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _channel(earlier: Payload, later: Payload) -> Payload:
    merged = _overlay(earlier, later)
    if not later.get("display_name"):
        # The validator gives the later line its name, as written there.
        merged["display_name"] = later.get("name")
    if not _positive(later.get("deleted_at")) and _positive(earlier.get("deleted_at")):
        merged["deleted_at"] = earlier["deleted_at"]  # an update does not restore it
    return merged


def _scheme(earlier: Payload, later: Payload) -> Payload:
    if earlier.get("scope") != later.get("scope"):
        raise NotMergeable("the later line changes the scheme's scope: the import stops there")
    merged = _overlay(earlier, later)
    for name in _SCHEME_ROLES:
        before, after = earlier.get(name), later.get(name)
        if after is None and name in _GUEST_ROLE_NAMES and isinstance(before, dict):
            # The server imports a left-out guest role with its default display name.
            default = {"display_name": _GUEST_ROLE_NAMES[name], "scheme_managed": True}
            merged[name] = _overlay(before, default)
        elif isinstance(before, dict) and isinstance(after, dict):
            merged[name] = _overlay(before, after)
    return merged


def _is_guest(user: Payload) -> bool:
    roles = user.get("roles")
    return isinstance(roles, str) and "system_guest" in roles.split(" ")


def _favorite(channel: Payload) -> bool:
    return channel.get("favorite") is True


def _channels(earlier: list[Any], later: list[Any], guest: bool) -> list[Any]:
    """A team's channel memberships after the later line re-imported that team."""
    relisted = {go_lower(c.get("name") or "") for c in later if isinstance(c, dict)}
    before = {go_lower(c.get("name") or ""): c for c in earlier if isinstance(c, dict)}
    merged: list[Any] = []
    for entry in earlier:
        name = go_lower(entry.get("name") or "") if isinstance(entry, dict) else ""
        if name in relisted:
            continue
        if name == TOWN_SQUARE and not guest:
            # Re-imported as a plain membership (the importer adds town-square itself).
            plain: Payload = {"name": entry["name"]}
            if _favorite(entry):
                plain["favorite"] = True
            entry = plain
        merged.append(copy.deepcopy(entry))
    for entry in later:
        entry = copy.deepcopy(entry)
        if isinstance(entry, dict):
            old = before.get(go_lower(entry.get("name") or ""))
            if old is not None and _favorite(old) and not _favorite(entry):
                entry["favorite"] = True  # the preference stays: never unset by an import
        merged.append(entry)
    return merged


def _teams(earlier: list[Any], later: list[Any], guest: bool) -> list[Any]:
    merged = copy.deepcopy(earlier)
    at = {go_lower(t.get("name") or ""): i for i, t in enumerate(merged) if isinstance(t, dict)}
    for entry in later:
        if not isinstance(entry, dict):
            merged.append(copy.deepcopy(entry))
            continue
        index = at.get(go_lower(entry.get("name") or ""))
        if index is None:
            merged.append(copy.deepcopy(entry))
            continue
        old, new = merged[index], copy.deepcopy(entry)
        if new.get("theme") is None and old.get("theme") is not None:
            new["theme"] = old["theme"]  # the team theme preference stays
        channels = _channels(old.get("channels") or [], entry.get("channels") or [], guest)
        if channels or new.get("channels") is not None:
            new["channels"] = channels
        merged[index] = new
    return merged


def _email_interval_kept(earlier: Payload, merged: Payload, later: Payload) -> bool:
    """Whether the merged line gives the email-interval preference the two lines give."""

    def email_off(user: Payload) -> bool:
        props = user.get("notify_props")
        return isinstance(props, dict) and props.get("email") == "false"

    # After the earlier line the preference is set (to 0 when emails are off); the later line
    # only sets it again with an interval or emails off. One line cannot say "0" otherwise.
    return not (
        email_off(earlier) and not email_off(merged) and later.get("email_interval") is None
    )


def _user(earlier: Payload, later: Payload) -> Payload:
    merged = _overlay(earlier, later)
    for name in (*_SIGN_IN, "locale"):
        merged.pop(name, None)
        if later.get(name) is not None:
            merged[name] = copy.deepcopy(later[name])
    later_props = later.get("notify_props")
    if isinstance(later_props, dict):
        earlier_props = earlier.get("notify_props")
        props = _overlay(earlier_props if isinstance(earlier_props, dict) else {}, later_props)
        if later_props.get("mention_keys") is None:
            props.pop("mention_keys", None)  # reset to the username's
        merged["notify_props"] = props
    guest = _is_guest(merged)
    if earlier.get("teams") and _is_guest(earlier) != guest:
        raise NotMergeable(
            "the user becomes or stops being a guest: the earlier memberships were imported "
            "with the other role"
        )
    if isinstance(later.get("teams"), list) and isinstance(earlier.get("teams"), list):
        merged["teams"] = _teams(earlier["teams"], later["teams"], guest)
    if not _email_interval_kept(earlier, merged, later):
        raise NotMergeable(
            "the earlier line's notification settings set the email interval to 0, which one "
            "line cannot say"
        )
    return merged


def merge(earlier: Payload, later: Payload) -> Payload:
    """The envelope the importer ends up with after ``earlier`` then ``later`` (same identity).

    Raises:
        NotMergeable: no single line gives that result.
    """
    first, second = _payload(earlier), _payload(later)
    if first is None or second is None:
        raise NotMergeable("a line without its payload")
    (kind, before), (later_kind, after) = first, second
    if kind != later_kind:
        raise NotMergeable(f"a {kind} and a {later_kind} of the same name")
    for payload in (before, after):
        missing = [name for name in _REQUIRED.get(kind, ()) if payload.get(name) in (None, "")]
        if missing:
            raise NotMergeable(
                f"a line without {kind}.{missing[0]}: the import stops there (fix it first)"
            )
    if kind == "emoji":
        payload = copy.deepcopy(after)  # the image is overwritten
    elif kind == "channel":
        payload = _channel(before, after)
    elif kind == "scheme":
        payload = _scheme(before, after)
    elif kind == "user":
        payload = _user(before, after)
    else:
        payload = _overlay(before, after)
    # The identity as the first line writes it (the server stores it lowercased either way).
    for name in _IDENTITY.get(kind, ()):
        if name in before:
            payload[name] = before[name]
    return {**earlier, kind: payload}


# --- the plan ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    lines: list[int]
    merged: Payload | None = None
    first: Payload | None = None
    refusal: str | None = None


@dataclass(slots=True)
class DedupePlan:
    """What `--dedupe` does, by input line: the merged envelope written at each first
    definition, the later definitions left out, the refusals to report."""

    merged: dict[int, tuple[Payload, Payload, list[int]]] = field(default_factory=dict)
    dropped: dict[int, int] = field(default_factory=dict)  # later line -> first line
    refused: dict[int, tuple[str, list[int]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.merged or self.refused)

    def rewrite(
        self, number: int, envelope: Payload, log: ChangeLog
    ) -> tuple[Payload | None, bool]:
        """The envelope to write at line ``number`` (None: leave the line out) and whether
        it differs from the line's own; logs what it does."""
        if number in self.dropped:
            into = self.dropped[number]
            kind = envelope.get("type")
            log.add(
                Change(
                    REPAIR_DEDUPE,
                    number,
                    None,
                    shown_json(_subject(envelope)),
                    shown_json(""),
                    f"line removed: a later definition of this {kind}, merged into line {into}",
                )
            )
            return None, False
        refused = self.refused.get(number)
        if refused is not None:
            reason, lines = refused
            note = f"not merged with line(s) {_numbers(lines)}: {reason}; merge them by hand"
            log.add(Change(REPAIR_DEDUPE, number, None, shown_json(_subject(envelope)), None, note))
            return envelope, False
        planned = self.merged.get(number)
        if planned is None:
            return envelope, False
        own, merged, later = planned
        kind = str(own.get("type"))
        before, after = own.get(kind) or {}, merged.get(kind) or {}
        note = f"merged with the later definition(s) on line(s) {_numbers(later)}: they win"
        changed = False
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            if old != new:
                changed = True
                log.add(
                    Change(
                        REPAIR_DEDUPE,
                        number,
                        f"{kind}.{name}",
                        shown_json(old),
                        shown_json(new),
                        note,
                    )
                )
        return (copy.deepcopy(merged), True) if changed else (envelope, False)


def _numbers(lines: list[int]) -> str:
    return ", ".join(str(n) for n in lines)


def _subject(envelope: Payload) -> object:
    key = definition_key(envelope)
    if key is None:
        return None
    name = key[1]
    return "/".join(name) if isinstance(name, tuple) else name


def plan_dedupe(archive: Archive) -> DedupePlan:
    """Two reads of the definitions (pass A: which identities repeat; pass B: their lines,
    merged in order) — posts are passed over, unread."""
    first_line: dict[Key, int] = {}
    groups: dict[Key, _Group] = {}
    for number, envelope in definition_envelopes(archive):
        key = definition_key(envelope)
        if key is None:
            continue
        seen = first_line.setdefault(key, number)
        if seen != number:
            groups.setdefault(key, _Group([seen])).lines.append(number)
    plan = DedupePlan()
    if not groups:
        return plan
    members = {line: key for key, group in groups.items() for line in group.lines}
    for number, envelope in definition_envelopes(archive):
        key = members.get(number)
        if key is None:
            continue
        group = groups[key]
        if group.refusal is not None:
            continue
        if group.merged is None:
            group.first = group.merged = envelope
            continue
        try:
            group.merged = merge(group.merged, envelope)
        except NotMergeable as exc:
            group.refusal = str(exc)
    for group in groups.values():
        first, later = group.lines[0], group.lines[1:]
        if group.refusal is not None:
            for line in later:
                others = [n for n in group.lines if n != line]
                plan.refused[line] = (group.refusal, others)
            continue
        if group.first is None or group.merged is None:
            continue  # not decoded the second time: nothing to merge
        plan.merged[first] = (group.first, group.merged, later)
        for line in later:
            plan.dropped[line] = first
    return plan
