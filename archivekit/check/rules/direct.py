"""Per-line rules for `direct_channel` and `direct_post` lines (DMs and group messages).

Validator layer: ``ValidateDirectChannelImportData`` / ``ValidateDirectPostImportData`` in the
server's order. A direct channel with too few or too many members is *skipped* by the server
(non-fatal), everything else fails the import. Apply layer: the nil-pointer crashes of the
direct channel import (null participants, `shown_by` users outside the channel) and the
post-shaped save rules of direct posts.
"""

from __future__ import annotations

from typing import Any

from archivekit.check.rules.context import RuleContext
from archivekit.check.rules.names import (
    CHANNEL_HEADER_MAX_RUNES,
    invalid,
    kept,
    length,
    missing,
    shown,
)
from archivekit.check.rules.post import (
    apply_post_shape,
    check_apply_props,
    check_create_at,
    check_message,
    promise_split,
    validate_attachments,
    validate_reactions,
    validate_replies,
    validate_thread_followers,
)
from archivekit.gosem.strings import go_lower
from archivekit.issues import DROPS_DATA, Issue, Scalar, error, validator_prefix

DIRECT_CHANNEL_ID = validator_prefix("direct_channel")
DIRECT_POST_ID = validator_prefix("direct_post")

# model.ChannelGroupMinUsers / ChannelGroupMaxUsers; exactly 2 is a DM (the same user twice
# is a self-DM), 3..8 a group message.
GROUP_MIN_MEMBERS = 3
GROUP_MAX_MEMBERS = 8


