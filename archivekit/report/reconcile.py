"""`reconcile`: did everything in an imported archive arrive? SOURCE (the archive that was
imported) against TARGET (an export taken from the destination afterwards).

Both archives are streamed once, side by side (`reconcile_read`: two processes where fork is
available), their identity records spooled to disk in hash buckets (`spool`), then compared
bucket by bucket. The destination usually held data before the import, so what only TARGET
has is *extra* (information); what SOURCE has and TARGET lacks is *missing* (the verdict).

What the export format legitimately changes is not loss (each has a test):

- names: teams, channels and usernames are stored and exported lowercased, emails too —
  everything is compared lowercased; passwords are never exported and not compared;
- replies older than their post: the importer clamps their ``create_at`` to the post's, the
  export holds the clamped value — SOURCE replies are compared at the clamped time;
- DM/GM channels are matched by member set, so a self-DM (one member, exported as ``[u, u]``)
  matches whatever list SOURCE wrote; the exporter leaves out a DM/GM once one of its members
  no longer exists, and reactions of such users: when that user is one the destination had
  (not one of SOURCE's), this is counted as *expected*, not missing;
- archived channels are left out of an export unless it was made with
  ``--include-archived-channels``: an archived SOURCE channel absent from TARGET, with its
  posts and memberships, is *expected*;
- attachment paths change on export: files are matched by post, file name and size (by name
  alone when either archive has no files at all, e.g. TARGET exported without attachments);
  an attachment whose file is not in its archive is counted on neither side
  (`reconcile_read`), so an archive against itself has nothing extra; in a SOURCE zip it never
  counts, even when the zip holds no data/ file at all (the server could not import it).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archivekit.read import BLOCK_SIZE, ReadLimits, open_archive
from archivekit.report.choices import DEFAULT_MAX_ITEMS
from archivekit.report.reconcile_read import (
    CHANNEL_MEMBER,
    DIRECT_POST,
    FILE,
    KIND_NAMES,
    NO_USER,
    POST,
    REACTION,
    REPLY,
    TEAM_MEMBER,
    Role,
    Side,
    describe,
    read_side,
    spool_path,
)
from archivekit.report.spool import KIND_SHIFT, LINE_MASK, iter_buckets
from archivekit.report.tables import ColumnKind, Table
from archivekit.runtime import RunDirectory, run_in_workers

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Why something SOURCE has is absent from TARGET without being lost (0: it is lost).
MISSING = 0
ARCHIVED = 1
MEMBER_GONE = 2
REACTOR_GONE = 3
REASONS = {
    ARCHIVED: "archived-channel-not-exported",
    MEMBER_GONE: "direct-member-not-on-target",
    REACTOR_GONE: "reaction-user-not-on-target",
}
REASON_TEXT = {
    "archived-channel-not-exported": "the channel is archived in SOURCE: exports leave archived "
    "channels out unless made with --include-archived-channels",
    "direct-member-not-on-target": "a member of the DM/GM is not on the destination: exports "
    "leave out DMs/GMs that lost a member",
    "reaction-user-not-on-target": "the reacting user is not on the destination: exports drop "
    "reactions of permanently deleted users",
}
ITEM_KINDS = (POST, DIRECT_POST, REPLY, REACTION, FILE, TEAM_MEMBER, CHANNEL_MEMBER)
_SIZE_MIX = 0x9E3779B97F4A7C15


@dataclass(frozen=True, slots=True)
class Missing:
    """One thing of SOURCE that TARGET lacks: its kind, SOURCE line and where it was."""

    kind: str
    line: int
    team: str | None = None
    channel: str | None = None
    members: str | None = None
    user: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "line": self.line,
            "team": self.team,
            "channel": self.channel,
            "members": self.members,
            "user": self.user,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Change:
    """A user field whose TARGET value differs from SOURCE's (beyond what import changes)."""

    user: str
    line: int
    field: str
    source: str | None
    target: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "line": self.line,
            "field": self.field,
            "source": self.source,
            "target": self.target,
        }


