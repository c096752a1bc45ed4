"""Opening an import source: a zip, a bare ``.jsonl`` or an unzipped export directory.

Owns `open_archive` and `Archive`: detecting the kind of input by content, choosing the JSONL
member exactly as the server does (reference §1.2), the archive-level issues found at open
(JSONL choice, compression methods, encryption, member-name hygiene, §1.4 and §12 item 1), and
streaming member data with the zip-bomb limits. Nothing is ever extracted to disk: member names
are data, never used as paths (except below an export directory the user gave us).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import BinaryIO, Literal

from archivekit.errors import ArchiveError
from archivekit.gosem.paths import member_key
from archivekit.issues import DROPS_DATA, Issue, error, warning
from archivekit.read.inflate import (
    DEFLATE64,
    READABLE_METHODS,
    SERVER_METHODS,
    ReadBudget,
    ReadLimits,
    check_member_size,
    iter_file_blocks,
    iter_member_data,
    method_name,
)
from archivekit.read.members import ListIndex, MemberIndex, read_member_index
from archivekit.read.zipdir import MemberInfo, go_dir, looks_like_zip, read_data_offset

Kind = Literal["zip", "jsonl", "dir"]

OPEN_FILE_ERROR_ID = "import_process.worker.do_job.open_file"
MISSING_JSONL_ERROR_ID = "import_process.worker.do_job.missing_jsonl"
_REZIP_HINT = "Re-zip with deflate, e.g. `zip -r -Z deflate new.zip import.jsonl data`."


class Archive:
    """An opened import source; use as a context manager or call `close`."""

    path: str
    kind: Kind
    size: int  # bytes on disk (for a directory: the sum of its files)
    jsonl: MemberInfo  # the chosen JSONL member (for a bare .jsonl: itself)
    issues: list[Issue]  # archive-level issues found at open (member=name, line=None)

    def __init__(
        self,
        path: str,
        kind: Kind,
        size: int,
        members: MemberIndex | Sequence[MemberInfo],
        jsonl: MemberInfo,
        *,
        limits: ReadLimits,
        fh: BinaryIO | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.size = size
        self.jsonl = jsonl
        self.issues = []
        # The entries and the server's map from NFC key to entry (archivekit.read.members).
        self.index = members if isinstance(members, MemberIndex) else ListIndex(members)
        self._limits = limits
        self._budget = ReadBudget(limits)
        self._fh = fh

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def members(self) -> Sequence[MemberInfo]:
        """All entries in central-directory order (sorted names for a directory).

        Each `MemberInfo` is built when it is read: fine for a few, slow for every entry of a
        large zip — whole-archive counts have cheap paths on `index` (`MemberIndex`)."""
        return self.index

    def lookup(self, key: str) -> MemberInfo | None:
        """The entry the server finds for an NFC key; the last of duplicates wins."""
        return self.index.lookup(key)

    def iter_member_blocks(self, member: MemberInfo, block_size: int = 1 << 20) -> Iterator[bytes]:
        """Uncompressed data of ``member`` in blocks of at most about ``block_size`` bytes.

        Raises `ArchiveError` (now or while iterating) for unreadable, damaged or oversized
        data; size and CRC-32 are checked once the last block has been read.
        """
        check_member_size(member, self._limits)
        return self._stream(member, block_size)

    def read_member_head(self, member: MemberInfo, n: int) -> bytes:
        """The first ``n`` uncompressed bytes (fewer if the member is shorter).

        Only what is read counts against the limits, so the head of a huge member is fine.
        """
        if n <= 0:
            return b""
        parts: list[bytes] = []
        got = 0
        blocks = self._stream(member, min(n, 1 << 20))
        for block in blocks:
            parts.append(block)
            got += len(block)
            if got >= n:
                break
        return b"".join(parts)[:n]

    def iter_jsonl_blocks(self, block_size: int = 1 << 20) -> Iterator[bytes]:
        return self.iter_member_blocks(self.jsonl, block_size)

    def _open_handle(self) -> BinaryIO:
        if self._fh is None:
            raise ValueError("the archive is closed")
        return self._fh

    def _stream(self, member: MemberInfo, block_size: int) -> Iterator[bytes]:
        if self.kind != "zip":
            return self._iter_plain_file(member, block_size)
        if member.encrypted:
            raise ArchiveError(
                error("member-encrypted", f"Member {member.name!r} is encrypted: cannot read it.")
            )
        fh = self._open_handle()
        offset = read_data_offset(fh, member, self.size)
        return iter_member_data(fh, offset, member, block_size, self._budget)

    def _iter_plain_file(self, member: MemberInfo, block_size: int) -> Iterator[bytes]:
        path = self.path if self.kind == "jsonl" else os.path.join(self.path, member.name)
        with open(path, "rb", buffering=0) as fh:
            yield from iter_file_blocks(fh, member, block_size, self._budget)


def open_archive(
    path: str | os.PathLike[str],
    *,
    limits: ReadLimits | None = None,
    index: MemberIndex | None = None,
) -> Archive:
    """Open a zip, a bare ``.jsonl`` or an export directory for reading.

    `index`: the member index of this same zip, read before (a forked worker reuses its
    parent's instead of reading the central directory again); None reads it.

    Raises `ArchiveError` when it cannot be used: ``not-a-zip``, ``zip-truncated``,
    ``zip-corrupt``, ``zip-multidisk``, ``jsonl-missing``, ``jsonl-unsupported-compression``.
    """
    path = os.fspath(path)
    limits = limits or ReadLimits()
    if os.path.isdir(path):
        return _open_directory(path, limits)
    try:
        fh: BinaryIO = open(path, "rb", buffering=0)  # noqa: SIM115 - owned by the Archive
    except OSError as exc:
        raise ArchiveError(
            error("not-a-zip", f"Cannot open {path}: {exc.strerror or exc}.")
        ) from None
    try:
        size = os.fstat(fh.fileno()).st_size
        if not looks_like_zip(fh, size) and path.lower().endswith(".jsonl"):
            fh.close()
            return _open_bare_jsonl(path, size, limits)
        return _open_zip(path, fh, size, limits, index)
    except BaseException:
        fh.close()
        raise


def reopen_jsonl(path: str, jsonl: MemberInfo, *, limits: ReadLimits | None = None) -> Archive:
    """A zip opened before, again, for a process that only streams its JSONL (`jsonl`, as the
    first `open_archive` chose it): the central directory is not read again, the archive's
    `index` holds that one member and `issues` is empty."""
    fh: BinaryIO = open(path, "rb", buffering=0)  # noqa: SIM115 - owned by the Archive
    try:
        size = os.fstat(fh.fileno()).st_size
        only = ListIndex([replace(jsonl, index=0)])
        return Archive(path, "zip", size, only, only[0], limits=limits or ReadLimits(), fh=fh)
    except BaseException:
        fh.close()
        raise


def _open_zip(
    path: str, fh: BinaryIO, size: int, limits: ReadLimits, index: MemberIndex | None
) -> Archive:
    if index is None:
        index = read_member_index(fh, size)
    # Only the few entries these checks can concern become MemberInfo objects.
    jsonl, jsonl_issues = choose_jsonl([index[i] for i in index.ending_with(".jsonl")])
    _require_readable_jsonl(jsonl)
    read_data_offset(fh, jsonl, size)  # fail now, not mid-run, if its header is damaged
    archive = Archive(path, "zip", size, index, jsonl, limits=limits, fh=fh)
    archive.issues.extend(jsonl_issues)
    archive.issues.extend(member_issues([index[i] for i in index.suspects()], jsonl))
    return archive


def _open_bare_jsonl(path: str, size: int, limits: ReadLimits) -> Archive:
    name = os.path.basename(path)
    member = _plain_member(name, 0, size)
    archive = Archive(path, "jsonl", size, [member], member, limits=limits)
    archive.issues.append(
        warning(
            "jsonl-not-zipped",
            "This is a bare JSONL file, not a zip: the server's import job only opens zip "
            f"archives (it fails with {OPEN_FILE_ERROR_ID}), and attachments, profile and "
            "emoji images cannot be checked. Zip it with its data folder: "
            "`zip -r import.zip import.jsonl data`.",
        ).at(name, None)
    )
    return archive


def _open_directory(path: str, limits: ReadLimits) -> Archive:
    names: list[tuple[str, int]] = []
    for folder, _dirs, files in os.walk(path):  # symlinked folders are not descended
        for file_name in files:
            full = os.path.join(folder, file_name)
            if os.path.isfile(full):  # skips broken links, sockets, fifos
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                names.append((rel, os.path.getsize(full)))
    names.sort()
    members = [_plain_member(name, i, size) for i, (name, size) in enumerate(names)]
    roots = [m for m in members if _is_root_jsonl(m.name)]
    if not roots:
        raise _missing_jsonl(members, "directory")
    archive = Archive(path, "dir", sum(s for _, s in names), members, roots[0], limits=limits)
    archive.issues.extend(_extra_jsonl_issues(roots))
    archive.issues.extend(member_issues(members, roots[0]))
    return archive


def _plain_member(name: str, index: int, size: int) -> MemberInfo:
    return MemberInfo(
        name=name,
        key=member_key(name),
        index=index,
        method=0,
        flags=0,
        compressed_size=size,
        size=size,
        crc=0,
        header_offset=0,
        is_dir=False,
        is_symlink=False,
        encrypted=False,
    )


# --- JSONL discovery ----------------------------------------------------------------------


def _is_root_jsonl(name: str) -> bool:
    """The server's ``IsRootJsonlFile``: a ``.jsonl`` suffix and Go ``filepath.Dir == "."``."""
    return name.endswith(".jsonl") and go_dir(name) == "."


def choose_jsonl(members: Sequence[MemberInfo]) -> tuple[MemberInfo, list[Issue]]:
    """The member the server imports, and the issues about that choice (`members`: every
    entry, or at least every one whose name ends with ``.jsonl``).

    Raises `ArchiveError` (``jsonl-missing``) when there is no root-level ``.jsonl``.
    """
    roots = [m for m in members if _is_root_jsonl(m.name)]
    if not roots:
        raise _missing_jsonl(members, "archive")
    chosen = roots[0]
    issues: list[Issue] = []
    # Before v11.5 (and in older mmctl) the first `.jsonl` anywhere was taken.
    legacy = next(m for m in members if m.name.endswith(".jsonl"))
    if legacy.index != chosen.index:
        issues.append(
            warning(
                "jsonl-choice-differs",
                f"Servers before v11.5 and older mmctl import {legacy.name!r} (the first .jsonl "
                f"anywhere in the zip), current servers import {chosen.name!r}. Remove or "
                "rename one of them so every version imports the same file.",
            ).at(legacy.name, None)
        )
    issues.extend(_extra_jsonl_issues(roots))
    if ".." in chosen.name:
        issues.append(
            error(
                "jsonl-path-traversal",
                f"The JSONL name {chosen.name!r} contains '..': the server refuses to open it "
                '("jsonFilePath contains path traversal") and the import fails. Rename it, '
                "e.g. to import.jsonl.",
                server_error_id=OPEN_FILE_ERROR_ID,
            ).at(chosen.name, None)
        )
    if chosen.method == DEFLATE64 and not chosen.encrypted:
        issues.append(
            error(
                "jsonl-unsupported-compression",
                f"The JSONL {chosen.name!r} is compressed with deflate64 (as Windows Explorer "
                'does for large zips): the server cannot read it ("zip: unsupported '
                f'compression algorithm") and the import fails. {_REZIP_HINT}',
                server_error_id=OPEN_FILE_ERROR_ID,
            ).at(chosen.name, None)
        )
    return chosen, issues


def _extra_jsonl_issues(roots: Sequence[MemberInfo]) -> list[Issue]:
    return [
        warning(
            "jsonl-extra",
            f"{extra.name!r} is ignored: only the first root-level .jsonl "
            f"({roots[0].name!r}) is imported.",
        ).at(extra.name, None)
        for extra in roots[1:]
    ]


def _missing_jsonl(members: Sequence[MemberInfo], where: str) -> ArchiveError:
    nested = [m.name for m in members if m.name.endswith(".jsonl")]
    hint = (
        f" Found {nested[0]!r} in a folder: servers since v11.5 only look at the root, so "
        "move it to the top level of the zip."
        if nested
        else " Put the import.jsonl file at the top level of the zip, next to the data folder."
    )
    return ArchiveError(
        error(
            "jsonl-missing",
            f"No .jsonl file at the root of the {where}: the server fails with "
            f"{MISSING_JSONL_ERROR_ID} (import file missing its .jsonl).{hint}",
            server_error_id=MISSING_JSONL_ERROR_ID,
        )
    )


def _require_readable_jsonl(jsonl: MemberInfo) -> None:
    if jsonl.encrypted:
        problem = "is encrypted"
    elif jsonl.method not in READABLE_METHODS:
        problem = f"is compressed with {method_name(jsonl.method)}"
    else:
        return
    raise ArchiveError(
        error(
            "jsonl-unsupported-compression",
            f"The JSONL {jsonl.name!r} {problem}: neither the server nor archivekit can read "
            f"it. {_REZIP_HINT}",
            server_error_id=OPEN_FILE_ERROR_ID,
        ).at(jsonl.name, None)
    )


# --- member hygiene -----------------------------------------------------------------------


def member_issues(members: Sequence[MemberInfo], jsonl: MemberInfo) -> list[Issue]:
    """Issues about individual entries: readability for the server and name hygiene
    (`members`: every entry, or the index's `suspects`, which include every entry of a
    repeated name)."""
    issues: list[Issue] = []
    counts: dict[str, int] = {}
    for m in members:
        counts[m.key] = counts.get(m.key, 0) + 1
    reported_duplicates: set[str] = set()
    for m in members:
        name = m.name
        if not m.is_dir and m.index != jsonl.index:
            issue = _readability_issue(m)
            if issue is not None:
                issues.append(issue.at(name, None))
        if counts[m.key] > 1 and m.key not in reported_duplicates:
            reported_duplicates.add(m.key)
            issues.append(
                warning(
                    "member-duplicate-name",
                    f"{counts[m.key]} entries are named {name!r}: the server keeps the last one "
                    "and ignores the others.",
                ).at(name, None)
            )
        if not name.isascii() and m.key != name:
            issues.append(
                warning(
                    "member-nfd-name",
                    f"{name!r} is not in Unicode NFC form (typical of zips made on macOS): "
                    "servers from v11.7 find it after normalising, older servers do not.",
                ).at(name, None)
            )
        reason = _unsafe_name_reason(name)
        if reason is not None:
            issues.append(
                warning(
                    "member-unsafe-name",
                    f"{name!r} has {reason}: it is never extracted here, and the server never "
                    "matches it to a path in the JSONL.",
                ).at(name, None)
            )
        if "\\" in name:
            issues.append(
                warning(
                    "member-backslash-name",
                    f"{name!r} contains a backslash: the server treats it as an ordinary "
                    "character, so a JSONL path never matches it (zipped on Windows?). Re-zip "
                    "with '/' separators.",
                ).at(name, None)
            )
        if m.is_symlink:
            issues.append(
                warning(
                    "member-symlink",
                    f"{name!r} is a symbolic link: the server reads the link's target path as "
                    "the file's content.",
                ).at(name, None)
            )
    return issues


def _readability_issue(m: MemberInfo) -> Issue | None:
    if m.encrypted:
        return error(
            "member-encrypted",
            f"{m.name!r} is encrypted: the server cannot read it and drops the file (a profile "
            "or emoji image fails the import). Re-create the zip without a password.",
            effect=DROPS_DATA,
        )
    if m.method in SERVER_METHODS:
        return None
    message = (
        f"{m.name!r} is compressed with {method_name(m.method)}: the server cannot read it "
        "and drops the file (a profile or emoji image fails the import). Re-zip with deflate "
        "(`zip -Z deflate`)."
    )
    if m.name.startswith("data/"):
        return error("member-unsupported-compression", message, effect=DROPS_DATA)
    # Outside data/ nothing the server imports can refer to it: only worth a warning.
    return warning("member-unsupported-compression", message)


def _unsafe_name_reason(name: str) -> str | None:
    if name.startswith(("/", "\\")):
        return "an absolute path"
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        return "a drive letter"
    if ".." in name and ".." in name.replace("\\", "/").split("/"):
        return "a '..' segment"
    return None
