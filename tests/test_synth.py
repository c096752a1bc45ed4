"""archivekit.testing.synth: the zip writer, the test factory, image builders, the export
generator, and the committed samples in sample_exports/."""

from __future__ import annotations

import importlib.util
import re
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import zipfile_deflate64  # noqa: F401 - registers Deflate64 (method 9) with zipfile

from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.gosem.images import image_dimensions
from archivekit.testing import synth
from archivekit.testing.synth import (
    OMIT,
    ZipMember,
    channel,
    direct_channel,
    make_archive,
    post,
    team,
    user,
)
from archivekit.write.placeholders import blank_image
from archivekit.write.select import EXPORT_ORDER

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_exports"


def jsonl_lines(path: Path, name: str = "import.jsonl") -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).split(b"\n")


# --- make_archive / write_zip -----------------------------------------------------------------


def test_make_archive_lays_out_members_like_the_exporter(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "a.zip",
        [team("eng"), channel("eng", "town-square"), user("alice", teams=["eng"])],
        {"data/x/a.png": synth.png_bytes(2, 2), "data/x/b.txt": b"hello"},
    )
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
    assert [i.filename for i in infos] == ["import.jsonl", "data/x/a.png", "data/x/b.txt"]
    assert [i.compress_type for i in infos] == [zipfile.ZIP_DEFLATED, 0, 0]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert all(i.flag_bits & 0x08 for i in infos)  # streamed with data descriptors, like Go