@dataclass(slots=True)
class Reconciliation:
    """The result: `ok` when nothing of SOURCE is missing from TARGET."""

    source: str
    target: str
    files_compared_by: str  # "name and size", or "name" (an archive without files)
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    missing_total: int = 0
    expected: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.missing_total == 0

    @property
    def truncated(self) -> bool:
        return len(self.missing) < self.missing_total

    def frame(self, name: str) -> pd.DataFrame:
        """One of the tables (`TABLES`) as a DataFrame."""
        return self.tables[name].frame()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "ok": self.ok,
            "files_compared_by": self.files_compared_by,
            "summary": self.summary,
            "missing_total": self.missing_total,
            "truncated": self.truncated,
            "missing": [m.to_dict() for m in self.missing],
            "expected": self.expected,
            "changes": [c.to_dict() for c in self.changes],
            "notes": self.notes,
            "tables": {
                name: [dict(zip(t.names, row, strict=True)) for row in t.rows]
                for name, t in self.tables.items()
                if name not in ("missing", "changes", "summary")
            },
        }


# -- comparing the spooled records ------------------------------------------------------------


@dataclass(slots=True)
class _Tallies:
    """Counts from the bucket comparison, keyed by kind and by place / user id."""

    source: Counter[int] = field(default_factory=Counter)
    target: Counter[int] = field(default_factory=Counter)
    missing: Counter[int] = field(default_factory=Counter)
    extra: Counter[int] = field(default_factory=Counter)
    expected: Counter[tuple[int, int]] = field(default_factory=Counter)  # (reason, kind)
    missing_at: Counter[tuple[int, int]] = field(default_factory=Counter)  # (place, kind)
    expected_at: Counter[int] = field(default_factory=Counter)  # place
    extra_at: Counter[tuple[int, int]] = field(default_factory=Counter)  # target place, kind
    missing_by_user: Counter[int] = field(default_factory=Counter)  # memberships
    first: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # Counts of each side's records by (place id, kind) and (user id, kind): the tables.
    source_at: Counter[tuple[int, int]] = field(default_factory=Counter)
    target_at: Counter[tuple[int, int]] = field(default_factory=Counter)
    source_by_user: Counter[tuple[int, int]] = field(default_factory=Counter)
    target_by_user: Counter[tuple[int, int]] = field(default_factory=Counter)


def _keys(records: np.ndarray, sizes: bool) -> np.ndarray:
    """What records are matched on: the identity hash, and for files with `sizes` also their
    size fingerprint."""
    import numpy as np

    keys = records["hash"].copy()
    if sizes:
        files = (records["tag"] >> np.uint64(KIND_SHIFT)) == FILE
        mixed = records["extra"][files].astype(np.uint64) * np.uint64(_SIZE_MIX)
        keys[files] ^= mixed
    return keys


