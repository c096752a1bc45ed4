"""Per-line rules for `post` lines, and the post-shaped pieces `direct_post` shares with them.

Validator layer (``ValidatePostImportData`` and the reply / reaction / attachment / thread
follower validators it calls): the first failing check in the server's order, as one `Issue`.
Apply layer (``Post.IsValid`` and ``Reaction.IsValid`` when the server saves the line): post
type allow-list, at most 10 files, reaction emoji name syntax, and the reply-time clamp.

The building blocks (`check_message`, `check_create_at`, `validate_reactions`,
`validate_replies`, `validate_attachments`, `validate_thread_followers`, `apply_post_shape`)
are public because `archivekit.check.rules.direct` runs the same checks for direct posts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archivekit.check.rules.context import MAX_POST_SIZE, MAX_POST_SIZE_SOURCE, RuleContext
from archivekit.check.rules.names import (
    EMOJI_NAME_MAX_BYTES,
    invalid,
    kept,
    length,
    missing,
    shown,
)
from archivekit.check.rules.post_types import NEWER_SERVER_POST_TYPES, is_allowed_post_type
from archivekit.gosem.marshal import marshal_runes, marshal_runes_over
from archivekit.gosem.paths import escapes_data
from archivekit.issues import (
    MESSAGE_LENGTH_IDS,
    REPAIR_NUL,
    REPAIR_SPLIT_MESSAGE,
    THREAD_FOLLOWER_PREFIX,
    Issue,
    Scalar,
    Values,
    by_fix,
    error,
    validator_id,
    validator_prefix,
    warning,
)

POST_ID = validator_prefix("post")
REPLY_ID = validator_prefix("reply")
REACTION_ID = validator_prefix("reaction")
# The server reuses the post's id for oversized reply props.
PROPS_TOO_LARGE_ID = POST_ID + "props_too_large.error"
# model.PostPropsMaxRunes: the longest Go JSON encoding of a post's props, in runes.
PROPS_MAX_RUNES = 800_000
ATTACHMENT_INVALID_PATH_ID = validator_id("attachment", "invalid_path")
FOLLOWER_USER_MISSING_ID = THREAD_FOLLOWER_PREFIX + "user_missing.error"

POST_TYPE_INVALID_ID = "model.post.is_valid.type.app_error"
POST_FILE_IDS_INVALID_ID = "model.post.is_valid.file_ids.app_error"
POST_PROPS_INVALID_ID = "model.post.is_valid.props.app_error"
REACTION_EMOJI_INVALID_ID = "model.reaction.is_valid.emoji_name.app_error"

# A reaction's emoji name: at most model.EmojiNameMaxLength (EMOJI_NAME_MAX_BYTES) runes in the
# validator, bytes in Reaction.IsValid (ASCII there).
# Post.FileIds is stored as a JSON array of 26-char ids limited to 300 runes: 29*n + 1 <= 300.
MAX_FILES_PER_POST = 10
_EMOJI_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+_-"


def promise_split(
    issue: Issue | None, payload: dict[str, Any], kind: str, limit: int
) -> Issue | None:
    """``issue`` (of a ``kind`` line's validator), naming in its message and ``repair`` value
    what fix does with a ``message_length`` error's message
    (`archivekit.check.rules.split.plan_split`): `split-long-message` where it splits it,
    `remove-nul` where that alone brings it within the limit. The planner's module, with its
    own imports, is loaded only for such an error, not by every run that validates a post."""
    if issue is None or issue.server_error_id not in MESSAGE_LENGTH_IDS or issue.field is None:
        return issue
    from archivekit.check.rules.split import plan_split

    plan = plan_split(payload, kind, limit)
    values: dict[str, Scalar] = {**issue.values.mapping}
    repair, words = REPAIR_SPLIT_MESSAGE, ""
    if issue.field in plan.cleaned:
        repair = REPAIR_NUL
        values["found_without_nul"] = plan.cleaned[issue.field]
        words = (
            f" Without its NUL characters it is {plan.cleaned[issue.field]:,} characters long, "
            "within the limit"
        )
    elif issue.field not in plan.splits:
        return issue
    values["repair"] = repair
    return replace(issue, message=issue.message + words + by_fix(repair), values=Values(values))


def validate_post(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """``ValidatePostImportData``: team, channel, user, message, create_at, reactions, replies,
    props, attachments, thread_followers — the first failure, or None (a message too long
    names `archivekit fix` where it splits it: `promise_split`)."""
    return promise_split(_validate_post(data, ctx), data, "post", ctx.max_post_size)


def _validate_post(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    for key in ("team", "channel", "user"):
        if data.get(key) is None:
            return missing(
                f"post.{key}",
                f"{POST_ID}{key}_missing.error",
                f"The post has no {key}. Every post needs team, channel and user; add the {key}'s "
                "name.",
            )
    issue = check_message(data.get("message"), "post", POST_ID, ctx.max_post_size)
    if issue is not None:
        return issue
    create_at = data.get("create_at")
    issue = check_create_at(create_at, "post", POST_ID, "post")
    if issue is not None:
        return issue
    assert create_at is not None  # check_create_at refused None
    reactions = data.get("reactions")
    if reactions is not None:
        issue = validate_reactions(reactions, create_at, "post.reactions", "post")
        if issue is not None:
            return issue
    replies = data.get("replies")
    if replies is not None:
        issue = validate_replies(replies, create_at, "post.replies", ctx.max_post_size)
        if issue is not None:
            return issue
    issue = check_props(data.get("props"), "post.props", "post")
    if issue is not None:
        return issue
    attachments = data.get("attachments")
    if attachments is not None:
        issue = validate_attachments(attachments, "post.attachments", POST_ID + "attachment.error")
        if issue is not None:
            return issue
    followers = data.get("thread_followers")
    if followers is not None:
        return validate_thread_followers(
            followers, "post.thread_followers", POST_ID + "thread_follower.error"
        )
    return None


def apply_post(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Save-time rules of a post line (the post and its replies)."""
    issues: list[Issue] = []
    apply_post_shape(data, "post", issues)
    return issues


# --- building blocks shared with direct_post ------------------------------------------------


def check_message(message: str | None, field: str, id_prefix: str, max_size: int) -> Issue | None:
    """Required `message` of at most MaxPostSize runes (Go counts runes = Python code points)."""
    if message is None:
        return missing(
            f"{field}.message",
            id_prefix + "message_missing.error",
            'The message is missing. Add a message (an empty string "" is allowed).',
        )
    if len(message) > max_size:
        return invalid(
            f"{field}.message",
            id_prefix + "message_length.error",
            f"The message is {len(message):,} characters long; the server accepts at most "
            f"{max_size:,} ({MAX_POST_SIZE}). Split it into several posts or shorten it. "
            f"{MAX_POST_SIZE} is not a config setting: {MAX_POST_SIZE_SOURCE}.",
            values={**length(len(message), max_size, "characters"), "setting": MAX_POST_SIZE},
        )
    return None


def check_create_at(create_at: int | None, field: str, id_prefix: str, what: str) -> Issue | None:
    """Required `create_at`, not 0 (negative timestamps are accepted by the server)."""
    if create_at is None:
        return missing(
            f"{field}.create_at",
            id_prefix + "create_at_missing.error",
            f"The {what} has no create_at. Add its time in milliseconds since 1970-01-01 UTC.",
        )
    if create_at == 0:
        return invalid(
            f"{field}.create_at",
            id_prefix + "create_at_zero.error",
            f"The {what}'s create_at is 0, which the server refuses. Use its real time in "
            "milliseconds since 1970-01-01 UTC (any other value, even negative, is accepted).",
            values={"found": 0},
        )
    return None


def check_props(props: dict[str, Any] | None, field: str, what: str) -> Issue | None:
    """Validator props limit: Go JSON encoding over 800,000 runes."""
    if props is None or not marshal_runes_over(props, PROPS_MAX_RUNES):
        return None
    runes = marshal_runes(props)
    return invalid(
        field,
        PROPS_TOO_LARGE_ID,
        f"The {what}'s props encode to {runes:,} characters of JSON; the "
        f"server allows at most {PROPS_MAX_RUNES:,}. Remove or shrink the largest props.",
        values=length(runes, PROPS_MAX_RUNES, "characters"),
    )


def validate_reactions(
    reactions: list[dict[str, Any]], parent_create_at: int, field: str, parent: str
) -> Issue | None:
    """``ValidateReactionImportData`` for each reaction, against its parent's create_at."""
    for index, reaction in enumerate(reactions):
        if reaction.get("user") is None:
            return missing(
                f"{field}[{index}].user",
                REACTION_ID + "user_missing.error",
                "The reaction has no user. Add the username of the person who reacted.",
            )
        emoji_name = reaction.get("emoji_name")
        if emoji_name is None:
            return missing(
                f"{field}[{index}].emoji_name",
                REACTION_ID + "emoji_name_missing.error",
                'The reaction has no emoji_name. Add the emoji\'s name, e.g. "thumbsup".',
            )
        if len(emoji_name) > EMOJI_NAME_MAX_BYTES:
            return invalid(
                f"{field}[{index}].emoji_name",
                REACTION_ID + "emoji_name_length.error",
                f"The reaction's emoji_name is {len(emoji_name)} characters long; at most "
                f"{EMOJI_NAME_MAX_BYTES} are allowed. Use the emoji's short name.",
                values=length(len(emoji_name), EMOJI_NAME_MAX_BYTES, "characters"),
            )
        create_at = reaction.get("create_at")
        if create_at is None or create_at == 0:
            return check_create_at(create_at, f"{field}[{index}]", REACTION_ID, "reaction")
        if create_at < parent_create_at:
            return invalid(
                f"{field}[{index}].create_at",
                REACTION_ID + "create_at_before_parent.error",
                f"The reaction's create_at ({create_at}) is earlier than its {parent}'s "
                f"create_at ({parent_create_at}); the server refuses such a reaction. Use a "
                f"time at or after {parent_create_at}.",
                values={"found": create_at, "parent_create_at": parent_create_at},
            )
    return None


def validate_replies(
    replies: list[dict[str, Any]], parent_create_at: int, field: str, max_post_size: int
) -> Issue | None:
    """``ValidateReplyImportData`` for each reply: user, message, create_at, props, reactions,
    attachments. A reply older than its post is only a warning (see `apply_post_shape`)."""
    for index, reply in enumerate(replies):
        at = f"{field}[{index}]"
        if reply.get("user") is None:
            return missing(
                f"{at}.user",
                REPLY_ID + "user_missing.error",
                "The reply has no user. Add the username of its author.",
            )
        issue = check_message(reply.get("message"), at, REPLY_ID, max_post_size)
        if issue is not None:
            return issue
        create_at = reply.get("create_at")
        issue = check_create_at(create_at, at, REPLY_ID, "reply")
        if issue is not None:
            return issue
        assert create_at is not None
        issue = check_props(reply.get("props"), f"{at}.props", "reply")
        if issue is not None:
            return issue
        reactions = reply.get("reactions")
        if reactions is not None:
            # Reply reactions are measured against the reply's own (unclamped) create_at.
            issue = validate_reactions(reactions, create_at, f"{at}.reactions", "reply")
            if issue is not None:
                return issue
        attachments = reply.get("attachments")
        if attachments is not None:
            issue = validate_attachments(
                attachments, f"{at}.attachments", REPLY_ID + "attachment.error"
            )
            if issue is not None:
                return issue
    return None


def validate_attachments(
    attachments: list[dict[str, Any]], field: str, wrapper_id: str
) -> Issue | None:
    """Attachment paths must stay inside data/; the parent wraps the error in its own id."""
    for index, attachment in enumerate(attachments):
        path = attachment.get("path")
        # Absent or "" is ignored by the server; without ".." a path cannot leave data/.
        if path and ".." in path and escapes_data(path):
            return invalid(
                f"{field}[{index}].path",
                wrapper_id,
                f"Attachment path {shown(path)} points outside the data/ folder "
                f"({ATTACHMENT_INVALID_PATH_ID}), so the server refuses the whole line. Use a "
                "path relative to data/ without '..'.",
                values={"found": kept(path)},
            )
    return None


def validate_thread_followers(
    followers: list[dict[str, Any]], field: str, wrapper_id: str
) -> Issue | None:
    """Each follower needs a non-empty user; the parent wraps the error in its own id.

    UNVERIFIED in the reference: it says a null element gives
    ``app.import.validate_thread_follower_data.empty.error``. The server's element type is a
    value (``*[]ThreadFollowerImportData``), so Go decodes null as an empty struct and the
    ``empty`` branch cannot be reached: null, ``{}`` and ``"user": ""`` all report
    ``user_missing`` (and the decoder turns null into ``{}`` anyway).
    """
    for index, follower in enumerate(followers):
        if not follower.get("user"):
            return invalid(
                f"{field}[{index}].user",
                wrapper_id,
                f"Thread follower {index} has no user ({FOLLOWER_USER_MISSING_ID}). Give each "
                "follower a username, or remove the empty entry.",
                values={"index": index},
            )
    return None


def apply_post_shape(data: dict[str, Any], field: str, issues: list[Issue]) -> None:
    """Save-time rules shared by posts and direct posts, for the post and each reply."""
    post_create_at = data.get("create_at")
    _apply_saved_post(data, field, issues)
    replies = data.get("replies")
    if not replies:
        return
    for index, reply in enumerate(replies):
        at = f"{field}.replies[{index}]"
        _apply_saved_post(reply, at, issues)
        reply_create_at = reply.get("create_at")
        if (
            reply_create_at is not None
            and post_create_at is not None
            and reply_create_at < post_create_at
        ):
            issues.append(
                warning(
                    "reply-before-parent",
                    f"The reply's create_at ({reply_create_at}) is earlier than its post's "
                    f"({post_create_at}). The server imports it but moves its time up to "
                    f"{post_create_at}, so it shows as posted together with the post; a "
                    "re-import may then not recognise it and create it twice. Fix the "
                    "timestamp if it is wrong.",
                    field=f"{at}.create_at",
                    values={"found": reply_create_at, "parent_create_at": post_create_at},
                )
            )


def _apply_saved_post(data: dict[str, Any], field: str, issues: list[Issue]) -> None:
    """``Post.IsValid`` (type, file count) and ``Reaction.IsValid`` for one saved post."""
    post_type = data.get("type")
    if post_type is not None and not is_allowed_post_type(post_type):
        hint = (
            " Newer servers accept it; importing into this version fails."
            if post_type in NEWER_SERVER_POST_TYPES
            else ""
        )
        issues.append(
            error(
                "apply-invalid",
                f"Post type {shown(post_type)} is not one the server accepts, so saving the post "
                'fails. Use "" for an ordinary message, a known system type, or a type '
                f'starting with "custom_".{hint}',
                field=f"{field}.type",
                server_error_id=POST_TYPE_INVALID_ID,
                values={"found": kept(post_type)},
            )
        )
    attachments = data.get("attachments")
    if attachments and len(attachments) > MAX_FILES_PER_POST:
        # Only entries with a path can upload; the engine refines this count with the files
        # that actually exist in the archive.
        with_path = sum(1 for attachment in attachments if attachment.get("path"))
        if with_path > MAX_FILES_PER_POST:
            issues.append(
                error(
                    "too-many-files",
                    f"The post has {with_path} attachments; a post can hold at most "
                    f"{MAX_FILES_PER_POST} files, so saving it fails if more than "
                    f"{MAX_FILES_PER_POST} of them upload (missing files do not count). Split "
                    "the files over several posts or replies.",
                    field=f"{field}.attachments",
                    server_error_id=POST_FILE_IDS_INVALID_ID,
                    values=length(with_path, MAX_FILES_PER_POST, "files"),
                )
            )
    reactions = data.get("reactions")
    if reactions:
        for index, reaction in enumerate(reactions):
            emoji_name = reaction.get("emoji_name")
            if emoji_name is not None and not is_valid_reaction_emoji_name(emoji_name):
                issues.append(
                    error(
                        "apply-invalid",
                        f"Reaction emoji_name {shown(emoji_name)} is not a valid emoji name, so "
                        "saving the reaction fails. Use 1-64 characters of a-z, A-Z, 0-9, '+', "
                        "'_' or '-': the emoji's short name (e.g. \"thumbsup\"), not the emoji "
                        "character itself.",
                        field=f"{field}.reactions[{index}].emoji_name",
                        server_error_id=REACTION_EMOJI_INVALID_ID,
                        values={"found": kept(emoji_name)},
                    )
                )


def is_valid_reaction_emoji_name(name: str) -> bool:
    """``Reaction.IsValid``: 1-64 bytes of ``[a-zA-Z0-9+_-]`` (all ASCII, so bytes == len)."""
    # strip() removes allowed characters from both ends; anything left is a foreign character.
    return (
        0 < len(name) <= EMOJI_NAME_MAX_BYTES
        and name.isascii()
        and not name.strip(_EMOJI_NAME_CHARS)
    )


def check_apply_props(props: dict[str, Any] | None, field: str) -> Issue | None:
    """``Post.IsValid`` props limit (direct posts: their validator never measures props)."""
    if props is None or not marshal_runes_over(props, PROPS_MAX_RUNES):
        return None
    runes = marshal_runes(props)
    return error(
        "apply-invalid",
        f"The props encode to {runes:,} characters of JSON; the server "
        f"allows at most {PROPS_MAX_RUNES:,} when it saves the post, so the import fails. "
        "Remove or shrink the largest props.",
        field=field,
        server_error_id=POST_PROPS_INVALID_ID,
        values=length(runes, PROPS_MAX_RUNES, "characters"),
    )
