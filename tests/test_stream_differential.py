"""Differential fuzzing of issue 18: a mutated archive read from a pipe gets the file's verdict.

Each example writes an archive whose verdict depends on its members (`member_mutations`:
profile, emoji and attachment images, missing and extra members, members before the JSONL,
stored, deflated and Deflate64 members with and without data descriptors), possibly mutated
(records, the JSONL's bytes, the zip's bytes), validates the file, then the same bytes from a
pipe (`fed`: in process, read by one process or two), and requires the same report but for
the archive's name, or the same unusable-archive error (issue code). Any other pair of
verdicts must be one `LEEWAY` lists for what the zip's mutations hit
(`archivekit.testing.ziphits`: a member's local header, data or descriptor, a directory
entry, the end records, a cut...), each entry saying why the stream cannot tell; the stops
only a stream makes must be those the module docstring of `archivekit.read.stream` lists.
A failure shows the mutations, what they hit and both verdicts. A few examples go through
``archivekit validate - --format json`` with the archive piped.

Profiles as in tests/test_fuzz.py: "ci" runs a bounded, derandomized share;
``ARCHIVEKIT_FUZZ_EXAMPLES=N`` runs N random examples (docs/fuzzing.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from test_stream import piped

from archivekit.errors import ArchiveError
from archivekit.read import ReadLimits
from archivekit.read.source import SAVE_HINT
from archivekit.read.zipdir import decode_name
from archivekit.report.render import report_json
from archivekit.testing.fuzz import (
    ArchiveRecipe,
    ByteMutation,
    MutatedArchive,
    _member_files,
    _member_lines,
    member_mutations,
    scaled_examples,
)
from archivekit.testing.pipes import fed
from archivekit.testing.ziphits import (
    CENTRAL,
    CUT,
    DATA,
    DESCRIPTOR,
    END,
    LOCAL,
    SHIFT,
    START,
    of_jsonl,
    zip_hits,
)
from archivekit.validate import validate
from archivekit.write.core import JSONL_NAME

LIMITS = ReadLimits(max_member_size=8 << 20, max_total_size=64 << 20)
IN_PROCESS_EXAMPLES = scaled_examples(2.0)  # ~0.05 s an example
CLI_EXAMPLES = scaled_examples(0.1)  # ~0.4 s an example

# The starts of the messages of what a stream cannot tell (`archivekit.read.stream`): where
# a member written with a data descriptor ends; the central directory naming members or a
# JSONL the stream did not read; local headers that lead past the end records.
_CANNOT_TELL = (
    "Cannot tell where member ",
    "Member ",
    "The archive's central directory (at its end) says the server imports ",
    "The stream ",
)
_JSONL_REFUSED = f"The JSONL {JSONL_NAME!r} is "
_NOT_FIRST = ("is a zip that does not begin with a member", "does not begin with a zip member")

REPORT = "report"  # a verdict: the report (compared whole), else the error's issue code
ANY = "any"  # any verdict of the file's reader: the stream stopped before what it rests on
Pair = tuple[str, str]  # (the file's verdict, the stream's)
Key = str | tuple[str, ...]  # what was hit: a class, or classes all hit together

# What a stream may answer where a file's reader answers otherwise, by what the zip's byte
# mutations hit (`archivekit.testing.ziphits`: a member's local header, data or descriptor,
# the JSONL's, a central directory entry, the end records, the first header's signature, a
# cut, bytes inserted or deleted). A file's reader goes by the end records and the central
# directory, and reads the local headers (their name and extra lengths) and data of the
# members it checks: the JSONL, images, all with --verify-files. A stream reads every local
# header and every member's data in order, and meets the directory last. Pairs of the same
# code are the same verdict; they are listed where a class causes them, for the two-fault
# rule of `_leeway` (each reader stopped at a different fault).
_TRUNCATED, _CORRUPT, _UNREADABLE = "zip-truncated", "zip-corrupt", "stream-unreadable"
_CRC, _NOT_A_ZIP, _MULTIDISK = "member-crc-mismatch", "not-a-zip", "zip-multidisk"
_MEMBER = (LOCAL, DATA, DESCRIPTOR)  # what a stream reads a member by
LEEWAY: dict[Key, frozenset[Pair]] = {
    START: frozenset(
        {
            # The input does not begin with a local header (its signature hit, bytes before
            # it): a stream has nothing to read the members by and stops at once; a file's
            # reader goes by the end records, whatever the rest of the archive then gives.
            (ANY, _NOT_A_ZIP),
        }
    ),
    LOCAL: frozenset(
        {
            # Its sizes, method, flags or name differ from the directory's, which a file's
            # reader goes by: the stream, reading by the local header, cannot delimit the
            # member, or meets other members than the directory names (it can only tell at
            # the directory), or its headers lead it past the end records.
            (REPORT, _UNREADABLE),
        }
    ),
    of_jsonl(LOCAL): frozenset(
        {
            (REPORT, _UNREADABLE),  # as for another member's local header
            # Its name or extra length changed: a file's reader, which takes the JSONL's data
            # to begin where they say, reads other bytes (damaged, another CRC-32, past the
            # end); the stream reads the name they give, and cannot meet the members where
            # the directory puts them.
            (_CRC, _UNREADABLE),
            (_CORRUPT, _UNREADABLE),
            (_TRUNCATED, _UNREADABLE),
            # Written with a data descriptor, its method made one that cannot be read or its
            # encryption flag set: the stream cannot find its end, and refuses it on the
            # local header's word (`_a_stop_streams_may_make`); a file's reader goes by the
            # directory's word.
            (ANY, "jsonl-unsupported-compression"),
            # Its sizes given there, its uncompressed size made one over the limit: the
            # stream refuses it on that word before its data, as a file's reader refuses the
            # directory's (which is intact).
            (ANY, "member-too-large"),
        }
    ),
    DATA: frozenset(
        {
            # A member written with a data descriptor is delimited by its data (the end of
            # its deflate stream; stored, the descriptor matching its bytes): damaged, the
            # stream cannot find its end. A file's reader takes its size from the directory
            # and reads no attachment's data but with --verify-files (then damage is a
            # finding in the report).
            (REPORT, _UNREADABLE),
        }
    ),
    of_jsonl(DATA): frozenset(
        {
            # Both read the JSONL: its damage is an error for both.
            (_CORRUPT, _CORRUPT),
            (_CRC, _CRC),
            (_TRUNCATED, _TRUNCATED),
            # Written with a data descriptor, damaged: a file's reader, by the directory's
            # sizes, finds it damaged (or of another CRC-32); the stream cannot find where
            # the member ends (its deflate stream ends elsewhere than its descriptor says).
            (_CORRUPT, _UNREADABLE),
            (_CRC, _UNREADABLE),
        }
    ),
    DESCRIPTOR: frozenset(
        {
            # A file's reader never reads a data descriptor; the stream delimits the member
            # by it: damaged, it cannot tell where the member ends.
            (REPORT, _UNREADABLE),
        }
    ),
    of_jsonl(DESCRIPTOR): frozenset({(REPORT, _UNREADABLE)}),  # as another member's
    CENTRAL: frozenset(
        {
            # The directory names a member at another offset or with another name or size
            # than the stream read; the stream can only tell at the end, having read the
            # members by their local headers. A file's reader goes by the directory: a
            # report, or damage where it reads a member there.
            (REPORT, _UNREADABLE),
            (_CORRUPT, _UNREADABLE),
            (_CORRUPT, _CORRUPT),
        }
    ),
    of_jsonl(CENTRAL): frozenset(
        {
            (REPORT, _UNREADABLE),  # as for another member's entry; or it names another JSONL
            # A file's reader goes by the directory's word on the JSONL (method, sizes,
            # offset) before reading it; the stream read it by its local header.
            (_CORRUPT, _UNREADABLE),
            (_CORRUPT, _CORRUPT),
            ("member-too-large", _CORRUPT),
            ("member-too-large", _UNREADABLE),
            (_CRC, _UNREADABLE),
        }
    ),
    END: frozenset(
        {
            # Both read the end records (the stream from its last bytes, kept).
            (_MULTIDISK, _MULTIDISK),
            (_CORRUPT, _CORRUPT),
            (_TRUNCATED, _TRUNCATED),
            (_NOT_A_ZIP, _NOT_A_ZIP),
            # The directory's offset changed: every member's moves (Go's prefix rule). A
            # file's reader finds no local header where the JSONL now begins; the stream met
            # it elsewhere and cannot look back at what lies there. (Where it puts the
            # JSONL's local header outside the file or across its end, the stream tells it
            # as a file's reader does: `StreamArchive._other_jsonl`.)
            (_CORRUPT, _UNREADABLE),
        }
    ),
    # The end records damaged (a file's reader stops at them) and what the stream delimits a
    # member by (a local header's size, the end of its deflate stream, a descriptor; bytes
    # inserted or deleted) leading it on to the end of the input. End records a file's
    # reader refuses at once (another disk, a damaged zip64 record, a directory longer than
    # what precedes it) the stream refuses as well (`_complete_or_cut`); none found, or
    # ones that do not end the stream (a prefix, then the directory refused), it cannot
    # tell for the archive's end, and finds itself cut short in or after the member.
    **{
        (END, hit): frozenset({(_CORRUPT, _TRUNCATED), (_NOT_A_ZIP, _TRUNCATED)})
        for hit in (*_MEMBER, *map(of_jsonl, _MEMBER), SHIFT)
    },
    CUT: frozenset(
        {
            # The stream ends inside a member or a header and holds no end records: an
            # incomplete download, as a file's reader finds, or, too little left of the
            # end records to be told a zip, not a zip at all.
            (_TRUNCATED, _TRUNCATED),
            (_NOT_A_ZIP, _TRUNCATED),
        }
    ),
    SHIFT: frozenset(
        {
            # Bytes inserted or deleted move what follows. A file's reader takes the
            # members' offsets from the directory, corrected by the bytes added before it
            # (Go's prefix rule): it finds the members it reads, or finds them damaged; the
            # stream meets a member of another length than its descriptor or local header
            # says: it cannot tell where it ends, or its local headers lead it past the end
            # records, or the directory names members it did not meet.
            (REPORT, _UNREADABLE),
            (_CORRUPT, _UNREADABLE),
            # Inside a JSONL sized in its local header: the stream reads as many bytes as it
            # says, where the deflate stream has not ended: the JSONL's data ends early.
            (_CORRUPT, _TRUNCATED),
        }
    ),
}


Outcome = dict[str, Any] | ArchiveError


def _outcome(path: str | Path, limits: ReadLimits | None = LIMITS, **options: Any) -> Outcome:
    try:
        report = validate(path, max_issues=None, read_limits=limits, **options)
    except ArchiveError as exc:
        return exc
    document: dict[str, Any] = json.loads(report_json(report))
    del document["archive"]  # the file's path or the pipe's
    return document


def _verdict(outcome: Outcome) -> str:
    return outcome.issue.code if isinstance(outcome, ArchiveError) else REPORT


# The entries of `LEEWAY` that are bugs left open, each allowed only in its situation (a
# predicate on the archive's bytes and the file's outcome). None today: the two this table
# began with (a JSONL's local header that differs from its directory entry; a JSONL that
# overflows its size) are fixed, tests/test_stream.py pins them.
_KNOWN_BUGS: dict[tuple[Key, Pair], Callable[[bytes, Outcome], bool]] = {}


def _leeway(hits: frozenset[str], pair: Pair, bugs: frozenset[tuple[Key, Pair]]) -> str | None:
    """Which entry of `LEEWAY` lets a stream answer ``pair[1]`` where a file's reader
    answered ``pair[0]``, on an archive whose zip mutations hit `hits`; None: none does.
    Of `_KNOWN_BUGS`, only those in `bugs` (whose situation this is) count. Both unusable,
    each reader may have stopped at a different fault: the file's reader at one an entry
    of one class says it stops at, the stream at one an entry of another class says."""
    entries = {
        "+".join(key) if isinstance(key, tuple) else key: {
            p for p in pairs if (key, p) not in _KNOWN_BUGS or (key, p) in bugs
        }
        for key, pairs in LEEWAY.items()
        if hits.issuperset(key if isinstance(key, tuple) else (key,))
    }
    for key, allowed in entries.items():
        if pair in allowed or (ANY, pair[1]) in allowed:
            return key
    if REPORT in pair:
        return None
    for first, allowed in entries.items():
        stops = {file for file, _ in allowed} - {REPORT, ANY}
        for second, other in entries.items():
            if second != first and pair[0] in stops and any(s == pair[1] for _, s in other):
                return f"{first} (file), {second} (stream)"
    return None


def _a_stop_streams_may_make(message: str, data: bytes, mutated: MutatedArchive) -> bool:
    """Whether `message` is a stop the stream module documents (what a stream cannot tell),
    on an archive where it can happen: one that does not begin with a local header, or whose
    zip bytes were mutated (an intact archive, as its writer laid it out, is always read)."""
    if not data.startswith(b"PK\x03\x04"):
        return any(s in message for s in _NOT_FIRST)
    if not mutated.zip:
        return False
    if message.startswith(_JSONL_REFUSED):
        # A JSONL's local header's word when it has a data descriptor (its end cannot be
        # found otherwise): the directory's, at the end, may differ.
        return JSONL_NAME not in mutated.recipe.sized
    return message.startswith(_CANNOT_TELL) and SAVE_HINT in message


def _sized_local_declares(data: bytes, member: str, size: object) -> bool:
    """Whether a local header in `data` of `member` (the JSONL the stream read, its name
    perhaps mutated) gives its sizes (no data descriptor flag, or a compressed size beside
    it: `_Local.sized`) and `size` uncompressed bytes: a stream refuses it on that word
    before its data (``member-too-large``)."""
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        fields = data[at + 6 : at + 30]
        if len(fields) == 24:
            flags, csize, usize, length = (int.from_bytes(fields[i : i + n], "little") for i, n in (
                (0, 2), (12, 4), (16, 4), (20, 2)))  # fmt: skip
            name = decode_name(data[at + 30 : at + 30 + length], flags)
            if name == member and (not flags & 8 or csize > 0) and usize == size:
                return True
        at = data.find(b"PK\x03\x04", at + 1)
    return False


def _shown(outcome: Outcome) -> str:
    if isinstance(outcome, ArchiveError):
        return f"{outcome.issue.code}: {outcome.issue.message}"
    return f"report (valid={outcome['valid']}, counts={outcome.get('issue_counts')})"


def check_verdicts(
    mutated: MutatedArchive,
    hits: frozenset[str],
    data: bytes,
    from_file: Outcome,
    from_stream: Outcome,
) -> str:
    """Fails unless the stream's verdict is the file's, or one `LEEWAY` allows; returns
    which it was, for the statistics."""
    file, stream = _verdict(from_file), _verdict(from_stream)
    where = (
        f"\n{mutated!r}\nhit: {sorted(hits)}\nfile:   {_shown(from_file)}"
        f"\nstream: {_shown(from_stream)}"
    )
    if file == stream == REPORT:
        assert from_stream == from_file, f"the reports differ{where}"
        return "same report"
    if file == stream:
        return f"same error ({file})"
    bugs = frozenset(bug for bug, holds in _KNOWN_BUGS.items() if holds(data, from_file))
    entry = _leeway(hits, (file, stream), bugs)
    assert entry is not None, f"a difference no entry of LEEWAY allows{where}"
    if stream in (_UNREADABLE, _NOT_A_ZIP, "jsonl-unsupported-compression"):
        message = from_stream.issue.message if isinstance(from_stream, ArchiveError) else ""
        documented = _a_stop_streams_may_make(message, data, mutated)
        assert documented, f"a stop the stream module does not document{where}"
    if stream == "member-too-large":
        assert isinstance(from_stream, ArchiveError)
        values = from_stream.issue.values
        assert _sized_local_declares(data, str(values.get("member")), values.get("found")), (
            f"not what a local header with sizes declares{where}"
        )
    return f"{file} / {stream} ({entry})"


def check_same_verdict(
    mutated: MutatedArchive, folder: Path, workers: int, verify: bool = False
) -> str:
    """Returns what the file and the stream gave, for the statistics."""
    path, hits = mutated.write_hits(folder / "export.zip")
    data = path.read_bytes()
    from_file = _outcome(path, workers=1, verify_files=verify)
    with fed(data) as pipe:
        from_stream = _outcome(pipe, workers=workers, verify_files=verify)
    return check_verdicts(mutated, hits, data, from_file, from_stream)


@settings(max_examples=IN_PROCESS_EXAMPLES)
@given(mutated=member_mutations(), workers=st.sampled_from([1, 2]), verify=st.booleans())
def test_a_mutated_archive_from_a_pipe_gets_the_files_verdict(
    mutated: MutatedArchive,
    workers: int,
    verify: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """With and without --verify-files; the stream read by one process or two."""
    event(check_same_verdict(mutated, tmp_path_factory.mktemp("d"), workers, verify))


@settings(max_examples=CLI_EXAMPLES)
@given(mutated=member_mutations(), workers=st.sampled_from([1, 2]))
def test_a_mutated_archive_piped_to_the_cli_gets_the_files_verdict(
    mutated: MutatedArchive, workers: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``cat ARCHIVE | archivekit validate - --format json``: the file's JSON and exit code
    (its default read limits), or exit 3 with one message line: the file's own, or a stop
    a stream may make."""
    path, hits = mutated.write_hits(tmp_path_factory.mktemp("cli") / "export.zip")
    from_file = _outcome(path, limits=None, workers=1)
    options = ("--format", "json", "--max-issues", "0", "--workers", str(workers))
    result = piped(path, "validate", "-", *options)
    stderr = result.stderr.decode()
    event(f"file: {_verdict(from_file)}; stream: exit {result.returncode}")
    if result.returncode == 3:
        assert not result.stdout
        assert stderr.startswith("archivekit: "), stderr
        assert stderr.count("\n") == 1, stderr
        # The message says no code: the verdicts are compared on the same bytes streamed in
        # process, whose message must be the CLI's.
        data = path.read_bytes()
        with fed(data) as pipe:
            from_stream = _outcome(pipe, limits=None, workers=workers)
        assert isinstance(from_stream, ArchiveError), (from_stream, stderr)
        message = from_stream.issue.message.replace(pipe, "standard input")
        assert stderr == f"archivekit: {message}\n"
        check_verdicts(mutated, hits, data, from_file, from_stream)
        return
    assert not isinstance(from_file, ArchiveError), (from_file, stderr)
    assert result.returncode == (0 if from_file["valid"] else 1), stderr
    document = json.loads(result.stdout)
    assert document.pop("archive") == "-"
    assert document == from_file


