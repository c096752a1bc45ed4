"""`--verify-files`: read every file the archive's lines use, end to end, as the server will.

The server reads each attachment, profile image and emoji image in full while importing; a
file whose data is damaged (CRC mismatch, truncated, corrupt deflate stream) then fails to
upload and is dropped (attachments) or stops the import (profile and emoji images). Reading
every file costs as much I/O as the files are large, so this is opt-in.
"""

from __future__ import annotations

from collections.abc import Iterable

from archivekit.errors import ArchiveError, stream_cannot_tell
from archivekit.gosem.archive import server_reads
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, error
from archivekit.read import Archive


def verify_files(archive: Archive, keys: Iterable[str], fatal: Iterable[str] = ()) -> list[Issue]:
    """Issues for the members (by NFC key) whose data cannot be read back intact.

    `fatal` lists the keys whose failure stops the import (profile and emoji images); any
    other damaged file is dropped by the server.
    """
    stops = set(fatal)
    issues: list[Issue] = []
    for key in sorted(keys):
        member = archive.lookup(key)
        if member is None or member.is_dir or not server_reads(member.method, member.encrypted):
            continue  # missing or unreadable members are reported elsewhere
        try:
            for _ in archive.iter_member_blocks(member):
                pass
        except ArchiveError as exc:
            if stream_cannot_tell(exc):
                raise
            found = exc.issue
            consequence = (
                "the server stops the import when it reads it"
                if key in stops
                else "the server drops the file when it reads it"
            )
            issues.append(
                error(
                    found.code if found.code.startswith(("member-", "zip-")) else "zip-corrupt",
                    f"{member.name!r} cannot be read intact ({found.message}); {consequence} — "
                    "export or zip the archive again",
                    effect=FAILS_IMPORT if key in stops else DROPS_DATA,
                    values={**found.values, "member": member.name},
                ).at(member.name, None)
            )
    return issues
