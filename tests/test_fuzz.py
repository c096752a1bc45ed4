"""Property-based suite: mutated archives never crash `validate` and keep its contract.

Profiles (see docs/fuzzing.md): "ci" by default — derandomized, 100 examples for the in-process
properties, a tenth of that through the subprocess; "long" with ``ARCHIVEKIT_FUZZ_EXAMPLES=N``.
Later writers (filter, split, redact) add a property here: mutate with `archive_mutations`,
run the writer, and check its output with `check_validate_contract`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings

from archivekit.errors import ArchiveError
from archivekit.read import ReadLimits
from archivekit.testing.fuzz import (
    ArchiveRecipe,
    ByteMutation,
    ContractViolation,
    MutatedArchive,
    RecordMutation,
    apply_byte_mutations,
    apply_record_mutations,
    archive_mutations,
    byte_mutations,
    check_validate_contract,
    check_validate_in_process,
    load_fuzz_profile,
    record_mutations,
    scaled_examples,
)
from archivekit.testing.synth import (
    channel,
    direct_channel,
    direct_post,
    png_bytes,
    post,
    reaction,
    reply,
    team,
    user,
)
from archivekit.validate import validate

PROFILE = load_fuzz_profile()
SUBPROCESS_EXAMPLES = scaled_examples(0.1)
IN_PROCESS_SECONDS = 10.0  # per example: the archives are a few KB, anything slower is a bug

FILE = "20240101/teams/t/channels/c/users/u/f/a.png"
RECIPE = ArchiveRecipe.of(
    [
        team("team1"),
        channel("team1", "town-square"),
        channel("team1", "chan1", type="P"),
        user("alice", teams={"team1": ["chan1"]}),
        user("bob", teams={"team1": ["chan1"]}, roles="system_admin system_user"),
        post(
            "team1",
            "chan1",
            "alice",
            "hello **world** ✓",
            1_700_000_000_000,
            attachments=[FILE],
            replies=[reply("bob", "hi", 1_700_000_000_001)],
            reactions=[reaction("bob", "smile", 1_700_000_000_002)],
            props={"attachments": [{"text": "x"}]},
        ),
        direct_channel(["alice", "bob"]),
        direct_post(["alice", "bob"], "bob", "psst", 1_700_000_000_003),
    ],
    {f"data/{FILE}": png_bytes(4, 3), "data/unused.txt": b"spare"},
)
SMALL_LIMITS = ReadLimits(max_member_size=8 << 20, max_total_size=64 << 20)


@pytest.fixture(scope="module")
def base_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return RECIPE.write(tmp_path_factory.mktemp("base") / "base.zip").read_bytes()


def check_in_process(path: Path) -> None:
    started = time.perf_counter()
    check_validate_in_process(path, validate=validate, read_limits=SMALL_LIMITS)
    assert time.perf_counter() - started < IN_PROCESS_SECONDS


# --- the base archive and the helpers themselves ---------------------------------------------


def test_the_base_archive_is_valid(tmp_path: Path) -> None:
    result = check_validate_contract(RECIPE.write(tmp_path / "base.zip"))
    assert result.exit_code == 0
    assert result.report is not None
    codes = [issue["code"] for issue in result.report["issues"]]
    assert codes == ["attachment-unreferenced"]  # data/unused.txt, kept on purpose


def test_byte_mutations_apply_to_data_of_any_length() -> None:
    flip = ByteMutation("flip", offset=7, mask=0x80)
    assert flip.apply(b"abc") == b"a\xe2c"  # offset 7 wraps to 1
    assert ByteMutation("truncate", offset=2).apply(b"abcdef") == b"ab"
    assert ByteMutation("insert", offset=1, data=b"XY").apply(b"ab") == b"aXYb"
    assert ByteMutation("delete", offset=1, length=2).apply(b"abcd") == b"ad"
    assert ByteMutation("overwrite", offset=0, data=b"Z").apply(b"") == b"Z"


def test_header_mutation_lands_on_the_named_zip_record(base_zip: bytes) -> None:
    eocd = base_zip.rindex(b"PK\x05\x06")
    hit = ByteMutation("header", offset=6, data=b"\xff\xff", signature=b"PK\x05\x06")
    changed = hit.apply(base_zip)
    assert changed[eocd + 10 : eocd + 12] == b"\xff\xff"  # the entry count
    assert changed[:eocd] == base_zip[:eocd]


def test_record_mutations_edit_delete_and_recase_fields() -> None:
    lines = [b'{"type":"team","team":{"name":"team1","type":"O"}}']
    mutations = (
        RecordMutation("set", path=("team", "type"), value=7),
        RecordMutation("delete", path=("team", "name")),
        RecordMutation("case", path=("team",), key=True),
    )
    assert apply_record_mutations(lines, mutations) == [b'{"type":"team","TEAM":{"type":7}}']


def test_record_mutations_move_duplicate_drop_and_insert_lines() -> None:
    lines = [b"a", b"b", b"c"]
    assert RecordMutation("duplicate", line=0, target=3).apply(lines) == [b"a", b"b", b"c", b"a"]
    assert RecordMutation("move", line=0, target=2).apply(lines) == [b"b", b"c", b"a"]
    assert RecordMutation("drop", line=4).apply(lines) == [b"a", b"c"]  # 4 wraps to 1
    assert RecordMutation("garbage", target=1, raw=b"{").apply(lines) == [b"a", b"{", b"b", b"c"]


def test_record_mutations_repeat_keys_and_graft_lines() -> None:
    lines = [b'{"type":"post","post":{"message":"x"}}', b'{"type":"team","team":{"name":"t"}}']
    repeated = RecordMutation("repeat", line=0, path=("type",), value="team", key=True)
    assert apply_record_mutations(lines, [repeated])[0] == (
        b'{"type":"post","post":{"message":"x"},"TYPE":"team"}'
    )
    grafted = apply_record_mutations(lines, [RecordMutation("graft", line=0, target=1)])
    assert grafted == [b'{"type":"post","post":{"message":"x"},"type":"team","team":{"name":"t"}}']


def test_values_orjson_refuses_are_still_written() -> None:
    lines = [b'{"type":"version","version":1}']
    big = RecordMutation("set", path=("version",), value=-(2**63) - 1)
    assert apply_record_mutations(lines, [big]) == [
        b'{"type":"version","version":-9223372036854775809}'
    ]


def test_the_contract_check_catches_an_exit_code_it_does_not_allow(tmp_path: Path) -> None:
    with pytest.raises(ContractViolation, match="exit code"):
        check_validate_contract(tmp_path, args=["--max-ratio", "0"])  # a usage error: exit 2


# --- properties --------------------------------------------------------------------------------


@given(mutated=archive_mutations(RECIPE))
def test_any_mutated_archive_keeps_the_contract_in_process(
    mutated: MutatedArchive, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = mutated.write(tmp_path_factory.mktemp("m") / "export.zip")
    check_in_process(path)


@given(mutations=record_mutations(RECIPE.lines, max_mutations=6))
@example(mutations=(RecordMutation("garbage", target=1, raw=b"[" * 10_001 + b"]" * 10_001),))
@example(mutations=(RecordMutation("case", line=3, path=("team", "name")),))
def test_record_mutations_give_a_report_never_an_unreadable_archive(
    mutations: tuple[RecordMutation, ...], tmp_path_factory: pytest.TempPathFactory
) -> None:
    mutated = MutatedArchive(RECIPE, records=mutations)
    path = mutated.write(tmp_path_factory.mktemp("r") / "export.zip")
    outcome = check_validate_in_process(path, validate=validate, read_limits=SMALL_LIMITS)
    # The zip itself is intact: whatever the lines say, validate reports on them.
    assert not isinstance(outcome, ArchiveError), outcome
    assert outcome.lines == len(mutated.lines())


@given(mutations=byte_mutations())
def test_zip_byte_mutations_are_a_report_or_an_unreadable_archive(
    mutations: tuple[ByteMutation, ...],
    tmp_path_factory: pytest.TempPathFactory,
    base_zip: bytes,
) -> None:
    path = tmp_path_factory.mktemp("z") / "export.zip"
    path.write_bytes(apply_byte_mutations(base_zip, mutations))
    check_in_process(path)


@settings(max_examples=SUBPROCESS_EXAMPLES)
@given(mutated=archive_mutations(RECIPE))
def test_mutated_archives_keep_the_cli_contract(
    mutated: MutatedArchive, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    path = mutated.write(folder / "export.zip")
    result = check_validate_contract(path, timeout=30, memory=1 << 30)
    assert result.seconds < 30
    assert sorted(p.name for p in folder.iterdir()) == ["export.zip"]  # nothing written beside it


@settings(max_examples=SUBPROCESS_EXAMPLES)
@given(mutations=record_mutations(RECIPE.lines))
def test_mutated_lines_in_a_bare_jsonl_keep_the_cli_contract(
    mutations: tuple[RecordMutation, ...], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("bare") / "import.jsonl"
    lines = apply_record_mutations(RECIPE.lines, mutations)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    result = check_validate_contract(path)
    assert result.exit_code in (0, 1)  # a bare JSONL is always readable
    assert result.report is not None
    assert result.report["lines"] == len(lines)


# Posts before and after the definitions they use, so that a mutation moving, grafting or
# retyping lines leaves references to things a worker must have learnt from a batch it does
# not own.
PARALLEL_RECIPE = ArchiveRecipe.of(
    [
        team("team1"),
        channel("team1", "chan1"),
        user("alice", teams={"team1": ["chan1"]}),
        post("team1", "chan1", "alice", "early", 1_700_000_000_000),
        team("team2"),
        channel("team2", "chan2"),
        user("bob", teams={"team1": ["chan1"], "team2": ["chan2"]}),
        post(
            "team2",
            "chan2",
            "bob",
            "hi",
            1_700_000_000_001,
            reactions=[reaction("alice", "smile", 1_700_000_000_002)],
        ),
        post("team1", "chan1", "bob", "hi", 1_700_000_000_003),
        direct_channel(["alice", "bob"]),
        direct_post(["alice", "bob"], "bob", "psst", 1_700_000_000_004),
        post("team2", "chan2", "alice", "late", 1_700_000_000_005),
    ]
)


@pytest.mark.slow  # ~0.1 s an example: three runs, two of them start worker processes
@given(mutations=record_mutations(PARALLEL_RECIPE.lines, max_mutations=4))
# A post line that is the team's only definition (Go: the last "type" wins), used later.
@example(mutations=(RecordMutation("graft", line=4, target=5),))
@example(mutations=(RecordMutation("repeat", line=8, path=("type",), value="team", key=True),))
def test_several_workers_give_the_one_process_report(
    mutations: tuple[RecordMutation, ...], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = MutatedArchive(PARALLEL_RECIPE, records=mutations).write(
        tmp_path_factory.mktemp("p") / "export.zip"
    )
    one = validate(path, workers=1, max_issues=None).to_dict()
    for workers in (2, 3):
        many = validate(path, workers=workers, block_size=64, max_issues=None)
        assert many.to_dict() == one, workers
