"""`redact`'s output bytes, pinned: the same key must give exactly these bytes.

The digests were taken before `redact` was made faster (issue 15); they prove that the faster
path (post lines rewritten in C, archivekit/write/_redact.c) writes the very bytes the plain
Python walk wrote, and the Python walk (ARCHIVEKIT_PURE_PYTHON) still does. A change that means
to change the output updates them on purpose (the review of redact did: lowercase letters
with capitals of another UTF-8 length are mapped among their like; emails in text; the last
review: placeholders deflated with zlib level 1, the mapping in the names' own case,
non-ASCII @mentions, from_webhook's "true" kept, props keys of one object kept apart). Line by
line, C against Python: a property test.

The crowded archive gives many short names (so pseudonyms collide and later names take later
attempts: the order names are met in matters), mentions, channel links and emoji codes in
messages, non-ASCII words, escapes the JSON re-encodes, CRLF, floats, big integers and lines
orjson cannot read — everything the walk treats differently.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archivekit.gosem.decode import POST_LINE_TYPES
from archivekit.native import native_module
from archivekit.read.source import Archive
from archivekit.testing import synth
from archivekit.testing.synth import generate_export, make_archive
from archivekit.write import core
from archivekit.write.pseudonyms import Pseudonyms
from archivekit.write.redact import RedactRun
from archivekit.writers import redact_archive

REPO = Path(__file__).resolve().parent.parent
REDACT_C = REPO / "archivekit" / "write" / "_redact.c"
NATIVE = native_module("archivekit.write._redact")
PURE_PYTHON = bool(os.environ.get("ARCHIVEKIT_PURE_PYTHON"))

SAMPLES = Path(__file__).parent.parent / "sample_exports"
FIXTURE = Path(__file__).parent / "fixtures" / "mattermost-server-tests-import_test.zip"
KEY = b"pinned-key"

_WORDS = (
    "deploy", "Alpha", "ÉTÉ", "straße", "日本語", "naïve", "x", "Q", "42", "v2", "ok", "ÀB",
    "d'Arcy", "über", "ﬁle", "İstanbul", "ΣΊΣΥΦΟΣ", "٣٤", "a_b", "CamelCase",
)  # fmt: skip


def crowded_archive(path: Path, posts: int = 1500) -> Path:
    rng = random.Random(15)
    letters = "abcdefghij"
    users = sorted({"".join(rng.choices(letters, k=rng.randint(1, 2))) for _ in range(60)})
    channels = ["town-square", "off-topic", *sorted({rng.choice(letters) * 2 for _ in range(8)})]
    lines: list[object] = [synth.team("t", display_name="T")]
    lines += [synth.channel("t", c, display_name=c.upper()) for c in channels]
    lines += [synth.user(u, {"t": channels}, nickname=u.upper()) for u in users]
    lines.append(synth.emoji("ab", "data/emoji/ab.png"))
    for i in range(posts):
        words = rng.choices(_WORDS, k=rng.randint(0, 12))
        extras = [
            "@" + rng.choice(users).upper() if rng.random() < 0.5 else "@" + rng.choice(users),
            "~" + rng.choice(channels),
            ":" + rng.choice(["ab", "smile", "b" + rng.choice(letters), "10"]) + ":",
            rng.choice(users) + "@example.com",
            "@" + "".join(rng.choices(letters, k=3)) + ".",
        ]
        message = " ".join(words + rng.sample(extras, k=rng.randint(0, len(extras))))
        user = rng.choice(users)
        kw: dict[str, object] = {}
        if i % 7 == 0:
            kw["props"] = {"attachments": [{"text": message, "n": i}], "from_bot": "Bob"}
        if i % 11 == 0:
            kw["replies"] = [synth.reply(rng.choice(users).upper(), message[::-1], 1000 + i)]
        if i % 13 == 0:
            kw["reactions"] = [synth.reaction(rng.choice(users), "ab", 1000 + i)]
        record = synth.post("t", rng.choice(channels), user, message, 1000 + i, **kw)
        body = orjson.dumps(record)
        if i % 17 == 0:
            body = body.replace(b'"message"', b'"Message"').replace("é".encode(), b"\\u00e9")
        if i % 19 == 0:
            body = body + b"\r"
        if i % 23 == 0:
            body = body.replace(b'"create_at":', b'"create_at":1.5,"x":', 1)
        lines.append(body)
        if i % 97 == 0:
            lines.append(b'{"type":"post","post":{"user":"' + user.encode() + b'","message":"cut')
        if i % 101 == 0:
            bad = b'{"type":"post","post":{"message":"bad \xff byte '
            lines.append(bad + user.encode() + b'"}}')
        if i % 103 == 0:
            lines.append(
                b'{"type":"user","user":{"username":"zz","delete_at":123456789012345678901}}'
            )
    members = [sorted(rng.sample(users, k=2)) for _ in range(20)]
    lines += [synth.direct_channel(m) for m in members]
    lines += [
        synth.direct_post(m, m[0], " ".join(rng.choices(_WORDS, k=5)) + " @" + m[1], 5000 + i)
        for i, m in enumerate(members)
    ]
    return make_archive(path, lines, {"data/emoji/ab.png": synth.png_bytes(3, 2)})


def generated(path: Path) -> Path:
    generate_export(
        path, seed=15, users=25, posts=1500, direct_posts=200, attachments=12, emojis=3, bots=1,
        roles_and_schemes=True, profile_images=True,
    )  # fmt: skip
    return path


SOURCES = {
    "crowded": crowded_archive,
    "generated": generated,
    "clean": lambda _: SAMPLES / "clean.zip",
    "broken": lambda _: SAMPLES / "broken.zip",
    "over_limits": lambda _: SAMPLES / "over_limits.zip",
    "fixture": lambda _: FIXTURE,
}
PINNED = {
    "crowded": "2f3d74bd1734a040692c00187e1178c05a29661ae1d3e19c97c06ba1ad4620a4",
    "generated": "c1cfacc0fc1a47ab286e794098a799674baaeb7dee9fad3599b4d757ca7df8eb",
    "clean": "d29865b9f384dde4b7896a9dbf003bacac6e0a2533b215d17220980f8186cf51",
    "broken": "6cfcad4fbf65076d755cc282be487d2303559e7df8b6c9065902423f94a93ec7",
    "over_limits": "dc20d60a3f7cf7ddd8ace35ff44fd10d40527194e497abdae0edb8fc5fb1f6c7",
    "fixture": "dd892b56e96a6b2ab42164ddabc940360e420c49bff356877bd567b38667a5e5",
}


def redacted_digest(source: Path, out: Path, mapping: Path) -> str:
    redact_archive(source, out, key=KEY, mapping=mapping)
    digest = hashlib.sha256(out.read_bytes())
    digest.update(mapping.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("walk", ["c", "python"])
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_output_bytes_are_pinned(
    name: str, walk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if walk == "python":
        monkeypatch.setenv("ARCHIVEKIT_PURE_PYTHON", "1")
    source = SOURCES[name](tmp_path / "in.zip")
    assert redacted_digest(source, tmp_path / "out.zip", tmp_path / "map.json") == PINNED[name]


@pytest.mark.skipif(NATIVE is None, reason="archivekit.write._redact is not loaded")
def test_the_c_walk_hands_the_compressor_the_same_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The C walk writes blocks of lines; the compressor must still get the pieces the Python
    # walk gives it line by line (deflate's output depends on them). Small pieces: many cuts.
    monkeypatch.setattr(core, "FLUSH_BYTES", 2000)
    source = crowded_archive(tmp_path / "in.zip", posts=600)
    c = redacted_digest(source, tmp_path / "c.zip", tmp_path / "c.json")
    monkeypatch.setenv("ARCHIVEKIT_PURE_PYTHON", "1")
    assert redacted_digest(source, tmp_path / "py.zip", tmp_path / "py.json") == c


@pytest.mark.skipif(PURE_PYTHON, reason="ARCHIVEKIT_PURE_PYTHON is set: the C walk is off")
def test_the_c_walk_is_built_from_the_current_source() -> None:
    assert NATIVE is not None, "archivekit.write._redact was not built"
    assert hashlib.sha256(REDACT_C.read_bytes()).hexdigest() == NATIVE.SOURCE_SHA256, (
        "archivekit/write/_redact.c changed since the extension was built: run `make test`"
    )


# --- line by line: the C walk writes what the Python walk writes ------------------------------

_TEXT = st.text(
    st.sampled_from(
        [
            *'aZé日_-.@~:+ 1٣"\\\n\t/ß&<>',
            "ǅ",
            "ﬁ",
            "\x01",
            "\x7f",
            "\u2028",
            "😀",
            "\u212a",
            "\u017f",
        ]
    ),
    max_size=24,
)
_NAME = st.text(st.sampled_from(list("abAB1._-é")), max_size=6)
_SCALAR = st.one_of(
    _TEXT,
    st.sampled_from(["true", "false"]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["a", "B", "", "é", "text", "channel_mentions", "from_webhook"]), inner
        ),
    ),
    max_leaves=6,
)
_REPLY_FIELDS: dict[str, Any] = {
    "user": _NAME,
    "message": _TEXT,
    "type": st.one_of(_TEXT, _VALUE),  # kept when a scalar, free text when a container
    "props": _VALUE,
    "flagged_by": st.lists(_NAME, max_size=2),
    "reactions": st.lists(
        st.fixed_dictionaries({"user": _NAME, "emoji_name": _NAME}, optional={"create_at": _VALUE}),
        max_size=2,
    ),
    "attachments": st.one_of(st.lists(st.fixed_dictionaries({"path": _TEXT}), max_size=2), _VALUE),
    "create_at": st.integers(0, 2**40),
    "Message": _TEXT,
    "other": _VALUE,
}
_POST_FIELDS = {
    **_REPLY_FIELDS,
    "team": _NAME,
    "channel": _NAME,
    "channel_members": st.lists(_NAME, max_size=3),
    "thread_followers": st.lists(st.fixed_dictionaries({"user": _NAME}), max_size=2),
    "replies": st.lists(st.fixed_dictionaries({}, optional=_REPLY_FIELDS), max_size=2),
}
_PAYLOAD = st.fixed_dictionaries({}, optional=_POST_FIELDS)


def _line(kind: str, payload: dict[str, Any]) -> bytes:
    # json, not orjson: integers past 64 bits too; its escapes are orjson's.
    return json.dumps({"type": kind, kind: payload}, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.skipif(NATIVE is None, reason="archivekit.write._redact is not loaded")
@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(POST_LINE_TYPES), _PAYLOAD, st.sampled_from(range(5))),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["placeholders", "drop-references"]),
)
def test_the_c_walk_writes_what_the_python_walk_writes(
    lines: list[tuple[str, dict[str, Any], int]], attachments: Any
) -> None:
    archive: Any = Archive.__new__(Archive)
    python = RedactRun(archive, Pseudonyms(KEY), attachments)
    python._native = None
    c = RedactRun(archive, Pseudonyms(KEY), attachments)
    for kind, payload, variant in lines:
        raw = _line(kind, payload).encode()
        if variant == 1:
            raw = raw.replace(b":", b": ", 1)  # not orjson's form: the Python walk takes it
        elif variant == 2:
            raw = raw.replace(b'"type":"', b'"type":"x', 1)  # not a post line
        elif variant == 3:
            raw = raw.replace("é".encode(), b"\\u00e9")  # an escape orjson does not write
        elif variant == 4:  # Go's json.Marshal: these escaped (the C walk decodes them)
            for char, escape in (("&", b"\\u0026"), ("<", b"\\u003c"), (">", b"\\u003E")):
                raw = raw.replace(char.encode(), escape)
            raw = raw.replace("\u2028".encode(), b"\\u2028").replace(b"@", b"\\u0040")
        assert c.line(raw) == python.line(raw), raw
    assert c.stats == python.stats
    assert c.names.reverse() == python.names.reverse()


@pytest.mark.skipif(NATIVE is None, reason="archivekit.write._redact is not loaded")
def test_the_c_walk_takes_lines_with_go_escapes() -> None:
    """Go's json.Marshal (Mattermost's exporter) escapes & < > U+2028 U+2029: such lines stay
    on the C walk, decoded as orjson writes them."""
    archive: Any = Archive.__new__(Archive)
    python = RedactRun(archive, Pseudonyms(KEY))
    python._native = None
    c = RedactRun(archive, Pseudonyms(KEY))
    raw = (
        b'{"type":"post","post":{"message":"Q\\u0026A \\u003cb\\u003e\\u2028x",'
        b'"props":{"text":"a\\u0026b"},"type":"\\u003c"}}'
    )
    assert c._native is not None
    assert c._native.line(raw) is not None
    assert c.line(raw) == python.line(raw)
    assert b"\\u" not in c.line(raw)
