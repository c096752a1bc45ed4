"""Go's ``net/mail.ParseAddress``, step by step (Go 1.23 and later).

The server's email check (``model.IsValidEmail``) rests on this parser: an address is valid
when it parses and its bare ``Address`` equals the whole input. `parse_address` returns the
same display name and address as Go, or raises `AddressError` where Go fails: dot-atoms,
quoted strings, nested comments with escapes, angle addresses, phrases with RFC 2047 encoded
words (utf-8, iso-8859-1 and us-ascii; any other charset is an error, as in Go), groups, and
domain literals checked like ``net.ParseIP``. Go 1.22 and older refuse every domain literal;
Mattermost builds with Go 1.23 or newer since 2025, and later ``net/mail`` changes up to Go
1.26 were performance fixes only.

Held to Go itself on every row of tests/data/go_mail_verdicts.jsonl (made by
tools/oracles/mail with Go 1.23.5; see tools/oracles/README.md).
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple

from archivekit.gosem.strings import go_text


class AddressError(ValueError):
    """net/mail refused the input (the message is Go's reason, roughly)."""


class Address(NamedTuple):
    """A parsed address: the display name (may be empty) and the bare address."""

    name: str
    address: str


# --- character classes (RFC 5322 as net/mail reads them; any non-ASCII rune is visible) -----
_SPECIALS = frozenset('()<>[]:;@\\,"')


def _is_vchar(c: str) -> bool:
    return "!" <= c <= "~" or c >= "\x80"


def _is_wsp(c: str) -> bool:
    return c in " \t"


def _is_atext(c: str, dot: bool) -> bool:
    if c == ".":
        return dot
    return c not in _SPECIALS and _is_vchar(c)


def _is_qtext(c: str) -> bool:
    return c not in '\\"' and _is_vchar(c)


def _is_dtext(c: str) -> bool:
    return c not in "[]\\" and _is_vchar(c)


# --- RFC 2047 encoded words, as net/mail decodes them -------------------------------------
class _CharsetError(AddressError):
    """An encoded word names a charset net/mail cannot convert: the whole parse fails."""


def _from_hex(c: str) -> int:
    if "0" <= c <= "9" or "A" <= c <= "F" or "a" <= c <= "f":
        return int(c, 16)
    raise ValueError(c)


def _q_decode(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "_":
            out.append(0x20)
        elif c == "=":
            if i + 2 >= len(text):
                raise ValueError(text)
            out.append(_from_hex(text[i + 1]) << 4 | _from_hex(text[i + 2]))
            i += 2
        elif " " <= c <= "~" or c in "\n\r\t":
            out.append(ord(c))
        else:
            raise ValueError(text)
        i += 1
    return bytes(out)


def _b_decode(text: str) -> bytes:
    """Go's base64.StdEncoding: padding required, nothing after it, trailing bits ignored,
    CR and LF skipped wherever they are."""
    data = text.replace("\r", "").replace("\n", "")
    if not data.isascii() or len(data) % 4:
        raise ValueError(text)
    import binascii  # only for a B-encoded word (RFC 2047), rare in an address

    try:
        return binascii.a2b_base64(data.encode(), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(text) from exc


def _fold_charset(charset: str) -> str:
    # strings.EqualFold against "utf-8", "iso-8859-1" and "us-ascii": ASCII case, plus U+017F
    # (long s), whose simple case folding is "s".
    return "".join("s" if c == "\u017f" else c.lower() if c.isascii() else c for c in charset)


def _decode_word(word: str) -> tuple[str, bool]:
    """net/mail decodeRFC2047Word: (decoded, True), or (word, False) when it is no valid
    encoded word; raises _CharsetError for a charset other than utf-8, iso-8859-1, us-ascii."""
    raw = word.encode()
    if len(raw) < 8 or not word.startswith("=?") or not word.endswith("?=") or word.count("?") != 4:
        return word, False
    charset, _, rest = word[2:-2].partition("?")
    encoding, _, text = rest.partition("?")
    if not charset or len(encoding.encode()) != 1:
        return word, False
    try:
        if encoding in "Bb":
            content = _b_decode(text)
        elif encoding in "Qq":
            content = _q_decode(text)
        else:
            return word, False
    except ValueError:
        return word, False
    folded = _fold_charset(charset)
    if folded == "utf-8":
        return go_text(content), True
    if folded == "iso-8859-1":
        return content.decode("latin-1"), True
    if folded == "us-ascii":
        return "".join(chr(b) if b < 0x80 else "\ufffd" for b in content), True
    raise _CharsetError(f"charset not supported: {charset!r}")


# --- net.ParseIP ----------------------------------------------------------------------------
def _go_parse_ip(text: str) -> bool:
    """Go ``net.ParseIP`` accepts: dotted IPv4 without leading zeros, or IPv6 (optionally
    ending in dotted IPv4), no zone, ASCII only."""
    if not text.isascii() or "%" in text or "/" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- the parser -----------------------------------------------------------------------------
class _Parser:
    """Go's addrParser over a str (Go walks UTF-8 bytes; for valid text the steps match)."""

    def __init__(self, s: str) -> None:
        self.s = s

    def empty(self) -> bool:
        return not self.s

    def peek(self) -> str:
        return self.s[0]

    def consume(self, c: str) -> bool:
        if self.s[:1] == c:
            self.s = self.s[1:]
            return True
        return False

    def skip_space(self) -> None:
        self.s = self.s.lstrip(" \t")

    def skip_cfws(self) -> bool:
        self.skip_space()
        while self.consume("("):
            if self.consume_comment() is None:
                return False
            self.skip_space()
        return True

    def consume_comment(self) -> str | None:
        """The comment text after an opening '(' already consumed; None if unclosed."""
        depth = 1
        text: list[str] = []
        s = self.s
        i = 0
        while i < len(s) and depth:
            c = s[i]
            if c == "\\" and len(s) - i > 1:
                i += 1
                c = s[i]
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            if depth:
                text.append(c)
            i += 1
        self.s = s[i:]
        return "".join(text) if depth == 0 else None

    def consume_atom(self, dot: bool, permissive: bool) -> str:
        i = 0
        while i < len(self.s) and _is_atext(self.s[i], dot):
            i += 1
        if i == 0:
            raise AddressError("invalid string")
        atom, self.s = self.s[:i], self.s[i:]
        if not permissive and (atom.startswith(".") or atom.endswith(".") or ".." in atom):
            raise AddressError("bad dot in atom")
        return atom

    def consume_quoted_string(self) -> str:
        """Content of the quoted string at the cursor (which is on the opening quote)."""
        s = self.s
        out: list[str] = []
        escaped = False
        i = 1
        while True:
            if i >= len(s):
                raise AddressError("unclosed quoted-string")
            c = s[i]
            if escaped:
                if not (_is_vchar(c) or _is_wsp(c)):
                    raise AddressError("bad character in quoted-string")
                out.append(c)
                escaped = False
            elif _is_qtext(c) or _is_wsp(c):
                out.append(c)
            elif c == '"':
                break
            elif c == "\\":
                escaped = True
            else:
                raise AddressError("bad character in quoted-string")
            i += 1
        self.s = s[i + 1 :]
        return "".join(out)

    def consume_domain_literal(self) -> str:
        if not self.consume("["):
            raise AddressError('missing "[" in domain-literal')
        i = 0
        while True:
            if i >= len(self.s):
                raise AddressError("unclosed domain-literal")
            if self.s[i] == "]":
                break
            if not _is_dtext(self.s[i]):
                raise AddressError("bad character in domain-literal")
            i += 1
        dtext, self.s = self.s[:i], self.s[i + 1 :]
        if not _go_parse_ip(dtext):
            raise AddressError("invalid IP address in domain-literal")
        return f"[{dtext}]"

    def consume_addr_spec(self) -> str:
        saved = self.s
        try:
            return self._addr_spec()
        except AddressError:
            self.s = saved
            raise

    def _addr_spec(self) -> str:
        self.skip_space()
        if self.empty():
            raise AddressError("no addr-spec")
        if self.peek() == '"':
            local = self.consume_quoted_string()
            if not local:
                raise AddressError("empty quoted string in addr-spec")
        else:
            local = self.consume_atom(dot=True, permissive=False)
        if not self.consume("@"):
            raise AddressError("missing @ in addr-spec")
        self.skip_space()
        if self.empty():
            raise AddressError("no domain in addr-spec")
        if self.peek() == "[":
            domain = self.consume_domain_literal()
        else:
            domain = self.consume_atom(dot=True, permissive=False)
        return f"{local}@{domain}"

    def consume_phrase(self) -> str:
        words: list[str] = []
        prev_encoded = False
        failed = False
        while True:
            if words and not self.skip_cfws():
                raise AddressError("misformatted parenthetical comment")
            self.skip_space()
            if self.empty():
                break
            encoded = False
            try:
                if self.peek() == '"':
                    word = self.consume_quoted_string()
                else:
                    # Go parses a permissive dot-atom here; the atom stays consumed even when
                    # its encoded word names an unsupported charset.
                    word = self.consume_atom(dot=True, permissive=True)
                    word, encoded = _decode_word(word)
            except AddressError:
                failed = True
                break
            if prev_encoded and encoded:
                words[-1] += word
            else:
                words.append(word)
            prev_encoded = encoded
        if failed and not words:
            raise AddressError("missing word in phrase")
        return " ".join(words)

    def consume_display_name_comment(self) -> str:
        self.consume("(")
        comment = self.consume_comment()
        if comment is None:
            raise AddressError("misformatted parenthetical comment")
        words = comment.replace("\t", " ").split(" ")
        return " ".join(_decode_word(w)[0] for w in words if w)

    def parse_address(self, handle_group: bool) -> list[Address]:
        self.skip_space()
        if self.empty():
            raise AddressError("no address")
        try:
            spec = self.consume_addr_spec()
        except AddressError:
            pass
        else:
            name = ""
            self.skip_space()
            if not self.empty() and self.peek() == "(":
                name = self.consume_display_name_comment()
            return [Address(name, spec)]

        name = ""
        if self.peek() != "<":
            name = self.consume_phrase()
        self.skip_space()
        if handle_group and self.consume(":"):
            return self.consume_group_list()
        if not self.consume("<"):
            raise AddressError("no angle-addr")
        spec = self.consume_addr_spec()
        if not self.consume(">"):
            raise AddressError("unclosed angle-addr")
        return [Address(name, spec)]

    def consume_group_list(self) -> list[Address]:
        group: list[Address] = []
        self.skip_space()
        if self.consume(";"):
            if not self.skip_cfws():
                raise AddressError("misformatted parenthetical comment")
            return group
        while True:
            self.skip_space()
            group += self.parse_address(handle_group=False)
            if not self.skip_cfws():
                raise AddressError("misformatted parenthetical comment")
            if self.consume(";"):
                if not self.skip_cfws():
                    raise AddressError("misformatted parenthetical comment")
                return group
            if not self.consume(","):
                raise AddressError("expected comma")


def parse_address(s: str) -> Address:
    """Go ``net/mail.ParseAddress``: one address (display name, bare address) or AddressError."""
    p = _Parser(s)
    addresses = p.parse_address(handle_group=True)
    if not p.skip_cfws():
        raise AddressError("misformatted parenthetical comment")
    if not p.empty():
        raise AddressError("expected single address")
    if not addresses:
        raise AddressError("empty group")
    if len(addresses) > 1:
        raise AddressError("group with multiple addresses")
    return addresses[0]
