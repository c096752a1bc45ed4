"""Candidate email addresses for the Go oracle (tools/oracles/mail), one JSON string a line.

Deterministic: the same seed always yields the same corpus, in the same order, without
duplicates. The corpus is adversarial on purpose: besides ordinary addresses it holds every
ASCII character and a set of awkward Unicode characters in every structural position, RFC 5322
constructs that net/mail understands (quoted strings, comments, angle brackets, display names,
groups, domain literals, RFC 2047 encoded words) and their broken variants, '@' counts, dots,
white space, case, length extremes, plus random token soups and random mutations.

    python3 tools/oracles/gen_mail_corpus.py [--seed N] > candidates.jsonl
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import string
import sys
from collections.abc import Iterator

ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~"
ATEXT = string.ascii_letters + string.digits + ATEXT_SPECIALS
SPECIALS = '()<>[]:;@\\,."'
ASCII = [chr(c) for c in range(0x80)]

# Characters whose handling differs between naive checkers and Go: Unicode white space and
# format characters (all of them are "atext" for net/mail, which only knows ' ' and '\t'),
# letters with odd case mappings (strings.ToLower is a per-rune simple mapping), look-alikes
# of '@' and '.', astral characters, U+FFFD and a combining mark.
UNICODE = [
    "\u0085",  # NEL
    "\u00a0",  # no-break space
    "\u00ad",  # soft hyphen
    "é",
    "É",
    "ß",
    "ẞ",  # capital sharp s, lowercases to ß
    "İ",  # lowercases to plain i in Go (not i + U+0307)
    "ı",
    "Σ",
    "ς",
    "σ",
    "K",  # Kelvin sign, lowercases to k
    "Å",  # Angstrom sign
    "Ω",  # Ohm sign
    "ǅ",  # title case
    "Ⅻ",
    "Ⓐ",
    "𐐀",  # Deseret capital, astral
    "я",
    "Я",
    "中",
    "ü",
    "\u0301",  # combining acute
    "\u1680",  # ogham space mark
    "\u180e",
    "\u2000",
    "\u200b",  # zero width space
    "\u200d",
    "\u2028",
    "\u2029",
    "\u202e",  # right-to-left override
    "\u3000",  # ideographic space
    "\ufeff",
    "\ufffd",
    "＠",  # fullwidth commercial at
    "．",  # fullwidth full stop
    "。",
    "😀",
    "\U000e0041",  # tag latin capital a
    "\U0010fffd",
]
POOL = ASCII + UNICODE

BASES = ["ab@cd.ef", "a.b@c.d", "jo@x.io", "a@b", "first.last@sub.example.com"]

DISPLAY_NAMES = [
    "",
    "Bob",
    "bob smith",
    '"bob"',
    '"bob smith"',
    '"b\\"ob"',
    "bob.smith",
    "b.",
    ".b",
    "=?utf-8?q?bob?=",
    "=?utf-8?q??=",
    "=?UTF-8?B?Ym9i?=",
    "=?iso-8859-1?q?b=E9b?=",
    "=?us-ascii?q?b=FFb?=",
    "=?koi8-r?q?bob?=",
    "=?utf-8?x?bob?=",
    "=?utf-8?q?bob?= =?utf-8?q?smith?=",
    "bob (comment) smith",
    "bob(",
    "Élise",
    "中文",
]

ENCODED_WORDS = [
    "=?utf-8?q??=",
    "=?utf-8?b??=",
    "=?utf-8?q?x?=",
    "=?utf-8?q?_?=",
    "=?UTF-8?Q?=20?=",
    "=?utf-8?q?=zz?=",
    "=?utf-8?q?=4?=",
    "=?utf-8?b?eA==?=",
    "=?utf-8?b?eA=?=",
    "=?utf-8?b?eA?=",
    "=?utf-8?b?====?=",
    "=?utf-8?b?/w==?=",
    "=?utf-8?q?=FF?=",
    "=?iso-8859-1?q?=E9?=",
    "=?ISO-8859-1?B?6Q==?=",
    "=?us-ascii?q?=E9?=",
    "=?us-ascii?q??=",
    "=?koi8-r?q?x?=",
    "=?koi8-r?q??=",
    "=??q?x?=",
    "=?utf-8??x?=",
    "=?utf-8?qq?x?=",
    "=?utf-8?q?x",
    "=?utf-8?q?a?b?=",
    "?=",
    "=?",
    "=?utf-8?q?x?==?utf-8?q?y?=",
    "=?iſo-8859-1?q?=E9?=",  # strings.EqualFold folds U+017F to "s"
    "=?uſ-aſcii?q?x?=",
    "=?UTF-8?q?x?=",
    "=?utf-8?q?=4é?=",
    "=?utf-8?q?=é?=",
    "=?utf-8?q?é?=",
    "=?utf-8?b?eB==?=",
    "=?utf-8?b?4pyT?=",
    "=?utf-8?b?4p==?=",
    "=?utf-8?q?=E2=9C?=",
]

IDN_ADDRESSES = [
    "user@bücher.de",
    "user@xn--bcher-kva.de",
    "пользователь@пример.рф",
    "用户@例子.广告",
    "θσερ@παράδειγμα.δοκιμή",
    "ΘΣΕΡ@ΠΑΡΑΔΕΙΓΜΑ.ΔΟΚΙΜΗ",
    "üñîçøðé@üñîçøðé.com",
    "Ü@B.C",
    "δοκιμή@b.c",
    "a@b.δοκιμή",
    "😀@😀.😀",
    "a@例え.テスト",
    "a@xn--r8jz45g.xn--zckzah",
    "a\u00a0b@c.d",
]

IP_LITERALS = [
    "1.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1..3.4",
    "1.2.3.",
    "::",
    "::1",
    "::ffff:1.2.3.4",
    "::FFFF:1.2.3.4",
    "1::1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1::2::3",
    ":::",
    "1:::2",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "FE80::ABCD",
    "fe80::abcd",
    "00001::",
    "0001::",
    "1:2:3:4:5:6:7:00008",
    "IPv6:::1",
    "ipv6:::1",
    "localhost",
    "example.com",
    "",
    "1.2.3.4\\",
    "[1.2.3.4]",
    "1.2.3.4]",
    "１.２.３.４",
    "1.2.3.4/24",
    "0x1.2.3.4",
    "1.2.3.-4",
    "+1.2.3.4",
    "::ffff:1.2.3",
    "::ffff:256.2.3.4",
    "2001:db8::",
    "2001:db8:0:0:0:0:2:1",
    "2001:DB8::2:1",
    "::127.0.0.1",
    "1.2.3.4::",
]


def plain_local(rng: random.Random, alphabet: str = ATEXT) -> str:
    parts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))]
    while rng.random() < 0.3:
        parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))))
    return ".".join(parts)


def plain_domain(rng: random.Random) -> str:
    label_chars = string.ascii_lowercase + string.digits + "-"
    labels = [
        "".join(rng.choice(label_chars) for _ in range(rng.randint(1, 7)))
        for _ in range(rng.randint(1, 4))
    ]
    return ".".join(labels)


def plain_address(rng: random.Random) -> str:
    local = plain_local(rng)
    if rng.random() < 0.15:
        local = local.upper()
    domain = plain_domain(rng)
    if rng.random() < 0.1:
        domain = domain.upper()
    return f"{local}@{domain}"


def positions(address: str) -> list[int]:
    """Structural insertion points: edges, around each '@' and '.', and one inside each run."""
    points = {0, 1, len(address) - 1, len(address)}
    for i, c in enumerate(address):
        if c in "@.":
            points.update((i, i + 1))
    return sorted(p for p in points if 0 <= p <= len(address))


def single_char_edits() -> Iterator[str]:
    for base in BASES[:3]:
        at = base.index("@")
        for c in POOL:
            for p in positions(base):
                yield base[:p] + c + base[p:]
            # replacements of a local, the '@' and a domain character
            for p in (0, at - 1, at, at + 1, len(base) - 1):
                yield base[:p] + c + base[p + 1 :]
    for base in BASES[3:]:
        for c in POOL:
            yield c + base
            yield base + c
            at = base.index("@")
            yield base[:at] + c + base[at:]
            yield base[: at + 1] + c + base[at + 1 :]


def whitespace_cases() -> Iterator[str]:
    spaces = [" ", "\t", "  ", " \t", "\n", "\r\n", "\r", "\v", "\f", "\u00a0", "\u3000"]
    for base in BASES:
        for sp in spaces:
            for p in positions(base):
                yield base[:p] + sp + base[p:]
            yield sp + base + sp
    yield "erin@ example.com"
    yield "erin @example.com"
    yield "erin@example .com"
    yield "erin@example. com"


def dot_cases() -> Iterator[str]:
    locals_ = ["a", ".a", "a.", "a..b", "..", ".", "a.b", "a.b.", ".a.b", "a...b", "a.-.b"]
    domains = ["b.c", ".b.c", "b.c.", "b..c", ".", "b", "b.", "-b.c", "b-.c", "b.c-", "1.2"]
    for local in locals_:
        for domain in domains:
            yield f"{local}@{domain}"


def at_cases() -> Iterator[str]:
    yield from ["", "@", "@@", "a@", "@b.c", "a@@b.c", "a@b@c.d", "a@b.c@", "@a@b.c", "a@b@c@d"]
    yield from ['"a@b"@c.d', '"@"@c.d', '"a@b@c"@d.e', '"a"@"b"', 'a@"b.c"', "a\\@b@c.d"]
    yield from ["a@b.c (@)", "(@) a@b.c", "a (x@y) @b.c", "x@y <a@b.c>", '"x@y" <a@b.c>']
    yield from ["<a@b.c>@d.e", "a@<b.c>", "a@b.c,d@e.f", "a@b.c;", "a@b.c:", "a@b.c, "]


def quoted_cases() -> Iterator[str]:
    contents = ["", " ", "a", "a b", "a.b", "a..b", ".a", "a.", "@", "(", ")", "<>", "[]"]
    contents += ["\\", '\\"', "\\\\", "\\a", "\\ ", "\\\t", "é", "\u2028", "\t"]
    contents += [f"\\{c}" for c in ASCII] + [f"x{c}y" for c in ASCII] + [f"\\{c}" for c in UNICODE]
    for content in contents:
        yield f'"{content}"@b.c'
        yield f'"{content}"'
        yield f'x "{content}" <a@b.c>'
    yield from ['"a".b@c.d', 'a."b"@c.d', '"a""b"@c.d', '"a"b@c.d', '"a@b.c', 'a"@b.c', '"a"@']
    yield '"unclosed@b.c'
    yield '"a\\'
    yield '"bob"@example.com'
    yield '" "@example.com'


def comment_cases() -> Iterator[str]:
    comments = ["()", "( )", "(x)", "(\t)", "(x y)", "((x))", "(()", "())", "(\\))", "(\\()"]
    comments += ["(\\", "(x\\)", "(é)", "(\u2028)", "(" + "(" * 5 + ")" * 5 + ")", "(a@b.c)"]
    comments += [f"({w})" for w in ENCODED_WORDS] + [f"({w} {w})" for w in ENCODED_WORDS[:6]]
    comments += ["(=?utf-8?q??= x)", "(x =?utf-8?q??=)", "( =?utf-8?q??= )"]
    base = "a@b.c"
    for comment in comments:
        for p in (0, 1, 2, 3, 4, 5):
            yield base[:p] + comment + base[p:]
        yield f"{base} {comment}"
        yield f"{base}{comment} "
        yield f"{comment} {base} {comment}"
        yield f"{base} {comment} {comment}"
        yield f"<{base}> {comment}"
        yield f"{comment}<{base}>"
    yield "frank@example.com()"
    yield "frank@example.com ()"
    yield "frank@example.com (Frank)"
    # CR and LF are legal inside a comment and base64 skips them there
    for word in [
        "=?utf-8?b?eA\n==?=",
        "=?utf-8?b?e\r\nA==?=",
        "=?utf-8?q?\n?=",
        "=?utf-8?q?a\tb?=",
    ]:
        yield f"a@b.c ({word})"
        yield f"a@b.c ( {word} )"


def angle_cases() -> Iterator[str]:
    for name in DISPLAY_NAMES:
        for addr in ["a@b.c", "alice@example.com", "", '"x"@y.z', "a@[1.2.3.4]", "A@B.C"]:
            sep = " " if name else ""
            yield f"{name}{sep}<{addr}>"
            yield f"{name}<{addr}>"
            yield f" {name}{sep}<{addr}> "
            yield f"{name}{sep}<{addr}"
            yield f"{name}{sep}{addr}>"
    yield from ["<>", "<<a@b.c>>", "<a@b.c>>", "<<a@b.c>", "< a@b.c >", "<a@b.c >", "< a@b.c>"]
    yield from ["<alice@example.com>", "<a@b.c> x", "a <b> c", "<a>@b.c", "a<b@c.d>"]
    # adjacent encoded words are joined without the space between them
    for w1 in ENCODED_WORDS[:12]:
        for w2 in ("=?utf-8?q?b?=", "x", '"q"', "(c)"):
            yield f"{w1} {w2} <a@b.c>"
            yield f"{w2} {w1} <a@b.c>"


def group_cases() -> Iterator[str]:
    members = ["", "a@b.c", "a@b.c,", "a@b.c,d@e.f", " a@b.c ", "<a@b.c>", "x <a@b.c>", ",a@b.c"]
    members += ["a@b.c (c)", "g2:a@b.c;", "a@b.c,,d@e.f", "a"]
    for name in ["g", "", "g h", '"g"', "g.h", "=?utf-8?q?g?="]:
        for m in members:
            for end in [";", "", "; ", ";(c)", ";x", ";;", ";(", ",", ";,"]:
                yield f"{name}:{m}{end}"


def literal_cases() -> Iterator[str]:
    for lit in IP_LITERALS:
        yield f"a@[{lit}]"
        yield f"A@[{lit}]"
        yield f"a@[{lit}"
        yield f"<a@[{lit}]>"
        yield f"a@[{lit}].c"
    yield from ["a@[1.2.3.4] ", "a@ [1.2.3.4]", "a@[1.2.3.4](x)", "[1.2.3.4]@b.c", "a@[]b"]


def random_ip(rng: random.Random) -> str:
    if rng.random() < 0.5:
        text = str(ipaddress.IPv4Address(rng.getrandbits(32)))
    else:
        address = ipaddress.IPv6Address(rng.getrandbits(128) if rng.random() < 0.5 else 0)
        groups = rng.choice([address.compressed, address.exploded])
        text = groups.upper() if rng.random() < 0.3 else groups
    for _ in range(rng.choice([0, 0, 1, 2])):
        p = rng.randrange(len(text) + 1)
        text = text[:p] + rng.choice("0123456789abcdefABCDEFxX.:%[] \\g") + text[p + 1 :]
    return text


def case_cases() -> Iterator[str]:
    for c in UNICODE + list(string.ascii_uppercase):
        yield f"{c}@b.c"
        yield f"a@{c}.c"
        yield f"a{c}b@c.d"
        yield f'"{c}"@b.c'
        yield f"{c} <a@b.c>"
    yield from ["Alice@Example.COM", "ALICE@EXAMPLE.COM", "aΣ@b.c", "ΑΣ@b.c", "aς@b.c"]
    for address in IDN_ADDRESSES:
        yield address
        yield address.upper()
        yield f"<{address}>"
        yield f" {address}"


def length_cases() -> Iterator[str]:
    for n in (63, 64, 65, 128, 255, 256, 1000):
        yield "a" * n + "@b.c"
        yield "a@" + "b" * n + ".c"
        yield "a@" + ".".join(["b"] * (n // 2)) + ".c"
        yield '"' + " " * n + '"@b.c'
        yield "a@b.c (" + "x" * n + ")"
        yield "(" * n + "a@b.c"
    yield "a@" + "b." * 200 + "c"
    yield "é" * 100 + "@b.c"


def token_soup(rng: random.Random) -> str:
    tokens = ["a", "bc", "x.y", ".", "@", '"', "(", ")", "<", ">", "[", "]", ":", ";", ","]
    tokens += [" ", "\t", "\\", "..", "=?utf-8?q?x?=", "é", "1.2.3.4", "::1", "A", "Σ", "\u00a0"]
    return "".join(rng.choice(tokens) for _ in range(rng.randint(1, 14)))


def mutate(rng: random.Random, s: str) -> str:
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        p = rng.randrange(len(s) + 1)
        c = rng.choice(POOL) if rng.random() < 0.5 else rng.choice(SPECIALS + " \t")
        if op == 0:
            s = s[:p] + c + s[p:]
        elif op == 1 and s:
            s = s[:p] + s[p + 1 :]
        elif op == 2:
            s = s[:p] + c + s[p + 1 :]
        elif len(s) > 1:
            q = rng.randrange(len(s))
            chars = list(s)
            chars[p % len(s)], chars[q] = chars[q], chars[p % len(s)]
            s = "".join(chars)
    return s


def corpus(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    yield from single_char_edits()
    yield from whitespace_cases()
    yield from dot_cases()
    yield from at_cases()
    yield from quoted_cases()
    yield from comment_cases()
    yield from angle_cases()
    yield from group_cases()
    yield from literal_cases()
    yield from case_cases()
    yield from length_cases()
    for _ in range(600):
        ip = random_ip(rng)
        yield f"a@[{ip}]"
    for _ in range(2500):
        yield plain_address(rng)
    for _ in range(3000):
        yield token_soup(rng)
    for _ in range(5000):
        yield mutate(rng, plain_address(rng) if rng.random() < 0.7 else rng.choice(BASES))
    for _ in range(800):
        name = rng.choice(DISPLAY_NAMES)
        word = rng.choice(ENCODED_WORDS)
        addr = plain_address(rng)
        yield rng.choice(
            [f"{name} <{addr}>", f"{addr} ({word})", f"{word} <{addr}>", f"{name}:{addr};"]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240917)
    args = parser.parse_args()
    seen: set[str] = set()
    out = sys.stdout
    for candidate in corpus(args.seed):
        if candidate not in seen:
            seen.add(candidate)
            out.write(json.dumps(candidate, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
