"""The engine: JSONL lines in, `Findings` out (issues, facts, counts), in the server's order.

For each line: framing problems, then Go-exact decoding, then the envelope (version line,
unknown types, missing payload), the attachment pre-processing, the server's validator layer
(first error only), the apply-layer rules, and finally the cross-line checks (references) and
the facts the consumers need (definitions, files used, message lengths, post identities).

The engine owns only the cross-line state that decides what a later line means (what is
defined, `References`); it calls nothing outside itself. What it finds accumulates in a
`Findings` that ``take()`` hands over, batch by batch: `validate` adds them up in one process,
the parallel runner's parent with the same code (`archivekit.report.tally`). Nothing here
prints. Must not import report/, write/ or the entry points.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import orjson

from archivekit.check.deferred import DeferredFiles
from archivekit.check.duplicates import post_identity
from archivekit.check.emoji_image import emoji_image_issue, head_size
from archivekit.check.facts import (
    ChannelDefined,
    FilesUsed,
    FileUse,
    FileUsed,
    Findings,
    ImageUsed,
    LongestMessage,
    MostFiles,
    PackedIdentities,
    SchemeDefined,
    TeamDefined,
    Unresolved,
    UserDefined,
)
from archivekit.check.fast import fastpath
from archivekit.check.fast.fastpath import (
    DIRECT_POST_PREFIX,
    IMAGE_EXTENSION_BYTES,
    POST_PREFIX,
    BatchScanner,
    FilesArg,
    Scanner,
    key_finder,
)
from archivekit.check.files import MISSING_FILE_CODES, AttachmentResolver, Dimensions, FileRef
from archivekit.check.references import (
    BATCH_NOTE,
    CHANNEL_TEAM_NOT_FOUND,
    POST_CHANNEL_NOT_FOUND,
    REACTION_USER_NOT_FOUND,
    TEAMS_NOT_FOUND,
    USER_CHANNEL_NOT_FOUND,
    USERS_NOT_FOUND,
    Existing,
    References,
    Reported,
)
from archivekit.check.rules import bot, channel, direct, emoji, post, role, scheme, team, user
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.post_types import is_allowed_post_type
from archivekit.errors import ArchiveError
from archivekit.gosem.archive import server_reads
from archivekit.gosem.decode import decode_line
from archivekit.gosem.images import is_image_name
from archivekit.gosem.paths import resolve
from archivekit.gosem.strings import go_lower
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Scalar, Values, error
from archivekit.read import MAX_LINE_BYTES, Archive, LineTooLong, MemberInfo
from archivekit.read.inflate import method_name

Payload = dict[str, Any]
Validator = Callable[[Payload, RuleContext], Issue | None]
Applier = Callable[[Payload, RuleContext], list[Issue]]

RULES: dict[str, tuple[Validator, Applier]] = {
    "role": (role.validate_role, role.apply_role),
    "scheme": (scheme.validate_scheme, scheme.apply_scheme),
    "team": (team.validate_team, team.apply_team),
    "channel": (channel.validate_channel, channel.apply_channel),
    "user": (user.validate_user, user.apply_user),
    "bot": (bot.validate_bot, bot.apply_bot),
    "emoji": (emoji.validate_emoji, emoji.apply_emoji),
    "post": (post.validate_post, post.apply_post),
    "direct_channel": (direct.validate_direct_channel, direct.apply_direct_channel),
    "direct_post": (direct.validate_direct_post, direct.apply_direct_post),
}
KNOWN_TYPES = frozenset(RULES)

INVALID_VERSION_ID = "app.import.process_import_data_file_version_line.invalid_version.error"
UNSUPPORTED_VERSION_ID = "app.import.bulk_import.unsupported_version.error"
UNKNOWN_TYPE_ID = "app.import.import_line.unknown_line_type.error"
FILE_SCAN_ID = "app.import.bulk_import.file_scan.error"
PROFILE_IMAGE_ID = "app.import.validate_user_import_data.profile_image.error"
EMOJI_BAD_FILE_ID = "app.import.emoji.bad_file.error"
EMOJI_MAX_BYTES = 1 << 19
# Payloads the server dereferences before checking them (attachment pre-processing): a null
# payload there crashes the import job instead of returning the null_<type> error.
CRASHES_ON_NULL = frozenset({"post", "direct_post", "user", "bot", "emoji"})


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
    fix = "re-zip it with deflate (`zip -Z deflate`), without a password"
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


def _subject(line_type: str, payload: Payload) -> str | None:
    """The name of what a line defines, as written (None for posts and conversations)."""
    if line_type in ("user", "bot"):
        name = payload.get("username")
    elif line_type == "channel":
        team_name, name = payload.get("team"), payload.get("name")
        if isinstance(team_name, str) and isinstance(name, str):
            name = f"{team_name}/{name}"
    elif line_type in ("team", "emoji", "role", "scheme"):
        name = payload.get("name")
    else:
        return None
    return name if isinstance(name, str) and name else None


def _plain_subject(raw: bytes) -> str | None:
    """The subject of a line Go cannot decode but plain JSON can (a value of the wrong type):
    only for a report's words, never for a verdict."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        return None
    payload = doc.get(doc["type"])
    return _subject(doc["type"], payload) if isinstance(payload, dict) else None


