"""Problems are data: the `Issue` every layer reports, and the catalogue of issue codes.

An `Issue` carries its own location (member, 1-based line, field path), where the Mattermost
server has one the server's own i18n error id, and the values its message speaks of as data
(`values`: found, limit, name...), so that tables and reports never parse messages. Codes are
stable kebab-case strings; every code used anywhere must be listed in `CODES` (a test enforces
it), so the catalogue doubles as documentation. This module imports nothing from the rest of
the package.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

# A structured value of an issue: what JSON can carry as a scalar.
Scalar = str | int | float | bool | None


class Severity(StrEnum):
    """How bad an issue is. `error`: the import fails or data will not arrive."""

    ERROR = "error"
    WARNING = "warning"


class Values(Mapping[str, Scalar]):
    """The values an issue's message speaks of, by name (``found``, ``limit``, ``name``...).

    Immutable (issues are), hashable, and picklable (parallel workers send issues).
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Scalar] | None = None) -> None:
        self._data: dict[str, Scalar] = dict(data or {})

    def __getitem__(self, key: str) -> Scalar:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # The dict's own lookups (Mapping's would raise and catch KeyError for every missing key:
    # root causes look values up for every issue of a run).
    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @property
    def mapping(self) -> Mapping[str, Scalar]:
        """The values as a read-only view for hot loops (no copy; do not modify)."""
        return self._data

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"Values({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Values, (self._data,))

    def to_dict(self) -> dict[str, Scalar]:
        return dict(self._data)