def test_make_archive_prepends_the_version_line_and_writes_compact_json(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.zip", [team("eng")])
    assert jsonl_lines(archive) == [
        b'{"type":"version","version":1}',
        b'{"type":"team","team":{"name":"eng","display_name":"Eng","type":"O",'
        b'"description":"","allow_open_invite":false}}',
        b"",
    ]


def test_make_archive_keeps_an_existing_version_line(tmp_path: Path) -> None:
    lines: list[synth.Line] = ['{"type":"version","version":2}', team("eng")]
    archive = make_archive(tmp_path / "a.zip", lines)
    assert jsonl_lines(archive)[0] == b'{"type":"version","version":2}'
    assert len(jsonl_lines(archive)) == 3


def test_make_archive_writes_broken_lines_verbatim(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "a.zip", ["", b'{"type":"post"', "  \r", "é"], version_line=False
    )
    assert jsonl_lines(archive) == [b"", b'{"type":"post"', b"  \r", "é".encode(), b""]


def test_make_archive_honours_jsonl_name_and_methods(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "a.zip",
        [team("eng")],
        {"data/a.txt": b"abc" * 100},
        jsonl_name="nested/export.jsonl",
        method="stored",
        attachment_method="deflate",
    )
    with zipfile.ZipFile(archive) as zf:
        assert [(i.filename, i.compress_type) for i in zf.infolist()] == [
            ("nested/export.jsonl", zipfile.ZIP_STORED),
            ("data/a.txt", zipfile.ZIP_DEFLATED),
        ]
        assert zf.read("data/a.txt") == b"abc" * 100


@pytest.mark.parametrize("where", ["jsonl", "attachment"])
def test_deflate64_members_decompress_to_the_written_bytes(tmp_path: Path, where: str) -> None:
    payload = b"".join(b"line %d of a long file\n" % i for i in range(20_000))
    archive = make_archive(
        tmp_path / "a.zip",
        [team("eng")],
        {"data/big.txt": payload},
        method="deflate64" if where == "jsonl" else "deflate",
        attachment_method="deflate64" if where == "attachment" else "stored",
    )
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("import.jsonl" if where == "jsonl" else "data/big.txt")
        assert info.compress_type == 9
        assert info.compress_size < info.file_size
        assert zf.testzip() is None
        assert zf.read("data/big.txt") == payload


def test_write_zip_keeps_odd_and_duplicate_names_in_order(tmp_path: Path) -> None:
    members = [
        ZipMember("import.jsonl", b"{}\n", "deflate"),
        ZipMember("data/a.txt", b"first"),
        ZipMember("data/a.txt", b"second"),
        ZipMember("./data/b.txt", b"b"),
        ZipMember("data\\c.txt", b"c"),
    ]
    archive = synth.write_zip(tmp_path / "a.zip", members)
    with zipfile.ZipFile(archive) as zf:
        assert [i.filename for i in zf.infolist()] == [m.name for m in members]
        assert [zf.open(i).read() for i in zf.infolist()][1:3] == [b"first", b"second"]


def test_non_ascii_member_names_are_flagged_utf8(tmp_path: Path) -> None:
    archive = synth.write_zip(tmp_path / "a.zip", [ZipMember("data/résumé.txt", b"x")])
    with zipfile.ZipFile(archive) as zf:
        (info,) = zf.infolist()
    assert info.filename == "data/résumé.txt"
    assert info.flag_bits & 0x800


def test_zip64_records_are_written_when_sizes_reach_the_limit(tmp_path: Path) -> None:
    # Lowering the limit exercises the zip64 extra fields, the 64-bit data descriptors and the
    # zip64 end records without writing 4 GiB.
    members = [ZipMember("import.jsonl", b"x" * 1000, "deflate"), ZipMember("data/a", b"y" * 40)]
    archive = synth.write_zip(tmp_path / "a.zip", members, zip64_limit=16)
    raw = archive.read_bytes()
    assert b"PK\x06\x06" in raw  # zip64 end of central directory record
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("import.jsonl") == b"x" * 1000
        assert zf.read("data/a") == b"y" * 40
        assert zf.testzip() is None


# --- record builders --------------------------------------------------------------------------


def test_team_members_are_put_in_town_square() -> None:
    teams = user("alice", teams={"eng": ["dev", "town-square"]})["user"]["teams"]
    assert [c["name"] for c in teams[0]["channels"]] == ["town-square", "dev"]
    assert teams[0]["roles"] == "team_user"


def test_guests_get_guest_roles_and_no_automatic_town_square() -> None:
    line = user("gus", teams={"eng": ["dev"]}, roles="system_guest")["user"]
    assert line["teams"] == [
        {
            "name": "eng",
            "roles": "team_guest",
            "channels": [synth._channel_membership("dev", "channel_guest")],
        }
    ]


def test_omit_drops_a_key_and_keywords_override_defaults() -> None:
    payload = team("eng", type=OMIT, display_name="Engineering")["team"]
    assert "type" not in payload
    assert payload["display_name"] == "Engineering"


def test_attachment_paths_may_be_given_as_strings() -> None:
    line = post("eng", "town-square", "alice", "hi", 1, attachments=["a/b.png", {"path": "c"}])
    assert line["post"]["attachments"] == [{"path": "a/b.png"}, {"path": "c"}]


def test_direct_channel_writes_members_or_v10_participants() -> None:
    assert direct_channel(["a", "b"])["direct_channel"]["members"] == ["a", "b"]
    participants = direct_channel(["a", "b"], participants=True)["direct_channel"]["participants"]
    assert [p["username"] for p in participants] == ["a", "b"]


def test_scheme_roles_match_the_scope() -> None:
    team_scheme = synth.scheme("s1")["scheme"]
    channel_scheme = synth.scheme("s2", "channel")["scheme"]
    assert "default_team_admin_role" in team_scheme
    assert "default_team_admin_role" not in channel_scheme
    assert "default_channel_user_role" in channel_scheme


# --- images -----------------------------------------------------------------------------------


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        yield kind, body
        pos += 12 + length


@pytest.mark.parametrize(("width", "height"), [(1, 1), (9, 3), (7680, 4320), (8000, 5000)])
def test_png_bytes_has_the_requested_dimensions_and_complete_pixel_data(
    width: int, height: int
) -> None:
    chunks = dict(png_chunks(synth.png_bytes(width, height)))
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (width, height)
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + (width + 7) // 8)


def test_oversized_png_stays_tiny() -> None:
    assert len(synth.png_bytes(8000, 5000)) < 10_000


def test_jpeg_header_carries_the_dimensions_in_sof0() -> None:
    data = synth.jpeg_header_bytes(640, 480)
    sof = data.index(b"\xff\xc0")
    assert data[:2] == b"\xff\xd8"
    assert data[-2:] == b"\xff\xd9"
    assert struct.unpack(">HH", data[sof + 5 : sof + 9]) == (480, 640)


def test_gif_logical_screen_has_the_dimensions() -> None:
    data = synth.gif_bytes(300, 200)
    assert data[:6] == b"GIF89a"
    assert data[-1:] == b";"
    assert struct.unpack("<HH", data[6:10]) == (300, 200)


def test_webp_vp8x_canvas_has_the_dimensions() -> None:
    data = synth.webp_bytes(9000, 5000)
    assert data[:4] == b"RIFF"
    assert data[8:16] == b"WEBPVP8X"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert int.from_bytes(data[24:27], "little") + 1 == 9000
    assert int.from_bytes(data[27:30], "little") + 1 == 5000


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif", "webp"])
@pytest.mark.parametrize("header_only", [False, True])
def test_blank_images_of_both_kinds_read_as_their_format_and_dimensions(
    fmt: str, header_only: bool
) -> None:
    data = blank_image(fmt, 300, 200, header_only=header_only)
    assert image_dimensions(data) == (fmt, 300, 200)


def test_a_header_only_image_holds_no_pixels() -> None:
    # PNG: no IDAT chunk; GIF: no image descriptor (0x2c) before the trailer.
    assert b"IDAT" not in blank_image("png", 64, 64, header_only=True)
    assert b"IDAT" in blank_image("png", 64, 64)
    assert b"\x2c" not in blank_image("gif", 64, 64, header_only=True)
    assert len(blank_image("jpeg", 640, 480, header_only=True)) < len(blank_image("jpeg", 640, 480))


def test_synth_image_builders_are_the_library_blank_images() -> None:
    """One image builder (`write.placeholders.blank_image`): synth's are its images."""
    assert synth.png_bytes(30, 20) == blank_image("png", 30, 20)
    assert synth.gif_bytes(30, 20) == blank_image("gif", 30, 20)
    assert synth.jpeg_header_bytes(30, 20) == blank_image("jpeg", 30, 20, header_only=True)
    assert synth.webp_bytes(30, 20) == blank_image("webp", 30, 20, header_only=True)


# --- generate_export --------------------------------------------------------------------------


def test_generator_is_deterministic_per_seed(tmp_path: Path) -> None:
    kw: dict[str, Any] = {"posts": 300, "emojis": 2, "bots": 1, "roles_and_schemes": True}
    synth.generate_export(tmp_path / "a.zip", seed=3, **kw)
    synth.generate_export(tmp_path / "b.zip", seed=3, **kw)
    synth.generate_export(tmp_path / "c.zip", seed=4, **kw)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "a.zip").read_bytes() != (tmp_path / "c.zip").read_bytes()