def validate_direct_channel(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """``ValidateDirectChannelImportData``: members/participants presence, participants count,
    members count, header, favorited_by."""
    participants: list[dict[str, Any] | None] | None = data.get("participants")
    members: list[str] | None = data.get("members")
    if participants is None and members is None:
        return missing(
            "direct_channel.members",
            DIRECT_CHANNEL_ID + "members_required.error",
            'The direct channel lists no members. Add "members" (usernames) or '
            '"participants" (servers before v10.1 only understand "members").',
        )
    # The count rule applies to each array that is present, participants first.
    if participants is not None:
        issue = _skipped_for_size(len(participants), "direct_channel.participants")
        if issue is not None:
            return issue
    if members is not None:
        issue = _skipped_for_size(len(members), "direct_channel.members")
        if issue is not None:
            return issue
    header = data.get("header")
    if header is not None and len(header) > CHANNEL_HEADER_MAX_RUNES:
        return invalid(
            "direct_channel.header",
            DIRECT_CHANNEL_ID + "header_length.error",
            f"The header is {len(header):,} characters long; at most"
            f" {CHANNEL_HEADER_MAX_RUNES:,} are allowed. Shorten it.",
            values=length(len(header), CHANNEL_HEADER_MAX_RUNES, "characters"),
        )
    favorited_by: list[str] | None = data.get("favorited_by")
    if favorited_by:
        return _check_favoriters(favorited_by, participants, members)
    return None


def apply_direct_channel(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """The import dereferences every participant's username and looks `shown_by` users up
    among the channel's members: a null participant or an outsider crashes the server."""
    issues: list[Issue] = []
    participants: list[dict[str, Any] | None] | None = data.get("participants")
    if participants is not None:
        for index, participant in enumerate(participants):
            if participant is None or participant.get("username") is None:
                issues.append(_crash_issue(index, participant, "apply-invalid"))
        usernames = [p["username"] for p in participants if p and p.get("username") is not None]
        if len(usernames) == len(participants):  # else the import crashes first
            _repeated_member(usernames, "direct_channel.participants", ".username", issues)
    else:
        usernames = list(data.get("members") or ())
        _repeated_member(usernames, "direct_channel.members", "", issues)
    shown_by: list[str] | None = data.get("shown_by")
    if shown_by:
        # The server's user map is keyed by lowercased username.
        known = {go_lower(name) for name in usernames}
        for index, username in enumerate(shown_by):
            if go_lower(username) not in known:
                issues.append(
                    error(
                        "apply-invalid",
                        f"shown_by user {shown(username)} is not a member of this channel; the "
                        "server finds no such member and crashes (nil pointer) while importing "
                        "the line. Only list the channel's own members in shown_by.",
                        field=f"direct_channel.shown_by[{index}]",
                        values={"found": kept(username)},
                    )
                )
    return issues


def validate_direct_post(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    """``ValidateDirectPostImportData``: channel_members, user, message, create_at, flagged_by,
    reactions, replies, attachments, thread_followers (props are not measured here); a
    message too long names `archivekit fix` where it splits it (`promise_split`)."""
    issue = _validate_direct_post(data, ctx)
    return promise_split(issue, data, "direct_post", ctx.max_post_size)


def _validate_direct_post(data: dict[str, Any], ctx: RuleContext) -> Issue | None:
    channel_members: list[str] | None = data.get("channel_members")
    if channel_members is None:
        return missing(
            "direct_post.channel_members",
            DIRECT_POST_ID + "channel_members_required.error",
            "The direct post has no channel_members. List the usernames of the conversation "
            "(2 for a direct message, 3 to 8 for a group message).",
        )
    count = len(channel_members)
    if count != 2 and (count < GROUP_MIN_MEMBERS or count > GROUP_MAX_MEMBERS):
        too_few = count < GROUP_MIN_MEMBERS
        return invalid(
            "direct_post.channel_members",
            DIRECT_POST_ID
            + ("channel_members_too_few.error" if too_few else "channel_members_too_many.error"),
            f"The direct post lists {count} channel members; a conversation has 2 (direct "
            f"message) or {GROUP_MIN_MEMBERS} to {GROUP_MAX_MEMBERS} (group message). Unlike "
            "a direct_channel line, the server fails the import here.",
            values=conversation_size(count, "channel members"),
        )
    if data.get("user") is None:
        return missing(
            "direct_post.user",
            DIRECT_POST_ID + "user_missing.error",
            "The direct post has no user. Add the username of its author.",
        )
    issue = check_message(data.get("message"), "direct_post", DIRECT_POST_ID, ctx.max_post_size)
    if issue is not None:
        return issue
    create_at = data.get("create_at")
    issue = check_create_at(create_at, "direct_post", DIRECT_POST_ID, "direct post")
    if issue is not None:
        return issue
    assert create_at is not None
    flagged_by: list[str] | None = data.get("flagged_by")
    if flagged_by:
        for index, flagger in enumerate(flagged_by):
            if flagger not in channel_members:  # exact comparison, as the server does
                return invalid(
                    f"direct_post.flagged_by[{index}]",
                    DIRECT_POST_ID + "unknown_flagger.error",
                    f"flagged_by user {shown(flagger)} is not one of channel_members (compared "
                    "exactly, case included). Only the conversation's members can flag its "
                    "posts; fix the spelling or remove the entry.",
                    values={"found": kept(flagger)},
                )
    reactions = data.get("reactions")
    if reactions is not None:
        issue = validate_reactions(reactions, create_at, "direct_post.reactions", "post")
        if issue is not None:
            return issue
    replies = data.get("replies")
    if replies is not None:
        issue = validate_replies(replies, create_at, "direct_post.replies", ctx.max_post_size)
        if issue is not None:
            return issue
    attachments = data.get("attachments")
    if attachments is not None:
        issue = validate_attachments(
            attachments, "direct_post.attachments", DIRECT_POST_ID + "attachment.error"
        )
        if issue is not None:
            return issue
    followers = data.get("thread_followers")
    if followers is not None:
        return validate_thread_followers(
            followers, "direct_post.thread_followers", DIRECT_POST_ID + "thread_follower.error"
        )
    return None


def apply_direct_post(data: dict[str, Any], ctx: RuleContext) -> list[Issue]:
    """Save-time rules of a direct post: those of posts, plus the props limit that the direct
    post validator skips (``Post.IsValid`` still applies it)."""
    issues: list[Issue] = []
    _repeated_member(data["channel_members"], "direct_post.channel_members", "", issues)
    props_issue = check_apply_props(data.get("props"), "direct_post.props")
    if props_issue is not None:
        issues.append(props_issue)
    apply_post_shape(data, "direct_post", issues)
    return issues


# The id the import line fails with; the group channel's own error is wrapped inside it.
_CREATE_GROUP_IDS = {
    "direct_channel": "app.import.import_direct_channel.create_group_channel.error",
    "direct_post": "app.import.import_direct_post.create_group_channel.error",
}
BAD_USER_ID = "api.channel.create_group.bad_user.app_error"


def _repeated_member(usernames: list[str], prefix: str, suffix: str, issues: list[Issue]) -> None:
    """A group (3 or more entries) that lists a user twice, as the importer compares them:
    through its lowercased username map. createGroupChannel counts the ids it was given
    (duplicates included) and finds fewer users, so it refuses the group (bad_user); even
    with the user's profile cached, saving the second membership fails. Two entries of one
    user are a legal self-DM."""
    if len(usernames) < GROUP_MIN_MEMBERS:
        return
    first: dict[str, int] = {}
    for index, name in enumerate(usernames):
        key = go_lower(name)
        if key not in first:
            first[key] = index
            continue
        distinct = len({go_lower(n) for n in usernames})
        fix = (
            f"; only {distinct} distinct users remain: write it as a direct message between them"
            if distinct == 2
            else ""
        )
        record = prefix.split(".", 1)[0]
        issues.append(
            error(
                "apply-invalid",
                f"User {shown(name)} is listed twice (also at [{first[key]}]; the server looks"
                " members up by lowercased username). The server counts"
                f" {len(usernames)} members, finds {distinct} users and refuses to create the"
                f" group message ({BAD_USER_ID}), which stops the import. List each member"
                f" once{fix}.",
                field=f"{prefix}[{index}]{suffix}",
                server_error_id=_CREATE_GROUP_IDS[record],
                values={
                    "name": name,
                    "key": key,
                    "first_index": first[key],
                    "found": len(usernames),
                    "distinct": distinct,
                },
            )
        )
        return


def is_skipped_size(count: int) -> bool:
    """Whether the server skips a direct channel of ``count`` members: it needs 2 or 3..8."""
    return not (count == 2 or GROUP_MIN_MEMBERS <= count <= GROUP_MAX_MEMBERS)


def _skipped_for_size(count: int, field: str) -> Issue | None:
    """2 or 3..8 members; otherwise the server logs the error and skips the line."""
    if not is_skipped_size(count):
        return None
    too_few = count < GROUP_MIN_MEMBERS
    unit = field.rsplit(".", 1)[1]
    return error(
        "direct-channel-skipped",
        f"The direct channel has {count} {unit}; a conversation needs 2 "
        f"(direct message) or {GROUP_MIN_MEMBERS} to {GROUP_MAX_MEMBERS} (group message). The "
        "server skips this line and goes on, so this conversation will not be created.",
        field=field,
        server_error_id=DIRECT_CHANNEL_ID
        + ("members_too_few.error" if too_few else "members_too_many.error"),
        effect=DROPS_DATA,
        values=conversation_size(count, unit),
    )


def conversation_size(count: int, unit: str) -> dict[str, Scalar]:
    """The values of a conversation with too few or too many members: how many, and the bound
    it misses (2 at least; at most `GROUP_MAX_MEMBERS`)."""
    if count < GROUP_MIN_MEMBERS:
        return {"found": count, "minimum": 2, "unit": unit}
    return {"found": count, "limit": GROUP_MAX_MEMBERS, "unit": unit}


def _check_favoriters(
    favorited_by: list[str],
    participants: list[dict[str, Any] | None] | None,
    members: list[str] | None,
) -> Issue | None:
    """Each favoriter must equal (exactly) a participant's username or a member.

    The server walks the participants dereferencing each username until one matches, so a null
    participant (or one without a username) reached before a match crashes it.
    """
    for index, favoriter in enumerate(favorited_by):
        found = False
        for position, participant in enumerate(participants or ()):
            username = participant.get("username") if participant is not None else None
            if username is None:
                return _crash_issue(position, participant, "invalid-field")
            if username == favoriter:
                found = True
                break
        if not found and members is not None and favoriter in members:
            found = True
        if not found:
            return invalid(
                f"direct_channel.favorited_by[{index}]",
                DIRECT_CHANNEL_ID + "unknown_favoriter.error",
                f"favorited_by user {shown(favoriter)} is not a member of the channel (compared "
                "exactly, case included, with members and participants' usernames). Fix the "
                "spelling or remove the entry.",
                values={"found": kept(favoriter)},
            )
    return None


def _crash_issue(index: int, participant: dict[str, Any] | None, code: str) -> Issue:
    what = "is null" if participant is None else "has no username"
    return error(
        code,
        f"Participant {index} {what}: the server reads every participant's username without "
        "checking it and crashes (nil pointer), stopping the import. Remove the entry or give "
        "it a username.",
        field=f"direct_channel.participants[{index}]",
        values={"index": index},
    )
