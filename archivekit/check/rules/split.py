"""Whether `archivekit fix` splits a post's messages over the limit (`split-long-message`).

One predicate, `plan_split`, decides it for both sides: validate names the repair on a
``message_length`` error only for a message it plans to split (the issue's ``repair`` value,
`archivekit.check.rules.post.promise_split`, which loads this module only for such an error),
and fix splits exactly the messages it plans to split, reporting the others with its reason.
Both call it on the line as decoded, before any repair, so the two cannot differ.

A message over the limit only with its NUL characters is not split: fix removes them first
(`remove-nul`, which comes before the split on every line), and that is the repair validate
names on it (``cleaned``). The others are measured and split without their NULs, as fix does.

A message is not split when:

- its post (or reply) has no ``create_at`` (an integer) or no ``user`` (a string) for the
  replies carrying the pieces to take;
- the replies' times could pass the largest time the server stores (`INT64_MAX`): fix gives
  each piece a millisecond of its own after its post, and a reply moved to its post's time
  (`reply-time`) or a piece that would take the time and text of a reply of the thread one
  more — at most two milliseconds per reply and piece past the thread's latest time;
- the line, split, could be over the server's line limit (`MAX_LINE_BYTES`: the import stops
  there): each reply adds its own fields, and fix's other repairs of a post line can make it
  longer (`_growth`: a time moved to its post's, a name written in lowercase).

A line over the line limit is never decoded, by the server, validate or fix: nothing in it is
promised (validate reports ``line-too-long``, fix ``shorten-long-line``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from archivekit.gosem.spec import INT64_MAX
from archivekit.issues import Scalar
from archivekit.read import MAX_LINE_BYTES

# The longest a piece's create_at can be written (-2**63: 20 characters), for the line's size.
_LONGEST_TIME: Final = -(2**63)
# The most characters a moved time can add to the line (INT64_MAX has 19 digits; "0" has 1).
_TIME_GROWTH: Final = 20


@dataclass(slots=True)
class SplitPlan:
    """What fix does with each message over the limit of one post line, by field
    (``post.message``, ``post.replies[2].message``): `splits` are split, `refused` are kept
    as they are — with why, and the values of the reason (``found``, ``limit``); `cleaned`
    are within the limit once fix has removed their NUL characters (their length then)."""

    splits: set[str] = field(default_factory=set)
    refused: dict[str, tuple[str, dict[str, Scalar]]] = field(default_factory=dict)
    cleaned: dict[str, int] = field(default_factory=dict)


NO_SPLIT: Final = SplitPlan()


def post_messages(payload: dict[str, Any], kind: str) -> Iterator[tuple[str, Any]]:
    """(field of the message, the post or reply that holds it) for the post and its replies."""
    yield f"{kind}.message", payload
    replies = payload.get("replies")
    if isinstance(replies, list):
        for index, reply in enumerate(replies):
            yield f"{kind}.replies[{index}].message", reply


def plan_split(payload: dict[str, Any], kind: str, limit: int) -> SplitPlan:
    """The messages of a ``kind`` line (post or direct_post) over ``limit`` characters that
    fix splits, and those it does not (see the module doc). ``payload``: as decoded."""
    plan = SplitPlan()
    long: list[tuple[str, dict[str, Any], str]] = []  # without their NULs, as fix splits them
    for at, post in post_messages(payload, kind):
        text = post.get("message") if isinstance(post, dict) else None
        if not isinstance(text, str) or len(text) <= limit:
            continue
        clean = text.replace("\x00", "") if "\x00" in text else text
        if len(clean) <= limit:
            plan.cleaned[at] = len(clean)
        else:
            long.append((at, post, clean))
    if not long:
        return plan if plan.cleaned else NO_SPLIT
    pieces: dict[str, list[str]] = {}
    for at, post, text in long:
        if not isinstance(post.get("create_at"), int) or not isinstance(post.get("user"), str):
            plan.refused[at] = ("the post has no create_at or user for the replies to take", {})
        else:
            pieces[at] = list(split_message(text, limit))
    if not pieces:
        return plan
    replies = payload.get("replies")
    replies = replies if isinstance(replies, list) else []
    times = [
        post["create_at"]
        for post in [payload, *replies]
        if isinstance(post, dict) and isinstance(post.get("create_at"), int)
    ]
    added = sum(len(parts) - 1 for parts in pieces.values())
    latest = max(times) + 2 * (len(replies) + added)
    if latest > INT64_MAX:
        for at, post, _ in long:
            if at in pieces:
                plan.refused[at] = (
                    f"its {len(pieces[at]) - 1:,} continuation replies, a millisecond apart "
                    f"after create_at {post['create_at']:,}, could pass the largest time the "
                    f"server stores ({INT64_MAX:,}): kept as it is",
                    {"found": post["create_at"], "limit": INT64_MAX},
                )
        return plan
    size = _split_size(payload, kind, pieces) + _growth(payload, replies)
    if size > MAX_LINE_BYTES:
        for at in pieces:
            plan.refused[at] = (
                f"split, the line could be {size:,} bytes, over the server's line limit of "
                f"{MAX_LINE_BYTES:,} (the import would stop there): kept as it is — move part "
                "of the message into a post of its own by hand",
                {"found": size, "limit": MAX_LINE_BYTES},
            )
        return plan
    plan.splits.update(pieces)
    return plan


def _split_size(payload: dict[str, Any], kind: str, pieces: dict[str, list[str]]) -> int:
    """The bytes of the line written with ``pieces`` split off (each piece's time written
    as long as a time can be)."""
    new_replies: list[Any] = []
    copy = dict(payload)
    for at, post in post_messages(payload, kind):
        if post is not payload:
            new_replies.append(post)
        parts = pieces.get(at)
        if parts is None:
            continue
        if post is payload:
            copy["message"] = parts[0]
        else:
            new_replies[-1] = {**post, "message": parts[0]}
        new_replies += [
            {"user": post["user"], "message": part, "create_at": _LONGEST_TIME}
            for part in parts[1:]
        ]
    copy["replies"] = new_replies
    return len(orjson.dumps({"type": kind, kind: copy}))


def _growth(payload: dict[str, Any], replies: list[Any]) -> int:
    """The most bytes fix's other default repairs can add to a post line: a reply's or
    reaction's create_at moved to its post's time (`_TIME_GROWTH` each); a name written in
    lowercase (a rune's lowercase is at most one byte longer: counted as the name's bytes)."""
    growth = 0
    names: list[Any] = [payload.get("team"), payload.get("channel")]
    members = payload.get("channel_members")
    names += members if isinstance(members, list) else []
    for post in [payload, *replies]:
        if not isinstance(post, dict):
            continue
        growth += _TIME_GROWTH * (1 + _count(post.get("reactions")))
        names.append(post.get("user"))
        flagged = post.get("flagged_by")
        names += flagged if isinstance(flagged, list) else []
    texts = (name.encode("utf-8", "surrogatepass") for name in names if isinstance(name, str))
    return growth + sum(len(text) for text in texts)


def _count(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def split_message(message: str, limit: int) -> Iterator[str]:
    """Cut ``message`` into parts of at most ``limit`` characters (runes), each ending after
    the last line break in its window, else after the last space, else at the limit. The
    parts joined give ``message`` back."""
    start = 0
    while len(message) - start > limit:
        window = message[start : start + limit]
        cut = window.rfind("\n") + 1 or window.rfind(" ") + 1 or limit
        yield message[start : start + cut]
        start += cut
    yield message[start:]
