"""`inspect`: what is inside an archive — counts and a per-team / per-channel breakdown.

Fast by design: no rules, no reference checks, only what counting needs. Memory is bounded by
the number of teams and channels.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from archivekit.check.facts import earliest, latest
from archivekit.check.fast.fastpath import NATIVE_SKIM
from archivekit.check.table_counts import Place, Team, team_in
from archivekit.gosem.decode import list_or_empty
from archivekit.gosem.strings import go_lower
from archivekit.read import (
    BLOCK_SIZE,
    Archive,
    LineTooLong,
    MemberInfo,
    ReadLimits,
    open_archive,
)
from archivekit.read.records import Record, RecordStream
from archivekit.read.source import file_path, is_stream, reopen_jsonl
from archivekit.read.stream import open_stream
from archivekit.read.teed import TeedProcess, stream_workers
from archivekit.report.inventory import Inspection
from archivekit.runtime import RunDirectory, default_workers, run_in_workers

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def _channel(result: Inspection, team: str, name: str) -> Place:
    key = (go_lower(team), go_lower(name))
    summary = result.channels.get(key)
    if summary is None:
        summary = result.channels[key] = Place(key[0], key[1])
    return summary


def _team(result: Inspection, name: str) -> Team:
    return team_in(result.teams, name)


def _date(result: Inspection, create_at: Any) -> None:
    if type(create_at) is not int:
        return
    # `earliest`/`latest` inlined: this runs for every post the Python path counts.
    if result.first_post_at is None or create_at < result.first_post_at:
        result.first_post_at = create_at
    if result.last_post_at is None or create_at > result.last_post_at:
        result.last_post_at = create_at


def _count_post(result: Inspection, post: dict[str, Any], line: int) -> None:
    counts = result.counts
    replies = list_or_empty(post.get("replies"))
    # Every entry listed counts, path or not (validate counts those with a path: `Counts`).
    attachments = len(list_or_empty(post.get("attachments")))
    counts.replies += len(replies)
    counts.reactions += len(list_or_empty(post.get("reactions")))
    for reply in replies:
        if isinstance(reply, dict):
            attachments += len(list_or_empty(reply.get("attachments")))
            counts.reactions += len(list_or_empty(reply.get("reactions")))
    counts.attachments += attachments
    create_at = post.get("create_at")
    _date(result, create_at)
    team, name = post.get("team"), post.get("channel")
    if isinstance(team, str) and isinstance(name, str):
        summary = _channel(result, team, name)
        summary.posts += 1
        summary.replies += len(replies)
        summary.files += attachments
        if type(create_at) is int:  # (`earliest`/`latest` inlined, as in `_date`)
            if summary.first_at is None or create_at < summary.first_at:
                summary.first_at = create_at
            if summary.last_at is None or create_at > summary.last_at:
                summary.last_at = create_at
        _team(result, team).posts += 1


def _count_line(result: Inspection, record: Record) -> None:
    counts = result.counts
    line = record.line
    if record.envelope is None:
        result.undecodable += 1
        return
    kind, payload = record.type, record.payload
    if payload is None:
        return
    if kind == "post":
        counts.posts += 1
        _count_post(result, payload, line)
    elif kind == "direct_post":
        counts.direct_posts += 1
        _count_post(result, payload, line)
    elif kind == "user":
        counts.users += 1
        for membership in list_or_empty(payload.get("teams")):
            if isinstance(membership, dict) and isinstance(membership.get("name"), str):
                _team(result, membership["name"]).members += 1
    elif kind == "channel":
        counts.channels += 1
        team, name = payload.get("team"), payload.get("name")
        if isinstance(team, str) and isinstance(name, str):
            summary = _channel(result, team, name)
            summary.type = payload.get("type")
            summary.defined_on = line
            _team(result, team).channels += 1
    elif kind == "team":
        counts.teams += 1
        name = payload.get("name")
        if isinstance(name, str):
            team_summary = _team(result, name)
            team_summary.display_name = payload.get("display_name")
            team_summary.type = payload.get("type")
            team_summary.defined_on = line
    elif kind == "direct_channel":
        counts.direct_channels += 1
        members = list_or_empty(payload.get("participants")) or list_or_empty(
            payload.get("members")
        )
        if len(members) > 2:
            result.group_channels += 1
    elif kind in ("bot", "role", "scheme", "emoji"):
        attr = {"bot": "bots", "role": "roles", "scheme": "schemes"}.get(kind, "emojis")
        setattr(counts, attr, getattr(counts, attr) + 1)


# inspect's counting of post lines in C (archivekit/check/fast/_scan.c), or None.
SKIM_BATCH = NATIVE_SKIM


def _count_lines(
    result: Inspection, stream: RecordStream, first: int, batch: list[bytes | LineTooLong]
) -> None:
    """Count consecutive lines numbered from `first`: runs of post lines in C when it is
    built, every other line (and any the C code does not take) as a record, in Python."""
    skim = SKIM_BATCH
    if skim is None:
        for offset, raw in enumerate(batch):
            _count_line(result, stream.record(first + offset, raw))
        return
    counts = result.counts
    start, end = 0, len(batch)
    while start < end:
        places: dict[tuple[str, str], list[int]] = {}
        stop, posts, direct_posts, replies, reactions, attachments, first_at, last_at = skim(
            batch, start, places
        )
        if stop > start:
            counts.posts += posts
            counts.direct_posts += direct_posts
            counts.replies += replies
            counts.reactions += reactions
            counts.attachments += attachments
            _date(result, first_at)
            _date(result, last_at)
            for (team, name), (p, r, a, first_post, last_post) in places.items():
                summary = _channel(result, team, name)
                summary.posts += p
                summary.replies += r
                summary.files += a
                if first_post <= last_post:  # some post had a date
                    summary.first_at = earliest(summary.first_at, first_post)
                    summary.last_at = latest(summary.last_at, last_post)
                _team(result, team).posts += p
        if stop < end:
            _count_line(result, stream.record(first + stop, batch[stop]))
        start = stop + 1


def _inspect_share(
    path: str,
    jsonl: MemberInfo | None,
    me: int,
    workers: int,
    block_size: int,
    read_limits: ReadLimits | None,
) -> Inspection:
    """Count the lines of every `workers`-th batch, starting at batch `me` (a worker); `jsonl`
    is the zip's JSONL member as the parent chose it (None: not a zip, open it again)."""
    if jsonl is None:
        with open_archive(path, limits=read_limits) as archive:
            return _count_share(archive, me, workers, block_size)
    with reopen_jsonl(path, jsonl, limits=read_limits) as archive:
        return _count_share(archive, me, workers, block_size)