NO_VALUES = Values()


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in an archive.

    `field` is a path into the line's JSON, e.g. ``post.replies[0].attachments[1].path``.
    `line` is 1-based within `member` (the JSONL), or None for archive-level problems.
    `values` holds what the message says as data (the conventional names: ``found``,
    ``limit``, ``unit`` for sizes; ``kind``, ``name``, ``key`` for references; ``path``,
    ``member`` for files; ``first_line`` for duplicates; ``setting`` for target limits).
    """

    code: str
    severity: Severity
    message: str
    member: str | None = None
    line: int | None = None
    field: str | None = None
    server_error_id: str | None = None
    # What the server does about it: "fails-import" (the job stops), "drops-data" (the line or
    # file is skipped and the import goes on), or None when not applicable (warnings, notes).
    effect: str | None = None
    values: Values = NO_VALUES

    def at(self, member: str | None, line: int | None) -> Issue:
        """The same issue, placed at a member and line (rules report without location)."""
        return Issue(
            self.code,
            self.severity,
            self.message,
            member,
            line,
            self.field,
            self.server_error_id,
            self.effect,
            self.values,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "member": self.member,
            "line": self.line,
            "field": self.field,
            "server_error_id": self.server_error_id,
            "effect": self.effect,
            "values": self.values.to_dict(),
        }


FAILS_IMPORT = "fails-import"
DROPS_DATA = "drops-data"


def validator_prefix(record: str) -> str:
    """How the ids of the server's validator errors for one record start:
    ``app.import.validate_<record>_import_data.`` (then ``<rule>.error``). The models quote
    these ids in their field descriptions, the rules put them in issues."""
    return f"app.import.validate_{record}_import_data."


def validator_id(record: str, rule: str) -> str:
    """Full server id of a validator error, e.g. ``validator_id("team", "name_length")``."""
    return f"{validator_prefix(record)}{rule}.error"


# The thread followers' validator (a reply's `followers`) is the one whose ids lack "_import".
THREAD_FOLLOWER_PREFIX = "app.import.validate_thread_follower_data."


def error(
    code: str,
    message: str,
    *,
    field: str | None = None,
    server_error_id: str | None = None,
    effect: str | None = FAILS_IMPORT,
    values: Mapping[str, Scalar] | None = None,
) -> Issue:
    """An error-severity issue without location (the engine places it)."""
    return Issue(
        code, Severity.ERROR, message, None, None, field, server_error_id, effect, _values(values)
    )


def warning(
    code: str,
    message: str,
    *,
    field: str | None = None,
    server_error_id: str | None = None,
    effect: str | None = None,
    values: Mapping[str, Scalar] | None = None,
) -> Issue:
    """A warning-severity issue without location (the engine places it)."""
    return Issue(
        code, Severity.WARNING, message, None, None, field, server_error_id, effect, _values(values)
    )


def _values(values: Mapping[str, Scalar] | None) -> Values:
    return NO_VALUES if not values else Values(values)


class CodeInfo(NamedTuple):
    title: str
    description: str


# The catalogue. Keep it sorted by area; `tests/test_issue_catalog.py` checks that every code
# emitted by the package is here.
CODES: dict[str, CodeInfo] = {}


def _code(code: str, title: str, description: str) -> None:
    CODES[code] = CodeInfo(title, description)


# --- archive / zip level -------------------------------------------------------------------
_code("not-a-zip", "Not a zip archive", "The file is not a readable zip archive.")
_code("zip-truncated", "Truncated archive", "The archive ends early (half-downloaded?).")
_code("zip-corrupt", "Corrupt archive", "The zip structures or a member's data are damaged.")
_code("zip-multidisk", "Multi-disk archive", "Spanned/multi-disk zips are not supported.")
_code(
    "input-unreadable",
    "Input cannot be read",
    "Permission denied or an I/O error while reading the archive (or a file of a folder).",
)
_code(
    "stream-unreadable",
    "Cannot be read from a stream",
    "Read from a pipe, the archive needs what only a file allows (seeking): save it first.",
)
_code("jsonl-missing", "No JSONL at the root", "The server imports the first root-level .jsonl.")
_code(
    "jsonl-choice-differs",
    "Older servers pick another JSONL",
    "Before v11.5 the first .jsonl anywhere was imported; that is a different member here.",
)
_code(
    "jsonl-not-zipped",
    "JSONL not zipped",
    "A bare .jsonl: the server imports only zip archives; attachments cannot be checked.",
)
_code("jsonl-extra", "Extra root JSONL ignored", "Only the first root .jsonl is imported.")
_code("jsonl-path-traversal", "JSONL name contains '..'", "The server refuses such a name.")
_code(
    "jsonl-unsupported-compression",
    "JSONL compressed with a method the server cannot read",
    "The server's zip reader knows only stored and deflate.",
)
_code("member-encrypted", "Encrypted member", "The server cannot read encrypted members.")
_code(
    "member-unsupported-compression",
    "Member compressed with a method the server cannot read",
    "Attachments compressed with e.g. deflate64 are dropped by the server.",
)
_code("member-duplicate-name", "Duplicate member name", "The server keeps the last one.")
_code("member-unsafe-name", "Unsafe member name", "Absolute path, '..', or a drive letter.")
_code(
    "member-backslash-name",
    "Backslash in member name",
    "An ordinary character on the server: only a JSONL path with the same backslash matches.",
)
_code("member-nfd-name", "Member name not NFC", "Matched after NFC normalisation (v11.7+).")
_code("member-symlink", "Symlink member", "A symbolic link stored in the zip.")
_code("member-crc-mismatch", "CRC mismatch", "A member's data does not match its checksum.")
_code("member-too-large", "Member over the size limit", "Zip-bomb protection limit reached.")
_code("member-ratio", "Member compression ratio too high", "Zip-bomb protection.")
_code("archive-too-large", "Archive over the size limit", "Zip-bomb protection limit reached.")
# --- framing / decoding --------------------------------------------------------------------
_code("line-too-long", "Line over 16 MiB", "The server's scanner stops at this line.")
_code("line-empty", "Empty line", "An empty or whitespace-only line fails to decode.")
_code("json-decode", "Line is not valid JSON", "The import stops at this line.")
_code("json-type", "Wrong JSON type", "Go's decoder refuses the whole line.")
_code("bom", "Byte order mark", "A UTF-8 BOM at the start of the file fails to decode.")
_code("invalid-utf8", "Invalid UTF-8", "Replaced by U+FFFD on import.")
_code(
    "nul-character",
    "NUL character",
    "PostgreSQL text columns reject NUL (a password is only hashed: a warning).",
)
# --- envelope / version --------------------------------------------------------------------
_code("version-missing", "First line is not a version line", "Line 1 must be the version.")
_code("version-unsupported", "Unsupported version", "The version must be 1.")
_code("version-not-first", "Version line after line 1", "An unknown line type there.")
_code("unknown-line-type", "Unknown line type", "The server stops on unknown types.")
_code("payload-missing", "Payload object missing", "A known type without its object.")
_code("empty-archive", "Empty JSONL", "The server imports nothing.")
# --- record rules: validator layer ---------------------------------------------------------
_code("invalid-field", "Field fails the server's validator", "See the server error id.")
_code("missing-field", "Required field missing", "See the server error id.")
_code("direct-channel-skipped", "Direct channel skipped", "Too few or too many members.")
_code("system-emoji-name", "Emoji named like a system emoji", "The server skips it.")
# --- record rules: apply layer -------------------------------------------------------------
_code("apply-invalid", "Fails when the server applies the line", "A model or store rule.")
_code("reply-before-parent", "Reply older than its post", "Clamped to the post's create_at.")
_code("too-many-files", "More than 10 files on a post", "The post fails to save.")
# --- cross-line ----------------------------------------------------------------------------
_code("unknown-team", "Reference to an unknown team", "Not defined earlier in the file.")
_code("unknown-channel", "Reference to an unknown channel", "Not defined earlier in the file.")
_code("unknown-user", "Reference to an unknown user", "Not defined earlier in the file.")
_code("unknown-scheme", "Reference to an unknown scheme", "Not defined earlier in the file.")
_code(
    "reference-case",
    "Reference differs only in case",
    "The server looks this name up exactly; stored names are lowercase.",
)
_code(
    "defined-later",
    "Referenced before it is defined",
    "The target is defined in a later block: the server has not created it yet.",
)
_code("duplicate-team", "Duplicate team", "The later line updates the earlier one.")
_code("duplicate-channel", "Duplicate channel", "The later line updates the earlier one.")
_code("duplicate-user", "Duplicate user", "The later line updates the earlier one.")
_code("duplicate-emoji", "Duplicate emoji", "The later line overwrites the image.")
_code("duplicate-scheme", "Duplicate scheme", "The later line updates the earlier one.")
_code("duplicate-role", "Duplicate role", "The later line updates the earlier one.")
_code("duplicate-post", "Duplicate post", "Same channel, create_at and message.")
_code("duplicate-email", "Email used by two users", "The second user fails to save.")
# --- attachments ---------------------------------------------------------------------------
_code("attachment-missing", "Attachment missing", "The server drops the file; the post stays.")
_code("attachment-invalid-path", "Attachment path escapes data/", "The server refuses it.")
_code(
    "attachment-path-empty",
    "Attachment path names no file",
    'A path like "" or "." resolves to the data folder itself: the post comes without it.',
)
_code("attachment-data-prefix", "Path starts with data/", "Resolves to data/data/...; not found.")
_code(
    "attachment-dropped",
    "Reply attachment dropped",
    "An earlier attachment of the line failed: the server does not resolve the replies' files.",
)
_code("attachment-unreferenced", "File not referenced", "No line refers to this member.")
_code(
    "attachment-outside-data",
    "Files outside data/",
    "Found under another folder (e.g. attachments/); the server looks only under data/.",
)
_code("profile-image-missing", "Profile image missing", "The server fails the import.")
_code("emoji-image-missing", "Emoji image missing", "The server fails the import.")
_code("emoji-image-too-large", "Emoji image over 512 KiB", "The server fails the import.")
_code(
    "emoji-image-not-image",
    "Emoji image the server cannot serve",
    "Not GIF, JPEG, PNG or WebP: imported, shown broken; mmctl may refuse it.",
)
# --- target limits (issue 3) ---------------------------------------------------------------
_code("limit-exceeded", "Target server limit", "A setting of the target server is too low.")
_code("config-invalid", "Target configuration unusable", "The config file could not be used.")
# --- reporting -----------------------------------------------------------------------------
_code("issues-truncated", "Issue list truncated", "--max-issues reached; counts stay exact.")
# --- writers (filter, split, merge) ----------------------------------------------------------
_code(
    "merge-conflict",
    "Inputs of a merge disagree",
    "The same team, user, post or file differs between inputs; the later input's is kept.",
)

# --- repairs (`archivekit fix`) ----------------------------------------------------------------
# The repairs `fix` makes, by name (the change log, the root causes and the catalogue speak of
# the same names), and which codes a default repair removes. A code is listed only when fix
# repairs every issue of that code it can locate safely; `fix` reports what it could not do.
LOWERCASE_REPAIR = "lowercase-references"
REPAIR_DATA_PREFIX = "strip-data-prefix"
REPAIR_MOVE_INTO_DATA = "move-into-data"
REPAIR_LOWERCASE_DEFINITIONS = "lowercase-definitions"
REPAIR_BOM = "remove-bom"
REPAIR_CR = "remove-cr"
REPAIR_BLANK_LINE = "drop-blank-line"
REPAIR_TRAILING = "remove-trailing-garbage"
REPAIR_NUL = "remove-nul"
REPAIR_REORDER = "reorder-blocks"
REPAIR_SPLIT_MESSAGE = "split-long-message"
REPAIR_REPLY_TIME = "reply-time"
REPAIR_RECOMPRESS = "recompress"
REPAIR_DUPLICATE_MEMBER = "drop-shadowed-member"
REPAIR_STRAY_VERSION = "drop-stray-version"
REPAIR_CLEAR_ENCRYPTION = "clear-encryption-flag"
# Never made, only reported: a line over 16 MiB is not read, so nothing in it is guessed.
REPAIR_SHORTEN_LINE = "shorten-long-line"
# Opt-in: they change or drop data.
REPAIR_DROP_MISSING_FILE = "drop-missing-file"
REPAIR_DEFAULT_EMAIL = "default-email"
REPAIR_TRUNCATE = "truncate-field"
REPAIR_DROP_SKIPPED = "drop-skipped"
REPAIR_DEDUPE = "dedupe"

REPAIRS: dict[str, str] = {
    LOWERCASE_REPAIR: "references rewritten to the stored lowercase name of what they name",
    REPAIR_LOWERCASE_DEFINITIONS: "a team, channel, user or bot name written lowercase where "
    "it is defined (the server stores it so)",
    REPAIR_DATA_PREFIX: "a leading 'data/' removed from a file path",
    REPAIR_MOVE_INTO_DATA: "a file stored outside data/ moved to where its path points",
    REPAIR_BOM: "a byte order mark before a line's JSON removed (line 1's, or one where files "
    "were joined)",
    REPAIR_CR: "the carriage return ending a line removed",
    REPAIR_BLANK_LINE: "a blank line removed",
    REPAIR_TRAILING: "text after a line's JSON object removed",
    REPAIR_NUL: "NUL characters removed from strings (not from passwords)",
    REPAIR_REORDER: "lines put into the server's block order (definitions before use)",
    REPAIR_SPLIT_MESSAGE: "a message over the limit split into the post and replies after it",
    REPAIR_REPLY_TIME: "a reply or reaction older than its post moved to the post's time",
    REPAIR_RECOMPRESS: "a member the server cannot read re-compressed with deflate",
    REPAIR_DUPLICATE_MEMBER: "an earlier member of the same name left out (the server "
    "reads the last)",
    REPAIR_STRAY_VERSION: "the first version line on line 1 (moved there when line 1 is "
    "another line: a reorder), every later one removed (two exports joined: the server stops "
    "at a second version line; it carries nothing)",
    REPAIR_CLEAR_ENCRYPTION: "a stored member flagged encrypted whose bytes are provably plain "
    "(as many as its size, their CRC-32 the header's) copied without the flag (the JSONL: "
    "read and written anew)",
    REPAIR_SHORTEN_LINE: "a line over 16 MiB: never made (reported, the line kept as it is)",
    REPAIR_DROP_MISSING_FILE: "(--drop-missing-files) a reference to a missing file removed "
    "(an emoji's line, which the server refuses without its image)",
    REPAIR_DEFAULT_EMAIL: "(--default-email-domain) a placeholder email for a user without one",
    REPAIR_TRUNCATE: "(--truncate-long-fields) a name, header or purpose cut at the limit",
    REPAIR_DROP_SKIPPED: "(--drop-skipped) a direct channel the server skips left out",
    REPAIR_DEDUPE: "(--dedupe) duplicate definitions merged into the first, as the importer "
    "applies them (the later one wins)",
}

# Code -> the default repair that removes it. Not listed: attachment-outside-data (fix moves
# only the files a path names; a file nothing names stays where it is).
REPAIRABLE: dict[str, str] = {
    "attachment-data-prefix": REPAIR_DATA_PREFIX,
    "bom": REPAIR_BOM,
    "line-empty": REPAIR_BLANK_LINE,
    "nul-character": REPAIR_NUL,
    "reference-case": LOWERCASE_REPAIR,
    "defined-later": REPAIR_REORDER,
    "reply-before-parent": REPAIR_REPLY_TIME,
    "member-duplicate-name": REPAIR_DUPLICATE_MEMBER,
    "version-not-first": REPAIR_STRAY_VERSION,
}
# Codes a default repair removes only in some cases: the check that reports one says so in
# the issue's ``repair`` value (as fix would decide), and only then is the repair named.
CONDITIONAL_REPAIRS: dict[str, tuple[str, ...]] = {
    "attachment-data-prefix": (REPAIR_DATA_PREFIX, REPAIR_MOVE_INTO_DATA),
    "attachment-missing": (REPAIR_MOVE_INTO_DATA,),
    "attachment-dropped": (REPAIR_DATA_PREFIX, REPAIR_MOVE_INTO_DATA),
    "profile-image-missing": (REPAIR_DATA_PREFIX, REPAIR_MOVE_INTO_DATA),
    "emoji-image-missing": (REPAIR_DATA_PREFIX, REPAIR_MOVE_INTO_DATA),
    "json-decode": (REPAIR_TRAILING,),
    # Line 1 is another line, and a later line is a version line with a version: fix moves
    # the first one to line 1 (validate knows it at the end: `check.envelope.version_moved`).
    "version-missing": (REPAIR_STRAY_VERSION,),
    # Not in a key field whose value without NUL could be another one's (`gosem.decode`).
    "nul-character": (REPAIR_NUL,),
    # Only a method archivekit reads (`read.inflate.READABLE_METHODS`: deflate64, bzip2,
    # LZMA), not encrypted: another is copied as it is and reported by fix.
    "member-unsupported-compression": (REPAIR_RECOMPRESS,),
    "jsonl-unsupported-compression": (REPAIR_RECOMPRESS,),
}
# What Team.IsValid and Channel.IsValid say of a name in mixed case (`uppercase_name_warning`).
TEAM_NAME_CHARACTERS_ID = "model.team.is_valid.characters.app_error"
CHANNEL_NAME_CHARACTERS_ID = "model.channel.is_valid.1_or_more.app_error"
# A message over the limit: split only where `check.rules.split.plan_split` says fix can, or
# within it once its NULs are removed (the issue's ``repair`` value, as for
# CONDITIONAL_REPAIRS).
MESSAGE_LENGTH_IDS: frozenset[str] = frozenset(
    validator_id(kind, "message_length") for kind in ("post", "reply", "direct_post")
)
# Server error ids a default repair removes (codes shared with repairs fix does not make);
# the message-length ones only where the issue's ``repair`` value names it (that value may
# name remove-nul instead: `repair_for`).
REPAIRABLE_ERROR_IDS: dict[str, str] = {
    **dict.fromkeys(MESSAGE_LENGTH_IDS, REPAIR_SPLIT_MESSAGE),
    validator_id("reaction", "create_at_before_parent"): REPAIR_REPLY_TIME,
    # The warnings about team and channel names in mixed case (`uppercase_name_warning`).
    TEAM_NAME_CHARACTERS_ID: REPAIR_LOWERCASE_DEFINITIONS,
    CHANNEL_NAME_CHARACTERS_ID: REPAIR_LOWERCASE_DEFINITIONS,
}


# Opt-in repairs (they change or drop data): the `archivekit fix` option that makes each. The
# one catalogue of opt-in repairs: validate names the option on the problems each removes
# (`opt_in_repair_for`), fix counts what each would change when its option is off.
OPT_IN_OPTIONS: dict[str, str] = {
    REPAIR_DROP_MISSING_FILE: "--drop-missing-files",
    REPAIR_DEFAULT_EMAIL: "--default-email-domain DOMAIN",
    REPAIR_TRUNCATE: "--truncate-long-fields",
    REPAIR_DROP_SKIPPED: "--drop-skipped",
    REPAIR_DEDUPE: "--dedupe",
}
# Code -> the opt-in repair that removes its issues (where no default repair does: a missing
# file fix can move into place is `move-into-data`'s). `dedupe` merges what the importer would
# (duplicate posts and two users sharing an email are not one definition); where it cannot
# merge two lines it says why.
OPT_IN_REPAIRABLE: dict[str, str] = {
    "attachment-missing": REPAIR_DROP_MISSING_FILE,
    "profile-image-missing": REPAIR_DROP_MISSING_FILE,
    "emoji-image-missing": REPAIR_DROP_MISSING_FILE,
    "direct-channel-skipped": REPAIR_DROP_SKIPPED,
    **{
        f"duplicate-{kind}": REPAIR_DEDUPE
        for kind in ("team", "channel", "user", "emoji", "scheme", "role")
    },
}
# The fields --truncate-long-fields cuts at the server's limit (`write.repairs.TRUNCATED` and
# `TRUNCATED_BYTES`: a test holds them to this list): their length issues.
TRUNCATABLE_FIELDS: frozenset[str] = frozenset(
    {
        "team.display_name",
        "team.description",
        "channel.display_name",
        "channel.header",
        "channel.purpose",
        "user.nickname",
        "user.first_name",
        "user.last_name",
        "user.position",
        "bot.display_name",
        "bot.description",
        "direct_channel.header",
    }
)
# A user without an email (--default-email-domain): none, or an empty one.
_EMAIL_MISSING_ID = validator_id("user", "email_missing")
_EMAIL_LENGTH_ID = validator_id("user", "email_length")


def opt_in_repair_for(issue: Issue, code: str | None = None) -> str | None:
    """The opt-in `archivekit fix` repair (`OPT_IN_OPTIONS` names its option) that removes
    ``issue`` (counted under ``code``), when no default repair does; else None."""
    code = code or issue.code
    if repair_for(issue, code) is not None:
        return None
    repair = OPT_IN_REPAIRABLE.get(code)
    if repair is not None:
        return repair
    values = issue.values
    if issue.field in TRUNCATABLE_FIELDS and "unit" in values:
        found, limit = values.get("found"), values.get("limit")
        if isinstance(found, int) and isinstance(limit, int) and found > limit:
            return REPAIR_TRUNCATE
    if issue.field == "user.email" and (
        issue.server_error_id == _EMAIL_MISSING_ID
        or (issue.server_error_id == _EMAIL_LENGTH_ID and values.get("found") == 0)
    ):
        return REPAIR_DEFAULT_EMAIL
    return None


def by_fix(repair: str | None) -> str:
    """The words in a validate message that say `archivekit fix` makes ``repair`` (none
    without one)."""
    return f" (`archivekit fix` does this: {repair})" if repair else ""


def repair_for(issue: Issue, code: str | None = None) -> str | None:
    """The default `archivekit fix` repair that removes ``issue`` (counted under ``code``,
    default its own: a root cause may have turned an unknown reference into a defined-later
    one), if there is one."""
    code = code or issue.code
    if code == "nul-character" and issue.severity is Severity.WARNING:
        return None  # in a password: only hashed, and fix leaves passwords as they are
    if code in CONDITIONAL_REPAIRS:
        # Only where the check found that fix repairs this one (its `repair` value).
        named = issue.values.get("repair")
        return named if named in CONDITIONAL_REPAIRS[code] else None
    repair = REPAIRABLE.get(code)
    if repair is None and issue.server_error_id:
        repair = REPAIRABLE_ERROR_IDS.get(issue.server_error_id)
        if issue.server_error_id in MESSAGE_LENGTH_IDS:
            # What `check.rules.split.plan_split` says fix does with it: split it, remove the
            # NULs that alone make it too long, or neither.
            named = issue.values.get("repair")
            return named if named in (repair, REPAIR_NUL) else None
    return repair
