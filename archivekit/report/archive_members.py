"""The members of an input archive (the report page's member manifest): what is in the zip,
with sizes (and SHA-256 on request). Not the manifest a writer puts beside its output
(`archivekit.write.manifest`).

Counts and byte totals are exact for any archive; the listed members are capped (the JSONL
first, then the others in central-directory order) so that a page listing them stays small.
With `checksums`, every file member is read in full (that is what it costs) and hashed; the
listed rows show their SHA-256, and `digest` is the SHA-256 of the whole manifest — one line
``<sha256>  <size>  <name>`` per file member in archive order — so that two copies of an
archive can be compared by one value. A member that cannot be read (unsupported compression,
encrypted, damaged) has no checksum and is counted in `unreadable`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from archivekit.errors import ArchiveError
from archivekit.gosem.archive import server_reads
from archivekit.read import Archive, MemberInfo

MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class MemberRow:
    name: str
    size: int
    compressed_size: int
    method: int
    sha256: str | None = None


@dataclass(slots=True)
class MemberManifest:
    """The members of an archive: exact totals, the first `MAX_LISTED` rows."""

    members: int = 0  # file members (directories aside), duplicates included
    bytes: int = 0  # their uncompressed size
    data_files: int = 0  # of which under data/
    data_bytes: int = 0
    rows: list[MemberRow] = field(default_factory=list)
    checksums: bool = False
    unreadable: int = 0
    digest: str | None = None

    @property
    def truncated(self) -> bool:
        return len(self.rows) < self.members


def _sha256(archive: Archive, member: MemberInfo) -> str | None:
    if not server_reads(member.method, member.encrypted):
        return None
    digest = hashlib.sha256()
    try:
        for block in archive.iter_member_blocks(member):
            digest.update(block)
    except ArchiveError:
        return None
    return digest.hexdigest()


def member_manifest(
    archive: Archive, *, checksums: bool = False, max_listed: int = MAX_LISTED
) -> MemberManifest:
    """The manifest of an open archive (see the module docstring)."""
    index = archive.index
    result = MemberManifest(checksums=checksums)
    result.data_files, result.data_bytes = index.file_totals()
    outside = index.outside_data()
    result.members = result.data_files + len(outside)
    result.bytes = result.data_bytes + index.total_size(outside)
    jsonl = archive.jsonl
    rows = [_row(jsonl, None)]  # the JSONL first; its checksum comes with the others'
    whole = hashlib.sha256() if checksums else None
    # Without checksums only the listed rows are built (a MemberInfo per member is slow on a
    # zip of millions); with them every member is read anyway.
    count = len(index) if checksums else min(len(index), max_listed + 1)
    for i in range(count):
        member = index[i]
        if member.is_dir:
            continue
        listed = member.index != jsonl.index and len(rows) < max_listed
        sha = _sha256(archive, member) if checksums else None
        if member.index == jsonl.index:
            rows[0] = _row(member, sha)
        if whole is not None:
            result.unreadable += sha is None
            whole.update(f"{sha or '-'}  {member.size}  {member.name}\n".encode())
        if listed:
            rows.append(_row(member, sha))
    result.rows = rows
    result.digest = whole.hexdigest() if whole is not None else None
    return result


def _row(member: MemberInfo, sha: str | None) -> MemberRow:
    return MemberRow(member.name, member.size, member.compressed_size, member.method, sha)
