"""The engine: JSONL lines in, `Findings` out (issues, facts, counts), in the server's order.

Dispatch and plumbing only. For each line: the accept-only fast path for post lines
(`archivekit.check.fast`), else the line as a record (`archivekit.read.records`: framing
problems, Go-exact decoding), the envelope
(`archivekit.check.envelope`: version line, unknown types, missing payload), and the line
type's handler: the files the server resolves first (`archivekit.check.files.FileChecks`), the
server's validator layer (first error only) and apply-layer rules (`archivekit.check.rules`),
then the cross-line checks — what definition lines define and refer to
(`archivekit.check.definitions`), the references inside posts (`archivekit.check.post_refs`),
both against `archivekit.check.references` — and the facts the consumers need (definitions,
files used, message lengths, post identities). Read from a stream, the part of
a line that depends on the archive's members waits until they are known (`replay`;
`archivekit.check.deferred`).

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
from typing import TYPE_CHECKING, Any

from archivekit.check.definitions import Definitions
from archivekit.check.duplicates import post_identity
from archivekit.check.envelope import open_envelope
from archivekit.check.facts import (
    FilesUsed,
    Findings,
    Maxima,
    PackedIdentities,
    Unresolved,
)
from archivekit.check.fast import fastpath
from archivekit.check.fast.fastpath import (
    DEFER_FILES,
    DIRECT_POST_PREFIX,
    IMAGE_EXTENSION_BYTES,
    POST_PREFIX,
    BatchScanner,
    FilesArg,
    Scanner,
    key_finder,
)
from archivekit.check.files import FileChecks, files_field
from archivekit.check.post_refs import PostReferences
from archivekit.check.references import (
    BATCH_NOTE,
    Existing,
    References,
)
from archivekit.check.rules import bot, channel, direct, emoji, post, role, scheme, team, user
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.post_types import is_allowed_post_type
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.issues import Issue, Values
from archivekit.read import Archive, LineTooLong
from archivekit.read.records import decode_plain, read_record

if TYPE_CHECKING:
    from archivekit.check.deferred import Deferred, DeferredFiles

Payload = dict[str, Any]
# A stream's deferred post lines go back to the C scanner in runs of at most this many lines
# and bytes (`LineProcessor.replay`): what the replay holds at once.
_REPLAY_LINES = 4096
_REPLAY_BYTES = 8 << 20
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
    doc = decode_plain(raw)
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
        self.maxima = Maxima()
        self.lines = 0
        self.files = FileChecks(archive, deferred)
        self.check_files = self.files.check
        self._fast_files_args: dict[bool, FilesArg | None] = {}  # `_files_arg`, C or not
        # The line being processed (general path): its raw bytes and where its issues start.
        self._raw = b""
        self._line_start = 0
        self.post_refs = PostReferences(self.refs, self.maxima, self.member)
        self.definitions = Definitions(self.refs, self.member)
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
        self.found.add(issue, self.member, line, unresolved)

    def _add_all(self, issues: list[Issue] | tuple[Issue, ...], line: int) -> None:
        for issue in issues:
            self._add(issue, line)

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
        files = self._files_arg(native=True, defer=True)
        waiting = self.files.deferred is not None  # `files` is DEFER_FILES (or None)
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
                if runes > self.maxima.message:
                    kind = POST_LINE_TYPES[runes_direct]
                    self.maxima.longest_message(self.found, runes_line, f"{kind}.message", runes)
                self.identities.add_many(identities, lines)
                if used is not None:
                    if waiting:
                        self._wait(used)
                    else:
                        self._fast_files(*used)
            if stop < end:
                self._general(first + stop, batch[stop])
            start = stop + 1

    def process(self, line: int, raw: bytes | LineTooLong) -> None:
        """Process one line (the fast path first, when it applies)."""
        self.process_lines(line, [raw])

    def _general(self, line: int, raw: bytes | LineTooLong) -> None:
        self._line_start = len(self.found.issues)
        record = read_record(line, raw)
        self._raw = record.raw
        decode_issues = record.issues
        if record.envelope is None and decode_issues and decode_issues[0].code == "json-type":
            # Go refuses the whole line for one value of the wrong type; the line is still
            # JSON, so it can name what it defines ("team 'sales'"), read as plain JSON.
            subject = _plain_subject(record.raw)
            decode_issues = (_named(decode_issues[0], subject), *decode_issues[1:])
        if decode_issues:
            self._add_all(decode_issues, line)
        envelope = record.envelope
        if envelope is None:
            return
        issues, line_type, payload = open_envelope(line, envelope)
        if issues:
            self._add_all(issues, line)
        if payload is not None:
            self._handlers[line_type](line, payload)

    # --- the accept-only fast path (see archivekit.check.fast.fastpath) ----------------------
    def _files_arg(self, native: bool, defer: bool = False) -> FilesArg | None:
        """What the fast path resolves attachments with (None: it declines lines with files):
        the member index (its C table for the C scanner), MaxFileSize, the image extensions,
        the lookup of non-ASCII keys. Made once per kind of scanner. A stream's members are
        not known yet: the C batch scanner (`defer`) then takes plain attachment lists for
        their shape (`DEFER_FILES`: their lines wait, `_wait`), the others decline them."""
        max_size = self.ctx.max_file_size
        if not self.check_files or max_size is None:
            return None
        if self.files.deferred is not None:
            return DEFER_FILES if defer and native else None
        if native not in self._fast_files_args:
            index = self.archive.index
            table = index.table if native else index
            self._fast_files_args[native] = (
                None
                if table is None
                else (table, max_size, IMAGE_EXTENSION_BYTES, key_finder(index))
            )
        return self._fast_files_args[native]

    def _fast_files(
        self,
        count: int,
        total_bytes: int,
        largest: tuple[int, int, bool, int, int],
        most: tuple[int, int, bool, int],
        members: bytes,
        images: bytes | None,
        counted: bool = False,
    ) -> None:
        """The files of accepted lines: counts and facts. `largest` is (size, line, direct,
        reply, position) of the first largest file, `most` (count, line, direct, reply) of the
        first longest list; reply -1 is the post's own list; `members` the entries used
        (packed uint32); `images` the image attachments among them (packed, see
        `FileChecks.fast_images`), or None. `counted`: the number of files and the longest
        list were counted as a stream's lines were read (`_wait`)."""
        size, line, direct, reply, position = largest
        field = f"{files_field(direct, reply)}[{position}].path"
        self.found.facts.append(FilesUsed(count, total_bytes, line, field, size, members))
        files, line, direct, reply = most
        if not counted:
            self.counts.attachments += count
            if files > self.maxima.files:
                self.maxima.file_count(self.found, line, files_field(direct, reply), files)
        if images is not None:
            self.files.fast_images(self.found, images, self.ctx.max_image_resolution)

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
            limit = self.ctx.max_image_resolution
            for reply, position, entry in images:
                self.files.fast_image(self.found, line, direct, reply, position, entry, limit)
        counts = self.counts
        if direct:
            counts.direct_posts += 1
            kind = "direct_post"
        else:
            counts.posts += 1
            kind = "post"
        counts.replies += replies
        counts.reactions += reactions
        if runes > self.maxima.message:
            self.maxima.longest_message(self.found, line, f"{kind}.message", runes)
        self.identities.add(identity, line)
        return True

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
    # Each handler counts the line, runs its rules and files, and leaves the definitions and
    # references to `Definitions` / `PostReferences`.
    def _role(self, line: int, data: Payload) -> None:
        self.counts.roles += 1
        self._rules("role", line, data)
        self.definitions.role(self.found, line, data)

    def _scheme(self, line: int, data: Payload) -> None:
        self.counts.schemes += 1
        self._rules("scheme", line, data)
        self.definitions.scheme(self.found, line, data)

    def _team(self, line: int, data: Payload) -> None:
        self.counts.teams += 1
        self._rules("team", line, data)
        self.definitions.team(self.found, line, data)

    def _channel(self, line: int, data: Payload) -> None:
        self.counts.channels += 1
        self._rules("channel", line, data)
        self.definitions.channel(self.found, line, data)

    def _profile_and_rules(self, line: int, data: Payload, kind: str) -> None:
        """A user's or bot's profile image (first, as the server's validator), then its rules."""
        if self.files.waits(kind, data):
            self._defer(line, kind)
        elif self.files.profile_image(self.found, line, data, kind):
            self._rules(kind, line, data)

    def _user(self, line: int, data: Payload) -> None:
        self.counts.users += 1
        self._profile_and_rules(line, data, "user")
        self.definitions.user(self.found, line, data)

    def _bot(self, line: int, data: Payload) -> None:
        self.counts.bots += 1
        self._profile_and_rules(line, data, "bot")
        self.definitions.bot(self.found, line, data)

    def _emoji(self, line: int, data: Payload) -> None:
        self.counts.emojis += 1
        ok = self._rules("emoji", line, data)
        self.definitions.emoji(self.found, line, data)
        self._emoji_image(line, data, ok)

    def _emoji_image(self, line: int, data: Payload, ok: bool) -> None:
        """An emoji's image (`ok`: the validator passed)."""
        if self.files.waits("emoji", data):
            self._defer(line, "emoji", ok)
        else:
            self.files.emoji_image(self.found, line, data.get("image"), ok)

    def _post_checks(self, line: int, data: Payload, kind: str) -> None:
        """Files (the server resolves them first), then the validator and apply rules."""
        files = self.files
        if files.deferred is not None and files.waits(kind, data):
            self._defer(line, kind)  # the rules too: they see what resolution blanks
            return
        # Most posts list no files and no replies: no call for them (the hot path).
        if data.get("attachments") or data.get("replies"):
            data = files.attachments(self.found, line, data, kind)
        self._rules(kind, line, data)

    # --- a stream's deferred parts (see archivekit.check.deferred) --------------------------
    def _defer(self, line: int, kind: str, ok: bool = True) -> None:
        """Leave the rest of the line's file-dependent part to `replay`."""
        deferred = self.files.deferred
        assert deferred is not None
        position = len(self.found.issues) - self._line_start
        deferred.add(line, position, kind, self._raw, ok)

    def _wait(self, waiting: tuple[int, bytes, bytes, bytes]) -> None:
        """Post lines the C scanner accepted in defer mode, but for their files: their file
        part waits for the members (none of their issues come before it: they have none), as
        `resolve_waiting` records with the lines themselves; what the general path counts of
        their files at once (`PostReferences.post`: the number, the longest list) is counted
        now — the longest lists from the lines that beat every earlier one of their run
        ((line, direct, files, its reply), packed int64)."""
        deferred = self.files.deferred
        assert deferred is not None
        files, longest, records, lines = waiting
        deferred.add_waiting(records, lines)
        self.counts.attachments += files
        packed = array("q", longest)
        for k in range(0, len(packed), 4):
            line, direct, most, reply = packed[k : k + 4]
            if most > self.maxima.files:
                self.maxima.file_count(self.found, line, files_field(bool(direct), reply), most)

    def replay(self) -> Iterator[tuple[int, int, Findings]]:
        """The deferred parts of lines, run now that the archive's members are known: for
        each, (line, how many of the line's issues come before its own, its findings) — or,
        for a run of post lines whose files resolve in C (`_replay_waiting`, or the C scanner
        for those the general path deferred: as from a file, the same facts and no issue),
        the run's findings under its first line."""
        deferred = self.files.deferred
        if deferred is None:
            return
        self.files.deferred = None  # the parts now run in place
        self.take()
        fast = self.fast and self.batch_scanner is not None
        fast = fast and self._files_arg(native=True) is not None
        posts: list[Deferred] = []
        held = 0
        for record in deferred:
            if record.kind == "waiting":
                if posts:
                    yield from self._replay_posts(posts)
                    posts, held = [], 0
                yield from self._replay_waiting(record, fast)
                continue
            if fast and record.kind in POST_LINE_TYPES:
                posts.append(record)
                held += len(record.raw)
                if len(posts) >= _REPLAY_LINES or held >= _REPLAY_BYTES:
                    yield from self._replay_posts(posts)
                    posts, held = [], 0
                continue
            if posts:
                yield from self._replay_posts(posts)
                posts, held = [], 0
            yield self._replay_one(record)
        if posts:
            yield from self._replay_posts(posts)

    def _replay_posts(self, records: list[Deferred]) -> Iterator[tuple[int, int, Findings]]:
        """Deferred post lines through the C batch scanner with the member index; each line
        it stops at through the general path."""
        scan_batch = self.batch_scanner
        files = self._files_arg(native=True)
        assert scan_batch is not None
        assert files is not None
        refs, ctx = self.refs, self.ctx
        batch: list[bytes | LineTooLong] = [record.raw for record in records]
        lines = array("q", [record.line for record in records]).tobytes()
        start, end = 0, len(batch)
        while start < end:
            stop, *_, used = scan_batch(
                batch, start, lines, refs.users, refs.teams, refs.channels,
                is_allowed_post_type, ctx.max_post_size, files,
            )  # fmt: skip
            if stop > start:
                if used is not None:
                    count, total_bytes, largest, most, members, images = used
                    self._fast_files(count, total_bytes, largest, most, members, images, True)
                yield records[start].line, records[start].position, self.take()
            if stop < end:
                yield self._replay_one(records[stop])
            start = stop + 1

    def _replay_waiting(self, record: Deferred, fast: bool) -> Iterator[tuple[int, int, Findings]]:
        """Post lines whose files waited (`_wait`): their attachments resolved in C with the
        member index, as a file's scan resolves them; each line whose files do not resolve
        (or every line, without the C scanner) through the general path."""
        from archivekit.check.deferred import WAITING_LINE, Deferred, waiting_lines

        resolve = fastpath.NATIVE_RESOLVE
        files = self._files_arg(native=True) if fast else None
        records, end, at = record.raw, len(record.raw), 0
        lines: bytes | None = None
        while at < end:
            stop = at
            if resolve is not None and files is not None:
                stop, used = resolve(records, at, files)
                if used is not None:
                    count, total_bytes, largest, most, members, images = used
                    self._fast_files(count, total_bytes, largest, most, members, images, True)
                    yield WAITING_LINE.unpack_from(records, at)[0], 0, self.take()
            if stop == end:
                break
            line, raw_at, raw_len, direct, _, size = WAITING_LINE.unpack_from(records, stop)
            if lines is None:
                lines = waiting_lines(record)
            raw = lines[raw_at : raw_at + raw_len]
            kind = POST_LINE_TYPES[direct]
            yield self._replay_one(Deferred(line, 0, kind, raw, True))
            at = stop + size

    def _replay_one(self, record: Deferred) -> tuple[int, int, Findings]:
        """One deferred part through the general path."""
        envelope = read_record(record.line, record.raw).envelope
        assert envelope is not None
        payload = envelope[record.kind]
        line, kind = record.line, record.kind
        if kind in POST_LINE_TYPES:
            self._post_checks(line, payload, kind)
        elif kind == "emoji":
            self._emoji_image(line, payload, record.ok)
        else:
            self._profile_and_rules(line, payload, kind)
        return line, record.position, self.take()

    def _post(self, line: int, data: Payload) -> None:
        self.counts.posts += 1
        self._post_checks(line, data, "post")
        team_name, channel_name = data.get("team"), data.get("channel")
        self.post_refs.place(self.found, line, team_name, channel_name)
        self.post_refs.post(self.found, line, data, "post", BATCH_NOTE)
        create_at, message = data.get("create_at"), data.get("message")
        if team_name and channel_name and create_at is not None and message is not None:
            self.identities.add(
                post_identity("post", team_name, channel_name, create_at, message), line
            )

    def _direct_channel(self, line: int, data: Payload) -> None:
        self.counts.direct_channels += 1
        self._rules("direct_channel", line, data)
        self.post_refs.direct_channel(self.found, line, data)

    def _direct_post(self, line: int, data: Payload) -> None:
        self.counts.direct_posts += 1
        self._post_checks(line, data, "direct_post")
        members = data.get("channel_members") or ()
        if members:
            self.post_refs.users(
                self.found, line, members, "direct_post.channel_members", BATCH_NOTE
            )
        self.post_refs.post(self.found, line, data, "direct_post", BATCH_NOTE)
        create_at, message = data.get("create_at"), data.get("message")
        if members and create_at is not None and message is not None:
            self.identities.add(post_identity("direct", *sorted(members), create_at, message), line)
