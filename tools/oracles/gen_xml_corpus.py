"""Candidate SVG/XML documents for the Go oracle (tools/oracles/xml), one JSON string of
base64 a line.

Deterministic (the seed fixes the corpus and its order; no duplicates). Real SVG shapes and
every construct Go's encoding/xml tokenizer treats specially — declarations (version,
encoding), comments, CDATA, directives with nested brackets, quotes and comments, entities
and character references, attributes (quoted, unquoted, without value), prefixes, end tags
that do not match, text before and after the first element, control characters and invalid
UTF-8 — then cuts and single-byte mutations of them.

    python3 tools/oracles/gen_xml_corpus.py [--seed N] > candidates.jsonl
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from collections.abc import Iterator

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<circle cx="8" cy="8" r="7" fill="#fc0"/></svg>'
)
PIECES = [
    b"",
    b"hello",
    b"   \n",
    b"\xef\xbb\xbf",
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b"<?xml version='1.0' encoding='utf-8'?>",
    b'<?xml version="1.1"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<?xml encoding="UTF-16"?>',
    b"<?xml?>",
    b"<?xml-stylesheet href='a.css'?>",
    b"<?>",
    b"<?pi",
    b"<!-- comment -->",
    b"<!-- a -- b -->",
    b"<!--->",
    b"<!---->",
    b"<!- x>",
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "svg11.dtd">',
    b'<!DOCTYPE svg [<!ENTITY ns "http://x"> <!-- c --> ]>',
    b"<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]>",
    b"<!DOCTYPE '>'>",
    b"<![CDATA[ <raw> & ]]>",
    b"<![CDATA[ unclosed",
    b"<![CDAT[x]]>",
    b"]]>",
    b"&amp;&lt;&gt;&apos;&quot;",
    b"&#65;&#x41;&#X41;&#0;&#xD800;&#1114112;",
    b"&unknown;",
    b"& ",
    b"&amp",
    b"&#;",
    b"\x00",
    b"\x01",
    b"\x7f",
    b"\xc3\xa9",
    b"\xff",
    b"\xed\xa0\x80",
    b"\xef\xbf\xbe",
    b"\r\n",
]
ELEMENTS = [
    SVG,
    b"<svg/>",
    b"<svg></svg>",
    b"<svg>",
    b"</svg>",
    b"<svg></g>",
    b"<a><b></b></a>",
    b"<a><b></a></b>",
    b"<s:svg xmlns:s='u'></s:svg>",
    b"<s:svg></t:svg>",
    b"<s:svg></svg>",
    b"<a:b:c/>",
    b"<:a/>",
    b"<a:/>",
    b"<1a/>",
    b"<-a/>",
    b"<_a/>",
    b"<\xc3\xa9/>",
    b"<\xe4\xb8\xad/>",
    b'<a x="1" y=\'2\'/>',
    b'<a x="1"y="2"/>',
    b"<a x=1/>",
    b"<a x/>",
    b'<a x = "1" />',
    b'<a x="<"/>',
    b'<a x=">"/>',
    b'<a x="&amp;"/>',
    b'<a x="&bad;"/>',
    b'<a x="\x01"/>',
    b"<a/ >",
    b"< a/>",
    b"<a >text</a >",
    b"<a>text</ a>",
    b"<a>text</a x>",
    b"<a><!-- in --><![CDATA[c]]><?pi x?></a>",
    b"<a>\n\n\x00</a>",
    b"<a>&#0;</a>",
]


def _documents(rng: random.Random) -> Iterator[bytes]:
    yield from PIECES
    yield from ELEMENTS
    for before in PIECES:
        for element in (SVG, b"<svg/>", b"<svg>"):
            yield before + element
    for element in ELEMENTS:
        for after in (b"", b"trailing <<<", b"</x>", b"\x00\xff"):
            yield element + after
    for piece in PIECES:
        yield b"<svg>" + piece + b"</svg>"
        yield b'<svg a="' + piece + b'"/>'
    bases = [SVG, b'<?xml version="1.0"?>\n<!DOCTYPE svg>\n' + SVG]
    for base in bases:
        for cut in range(len(base) + 1):
            yield base[:cut]
    for _ in range(3000):
        base = bytearray(rng.choice(bases + ELEMENTS))
        for _ in range(rng.randint(1, 3)):
            where = rng.randrange(len(base) + 1)
            choice = rng.random()
            if choice < 0.4 and base:
                del base[min(where, len(base) - 1)]
            elif choice < 0.8:
                base[where:where] = bytes([rng.choice(b"<>/!?-[]&;#=\"' x\x00\xff\n")])
            else:
                base[where:where] = rng.choice(PIECES + ELEMENTS)
        yield bytes(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    seen: set[bytes] = set()
    for document in _documents(random.Random(args.seed)):
        if document not in seen:
            seen.add(document)
            sys.stdout.write(json.dumps(base64.b64encode(document).decode()) + "\n")


if __name__ == "__main__":
    main()
