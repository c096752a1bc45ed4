"""Files referenced by lines: how the server resolves them, and what it does when they fail.

`FileChecks` is what the engine calls for the files of a line: attachments, profile images and
emoji images resolved the way the server resolves them, the `FileUsed` facts (with the image
dimensions the server would measure, `Dimensions`), and the issues of files that are missing,
unreadable, too large or no image. Also: the files lines use as a bitmap over the archive's
member index (`ReferencedFiles`), and the files no line uses (`unreferenced_issues`, from the
index: no object per member).

Emulates the server's attachment pre-processing (reference §1.3): every top-level attachment
of a post is resolved; if any of them is invalid or missing, the reply attachments of that
line are not resolved at all and are dropped too. Invalid top-level paths are blanked before
validation (so the validator never sees them); unresolved reply paths reach the validator raw.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

from archivekit.check.archive import recompress_repair
from archivekit.check.causes import MAX_NAMES, common_folder, folder_of
from archivekit.check.emoji_image import emoji_image_issue, head_size
from archivekit.check.facts import FileUse, FileUsed, Findings, ImageUsed
from archivekit.check.rules.post import ATTACHMENT_INVALID_PATH_ID
from archivekit.errors import ArchiveError, stream_cannot_tell
from archivekit.gosem.archive import server_reads
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.images import FORMATS, is_image_name
from archivekit.gosem.paths import DATA_DIR, DATA_PREFIX, after_data_prefix, resolve
from archivekit.issues import (
    DROPS_DATA,
    FAILS_IMPORT,
    REPAIR_DATA_PREFIX,
    REPAIR_MOVE_INTO_DATA,
    Issue,
    Scalar,
    Severity,
    Values,
    by_fix,
    error,
    validator_id,
    warning,
)
from archivekit.read import Archive, MemberInfo, OutsideData
from archivekit.read.imageheads import FIRST_FORMAT, NO_DIMENSIONS, UNREAD, keep_rows
from archivekit.read.inflate import method_name
from archivekit.read.members import mark_entries

if TYPE_CHECKING:
    from archivekit.check.deferred import DeferredFiles

# A member by its NFC key as the server looks it up (`Archive.lookup`); None: not in the archive.
Lookup = Callable[[str], MemberInfo | None]
Payload = dict[str, Any]

PROFILE_IMAGE_ID = validator_id("user", "profile_image")
EMOJI_BAD_FILE_ID = "app.import.emoji.bad_file.error"
EMOJI_MAX_BYTES = 1 << 19

# The rule of reply attachments the server drops because an earlier attachment of the same
# line failed (an issue value: they share one cause, the failed attachment).
REPLY_AFTER_FAILURE = "reply-attachments-after-failure"

# The report mmctl writes at the root of its exports: outside data/, and not an attachment.
MMCTL_WARNINGS: Final = "warnings.txt"


class FileRef:
    """One resolved reference: the field path, the JSONL path and the member it names.

    `dropped`: a file the server never resolves — a reply attachment after a failed attachment
    of the line, or the file a data/-prefixed path means: referenced, in the archive, but not
    imported. (A plain class, as `Unreferenced`: nothing compares them, and a dataclass costs
    start-up ~0.5 ms.)"""

    __slots__ = ("dropped", "field", "member", "path")

    def __init__(self, field: str, path: str, member: MemberInfo, dropped: bool = False) -> None:
        self.field = field
        self.path = path
        self.member = member
        self.dropped = dropped


def _missing_issue(
    path: str,
    key: str,
    field: str,
    hint: tuple[str, str | None] = ("", None),
    present: bool = False,
    repair: str | None = None,
) -> Issue:
    """A path the server does not find (`present`: written with a data/ prefix, and the file
    it means is in the archive; `repair`: what `archivekit fix` does about it, if anything)."""
    values: dict[str, Scalar] = {"path": path, "member": key}
    if repair:
        values["repair"] = repair
    if hint[1] is not None:
        values["outside"] = hint[1]  # the file outside data/ the hint names
    if path.startswith(DATA_PREFIX):
        if present:
            values["present"] = True
        held = (
            f" (the file is in the archive as {path!r}: only the path is wrong)" if present else ""
        )
        return error(
            "attachment-data-prefix",
            f"attachment {path!r} starts with 'data/': the server resolves it to "
            f"'data/{path}', which is not in the archive, and drops the file{held} — "
            f"remove the 'data/' prefix from the JSONL path{by_fix(repair)} (mmctl import "
            "validate accepts this path; the import does not)",
            field=field,
            effect=DROPS_DATA,
            values=values,
        )
    return error(
        "attachment-missing",
        f"attachment {path!r} is not in the archive (looked for {key!r}); "
        f"the server imports the post without this file{hint[0]}{by_fix(repair)}",
        field=field,
        effect=DROPS_DATA,
        values=values,
    )


def _with_repair(values: dict[str, Scalar], repair: str | None) -> dict[str, Scalar]:
    if repair:
        values["repair"] = repair
    return values


# The codes of attachments the server looks for and does not find (AttachmentStats.missing).
MISSING_FILE_CODES = frozenset({"attachment-missing", "attachment-data-prefix"})
# The code of reply attachments the server drops unresolved (AttachmentStats.dropped).
DROPPED_FILE_CODE = "attachment-dropped"


def _dropped_issue(
    path: str, field: str, failed: str, present: bool, repair: str | None = None
) -> Issue:
    """A reply attachment after a failed attachment of the same line: never resolved
    (`repair`: the repair of `archivekit fix` after which it is, if any)."""
    values: dict[str, Scalar] = {
        "path": path,
        "rule": REPLY_AFTER_FAILURE,
        "after": failed,
        "present": present,
    }
    if repair:
        values["repair"] = repair
    if present:
        what, fix = "is in the archive, but the server drops it", "this one imports too"
    else:
        what, fix = "is dropped, and it is not in the archive either", "add this file too"
    return error(
        DROPPED_FILE_CODE,
        f"reply attachment {path!r} {what}: once one attachment of a line fails (here "
        f"{failed}), the server stops resolving the attachments of the replies that follow "
        f"and imports them without their files (server behaviour). Fix that attachment and "
        f"{fix}{by_fix(repair)}",
        field=field,
        effect=DROPS_DATA,
        values=values,
    )


def _empty_path_issue(path: str, field: str, *, first: bool) -> Issue:
    """A path that names no file ("", ".", "a/.."): it resolves to the data folder itself."""
    quirk = (
        "; as a failed attachment it also stops the server from resolving any reply"
        " attachments that follow on this line, which are then dropped (reported with them)"
        if first
        else ""
    )
    return warning(
        "attachment-path-empty",
        f"attachment path {path!r} names no file: the server resolves it to the data folder"
        f" itself, finds no file and imports the post without this attachment{quirk}. Remove"
        " the entry or give the file's path (mmctl import validate reports it as"
        ' `missing attachment file "data"`).',
        field=field,
        values={"path": path},
    )


class AttachmentResolver:
    """Resolves attachment lists of post-like payloads against the archive's members."""

    def __init__(
        self,
        lookup: Lookup,
        hint: Callable[[str], tuple[str, str | None]],
        repair: Callable[[str, str], str | None],
    ) -> None:
        self._lookup = lookup
        self._hint = hint
        self._repair = repair
        # Of the line being resolved: the repair of its failed attachments, when fix repairs
        # them all ("" once one of them it cannot).
        self._failures_repair: str | None = None

    def _resolve_list(
        self,
        attachments: list[dict[str, Any]],
        prefix: str,
        issues: list[Issue],
        found: list[FileRef],
    ) -> tuple[str | None, list[dict[str, Any]] | None]:
        """Returns (the field of the first attachment that failed — None when all are ok, a
        copy with invalid paths blanked — None when nothing changed)."""
        failed: str | None = None
        blanked: list[dict[str, Any]] | None = None
        for index, attachment in enumerate(attachments):
            path = attachment.get("path")
            if path is None:
                continue
            field = f"{prefix}[{index}].path"
            key = resolve(path)
            if key is None:
                failed = failed or field
                self._failures_repair = ""
                issues.append(
                    error(
                        "attachment-invalid-path",
                        f"attachment path {path!r} escapes the data/ folder; the server "
                        "blanks it and imports the post without the file",
                        field=field,
                        server_error_id=ATTACHMENT_INVALID_PATH_ID,
                        effect=DROPS_DATA,
                        values={"path": path},
                    )
                )
                if blanked is None:
                    blanked = [dict(a) for a in attachments]
                blanked[index]["path"] = ""
                continue
            if key == DATA_DIR:
                # "", ".", "a/..": Go's Join gives "data", the folder itself, never a file member:
                # the lookup fails (nothing to drop, but it stops resolving reply attachments).
                failed = failed or field
                self._failures_repair = ""
                issues.append(_empty_path_issue(path, field, first=True))
                continue
            member = self._lookup(key)
            if member is None or member.is_dir:
                failed = failed or field
                meant = self._prefixed(path)
                repair = self._repair(path, key)
                if self._failures_repair is None or not repair:
                    self._failures_repair = repair or ""
                hint = self._hint(path)
                issues.append(_missing_issue(path, key, field, hint, meant is not None, repair))
                if meant is not None:
                    # The file the path means is in the archive: referenced by this line (with
                    # a wrong path), never "unreferenced" — one problem, not two; not imported.
                    found.append(FileRef(field, path, meant, dropped=True))
                continue
            found.append(FileRef(field, path, member))
        return failed, blanked

    def _prefixed(self, path: str) -> MemberInfo | None:
        """The member a path written with a data/ prefix means (the path itself, relative to
        the archive's root), when it is in the archive."""
        if not path.startswith(DATA_PREFIX):
            return None
        key = resolve(path.removeprefix(DATA_PREFIX))
        member = self._lookup(key) if key is not None and key != DATA_DIR else None
        return member if member is not None and not member.is_dir else None

    def _unresolved(
        self,
        attachments: list[dict[str, Any]],
        prefix: str,
        failed: str,
        issues: list[Issue],
        found: list[FileRef],
    ) -> None:
        """Reply attachments after the failed attachment `failed`: dropped unresolved. A file
        that is in the archive is still referenced (never "unreferenced"), not imported."""
        for index, attachment in enumerate(attachments):
            path = attachment.get("path")
            if path is None:
                continue
            field = f"{prefix}[{index}].path"
            key = resolve(path)
            if key == DATA_DIR:
                issues.append(_empty_path_issue(path, field, first=False))
                continue
            if not path or key is None:
                continue  # paths that escape data/ reach the validator raw and fail there
            member = self._lookup(key)
            present = member is not None and not member.is_dir
            repair = self._failures_repair
            if repair and not present:
                repair = self._repair(path, key)  # found once fix has repaired its path too
            issues.append(_dropped_issue(path, field, failed, present, repair))
            if member is not None and present:
                found.append(FileRef(field, path, member, dropped=True))

    def process(
        self, payload: dict[str, Any], kind: str
    ) -> tuple[dict[str, Any], list[Issue], list[FileRef]]:
        """Resolve a post or direct_post payload.

        Returns the payload as the server's validator will see it (a shallow copy only when
        paths were blanked), the issues, and the files that resolve to members (`dropped`
        for reply attachments the server never resolves).
        """
        issues: list[Issue] = []
        found: list[FileRef] = []
        self._failures_repair = None
        attachments = payload.get("attachments")
        failed: str | None = None
        if attachments:
            failed, blanked = self._resolve_list(attachments, f"{kind}.attachments", issues, found)
            if blanked is not None:
                payload = {**payload, "attachments": blanked}
        replies = payload.get("replies")
        if not replies:
            return payload, issues, found
        new_replies: list[dict[str, Any]] | None = None
        for r_index, reply in enumerate(replies):
            reply_attachments = reply.get("attachments")
            if not reply_attachments:
                continue
            prefix = f"{kind}.replies[{r_index}].attachments"
            if failed is not None:
                self._unresolved(reply_attachments, prefix, failed, issues, found)
                continue
            # The server stops at the first reply whose attachments fail: later replies'
            # attachments stay unresolved.
            failed, blanked = self._resolve_list(reply_attachments, prefix, issues, found)
            if blanked is not None:
                if new_replies is None:
                    new_replies = list(replies)
                new_replies[r_index] = {**reply, "attachments": blanked}
        if new_replies is not None:
            payload = {**payload, "replies": new_replies}
        return payload, issues, found


