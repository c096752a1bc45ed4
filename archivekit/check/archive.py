"""Checks of the archive as a whole, as the server sees it (not of its lines).

Which JSONL the server imports and what older servers would import instead (reference §1.2),
members the server cannot read (compression methods, encryption) and member-name hygiene
(duplicates, NFD, unsafe names, backslashes, symlinks: §1.4 and §12 item 1), an empty JSONL.
The reader (`archivekit.read`) only opens and reads; it raises for what it cannot read at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from archivekit.gosem.archive import SERVER_METHODS
from archivekit.gosem.paths import DATA_PREFIX
from archivekit.issues import (
    DROPS_DATA,
    REPAIR_RECOMPRESS,
    Issue,
    Scalar,
    Severity,
    by_fix,
    error,
    warning,
)
from archivekit.read import Archive, MemberInfo
from archivekit.read.inflate import DEFLATE64, READABLE_METHODS, method_name
from archivekit.read.source import OPEN_FILE_ERROR_ID, REZIP_HINT, is_root_jsonl, stray_flag_hint


def archive_issues(archive: Archive) -> list[Issue]:
    """Everything the server would say about the archive before its first line."""
    issues = jsonl_issues(archive)
    if archive.kind != "jsonl":
        # Only the entries the index flags as possibly concerned become MemberInfo objects
        # (every entry of a repeated name among them: the duplicate count stays right).
        index = archive.index
        issues.extend(member_issues([index[i] for i in index.suspects()], archive.jsonl))
    return issues


def jsonl_issues(archive: Archive) -> list[Issue]:
    """The server's view of the JSONL the reader chose (the first root-level ``.jsonl``)."""
    if archive.kind == "jsonl":
        name = archive.jsonl.name
        return [
            warning(
                "jsonl-not-zipped",
                "This is a bare JSONL file, not a zip: the server's import job only opens zip "
                f"archives (it fails with {OPEN_FILE_ERROR_ID}), and attachments, profile and "
                "emoji images cannot be checked. Zip it with its data folder: "
                "`zip -r import.zip import.jsonl data`.",
                values={"member": name},
            ).at(name, None)
        ]
    index = archive.index
    members = [index[i] for i in index.ending_with(".jsonl")]  # all these checks look at
    chosen = archive.jsonl
    roots = [m for m in members if is_root_jsonl(m.name)]
    if archive.kind == "dir":
        return _extra_jsonl_issues(roots)
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
                values={"member": legacy.name, "imported": chosen.name},
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
                values={"member": chosen.name},
            ).at(chosen.name, None)
        )
    if chosen.method not in SERVER_METHODS and not chosen.encrypted:
        # (A method archivekit cannot read either stopped at opening: read.source.)
        how = method_name(chosen.method)
        if chosen.method == DEFLATE64:
            how += " (as Windows Explorer does for large zips)"
        issues.append(
            error(
                "jsonl-unsupported-compression",
                f"The JSONL {chosen.name!r} is compressed with {how}: the server cannot read "
                'it ("zip: unsupported compression algorithm") and the import fails. '
                f"{REZIP_HINT}{by_fix(recompress_repair(chosen))}",
                server_error_id=OPEN_FILE_ERROR_ID,
                values={"member": chosen.name, **_repair(chosen)},
            ).at(chosen.name, None)
        )
    return issues


def _extra_jsonl_issues(roots: Sequence[MemberInfo]) -> list[Issue]:
    return [
        warning(
            "jsonl-extra",
            f"{extra.name!r} is ignored: only the first root-level .jsonl "
            f"({roots[0].name!r}) is imported.",
            values={"member": extra.name, "imported": roots[0].name},
        ).at(extra.name, None)
        for extra in roots[1:]
    ]


