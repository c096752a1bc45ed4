"""`merge`: several archives into one that imports like importing them one after the other.

The output has one version line (the first input's), then the line types in the exporter's
order (`EXPORT_ORDER`: schemes, roles, teams, channels, users, bots, posts, emoji, DM channels,
direct posts), so everything a line refers to comes in an earlier block.

* **Definitions** (roles, schemes, teams, channels, users, bots, emoji, DM channels) are written
  once per identity — the importer's own: team and username lowercased, a channel by team and
  lowercased name, a DM/GM by its member set. When several inputs define the same one, the
  later definition wins, as it would when importing them in turn; a user's team and channel
  memberships are the union of all (the importer adds memberships, it never removes one).
  Definitions that differ in more than memberships are reported (`merge-conflict`), e.g. the
  same username with two emails.
* **Posts and direct posts** are deduplicated across inputs by the importer's identity
  (channel, ``create_at``, message): the later input's line is kept, the earlier ones
  dropped; if their lines differ that is reported too. Duplicates inside one input are left
  as they are (they are that input's, and `validate` reports them). So merging the parts of a
  split gives back the source's lines except the earlier copy of a post the source repeats in
  two parts: what importing the parts in turn leaves (the later copy updates the post).
* **Files** are copied once per name (the later input's, reported when the contents differ),
  and only those the kept lines refer to.

Lines that cannot be judged (undecodable, unknown type) are kept, after everything else, and
counted. Two passes over each input: the first indexes definitions (spooled to a temporary
file) and post identities (hashed into temporary bucket files, then resolved into one array of
the lines to drop: `_PostIndex`), the second writes.
"""

from __future__ import annotations

import hashlib
import tempfile
import zlib
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from archivekit.check.fast.fastpath import DIRECT_POST_TYPE_PREFIX, POST_TYPE_PREFIX
from archivekit.check.files import ReferencedFiles
from archivekit.check.references import Existing
from archivekit.errors import ArchiveKitError
from archivekit.gosem.decode import POST_LINE_TYPES, decode_line
from archivekit.gosem.strings import go_lower, members_key, members_text
from archivekit.issues import Issue, warning
from archivekit.read import Archive, LineTooLong, MemberInfo, iter_line_batches
from archivekit.runtime import partial_name_owner, remove_abandoned
from archivekit.write.core import ArchiveWriter, LineSpool, find_file
from archivekit.write.lines import VERSION_LINE, LineDecoder, encode, payload_of, post_facts
from archivekit.write.select import (
    DEFINITION_TYPES,
    EXPORT_ORDER,
    by_export_order,
)

_BUCKETS: Final = 256
_RECORD: Final = 4  # uint64 words per post record: identity (2), input << 40 | line, line hash
_LINE_BITS: Final = 40
_MAX_CONFLICTS: Final = 50  # conflicts kept as issues (their count stays exact)
_TEMP_PREFIX: Final = ".archivekit-merge-"