def _count_share(archive: Archive, me: int, workers: int, block_size: int) -> Inspection:
    """The lines of batches `me`, `me` + `workers`... counted; every line framed
    (`RecordStream`'s share)."""
    result = Inspection(archive.path, archive.jsonl.name, archive.kind, archive.size)
    # Plain decoding: inspect counts what JSON parsing finds (validate says what Go refuses).
    stream = RecordStream(archive, exact=False, block_size=block_size, share=(me, workers))
    for first, batch in stream.raw_batches():
        _count_lines(result, stream, first, batch)
    result.lines = stream.lines
    return result


def _merge(into: Inspection, part: Inspection) -> None:
    into.undecodable += part.undecodable
    into.counts.add(part.counts)
    into.group_channels += part.group_channels
    into.first_post_at = earliest(into.first_post_at, part.first_post_at)
    into.last_post_at = latest(into.last_post_at, part.last_post_at)
    for key, team in part.teams.items():
        into.teams.setdefault(key, Team(key)).merge(team)
    for place, channel in part.channels.items():
        into.channels.setdefault(place, Place(*place)).merge(channel)


def inspect(
    path: str | os.PathLike[str],
    *,
    workers: int | None = None,
    block_size: int = BLOCK_SIZE,
    read_limits: ReadLimits | None = None,
) -> Inspection:
    """Count what an archive holds, per type, team and channel (no validation).

    Args:
        path: a zip export, a bare ``.jsonl`` or an unzipped export directory; ``-``
            (standard input) or a pipe: read front to back.
        workers: processes to use; None picks one per core for large archives (for a
            stream, whose size is not known: one per core, at most two).
        block_size: bytes of JSONL per unit of work.
        read_limits: zip-bomb limits.

    Raises:
        ArchiveError: the archive cannot be read.
    """
    if is_stream(path):
        return _inspect_stream(path, block_size, read_limits, workers)
    source = file_path(path)
    with open_archive(source, limits=read_limits) as archive:
        result = Inspection(str(path), archive.jsonl.name, archive.kind, archive.size)
        # From the member index: no object per entry.
        result.files, result.file_bytes = archive.index.file_totals()
        if workers is None:
            workers = default_workers(archive.jsonl.size)
        if workers <= 1:
            part = _count_share(archive, 0, 1, block_size)
            _merge(result, part)
            result.lines = part.lines
            return result
        jsonl = archive.jsonl if archive.kind == "zip" else None
    # The workers only read the JSONL (not the directory again): free this index before they
    # fork.
    del archive
    # Workers end with this process, however it ends (archivekit.runtime.run_in_workers).
    parts = run_in_workers(
        _inspect_share,
        [(source, jsonl, me, workers, block_size, read_limits) for me in range(workers)],
    )
    for part in parts:
        _merge(result, part)
    result.lines = parts[0].lines
    return result


