"""The record pipeline: one JSONL line in, issues and counts out, in the server's order.

For each line: framing problems, then Go-exact decoding, then the envelope (version line,
unknown types, missing payload), the attachment pre-processing, the server's validator layer
(first error only), the apply-layer rules, and finally the cross-line checks (references,
duplicates) and the target-limit accounting. Nothing here prints; issues go to the collector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archivekit.check.duplicates import Deduper, post_identity
from archivekit.check.fast import fastpath
from archivekit.check.fast.fastpath import (
    DIRECT_POST_PREFIX,
    IMAGE_EXTENSION_BYTES,
    POST_PREFIX,
    BatchScanner,
    FilesArg,
    Scanner,
)
from archivekit.check.files import READABLE_METHODS, AttachmentResolver, FileRef, ReferencedFiles
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
)
from archivekit.check.rules import bot, channel, direct, emoji, post, role, scheme, team, user
from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import go_lower
from archivekit.check.rules.post_types import is_allowed_post_type
from archivekit.gosem.decode import decode_line
from archivekit.gosem.paths import resolve
from archivekit.issues import DROPS_DATA, FAILS_IMPORT, Issue, Severity, error, warning
from archivekit.read import Archive, LineTooLong, MemberInfo
from archivekit.report.model import Counts, IssueCollector

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


class Hooks:
    """Receivers of per-line facts beyond issues (target limits, inspection). No-ops here."""

    def team(self, line: int, name: str) -> None: ...
    def channel(self, line: int, team: str, name: str, deleted_at: int | None) -> None: ...
    def user_teams(self, line: int, username: str, active: bool, teams: list[str]) -> None: ...
    def attachment(self, line: int, ref: FileRef) -> None: ...
    def attachment_totals(
        self, count: int, total_bytes: int, largest: int, line: int, field: str
    ) -> None: ...
    def profile_image(self, line: int, ref: FileRef) -> None: ...
    def post_message(self, line: int, field: str, runes: int) -> None: ...
    def post_files(self, line: int, field: str, count: int) -> None: ...


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
        collector: IssueCollector,
        *,
        ctx: RuleContext | None = None,
        hooks: Hooks | None = None,
        default_channels: tuple[str, ...] | None = None,
        existing: Existing | None = None,
    ) -> None:
        self.archive = archive
        self.member = archive.jsonl.name
        self.collector = collector
        self.ctx = ctx or RuleContext()
        self.hooks = hooks or Hooks()
        self.refs = References(*(() if default_channels is None else (default_channels,)))
        if existing is not None:
            self.refs.seed(existing)
        self.counts = Counts()
        self.deduper = Deduper()
        # Maxima already passed to the hooks (the hooks keep only maxima; skip the calls).
        self._longest_message = -1
        self._most_files = 0
        self.referenced = ReferencedFiles(len(archive.index))
        # Files whose damage stops the import (profile and emoji images), for --verify-files.
        self.fatal_files: set[str] = set()
        self.missing = 0
        self.lines = 0
        self._pending: dict[tuple[str, str], list[int | None]] = {}
        self._basenames: dict[str, list[str]] | None = None
        self.attachments = AttachmentResolver(self._lookup, self._hint)
        self.check_files = archive.kind != "jsonl"
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

    # --- issue plumbing --------------------------------------------------------------------
    def _add(self, issue: Issue, line: int | None) -> None:
        index = self.collector.add(issue.at(issue.member or self.member, line))
        unresolved = self.refs.last_unresolved
        if unresolved is not None:
            self.refs.last_unresolved = None
            # Dropped issues (over --max-issues) are remembered too (as None) so that the
            # counts by code do not depend on the cap.
            if len(self._pending) < 100_000 or unresolved in self._pending:
                self._pending.setdefault(unresolved, []).append(index)

    def _add_all(self, issues: list[Issue] | tuple[Issue, ...], line: int) -> None:
        for issue in issues:
            self._add(issue, line)

    def _defined(self, kind: str, key: str, line: int) -> None:
        """A definition arrived: earlier "unknown" errors for it become "defined later"."""
        for index in self._pending.pop((kind, key), ()):
            self.mark_defined_later(index, kind, key, line)

    def mark_defined_later(self, index: int | None, kind: str, key: str, line: int) -> None:
        """Turn the "unknown ..." issue at `index` (None: dropped by the cap, counted only)
        into a "defined-later" one."""
        if index is None:
            self.collector.by_code[f"unknown-{kind}"] -= 1
            self.collector.by_code["defined-later"] += 1
            return
        kept = self.collector.kept
        old = kept[index]
        kept[index] = Issue(
            "defined-later",
            old.severity,
            f"{kind} {key!r} is only defined on line {line}, after this line; the server "
            "imports blocks of lines in file order, so it does not exist yet here — "
            "move the definition before its first use",
            old.member,
            old.line,
            old.field,
            old.server_error_id,
            old.effect,
        )
        self.collector.by_code[old.code] -= 1
        self.collector.by_code["defined-later"] += 1

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

    def _use_file(self, line: int, ref: FileRef, kind: str) -> bool:
        """Count a resolved file; report a compression the server cannot read."""
        member: MemberInfo = ref.member
        self.referenced.add(member)
        if kind != "attachment":
            self.fatal_files.add(member.key)
        if member.method not in READABLE_METHODS or member.encrypted:
            if kind == "attachment":
                # Already reported once for the member by the reader (drops the file).
                return False
            what = "encrypted" if member.encrypted else f"compression method {member.method}"
            effect = DROPS_DATA if kind == "attachment" else FAILS_IMPORT
            consequence = (
                "drops the file" if kind == "attachment" else "fails the import on this line"
            )
            self._add(
                error(
                    "member-unsupported-compression",
                    f"{member.name!r} is stored with {what}; the server's zip reader only "
                    f"knows stored and deflate and {consequence} — re-zip it with deflate",
                    field=ref.field,
                    effect=effect,
                ),
                line,
            )
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
        self.process_lines(self.lines + 1, batch)
        self.lines += len(batch)

    def process_lines(self, first: int, batch: list[bytes | LineTooLong]) -> None:
        """Process consecutive lines, numbered from `first`."""
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
             identities, lines, found) = scan_batch(
                batch, start, first, refs.users, refs.teams, refs.channels,
                is_allowed_post_type, ctx.max_post_size, files,
            )  # fmt: skip
            if stop > start:
                counts.posts += posts
                counts.direct_posts += direct_posts
                counts.replies += replies
                counts.reactions += reactions
                if runes > self._longest_message:
                    self._longest_message = runes
                    kind = "direct_post" if runes_direct else "post"
                    self.hooks.post_message(runes_line, f"{kind}.message", runes)
                self.deduper.add_many(identities, lines)
                if found is not None:
                    self._fast_files(*found)
            if stop < end:
                self._general(first + stop, batch[stop])
            start = stop + 1

    def process(self, line: int, raw: bytes | LineTooLong) -> None:
        """Process one line (the fast path first, when it applies)."""
        self.process_lines(line, [raw])

    def _general(self, line: int, raw: bytes | LineTooLong) -> None:
        if isinstance(raw, LineTooLong):
            self._add(
                error(
                    "line-too-long",
                    f"line is {raw.length:,} bytes; the server reads lines of at most "
                    "16,777,215 bytes and stops the whole import here (reported with line 0, "
                    "after importing every earlier line) — split the content (e.g. move large "
                    "props or replies into separate lines)",
                    server_error_id=FILE_SCAN_ID,
                ),
                line,
            )
            return
        envelope, decode_issues = decode_line(raw)
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
                ),
                line,
            )
            return
        handler(line, payload)

    # --- the accept-only fast path (see archivekit.check.fast.fastpath) ----------------------
    def _files_arg(self, native: bool) -> FilesArg | None:
        """What the fast path resolves attachments with (None: it declines lines with files):
        the member index (its C table for the C scanner), the referenced bitmap, MaxFileSize
        and the image extensions."""
        max_size = self.ctx.max_file_size
        if not self.check_files or max_size is None:
            return None
        index = self.archive.index
        table = index.table if native else index
        if table is None:
            return None
        return table, self.referenced.bits, max_size, IMAGE_EXTENSION_BYTES

    def _fast_files(
        self,
        count: int,
        total_bytes: int,
        largest: tuple[int, int, bool, int, int],
        most: tuple[int, int, bool, int],
    ) -> None:
        """The files of accepted lines (marked referenced already): counts and target facts.
        `largest` is (size, line, direct, reply, position) of the first largest file, `most`
        (count, line, direct, reply) of the first longest list; reply -1 is the post's own."""
        self.counts.attachments += count
        size, line, direct, reply, position = largest
        field = f"{self._files_field(direct, reply)}[{position}].path"
        self.hooks.attachment_totals(count, total_bytes, size, line, field)
        files, line, direct, reply = most
        if files > self._most_files:
            self._most_files = files
            self.hooks.post_files(line, self._files_field(direct, reply), files)

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
        identity, runes, replies, reactions, (members, total_bytes, largest, most) = found
        if members:
            for member in members:
                self.referenced.bits[member >> 3] |= 1 << (member & 7)
            self._fast_files(
                len(members), total_bytes, (largest[0], line, direct, *largest[1:]),
                (most[0], line, direct, most[1]),
            )  # fmt: skip
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
            self._longest_message = runes
            self.hooks.post_message(line, f"{kind}.message", runes)
        self.deduper.add(identity, line)
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
                ),
                1,
            )

    def _rules(self, line_type: str, line: int, payload: Payload) -> bool:
        """Validator then apply layer. Returns False when the validator failed."""
        validate, apply = RULES[line_type]
        first = validate(payload, self.ctx)
        if first is not None:
            self._add(first, line)
            return False
        applied = apply(payload, self.ctx)
        if applied:
            self._add_all(applied, line)
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
            self._defined("scheme", name, line)

    def _scheme_ref(self, line: int, data: Payload, kind: str) -> None:
        name = data.get("scheme")
        if name:
            issue = self.refs.ref_scheme(
                name,
                kind,
                f"{kind}.scheme",
                f"app.import.import_{kind}.scheme_wrong_scope.error",
            )
            if issue:
                self._add(issue, line)

    def _team(self, line: int, data: Payload) -> None:
        self.counts.teams += 1
        self._rules("team", line, data)
        self._scheme_ref(line, data, "team")
        name = data.get("name")
        if name:
            dup = self.refs.define_team(name, line)
            if dup:
                self._add(dup, line)
            self._defined("team", go_lower(name), line)
            self.hooks.team(line, go_lower(name))

    def _channel(self, line: int, data: Payload) -> None:
        self.counts.channels += 1
        self._rules("channel", line, data)
        team_name, name = data.get("team"), data.get("name")
        if team_name is not None:
            # channel.team is looked up lowercased: any case works here.
            issue = self.refs.ref_team(
                team_name, "channel.team", exact=False, server_id=CHANNEL_TEAM_NOT_FOUND
            )
            if issue:
                self._add(issue, line)
        self._scheme_ref(line, data, "channel")
        if team_name and name:
            dup = self.refs.define_channel(team_name, name, line)
            if dup:
                self._add(dup, line)
            self._defined("channel", f"{go_lower(team_name)}/{go_lower(name)}", line)
            self.hooks.channel(line, go_lower(team_name), go_lower(name), data.get("deleted_at"))

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
                ),
                line,
            )
            return False
        if self._use_file(line, ref, "profile image"):
            self.hooks.profile_image(line, ref)
        return True

    def _user(self, line: int, data: Payload) -> None:
        self.counts.users += 1
        if self._image_first(line, data, "user"):
            self._rules("user", line, data)
        username = data.get("username")
        teams = data.get("teams") or []
        for t_index, membership in enumerate(teams):
            team_name = membership.get("name")
            if team_name is None:
                continue
            field = f"user.teams[{t_index}]"
            issue = self.refs.ref_team(
                team_name, f"{field}.name", exact=True, server_id=TEAMS_NOT_FOUND
            )
            if issue:
                self._add(issue, line)
                continue
            for c_index, channel_membership in enumerate(membership.get("channels") or ()):
                channel_name = channel_membership.get("name")
                if channel_name is not None:
                    issue = self.refs.ref_channel(
                        team_name,
                        channel_name,
                        f"{field}.channels[{c_index}].name",
                        server_id=USER_CHANNEL_NOT_FOUND,
                    )
                    if issue:
                        self._add(issue, line)
        if username:
            self._add_all(self.refs.define_user(username, data.get("email"), line, "user"), line)
            self._defined("user", go_lower(username), line)
            names = [go_lower(m["name"]) for m in teams if m.get("name")]
            if names:
                active = not data.get("delete_at")
                self.hooks.user_teams(line, go_lower(username), active, names)

    def _bot(self, line: int, data: Payload) -> None:
        self.counts.bots += 1
        if self._image_first(line, data, "bot"):
            self._rules("bot", line, data)
        username = data.get("username")
        if username:
            self._add_all(self.refs.define_user(username, None, line, "bot"), line)
            self._defined("user", go_lower(username), line)

    def _emoji(self, line: int, data: Payload) -> None:
        self.counts.emojis += 1
        ok = self._rules("emoji", line, data)
        name = data.get("name")
        if name:
            dup = self.refs.define_named("emojis", name, line)
            if dup:
                self._add(dup, line)
        path = data.get("image")
        if not path or not self.check_files:
            return
        ref = self._resolve_single(line, path, "emoji.image")
        if not ok:
            if ref is not None:
                self.referenced.add(ref.member)  # referenced, even if the line fails
            return
        if ref is None:
            self._add(
                error(
                    "emoji-image-missing",
                    f"emoji image {path!r} is not in the archive (looked for "
                    f"{resolve(path)!r}); the server stops the import on this line",
                    field="emoji.image",
                    server_error_id=EMOJI_BAD_FILE_ID,
                ),
                line,
            )
            return
        if self._use_file(line, ref, "emoji image") and ref.member.size > EMOJI_MAX_BYTES:
            self._add(
                error(
                    "emoji-image-too-large",
                    f"emoji image {ref.member.name!r} is {ref.member.size:,} bytes; the server "
                    f"copies at most {EMOJI_MAX_BYTES:,} bytes and fails the import — shrink it",
                    field="emoji.image",
                ),
                line,
            )

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
            checked, file_issues, files = self.attachments.process(data, kind)
            if file_issues:
                self.missing += sum(1 for i in file_issues if i.code != "attachment-invalid-path")
                self._add_all(file_issues, line)
            for ref in files:
                if self._use_file(line, ref, "attachment"):
                    self.hooks.attachment(line, ref)
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
            self._files_hook(line, f"{kind}.attachments", len(attachments))
        message = data.get("message")
        if message is not None and len(message) > self._longest_message:
            self._longest_message = len(message)
            self.hooks.post_message(line, f"{kind}.message", len(message))
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
                self._files_hook(line, f"{kind}.replies[{r_index}].attachments", len(r_attachments))

    def _files_hook(self, line: int, field: str, count: int) -> None:
        if count > self._most_files:
            self._most_files = count
            self.hooks.post_files(line, field, count)

    def _ref_user(
        self, line: int, name: str, field: str, exact: bool, server_id: str, note: str
    ) -> None:
        issue = self.refs.ref_user(name, field, exact=exact, server_id=server_id, note=note)
        if issue:
            self._add(issue, line)

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
            self.deduper.add(
                post_identity("post", team_name, channel_name, create_at, message), line
            )

    def _post_place(self, line: int, team_name: str, channel_name: str | None) -> None:
        """The slow path of a post's team and channel: build the issue."""
        issue = self.refs.ref_team(team_name, "post.team", exact=True, server_id=TEAMS_NOT_FOUND)
        if issue is None and channel_name is not None:
            issue = self.refs.ref_channel(
                team_name,
                channel_name,
                "post.channel",
                server_id=POST_CHANNEL_NOT_FOUND,
                note=BATCH_NOTE,
            )
        if issue:
            self._add(issue, line)

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
            self.deduper.add(post_identity("direct", *sorted(members), create_at, message), line)

    # --- end of stream ---------------------------------------------------------------------
    def finish(self) -> None:
        """Archive-wide checks that need the whole stream: duplicates, unreferenced files."""
        if self.lines == 0:
            self._add(
                warning(
                    "empty-archive",
                    "the JSONL has no lines: the server reports success and imports nothing",
                ),
                None,
            )
        duplicates, total = self.deduper.duplicates()
        for dup_line, first in duplicates:
            self._add(
                warning(
                    "duplicate-post",
                    f"same channel, create_at and message as line {first}: the server "
                    "overwrites the earlier post, or inserts both when they fall in the same "
                    "batch of 1000 lines",
                ),
                dup_line,
            )
        for _ in range(total - len(duplicates)):
            # Beyond the cap only the count is kept (the collector's list is capped anyway).
            self.collector.add(
                Issue("duplicate-post", Severity.WARNING, "duplicate post", self.member, None)
            )
        if self.check_files:
            self._unreferenced()

    def _unreferenced(self) -> None:
        index = self.archive.index
        outside: list[MemberInfo] = []
        jsonl = index.find(self.archive.jsonl.key)
        for i in index.unreferenced(self.referenced.bits, jsonl):
            member = index[i]
            if not member.key.startswith("data/"):
                if member.key.endswith(".jsonl") or member.name == "warnings.txt":
                    continue
                outside.append(member)
                continue
            self._add(
                Issue(
                    "attachment-unreferenced",
                    Severity.WARNING,
                    f"{member.name!r} ({member.size:,} bytes) is not referenced by any line; "
                    "the server ignores it",
                    member.name,
                    None,
                ),
                None,
            )
        if outside:
            self._add(
                Issue(
                    "attachment-outside-data",
                    Severity.WARNING,
                    f"{len(outside)} file(s) outside data/ are never used by the server, e.g. "
                    f"{outside[0].name!r}; attachments must sit under data/ with the JSONL path "
                    "relative to it",
                    outside[0].name,
                    None,
                ),
                None,
            )