@dataclass(slots=True)
class MergeStats:
    lines_read: list[int] = field(default_factory=list)  # per input
    written: Counter[str] = field(default_factory=Counter)  # lines by type
    merged: Counter[str] = field(default_factory=Counter)  # definitions given several times
    duplicates: Counter[str] = field(default_factory=Counter)  # posts dropped as duplicates
    conflicts: Counter[str] = field(default_factory=Counter)  # by kind: definition, post, file
    unjudged: int = 0
    too_long: int = 0
    versions_dropped: int = 0
    files: int = 0
    file_bytes: int = 0
    files_merged: int = 0  # file names several inputs have
    files_left_out: int = 0
    issues: list[Issue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        ordered = by_export_order
        return {
            "lines_read": self.lines_read,
            "written": ordered(self.written),
            "merged_definitions": ordered(self.merged),
            "duplicate_posts_dropped": ordered(self.duplicates),
            "conflicts": dict(self.conflicts),
            "unjudged": self.unjudged,
            "too_long": self.too_long,
            "files": self.files,
            "file_bytes": self.file_bytes,
            "files_merged": self.files_merged,
            "files_left_out": self.files_left_out,
            "issues": [i.to_dict() for i in self.issues],
        }


def _definition_key(line_type: str, payload: dict[str, Any]) -> str | None:
    """The importer's identity of a definition (reference §6), as a string."""
    if line_type in ("team", "user", "bot"):
        name = payload.get("username" if line_type != "team" else "name")
        return go_lower(name) if isinstance(name, str) and name else None
    if line_type == "channel":
        team, name = payload.get("team"), payload.get("name")
        if isinstance(team, str) and isinstance(name, str) and team and name:
            return f"{go_lower(team)}/{go_lower(name)}"
        return None
    if line_type == "direct_channel":
        participants = payload.get("participants")
        if participants is not None:
            names = [(p or {}).get("username") for p in participants if isinstance(p, dict)]
        else:
            names = list(payload.get("members") or ())
        members = members_key(n for n in names if isinstance(n, str) and n)
        return members_text(members) if members else None
    name = payload.get("name")
    return name if isinstance(name, str) and name else None


def _comparable(line_type: str, payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """A definition's fields as the importer compares them: a direct channel's members (or
    participants) are a set, so the same DM listed in another order is no conflict."""
    if line_type != "direct_channel" or payload is None:
        return payload
    comparable = dict(payload)
    members = payload.get("members")
    if isinstance(members, list):
        comparable["members"] = sorted({go_lower(m) for m in members if isinstance(m, str)})
    participants = payload.get("participants")
    if isinstance(participants, list):
        named = [
            {**p, "username": go_lower(p["username"])} if isinstance(p.get("username"), str) else p
            for p in participants
            if isinstance(p, dict)
        ]
        comparable["participants"] = sorted(named, key=lambda p: str(p.get("username")))
    return comparable


def _post_identity(line_type: str, payload: dict[str, Any]) -> bytes | None:
    """The importer's identity of a post (channel, create_at, message), or None."""
    create_at, message = payload.get("create_at"), payload.get("message")
    if type(create_at) is not int or not isinstance(message, str):
        return None
    if line_type == "post":
        team, channel = payload.get("team"), payload.get("channel")
        if not (isinstance(team, str) and isinstance(channel, str)):
            return None
        place: list[Any] = ["post", go_lower(team), go_lower(channel)]
    else:
        members = payload.get("channel_members") or ()
        place = ["direct", *sorted(go_lower(m) for m in members if isinstance(m, str))]
    return orjson.dumps([*place, create_at, message])


def _digest(data: bytes) -> tuple[int, int]:
    digest = hashlib.blake2b(data, digest_size=16).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


class _PostIndex:
    """Post identities of every input, hashed into bucket files; then the lines to drop
    because a later input has a post with the same identity.

    Memory: 32 bytes per post while indexing, written out in bucket files (at most 32 MB
    pending); resolving reads one bucket at a time; what is kept is one sorted array of
    8 bytes per dropped duplicate (input and line packed), whatever the number of inputs."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._pending = array("Q")
        self._drops: Any = None  # numpy uint64: (input << 40 | line), ascending
        self.conflicts: list[tuple[int, int, int, int]] = []  # input, line, later input, line
        self.duplicates = 0
        self.conflict_count = 0

    def add(self, source: int, line: int, identity: bytes, raw: bytes) -> None:
        high, low = _digest(identity)
        whole = _digest(raw)[0]
        self._pending.extend((high, low, (source << _LINE_BITS) | line, whole))
        if len(self._pending) >= (1 << 20) * _RECORD:
            self._flush()

    def _flush(self) -> None:
        import numpy as np

        if not self._pending:
            return
        records = np.frombuffer(self._pending, dtype=np.uint64).reshape(-1, _RECORD)
        buckets = (records[:, 0] >> np.uint64(56)).astype(np.int64)
        for bucket in np.unique(buckets):
            with open(self._folder / f"posts-{int(bucket):03d}", "ab") as out:
                out.write(records[buckets == bucket].tobytes())
        self._pending = array("Q")

    def resolve(self) -> None:
        """Find the identities several inputs have; remember what to drop, and conflicts."""
        import numpy as np

        self._flush()
        chunks = []
        for path in sorted(self._folder.glob("posts-*")):
            records = np.fromfile(path, dtype=np.uint64).reshape(-1, _RECORD)
            path.unlink()
            chunks.append(self._bucket_drops(records))
        drops = np.concatenate(chunks) if chunks else np.empty(0, np.uint64)
        drops.sort()
        self._drops = drops

    def _bucket_drops(self, records: Any) -> Any:
        """The (input << 40 | line) of the posts of one bucket that a later input has too,
        whole-array (no Python object per post); conflicts counted, the first few kept."""
        import numpy as np

        # By identity, then input and line: each identity's rows end with the last input's.
        records = records[np.lexsort((records[:, 2], records[:, 1], records[:, 0]))]
        count = len(records)
        if count < 2:
            return np.empty(0, np.uint64)
        place, whole = records[:, 2], records[:, 3]
        source = place >> np.uint64(_LINE_BITS)
        new_group = np.ones(count, dtype=bool)
        new_group[1:] = (records[1:, 0] != records[:-1, 0]) | (records[1:, 1] != records[:-1, 1])
        group = np.cumsum(new_group) - 1
        ends = np.append(np.flatnonzero(new_group)[1:], count) - 1  # each group's last row
        # Rows of an earlier input than the group's last input are dropped (duplicates inside
        # one input are left as they are: they are that input's).
        last_source = source[ends][group]
        drop = source != last_source
        if not drop.any():
            return np.empty(0, np.uint64)
        # The kept line a dropped one is compared with: the first row of the last input.
        new_run = new_group.copy()
        new_run[1:] |= source[1:] != source[:-1]
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(count), 0))
        kept_row = run_start[ends][group]
        conflict = drop & (whole != whole[kept_row])
        self.duplicates += int(drop.sum())
        self.conflict_count += int(conflict.sum())
        room = _MAX_CONFLICTS - len(self.conflicts)
        mask = np.uint64((1 << _LINE_BITS) - 1)
        for row in np.flatnonzero(conflict)[: max(room, 0)].tolist():
            kept = int(place[kept_row[row]])
            self.conflicts.append(
                (
                    int(source[row]),
                    int(place[row] & mask),
                    kept >> _LINE_BITS,
                    kept & ((1 << _LINE_BITS) - 1),
                )
            )
        return place[drop]

    def dropped(self, source: int) -> Iterator[int]:
        """The lines of ``source`` to leave out, ascending."""
        import numpy as np

        drops = self._drops
        if drops is None or not len(drops):
            return
        bounds = np.array([source << _LINE_BITS, (source + 1) << _LINE_BITS], dtype=np.uint64)
        start, stop = np.searchsorted(drops, bounds).tolist()
        mask = np.uint64((1 << _LINE_BITS) - 1)
        for at in range(start, stop, 1 << 16):  # a bounded slice of Python ints at a time
            yield from (drops[at : min(stop, at + (1 << 16))] & mask).tolist()


@dataclass(slots=True)
class _Definition:
    """Where the definitions of one identity are in the spool (first to last)."""

    line_type: str
    records: list[int] = field(default_factory=list)  # spool offsets
    origins: list[tuple[int, int]] = field(default_factory=list)  # (input, line)


class MergeRun:
    """Merge ``archives`` (in order: later wins) into ``writer``."""

    def __init__(
        self,
        archives: Sequence[Archive],
        writer: ArchiveWriter,
        names: Sequence[str],
        *,
        spool_folder: str | None = None,
    ) -> None:
        self.archives = archives
        self.names = names
        self.writer = writer
        self.stats = MergeStats()
        if spool_folder is not None:
            remove_abandoned(spool_folder, _TEMP_PREFIX)
        self._tmp = tempfile.TemporaryDirectory(
            prefix=_TEMP_PREFIX + partial_name_owner(), dir=spool_folder
        )
        folder = Path(self._tmp.name)
        self._definitions = LineSpool(folder)
        self._index: dict[str, dict[str, _Definition]] = {t: {} for t in DEFINITION_TYPES}
        self._posts = _PostIndex(folder)
        self._directs = LineSpool(folder)
        self._unjudged = LineSpool(folder)
        self._version: bytes | None = None
        # The files kept lines name: one bit per entry of the input whose copy wins (the last
        # input that has the name, as importing them in turn would leave it).
        self._referenced = [ReferencedFiles(len(archive.index)) for archive in archives]

    def run(self) -> MergeStats:
        self.index()
        return self.write()

    def index(self) -> list[Existing]:
        """Pass 1 over every input. Returns, for each input, what the inputs before it define
        (teams, channels, users, schemes): what exists on the server when it is imported."""
        seen = Existing()
        before: list[Existing] = []
        try:
            for source, archive in enumerate(self.archives):
                before.append(seen)
                defined = self._index_input(source, archive)
                seen = Existing(
                    seen.teams | defined.teams,
                    seen.channels | defined.channels,
                    seen.users | defined.users,
                    seen.schemes | defined.schemes,
                )
            self._posts.resolve()
        except BaseException:
            self._close()
            raise
        return before

    def write(self) -> MergeStats:
        """Pass 2: write the merged archive (after `index`)."""
        try:
            self._report_post_conflicts()
            self.writer.jsonl.keep(self._version or VERSION_LINE)
            self.stats.written["version"] += 1
            for line_type in EXPORT_ORDER[1:]:
                if line_type == "post":
                    for source, archive in enumerate(self.archives):
                        self._write_content(source, archive)
                elif line_type == "direct_post":
                    for _tag, raw in self._directs.replay():
                        self._emit(raw, "direct_post")
                else:
                    self._write_definitions(line_type)
            for _tag, raw in self._unjudged.replay():
                self.writer.jsonl.keep(raw)
            self._copy_files()
        finally:
            self._close()
        return self.stats

    def _close(self) -> None:
        for spool in (self._definitions, self._directs, self._unjudged):
            spool.close()
        self._tmp.cleanup()

    # --- pass 1: index ----------------------------------------------------------------------
    def _lines(self, archive: Archive) -> Iterator[tuple[int, bytes | LineTooLong]]:
        number = 0
        for batch in iter_line_batches(archive.iter_jsonl_blocks()):
            for raw in batch:
                number += 1
                yield number, raw

    def _index_input(self, source: int, archive: Archive) -> Existing:
        decoder = LineDecoder()
        count = 0
        for number, raw in self._lines(archive):
            count = number
            if isinstance(raw, LineTooLong):
                self.stats.too_long += 1
                continue
            envelope = decoder.decode(raw)
            line_type, payload = payload_of(envelope) if envelope is not None else ("", None)
            if number == 1 and envelope is not None and line_type == "version":
                if self._version is None:
                    self._version = raw
                else:
                    self.stats.versions_dropped += 1
                continue
            judged = line_type in DEFINITION_TYPES or line_type in POST_LINE_TYPES
            if payload is None or not judged:
                self._unjudged.add(raw)
                self.stats.unjudged += 1
                continue
            if line_type in POST_LINE_TYPES:
                post = _post_identity(line_type, payload)
                if post is not None:
                    self._posts.add(source, number, post, raw)
                continue
            key = _definition_key(line_type, payload)
            if key is None:
                key = f"\x00line {source}:{number}"  # no identity: never merged
            entry = self._index[line_type].setdefault(key, _Definition(line_type))
            entry.records.append(self._definitions.add_record(raw, source))
            entry.origins.append((source, number))
        self.stats.lines_read.append(count)
        return Existing(
            frozenset(decoder.teams),
            frozenset(decoder.channels),
            frozenset(decoder.users),
            frozenset(decoder.schemes),
        )

    # --- pass 2: write ----------------------------------------------------------------------
    def _emit(self, raw: bytes, line_type: str, *, keep: bool = True) -> None:
        if keep:
            self.writer.jsonl.keep(raw)
        else:
            self.writer.jsonl.write(raw)
        self.stats.written[line_type] += 1

    def _write_content(self, source: int, archive: Archive) -> None:
        dropped = self._posts.dropped(source)
        next_drop = next(dropped, None)
        decoder = LineDecoder()
        for number, raw in self._lines(archive):
            if isinstance(raw, LineTooLong):
                continue
            is_post = raw.startswith(POST_TYPE_PREFIX)
            is_direct = raw.startswith(DIRECT_POST_TYPE_PREFIX)
            envelope = None
            if not (is_post or is_direct):
                envelope = decoder.decode(raw)
                kind = payload_of(envelope)[0] if envelope is not None else ""
                if kind not in POST_LINE_TYPES:
                    continue  # definitions and the rest were handled in pass 1
                is_direct = kind == "direct_post"
            while next_drop is not None and next_drop < number:
                next_drop = next(dropped, None)
            kind = POST_LINE_TYPES[is_direct]
            if next_drop == number:
                self.stats.duplicates[kind] += 1
                continue
            self._reference_files(archive, decoder, raw, envelope)
            if is_direct:
                self._directs.add(raw)
            else:
                self._emit(raw, "post")

    def _reference_files(
        self, archive: Archive, decoder: LineDecoder, raw: bytes, envelope: dict[str, Any] | None
    ) -> None:
        if decoder.accepts(raw):
            return  # the scanner declines any line with attachments
        if envelope is None:
            envelope = decoder.decode(raw)
        if envelope is None:
            return
        line_type, payload = payload_of(envelope)
        if payload is not None and line_type in POST_LINE_TYPES:
            for path in post_facts(line_type, payload).paths:
                self._reference(path)

    def _reference(self, path: Any) -> None:
        if not isinstance(path, str) or not path:
            return
        for source in reversed(range(len(self.archives))):
            found = find_file(self.archives[source], path)
            if found >= 0:
                self._referenced[source].add(found)
                return

    def _holders(self, key: str, but: int) -> list[tuple[int, MemberInfo]]:
        """The entries other inputs than ``but`` have under ``key``."""
        found = []
        for source, archive in enumerate(self.archives):
            if source != but and archive.kind != "jsonl":
                index = archive.index.find(key)
                if index >= 0:
                    found.append((source, archive.index[index]))
        return found

    def _write_definitions(self, line_type: str) -> None:
        for key, entry in self._index[line_type].items():
            records = [self._definitions.read_record(offset) for offset in entry.records]
            raw = records[-1][1]
            if len(records) == 1:
                self._write_definition(line_type, raw, decode_line(raw)[0], keep=True)
                continue
            self.stats.merged[line_type] += 1
            envelopes = [decode_line(r)[0] for _, r in records]
            merged = _merge_definitions(line_type, envelopes)
            self._report_definition_conflict(line_type, key, entry, envelopes)
            if merged is None:
                self._write_definition(line_type, raw, envelopes[-1], keep=True)
            else:
                self._write_definition(line_type, encode(merged), merged, keep=False)

    def _write_definition(
        self, line_type: str, line: bytes, envelope: dict[str, Any] | None, *, keep: bool
    ) -> None:
        self._emit(line, line_type, keep=keep)
        payload = payload_of(envelope)[1] if envelope is not None else None
        if payload is None:
            return
        if line_type in ("user", "bot"):
            self._reference(payload.get("profile_image"))
        elif line_type == "emoji":
            self._reference(payload.get("image"))

    # --- conflicts --------------------------------------------------------------------------
    def _report_definition_conflict(
        self,
        line_type: str,
        key: str,
        entry: _Definition,
        envelopes: list[dict[str, Any] | None],
    ) -> None:
        payloads = [_comparable(line_type, payload_of(e)[1] if e else None) for e in envelopes]
        last = payloads[-1] or {}
        differing: set[str] = set()
        for payload in payloads[:-1]:
            payload = payload or {}
            for name in set(payload) | set(last):
                if name != "teams" and payload.get(name) != last.get(name):
                    differing.add(name)
        if not differing:
            return
        self.stats.conflicts["definition"] += 1
        if len(self.stats.issues) >= _MAX_CONFLICTS:
            return
        source, line = entry.origins[-1]
        earlier = ", ".join(f"{self.names[s]} line {n}" for s, n in entry.origins[:-1])
        fields = ", ".join(sorted(differing))
        self.stats.issues.append(
            warning(
                "merge-conflict",
                f"{line_type} {key!r} is defined differently in {earlier} and in "
                f"{self.names[source]} line {line} ({fields} differ): the later definition is "
                "kept, as the importer would update with it — check that this is the same "
                f"{line_type}",
                field=f"{line_type}.{sorted(differing)[0]}",
                values={
                    "kind": line_type,
                    "name": key,
                    "earlier": earlier,
                    "kept_input": self.names[source],
                    "kept_line": line,
                    "fields": fields,
                },
            ).at(self.names[source], line)
        )

    def _report_post_conflicts(self) -> None:
        self.stats.conflicts["post"] += self._posts.conflict_count
        for source, line, later, later_line in self._posts.conflicts:
            if len(self.stats.issues) >= _MAX_CONFLICTS:
                break
            self.stats.issues.append(
                warning(
                    "merge-conflict",
                    f"this post has the same channel, create_at and message as "
                    f"{self.names[later]} line {later_line}, but the lines differ: the later one "
                    "is kept (the importer would overwrite this post with it)",
                    values={"kept_input": self.names[later], "kept_line": later_line},
                ).at(self.names[source], line)
            )

    # --- files ------------------------------------------------------------------------------
    def _copy_files(self) -> None:
        stats = self.stats
        for source, archive in enumerate(self.archives):
            for index in self._referenced[source].indexes():
                member = archive.index[index]
                shadowed = self._holders(member.key, source)
                if shadowed:
                    stats.files_merged += 1
                    mine = self._crc(source, member)
                    if any(self._crc(s, m) != mine for s, m in shadowed):
                        self._file_conflict(member.key, source, shadowed)
                self.writer.copy_member(archive, member)
                stats.files += 1
                stats.file_bytes += member.size
        for source, archive in enumerate(self.archives):
            if archive.kind == "jsonl":
                continue
            left = archive.index.unreferenced(self._referenced[source].bits, archive.jsonl.index)
            for index in left:
                if not self._in_output(archive.index[index].key):
                    stats.files_left_out += 1

    def _in_output(self, key: str) -> bool:
        for source in reversed(range(len(self.archives))):
            archive = self.archives[source]
            found = archive.index.find(key) if archive.kind != "jsonl" else -1
            if found >= 0:
                return found in self._referenced[source]
        return False

    def _crc(self, source: int, member: MemberInfo) -> tuple[int, int]:
        """(size, CRC-32) of a member: from the zip's directory, or read from a folder's file
        (an export folder has no recorded CRC)."""
        archive = self.archives[source]
        if archive.kind == "zip":
            return member.size, member.crc
        crc = 0
        try:
            for block in archive.iter_member_blocks(member):
                crc = zlib.crc32(block, crc)
        except ArchiveKitError:
            return member.size, -1
        return member.size, crc

    def _file_conflict(self, key: str, source: int, shadowed: list[tuple[int, MemberInfo]]) -> None:
        self.stats.conflicts["file"] += 1
        if len(self.stats.issues) >= _MAX_CONFLICTS:
            return
        others = ", ".join(self.names[s] for s, _ in shadowed)
        self.stats.issues.append(
            warning(
                "merge-conflict",
                f"{others} and {self.names[source]} both have a file {key!r} with different "
                f"content: the one from {self.names[source]} (the later input) is kept",
                values={"member": key, "earlier": others, "kept_input": self.names[source]},
            ).at(self.names[source], None)
        )


def _merge_definitions(
    line_type: str, envelopes: list[dict[str, Any] | None]
) -> dict[str, Any] | None:
    """The merged envelope of several definitions of one user (memberships united, the later
    entries winning), or None: the last definition as it is."""
    if line_type != "user":
        return None
    usable = [e for e in envelopes if e is not None and isinstance(e.get("user"), dict)]
    if len(usable) < 2:
        return None
    teams: dict[str, dict[str, Any]] = {}
    for envelope in usable:
        for membership in envelope["user"].get("teams") or ():
            if not isinstance(membership, dict):
                continue
            name = go_lower(str(membership.get("name") or ""))
            earlier = teams.get(name)
            if earlier is None:
                teams[name] = dict(membership)
                continue
            channels: dict[str, Any] = {}
            for channel in (earlier.get("channels") or []) + (membership.get("channels") or []):
                if isinstance(channel, dict):
                    channels[go_lower(str(channel.get("name") or ""))] = channel
            teams[name] = {**earlier, **membership, "channels": list(channels.values())}
    last = usable[-1]
    merged_teams = list(teams.values())
    if merged_teams == (last["user"].get("teams") or []):
        return None
    return {**last, "user": {**last["user"], "teams": merged_teams}}
