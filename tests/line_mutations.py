"""Mutations of one JSONL line that keep it close to valid: the mutator the C scanners' tests
share (test_native_scan, test_tables_native). Each is one small edit a broken exporter or a
hostile file could make: a truncation, stray bytes, an escape or odd UTF-8, white space, another
value, number or key, a repeated, extra or missing member, trailing bytes, one more array
element, a letter written as a \\u escape."""

from __future__ import annotations

import random
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from archivekit.testing.synth import generate_export

USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan")

STRING_TOKENS = (
    b"\\u00e9",
    b"\\u00E9",
    b"\\ud83d\\ude00",
    b"\\u0000",
    b"\\n",
    b"\\t",
    b"\\/",
    b'\\"',
    b"\\\\",
    b"\\ud800",
    b"\\udfff",
    b"\\ud83d\\u0041",
    b"\\ude00\\ud83d",
    b"\\ud83d\\",
    b"\\u12",
    b"\\u12g4",
    b"\\x41",
    b"\\U0001F600",
    b"\\",
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xe0\x80\x80",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf0\x80\x80\x80",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xc3\xa9",
    b"\xef\xbf\xbf",
    b"\xf0\x9f\x98\x80",
    b"\x00",
    b"\x01",
    b"\x1f",
    b"\x7f",
    b'"',
)
WHITESPACE = (b" ", b"\t", b"\n", b"\r", b"  \t", b"\r\n", b"\x0b", b"\x0c", b"\xc2\xa0")
NUMBERS = (
    b"0",
    b"-0",
    b"1",
    b"-1",
    b"01",
    b"-01",
    b"00",
    b"1.0",
    b"1.",
    b".5",
    b"1e3",
    b"1E3",
    b"1e-3",
    b"-1.5e+2",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999",
    b"-9999999999999999999",
    b"123456789012345678901",
    b"0.1234567890123456789",
    b"1700000000000",
    b"1700000000000.0",
    b"-",
    b"--1",
    b"+1",
    b"0x10",
    b"NaN",
    b"Infinity",
    b"1_000",
)
VALUES = (
    *NUMBERS,
    b"null",
    b"true",
    b"false",
    b"nul",
    b"True",
    b'""',
    b'"x"',
    b'"alice"',
    b'"Alice"',
    b'"ivan"',
    b'"team1"',
    b'"chan1"',
    b'"custom_x"',
    b'"\\u0000"',
    b"[]",
    b"[ ]",
    b"{}",
    b"[null]",
    b'[""]',
    b'["alice"]',
    b'["alice","bob","carol"]',
    b'{"a":1}',
    b'{"a":{}}',
    b'{"a":[]}',
    b"[[]]",
    b'[{"path":"a.png"}]',
)
KEYS = (b"team", b"message", b"user", b"foo", b"Team", b"TYPE", b"", b"emoji_name", b"props")
USERNAMES = tuple(f'"{name}"'.encode() for name in (*USERS, "nobody", "Alice"))

# A member with a scalar (or empty container) value, and a key.
MEMBER = re.compile(
    rb'"([A-Za-z_]*)":(-?[0-9][0-9.eE+-]*|"(?:[^"\\]|\\.)*"|null|true|false|\[\]|\{\})'
)
KEY = re.compile(rb'"([A-Za-z_]+)":')
NUMBER = re.compile(rb"(?<=[:\[,])-?[0-9][0-9.eE+-]*")
STRUCTURE = re.compile(rb"[{}\[\]:,]")
STRING_START = re.compile(rb'[:\[,]"')
OPEN_BRACE = re.compile(rb"\{")
ARRAY_START = re.compile(rb"\[(?=[\"{])")


def _at(rng: random.Random, pattern: re.Pattern[bytes], raw: bytes) -> re.Match[bytes] | None:
    found = list(pattern.finditer(raw))
    return rng.choice(found) if found else None


