"""Candidate user locales for the Go oracle (tools/oracles/locale -verdicts), a JSON string a line.

Deterministic and duplicate-free. Holds accepted and refused samples: every two-letter
language and region shape the server knows, the right-shaped but unknown codes people write
(jp, cz, dk, gr, ua, cn, vn), three-letter codes, grandfathered and irregular tags, private
use, numeric regions (too long with a language), mixed case, underscores, separators in
every position, length 5/6 edges, white space, non-ASCII look-alikes and random strings.

    python3 tools/oracles/gen_locale_corpus.py [--seed N] > candidates.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import string
import sys
from collections.abc import Iterator

ALNUM = string.ascii_lowercase + string.digits
LOCALE_CHARS = string.ascii_letters + string.digits + "-_"

NAMED = [
    "",
    "en",
    "de",
    "fr",
    "ja",
    "ko",
    "zh",
    "pt_BR",
    "pt-BR",
    "zh-TW",
    "zh_CN",
    "zh-Hans",
    "zh-Hant",
    "en-US",
    "en_us",
    "EN-us",
    "es-419",
    "es_419",
    "en-001",
    "419",
    "001",
    "jp",
    "cz",
    "dk",
    "gr",
    "ua",
    "cn",
    "vn",
    "se",
    "iw",
    "in",
    "ji",
    "jw",
    "mo",
    "tl",
    "fil",
    "und",
    "root",
    "ROOT",
    "mis",
    "mul",
    "zxx",
    "qaa",
    "qtz",
    "eng",
    "deu",
    "ger",
    "i-ami",
    "I_AMI",
    "i-klingon",
    "i-default",
    "art-lojban",
    "en-gb-oed",
    "zh-min",
    "zh-min-nan",
    "sgn-be-fr",
    "no-bok",
    "x",
    "x-",
    "x-a",
    "X-ABC",
    "x_abc",
    "x-abcd",
    "x-a-b",
    "x-a-",
    "x--a",
    "a-b",
    "en-x",
    "en-x-a",
    "en-u",
    "en-a",
    "en-1",
    "en-12",
    "en-123",
    "en-us-",
    "-en",
    "en-",
    "en--",
    "--",
    "-",
    "_",
    "e",
    "en ",
    " en",
    "en\t",
    "en\n",
    "en.",
    "en.utf8",
    "en@x",
    "é",
    "én",
    "\u212am",  # Kelvin sign + m: lowers to "km" in Python, refused by Parse
    "\u212aM",
    "\u0130d",
    "ıd",
    "\u00a0en",
    "ｅｎ",
    "en-ＵＳ",
    "sr-latn",
    "az-cyrl",
    "ca-es-valencia",
    "de-1901",
    "en-posix",
    "en-US-POSIX",
    "aa",
    "zz",
    "aa-aa",
    "en-zz",
    "en-qm",
    "en-xa",
    "en-aa",
    "en-eu",
    "en-un",
    "en-uk",
    "en-ez",
    "ar-001",
    "*",
    "*-us",
    "*-US",
    "en*us",
    "*en",
]


def all_two_letter() -> Iterator[str]:
    for a, b in itertools.product(string.ascii_lowercase, repeat=2):
        yield a + b


def language_regions(rng: random.Random) -> Iterator[str]:
    langs = ["en", "pt", "zh", "de", "sr", "jp", "xx", "qq", "in", "iw"]
    for lang in langs:
        for region in all_two_letter():
            if rng.random() < 0.12:
                yield f"{lang}-{region}"
    for region in all_two_letter():
        form = rng.choice(["{l}-{R}", "{l}_{R}", "{L}-{r}", "{L}_{R}"])
        lang = rng.choice(langs)
        yield form.format(l=lang, L=lang.upper(), r=region, R=region.upper())
    for digits in ("001", "150", "419", "999", "000"):
        yield f"e-{digits}"
        yield f"en-{digits}"


def three_letter(rng: random.Random) -> Iterator[str]:
    for _ in range(1500):
        code = "".join(rng.choice(string.ascii_lowercase) for _ in range(3))
        yield code if rng.random() < 0.7 else code.upper()


def private_use(rng: random.Random) -> Iterator[str]:
    for _ in range(300):
        n = rng.randint(0, 4)
        body = "".join(rng.choice(ALNUM + "-") for _ in range(n))
        yield "x-" + body
        yield "X_" + body.upper()


def case_variants(rng: random.Random) -> Iterator[str]:
    for word in ["en-us", "pt-br", "zh-tw", "i-ami", "x-abc", "root", "fil", "en"]:
        for _ in range(4):
            yield "".join(c.upper() if rng.random() < 0.5 else c for c in word)
        yield word.replace("-", "_")


def random_strings(rng: random.Random) -> Iterator[str]:
    for _ in range(4000):
        n = rng.randint(1, 6)
        yield "".join(rng.choice(LOCALE_CHARS) for _ in range(n))
    noise = LOCALE_CHARS + " .@/:\\\t\u00e9\u212a\u0130\u00a0"
    for _ in range(500):
        n = rng.randint(1, 6)
        yield "".join(rng.choice(noise) for _ in range(n))


def corpus(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    yield from NAMED
    yield from all_two_letter()
    yield from (s.upper() for s in all_two_letter() if rng.random() < 0.1)
    yield from language_regions(rng)
    yield from three_letter(rng)
    yield from private_use(rng)
    yield from case_variants(rng)
    yield from random_strings(rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240917)
    args = parser.parse_args()
    seen: set[str] = set()
    for candidate in corpus(args.seed):
        if candidate not in seen:
            seen.add(candidate)
            sys.stdout.write(json.dumps(candidate, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