class Dimensions:
    """Image dimensions of members, read from their first bytes once per member (by entry:
    whichever path of the engine meets a member first, the other does not read it again).

    Remembered in arrays over the member index, 9 bytes per entry (allocated at the first
    image; their meaning: `archivekit.read.imageheads`, whose C reader fills them): no object
    per image, however many an archive holds."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._state = bytearray()
        self._width = array("I")
        self._height = array("I")

    def __call__(
        self, member: MemberInfo, *, any_name: bool = False
    ) -> tuple[str, int, int] | None:
        """Dimensions of an image member: attachments only when the server would measure
        them (by extension); profile images whatever their name (`any_name`)."""
        if not any_name and not is_image_name(member.key):
            return None
        return self._measure(member.index, member)

    def entry(self, index: int) -> tuple[str, int, int] | None:
        """The dimensions of the image at entry `index` of the member index (the fast path's
        image attachments, known to be images), read without its `MemberInfo`."""
        if index < len(self._state) and self._state[index] != UNREAD:
            return self._known(index)
        return self._measure(index, None)

    def measure(self, entries: bytes) -> None:
        """Read the dimensions of many entries (packed uint32), in order: in C calls where the
        archive can (`Archive.measure_entries`), each entry it stops at one by one."""
        self._allocate()
        indexes = memoryview(entries).cast("I")
        at = 0
        while at < len(indexes):
            at = self.archive.measure_entries(entries, at, self._state, self._width, self._height)
            if at < len(indexes):
                index = indexes[at]
                if index < len(self._state) and self._state[index] == UNREAD:
                    self._measure(index, None)
                at += 1

    def arrays(self) -> tuple[bytearray, array[int], array[int]]:
        """The remembered states and sizes, by entry (see the class doc)."""
        return self._state, self._width, self._height

    def _allocate(self) -> None:
        if not self._state:
            entries = len(self.archive.index)
            self._state = bytearray(entries)
            self._width = array("I", bytes(4 * entries))
            self._height = array("I", bytes(4 * entries))

    def _known(self, index: int) -> tuple[str, int, int] | None:
        state = self._state[index]
        if state == NO_DIMENSIONS:
            return None
        return FORMATS[state - FIRST_FORMAT], self._width[index], self._height[index]

    def _measure(self, index: int, member: MemberInfo | None) -> tuple[str, int, int] | None:
        """`member` None: entry `index` of the index, read by its index alone."""
        self._allocate()
        if not 0 <= index < len(self._state):
            # Not an entry of the index (only a given member can be that): never remembered.
            return self._read(index, member)
        if self._state[index] == UNREAD:
            dims = self._read(index, member)
            if dims is None:
                self._state[index] = NO_DIMENSIONS
            else:
                self._state[index] = FIRST_FORMAT + FORMATS.index(dims[0])
                self._width[index], self._height[index] = dims[1], dims[2]
        return self._known(index)

    def _read(self, index: int, member: MemberInfo | None) -> tuple[str, int, int] | None:
        # A damaged attachment gives None (it must not stop the whole validation); a streamed
        # archive answers from what it noted as the member passed.
        if member is not None:
            if not server_reads(member.method, member.encrypted):
                return None
            return self.archive.member_dimensions(member)
        if not server_reads(*self.archive.index.method(index)):
            return None
        return self.archive.entry_dimensions(index)


def _unreadable_issue(ref: FileRef, kind: FileUse) -> Issue:
    """A referenced member the server's zip reader cannot open (encrypted, or compressed with
    anything but stored and deflate: deflate64, bzip2, LZMA...), on the line that loses it.
    The archive-level issue names the member once; each line says what it loses there."""
    member: MemberInfo = ref.member
    code, what = (
        ("member-encrypted", "encrypted")
        if member.encrypted
        else ("member-unsupported-compression", f"compressed with {method_name(member.method)}")
    )
    values: dict[str, Scalar] = {"path": ref.path, "member": member.name, "method": member.method}
    repair = recompress_repair(member)
    if repair:
        values["repair"] = repair
    fix = f"re-zip it with deflate (`zip -Z deflate`), without a password{by_fix(repair)}"
    if kind == "attachment":
        return error(
            code,
            f"attachment {ref.path!r} is {member.name!r}, which is {what}: the server's zip"
            f" reader only knows stored and deflate, so it imports the post without this file"
            f" — {fix}",
            field=ref.field,
            effect=DROPS_DATA,
            values=values,
        )
    # A profile or emoji image the server cannot read stops the import.
    return error(
        code,
        f"{kind} {member.name!r} is {what}: the server's zip reader only knows stored and"
        f" deflate and fails the import on this line — {fix}",
        field=ref.field,
        effect=FAILS_IMPORT,
        values=values,
    )


def has_files(data: Payload) -> bool:
    """Whether a post or direct post lists files, its own or its replies'."""
    if data.get("attachments"):
        return True
    replies = data.get("replies")
    if replies:
        for reply in replies:
            if reply.get("attachments"):
                return True
    return False