# A stream read by two processes: the parent reads, inflates and copies the JSONL, the second
# process counts every batch of lines. Feeding the copy keeps the parent's threads busy about as
# long as counting every line keeps the second process (~0.85 s of CPU each on bench-400), so
# the parent counts none: with one batch in three (the share before inspect's other batches
# were counted by their newlines alone) it set the pace, at 1.2-1.3x the file's time; counting
# none, 1.0-1.05x (one in eight or twelve: 1.1x; bench/results.md).


def _inspect_stream(
    path: str | os.PathLike[str],
    block_size: int,
    read_limits: ReadLimits | None,
    workers: int | None,
) -> Inspection:
    """`inspect` of a stream: its lines as they arrive — most batches counted by a second
    process reading a copy of the JSONL (`archivekit.read.teed`) when there are two cores —
    then the members' totals from its central directory."""
    name = os.fspath(path)
    with RunDirectory() as run, contextlib.ExitStack() as stack:
        teed, tee, processes = None, None, stream_workers(workers)
        if processes > 1:
            # Started before the stream's reader starts a thread.
            job = (name, block_size, read_limits)
            teed = stack.enter_context(TeedProcess(_count_copy, job, "counting"))
            tee = teed.take_tee()
        s = stack.enter_context(
            open_stream(path, run=run, limits=read_limits, images=False, jsonl_tee=tee)
        )
        if teed is None:
            part = _count_share(s, 0, 1, block_size)
        else:
            for _ in s.iter_jsonl_blocks(block_size):
                pass  # each block is copied to the second process as it is inflated
        s.finish()
        if teed is not None:
            part = teed.receive()
        result = Inspection(str(path), s.jsonl.name, s.kind, s.size)
        result.files, result.file_bytes = s.index.file_totals()
        _merge(result, part)
    result.lines = part.lines
    return result


def _count_copy(
    results: Connection, fd: int, name: str, block_size: int, read_limits: ReadLimits | None
) -> None:
    """The second process of `_inspect_stream`: every batch of the JSONL's bytes, which the
    parent copies to `fd` as it inflates them (the process need not inflate them again),
    counted."""
    with (
        RunDirectory() as run,
        open_stream(name, run=run, limits=read_limits, images=False, fd=fd, plain=True) as s,
    ):
        part = _count_share(s, 0, 1, block_size)
    results.send(part)
