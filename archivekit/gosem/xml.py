"""Go's ``encoding/xml`` decoding the first element of a document, as ``mmctl import validate``
checks an SVG emoji image: ``xml.NewDecoder(f).Decode(&struct{}{})``.

Decode reads tokens until the first start element (text, comments, processing instructions
and directives before it are skipped, but must be well-formed), then reads that element to
its matching end tag, strictly: quoted attribute values, only the five predefined entities
and numeric character references, no ``--`` in comments, no ``]]>`` in text, end tags that
match, characters of the XML range in valid UTF-8, an ``<?xml ...?>`` declaration of version
1.0 in UTF-8 (any other declared encoding is an error: mmctl sets no CharsetReader). Whatever
follows the first element is never read.

`first_element_error` returns Go's error text for the document (``XML syntax error on line
N: ...``, ``xml: ...``, or ``EOF`` when there is no element at all), or None when Decode
succeeds. Held to Go itself on tests/data/go_xml_verdicts.jsonl (tools/oracles/xml).

One simplification, beyond ASCII only: a name's characters are checked with Unicode
categories (letters first; digits, marks and modifier letters after), where Go uses the
fixed tables of XML 1.0 (4th edition).
"""

from __future__ import annotations

import json
import unicodedata

from archivekit.gosem.strings import go_text

_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-")
_ENTITIES = frozenset({"lt", "gt", "amp", "apos", "quot"})
_SPACE = b" \r\n\t"
_DIGITS = frozenset(b"0123456789")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_MAX_RUNE = 0x10FFFF


class _XmlError(Exception):
    """Decode failed; the message is Go's (without the line)."""


class _Eof(Exception):
    """The input ended where a token could start (Go's io.EOF)."""


def first_element_error(data: bytes) -> str | None:
    """Go's error for ``xml.NewDecoder(data).Decode(&struct{}{})``, or None."""
    scanner = _Scanner(data)
    try:
        scanner.first_element()
    except _Eof:
        return "EOF"
    except _XmlError as exc:
        return str(exc)
    return None


def _is_in_character_range(code: int) -> bool:
    return (
        code in (0x09, 0x0A, 0x0D)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= _MAX_RUNE
    )