def files_field(direct: bool, reply: int) -> str:
    """The field of a post's file list: its own (`reply` -1) or a reply's."""
    kind = POST_LINE_TYPES[direct]
    return f"{kind}.attachments" if reply < 0 else f"{kind}.replies[{reply}].attachments"


class FileChecks:
    """The files of each line, as the server resolves and uses them, into a `Findings`.

    A bare ``.jsonl`` has no files: nothing is resolved (the archive level says so once)."""

    def __init__(self, archive: Archive, deferred: DeferredFiles | None = None) -> None:
        """`deferred`: the archive is a stream whose members are not known yet: the part of
        a line that depends on them waits there (`waits`; see `archivekit.check.deferred`)
        until the engine's `replay`, which sets it back to None."""
        self.archive = archive
        self.member = archive.jsonl.name  # where the issues are placed
        self.check = archive.kind != "jsonl"
        self.deferred = deferred
        self.dimensions = Dimensions(archive)
        self._basenames: dict[str, list[str]] | None = None
        self._not_utf8: dict[str, str] | None = None  # key -> name of entries not UTF-8
        self._outside: OutsideData | None = None
        self.resolver = AttachmentResolver(self._lookup, self._hint, self.repair)
        self._largest_image = 0  # pixels, of the fast path's image facts

    def waits(self, kind: str, data: Payload) -> bool:
        """Whether the part of a line that depends on the archive's members must wait for
        them (a stream: they come after the JSONL): a post's files with its rules (they see
        what resolution blanks), a profile image that resolves with the user's or bot's
        rules, an emoji's image. Notes the keys whose members the stream reader must keep
        something of as they pass (profile images: dimensions; emoji images: first bytes)."""
        deferred = self.deferred
        if deferred is None or not self.check:
            return False
        if kind in POST_LINE_TYPES:
            return has_files(data)
        if kind == "emoji":
            path = data.get("image")
            if not path:
                return False
            key = resolve(path)
            if key is not None:
                deferred.emoji_keys.add(key)
            return True
        path = data.get("profile_image")
        key = resolve(path) if path else None
        if key is None:  # as `profile_image`: only a path that resolves needs the archive
            return False
        deferred.profile_keys.add(key)
        return True

    # --- the fast path's image attachments (see archivekit.check.fast.fastpath) -----------
    def fast_images(self, found: Findings, images: bytes, limit: int | None) -> None:
        """The image attachments of lines the C scanner accepted, in line order: (line,
        direct, reply, position, entry) each, packed int64 (_scan.c's scan_batch).

        Their heads are read in one go (`Dimensions.measure`), then only the images that can
        change the facts go through `fast_image` one by one: those over `limit` or larger than
        the largest image before this batch (a superset of what `fast_image` keeps: it raises
        that maximum as it goes)."""
        # The scanner's entries are entries of the index (uint32).
        entries = array("I", array("q", images)[4::5])
        self.dimensions.measure(entries.tobytes())
        state, width, height = self.dimensions.arrays()
        # `fast_image` passes over an image no larger than the running maximum nor over
        # `limit` (with a limit to compare with); that maximum only grows.
        bound = -1 if limit is None else min(self._largest_image, limit)
        kept = keep_rows(images, state, width, height, max(bound, -1))
        for k in range(0, len(kept), 5):
            line, direct, reply, position, entry = kept[k : k + 5]
            self.fast_image(found, line, bool(direct), reply, position, entry, limit)

    def fast_image(
        self,
        found: Findings,
        line: int,
        direct: bool,
        reply: int,
        position: int,
        entry: int,
        limit: int | None,
    ) -> None:
        """An image attachment of an accepted line: its header read (once per member) for
        the pixels the server measures, an `ImageUsed` fact when it decodes and matters
        (`limit`: MaxImageResolution)."""
        dims = self.dimensions.entry(entry)
        if dims is None:
            return
        # Only an image larger than every earlier one of the fast path (the running maximum
        # of `Needs`) or over MaxImageResolution can change what the facts say.
        pixels = dims[1] * dims[2]
        if pixels <= self._largest_image and limit is not None and pixels <= limit:
            return
        name = self.archive.index.name(entry)
        if not is_image_name(name):  # by its name in the zip, as `Needs` decides
            return
        self._largest_image = max(self._largest_image, pixels)
        found.facts.append(
            ImageUsed(line, f"{files_field(direct, reply)}[{position}].path", name, dims)
        )

    def _lookup(self, key: str) -> MemberInfo | None:
        if not self.check:
            return None
        return self.archive.lookup(key)

    def repair(self, path: str, key: str) -> str | None:
        """What `archivekit fix` does about a file ``path`` (resolving to ``key``) that is not
        found — as its repair decides (`archivekit.write.repairs.LineRepairs._path`): a
        leading data/ removed when the file is then found (or one file outside data/ fits it),
        else the one file outside data/ that fits moved there; None when it cannot."""
        if self._outside is None:
            self._outside = OutsideData(self.archive.index)
        outside = self._outside
        jsonl = self.archive.jsonl.index
        after = after_data_prefix(path)
        if after is not None:
            stripped = resolve(after)
            if stripped is not None and stripped != DATA_DIR:
                member = self.archive.lookup(stripped)
                moved = [i for i in outside.candidates(stripped) if i != jsonl]
                if (member is not None and not member.is_dir) or len(moved) == 1:
                    return REPAIR_DATA_PREFIX
        if len([i for i in outside.candidates(key) if i != jsonl]) == 1:
            return REPAIR_MOVE_INTO_DATA
        return None

    def _hint(self, path: str) -> tuple[str, str | None]:
        """mmctl-style hint when the file sits outside data/ (e.g. an old attachments/ tree):
        its words and the file it names."""
        if self._basenames is None:
            self._basenames = {}
            index = self.archive.index
            for i in index.outside_data():  # only files outside data/ can be suggested
                member = index[i]
                base = member.key.rsplit("/", 1)[-1]
                self._basenames.setdefault(base, []).append(member.name)
        candidates = [
            name
            for name in self._basenames.get(path.rsplit("/", 1)[-1], ())
            if name.endswith(path.lstrip("/")) and not name.startswith(DATA_PREFIX)
        ]
        if not candidates:
            return self._not_utf8_hint(path), None
        return (
            f"; a file with this path exists outside data/: {candidates[0]!r} — move it under "
            "data/ (the server only looks there)",
            candidates[0],
        )

    def _not_utf8_hint(self, path: str) -> str:
        """The hint when the file is in the archive under a name that is not UTF-8: shown
        decoded, it reads as the path, but Go compares the stored bytes with the path's UTF-8
        bytes, so the server never finds it."""
        if self._not_utf8 is None:
            index = self.archive.index
            self._not_utf8 = {}
            for i in index.not_utf8():
                self._not_utf8.setdefault(index[i].key, index[i].name)
        name = self._not_utf8.get(resolve(path) or "")
        if name is None:
            return ""
        return (
            f"; the archive has a file that reads {name!r}, but its stored name is not UTF-8: "
            "the server compares the name's bytes with the path's UTF-8 and can never match "
            "it — zip it again with UTF-8 names"
        )

    def _use(self, found: Findings, line: int, ref: FileRef, kind: FileUse) -> bool:
        """A resolved file: the fact (with the dimensions the server would measure); an
        issue for a compression the server cannot read. Returns whether it can be read."""
        member: MemberInfo = ref.member
        readable = server_reads(member.method, member.encrypted)
        dims = None
        if readable and kind != "emoji image" and not ref.dropped:
            dims = self.dimensions(member, any_name=kind == "profile image")
        found.facts.append(
            FileUsed(
                line,
                ref.field,
                kind,
                member.key,
                member.name,
                member.size,
                readable,
                dims,
                imported=not ref.dropped,
                entry=member.index,
            )
        )
        if not readable and not ref.dropped:  # a dropped file is never read
            found.add(_unreadable_issue(ref, kind), self.member, line)
            return False
        return True

    def _resolve_single(self, path: str | None, field: str) -> FileRef | None:
        """A profile or emoji image path: the FileRef, or None (missing or blank)."""
        if not path:
            return None
        key = resolve(path)
        if key is None:
            return None  # traversal: the validator reports it
        member = self._lookup(key)
        if member is None or member.is_dir:
            return None
        return FileRef(field, path, member)

    def attachments(self, found: Findings, line: int, data: Payload, kind: str) -> Payload:
        """A post's or direct post's attachments, replies' included (the server resolves
        them before it validates the line). Returns the payload its validator sees."""
        if not self.check or not has_files(data):
            return data
        checked, file_issues, files = self.resolver.process(data, kind)
        if file_issues:
            found.missing += sum(1 for i in file_issues if i.code in MISSING_FILE_CODES)
            for issue in file_issues:
                found.add(issue, self.member, line)
        for ref in files:
            self._use(found, line, ref, "attachment")
        return checked

    def profile_image(self, found: Findings, line: int, data: Payload, kind: str) -> bool:
        """The profile image check the server's validator runs first (it must exist).
        Returns whether the line's rules run (False: it stops the import here)."""
        path = data.get("profile_image")
        if not path or resolve(path) is None or not self.check:
            return True
        ref = self._resolve_single(path, f"{kind}.profile_image")
        if ref is None:
            key = resolve(path) or ""
            repair = self.repair(path, key)
            found.add(
                error(
                    "profile-image-missing",
                    f"profile image {path!r} is not in the archive (looked for "
                    f"{key!r}); the server stops the import on this line{by_fix(repair)}",
                    field=f"{kind}.profile_image",
                    server_error_id=PROFILE_IMAGE_ID,
                    values=_with_repair({"path": path, "member": key}, repair),
                ),
                self.member,
                line,
            )
            return False
        self._use(found, line, ref, "profile image")
        return True

    def emoji_image(self, found: Findings, line: int, path: str | None, ok: bool) -> None:
        """An emoji's image; `ok`: the line passed the validator (else the server never
        reads the image, but it still counts as referenced)."""
        if not path or not self.check:
            return
        ref = self._resolve_single(path, "emoji.image")
        if not ok:
            if ref is not None:
                member = ref.member
                found.facts.append(
                    FileUsed(
                        line,
                        ref.field,
                        "emoji image",
                        member.key,
                        member.name,
                        member.size,
                        server_reads(member.method, member.encrypted),
                        imported=False,
                        entry=member.index,
                    )
                )
            return
        if ref is None:
            key = resolve(path)
            repair = self.repair(path, key) if key else None
            found.add(
                error(
                    "emoji-image-missing",
                    f"emoji image {path!r} is not in the archive (looked for "
                    f"{key!r}); the server stops the import on this line{by_fix(repair)}",
                    field="emoji.image",
                    server_error_id=EMOJI_BAD_FILE_ID,
                    values=_with_repair({"path": path, "member": key}, repair),
                ),
                self.member,
                line,
            )
            return
        if not self._use(found, line, ref, "emoji image"):
            return
        if ref.member.size > EMOJI_MAX_BYTES:
            found.add(
                error(
                    "emoji-image-too-large",
                    f"emoji image {ref.member.name!r} is {ref.member.size:,} bytes; the server "
                    f"copies at most {EMOJI_MAX_BYTES:,} bytes and fails the import — shrink it",
                    field="emoji.image",
                    values={
                        "member": ref.member.name,
                        "found": ref.member.size,
                        "limit": EMOJI_MAX_BYTES,
                        "unit": "bytes",
                    },
                ),
                self.member,
                line,
            )
            return
        self._emoji_content(found, line, ref)

    def _emoji_content(self, found: Findings, line: int, ref: FileRef) -> None:
        """Whether the server can serve the emoji image, and what mmctl says of it."""
        member = ref.member
        try:
            head = self.archive.read_member_head(member, head_size(member.name, member.size))
            if more := head_size(member.name, member.size, head):
                head = self.archive.read_member_head(member, more)
        except ArchiveError as exc:
            if stream_cannot_tell(exc):
                raise
            return  # damaged data: --verify-files reports it
        issue = emoji_image_issue(ref.path, member.name, head, ref.field)
        if issue is not None:
            found.add(issue, self.member, line)