def _compare(source: Side, target: Side, root: str, sizes: bool, max_items: int) -> _Tallies:
    import numpy as np

    place_reason = np.array([_place_reason(key, source, target) for key in source.places] or [0])
    gone = np.array([_gone(name, source, target) for name in source.people] or [False])
    out = _Tallies()
    kind_shift = np.uint64(KIND_SHIFT)
    sides = (spool_path(root, "source"), source.memory), (spool_path(root, "target"), target.memory)
    for src, tgt in iter_buckets(*sides):
        src_keys, tgt_keys = _keys(src, sizes), _keys(tgt, sizes)
        src_kinds = (src["tag"] >> kind_shift).astype(np.int64)
        tgt_kinds = (tgt["tag"] >> kind_shift).astype(np.int64)
        out.source.update(_counts(src_kinds))
        out.target.update(_counts(tgt_kinds))
        out.source_at.update(_pair_counts(src["place"].astype(np.int64), src_kinds))
        out.target_at.update(_pair_counts(tgt["place"].astype(np.int64), tgt_kinds))
        out.source_by_user.update(_user_counts(src, src_kinds))
        out.target_by_user.update(_user_counts(tgt, tgt_kinds))
        absent = src[~np.isin(src_keys, tgt_keys)]
        kinds = (absent["tag"] >> kind_shift).astype(np.int64)
        places = absent["place"].astype(np.int64)
        reasons = place_reason[places]
        reactions = (kinds == REACTION) & (reasons == MISSING)
        reasons[reactions & gone[np.minimum(absent["extra"], len(gone) - 1)]] = REACTOR_GONE
        lost = reasons == MISSING
        for kind, count in _counts(kinds[lost]).items():
            out.missing[kind] += count
        for (reason, kind), count in _pair_counts(reasons[~lost], kinds[~lost]).items():
            out.expected[(reason, kind)] += count
        out.missing_at.update(_pair_counts(places[lost], kinds[lost]))
        out.expected_at.update(_counts(places[~lost]))
        members = lost & ((kinds == TEAM_MEMBER) | (kinds == CHANNEL_MEMBER))
        out.missing_by_user.update(_counts(absent["extra"][members].astype(np.int64)))
        lines = (absent["tag"][lost] & np.uint64(LINE_MASK)).astype(np.int64)
        if len(lines):
            out.first.extend(
                zip(
                    lines.tolist(),
                    kinds[lost].tolist(),
                    places[lost].tolist(),
                    absent["extra"][lost].astype(np.int64).tolist(),
                    absent["hash"][lost].astype(np.uint64).tolist(),
                    strict=True,
                )
            )
            if len(out.first) > max_items:
                out.first = sorted(out.first)[:max_items]
        surplus = tgt[~np.isin(tgt_keys, src_keys)]
        extra_kinds = (surplus["tag"] >> kind_shift).astype(np.int64)
        out.extra.update(_counts(extra_kinds))
        out.extra_at.update(_pair_counts(surplus["place"].astype(np.int64), extra_kinds))
    out.first.sort()
    return out