def test_the_recipes_verdict_depends_on_its_members(tmp_path: Path) -> None:
    """The comparisons are worth something only if the files' checks have findings."""
    recipe = ArchiveRecipe(
        _member_lines(), dict(_member_files()), sized=frozenset(["data/files/a.png"])
    )
    report = validate(recipe.write(tmp_path / "export.zip"), max_issues=None)
    assert {
        "emoji-image-not-image",
        "emoji-image-too-large",
        "attachment-unreferenced",
        "attachment-outside-data",
        "limit-exceeded",
    } <= set(report.issue_counts)
    over = " ".join(i.message for i in report.issues if i.code == "limit-exceeded")
    for image in ("data/users/ann/avatar", "data/files/a.png", "data/files/e.webp"):
        assert repr(image) in over  # measured: over the resolution limit


def test_what_a_mutation_hit_is_where_it_lands_and_stays(tmp_path: Path) -> None:
    """`zip_hits`, which the table is keyed by: the structure under each change, followed
    through insertions and deletions; a change a later cut removed counts for nothing."""
    recipe = ArchiveRecipe(_member_lines(), {"data/files/b.txt": b"some text\n" * 50})
    data = recipe.write(tmp_path / "export.zip").read_bytes()
    descriptor = data.index(b"PK\x07\x08", data.index(b"PK\x03\x04", 1))  # the attachment's
    directory = data.index(b"PK\x01\x02")

    def hits(*mutations: ByteMutation) -> set[str]:
        return set(zip_hits(data, mutations, JSONL_NAME))

    assert hits(ByteMutation("flip", 0)) == {START}
    assert hits(ByteMutation("insert", 0, data=b"xx")) == {START, SHIFT}
    assert hits(ByteMutation("flip", 8)) == {of_jsonl(LOCAL)}
    assert hits(ByteMutation("flip", 100)) == {of_jsonl(DATA)}
    assert hits(ByteMutation("flip", descriptor + 5)) == {DESCRIPTOR}
    assert hits(ByteMutation("flip", directory + 5)) == {of_jsonl(CENTRAL)}
    assert hits(ByteMutation("overwrite", len(data) - 2, data=b"abcd")) == {END}
    header = ByteMutation("header", 16, data=b"\0", signature=b"PK\x01\x02", record=1)
    assert hits(header) == {CENTRAL}
    assert hits(ByteMutation("delete", 100, length=3), ByteMutation("flip", descriptor)) == {
        of_jsonl(DATA),
        SHIFT,
        DESCRIPTOR,
    }
    cut_after = ByteMutation("truncate", descriptor + 16)
    assert hits(ByteMutation("flip", descriptor + 5), cut_after) == {DESCRIPTOR, CUT}
    cut_before = ByteMutation("truncate", descriptor)
    assert hits(ByteMutation("flip", descriptor + 5), cut_before) == {CUT}
    assert hits(ByteMutation("delete", descriptor, length=len(data))) == {CUT}