def _named(issue: Issue, subject: str | None) -> Issue:
    if subject is None or "subject" in issue.values:
        return issue
    return replace(issue, values=Values({**issue.values, "subject": subject}))


class LineProcessor:
    """Validates a JSONL line by line; keeps only bounded cross-line state."""

    # The accept-only fast path for post lines (archivekit.check.fast.fastpath); tests switch it
    # off to hold it to the general path's verdicts.
    fast: bool = True
    # The fast path's line scanner: C when built, else Python (tests run both); with C, whole
    # runs of post lines are scanned in one call (`batch_scanner`).
    scanner: Scanner = staticmethod(fastpath.scan)
    batch_scanner: BatchScanner | None = (
        None if fastpath.NATIVE_BATCH is None else staticmethod(fastpath.NATIVE_BATCH)
    )

    def __init__(
        self,
        archive: Archive,
        *,
        ctx: RuleContext | None = None,
        existing: Existing | None = None,
        deferred: DeferredFiles | None = None,
    ) -> None:
        """`deferred`: the archive is a stream whose members are not known yet: the part of
        a line that depends on them waits there (see `archivekit.check.deferred`) until
        `replay`."""
        self.archive = archive
        self.member = archive.jsonl.name
        self.ctx = ctx or RuleContext()
        self.refs = References(self.ctx.default_channels)
        if existing is not None:
            self.refs.seed(existing)
        self.found = Findings()
        self.counts = self.found.counts
        self.identities = PackedIdentities()
        # Maxima already reported as facts (only a line that beats them is a fact).
        self._longest_message = -1
        self._most_files = 0
        self._largest_image = 0  # pixels, of the fast path's image facts
        self.lines = 0
        self.dimensions = Dimensions(archive)
        self._files: dict[bool, FilesArg | None] = {}  # the fast path's, C or not (`_files_arg`)
        self._basenames: dict[str, list[str]] | None = None
        self.attachments = AttachmentResolver(self._lookup, self._hint)
        self.check_files = archive.kind != "jsonl"
        self.deferred = deferred
        # The line being processed (general path): its raw bytes and where its issues start.
        self._raw = b""
        self._line_start = 0
        self._handlers: dict[str, Callable[[int, Payload], None]] = {
            "role": self._role,
            "scheme": self._scheme,
            "team": self._team,
            "channel": self._channel,
            "user": self._user,
            "bot": self._bot,
            "emoji": self._emoji,
            "post": self._post,
            "direct_channel": self._direct_channel,
            "direct_post": self._direct_post,
        }

    # --- output ----------------------------------------------------------------------------
    def take(self) -> Findings:
        """What the lines processed since the last call found; starts a new `Findings`."""
        found = self.found
        identities = self.identities
        found.identities = identities.identities.tobytes()
        found.identity_lines = identities.lines.tobytes()
        self.found = Findings()
        self.counts = self.found.counts
        self.identities = PackedIdentities()
        return found

    def _add(self, issue: Issue, line: int | None, unresolved: Unresolved | None = None) -> None:
        self.found.issues.append((issue.at(issue.member or self.member, line), unresolved))

    def _add_all(self, issues: list[Issue] | tuple[Issue, ...], line: int) -> None:
        for issue in issues:
            self._add(issue, line)

    def _add_reported(self, reported: Reported, line: int) -> None:
        issue, unresolved = reported
        self._add(issue, line, unresolved)

    # --- files -----------------------------------------------------------------------------
    def _lookup(self, key: str) -> MemberInfo | None:
        if not self.check_files:
            return None
        return self.archive.lookup(key)

    def _hint(self, path: str) -> str:
        """mmctl-style hint when the file sits outside data/ (e.g. an old attachments/ tree)."""
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
            if name.endswith(path.lstrip("/")) and not name.startswith("data/")
        ]
        if not candidates:
            return ""
        return (
            f"; a file with this path exists outside data/: {candidates[0]!r} — move it under "
            "data/ (the server only looks there)"
        )

    def _use_file(self, line: int, ref: FileRef, kind: FileUse) -> bool:
        """A resolved file: the fact (with the dimensions the server would measure); an
        issue for a compression the server cannot read. Returns whether it can be read."""
        member: MemberInfo = ref.member
        readable = server_reads(member.method, member.encrypted)
        dims = None
        if readable and kind != "emoji image" and not ref.dropped:
            dims = self.dimensions(member, any_name=kind == "profile image")
        self.found.facts.append(
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
            self._add(_unreadable_issue(ref, kind), line)
            return False
        return True

    def _resolve_single(self, line: int, path: str | None, field: str) -> FileRef | None:
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

    # --- the line loop ---------------------------------------------------------------------
    def process_batch(self, batch: list[bytes | LineTooLong]) -> None:
        """Process the next lines of the JSONL (numbered on from the lines before)."""
        self.process_lines(self.lines + 1, batch)
        self.lines += len(batch)

    def process_lines(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Process consecutive lines, numbered from `first`."""
        self.found.lines += len(batch)
        if self.fast and self.batch_scanner is not None:
            self._process_scanned(first, batch)
            return
        general, fast_line, fast = self._general, self._fast, self.fast
        line = first - 1
        for raw in batch:
            line += 1
            if fast and line > 1 and type(raw) is bytes:
                if raw.startswith(POST_PREFIX):
                    if fast_line(line, raw, False):
                        continue
                elif raw.startswith(DIRECT_POST_PREFIX) and fast_line(line, raw, True):
                    continue
            general(line, raw)

    def _process_scanned(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """`process_lines` with the C scanner: it takes runs of post lines it accepts, and
        each line it stops at (definitions, anything declined) goes to the general path."""
        scan_batch = self.batch_scanner
        assert scan_batch is not None
        refs, counts, ctx = self.refs, self.counts, self.ctx
        files = self._files_arg(native=True)
        start, end = 0, len(batch)
        while start < end:
            (stop, posts, direct_posts, replies, reactions, runes, runes_line, runes_direct,
             identities, lines, used) = scan_batch(
                batch, start, first, refs.users, refs.teams, refs.channels,
                is_allowed_post_type, ctx.max_post_size, files,
            )  # fmt: skip
            if stop > start:
                counts.posts += posts
                counts.direct_posts += direct_posts
                counts.replies += replies
                counts.reactions += reactions
                if runes > self._longest_message:
                    kind = "direct_post" if runes_direct else "post"
                    self._message_length(runes_line, f"{kind}.message", runes)
                self.identities.add_many(identities, lines)
                if used is not None:
                    self._fast_files(*used)
            if stop < end:
                self._general(first + stop, batch[stop])
            start = stop + 1

    def process(self, line: int, raw: bytes | LineTooLong) -> None:
        """Process one line (the fast path first, when it applies)."""
        self.process_lines(line, [raw])

    def _message_length(self, line: int, field: str, runes: int) -> None:
        """A message longer than all before it (the caller checked): a fact."""
        self._longest_message = runes
        self.found.facts.append(LongestMessage(line, field, runes))

    def _general(self, line: int, raw: bytes | LineTooLong) -> None:
        self._line_start = len(self.found.issues)
        if isinstance(raw, LineTooLong):
            self._add(
                error(
                    "line-too-long",
                    f"line is {raw.length:,} bytes; the server reads lines of at most "
                    "16,777,215 bytes and stops the whole import here (reported with line 0, "
                    "after importing every earlier line) — split the content (e.g. move large "
                    "props or replies into separate lines)",
                    server_error_id=FILE_SCAN_ID,
                    values={"found": raw.length, "limit": MAX_LINE_BYTES, "unit": "bytes"},
                ),
                line,
            )
            return
        self._raw = raw
        envelope, decode_issues = decode_line(raw)
        if envelope is None and decode_issues and decode_issues[0].code == "json-type":
            # Go refuses the whole line for one value of the wrong type; the line is still
            # JSON, so it can name what it defines ("team 'sales'"), read as plain JSON.
            decode_issues = (_named(decode_issues[0], _plain_subject(raw)), *decode_issues[1:])
        if decode_issues:
            self._add_all(decode_issues, line)
        if envelope is None:
            return
        line_type: str = envelope.get("type") or ""
        if line == 1:
            self._version(envelope, line_type)
            if line_type == "version":
                return
        elif line_type == "version":
            self._add(
                error(
                    "version-not-first",
                    "a version line is only allowed as line 1; elsewhere the server stops "
                    "with an unknown line type — remove it",
                    field="type",
                    server_error_id=UNKNOWN_TYPE_ID,
                ),
                line,
            )
            return
        handler = self._handlers.get(line_type)
        if handler is None:
            self._add(
                error(
                    "unknown-line-type",
                    f"unknown line type {line_type!r}; the server stops the import here "
                    f"(known types: version, {', '.join(sorted(KNOWN_TYPES))})",
                    field="type",
                    server_error_id=UNKNOWN_TYPE_ID,
                    values={"found": line_type},
                ),
                line,
            )
            return
        payload = envelope.get(line_type)
        if payload is None:
            crash = (
                " (current servers crash on such a line)" if line_type in CRASHES_ON_NULL else ""
            )
            self._add(
                error(
                    "payload-missing",
                    f"a {line_type!r} line needs a {line_type!r} object{crash}",
                    field=line_type,
                    server_error_id=f"app.import.import_line.null_{line_type}.error",
                    values={"line_type": line_type},
                ),
                line,
            )
            return
        handler(line, payload)

    # --- the accept-only fast path (see archivekit.check.fast.fastpath) ----------------------
    def _files_arg(self, native: bool) -> FilesArg | None:
        """What the fast path resolves attachments with (None: it declines lines with files):
        the member index (its C table for the C scanner), MaxFileSize, the image extensions,
        the lookup of non-ASCII keys. Made once per kind of scanner."""
        max_size = self.ctx.max_file_size
        if not self.check_files or max_size is None or self.deferred is not None:
            return None
        if native not in self._files:
            index = self.archive.index
            table = index.table if native else index
            self._files[native] = (
                None
                if table is None
                else (table, max_size, IMAGE_EXTENSION_BYTES, key_finder(index))
            )
        return self._files[native]

    def _fast_files(
        self,
        count: int,
        total_bytes: int,
        largest: tuple[int, int, bool, int, int],
        most: tuple[int, int, bool, int],
        members: bytes,
        images: bytes | None,
    ) -> None:
        """The files of accepted lines: counts and facts. `largest` is (size, line, direct,
        reply, position) of the first largest file, `most` (count, line, direct, reply) of the
        first longest list; reply -1 is the post's own list; `members` the entries used
        (packed uint32); `images` the image attachments among them, (line, direct, reply,
        position, entry) each, packed int64 (_scan.c's scan_batch), or None."""
        self.counts.attachments += count
        size, line, direct, reply, position = largest
        field = f"{self._files_field(direct, reply)}[{position}].path"
        self.found.facts.append(FilesUsed(count, total_bytes, line, field, size, members))
        files, line, direct, reply = most
        if files > self._most_files:
            self._most_files = files
            self.found.facts.append(MostFiles(line, self._files_field(direct, reply), files))
        if images is not None:
            self._fast_images(images)

    def _fast_images(self, images: bytes) -> None:
        """The packed image attachments of `_fast_files`, in line order."""
        packed = array("q", images)
        for k in range(0, len(packed), 5):
            line, direct, reply, position, entry = packed[k : k + 5]
            self._fast_image(line, bool(direct), reply, position, entry)

    def _fast_image(self, line: int, direct: bool, reply: int, position: int, entry: int) -> None:
        """An image attachment of an accepted line: its header read (once per member) for
        the pixels the server measures, a fact when it decodes and matters."""
        dims = self.dimensions.entry(entry)
        if dims is None:
            return
        # Only an image larger than every earlier one of the fast path (the running maximum
        # of `Needs`) or over MaxImageResolution can change what the facts say.
        pixels = dims[1] * dims[2]
        limit = self.ctx.max_image_resolution
        if pixels <= self._largest_image and limit is not None and pixels <= limit:
            return
        name = self.archive.index[entry].name
        if not is_image_name(name):  # by its name in the zip, as `Needs` decides
            return
        self._largest_image = max(self._largest_image, pixels)
        field = f"{self._files_field(direct, reply)}[{position}].path"
        self.found.facts.append(ImageUsed(line, field, name, dims))

    @staticmethod
    def _files_field(direct: bool, reply: int) -> str:
        kind = "direct_post" if direct else "post"
        return f"{kind}.attachments" if reply < 0 else f"{kind}.replies[{reply}].attachments"

    def _fast(self, line: int, raw: bytes, direct: bool) -> bool:
        refs = self.refs
        scanner = self.scanner
        found = scanner(
            raw,
            direct,
            refs.users,
            refs.teams,
            refs.channels,
            is_allowed_post_type,
            self.ctx.max_post_size,
            self._files_arg(native=scanner is not fastpath.scan_python),
        )
        if found is None:
            return False
        identity, runes, replies, reactions, (members, total_bytes, largest, most, images) = found
        if members:
            self._fast_files(
                len(members), total_bytes, (largest[0], line, direct, *largest[1:]),
                (most[0], line, direct, most[1]), array("I", members).tobytes(), None,
            )  # fmt: skip
            for reply, position, entry in images:
                self._fast_image(line, direct, reply, position, entry)
        counts = self.counts
        if direct:
            counts.direct_posts += 1
            kind = "direct_post"
        else:
            counts.posts += 1
            kind = "post"
        counts.replies += replies
        counts.reactions += reactions
        if runes > self._longest_message:
            self._message_length(line, f"{kind}.message", runes)
        self.identities.add(identity, line)
        return True

    def _version(self, envelope: Payload, line_type: str) -> None:
        version = envelope.get("version")
        if line_type != "version" or version is None:
            self._add(
                error(
                    "version-missing",
                    'line 1 must be {"type": "version", "version": 1}; '
                    f"found type {line_type!r} — the server refuses the file",
                    field="type" if line_type != "version" else "version",
                    server_error_id=INVALID_VERSION_ID,
                    values={"found": line_type},
                ),
                1,
            )
        elif version != 1:
            self._add(
                error(
                    "version-unsupported",
                    f"version {version} is not supported; the server only imports version 1",
                    field="version",
                    server_error_id=UNSUPPORTED_VERSION_ID,
                    values={"found": version, "expected": 1},
                ),
                1,
            )

    def _rules(self, line_type: str, line: int, payload: Payload) -> bool:
        """Validator then apply layer. Returns False when the validator failed.

        Their issues name what the line defines (`subject`: the username, team, channel...),
        so that a report can say "user 'jdoe' (line 22)" rather than only the line."""
        validate, apply = RULES[line_type]
        first = validate(payload, self.ctx)
        subject = _subject(line_type, payload)
        if first is not None:
            self._add(_named(first, subject), line)
            return False
        applied = apply(payload, self.ctx)
        for issue in applied:
            self._add(_named(issue, subject), line)
        return True

    # --- per type --------------------------------------------------------------------------
    def _role(self, line: int, data: Payload) -> None:
        self.counts.roles += 1
        self._rules("role", line, data)
        name = data.get("name")
        if name:
            dup = self.refs.define_named("roles", name, line)
            if dup:
                self._add(dup, line)

    def _scheme(self, line: int, data: Payload) -> None:
        self.counts.schemes += 1
        self._rules("scheme", line, data)
        name = data.get("name")
        if name:
            dup = self.refs.define_named("schemes", name, line, data.get("scope"))
            if dup:
                self._add(dup, line)
            self.found.facts.append(SchemeDefined(line, name))

    def _scheme_ref(self, line: int, data: Payload, kind: str) -> None:
        name = data.get("scheme")
        if name:
            reported = self.refs.ref_scheme(
                name,
                kind,
                f"{kind}.scheme",
                f"app.import.import_{kind}.scheme_wrong_scope.error",
            )
            if reported:
                self._add_reported(reported, line)

    def _team(self, line: int, data: Payload) -> None:
        self.counts.teams += 1
        self._rules("team", line, data)
        self._scheme_ref(line, data, "team")
        name = data.get("name")
        if name:
            dup = self.refs.define_team(name, line)
            if dup:
                self._add(dup, line)
            self.found.facts.append(TeamDefined(line, go_lower(name)))

    def _channel(self, line: int, data: Payload) -> None:
        self.counts.channels += 1
        self._rules("channel", line, data)
        team_name, name = data.get("team"), data.get("name")
        if team_name is not None:
            # channel.team is looked up lowercased: any case works here.
            reported = self.refs.ref_team(
                team_name, "channel.team", exact=False, server_id=CHANNEL_TEAM_NOT_FOUND
            )
            if reported:
                self._add_reported(reported, line)
        self._scheme_ref(line, data, "channel")
        if team_name and name:
            dup = self.refs.define_channel(team_name, name, line)
            if dup:
                self._add(dup, line)
            deleted_at = data.get("deleted_at")
            archived = deleted_at is not None and deleted_at > 0
            fact = ChannelDefined(line, go_lower(team_name), go_lower(name), archived)
            self.found.facts.append(fact)

    def _image_first(self, line: int, data: Payload, kind: str) -> bool:
        """The profile image check the server's validator runs first (it must exist)."""
        path = data.get("profile_image")
        if not path or resolve(path) is None or not self.check_files:
            return True
        ref = self._resolve_single(line, path, f"{kind}.profile_image")
        if ref is None:
            self._add(
                error(
                    "profile-image-missing",
                    f"profile image {path!r} is not in the archive (looked for "
                    f"{resolve(path)!r}); the server stops the import on this line",
                    field=f"{kind}.profile_image",
                    server_error_id=PROFILE_IMAGE_ID,
                    values={"path": path, "member": resolve(path)},
                ),
                line,
            )
            return False
        self._use_file(line, ref, "profile image")
        return True

    def _profile_and_rules(self, line: int, data: Payload, kind: str) -> None:
        """A user's or bot's profile image (first, as the server's validator), then its rules."""
        deferred = self.deferred
        path = data.get("profile_image")
        # As `_image_first`: only a path that resolves needs the archive.
        if deferred is not None and self.check_files and path:
            key = resolve(path)
            if key is not None:
                deferred.profile_keys.add(key)
                self._defer(line, kind)
                return
        if self._image_first(line, data, kind):
            self._rules(kind, line, data)

    def _defer(self, line: int, kind: str, ok: bool = True) -> None:
        """Leave the rest of the line's file-dependent part to `replay`."""
        assert self.deferred is not None
        position = len(self.found.issues) - self._line_start
        self.deferred.add(line, position, kind, self._raw, ok)

    def replay(self) -> Iterator[tuple[int, int, Findings]]:
        """The deferred parts of lines, run now that the archive's members are known: for
        each, (line, how many of the line's issues come before its own, its findings)."""
        deferred = self.deferred
        if deferred is None:
            return
        self.deferred = None  # the parts now run in place
        self.take()
        for record in deferred:
            envelope, _ = decode_line(record.raw)
            assert envelope is not None
            payload = envelope[record.kind]
            line, kind = record.line, record.kind
            if kind in ("post", "direct_post"):
                self._post_checks(line, payload, kind)
            elif kind == "emoji":
                self._emoji_image(line, payload, record.ok)
            else:
                self._profile_and_rules(line, payload, kind)
            yield line, record.position, self.take()

    def _user(self, line: int, data: Payload) -> None:
        self.counts.users += 1
        self._profile_and_rules(line, data, "user")
        username = data.get("username")
        teams = data.get("teams") or []
        for t_index, membership in enumerate(teams):
            team_name = membership.get("name")
            if team_name is None:
                continue
            field = f"user.teams[{t_index}]"
            reported = self.refs.ref_team(
                team_name, f"{field}.name", exact=True, server_id=TEAMS_NOT_FOUND
            )
            if reported:
                self._add_reported(reported, line)
                continue
            for c_index, channel_membership in enumerate(membership.get("channels") or ()):
                channel_name = channel_membership.get("name")
                if channel_name is not None:
                    reported = self.refs.ref_channel(
                        team_name,
                        channel_name,
                        f"{field}.channels[{c_index}].name",
                        server_id=USER_CHANNEL_NOT_FOUND,
                    )
                    if reported:
                        self._add_reported(reported, line)
        if username:
            self._add_all(self.refs.define_user(username, data.get("email"), line, "user"), line)
            names = tuple(go_lower(m["name"]) for m in teams if m.get("name"))
            active = not data.get("delete_at")
            self.found.facts.append(UserDefined(line, go_lower(username), active, names))

    def _bot(self, line: int, data: Payload) -> None:
        self.counts.bots += 1
        self._profile_and_rules(line, data, "bot")
        username = data.get("username")
        if username:
            self._add_all(self.refs.define_user(username, None, line, "bot"), line)
            self.found.facts.append(UserDefined(line, go_lower(username)))

    def _emoji(self, line: int, data: Payload) -> None:
        self.counts.emojis += 1
        ok = self._rules("emoji", line, data)
        name = data.get("name")
        if name:
            dup = self.refs.define_named("emojis", name, line)
            if dup:
                self._add(dup, line)
        self._emoji_image(line, data, ok)

    def _emoji_image(self, line: int, data: Payload, ok: bool) -> None:
        """An emoji's image (`ok`: the validator passed)."""
        path = data.get("image")
        if not path or not self.check_files:
            return
        if self.deferred is not None:
            key = resolve(path)
            if key is not None:
                self.deferred.emoji_keys.add(key)
            self._defer(line, "emoji", ok)
            return
        ref = self._resolve_single(line, path, "emoji.image")
        if not ok:
            if ref is not None:
                # Referenced even though the line fails (not reported as unreferenced).
                member = ref.member
                self.found.facts.append(
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
            self._add(
                error(
                    "emoji-image-missing",
                    f"emoji image {path!r} is not in the archive (looked for "
                    f"{resolve(path)!r}); the server stops the import on this line",
                    field="emoji.image",
                    server_error_id=EMOJI_BAD_FILE_ID,
                    values={"path": path, "member": resolve(path)},
                ),
                line,
            )
            return
        if not self._use_file(line, ref, "emoji image"):
            return
        if ref.member.size > EMOJI_MAX_BYTES:
            self._add(
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
                line,
            )
            return
        self._emoji_content(line, ref)

    def _emoji_content(self, line: int, ref: FileRef) -> None:
        """Whether the server can serve the emoji image, and what mmctl says of it."""
        member = ref.member
        try:
            head = self.archive.read_member_head(member, head_size(member.name, member.size))
            if more := head_size(member.name, member.size, head):
                head = self.archive.read_member_head(member, more)
        except ArchiveError:
            return  # damaged data: --verify-files reports it
        issue = emoji_image_issue(ref.path, member.name, head, ref.field)
        if issue is not None:
            self._add(issue, line)

    def _post_checks(self, line: int, data: Payload, kind: str) -> None:
        """Files (the server resolves them first) and the validator and apply rules."""
        replies = data.get("replies")
        attachments = data.get("attachments")
        reply_files = False
        if replies:
            for reply in replies:
                if reply.get("attachments"):
                    reply_files = True
                    break
        checked = data
        if (attachments or reply_files) and self.check_files:
            if self.deferred is not None:
                self._defer(line, kind)  # the rules too: they see what resolution blanks
                return
            checked, file_issues, files = self.attachments.process(data, kind)
            if file_issues:
                missing = sum(1 for i in file_issues if i.code in MISSING_FILE_CODES)
                self.found.missing += missing
                self._add_all(file_issues, line)
            for ref in files:
                self._use_file(line, ref, "attachment")
        self._rules(kind, line, checked)

    def _post_refs(self, line: int, data: Payload, kind: str, note: str) -> None:
        """Counts and every user reference of a post-like line (author, flaggers, reactions,
        followers, replies) in one pass.

        This is the hot path of a whole export (most lines are posts): references that
        resolve exactly — nearly all of them — cost one set lookup each; only misses go
        through `References` to build their issue.
        """
        counts = self.counts
        users = self.refs.users
        replies = data.get("replies")
        attachments = data.get("attachments")
        author = data.get("user")
        if author is not None and author not in users:
            self._ref_user(line, author, f"{kind}.user", True, USERS_NOT_FOUND, note)
        flagged = data.get("flagged_by")
        if flagged:
            self._flaggers(line, flagged, f"{kind}.flagged_by", note)
        reactions = data.get("reactions")
        if reactions:
            counts.reactions += len(reactions)
            self._reactions(line, reactions, f"{kind}.reactions")
        followers = data.get("thread_followers")
        if followers:
            for index, follower in enumerate(followers):
                name = follower.get("user")
                if name and name not in users and go_lower(name) not in users:
                    self._ref_user(
                        line,
                        name,
                        f"{kind}.thread_followers[{index}].user",
                        False,
                        USERS_NOT_FOUND,
                        "",
                    )
        if attachments:
            counts.attachments += sum(1 for a in attachments if a.get("path"))
            self._files_count(line, f"{kind}.attachments", len(attachments))
        message = data.get("message")
        if message is not None and len(message) > self._longest_message:
            self._message_length(line, f"{kind}.message", len(message))
        if not replies:
            return
        counts.replies += len(replies)
        for r_index, reply in enumerate(replies):
            name = reply.get("user")
            if name is not None and name not in users:
                self._ref_user(
                    line, name, f"{kind}.replies[{r_index}].user", True, USERS_NOT_FOUND, ""
                )
            flagged = reply.get("flagged_by")
            if flagged:
                self._flaggers(line, flagged, f"{kind}.replies[{r_index}].flagged_by", "")
            r_reactions = reply.get("reactions")
            if r_reactions:
                counts.reactions += len(r_reactions)
                self._reactions(line, r_reactions, f"{kind}.replies[{r_index}].reactions")
            r_attachments = reply.get("attachments")
            if r_attachments:
                counts.attachments += sum(1 for a in r_attachments if a.get("path"))
                self._files_count(
                    line, f"{kind}.replies[{r_index}].attachments", len(r_attachments)
                )

    def _files_count(self, line: int, field: str, count: int) -> None:
        if count > self._most_files:
            self._most_files = count
            self.found.facts.append(MostFiles(line, field, count))

    def _ref_user(
        self, line: int, name: str, field: str, exact: bool, server_id: str, note: str
    ) -> None:
        reported = self.refs.ref_user(name, field, exact=exact, server_id=server_id, note=note)
        if reported:
            self._add_reported(reported, line)

    def _flaggers(self, line: int, names: list[str], prefix: str, note: str) -> None:
        users = self.refs.users
        for index, name in enumerate(names):
            if name is not None and name not in users:
                self._ref_user(line, name, f"{prefix}[{index}]", True, USERS_NOT_FOUND, note)

    def _reactions(self, line: int, reactions: list[Payload], prefix: str) -> None:
        # Reactions look their user up case-insensitively.
        users = self.refs.users
        for index, reaction in enumerate(reactions):
            name = reaction.get("user")
            if name is not None and name not in users and go_lower(name) not in users:
                self._ref_user(
                    line, name, f"{prefix}[{index}].user", False, REACTION_USER_NOT_FOUND, ""
                )

    def _post(self, line: int, data: Payload) -> None:
        self.counts.posts += 1
        self._post_checks(line, data, "post")
        team_name, channel_name = data.get("team"), data.get("channel")
        refs = self.refs
        if team_name is not None and (
            team_name not in refs.teams
            or (channel_name is not None and (team_name, channel_name) not in refs.channels)
        ):
            self._post_place(line, team_name, channel_name)
        self._post_refs(line, data, "post", BATCH_NOTE)
        create_at, message = data.get("create_at"), data.get("message")
        if team_name and channel_name and create_at is not None and message is not None:
            self.identities.add(
                post_identity("post", team_name, channel_name, create_at, message), line
            )

    def _post_place(self, line: int, team_name: str, channel_name: str | None) -> None:
        """The slow path of a post's team and channel: build the issue."""
        refs = self.refs
        reported = refs.ref_team(team_name, "post.team", exact=True, server_id=TEAMS_NOT_FOUND)
        if reported is None and channel_name is not None:
            reported = refs.ref_channel(
                team_name,
                channel_name,
                "post.channel",
                server_id=POST_CHANNEL_NOT_FOUND,
                note=BATCH_NOTE,
            )
        if reported:
            self._add_reported(reported, line)

    def _direct_channel(self, line: int, data: Payload) -> None:
        self.counts.direct_channels += 1
        self._rules("direct_channel", line, data)
        participants = data.get("participants")
        if participants is not None:
            names = [(p or {}).get("username") for p in participants]
            prefix = "direct_channel.participants"
            suffix = ".username"
        else:
            names = list(data.get("members") or ())
            prefix = "direct_channel.members"
            suffix = ""
        users = self.refs.users
        for index, name in enumerate(names):
            if name is not None and name not in users:
                self._ref_user(line, name, f"{prefix}[{index}]{suffix}", True, USERS_NOT_FOUND, "")

    def _direct_post(self, line: int, data: Payload) -> None:
        self.counts.direct_posts += 1
        self._post_checks(line, data, "direct_post")
        members = data.get("channel_members") or ()
        if members:
            self._flaggers(line, members, "direct_post.channel_members", BATCH_NOTE)
        self._post_refs(line, data, "direct_post", BATCH_NOTE)
        create_at, message = data.get("create_at"), data.get("message")
        if members and create_at is not None and message is not None:
            self.identities.add(post_identity("direct", *sorted(members), create_at, message), line)