def _mutate_once(raw: bytes, rng: random.Random) -> bytes:
    n = len(raw)
    i = rng.randint(0, n)
    kind = rng.randrange(16)
    if kind == 0:  # truncate
        return raw[:i]
    if kind == 1:  # delete a few bytes
        return raw[:i] + raw[i + rng.randint(1, 4) :]
    if kind == 2:  # insert random bytes
        return raw[:i] + rng.randbytes(rng.randint(1, 3)) + raw[i:]
    if kind == 3:  # replace a byte
        return raw[:i] + bytes([rng.randrange(256)]) + raw[i + 1 :]
    if kind == 4:  # an escape or odd UTF-8 anywhere
        return raw[:i] + rng.choice(STRING_TOKENS) + raw[i:]
    if kind == 5:  # ... or just inside a string
        m = _at(rng, STRING_START, raw)
        if m is None:
            return raw
        return raw[: m.end()] + rng.choice(STRING_TOKENS) + raw[m.end() :]
    if kind == 6:  # white space (or not quite) around a token
        m = _at(rng, STRUCTURE, raw)
        if m is None:
            return raw
        at = m.start() if rng.random() < 0.5 else m.end()
        return raw[:at] + rng.choice(WHITESPACE) + raw[at:]
    if kind == 7:  # another value for a member
        m = _at(rng, MEMBER, raw)
        if m is None:
            return raw
        return raw[: m.start(2)] + rng.choice(VALUES) + raw[m.end(2) :]
    if kind == 8:  # another number
        m = _at(rng, NUMBER, raw)
        if m is None:
            return raw
        return raw[: m.start()] + rng.choice(NUMBERS) + raw[m.end() :]
    if kind == 9:  # a member repeated, with its value or another
        m = _at(rng, MEMBER, raw)
        if m is None:
            return raw
        value = m.group(2) if rng.random() < 0.5 else rng.choice(VALUES)
        repeated = b'"' + m.group(1) + b'":' + value
        if rng.random() < 0.5:
            return raw[: m.end()] + b"," + repeated + raw[m.end() :]
        return raw[: m.start()] + repeated + b"," + raw[m.start() :]
    if kind == 10:  # a key in another case, escaped, or renamed
        m = _at(rng, KEY, raw)
        if m is None:
            return raw
        key = m.group(1)
        if not key:
            return raw
        new = rng.choice(
            [
                key.upper(),
                key.title(),
                key[:1].upper() + key[1:],
                b"\\u%04x" % key[0] + key[1:],
                key + b" ",
                rng.choice(KEYS),
            ]
        )
        return raw[: m.start(1)] + new + raw[m.end(1) :]
    if kind == 11:  # an extra member in an object
        m = _at(rng, OPEN_BRACE, raw)
        if m is None:
            return raw
        member = b'"' + rng.choice(KEYS) + b'":' + rng.choice(VALUES) + b","
        return raw[: m.end()] + member + raw[m.end() :]
    if kind == 12:  # a member removed
        m = _at(rng, MEMBER, raw)
        if m is None:
            return raw
        end = m.end() + 1 if raw[m.end() : m.end() + 1] == b"," else m.end()
        return raw[: m.start()] + raw[end:]
    if kind == 13:  # something after the line
        return raw + rng.choice(
            [b" ", b"\r", b"\t\r", b"x", b"}", b",", b',"x":1}', b"{}", b"\x00"]
        )
    if kind == 14:  # one more array element (a 9th channel member, another flagger...)
        m = _at(rng, ARRAY_START, raw)
        if m is None:
            return raw
        element = rng.choice(USERNAMES) if raw[m.end() : m.end() + 1] == b'"' else None
        if element is None:
            close = raw.find(b"}", m.end())
            element = raw[m.end() : close + 1] if close > 0 else b"{}"
        return raw[: m.end()] + element + b"," + raw[m.end() :]
    # kind == 15: an ASCII character of a string written as a \u escape (same meaning)
    letters = [j for j in range(n) if 0x20 <= raw[j] < 0x7F and raw[j] not in b'"\\']
    if not letters:
        return raw
    j = rng.choice(letters)
    return raw[:j] + b"\\u%04x" % raw[j] + raw[j + 1 :]


def mutate(raw: bytes, rng: random.Random, times: int | None = None) -> bytes:
    for _ in range(rng.randint(1, 3) if times is None else times):
        raw = _mutate_once(raw, rng)
    return raw


def variants(
    lines: Iterable[bytes], rng: random.Random, prefixes: int, mutations: int
) -> Iterator[bytes]:
    """For each line: its prefixes every len/`prefixes` bytes, then `mutations` mutations."""
    for raw in lines:
        for i in range(0, len(raw) + 1, max(1, len(raw) // prefixes)):
            yield raw[:i]
        for _ in range(mutations):
            yield mutate(raw, rng)


def generated_post_lines(folder: Path, seed: int) -> list[bytes]:
    """The post and direct_post lines of a small generated export (no attachments)."""
    path = folder / f"gen-{seed}.zip"
    generate_export(path, seed=seed, posts=60, direct_posts=20, attachments=0)
    with zipfile.ZipFile(path) as zf:
        return [line for line in zf.read("import.jsonl").split(b"\n") if b'post"' in line[:40]]