class ReferencedFiles:
    """The entries lines use: one bit per entry of the archive's member index (the entry the
    server finds for each reference), n/8 bytes for n entries instead of a set of keys."""

    __slots__ = ("bits",)

    def __init__(self, entries: int) -> None:
        self.bits = bytearray((entries + 7) // 8)

    def add(self, index: int) -> None:
        """Mark entry `index` (a `MemberInfo.index`)."""
        if index >= 0:
            self.bits[index >> 3] |= 1 << (index & 7)

    def add_packed(self, indexes: bytes) -> None:
        """Mark the entries packed as native uint32 (the C fast path's `FilesUsed`)."""
        mark_entries(self.bits, indexes)

    def __contains__(self, index: int) -> bool:
        return bool(self.bits[index >> 3] >> (index & 7) & 1)

    def indexes(self) -> Iterator[int]:
        """The marked entry indexes, in order."""
        for byte_index, byte in enumerate(self.bits):
            while byte:
                low = byte & -byte
                yield byte_index * 8 + low.bit_length() - 1
                byte ^= low

    def __len__(self) -> int:
        return int.from_bytes(self.bits, "little").bit_count()


class Unreferenced:
    """The files no line uses: the issues worth building (`issues`), and `counted` more
    attachment-unreferenced issues only counted, whose files all sit in `folder` (for their
    root cause). An archive of a million stray files holds a handful of objects, not a
    million."""

    __slots__ = ("counted", "folder", "issues")

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        self.counted = 0
        self.folder: str | None = None


def unreferenced_issue(name: str, size: int) -> Issue:
    """A file under data/ that no line uses."""
    return Issue(
        "attachment-unreferenced",
        Severity.WARNING,
        f"{name!r} ({size:,} bytes) is not referenced by any line; the server ignores it",
        name,
        None,
        values=Values({"member": name, "size": size}),
    )


def unreferenced_issues(
    archive: Archive, referenced: ReferencedFiles, keep: int | None = None
) -> Unreferenced:
    """Files under data/ that no line uses, and files outside data/ (never used).

    `keep`: how many issues the report can still keep (None: all). Issues are built for those
    and for the first `MAX_NAMES` distinct files (their root cause names them); the other
    unreferenced files are only counted, from their names, with no object per file."""
    index = archive.index
    found = Unreferenced([])
    names: set[str] = set()
    outside = 0
    first_outside = ""
    for i in index.unreferenced(referenced.bits, index.find(archive.jsonl.key)):
        name = index.name(i)
        if not name.startswith(DATA_PREFIX):
            if name.endswith(".jsonl") or name == MMCTL_WARNINGS:
                continue
            outside += 1
            first_outside = first_outside or name
            continue
        if keep is None or len(found.issues) < keep or len(names) < MAX_NAMES:
            found.issues.append(unreferenced_issue(name, index[i].size))
            names.add(name)
            continue
        found.counted += 1
        # The common folder of the counted files: unchanged while they sit in it.
        if found.folder is None or not name.startswith(found.folder):
            found.folder = common_folder(found.folder, folder_of(name))
    if outside:
        found.issues.append(
            Issue(
                "attachment-outside-data",
                Severity.WARNING,
                f"{outside} file(s) outside data/ are never used by the server, e.g. "
                f"{first_outside!r}; attachments must sit under data/ with the JSONL path "
                "relative to it",
                first_outside,
                None,
                values=Values({"member": first_outside, "found": outside}),
            )
        )
    return found