def _is_name(raw: bytes) -> bool:
    """Go's isName: a first character (letter, ``_``, ``:``), then name characters."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not text:
        return False
    for index, char in enumerate(text):
        if char.isascii():
            ok = char.isalpha() or char in "_:" or (index > 0 and (char.isdigit() or char in ".-"))
        else:
            category = unicodedata.category(char)
            ok = category in ("Lu", "Ll", "Lo", "Lt", "Nl") or (
                index > 0 and category in ("Lm", "Mc", "Me", "Mn", "Nd")
            )
        if not ok:
            return False
    return True


class _Scanner:
    """Go's Decoder over bytes: rawToken and the checks Token adds (Strict mode)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    # --- bytes ---------------------------------------------------------------------------
    def syntax(self, message: str) -> _XmlError:
        line = 1 + self.data.count(b"\n", 0, self.pos)
        return _XmlError(f"XML syntax error on line {line}: {message}")

    def getc(self) -> int | None:
        if self.pos >= len(self.data):
            return None
        byte = self.data[self.pos]
        self.pos += 1
        return byte

    def mustgetc(self) -> int:
        byte = self.getc()
        if byte is None:
            raise self.syntax("unexpected EOF")
        return byte

    def ungetc(self) -> None:
        self.pos -= 1

    def space(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _SPACE:
            self.pos += 1

    # --- the document --------------------------------------------------------------------
    def first_element(self) -> None:
        """Tokens until the first element's end tag (Decode into a struct without fields)."""
        open_names: list[tuple[str, str]] = []
        while True:
            token = self.raw_token(inside=bool(open_names))
            if token is None:
                continue  # text, comment, processing instruction, directive
            kind, name = token
            if kind == "start":
                open_names.append(name)
                continue
            if kind == "empty":
                if not open_names:
                    return
                continue
            if not open_names:
                raise self.syntax(f"unexpected end element </{name[1]}>")
            space, local = open_names.pop()
            if local != name[1]:
                raise self.syntax(f"element <{local}> closed by </{name[1]}>")
            if space != name[0]:
                closing = name[0] or '""'
                raise self.syntax(
                    f"element <{local}> in space {space} closed by </{name[1]}> in space {closing}"
                )
            if not open_names:
                return

    def raw_token(self, *, inside: bool) -> tuple[str, tuple[str, str]] | None:
        """One token: ("start" | "empty" | "end", (prefix, local)), or None for the others."""
        byte = self.getc()
        if byte is None:
            if inside:
                raise self.syntax("unexpected EOF")
            raise _Eof
        if byte != ord("<"):
            self.ungetc()
            self.text(quote=None, cdata=False)
            return None
        byte = self.mustgetc()
        if byte == ord("/"):
            name = self.nsname()
            if name is None:
                raise self.syntax("expected element name after </")
            self.space()
            if self.mustgetc() != ord(">"):
                raise self.syntax(f"invalid characters between </{name[1]} and >")
            return ("end", name)
        if byte == ord("?"):
            self.processing_instruction()
            return None
        if byte == ord("!"):
            self.markup_declaration()
            return None
        self.ungetc()
        return self.start_element()

    def processing_instruction(self) -> None:
        target = self.name()
        if target is None:
            raise self.syntax("expected target name after <?")
        self.space()
        start = self.pos
        previous = 0
        while True:
            byte = self.mustgetc()
            if previous == ord("?") and byte == ord(">"):
                break
            previous = byte
        if target != "xml":
            return
        content = go_text(self.data[start : self.pos - 2])
        version = _proc_inst("version", content)
        if version not in ("", "1.0"):
            raise _XmlError(
                f"xml: unsupported version {_go_quote(version)}; only version 1.0 is supported"
            )
        encoding = _proc_inst("encoding", content)
        if encoding and not (encoding.isascii() and encoding.lower() == "utf-8"):
            # mmctl's decoder has no CharsetReader: any other declared encoding fails.
            raise _XmlError(
                f"xml: encoding {_go_quote(encoding)} declared but Decoder.CharsetReader is nil"
            )

    def markup_declaration(self) -> None:
        """After ``<!``: a comment, a CDATA section, or a directive (DOCTYPE...)."""
        byte = self.mustgetc()
        if byte == ord("-"):
            if self.mustgetc() != ord("-"):
                raise self.syntax("invalid sequence <!- not part of <!--")
            before, last = 0, 0
            while True:
                byte = self.mustgetc()
                if before == ord("-") and last == ord("-"):
                    if byte != ord(">"):
                        raise self.syntax('invalid sequence "--" not allowed in comments')
                    return
                before, last = last, byte
        if byte == ord("["):
            for expected in b"CDATA[":
                if self.mustgetc() != expected:
                    raise self.syntax("invalid <![ sequence")
            self.text(quote=None, cdata=True)
            return
        # A directive: quoted angle brackets do not nest; <!-- ... --> inside is skipped.
        in_quote = 0
        depth = 0
        while True:
            byte = self.mustgetc()
            if in_quote == 0 and byte == ord(">") and depth == 0:
                return
            while True:  # Go's HandleB: a byte that is not the start of a comment
                if byte == in_quote:
                    in_quote = 0
                elif in_quote != 0:
                    pass
                elif byte in (ord("'"), ord('"')):
                    in_quote = byte
                elif byte == ord(">"):
                    depth -= 1
                elif byte == ord("<"):
                    mismatch = None
                    for expected in b"!--":
                        byte = self.mustgetc()
                        if byte != expected:
                            mismatch = byte
                            break
                    if mismatch is not None:
                        depth += 1
                        continue  # handle the byte that broke "<!--" the same way
                    before, last = 0, 0
                    while True:
                        byte = self.mustgetc()
                        if before == ord("-") and last == ord("-") and byte == ord(">"):
                            break
                        before, last = last, byte
                break

    def start_element(self) -> tuple[str, tuple[str, str]]:
        name = self.nsname()
        if name is None:
            raise self.syntax("expected element name after <")
        while True:
            self.space()
            byte = self.mustgetc()
            if byte == ord("/"):
                if self.mustgetc() != ord(">"):
                    raise self.syntax("expected /> in element")
                return ("empty", name)
            if byte == ord(">"):
                return ("start", name)
            self.ungetc()
            if self.nsname() is None:
                raise self.syntax("expected attribute name in element")
            self.space()
            if self.mustgetc() != ord("="):
                raise self.syntax("attribute name without = in element")
            self.space()
            quote = self.mustgetc()
            if quote not in (ord('"'), ord("'")):
                raise self.syntax("unquoted or missing attribute value in element")
            self.text(quote=quote, cdata=False)

    # --- names ---------------------------------------------------------------------------
    def read_name(self) -> bytes | None:
        """Bytes up to the first ASCII byte that cannot be in a name (None: no name here)."""
        start = self.pos
        byte = self.mustgetc()
        if byte < 0x80 and byte not in _NAME_BYTES:
            self.ungetc()
            return None
        while True:
            byte = self.mustgetc()
            if byte < 0x80 and byte not in _NAME_BYTES:
                self.ungetc()
                return self.data[start : self.pos]

    def name(self) -> str | None:
        raw = self.read_name()
        if raw is None:
            return None
        if not _is_name(raw):
            raise self.syntax("invalid XML name: " + go_text(raw))
        return raw.decode("utf-8")

    def nsname(self) -> tuple[str, str] | None:
        text = self.name()
        if text is None or text.count(":") > 1:
            return None
        space, colon, local = text.partition(":")
        if not colon or not space or not local:
            return ("", text)
        return (space, local)

    # --- character data ------------------------------------------------------------------
    def text(self, *, quote: int | None, cdata: bool) -> None:
        """Character data up to ``<`` (or the quote, or ``]]>``), checked as Go checks it."""
        out = bytearray()
        before = last = 0
        while True:
            byte = self.getc()
            if byte is None:
                if cdata:
                    raise self.syntax("unexpected EOF in CDATA section")
                break
            if before == ord("]") and last == ord("]") and byte == ord(">"):
                if cdata:
                    del out[-2:]
                    break
                raise self.syntax("unescaped ]]> not in CDATA section")
            if byte == ord("<") and not cdata:
                if quote is not None:
                    raise self.syntax("unescaped < inside quoted string")
                self.ungetc()
                break
            if quote is not None and byte == quote:
                break
            if byte == ord("&") and not cdata:
                out += self.entity()
                before = last = 0
                continue
            out.append(byte)
            before, last = last, byte
        # Go checks rune by rune: whichever problem comes first is the error.
        try:
            decoded, valid = out.decode("utf-8"), True
        except UnicodeDecodeError as exc:
            decoded, valid = out[: exc.start].decode("utf-8"), False
        for char in decoded:
            if not _is_in_character_range(ord(char)):
                raise self.syntax(f"illegal character code U+{ord(char):04X}")
        if not valid:
            raise self.syntax("invalid UTF-8")

    def entity(self) -> bytes:
        """After ``&``: the text of a character reference or predefined entity."""
        start = self.pos - 1
        byte = self.mustgetc()
        if byte == ord("#"):
            byte = self.mustgetc()
            digits, base = _DIGITS, 10
            if byte == ord("x"):
                digits, base = _HEX_DIGITS, 16
                byte = self.mustgetc()
            first = self.pos - 1
            while byte in digits:
                byte = self.mustgetc()
            if byte == ord(";"):
                number = self.data[first : self.pos - 1]
                if number:
                    value = int(number, base)
                    if value <= _MAX_RUNE:
                        # Go's string(rune(n)): a surrogate becomes U+FFFD.
                        char = "\ufffd" if 0xD800 <= value <= 0xDFFF else chr(value)
                        return char.encode("utf-8")
            else:
                self.ungetc()
        else:
            self.ungetc()
            name = self.read_name()
            byte = self.mustgetc()
            if byte == ord(";"):
                if name is not None and _is_name(name) and name.decode() in _ENTITIES:
                    return {"lt": b"<", "gt": b">", "amp": b"&", "apos": b"'", "quot": b'"'}[
                        name.decode()
                    ]
            else:
                self.ungetc()
        reference = go_text(self.data[start : self.pos])
        if not reference.endswith(";"):
            reference += " (no semicolon)"
        raise self.syntax("invalid character entity " + reference)


def _go_quote(text: str) -> str:
    """Go's %q for the plain strings of a declaration (printable text, quotes escaped)."""
    return json.dumps(text, ensure_ascii=False)


def _proc_inst(param: str, content: str) -> str:
    """Go's procInst: the value of ``param="..."`` (or '...') in a declaration, or ""."""
    key = param + "="
    i = 0
    quote = ""
    while i < len(content):
        sub = content[i:]
        k = sub.find(key)
        if k < 0 or len(key) + k >= len(sub):
            return ""
        i += len(key) + k + 1
        if sub[len(key) + k] in "'\"":
            quote = sub[len(key) + k]
            break
    if not quote:
        return ""
    j = content.find(quote, i)
    return "" if j < 0 else content[i:j]