def member_issues(members: Sequence[MemberInfo], jsonl: MemberInfo) -> list[Issue]:
    """Issues about individual entries: readability for the server and name hygiene
    (`members`: every entry, or the index's `suspects`)."""
    issues: list[Issue] = []
    # A name that is not UTF-8 never shares a key with a UTF-8 one (the server compares bytes).
    counts: dict[tuple[str, bool], int] = {}
    for m in members:
        counts[m.key, m.utf8] = counts.get((m.key, m.utf8), 0) + 1
    reported_duplicates: set[tuple[str, bool]] = set()
    for m in members:
        name = m.name
        if not m.is_dir and m.index != jsonl.index:
            issue = _readability_issue(m)
            if issue is not None:
                issues.append(issue.at(name, None))
        n = counts[m.key, m.utf8]
        if n > 1 and (m.key, m.utf8) not in reported_duplicates:
            reported_duplicates.add((m.key, m.utf8))
            issues.append(
                warning(
                    "member-duplicate-name",
                    f"{n} entries are named {name!r}: the server keeps the last one "
                    "and ignores the others.",
                    values={"member": name, "found": n},
                ).at(name, None)
            )
        if not name.isascii() and m.key != name:
            issues.append(
                warning(
                    "member-nfd-name",
                    f"{name!r} is not in Unicode NFC form (typical of zips made on macOS): "
                    "servers from v11.7 find it after normalising, older servers do not.",
                    values={"member": name},
                ).at(name, None)
            )
        reason = _unsafe_name_reason(name)
        if reason is not None:
            issues.append(
                warning(
                    "member-unsafe-name",
                    f"{name!r} has {reason}: it is never extracted here, and the server never "
                    "matches it to a path in the JSONL.",
                    values={"member": name},
                ).at(name, None)
            )
        if "\\" in name:
            issues.append(_backslash_warning(name).at(name, None))
        if m.is_symlink:
            issues.append(
                warning(
                    "member-symlink",
                    f"{name!r} is a symbolic link: the server reads the link's target path as "
                    "the file's content.",
                    values={"member": name},
                ).at(name, None)
            )
    return issues


def _readability_issue(m: MemberInfo) -> Issue | None:
    if m.encrypted:
        # Not a promise (no `repair` value): only its bytes' CRC-32, which fix reads, proves a
        # flagged member plain; validate reads no file it need not.
        return error(
            "member-encrypted",
            f"{m.name!r} is encrypted: the server cannot read it and drops the file (a profile "
            "or emoji image fails the import). Re-create the zip without a password."
            + stray_flag_hint(m),
            effect=DROPS_DATA,
            values={"member": m.name},
        )
    if m.method in SERVER_METHODS:
        return None
    message = (
        f"{m.name!r} is compressed with {method_name(m.method)}: the server cannot read it "
        "and drops the file (a profile or emoji image fails the import). Re-zip with deflate "
        f"(`zip -Z deflate`){by_fix(recompress_repair(m))}."
    )
    values: dict[str, Scalar] = {"member": m.name, "method": m.method, **_repair(m)}
    if m.name.startswith(DATA_PREFIX):
        return error("member-unsupported-compression", message, effect=DROPS_DATA, values=values)
    # Outside data/ nothing the server imports can refer to it: only worth a warning.
    return warning("member-unsupported-compression", message, values=values)


def _backslash_warning(name: str) -> Issue:
    """What a backslash in a member name means on the (Linux) server: an ordinary character.

    The server keys members by their raw names and joins JSONL paths with '/' under data/, so
    a member under data/ is found by a JSONL path with the very same backslashes, and a
    Windows-style name (data\\a\\b.png: no '/' after data) by none at all.
    """
    if name.startswith(DATA_PREFIX):
        written = name[len(DATA_PREFIX) :]
        slashed = written.replace("\\", "/")
        return warning(
            "member-backslash-name",
            f"{name!r} contains a backslash. On the server (Linux) it is an ordinary character "
            f"of the name: the JSONL path {written!r} (with the same backslash) finds this file, "
            f"{slashed!r} does not. Zipped on Windows? Re-zip with '/' separators and write the "
            "paths with '/'.",
            values={"member": name, "path": written, "not_found_by": slashed},
        )
    return warning(
        "member-backslash-name",
        f"{name!r} contains a backslash. On the server (Linux) it is an ordinary character of "
        "the name, so this file is not under the data/ folder and no JSONL path ever finds it "
        "(a Windows-style name, as zipped on Windows?). Re-zip with '/' separators.",
        values={"member": name},
    )


def _unsafe_name_reason(name: str) -> str | None:
    if name.startswith(("/", "\\")):
        return "an absolute path"
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        return "a drive letter"
    if ".." in name and ".." in name.replace("\\", "/").split("/"):
        return "a '..' segment"
    return None


def empty_jsonl_issue(member: str) -> Issue:
    """A JSONL without a single line."""
    return Issue(
        "empty-archive",
        Severity.WARNING,
        "the JSONL has no lines: the server reports success and imports nothing",
        member,
        None,
    )


def recompress_repair(member: MemberInfo) -> str | None:
    """`recompress` when `archivekit fix` re-compresses ``member`` (the server cannot read
    it, archivekit can: `read.inflate.READABLE_METHODS`, not encrypted), else None."""
    if member.method in READABLE_METHODS and not member.encrypted:
        return REPAIR_RECOMPRESS
    return None


def _repair(member: MemberInfo) -> dict[str, Scalar]:
    repair = recompress_repair(member)
    return {"repair": repair} if repair else {}