def _counts(values: np.ndarray) -> dict[int, int]:
    import numpy as np

    found, counts = np.unique(values, return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def _pair_counts(ids: np.ndarray, kinds: np.ndarray) -> dict[tuple[int, int], int]:
    """Counts by (id, kind); kinds are below 16."""
    found = _counts(ids * 16 + kinds)
    return {(key >> 4, key & 15): n for key, n in found.items()}


_BY_USER = (POST, DIRECT_POST, REPLY, REACTION, TEAM_MEMBER, CHANNEL_MEMBER)


def _user_counts(records: np.ndarray, kinds: np.ndarray) -> dict[tuple[int, int], int]:
    """Counts by (user id, kind) of the records whose `extra` is a user (not a file size)."""
    import numpy as np

    users = records["extra"].astype(np.int64)
    keep = np.isin(kinds, _BY_USER) & (users != NO_USER)
    return _pair_counts(users[keep], kinds[keep])


def _place_reason(key: tuple[str, str], source: Side, target: Side) -> int:
    team, name = key
    if team and name:
        info = source.channels.get(key)
        if info is not None and info.archived and key not in target.channels:
            return ARCHIVED
    elif not team and any(_gone(member, source, target) for member in name.split(",")):
        return MEMBER_GONE
    return MISSING


def _gone(user: str, source: Side, target: Side) -> bool:
    """A user the destination had (not one SOURCE brought) and no longer has: what exports
    leave out because of such a user is not a loss of the import (a SOURCE user missing from
    TARGET is reported as missing, and so is everything of theirs)."""
    return user not in target.users and user not in source.users


# -- whole-archive entities: teams, channels, DMs/GMs, users -----------------------------------


def _entity_missing(source: Side, target: Side) -> Iterator[tuple[str, Missing | None, int]]:
    """(what, the Missing or None when expected, reason) for every SOURCE entity TARGET lacks."""
    for name, line in source.teams.items():
        if name not in target.teams:
            yield "teams", Missing("team", line, team=name), MISSING
    for (team, name), info in source.channels.items():
        if (team, name) not in target.channels:
            reason = ARCHIVED if info.archived else MISSING
            yield "channels", Missing("channel", info.line, team=team, channel=name), reason
    for key, line in source.directs.items():
        if key not in target.directs:
            reason = _place_reason(("", key), source, target)
            yield "directs", Missing("direct_channel", line, members=key), reason
    for name, user in source.users.items():
        if name not in target.users:
            yield "users", Missing(user.kind, user.line, user=name), MISSING


def _changes(source: Side, target: Side) -> list[Change]:
    changes = []
    for name, mine in source.users.items():
        theirs = target.users.get(name)
        if theirs is None:
            continue
        if mine.email is not None and mine.email != theirs.email:
            changes.append(Change(name, mine.line, "email", mine.email, theirs.email))
        if mine.kind == "user" and mine.roles is not None and mine.roles != theirs.roles:
            changes.append(
                Change(name, mine.line, "roles", _roles(mine.roles), _roles(theirs.roles))
            )
        if mine.deactivated != theirs.deactivated:
            changes.append(
                Change(
                    name, mine.line, "deactivated", str(mine.deactivated), str(theirs.deactivated)
                )
            )
    return changes


def _roles(roles: frozenset[str] | None) -> str | None:
    return None if roles is None else " ".join(sorted(roles))


# -- the run ----------------------------------------------------------------------------------


def _read_both(
    source: str,
    target: str,
    root: str,
    workers: int,
    block_size: int,
    read_limits: ReadLimits | None,
) -> tuple[Side, Side]:
    jobs: list[tuple[str, Role, str, int, ReadLimits | None]] = [
        (source, "source", spool_path(root, "source"), block_size, read_limits),
        (target, "target", spool_path(root, "target"), block_size, read_limits),
    ]
    for path, *_ in jobs:  # fail now, before any work, on an archive that does not open
        open_archive(path, limits=read_limits).close()
    # Identities are XXH64 digests (check.duplicates.post_identity), the same in any process;
    # fork only spares the workers the imports.
    import multiprocessing  # only a run with workers pays for it

    import numpy  # noqa: F401 - once here, not in each forked worker

    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        # Workers end with this process, however it ends (archivekit.runtime.run_in_workers).
        first, second = run_in_workers(_read_side, jobs)
    else:
        first, second = (_read_side(*job) for job in jobs)
    return first, second


def _read_side(
    path: str, role: Role, spool_dir: str, block_size: int, read_limits: ReadLimits | None
) -> Side:
    return read_side(path, role, spool_dir, block_size=block_size, read_limits=read_limits)


def reconcile(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    max_items: int = DEFAULT_MAX_ITEMS,
    workers: int | None = None,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
) -> Reconciliation:
    """Compare SOURCE (the imported archive) with TARGET (an export of the destination).

    Args:
        source: the archive that was imported (zip, ``.jsonl`` or export folder).
        target: an export taken from the destination after the import.
        max_items: list at most this many missing items (counts stay exact); 0 for all.
        workers: 1 reads the two archives one after the other; None or more, side by side.
        block_size: bytes of JSONL read at a time.
        read_limits: zip-bomb limits for both archives.

    Raises:
        ArchiveError: either archive cannot be read.
    """
    source_path, target_path = os.fspath(source), os.fspath(target)
    # The run's directory (archivekit.runtime): removed however the run ends.
    with RunDirectory() as run:
        root = str(run.path)
        src, tgt = _read_both(source_path, target_path, root, workers or 2, block_size, read_limits)
        return _reconciled(src, tgt, root, max_items, read_limits, describe_missing=True)


def reconcile_read_source(
    source: Side,
    target: str | os.PathLike[str],
    root: str,
    *,
    max_items: int = DEFAULT_MAX_ITEMS,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
) -> Reconciliation:
    """`reconcile` with SOURCE's side already read (`SidePass`, its records spooled at
    ``spool_path(root, "source")``): only TARGET is read. For a caller that reads SOURCE once
    for several things (the report page). The missing items are listed without the words a
    second pass over their SOURCE lines would give (`Missing.detail` is None): where they are,
    who, and their line say what to look for."""
    tgt = read_side(
        os.fspath(target),
        "target",
        spool_path(root, "target"),
        block_size=block_size,
        read_limits=read_limits,
    )
    return _reconciled(source, tgt, root, max_items, read_limits, describe_missing=False)


def _reconciled(
    src: Side,
    tgt: Side,
    root: str,
    max_items: int,
    read_limits: ReadLimits | None,
    *,
    describe_missing: bool,
) -> Reconciliation:
    """The comparison of two sides read (their records spooled under `root`)."""
    cap = max_items if max_items > 0 else 1 << 62
    sizes = src.has_files and tgt.has_files
    compared = _compare(src, tgt, root, sizes, cap)
    result = Reconciliation(src.path, tgt.path, "name and size" if sizes else "name")
    _fill(result, src, tgt, compared, cap, read_limits, describe_missing)
    return result


def _fill(
    result: Reconciliation,
    src: Side,
    tgt: Side,
    compared: _Tallies,
    cap: int,
    read_limits: ReadLimits | None,
    describe_missing: bool,
) -> None:
    entity_missing: Counter[str] = Counter()
    entity_expected: Counter[tuple[str, str]] = Counter()
    listed: list[Missing] = []
    for what, item, reason in _entity_missing(src, tgt):
        if reason == MISSING and item is not None:
            entity_missing[what] += 1
            listed.append(item)
        else:
            entity_expected[(REASONS[reason], what)] += 1
    entities: dict[str, tuple[set[Any], set[Any]]] = {
        "teams": (set(src.teams), set(tgt.teams)),
        "channels": (set(src.channels), set(tgt.channels)),
        "directs": (set(src.directs), set(tgt.directs)),
        "users": (set(src.users), set(tgt.users)),
    }
    for what, (mine, theirs) in entities.items():
        expected = sum(n for (_, w), n in entity_expected.items() if w == what)
        result.summary[what] = {
            "source": len(mine),
            "target": len(theirs),
            "matched": len(mine & theirs),
            "missing": entity_missing[what],
            "expected": expected,
            "extra": len(theirs - mine),
        }
    for kind in ITEM_KINDS:
        name = KIND_NAMES[kind]
        expected = sum(n for (_, k), n in compared.expected.items() if k == kind)
        missing = compared.missing[kind]
        result.summary[name] = {
            "source": compared.source[kind],
            "target": compared.target[kind],
            "matched": compared.source[kind] - missing - expected,
            "missing": missing,
            "expected": expected,
            "extra": compared.extra[kind],
        }
    for (reason_text, what), count in entity_expected.items():
        result.expected.setdefault(reason_text, {})[what] = count
    for (reason, kind), count in compared.expected.items():
        result.expected.setdefault(REASONS[reason], {})[KIND_NAMES[kind]] = count
    item_total = sum(compared.missing.values())
    result.missing_total = item_total + sum(entity_missing.values())
    listed.extend(_items(src, compared.first, read_limits, describe_missing))
    listed.sort(key=lambda m: (m.line, m.kind))
    result.missing = listed[:cap]
    result.changes = _changes(src, tgt)
    result.notes = {
        "source_lines": src.lines,
        "target_lines": tgt.lines,
        "source_post_lines_not_importable": src.not_importable,
        "source_files_not_in_archive": src.files_absent,
        "target_files_not_in_archive": tgt.files_absent,
        "source_records": src.records,
        "target_records": tgt.records,
    }
    result.tables = _tables(result, src, tgt, compared)


def _items(
    src: Side,
    first: list[tuple[int, int, int, int, int]],
    read_limits: ReadLimits | None,
    describe_missing: bool,
) -> list[Missing]:
    """The listed missing items, described from a second pass over their SOURCE lines when
    `describe_missing`."""
    if not first:
        return []
    notes: dict[int, str] = {}
    if describe_missing:
        notes = describe(src.path, {line for line, *_ in first}, read_limits=read_limits)
    items = []
    for line, kind, place, extra, digest in first:
        team, name = src.places[place]
        user = src.people[extra] if kind in (REACTION, TEAM_MEMBER, CHANNEL_MEMBER) else None
        items.append(
            Missing(
                KIND_NAMES[kind],
                line,
                team=team or None,
                channel=name if team and name else None,
                members=name if not team else None,
                user=user,
                detail=notes.get(digest),
            )
        )
    return items


# -- tables -----------------------------------------------------------------------------------

_COUNTS: tuple[tuple[str, ColumnKind], ...] = (
    ("missing_posts", "int"),
    ("missing_replies", "int"),
    ("missing_reactions", "int"),
    ("missing_files", "int"),
    ("missing_memberships", "int"),
    ("expected", "int"),
)
DEFINED_CHANNELS = 0  # not a record kind: a team's channel lines (`_Counts.team`)
_ITEMS = {"posts": (POST,), "replies": (REPLY,), "reactions": (REACTION,), "files": (FILE,)}
# What each per-place table counts on both sides, and from which record kinds of the place's
# (team's, user's) counter: every one gets source_X, target_X and X_difference (TARGET minus
# SOURCE) columns, made by `_sided`.
SIDED: dict[str, dict[str, tuple[int, ...]]] = {
    "teams": {"members": (TEAM_MEMBER,), "channels": (DEFINED_CHANNELS,), **_ITEMS},
    "channels": {"members": (CHANNEL_MEMBER,), **_ITEMS},
    "directs": {**_ITEMS, "posts": (DIRECT_POST,)},
    "users": {**_ITEMS, "posts": (POST, DIRECT_POST)},
}


def _sided_columns(what: str) -> tuple[tuple[str, ColumnKind], ...]:
    return tuple(
        (column, "int")
        for stem in SIDED[what]
        for column in (f"source_{stem}", f"target_{stem}", f"{stem}_difference")
    )


def _sided(what: str, mine: Counter[int], theirs: Counter[int]) -> tuple[int, ...]:
    """The values of `_sided_columns(what)`, from each side's counts by record kind."""
    values: list[int] = []
    for kinds in SIDED[what].values():
        source, target = sum(mine[k] for k in kinds), sum(theirs[k] for k in kinds)
        values += (source, target, target - source)
    return tuple(values)


COLUMNS: dict[str, tuple[tuple[str, ColumnKind], ...]] = {
    "summary": (
        ("what", "str"),
        ("source", "int"),
        ("target", "int"),
        ("matched", "int"),
        ("missing", "int"),
        ("expected", "int"),
        ("extra", "int"),
    ),
    "teams": (
        ("team", "str"),
        ("status", "str"),
        ("source_line", "line"),
        *_sided_columns("teams"),
        *_COUNTS,
    ),
    "channels": (
        ("team", "str"),
        ("channel", "str"),
        ("status", "str"),
        ("source_line", "line"),
        *_sided_columns("channels"),
        *_COUNTS,
    ),
    "directs": (
        ("members", "str"),
        ("kind", "str"),
        ("status", "str"),
        ("source_line", "line"),
        *_sided_columns("directs"),
        *_COUNTS,
    ),
    "users": (
        ("user", "str"),
        ("kind", "str"),
        ("status", "str"),
        ("source_line", "line"),
        *_sided_columns("users"),
        ("missing_memberships", "int"),
        ("changed", "str"),
    ),
    "missing": (
        ("kind", "str"),
        ("line", "int"),
        ("team", "str"),
        ("channel", "str"),
        ("members", "str"),
        ("user", "str"),
        ("detail", "str"),
    ),
    "changes": (
        ("user", "str"),
        ("line", "int"),
        ("field", "str"),
        ("source", "str"),
        ("target", "str"),
    ),
    "expected": (("reason", "str"), ("what", "str"), ("count", "int")),
}
TABLES = tuple(COLUMNS)
_MISSING_KINDS = {POST: 0, DIRECT_POST: 0, REPLY: 1, REACTION: 2, FILE: 3, TEAM_MEMBER: 4}
_MISSING_KINDS[CHANNEL_MEMBER] = 4
MISSING_COLUMNS = tuple(name for name, _ in _COUNTS[:5])


def _per_place(src: Side, compared: _Tallies) -> dict[tuple[str, str], list[int]]:
    """SOURCE place key -> [posts, replies, reactions, files, memberships, expected] missing."""
    out: dict[tuple[str, str], list[int]] = {}
    for (place, kind), count in compared.missing_at.items():
        out.setdefault(src.places[place], [0] * 6)[_MISSING_KINDS[kind]] += count
    for place, count in compared.expected_at.items():
        out.setdefault(src.places[place], [0] * 6)[5] += count
    return out


def _status(in_source: bool, in_target: bool, lost: list[int], expected_only: bool) -> str:
    if not in_source:
        return "extra"
    if expected_only:
        return "not-exported"
    if not in_target:
        return "missing"
    return "incomplete" if any(lost[:5]) else "ok"


class _Counts:
    """One side's record counts by place key and by user name, as the tables need them
    (`SIDED`): one counter per place, team and user."""

    def __init__(
        self,
        side: Side,
        at: Counter[tuple[int, int]],
        by_user: Counter[tuple[int, int]],
    ) -> None:
        self.at: dict[tuple[str, str], Counter[int]] = {}
        for (place, kind), count in at.items():
            self.at.setdefault(side.places[place], Counter())[kind] += count
        self.by_user: dict[str, Counter[int]] = {}
        for (user, kind), count in by_user.items():
            self.by_user.setdefault(side.people[user], Counter())[kind] += count
        for user, count in side.files_by_user.items():
            self.by_user.setdefault(side.people[user], Counter())[FILE] += count
        # A team's: its memberships (place (team, "")), its channel lines, and the posts,
        # replies, reactions and files of its channels.
        self.teams: dict[str, Counter[int]] = {}
        for (team, name), kinds in self.at.items():
            if team:
                self.teams.setdefault(team, Counter()).update(kinds if name else {})
        for team, _ in side.channels:
            self.teams.setdefault(team, Counter())[DEFINED_CHANNELS] += 1
        for team, kinds in self.teams.items():
            kinds[TEAM_MEMBER] = self.place((team, ""), TEAM_MEMBER)

    def place(self, key: tuple[str, str], kind: int) -> int:
        found = self.at.get(key)
        return found[kind] if found else 0

    def of_place(self, key: tuple[str, str]) -> Counter[int]:
        return self.at.get(key) or Counter()

    def team(self, name: str) -> Counter[int]:
        return self.teams.get(name) or Counter()

    def user(self, name: str) -> Counter[int]:
        return self.by_user.get(name) or Counter()


def _tables(result: Reconciliation, src: Side, tgt: Side, compared: _Tallies) -> dict[str, Table]:
    lost = _per_place(src, compared)
    mine = _Counts(src, compared.source_at, compared.source_by_user)
    theirs = _Counts(tgt, compared.target_at, compared.target_by_user)
    zero = [0] * 6
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
    for what, summary in result.summary.items():
        rows["summary"].append((what, *summary.values()))
    # Teams.
    team_lost: dict[str, list[int]] = {}
    for (team, _), place_lost in lost.items():
        if team:
            sums = team_lost.setdefault(team, [0] * 6)
            for i, n in enumerate(place_lost):
                sums[i] += n
    in_mine = {team for team, _ in mine.at if team} | set(src.teams)
    in_theirs = {team for team, _ in theirs.at if team} | set(tgt.teams)
    teams = {team for side in (src, tgt) for team, _ in side.places if team}
    for name in sorted(teams | in_mine | in_theirs):
        counts = team_lost.get(name, zero)
        in_source, in_target = name in in_mine, name in in_theirs
        rows["teams"].append(
            (name, _status(in_source, in_target, counts, False), src.teams.get(name),
             *_sided("teams", mine.team(name), theirs.team(name)), *counts)
        )  # fmt: skip
    # Channels and DMs/GMs.
    keys = {key for key in (*src.places, *tgt.places) if key[1]}
    for key in sorted(keys):
        team, name = key
        counts = lost.get(key, zero)
        in_source = key in mine.at or key in src.channels or name in src.directs
        in_target = key in theirs.at or key in tgt.channels or name in tgt.directs
        if not team:
            expected_only = (
                not in_target and in_source and _place_reason(key, src, tgt) == MEMBER_GONE
            )
            rows["directs"].append(
                (name, "DM" if len(name.split(",")) <= 2 else "GM",
                 _status(in_source, in_target, counts, expected_only), src.directs.get(name),
                 *_sided("directs", mine.of_place(key), theirs.of_place(key)), *counts)
            )  # fmt: skip
            continue
        info = src.channels.get(key)
        expected_only = not in_target and info is not None and info.archived
        rows["channels"].append(
            (team, name, _status(in_source, in_target, counts, expected_only),
             info.line if info else None,
             *_sided("channels", mine.of_place(key), theirs.of_place(key)), *counts)
        )  # fmt: skip
    # Users.
    changed: dict[str, list[str]] = {}
    for change in result.changes:
        changed.setdefault(change.user, []).append(change.field)
    by_user = {src.people[i]: n for i, n in compared.missing_by_user.items()}
    for name in sorted(set(src.users) | set(tgt.users) | set(mine.by_user)):
        user = src.users.get(name) or tgt.users.get(name)
        if name in src.users:
            status = "missing" if name not in tgt.users else "changed" if name in changed else "ok"
        elif name in tgt.users:
            status = "extra"
        else:
            status = "referenced"  # only named in SOURCE posts: a user the destination had
        rows["users"].append(
            (name, user.kind if user else None, status,
             src.users[name].line if name in src.users else None,
             *_sided("users", mine.user(name), theirs.user(name)), by_user.get(name, 0),
             ",".join(changed.get(name, [])) or None)
        )  # fmt: skip
    rows["missing"] = [
        (m.kind, m.line, m.team, m.channel, m.members, m.user, m.detail) for m in result.missing
    ]
    rows["changes"] = [(c.user, c.line, c.field, c.source, c.target) for c in result.changes]
    rows["expected"] = [
        (reason, what, count)
        for reason, counts in sorted(result.expected.items())
        for what, count in sorted(counts.items())
    ]
    return {name: Table(name, COLUMNS[name], rows[name]) for name in COLUMNS}


@dataclass(frozen=True, slots=True)
class PlaceLoss:
    """A team's, channel's or DM/GM's row with something missing (`incomplete_places`)."""

    table: str  # "channels" or "directs"
    place: str  # "team/channel" or "DM a,b"
    status: str
    missing: dict[str, int]  # MISSING_COLUMNS without the prefix -> count
    row: dict[str, Any]  # the whole row (the counts on each side)

    @property
    def total(self) -> int:
        return sum(self.missing.values())


def incomplete_places(result: Reconciliation) -> list[PlaceLoss]:
    """Every channel and DM/GM with something missing, worst (most missing) first."""
    places = []
    for name in ("channels", "directs"):
        table = result.tables[name]
        for row in table.rows:
            values = dict(zip(table.names, row, strict=True))
            missing = {c.removeprefix("missing_"): int(values[c]) for c in MISSING_COLUMNS}
            if not any(missing.values()):
                continue
            label = (
                f"{values['team']}/{values['channel']}"
                if name == "channels"
                else f"{values['kind']} {values['members']}"
            )
            places.append(PlaceLoss(name, label, values["status"], missing, values))
    places.sort(key=lambda p: (-p.total, p.place))
    return places