def _peak_memory(path: Path, posts: int) -> int:
    tracemalloc.start()
    try:
        synth.generate_export(path, posts=posts, direct_posts=posts // 10, attachments=5)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_generator_streams_with_flat_memory(tmp_path: Path) -> None:
    small = _peak_memory(tmp_path / "small.zip", 2_000)
    large = _peak_memory(tmp_path / "large.zip", 20_000)
    # 18,000 more posts are ~13 MB of JSONL: holding them would dwarf this margin.
    assert large < small + 512 * 1024, (small, large)


TEAM_NAME = re.compile(r"[a-z0-9]+([a-z0-9-]+|(__)?)[a-z0-9]+")
CHANNEL_NAME = re.compile(r"[a-z0-9]+([a-z0-9_-]+|(__)?)[a-z0-9]*")
USERNAME = re.compile(r"[a-z0-9.\-_]+")
# reservedName in server/public/model/utils.go (prefix match on the lowercased name).
RESERVED_TEAM_PREFIXES = (
    *("admin", "api", "channel", "claim", "error", "files", "help", "landing", "login"),
    *("mfa", "oauth", "plug", "plugins", "post", "signup", "boards", "playbooks"),
)


class ExportChecker:
    """The rules of the reference spec that a generated export could plausibly break."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.teams: dict[str, int] = {}
        self.channels: set[tuple[str, str]] = set()
        self.users: set[str] = set()

    def attachments(self, body: dict[str, Any]) -> None:
        files = body.get("attachments", [])
        assert len(files) <= 10
        for f in files:
            assert "data/" + f["path"] in self.names, f["path"]

    def reactions(self, body: dict[str, Any]) -> None:
        for r in body.get("reactions", []):
            assert r["create_at"] >= body["create_at"]
            assert r["user"] in self.users

    def message(self, body: dict[str, Any]) -> None:
        assert 0 < len(body["message"]) <= 16383
        assert body["create_at"] > 0

    def line(self, line: dict[str, Any]) -> None:
        kind = line["type"]
        body = line[kind]
        getattr(self, kind)(body)

    def version(self, body: int) -> None:
        assert body == 1

    def scheme(self, body: dict[str, Any]) -> None:
        assert re.fullmatch(r"[a-z0-9_]{2,64}", body["name"])

    def role(self, body: dict[str, Any]) -> None:
        assert re.fullmatch(r"[a-z0-9_]{1,64}", body["name"])

    def team(self, body: dict[str, Any]) -> None:
        name = body["name"]
        assert TEAM_NAME.fullmatch(name)
        assert len(name) <= 64
        assert not name.startswith(RESERVED_TEAM_PREFIXES)
        assert 0 < len(body["display_name"]) <= 64
        assert body["type"] in "OI"
        self.teams[name] = 0

    def channel(self, body: dict[str, Any]) -> None:
        assert body["team"] in self.teams
        assert CHANNEL_NAME.fullmatch(body["name"])
        assert len(body["display_name"]) <= 64
        assert body["type"] in "OP"
        self.channels.add((body["team"], body["name"]))

    def user(self, body: dict[str, Any]) -> None:
        name = body["username"]
        assert USERNAME.fullmatch(name)
        assert name not in self.users
        assert re.fullmatch(r"[a-z0-9.]+@example\.com", body["email"])
        guest = "system_guest" in body["roles"]
        if "profile_image" in body:
            assert "data/" + body["profile_image"] in self.names
        for membership in body["teams"]:
            self.teams[membership["name"]] += 1
            assert self.teams[membership["name"]] <= 50  # MaxUsersPerTeam
            names = [c["name"] for c in membership["channels"]]
            assert guest or "town-square" in names
            assert all((membership["name"], c) in self.channels for c in names)
        self.users.add(name)

    def bot(self, body: dict[str, Any]) -> None:
        assert USERNAME.fullmatch(body["username"])
        assert body["owner"] in self.users
        if "profile_image" in body:
            assert "data/" + body["profile_image"] in self.names
        self.users.add(body["username"])

    def post(self, body: dict[str, Any]) -> None:
        assert (body["team"], body["channel"]) in self.channels
        assert body["user"] in self.users
        self.message(body)
        self.reactions(body)
        self.attachments(body)
        for r in body.get("replies", []):
            assert r["user"] in self.users
            assert r["create_at"] > body["create_at"]
            self.message(r)
            self.reactions(r)
            self.attachments(r)
        for f in body.get("thread_followers", []) + [
            {"user": u} for u in body.get("flagged_by", [])
        ]:
            assert f["user"] in self.users

    def emoji(self, body: dict[str, Any]) -> None:
        assert re.fullmatch(r"[a-zA-Z0-9+_-]{1,64}", body["name"])
        assert "data/" + body["image"] in self.names

    def direct_channel(self, body: dict[str, Any]) -> None:
        members = [p["username"] for p in body["participants"]]
        assert 2 <= len(members) <= 8
        assert set(members) <= self.users
        assert set(body.get("favorited_by", [])) <= set(members)
        assert set(body.get("shown_by", [])) <= set(members)

    def direct_post(self, body: dict[str, Any]) -> None:
        members = body["channel_members"]
        assert 2 <= len(members) <= 8
        assert set(members) <= self.users
        assert body["user"] in members
        assert set(body.get("flagged_by", [])) <= set(members)
        self.message(body)
        self.reactions(body)
        self.attachments(body)
        for r in body.get("replies", []):
            assert r["user"] in members
            assert r["create_at"] > body["create_at"]
            self.message(r)
            self.reactions(r)


def check_export(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert zf.infolist()[0].filename == "import.jsonl"
    checker = ExportChecker(names)
    kinds = []
    for line in synth.iter_lines(path):
        checker.line(line)
        if not kinds or kinds[-1] != line["type"]:
            kinds.append(line["type"])
    return kinds


def test_generated_records_are_valid_and_in_export_order(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    stats = synth.generate_export(
        archive,
        users=130,  # more than 2 teams x 50 members: the cap must hold
        posts=1500,
        attachments=25,
        emojis=3,
        bots=2,
        roles_and_schemes=True,
        profile_images=True,
    )
    kinds = check_export(archive)
    assert kinds == list(EXPORT_ORDER)
    assert stats.attachments == 25
    assert stats.reply_attachments >= 1
    assert stats.total_lines == len(jsonl_lines(archive)) - 1
    assert stats.jsonl_bytes == zipfile.ZipFile(archive).getinfo("import.jsonl").file_size


def test_generator_top_level_create_at_strictly_increases(tmp_path: Path) -> None:
    synth.generate_export(tmp_path / "a.zip", posts=400, direct_posts=100)
    stamps = [
        line[line["type"]]["create_at"]
        for line in synth.iter_lines(tmp_path / "a.zip")
        if line["type"] in POST_LINE_TYPES
    ]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


# --- committed samples ------------------------------------------------------------------------


def load_generate_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLES / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_samples_are_up_to_date(tmp_path: Path) -> None:
    generate = load_generate_script()
    stats = generate.build_all(tmp_path)
    stale = [
        name for name in stats if (tmp_path / name).read_bytes() != (SAMPLES / name).read_bytes()
    ]
    assert not stale, f"run `python sample_exports/generate.py` and commit: {stale}"
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert generate.render_readme(readme, stats["clean.zip"]) == readme


def test_samples_stay_small() -> None:
    for name in ("clean.zip", "broken.zip", "deflate64.zip", "over_limits.zip"):
        assert (SAMPLES / name).stat().st_size < 300_000, name


def test_clean_sample_is_valid_and_deflate64_sample_has_the_same_jsonl() -> None:
    assert check_export(SAMPLES / "clean.zip") == list(EXPORT_ORDER)
    assert jsonl_lines(SAMPLES / "deflate64.zip") == jsonl_lines(SAMPLES / "clean.zip")
    with zipfile.ZipFile(SAMPLES / "deflate64.zip") as zf:
        assert zf.getinfo("import.jsonl").compress_type == 9


def test_broken_sample_has_one_line_per_documented_mistake() -> None:
    generate = load_generate_script()
    lines = jsonl_lines(SAMPLES / "broken.zip")[:-1]
    assert len(lines) == len(generate.broken_lines()) == 30
    assert lines[20] == b""  # line 21: the blank line
    assert orjson.loads(lines[16])["post"]["channel"] == "releases"  # line 17 ...
    assert orjson.loads(lines[25])["channel"]["name"] == "releases"  # ... defined on line 26
