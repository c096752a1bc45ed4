"""`archivekit redact`: nothing personal survives, validation sees the same archive.

* the samples, the real fixture and generated archives: no original username, email, name,
  team or channel name, message word, file name or file byte sequence is anywhere in the
  output (its zip bytes, its JSONL, its member names);
* `validate` reports the same issue codes at the same lines and fields before and after, on
  the samples and on generated archives with injected defects (property test);
* same line counts per type, same table shapes, same member sizes; images stay images of
  the same format and dimensions;
* the same key gives the same bytes, another key other bytes; the mapping file inverts the
  names and files; the pseudonyms keep lengths, classes, case and reserved words.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from archivekit.check.rules.names import (
    RESERVED_TEAM_NAME_PREFIXES,
    is_valid_channel_identifier,
    is_valid_team_name,
    is_valid_username,
    reserved_team_word,
)
from archivekit.check.rules.vendored import system_emojis
from archivekit.cli import cli
from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.images import image_dimensions
from archivekit.gosem.mail import parse_address
from archivekit.gosem.strings import byte_len, go_lower
from archivekit.inspect import inspect
from archivekit.read.source import Archive
from archivekit.report.tables import tables
from archivekit.testing import synth
from archivekit.testing.fuzz import (
    ArchiveRecipe,
    MutatedArchive,
    apply_record_mutations,
    archive_mutations,
    record_mutations,
    scaled_examples,
)
from archivekit.testing.synth import generate_export, make_archive
from archivekit.validate import validate
from archivekit.write.placeholders import placeholder
from archivekit.write.pseudonyms import Pseudonyms
from archivekit.write.redact import (
    NATIVE_PROPS_KEYS,
    PROPS_KEYS,
    PROPS_USER_KEYS,
    REPRODUCED_DAMAGE,
    RedactRun,
    _repeats_a_key,
)
from archivekit.write.results import render_redact
from archivekit.write.zipwriter import GO_DEFLATE, PLAIN, MemberTraits, ZipWriter
from archivekit.writers import redact_archive

SAMPLES = Path(__file__).parent.parent / "sample_exports"
FIXTURE = Path(__file__).parent / "fixtures" / "mattermost-server-tests-import_test.zip"
KEY = b"support-ticket-1234"
EMAIL_IN_TEXT = r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"


def issue_keys(path: Path, *, verify: bool = False) -> Counter[tuple[Any, ...]]:
    report = validate(path, verify_files=verify)
    # A file's issue names the file: by its mapped name after redact, so only whether it is
    # about the JSONL or a file is compared.
    return Counter(
        (i.code, i.severity.value, _where(i.member), i.line, i.field, i.server_error_id)
        for i in report.issues
    )


def _where(member: str | None) -> str | None:
    if member is None or member == "import.jsonl":
        return member
    return "(a JSONL)" if member.endswith(".jsonl") else "(a file)"


def jsonl_of(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".jsonl"))
        return zf.read(name).split(b"\n")


def records(path: Path) -> list[Any]:
    out = []
    for line in jsonl_of(path):
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            out.append(None)
    return out


def walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in walk_strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in walk_strings(v)]
    return []


# Strings the output keeps on purpose (kept-verbatim list): never a leak.
KEPT_WORDS = {
    *("town-square", "off-topic", "all", "channel", "system", "matterbot", "data"),
    *("import", "jsonl"),  # the server's default JSONL name, import.jsonl (any other is mapped)
    *RESERVED_TEAM_NAME_PREFIXES,
}


def secrets_of(path: Path) -> tuple[set[str], set[bytes]]:
    """What must not survive: names (whole) and message/text words of 5+ letters; and
    16-byte samples of every file's content (files of 16+ bytes that are not all zeros)."""
    names: set[str] = set()
    words: set[str] = set()
    for record in records(path):
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            continue
        kind = record["type"]
        body = record.get(kind)
        if kind == "version" and isinstance(record.get("info"), dict):
            for value in walk_strings(record["info"]):  # words (not dates: kept elsewhere)
                words.update(re.findall(r"[^\W\d_]{5,}", value))
        if not isinstance(body, dict) or kind in ("version", "role", "scheme"):
            continue
        for key in ("username", "email", "first_name", "last_name", "nickname", "position"):
            if isinstance(body.get(key), str):
                names.add(body[key])
        if kind in ("team", "channel"):
            names.update(v for k, v in body.items() if k in ("name", "display_name"))
        for key in ("message", "header", "purpose", "display_name", "description"):
            if isinstance(body.get(key), str):
                words.update(w for w in re.findall(r"[^\W_]{5,}", body[key]))
                names.update(re.findall(EMAIL_IN_TEXT, body[key]))  # whole addresses too
        for reply in body.get("replies") or ():
            if isinstance(reply, dict) and isinstance(reply.get("message"), str):
                words.update(re.findall(r"[^\W_]{5,}", reply["message"]))
    names = {n for n in names if isinstance(n, str) and len(n) >= 4}
    samples: set[bytes] = set()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.endswith(".jsonl") and info.filename != "import.jsonl":
                names.update(t for t in tokens(info.filename[:-6]) if len(t) >= 5)
            if info.filename.endswith(".jsonl") or info.is_dir():
                continue
            try:
                data = zf.read(info)
            except (NotImplementedError, zipfile.BadZipFile, RuntimeError):
                continue
            # Bytes the file shares with its own placeholder (which is made from its size and
            # dimensions only) are the format's, not the content's: a tiny black PNG is one.
            blank = b"".join(placeholder(len(data), image_dimensions(data)).blocks)
            for start in (len(data) // 4, len(data) // 2, 3 * len(data) // 4):
                sample = data[start : start + 16]
                if len(set(sample)) > 4 and sample not in blank:  # not zeros, not the format
                    samples.add(sample)
            for part in re.split(r"[/\\]", info.filename):
                stem = part.rsplit(".", 1)[0]
                if len(stem) >= 5 and stem != "data":
                    names.add(stem)
    kept = structure_of(path)
    found = {t for t in names | words if not {go_lower(p) for p in tokens(t)} <= kept}
    return found, samples


KEPT_KEYS = (
    "type",
    "roles",
    "scope",
    "permissions",
    "locale",
    "emoji_name",
    "auth_service",
)


def structure_of(path: Path) -> set[str]:
    """What redact keeps on purpose: keys, enumerations, reserved names (lowercase)."""
    found = set(KEPT_WORDS)

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                found.add(go_lower(key))
                if key in KEPT_KEYS:
                    found.update(go_lower(s) for s in walk_strings(item))
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    for record in records(path):
        visit(record)
        emoji = record.get("emoji") if isinstance(record, dict) else None
        if isinstance(emoji, dict) and emoji.get("name") in system_emojis():
            found.add(emoji["name"])  # a custom emoji named like a system one: kept
    return {part for word in found for part in tokens(word)}


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def assert_nothing_survives(source: Path, output: Path) -> None:
    """No secret of ``source`` in ``output``: a one-word secret not as a word of its text
    (JSONL, files, member names), a longer one not as a substring; neither (8+ bytes) in the
    zip's raw bytes."""
    texts, samples = secrets_of(source)
    assert texts, "the check needs something to look for"
    raw = output.read_bytes()
    with zipfile.ZipFile(output) as zf:
        contents = b"".join(zf.read(i) for i in zf.infolist())
        names = "\n".join(zf.namelist())
    text = contents.decode("utf-8", "replace") + "\n" + names
    words = {go_lower(w) for w in tokens(text)}
    for secret in texts:
        parts = tokens(secret)
        if len(parts) == 1:
            assert go_lower(parts[0]) not in words, f"{secret!r} survived"
        else:
            assert secret not in text, f"{secret!r} survived"
        if len(secret.encode()) >= 8:
            assert secret.encode() not in raw, f"{secret!r} survived in the zip's bytes"
    for sample in samples:
        assert sample not in raw, f"file bytes {sample!r} survived"
        assert sample not in contents, f"file bytes {sample!r} survived"


def redact(source: Path, tmp_path: Path, name: str = "out.zip", **kw: Any) -> Path:
    out = tmp_path / name
    redact_archive(source, out, key=kw.pop("key", KEY), **kw)
    return out


# --- the samples and the real fixture --------------------------------------------------------


@pytest.mark.parametrize("sample", ["clean", "broken", "over_limits"])
def test_sample_keeps_its_issues_and_loses_its_content(sample: str, tmp_path: Path) -> None:
    source = SAMPLES / f"{sample}.zip"
    out = redact(source, tmp_path)
    assert issue_keys(out) == issue_keys(source)
    assert_nothing_survives(source, out)
    assert len(jsonl_of(out)) == len(jsonl_of(source))


def test_a_deflate64_jsonl_stays_deflate64(tmp_path: Path) -> None:
    """sample_exports/deflate64.zip: its JSONL is deflate64 (the import fails); the output's is
    too (stored blocks), so validate reports the same — that issue included."""
    source = SAMPLES / "deflate64.zip"
    out = tmp_path / "out.zip"
    result = redact_archive(source, out, key=KEY)
    before = issue_keys(source)
    assert [k for k in before if k[0] == "jsonl-unsupported-compression"]
    assert issue_keys(out) == before
    assert not result.stats.not_reproduced
    with zipfile.ZipFile(out) as zf:
        assert zf.getinfo("import.jsonl").compress_type == 9


def test_a_jsonl_in_another_method_is_written_with_deflate_and_listed(tmp_path: Path) -> None:
    """A JSONL in bzip2 (which archivekit reads, the server does not): written with deflate,
    its issue listed as not reproduced."""
    jsonl = b"".join(x + b"\n" for x in ZIP_RECIPE.lines)
    with zipfile.ZipFile(tmp_path / "in.zip", "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("import.jsonl", jsonl)
    source = tmp_path / "in.zip"
    before = issue_keys(source)
    assert [k for k in before if k[0] == "jsonl-unsupported-compression"]
    result = redact_archive(source, tmp_path / "out.zip", key=KEY)
    assert issue_keys(tmp_path / "out.zip") == Counter(
        {k: n for k, n in before.items() if k[0] != "jsonl-unsupported-compression"}
    )
    assert result.to_dict()["problems_not_reproduced"] == {"jsonl-unsupported-compression": 1}


def test_real_fixture(tmp_path: Path) -> None:
    out = redact(FIXTURE, tmp_path)
    assert issue_keys(out) == issue_keys(FIXTURE)
    assert_nothing_survives(FIXTURE, out)


def test_same_counts_and_table_shapes(tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    out = redact(source, tmp_path)
    before, after = inspect(source), inspect(out)
    assert before.to_dict()["counts"] == after.to_dict()["counts"]
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        sizes = [
            sorted(i.file_size for i in z.infolist() if not i.filename.endswith(".jsonl"))
            for z in (a, b)
        ]
    assert sizes[0] == sizes[1]


@pytest.mark.parametrize("name", ["teams", "channels", "users", "directs", "months", "types"])
def test_same_tables_but_for_the_names(name: str, tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    out = redact(source, tmp_path)

    def shape(path: Path) -> list[tuple[Any, ...]]:
        frame = getattr(tables(path), name)
        kept = [c for c in frame.columns if frame[c].dtype != object or c in ("type", "kind")]
        if name == "types":
            kept.remove("bytes")  # file paths become fixed-length tokens: lines change size
        return sorted(tuple(map(str, row)) for row in frame[kept].itertuples(index=False))

    assert shape(out) == shape(source)


def test_generated_archive(tmp_path: Path) -> None:
    source = tmp_path / "gen.zip"
    generate_export(
        source, seed=7, users=15, posts=120, direct_posts=30, attachments=12, emojis=2, bots=1,
        roles_and_schemes=True, profile_images=True,
    )  # fmt: skip
    out = redact(source, tmp_path)
    assert validate(out).valid
    assert issue_keys(out) == issue_keys(source)
    assert_nothing_survives(source, out)


# --- determinism and the mapping -------------------------------------------------------------


def test_same_key_same_bytes_other_key_other_bytes(tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    one = redact(source, tmp_path, "one.zip")
    two = redact(source, tmp_path, "two.zip")
    other = redact(source, tmp_path, "other.zip", key=b"another key")
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes() != other.read_bytes()
    random_one = tmp_path / "r1.zip"
    random_two = tmp_path / "r2.zip"
    redact_archive(source, random_one)
    redact_archive(source, random_two)
    assert random_one.read_bytes() != random_two.read_bytes()


def test_mapping_inverts_names_and_files(tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    mapping = tmp_path / "keep-me.json"
    out = redact(source, tmp_path, mapping=mapping)
    reverse = json.loads(mapping.read_text())
    users = reverse["names"]["user"]
    emails = reverse["names"]["email"]
    channels = reverse["names"]["channel"]
    for before, after in zip(records(source), records(out), strict=True):
        if before["type"] == "user":
            body, mapped = before["user"], after["user"]
            assert users[mapped["username"]] == body["username"]  # in its own case
            assert emails[mapped["email"]] == body["email"]
        if before["type"] == "post":
            body, mapped = before["post"], after["post"]
            assert users.get(mapped["user"], mapped["user"]) == body["user"]
            assert channels.get(mapped["channel"], mapped["channel"]) == body["channel"]
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        originals = {i.filename for i in a.infolist() if not i.filename.endswith(".jsonl")}
        mapped_names = [i.filename for i in b.infolist() if not i.filename.endswith(".jsonl")]
    assert {reverse["files"][n] for n in mapped_names} == originals


def test_manifest_and_summary_name_no_original(tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    out = tmp_path / "out.zip"
    result = CliRunner().invoke(
        cli, ["redact", str(source), "-o", str(out), "--key", "k", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["kept_verbatim"]
    assert document["key"] == "given"
    manifest = Path(document["manifest"]).read_text()
    for record in records(source):
        if record["type"] == "user":
            for key in ("username", "email", "first_name", "last_name"):
                value = record["user"][key]
                assert value not in manifest, value
                assert value not in result.output, value
    text_run = CliRunner().invoke(cli, ["redact", str(source), "-o", str(tmp_path / "t.zip")])
    assert "kept verbatim" in text_run.output
    assert "stored nowhere" in text_run.output


@pytest.mark.parametrize("onto", ["in.zip", "out.manifest.json"])
def test_mapping_onto_the_input_or_the_manifest_is_refused_before_writing(
    onto: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.zip"
    source.write_bytes((SAMPLES / "clean.zip").read_bytes())
    out = tmp_path / "out.zip"
    result = CliRunner().invoke(
        cli, ["redact", str(source), "-o", str(out), "--mapping", str(tmp_path / onto)]
    )
    assert result.exit_code == 2
    assert not out.exists()
    assert not (tmp_path / "out.manifest.json").exists()
    assert source.read_bytes() == (SAMPLES / "clean.zip").read_bytes()


def test_a_mapping_that_cannot_be_written_leaves_no_redacted_archive(tmp_path: Path) -> None:
    """The mapping is written last (it holds every pseudonym the run drew): when it cannot
    be, the archive and manifest already written go too, rather than an archive nobody can
    map back (a random key is stored nowhere)."""
    out = tmp_path / "out.zip"
    mapping = tmp_path / "missing-folder" / "keep-me.json"
    result = CliRunner().invoke(
        cli, ["redact", str(SAMPLES / "clean.zip"), "-o", str(out), "--mapping", str(mapping)]
    )
    assert result.exit_code == 2, result.output
    assert f"cannot write {mapping}" in result.output
    assert "were removed" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_unreadable_input_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    out = tmp_path / "out.zip"
    result = CliRunner().invoke(cli, ["redact", str(bad), "-o", str(out)])
    assert result.exit_code == 3
    assert not out.exists()


# --- what validation depends on --------------------------------------------------------------


def test_shapes_survive_in_a_built_archive(tmp_path: Path) -> None:
    long_nick = "Ünïcödé-" + "n" * 62  # 70 runes: over the 64 limit, and stays over
    lines = [
        synth.team("Helpdesk-Ops", display_name="Helpdesk Operations"),
        synth.team("acme-corp", display_name="Acme Corporation"),
        synth.channel("acme-corp", "Quarterly_Plans", display_name="Quarterly plans"),
        synth.user("alice.wonder", {"acme-corp": ["quarterly_plans"]},
                   email="Alice.Wonder@Example.org", nickname=long_nick),
        synth.user("bob_builder9", ["acme-corp"], email="bob@builders.example.com"),
        synth.user("channel", email="channel@example.com"),
        synth.post("acme-corp", "Quarterly_Plans", "Alice.Wonder",
                   "hello @bob_builder9, see ~quarterly_plans and ~town-square.", 1700000000000),
        synth.post("acme-corp", "town-square", "bob_builder9", "Zürich ⚡ 東京 ok", 1700000000001,
                   attachments=["files/Report Q3.pdf", "files/diagram.png"]),
        synth.post("acme-corp", "town-square", "bob_builder9", "write to alice.wonder@example.org"
                   " (cc BOB@builders.example.com, zed_q+x@hiddenmail.net)", 1700000000002),
    ]  # fmt: skip
    png = synth.png_bytes(31, 17)
    source = make_archive(
        tmp_path / "in.zip",
        lines,
        {"data/files/Report Q3.pdf": b"%PDF-secret contents " * 40, "data/files/diagram.png": png},
    )
    out = redact(source, tmp_path)
    assert issue_keys(out) == issue_keys(source)
    assert_nothing_survives(source, out)
    got = records(out)
    teams = [r["team"]["name"] for r in got if r["type"] == "team"]
    assert teams[0].startswith("Help")
    assert reserved_team_word(teams[0]) is not None
    assert reserved_team_word(teams[1]) is None
    assert is_valid_team_name(teams[1])
    users = [r["user"] for r in got if r["type"] == "user"]
    assert users[2]["username"] == "channel"  # reserved: kept
    assert all(is_valid_username(u["username"]) for u in users[:2])
    assert users[0]["email"][0].isupper()
    assert users[0]["email"].endswith(".org")
    assert parse_address(users[0]["email"]) is not None
    assert len(users[0]["nickname"]) == 70
    assert byte_len(users[0]["nickname"]) == byte_len(long_nick)
    posts = [r["post"] for r in got if r["type"] == "post"]
    channel = next(r["channel"]["name"] for r in got if r["type"] == "channel")
    assert posts[0]["channel"] == channel
    assert channel[0].isupper()
    assert is_valid_channel_identifier(go_lower(channel))
    bob = users[1]["username"]
    assert f"@{bob}," in posts[0]["message"]
    assert f"~{go_lower(channel)} " in posts[0]["message"]
    assert posts[0]["message"].endswith(" ~town-square.")
    message = posts[1]["message"]
    assert message.count("⚡") == 1
    assert len(message) == len("Zürich ⚡ 東京 ok")
    assert byte_len(message) == byte_len("Zürich ⚡ 東京 ok")
    alice_email, bob_email = users[0]["email"], users[1]["email"]
    assert f" {go_lower(alice_email)} (" in posts[2]["message"]  # the users' email pseudonyms
    local, domain = bob_email.split("@")
    assert f" {local.upper()}@{domain}, " in posts[2]["message"]  # the case of the text's
    unknown = posts[2]["message"].rsplit(", ", 1)[1]
    assert re.fullmatch(r"[a-z]{3}_[a-z]\+[a-z]@[a-z]{10}\.net\)", unknown)
    with zipfile.ZipFile(out) as zf:
        by_size = {i.file_size: i.filename for i in zf.infolist()}
        image = zf.read(by_size[len(png)])
    assert image_dimensions(image) == ("png", 31, 17)
    assert Image.open(io.BytesIO(image)).size == (31, 17)
    assert by_size[len(png)].endswith(".png")
    assert [a["path"] for a in posts[1]["attachments"]] == [
        n.removeprefix("data/") for n in sorted(by_size.values()) if n.startswith("data/")
    ] or {a["path"] for a in posts[1]["attachments"]} == {
        n.removeprefix("data/") for n in by_size.values() if n.startswith("data/")
    }


def test_no_attachments_drops_files_and_references(tmp_path: Path) -> None:
    source = SAMPLES / "clean.zip"
    attached = 0
    for record in records(source):
        if record["type"] in POST_LINE_TYPES:
            body = record[record["type"]]
            for message in (body, *(body.get("replies") or ())):
                attached += len(message.get("attachments") or ())
    assert attached
    out = redact(source, tmp_path, attachments="drop-references")
    assert validate(out).valid
    assert not any(b'"attachments"' in line for line in jsonl_of(out))
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        # Only the profile and emoji images stay (as placeholders).
        assert len(b.namelist()) == len(a.namelist()) - attached
    kept_refs = redact(source, tmp_path, "refs.zip", attachments="drop")
    missing = issue_keys(kept_refs)
    assert {k[0] for k in missing} == {"attachment-missing"}  # references kept, files not
    assert sum(missing.values()) == attached


def test_another_jsonl_keeps_its_place_and_is_redacted(tmp_path: Path) -> None:
    jsonl = b"\n".join(
        orjson.dumps(r) for r in (synth.version(), synth.team("secretteam", display_name="X"))
    )
    source = synth.write_zip(
        tmp_path / "two.zip",
        [
            synth.ZipMember("old/export.jsonl", jsonl + b"\n", "deflate"),
            synth.ZipMember("import.jsonl", jsonl + b"\n", "deflate"),
        ],
    )
    out = redact(source, tmp_path)
    assert [k[0] for k in issue_keys(source)] == ["jsonl-choice-differs"]
    assert issue_keys(out) == issue_keys(source)
    with zipfile.ZipFile(out) as zf:
        other, chosen = zf.namelist()
        assert chosen == "import.jsonl"
        assert other.endswith(".jsonl")
        assert other.count("/") == 1
        assert "export" not in other
        assert zf.read(other) == zf.read("import.jsonl")
        assert b"secretteam" not in zf.read(other)


def test_jsonl_and_warnings_names(tmp_path: Path) -> None:
    """A JSONL named after its team and exporter is renamed (the server still picks it: a
    root .jsonl); mmctl's root warnings.txt keeps its name (validate exempts exactly it), not
    its content. An extension that is no common kind of file is mapped too."""
    jsonl = orjson.dumps(synth.team("zebracorp", display_name="Z")) + b"\n"
    source = synth.write_zip(
        tmp_path / "named.zip",
        [
            synth.ZipMember("zebracorp-xavierlong-export.jsonl", jsonl, "deflate"),
            synth.ZipMember("warnings.txt", b"missing data/files/xavier-passport.pdf\n"),
            synth.ZipMember("data/notes.Xavier", b"x"),
        ],
    )
    out = redact(source, tmp_path)
    assert issue_keys(out) == issue_keys(source)
    with zipfile.ZipFile(out) as zf:
        jsonl_name, warnings, notes = zf.namelist()
        assert notes.startswith("data/")
        assert re.fullmatch(r"[A-Z][a-z]{5}", notes.rsplit(".", 1)[1])
        assert "avier" not in notes
        assert jsonl_name.endswith(".jsonl")
        assert "/" not in jsonl_name
        assert warnings == "warnings.txt"
        assert b"passport" not in zf.read(warnings)
    for path in (out, out.with_suffix(".manifest.json")):
        assert b"xavierlong" not in path.read_bytes()
        assert b"zebracorp" not in path.read_bytes()


def redacted_jsonl(lines: list[Any], tmp_path: Path) -> bytes:
    """The JSONL of ``lines`` redacted, after checking validate sees the same issues."""
    source = make_archive(tmp_path / "in.zip", lines)
    out = redact(source, tmp_path)
    assert issue_keys(out) == issue_keys(source)
    return b"\n".join(jsonl_of(out))


def test_broken_lines_keep_their_structure(tmp_path: Path) -> None:
    lines: list[Any] = [
        synth.team("secretteam", display_name="Secret Team"),
        b'{"type":"post","post":{"team":"secretteam","message":"unterminated secretword',
        b'{"type":"user","user":{"username":"bigint","delete_at":123456789012345678901234}}',
        b'{"type":"post","post":{"message":"invalid \xff utf8 secretword"}}',
    ]
    body = redacted_jsonl(lines, tmp_path)
    assert b"secretword" not in body
    assert b"secretteam" not in body
    assert b"123456789012345678901234" in body  # numbers are kept


def test_lines_the_walk_cannot_take_are_mapped_where_they_stand(tmp_path: Path) -> None:
    """Lines nested deeper than orjson writes, lines repeating a key (Go merges a repeated
    object: validate models it) and the version line's info: redacted, never a crash, the same
    issues; escapes spelling a word are read as the word."""
    deep = 600
    lines: list[Any] = [
        synth.version(generator="secretgen", exported_by="xavier@zebramail.com"),
        synth.team("secretteam", display_name="Secret Team"),
        synth.channel("secretteam", "secretchan"),
        b'{"type":"post","post":{"team":"secretteam","props":'
        + b"[" * deep
        + b'"secretword"'
        + b"]" * deep
        + b',"create_at":9}}',
        b'{"type":"team","team":{"name":"x","display_name":'
        + b'{"a":' * deep
        + b'"secretword"'
        + b"}" * deep
        + b"}}",
        b'{"type":"user","user":{"username":"secretuser","email":"xavier@zebramail.com",'
        b'"teams":[{"name":"secretteam","roles":"team_user","channels":[{"name":"secretchan",'
        b'"roles":"channel_user"}]}]},"user":{"username":"secretuser"}}',
        b'{"type":"post","post":{"team":"secretteam","channel":"secretchan","user":"secretuser",'
        b'"message":"\\u0070\\u0061\\u0073\\u0073\\u0077\\u006f\\u0072\\u0064 @secretuser",'
        b'"create_at":1.5}}',
        b'{"type":"post","post":{"message":"\\u0070\\u0061\\u0073\\u0073word \\x cut',
    ]
    body = redacted_jsonl(lines, tmp_path)
    for secret in (b"secret", b"xavier", b"zebramail", b"password", b"\\u0070"):
        assert secret not in body
    assert body.count(b"[") == body.count(b"]") >= deep
    user = orjson.loads(body.split(b"\n")[5])  # its second "user" is the one orjson keeps
    assert body.count(user["user"]["username"].encode()) == 4  # both, the post, the mention


def test_objects_and_lists_in_kept_fields_are_free_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fields kept verbatim (enumerations, the version, expiry times...) keep scalars only:
    an object or a list there is free text, its keys and JSON types kept, so validate reports
    the same issues. The same in the C walk (post lines), the Python walk and the token path (a
    line repeating a key)."""
    hidden: Any = {"k": ["hiddenword", {"n": "hiddenword", "i": 7}], "b": True}
    member = {"name": "acme", "roles": hidden, "theme": hidden, "channels": [{"name": "chan"}]}
    member["channels"][0]["roles"] = ["hiddenword"]
    lines: list[Any] = [
        {"type": "version", "version": hidden},
        synth.team("acme", type=hidden),
        synth.channel("acme", "chan", type=["hiddenword"]),
        synth.user(
            "bobby",
            [member],
            auth_service=hidden,
            locale="keptlocale",
            email_interval=hidden,
            custom_status={"emoji": "smile", "expires_at": hidden},
        ),
        synth.role("customrole", permissions=["create_post", hidden], scheme_managed=hidden),
        synth.post(
            "acme",
            "chan",
            "bobby",
            "m",
            1,
            type=hidden,
            reactions=[{"user": "bobby", "emoji_name": "smile", "create_at": hidden}],
        ),
        b'{"type":"post","post":{"type":{"k":"hiddenword"},"type":["hiddenword"],"message":"m"}}',
    ]
    body = redacted_jsonl(lines, tmp_path)
    assert b"hiddenword" not in body
    assert body.count(b'"keptlocale"') == 1  # a scalar stays as it is
    assert body.count(b'"create_post"') == 1  # and each permission of a list
    # The same JSON but for what the strings hold: the same types where they were.
    strings = re.compile(rb'"(?:[^"\\]|\\.)*"')
    source = b"\n".join(jsonl_of(tmp_path / "in.zip"))
    assert strings.sub(b'""', body) == strings.sub(b'""', source)
    python = tmp_path / "python"
    python.mkdir()
    monkeypatch.setenv("ARCHIVEKIT_PURE_PYTHON", "1")
    assert redacted_jsonl(lines, python) == body


def test_pseudonyms_keep_shape_case_and_reserved_words() -> None:
    names = Pseudonyms(b"k")
    assert names.name("user", "Alice") == names.name("user", "alice").capitalize()
    assert names.name("user", "all") == "all"
    assert names.name("channel", "off-topic") == "off-topic"
    assert names.name("emoji", "smile") == "smile"
    word = names.text("Ça-va_2024 ÉTÉ")
    assert re.fullmatch(r"\w\w-\w\w_\d{4} \w{3}", word)
    assert word[0].isupper()
    assert byte_len(word) == byte_len("Ça-va_2024 ÉTÉ")
    for original in ("東京", "Ελλάδα", "𐐷𐐷"):
        mapped = names.text(original)
        assert mapped != original
        assert byte_len(mapped) == byte_len(original)
        assert len(mapped) == len(original)
    dm_like = "0123456789abcdef0123456789abcdef01234567"
    assert re.fullmatch(r"[0-9a-f]{40}", names.name("channel", dm_like))
    mapped_users = {names.name("user", f"u{i}") for i in range(300)}
    assert len(mapped_users) == 300  # no two names share a pseudonym
    assert names.name("team", "xy") != "xy"
    # An :emoji: code in a message before the emoji's line: the emoji's pseudonym all the same.
    message = names.message("ship it :partyparrot: :smile: at 10:30:45")
    assert message.split()[2] == f":{names.name('emoji', 'partyparrot')}:"
    assert ":smile:" in message
    assert not message.endswith(" 10:30:45")  # digits are mapped, colons kept
    assert re.fullmatch(r".* \d\d:\d\d:\d\d", message)


def test_scheme_role_names_take_the_schemes_pseudonym(tmp_path: Path) -> None:
    lines = [synth.scheme("zebra_scheme"), synth.scheme("zebra", "channel")]
    body = redacted_jsonl(lines, tmp_path)
    assert b"zebra" not in body
    for line in filter(None, body.split(b"\n")[1:]):
        scheme = orjson.loads(line)["scheme"]
        role = scheme["default_channel_admin_role"]["name"]
        assert role == scheme["name"] + "_channel_admin"


def test_letters_whose_lowercase_has_another_length_keep_their_length(tmp_path: Path) -> None:
    """İ, the Kelvin sign and Ⱥ lowercase to letters of another UTF-8 length: in free text
    their pseudonyms keep the original's bytes and runes, so the limits judge them alike."""
    names = Pseudonyms(b"k")
    for original in ("İ" * 5, "\u212a" * 3, "Ⱥ" * 4, "xİy", "İstanbul"):
        mapped = names.word(original)
        assert (len(mapped), byte_len(mapped)) == (len(original), byte_len(original))
    lines = [
        synth.team("zebracorp", display_name="Z", description="İ" * 200),
        synth.team("kelvin", display_name="K", description="\u212a" * 100),
        synth.channel("zebracorp", "Ⱥ" * 30, display_name="Hush"),
    ]
    assert b"zebracorp" not in redacted_jsonl(lines, tmp_path)


# Capitals whose lowercase has another UTF-8 length, each with its lowercase spelling.
OTHER_LENGTH_CAPITALS = [
    ("\u212aelvin", "kelvin"),  # Kelvin sign → k
    ("\u212bngstrom", "ångstrom"),  # Angstrom sign → å
    ("\u0130stanbul", "istanbul"),  # İ → i
    ("gro\u1e9ee", "große"),  # ẞ → ß
    ("\u2126mega", "ωmega"),  # Ohm sign → ω
    ("\u023a\u023ebc", "ⱥⱦbc"),  # Ⱥ Ⱦ → ⱥ ⱦ
]


@pytest.mark.parametrize(("capital", "lower"), OTHER_LENGTH_CAPITALS)
@pytest.mark.parametrize("kind", ["user", "team", "channel"])
def test_names_with_capitals_of_another_length_keep_their_lowercase(
    capital: str, lower: str, kind: Any
) -> None:
    """A name's pseudonym lowercases to the pseudonym of its lowercase (the server compares
    names by it), with the lowercase's classes and lengths; the capital's own length is kept
    where a capital of that length exists (all but the Kelvin sign and İ)."""
    names = Pseudonyms(b"k")
    mapped, mapped_lower = names.name(kind, capital), names.name(kind, lower)
    assert go_lower(mapped) == mapped_lower
    assert mapped_lower != lower
    assert byte_len(mapped_lower) == byte_len(lower)
    assert [c.isascii() for c in mapped_lower] == [c.isascii() for c in lower]
    if capital[0] not in "\u212a\u0130":
        assert byte_len(mapped) == byte_len(capital)


def test_capitals_of_another_length_keep_codes_and_lines(tmp_path: Path) -> None:
    """Definitions spelled with such capitals keep their codes (a Kelvin-sign channel name is
    refused where its lowercase is, not for its characters), and references that differ from
    their definition only in case still find it."""
    lines: list[Any] = [synth.team("northwind", display_name="N")]
    for i, (capital, lower) in enumerate(OTHER_LENGTH_CAPITALS):
        ascii_lower = "".join(c if c.isascii() else "x" for c in lower)
        lines += [
            synth.channel("northwind", capital, display_name="C"),
            synth.channel("northwind", f"{ascii_lower}-{i}", display_name="C"),
            synth.user(f"{ascii_lower}{i}", {"northwind": [f"{ascii_lower}-{i}"]}),
            synth.post("northwind", f"{capital}-{i}", f"{capital}{i}", "hi", 1700000000000 + i),
            synth.team(capital, display_name="T"),
            synth.channel(capital, f"{ascii_lower}-{i}", display_name="C"),
        ]
    body = redacted_jsonl(lines, tmp_path)
    assert b"stanbul" not in body
    assert b"mega" not in body


# --- property: injected defects keep their codes and lines -----------------------------------


def slow_property(share: float) -> settings:
    """Hypothesis settings for a property that writes archives: a share of the examples."""
    return settings(
        max_examples=scaled_examples(share),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def assert_redact_keeps_issues(
    source: Path, tmp_path: Path, gone: frozenset[str] = frozenset(), *, verify: bool = False
) -> None:
    """validate (``verify``: reading every file in full) says the same of ``source`` and of its
    redacted copy, but for the codes ``gone`` (which redact removes on purpose)."""
    try:
        before = issue_keys(source, verify=verify)
    except Exception:  # an archive validate refuses (exit 3) is not this test's subject
        return
    out = tmp_path / "out.zip"
    redact_archive(source, out, key=KEY)
    assert issue_keys(out, verify=verify) == Counter(
        {k: n for k, n in before.items() if k[0] not in gone}
    )


RECIPE = ArchiveRecipe.of(
    [
        synth.team("northwind", display_name="Northwind Traders"),
        synth.channel("northwind", "logistics", display_name="Logistics"),
        synth.user(
            "margaret.peacock", {"northwind": ["logistics"]}, email="margaret@northwind.example"
        ),
        synth.user(
            "steven.buchanan", {"northwind": ["logistics"]}, email="steven@northwind.example"
        ),
        synth.post(
            "northwind",
            "logistics",
            "margaret.peacock",
            "Shipment to @steven.buchanan delayed",
            1700000000000,
            attachments=["manifests/order.png"],
            replies=[synth.reply("steven.buchanan", "Acknowledged", 1700000000100)],
        ),
        synth.direct_channel(["margaret.peacock", "steven.buchanan"]),
        synth.direct_post(
            ["margaret.peacock", "steven.buchanan"],
            "steven.buchanan",
            "private note",
            1700000000200,
        ),
    ],
    {"data/manifests/order.png": synth.png_bytes(40, 30)},
)


@slow_property(0.25)
@given(mutated=archive_mutations(RECIPE))
def test_injected_defects_keep_their_codes_and_lines(
    mutated: MutatedArchive, tmp_path: Path
) -> None:
    if mutated.zip:
        return  # a damaged zip: redact writes a sound one (documented)
    assert_redact_keeps_issues(mutated.write(tmp_path / "in.zip"), tmp_path)


# --- placeholders and the CLI ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp"])
@pytest.mark.parametrize(
    ("width", "height", "size"), [(1, 1, 4000), (37, 19, 900), (640, 480, 80000)]
)
def test_image_placeholder_is_a_valid_image_of_the_same_size(
    fmt: str, width: int, height: int, size: int
) -> None:
    made = placeholder(size, (fmt, width, height))
    data = b"".join(made.blocks)
    assert len(data) == made.size == size
    assert image_dimensions(data) == (fmt, width, height)
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes the pixels, not only the header
        assert image.size == (width, height)
        assert image.format == {"jpeg": "JPEG"}.get(fmt, fmt.upper())


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp"])
@pytest.mark.parametrize(("width", "height", "size"), [(640, 480, 103), (65535, 65535, 2000)])
def test_an_image_too_large_for_its_file_gets_a_header_only_placeholder(
    fmt: str, width: int, height: int, size: int
) -> None:
    """A 103-byte JPEG of 640x480, a hostile 2,000-byte PNG header claiming 65535x65535: no
    blank image of those dimensions fits (or is worth compressing), a header saying them does
    — of the same size, without pixels (none are compressed or held in memory)."""
    made = placeholder(size, (fmt, width, height))
    data = b"".join(made.blocks)
    assert len(data) == made.size == size
    assert image_dimensions(data) == (fmt, width, height)
    # (A GIF's blank image is one 1x1 frame, 36 bytes, and a blank WebP of 640x480 is
    # smaller still: those fit.)
    if fmt in ("png", "jpeg"):
        assert {"png": b"IDAT", "jpeg": b"\xff\xda"}[fmt] not in data


def test_image_placeholder_larger_than_a_tiny_original_says_so() -> None:
    made = placeholder(10, ("png", 13, 7))
    assert made.size > 10
    assert len(b"".join(made.blocks)) == made.size


def test_cli_json_is_the_library_result(tmp_path: Path) -> None:
    source = SAMPLES / "broken.zip"
    cli_out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        cli, ["redact", str(source), "-o", str(cli_out), "--key", "k", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    library = redact_archive(source, tmp_path / "lib.zip", key=b"k").to_dict()
    for doc in (document, library):
        for name in ("output", "manifest"):
            doc.pop(name)
        doc["archive"].pop("file")
    assert document == library


@pytest.fixture(scope="module")
def generated_recipe(tmp_path_factory: pytest.TempPathFactory) -> ArchiveRecipe:
    """A small generated export with every line type (roles, schemes, bots, emoji, profile
    images, DMs and GMs), as a recipe the mutations work on."""
    path = tmp_path_factory.mktemp("recipe") / "gen.zip"
    generate_export(
        path, seed=3, teams=1, channels_per_team=2, users=5, posts=12, dm_channels=2,
        gm_channels=1, direct_posts=4, attachments=3, emojis=1, bots=1,
        roles_and_schemes=True, profile_images=True,
    )  # fmt: skip
    with zipfile.ZipFile(path) as zf:
        lines = tuple(zf.read("import.jsonl").split(b"\n")[:-1])
        files = {n: zf.read(n) for n in zf.namelist() if n != "import.jsonl"}
    return ArchiveRecipe(lines, files)


@slow_property(0.15)
@given(data=st.data())
def test_injected_defects_in_a_generated_export_keep_their_codes_and_lines(
    data: st.DataObject, generated_recipe: ArchiveRecipe, tmp_path: Path
) -> None:
    mutated = data.draw(archive_mutations(generated_recipe))
    if mutated.zip:
        return  # a damaged zip: redact writes a sound one (documented)
    assert_redact_keeps_issues(mutated.write(tmp_path / "in.zip"), tmp_path)


# --- lines rewritten token by token ----------------------------------------------------------


def _token_path_lines() -> tuple[list[Any], dict[str, bytes]]:
    """An archive whose posts with attachments all take the token path, one for each reason."""
    post = orjson.dumps(
        synth.post("northwind", "logistics", "margaret", "see file", 1700000000000,
                   attachments=["files/repeated.txt"])
    )  # fmt: skip

    def attached(name: str) -> bytes:
        return post.replace(b"repeated.txt", name.encode())

    deep = b"[" * 300 + b"1" + b"]" * 300
    lines: list[Any] = [
        synth.team("northwind", display_name="Northwind"),
        synth.channel("northwind", "logistics"),
        synth.user("margaret", {"northwind": ["logistics"]}),
        attached("repeated.txt").replace(b'{"type":"post"', b'{"type":"post","TYPE":"post"'),
        attached("deep.txt").replace(b'"message"', b'"props":{"x":' + deep + b'},"message"'),
        attached("big.txt").replace(b'"message"', b'"props":{"n":123456789012345678901234.5,'
                                    b'"m":123456789012345678901234},"message"'),
        attached("broken.txt")[:-1],  # its last brace cut
    ]  # fmt: skip
    files = {f"data/files/{n}.txt": b"secret file bytes " * 4 for n in ("repeated", "deep", "big")}
    files["data/files/broken.txt"] = b"secret file bytes " * 4
    return lines, files


def test_no_attachments_on_lines_rewritten_token_by_token(tmp_path: Path) -> None:
    """On lines that are JSON the token path takes attachment lists out; on a line that is not,
    the reference keeps its file (as a placeholder): validate says the same on IN and OUT (no
    attachment-missing appears); the summary names why each line took the token path."""
    lines, files = _token_path_lines()
    source = make_archive(tmp_path / "in.zip", lines, files)
    out = tmp_path / "out.zip"
    result = redact_archive(source, out, key=KEY, attachments="drop-references")
    assert issue_keys(out) == issue_keys(source)
    assert (result.stats.references_dropped, result.stats.references_kept) == (3, 1)
    body = jsonl_of(out)
    assert [b'"attachments"' in line for line in body[4:8]] == [False, False, False, True]
    with zipfile.ZipFile(out) as zf:
        assert len([n for n in zf.namelist() if n.startswith("data/")]) == 1  # broken.txt's
    assert result.stats.token_reasons == {
        "a key repeated in an object": 1,
        "nested deeper than 200 levels": 1,
        "an integer past 64 bits": 1,
        "invalid JSON": 1,
    }
    summary = render_redact(result)
    assert "1 a key repeated in an object" in summary
    assert "not valid JSON" not in summary
    why = result.to_dict()["lines_rewritten_token_by_token_why"]
    assert why["invalid JSON"] == 1


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"user","user":{"username":"a"},"us\\u0065r":{"email":"b"}}',
        b'{"type":"user","user":{"username":"a"},"u\xc5\xbfer":{"email":"b"}}',  # long s
        b'{"type":"user","user":{"username":"a","\xe2\x84\xaaEY":1,"key":2}}',  # Kelvin sign
    ],
)
def test_keys_repeated_as_go_folds_them_take_the_token_path(line: bytes) -> None:
    assert _repeats_a_key(line)
    assert not _repeats_a_key(b'{"type":"user","user":{"username":"a"},"users":{}}')


def test_a_key_repeated_through_an_escape_keeps_both_objects(tmp_path: Path) -> None:
    # Go merges the two "user" objects (one spelled with an escape): both must stay.
    line = b'{"type":"user","user":{"username":"secretuser"},"us\\u0065r":{"email":"a@b.co"}}'
    body = redacted_jsonl([line], tmp_path)
    assert b'"us\\u0065r":{"email":"' in body


# --- property: zip-level defects keep their codes and lines ----------------------------------

# Defects of members: in their place, their name, their method, their flags and mode, their
# data (a CRC-32 mismatch, a compression ratio over the zip-bomb limit).
ZIP_DEFECTS = (
    *("missing", "outside-data", "duplicate", "deflate64", "nfd", "encrypted", "symlink"),
    *("bzip2", "crc", "ratio"),
)
# Codes redact removes on purpose (README, "redact"): a member name in NFD becomes the token of
# its NFC spelling.
DOCUMENTED_GONE = frozenset({"member-nfd-name"})
ZIP_RECIPE = ArchiveRecipe.of(
    [
        synth.team("northwind", display_name="Northwind"),
        synth.channel("northwind", "logistics", display_name="Logistics"),
        synth.user("margaret", {"northwind": ["logistics"]}),
        synth.post(
            "northwind",
            "logistics",
            "margaret",
            "see the files",
            1700000000000,
            attachments=["manifests/order.png", "manifests/café.txt", "notes/q3.txt"],
        ),
    ],
    {
        "data/manifests/order.png": synth.png_bytes(40, 30),
        "data/manifests/café.txt": b"confidential terms " * 8,
        "data/notes/q3.txt": b"quarterly figures " * 8,
    },
)
Defective = tuple[synth.ZipMember, MemberTraits]
# What each defect of ZIP_DEFECTS sets on its member's zip entry.
_TRAITS = {
    "deflate64": MemberTraits(method=9),
    "bzip2": MemberTraits(method=12),
    "encrypted": MemberTraits(flags=0x1),
    "symlink": MemberTraits(unix_mode=0o120777),
    "crc": MemberTraits(wrong_crc=True),
}
RATIO_DATA = bytes(2 << 20)  # deflated 1,028 times smaller: over the limit of 1,000


def write_defective(path: Path, members: list[Defective]) -> Path:
    """`synth.write_zip`, each member with its zip-level traits."""
    with path.open("wb") as fp:
        writer = ZipWriter(fp)
        for member, traits in members:
            method: Any = member.method
            with writer.open(member.name, method, deflate=GO_DEFLATE, traits=traits) as out:
                out.write(member.data)
        writer.close()
    return path


def defective_members(
    lines: list[bytes], files: Mapping[str, bytes], defects: dict[str, str]
) -> list[Defective]:
    """The JSONL of ``lines`` and ``files``, each with its defect of ``defects`` (by name)."""
    jsonl = b"".join(x + b"\n" for x in lines)
    members: list[Defective] = [(synth.ZipMember("import.jsonl", jsonl, "deflate"), PLAIN)]
    for name, data in files.items():
        defect = defects.get(name)
        if defect == "missing":
            continue
        if defect == "outside-data":
            name = name.removeprefix("data/")
        elif defect == "nfd":
            name = unicodedata.normalize("NFD", name)
        method = "deflate" if defect in ("ratio", "crc") else "stored"
        content = RATIO_DATA if defect == "ratio" else data
        member = (synth.ZipMember(name, content, method), _TRAITS.get(defect or "", PLAIN))
        members += [member] * (2 if defect == "duplicate" else 1)
    return members


@st.composite
def zip_defects(draw: st.DrawFn, recipe: ArchiveRecipe) -> list[Defective]:
    """The members of ``recipe`` (its lines perhaps mutated too) with defects on some files
    (`ZIP_DEFECTS`); perhaps an extra file."""
    lines = list(recipe.lines)
    if draw(st.booleans()):
        lines = apply_record_mutations(lines, draw(record_mutations(lines, 2)))
    defects = draw(
        st.dictionaries(st.sampled_from(sorted(recipe.files)), st.sampled_from(ZIP_DEFECTS),
                        min_size=1, max_size=3)
    )  # fmt: skip
    members = defective_members(lines, recipe.files, defects)
    if draw(st.booleans()):
        members.append((synth.ZipMember("data/extra/unreferenced.txt", b"left over " * 5), PLAIN))
    return members


@slow_property(0.25)
@given(members=zip_defects(ZIP_RECIPE))
def test_zip_defects_keep_their_codes_and_lines(members: list[Defective], tmp_path: Path) -> None:
    source = write_defective(tmp_path / "in.zip", members)
    assert_redact_keeps_issues(source, tmp_path, DOCUMENTED_GONE, verify=True)


@slow_property(0.1)
@given(data=st.data())
def test_zip_defects_in_a_generated_export_keep_their_codes_and_lines(
    data: st.DataObject, generated_recipe: ArchiveRecipe, tmp_path: Path
) -> None:
    source = write_defective(tmp_path / "in.zip", data.draw(zip_defects(generated_recipe)))
    assert_redact_keeps_issues(source, tmp_path, DOCUMENTED_GONE, verify=True)


@pytest.mark.parametrize("defect", [d for d in ZIP_DEFECTS if d not in ("missing", "duplicate")])
def test_each_zip_defect_is_reproduced_or_listed(defect: str, tmp_path: Path) -> None:
    """Differential, one defect at a time on one referenced file: validate (reading every file
    in full) reports the same codes before and after, but for the one listed as not
    reproduced; the redacted member keeps the zip-level trait and leaks nothing."""
    names = sorted(ZIP_RECIPE.files)
    members = defective_members(list(ZIP_RECIPE.lines), ZIP_RECIPE.files, {names[0]: defect})
    source = write_defective(tmp_path / "in.zip", members)
    before = issue_keys(source, verify=True)
    code = {
        "outside-data": "attachment-outside-data",
        "deflate64": "member-unsupported-compression",
        "bzip2": "member-unsupported-compression",
        "nfd": "member-nfd-name",
        "encrypted": "member-encrypted",
        "symlink": "member-symlink",
        "crc": "member-crc-mismatch",
        "ratio": "member-ratio",
    }[defect]
    assert code in {k[0] for k in before}
    out = tmp_path / "out.zip"
    result = redact_archive(source, out, key=KEY)
    gone = DOCUMENTED_GONE & {code}
    assert issue_keys(out, verify=True) == Counter(
        {k: n for k, n in before.items() if k[0] not in gone}
    )
    assert set(result.stats.not_reproduced) == gone  # and the summary says what is not
    assert set(result.stats.reproduced) == {code} & REPRODUCED_DAMAGE
    if defect != "ratio":  # (a stream's reader does not apply the ratio limit to this file)
        assert streamed_codes(out, tmp_path) == {k[0] for k in issue_keys(out, verify=True)}
    secret = ZIP_RECIPE.files[names[0]]
    assert secret not in out.read_bytes()
    assert b"confidential" not in out.read_bytes()


def streamed_codes(path: Path, tmp_path: Path) -> set[str]:
    """The codes validate (reading every file) reports on ``path`` read as a stream (a FIFO):
    members are found front to back, so each one's end must be known from its own bytes."""
    fifo = tmp_path / "stream.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as out:
            out.write(path.read_bytes())

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        report = validate(fifo, verify_files=True)
    finally:
        feeder.join(timeout=10)
    return {i.code for i in report.issues}


def test_documented_zip_differences_are_the_only_ones(tmp_path: Path) -> None:
    """The code redact removes on purpose is there before and gone after."""
    names = sorted(ZIP_RECIPE.files)
    members = [synth.ZipMember("import.jsonl", b"".join(x + b"\n" for x in ZIP_RECIPE.lines))]
    members += [
        synth.ZipMember(unicodedata.normalize("NFD", names[0]), ZIP_RECIPE.files[names[0]]),
        synth.ZipMember(names[1], ZIP_RECIPE.files[names[1]]),
        synth.ZipMember(names[2], ZIP_RECIPE.files[names[2]]),
    ]
    source = synth.write_zip(tmp_path / "in.zip", members)
    assert {k[0] for k in issue_keys(source)} == DOCUMENTED_GONE
    result = redact_archive(source, tmp_path / "out.zip", key=KEY)
    assert not issue_keys(tmp_path / "out.zip")
    assert set(result.stats.not_reproduced) == DOCUMENTED_GONE  # and the summary says so


def test_props_keys_naming_someone_are_mapped(tmp_path: Path) -> None:
    """Keys of props are not structure when they name someone: a channel mention's key is the
    channel's pseudonym, a key that is a user's name the user's, any other unknown key free
    text of the same size; the keys the server reads by name stay."""
    props = {
        "channel_mentions": {"secretchan": {"display_name": "Secret Chan", "team_name": "t"}},
        "secretuser": "x",
        "Geheimwort ☃": {"nested_secretkey": [{"innersecret": 1}]},
        "from_webhook": "true",
        "attachments": [{"text": "hi", "fields": [{"title": "a", "value": "b", "short": True}]}],
    }
    lines: list[Any] = [
        synth.team("t", display_name="T"),
        synth.channel("t", "secretchan"),
        synth.user("secretuser", {"t": ["secretchan"]}),
        synth.post("t", "secretchan", "secretuser", "see ~secretchan", 1, props=props),
        b'{"type":"post","post":{"team":"t","channel":"secretchan","user":"secretuser",'
        b'"message":"x","create_at":2,"props":{"secretuser":1,"channel_mentions":'
        b'{"secretchan":{}},"tokenkeysecret":2},"props":{}}}',  # a repeated key: token path
    ]
    body = redacted_jsonl(lines, tmp_path)
    for secret in (b"secret", b"Geheimwort", b"inner"):
        assert secret not in body, secret
    got = [orjson.loads(line) for line in body.split(b"\n") if line]
    by_type = {r["type"]: r[r["type"]] for r in got}
    channel, user = by_type["channel"]["name"], by_type["user"]["username"]
    mapped = next(r["post"]["props"] for r in got if r["type"] == "post")
    assert list(mapped["channel_mentions"]) == [channel]
    assert len(mapped[user]) == 1
    assert [k for k in mapped if k in props] == ["channel_mentions", "from_webhook", "attachments"]
    assert len(orjson.dumps(mapped)) == len(orjson.dumps(props))
    assert f'"{user}":1,"channel_mentions":{{"{channel}":{{}}}}'.encode() in body


def test_mentions_links_props_and_mapping_follow_the_names(tmp_path: Path) -> None:
    """@mentions of a non-ASCII username, ~channel links in a channel's header and purpose, a
    channel mention's team_name: each the name's pseudonym; from_webhook's "true" kept; two
    unknown props keys of one object never one; the mapping in the names' own case."""
    props = {
        "from_webhook": "true",
        "from_bot": "yes please",
        "channel_mentions": {"logistik": {"display_name": "Logistik", "team_name": "Nordwind"}},
        **dict.fromkeys("abcdefghijklmnopqrst", 1),  # 20 keys of 26 one-letter ones
    }
    lines: list[Any] = [
        synth.team("nordwind", display_name="N"),
        synth.channel("nordwind", "logistik", header="see ~logistik", purpose="~logistik!"),
        synth.user("jürgen", {"nordwind": ["logistik"]}, email="Juergen@nordwind.example"),
        synth.post("nordwind", "logistik", "Jürgen", "hallo @jürgen, @Jürgen.", 1, props=props),
    ]
    source = make_archive(tmp_path / "in.zip", lines)
    mapping = tmp_path / "map.json"
    out = redact(source, tmp_path, mapping=mapping)
    body = b"\n".join(jsonl_of(out))
    for secret in ("jürgen", "Jürgen", "logistik", "Nordwind", "nordwind", "please"):
        assert secret.encode() not in body, secret
    got = records(out)
    by_type = {r["type"]: r[r["type"]] for r in got}
    user, team = by_type["user"]["username"], by_type["team"]["name"]
    channel = by_type["channel"]["name"]
    post = by_type["post"]
    assert post["message"][5:] == f" @{user}, @{user[0].upper()}{user[1:]}."
    assert by_type["channel"]["header"][3:] == f" ~{channel}"
    assert by_type["channel"]["purpose"] == f"~{channel}!"
    mention = post["props"]["channel_mentions"][channel]
    assert mention["team_name"] == team.capitalize()
    assert post["props"]["from_webhook"] == "true"
    assert len(post["props"]["from_bot"]) == len("yes please")
    assert len(post["props"]) == len(props)  # no two keys became one
    # ... also on a line rewritten token by token (a repeated key)
    letters = ",".join(f'"{c}":1' for c in "abcdefghijklmnopqrst")
    token_line = b'{"type":"post","post":{"props":{%s},"props":{}}}' % letters.encode()
    pairs: list[list[tuple[str, Any]]] = []
    (tmp_path / "token").mkdir()
    body = redacted_jsonl([token_line], tmp_path / "token")
    json.loads(body.split(b"\n")[-2], object_pairs_hook=pairs.append)
    assert len({k for k, _ in pairs[0]}) == 20
    reverse = json.loads(mapping.read_text())["names"]
    assert reverse["user"][user] == "jürgen"
    assert reverse["user"][post["user"]] == "Jürgen"
    assert reverse["email"][by_type["user"]["email"]] == "Juergen@nordwind.example"
    assert reverse["team"][mention["team_name"]] == "Nordwind"


def test_props_keys_kept_in_c_are_those_kept_in_python() -> None:
    """write/_redact.c takes its props keys from Python (`NATIVE_PROPS_KEYS`): a post whose props
    hold a kept key is taken in C, one holding another key (a username's, channel_mentions, an
    unknown one) is not."""
    run = RedactRun(Archive.__new__(Archive), Pseudonyms(KEY))
    if run._native is None:
        pytest.skip("archivekit.write._redact is not loaded")
    for key in [*sorted(PROPS_KEYS), "other", "Type", "typé"]:
        line = b'{"type":"post","post":{"props":{"%s":"v"}}}' % key.encode()
        in_c = key in PROPS_KEYS and key not in PROPS_USER_KEYS and key != "channel_mentions"
        assert (run._native.line(line) is not None) == in_c, key
        assert (key in NATIVE_PROPS_KEYS) == in_c, key
    # Bytes that are no UTF-8 name no kept key.
    assert run._native.line(b'{"type":"post","post":{"props":{"\xff":"v"}}}') is None


def test_text_outside_strings_of_a_line_that_is_not_json_is_mapped(tmp_path: Path) -> None:
    """Words in any script and numbers outside strings of a broken line are text: only the
    numbers of the format's integer fields (timestamps, counters) are kept; a leading zero
    stays a zero (a JSON reader's verdict on the line stays)."""
    lines: list[Any] = [
        synth.team("t", display_name="T"),
        '{"type":"post","post":{"create_at":1700000000123, 山田太郎さんへ Jürgen Ωμέγα'
        " 555-867-5309 x4711 -0812 07}".encode(),
    ]
    body = redacted_jsonl(lines, tmp_path)
    line = body.split(b"\n")[-1] if body.split(b"\n")[-1] else body.split(b"\n")[-2]
    for secret in ("山田", "太郎", "Jürgen", "Ωμέγα", "555", "867", "5309", "4711", "812"):
        assert secret.encode() not in body, secret
    assert b'"create_at":1700000000123, ' in line
    assert "さんへ".encode() not in line
    text = line.decode()
    assert re.search(r" \w{7} \w{6} \w{5} \d{3}-\d{3}-\d{4} \w\d{4} -0\d{3} 0\d}$", text), text
    assert len(line) == len(lines[1])


def test_notify_props_and_custom_status_keep_only_known_values(tmp_path: Path) -> None:
    """Notify props (user, channel membership, DM participant) and custom status: a value the
    server knows for its key stays; any other string is free text (an auto-responder message,
    a status note, a misspelt level — still refused, at the same line)."""
    notify = {"desktop": "all", "auto_responder_message": "secretaway", "comments": "anySecret"}
    channel_notify = {"desktop": "mention", "mark_unread": "secretlevel", "x": "secretvalue"}
    member = {"name": "c", "roles": "channel_user", "notify_props": channel_notify}
    user = {
        "username": "u", "email": "u@example.com", "notify_props": notify,
        "custom_status": {"text": "t", "note": "secretnote", "duration": "today",
                          "expires_at": "2030-01-01T00:00:00Z"},
        "teams": [{"name": "t", "roles": "team_user", "channels": [member]}],
    }  # fmt: skip
    participants = [{"username": "u", "notify_props": {"desktop": "secretdesk"}}]
    lines: list[Any] = [
        synth.team("t", display_name="T"),
        synth.channel("t", "c"),
        orjson.dumps({"type": "user", "user": user}),
        synth.user("v", ["t"]),
        orjson.dumps({"type": "direct_channel", "direct_channel": {"participants": participants}}),
    ]
    body = redacted_jsonl(lines, tmp_path)
    assert b"secret" not in body.lower()
    got = {r["type"]: r[r["type"]] for r in map(orjson.loads, filter(None, body.split(b"\n")))}
    mapped = next(orjson.loads(x)["user"] for x in body.split(b"\n") if b'"custom_status"' in x)
    assert mapped["notify_props"]["desktop"] == "all"
    assert mapped["custom_status"]["duration"] == "today"
    assert mapped["custom_status"]["expires_at"] == "2030-01-01T00:00:00Z"
    assert mapped["teams"][0]["channels"][0]["notify_props"]["desktop"] == "mention"
    assert len(got["direct_channel"]["participants"][0]["notify_props"]["desktop"]) == 10


def test_one_character_channels_keep_their_codes_and_lose_their_names(tmp_path: Path) -> None:
    """36 one-character channels fill every name of their shape: each still gets a pseudonym
    of its own (no new duplicate, no original kept), so validate says what it said."""
    names = [*"0123456789", *"abcdefghijklmnopqrstuvwxyz"]
    lines: list[Any] = [synth.team("t", display_name="T")]
    lines += [synth.channel("t", c) for c in names]
    lines.append(synth.user("u", {"t": names}))
    lines += [synth.post("t", c, "u", "m", 1 + i) for i, c in enumerate(names)]
    body = redacted_jsonl(lines, tmp_path)
    got = list(map(orjson.loads, filter(None, body.split(b"\n"))))
    mapped = [r["channel"]["name"] for r in got if r["type"] == "channel"]
    assert sorted(mapped) == names
    assert all(m != c for m, c in zip(mapped, names, strict=True))
    assert [r["post"]["channel"] for r in got if r["type"] == "post"] == mapped


def test_zip_problems_a_placeholder_carries_are_in_the_manifest(tmp_path: Path) -> None:
    """The summary and the manifest say which damaged data the placeholders carry over and
    which problems they do not."""
    names = sorted(ZIP_RECIPE.files)
    jsonl = b"".join(x + b"\n" for x in ZIP_RECIPE.lines)
    source = write_defective(
        tmp_path / "in.zip",
        [
            (synth.ZipMember("import.jsonl", jsonl, "deflate"), PLAIN),
            (synth.ZipMember(unicodedata.normalize("NFD", names[0]), b"x"), PLAIN),
            (synth.ZipMember(names[1], ZIP_RECIPE.files[names[1]], "deflate"), _TRAITS["crc"]),
            (synth.ZipMember(names[2], ZIP_RECIPE.files[names[2]]), _TRAITS["encrypted"]),
        ],
    )
    result = redact_archive(source, tmp_path / "out.zip", key=KEY)
    document = result.to_dict()
    assert document["problems_not_reproduced"] == {"member-nfd-name": 1}
    assert document["damaged_data_reproduced"] == {"member-crc-mismatch": 1}
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert '"member-crc-mismatch": 1' in json.dumps(manifest)
    text = render_redact(result)
    assert "problems not reproduced: member-nfd-name (1)" in text
    assert "damaged data reproduced: member-crc-mismatch (1)" in text


def test_usernames_in_system_post_props_are_the_users_pseudonyms(tmp_path: Path) -> None:
    props = {"addedUsername": "secretuser", "username": "Secretuser", "removedUsername": "nobody"}
    lines: list[Any] = [
        synth.team("t", display_name="T"),
        synth.channel("t", "c"),
        synth.user("secretuser", {"t": ["c"]}),
        synth.post("t", "c", "secretuser", "added", 1, props=props),
    ]
    body = redacted_jsonl(lines, tmp_path)
    assert b"secret" not in body.lower()
    got = list(map(orjson.loads, filter(None, body.split(b"\n"))))
    user = next(r["user"]["username"] for r in got if r["type"] == "user")
    mapped = next(r["post"]["props"] for r in got if r["type"] == "post")
    assert mapped["addedUsername"] == user
    assert mapped["username"] == user.capitalize()
    assert len(mapped["removedUsername"]) == len("nobody")
