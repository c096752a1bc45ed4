"""Pseudonyms for `redact`: keyed, consistent, and shaped so the server judges them alike.

Every pseudonym comes from HMAC-SHA256 under the run's key, so the same key gives the same
output bytes and another key gives unrelated ones. A pseudonym keeps what the server's rules
look at (`archivekit.check.rules.names`), character by character:

* ASCII lowercase letters stay ASCII lowercase letters, digits stay digits, and everything
  that is not a letter or digit (``.``, ``-``, ``_``, ``@``, spaces, punctuation, emoji,
  combining marks) is kept where it is — so regexes such as the username or team-name rule
  match the pseudonym exactly when they matched the original;
* a letter outside ASCII becomes a letter of the same kind (cased or not) whose UTF-8
  encoding has the same length, and a non-ASCII digit a digit of its own script: lengths in
  runes *and* bytes stay the same, so every length limit (and the props' JSON size) judges the
  pseudonym as it judged the original;
* names are mapped on their lowercase key (Go ``strings.ToLower``, as the server looks them
  up) and the original's case pattern is put back on the result, so ``Alice`` in a reference
  still differs from ``alice`` in the definition only in case. A capital whose lowercase has
  another UTF-8 length (the Angstrom sign, ẞ, Ⱥ) becomes a capital of its length whose
  lowercase is the pseudonym's (`_fit_name`; such lowercase letters are mapped among letters
  with capitals of the same lengths). The Kelvin sign and İ lowercase to ASCII k and i, whose
  pseudonyms no capital of their length lowercases to: they become plain capitals (the
  lowercase, which the server judges, wins over the byte length). In free text, where case
  is not compared, lengths win (`_fit`).

Names (users, teams, channels, emoji, schemes, emails, auth data) are kept in a table, one
entry per distinct name: a pseudonym is never given to two names (no new duplicates), never
equals its original, and never lands on a name the server treats specially (reserved
usernames and team-name prefixes, the default channels, system emoji); a short name (at
most `_SMALL_SPACE` names of its shape) takes the next free name on a keyed cycle through all
names of its shape, so this holds even when every one of them is taken. Names the server
treats specially are kept as they are: they are not personal. Words of free text (messages,
headers, props...) are mapped without a table (a small bounded cache only speeds up repeats):
memory is bounded by the number of distinct names, never by posts.
"""

from __future__ import annotations

import base64
import functools
import hmac
import re
import unicodedata
from collections.abc import Callable
from typing import Final, Literal

from archivekit.check.rules.context import DEFAULT_CHANNELS
from archivekit.check.rules.names import RESERVED_TEAM_NAME_PREFIXES, RESERVED_USERNAMES
from archivekit.check.rules.vendored import system_emojis
from archivekit.gosem.images import IMAGE_EXTENSIONS
from archivekit.gosem.strings import go_lower

NameKind = Literal["user", "team", "channel", "emoji", "scheme", "email", "auth"]
NAME_KINDS: Final[tuple[NameKind, ...]] = (
    "user",
    "team",
    "channel",
    "emoji",
    "scheme",
    "email",
    "auth",
)

# Byte -> character tables for `bytes.translate` (the fast path of all-letter words).
_LOWER: Final = bytes(ord("a") + i % 26 for i in range(256))
_DIGITS: Final = bytes(ord("0") + i % 10 for i in range(256))
_HEX: Final = "0123456789abcdef"
# Cased letters with a one-to-one case mapping, by UTF-8 length (lowercase; .upper() of each
# is one code point of the same length): Latin-1, Latin Extended Additional, Deseret.
_CASED: Final = {
    2: [chr(c) for c in range(0xE0, 0xFF) if c != 0xF7],
    3: [chr(c) for c in range(0x1E01, 0x1E96, 2)],
    4: [chr(c) for c in range(0x10428, 0x10450)],
}
# Letters without case, by UTF-8 length: Hebrew, CJK ideographs, CJK extension B.
_UNCASED: Final = {2: (0x05D0, 27), 3: (0x4E00, 20902), 4: (0x20000, 42711)}
# Split on words, keeping them: the words are at the odd indexes of the result.
_WORD_SPLIT_RE: Final = re.compile(r"([^\W_]+)")
# In messages: email addresses, @mentions (not inside an email address), ~channel links and
# :emoji: codes. An address is ASCII around its "@" (_redact.c leaves every message with such an
# "@" to this regex: keep the two in step).
_EMAIL_IN_TEXT: Final = r"[A-Za-z0-9_.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_MESSAGE_RE: Final = re.compile(
    rf"({_EMAIL_IN_TEXT})|(?<![\w@.])@([\w.\-]+)|(?<![\w~])~([\w\-]+)"
    r"|:([A-Za-z0-9+_-]+):|[^\W_]+"
)
_SEPARATORS: Final = re.compile(r"([/\\])")
_DM_LIKE_RE: Final = re.compile(r"[0-9a-f]{40}")
_WORD_CACHE_MAX: Final = 1 << 16
_KEEP_COMPONENTS: Final = frozenset({"", ".", "..", "data"})
# File extensions kept as they are: the images the server decodes, and common kinds of file
# (they name no one). Any other extension could (``passport.xavier``): mapped like a word.
_KEPT_EXTENSIONS: Final = frozenset(
    {e.removeprefix(".") for e in IMAGE_EXTENSIONS}
    | {
        *("bmp", "tif", "tiff", "svg", "heic", "ico", "pdf", "txt", "md", "rtf", "csv", "tsv"),
        *("doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "key", "pages"),
        *("zip", "gz", "tgz", "tar", "7z", "rar", "mp3", "mp4", "m4a", "wav", "ogg", "mov"),
        *("avi", "mkv", "webm", "json", "jsonl", "xml", "html", "htm", "log", "eml", "ics"),
        *("js", "ts", "py", "go", "java", "c", "h", "sh", "sql", "yaml", "yml", "bin", "dat"),
    }
)
_MAX_ATTEMPTS: Final = 64
# Names of ASCII letters and digits with at most this many of the same shape (letters and
# digits where the name has them, the rest as it is: 3 letters, 17,576) are mapped along a
# keyed cycle through all of them (`Pseudonyms._small_name`): no two share a pseudonym and
# none keeps its own, even when every name of the shape is taken (channels 0..9, a..z).
_SMALL_SPACE: Final = 20_000
_CYCLES_MAX: Final = 64  # shapes whose cycle is remembered (each up to _SMALL_SPACE names)


def _utf8_len(c: str) -> int:
    return len(c.encode("utf-8", "surrogatepass"))


@functools.cache
def _other_length_capitals() -> dict[str, tuple[str, ...]]:
    """Lowercase letter → the letters of another UTF-8 length Go lowercases onto it (k: the
    Kelvin sign; i: İ; å: the Angstrom sign; ß: ẞ; ⱥ: Ⱥ...). Built once, on the first letter
    outside ASCII (all such letters are in the first two planes)."""
    out: dict[str, list[str]] = {}
    for cp in range(0x20000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        low = go_lower(c)
        if len(low) == 1 and low != c and _utf8_len(low) != _utf8_len(c):
            out.setdefault(low, []).append(c)
    return {low: tuple(capitals) for low, capitals in out.items()}


@functools.cache
def _same_capitals(c: str) -> tuple[str, ...]:
    """The lowercase letters outside ASCII whose capitals have the UTF-8 lengths of ``c``'s
    (the letters ``c`` is mapped among, so a capital of another length, such as the
    Angstrom sign, has a counterpart of its length in the pseudonym)."""
    table = _other_length_capitals()

    def lengths(low: str) -> frozenset[int]:
        capitals = (low.upper(), *table.get(low, ()))
        return frozenset(_utf8_len(u) for u in capitals if go_lower(u) == low and u != low)

    size, wanted = _utf8_len(c), lengths(c)
    return tuple(low for low in table if not low.isascii() and _utf8_len(low) == size
                 and lengths(low) == wanted)  # fmt: skip


def _other_char(c: str, r: int) -> str:
    """The replacement of one non-ASCII character (lowercase already) by class and length."""
    category = unicodedata.category(c)
    if category == "Nd":
        return chr(ord(c) - unicodedata.digit(c) + r % 10)
    if category[0] != "L":
        return c  # marks, symbols, punctuation, spaces: not words
    size = _utf8_len(c)
    if category == "Ll" and c in _other_length_capitals():
        alike = _same_capitals(c)
        return alike[r % len(alike)]
    if category in ("Ll", "Lu", "Lt") and size in _CASED:
        pool = _CASED[size]
        out = pool[r % len(pool)]
        return out.upper() if category != "Ll" else out
    if size in _UNCASED:
        start, count = _UNCASED[size]
        return chr(start + r % count)
    return c


def _fit(original: str, mapped: str) -> str:
    """``mapped`` with each character whose UTF-8 length differs from the original's at its
    place replaced by a letter of the original's kind and length (chosen by the mapped one):
    a letter whose lowercase has another length (İ, the Kelvin sign, Ⱥ...) keeps its length.
    Such a letter's pseudonym then differs from its lowercase spelling's in more than case."""
    if original.isascii() or len(original) != len(mapped):
        return mapped
    out = list(mapped)
    for i, (o, m) in enumerate(zip(original, mapped, strict=True)):
        if o != m and _utf8_len(o) != _utf8_len(m):
            out[i] = _other_char(o, ord(m))
    return "".join(out)


def _fit_name(original: str, mapped: str) -> str:
    """``mapped`` (a name's pseudonym, the original's case put back) with each capital whose
    UTF-8 length differs from the original's at its place replaced by a capital of the
    original's length that lowercases to the same letter (Å, the Angstrom sign, becomes the
    Ohm sign when å becomes ω): the server compares names by their lowercase, so the
    lowercase wins. A letter no capital of that length lowercases onto (the Kelvin sign and
    İ, whose lowercase is ASCII) stays the plain capital: the name is shorter in bytes."""
    if original.isascii() or len(original) != len(mapped):
        return mapped
    out = list(mapped)
    table = _other_length_capitals()
    for i, (o, m) in enumerate(zip(original, mapped, strict=True)):
        size = _utf8_len(o)
        if o == m or size == _utf8_len(m):
            continue
        low = go_lower(m)
        for capital in (low.upper(), *table.get(low, ())):
            if len(capital) == 1 and go_lower(capital) == low and _utf8_len(capital) == size:
                out[i] = capital
                break
    return "".join(out)


def _recase(original: str, lowered: str, mapped: str) -> str:
    """Put the case pattern of ``original`` (whose lowercase is ``lowered``) on ``mapped``."""
    if original == lowered or len(original) != len(mapped):
        return mapped
    if original.isupper():
        upper = mapped.upper()
        if len(upper) == len(mapped):
            return upper
    out = []
    for o, low, m in zip(original, lowered, mapped, strict=True):
        if o != low:
            up = m.upper()
            out.append(up if len(up) == 1 else m)
        else:
            out.append(m)
    return "".join(out)


class Pseudonyms:
    """The pseudonyms of one redaction run (see the module docstring)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._names: dict[NameKind, dict[str, str]] = {kind: {} for kind in NAME_KINDS}
        self._taken: dict[NameKind, set[str]] = {kind: set() for kind in NAME_KINDS}
        # Each spelling met (case variants of a name included) → its pseudonym: a lookup.
        self._spelled: dict[NameKind, dict[str, str]] = {kind: {} for kind in NAME_KINDS}
        self._words: dict[str, str] = {}
        self._cycles: dict[tuple[bytes, str], tuple[list[int], dict[int, int]]] = {}

    # --- the keyed stream ----------------------------------------------------------------------
    def _stream(self, domain: bytes, text: str, attempt: int, size: int) -> bytes:
        seed = domain + b"\0" + attempt.to_bytes(2, "big") + text.encode("utf-8", "surrogatepass")
        out = hmac.digest(self._key, seed, "sha256")
        block = out
        while len(out) < size:
            block = hmac.digest(self._key, block + seed, "sha256")
            out += block
        return out

    def _shape(
        self, domain: bytes, lowered: str, attempt: int = 0, *, hexlike: bool = False
    ) -> str:
        """``lowered`` with every letter and digit replaced, class and length kept."""
        n = len(lowered)
        stream = self._stream(domain, lowered, attempt, 2 * n)
        if lowered.isascii():
            if lowered.isalpha() and not hexlike:
                return stream[:n].translate(_LOWER).decode("ascii")
            if lowered.isdigit():
                return stream[:n].translate(_DIGITS).decode("ascii")
        out = []
        for i, c in enumerate(lowered):
            r = stream[2 * i] << 8 | stream[2 * i + 1]
            if "a" <= c <= "z":
                out.append(_HEX[10 + r % 6] if hexlike and c <= "f" else chr(97 + r % 26))
            elif "0" <= c <= "9":
                out.append(chr(48 + r % 10))
            elif c.isascii():
                out.append(c)
            else:
                out.append(_other_char(c, r))
        return "".join(out)

    # --- free text -------------------------------------------------------------------------------
    def word(self, word: str) -> str:
        """One word of free text (letters and digits): keyed, class- and case-preserving."""
        cached = self._words.get(word)
        if cached is not None:
            return cached
        lowered = go_lower(word)
        mapped = self._shape(b"w", lowered)
        attempt = 1
        while mapped == lowered and attempt < 4:
            mapped = self._shape(b"w", lowered, attempt)
            attempt += 1
        mapped = _fit(word, _recase(word, lowered, mapped))
        if len(self._words) >= _WORD_CACHE_MAX:
            self._words.clear()
        self._words[word] = mapped
        return mapped

    def text(self, text: str, attempt: int = 0) -> str:
        """Free text (display names, headers, purposes, props strings...): each word mapped,
        everything between words kept. ``attempt`` > 0: another keyed variant (uncached), for
        a caller that must avoid a clash."""
        # One C split and a dict lookup per word: a regex callback per word costs 3x more.
        parts = _WORD_SPLIT_RE.split(text)
        if attempt:
            parts[1::2] = [self._variant(w, attempt) for w in parts[1::2]]
            return "".join(parts)
        words = self._words
        word = self.word
        parts[1::2] = [words.get(w) or word(w) for w in parts[1::2]]
        return "".join(parts)

    def _variant(self, word: str, attempt: int) -> str:
        lowered = go_lower(word)
        return _fit(word, _recase(word, lowered, self._shape(b"w", lowered, attempt + 4)))

    def message(self, text: str) -> str:
        """A message: words as `text`, ``@user`` mentions, ``~channel`` links and ``:emoji:``
        codes as the user's, channel's and emoji's pseudonyms."""
        if "@" in text or "~" in text or ":" in text:
            return _MESSAGE_RE.sub(self._message_match, text)
        return self.text(text)

    def _message_match(self, match: re.Match[str]) -> str:
        email, user, channel, emoji = match.group(1, 2, 3, 4)
        if email is not None:
            return self.email_in_text(email)
        if user is not None:
            core = user.rstrip(".-_")
            rest = user[len(core) :]
            return "@" + (self.name("user", core) if core else "") + rest
        if channel is not None:
            return "~" + self.name("channel", channel)
        if emoji is not None:
            # Exports write emoji lines after the posts, so a code is mapped as an emoji name
            # whether or not its definition came yet (system emoji stay as they are); one
            # without a letter (a time such as 10:30:45) is plain text.
            if any(c.isalpha() for c in emoji):
                return ":" + self.name("emoji", emoji) + ":"
            return ":" + self.text(emoji) + ":"
        return self.word(match.group())

    # --- names ---
    def name(self, kind: NameKind, value: str) -> str:
        """A name of ``kind``: one pseudonym per lowercase key, the original's case put back."""
        spelled = self._spelled[kind]
        found = spelled.get(value)
        if found is not None:
            return found
        if not value:
            return value
        lowered = go_lower(value)
        mapped = self._names[kind].get(lowered)
        if mapped is None:
            mapped = self._new_name(kind, lowered)
        found = spelled[value] = _fit_name(value, _recase(value, lowered, mapped))
        return found

    def _new_name(self, kind: NameKind, lowered: str) -> str:
        keep = _kept_part(kind, lowered)
        taken = self._taken[kind]
        if keep == len(lowered):
            mapped = lowered
        else:
            prefix, rest = lowered[:keep], lowered[keep:]
            hexlike = kind == "channel" and _DM_LIKE_RE.fullmatch(lowered) is not None
            shape: Callable[[int], str] = (
                (lambda attempt: self._email(rest, attempt))
                if kind == "email"
                else (lambda attempt: self._shape(kind.encode(), rest, attempt, hexlike=hexlike))
            )
            small = self._small_name(kind, lowered) if kind != "email" and not keep else None
            mapped = small if small is not None else lowered
            # Twice the attempts: first avoiding the other originals seen so far (a pseudonym
            # that is another name reads as that name), then not (the shape may hold no
            # other); never the original itself.
            for attempt in range(2 * _MAX_ATTEMPTS if small is None else 0):
                candidate = prefix + shape(attempt)
                if (
                    candidate != lowered
                    and candidate not in taken
                    and (attempt >= _MAX_ATTEMPTS or candidate not in self._names[kind])
                    and _kept_part(kind, candidate) == keep
                ):
                    mapped = candidate
                    break
            else:
                if small is None and any(c.isalnum() for c in rest):
                    # Every candidate taken: a name of its shape many times over. A duplicate
                    # (validate reports it) rather than the original (a leak).
                    mapped = prefix + shape(0)
        taken.add(mapped)
        self._names[kind][lowered] = mapped
        return mapped

    def _small_name(self, kind: NameKind, lowered: str) -> str | None:
        """The pseudonym of an ASCII name whose shape holds at most `_SMALL_SPACE` names: the
        next free one after it on a keyed cycle through all names of its shape (None for
        another name, or when every other name of the shape is taken or reserved)."""
        if not lowered.isascii():
            return None
        radices = [26 if c.isalpha() else 10 for c in lowered if c.isalnum()]
        size = 1
        for radix in radices:
            size *= radix
        if size <= 1 or size > _SMALL_SPACE:
            return None
        shape = "".join("a" if c.isalpha() else "0" if c.isdigit() else c for c in lowered)
        order, place = self._cycle(kind.encode(), shape, size)

        def spelled(index: int) -> str:
            out = []
            for c in reversed(shape):
                if c == "a" or c == "0":
                    radix = 26 if c == "a" else 10
                    index, digit = divmod(index, radix)
                    out.append(chr((97 if c == "a" else 48) + digit))
                else:
                    out.append(c)
            return "".join(reversed(out))

        index = 0
        for c in lowered:
            if c.isalpha():
                index = index * 26 + ord(c) - 97
            elif c.isdigit():
                index = index * 10 + ord(c) - 48
        taken, originals = self._taken[kind], self._names[kind]
        for avoid in (originals, {}):  # first not another original seen so far (see _new_name)
            step = place[index]
            for _ in range(size - 1):
                step = (step + 1) % size
                candidate = spelled(order[step])
                if (
                    candidate not in taken
                    and candidate not in avoid
                    and not _kept_part(kind, candidate)
                ):
                    return candidate
        return None

    def _cycle(self, domain: bytes, shape: str, size: int) -> tuple[list[int], dict[int, int]]:
        """A keyed order of the ``size`` names of ``shape`` (by index) and each one's place."""
        found = self._cycles.get((domain, shape))
        if found is None:
            seed = domain + b"\0cycle\0" + shape.encode("ascii") + b"\0"
            key = self._key
            order = sorted(
                range(size), key=lambda i: hmac.digest(key, seed + i.to_bytes(4, "big"), "sha256")
            )
            if len(self._cycles) >= _CYCLES_MAX:
                self._cycles.clear()
            found = self._cycles[(domain, shape)] = (order, {v: i for i, v in enumerate(order)})
        return found

    def _email(self, lowered: str, attempt: int) -> str:
        """local@domain: the local part and every domain label but the last (the top-level
        domain, which names no one) mapped; ``@`` and dots kept."""
        at = lowered.rfind("@")
        if at < 0:
            return self._shape(b"email", lowered, attempt)
        local, domain = lowered[:at], lowered[at + 1 :]
        labels = domain.split(".")
        mapped = [self._shape(b"domain", label, attempt) for label in labels[:-1]]
        mapped.append(labels[-1] if len(labels) > 1 else self._shape(b"domain", labels[-1]))
        return self._shape(b"email", local, attempt) + "@" + ".".join(mapped)

    def scheme_role(self, value: str) -> str:
        """A role name of a scheme's role object: ``<scheme name>_<role>`` (as exporters
        name them) with the scheme's pseudonym in place of the scheme's name (the longest
        scheme met so far that starts it); any other role name is an enumeration, kept."""
        lowered = go_lower(value)
        schemes = [s for s in self._names["scheme"] if lowered.startswith(s + "_")]
        if not schemes:
            return value
        size = len(max(schemes, key=len))
        return self.name("scheme", value[:size]) + value[size:]

    def spellings(self) -> dict[NameKind, dict[str, str]]:
        """Each spelling met → its pseudonym, per kind: the live tables `name` answers from,
        for a faster walk (redact's C one) to look names up in before calling `name`. Only
        `name` writes them."""
        return self._spelled

    def email(self, value: str) -> str:
        return self.name("email", value)

    def email_in_text(self, value: str) -> str:
        """An address in a message: a known user's email as its pseudonym, any other keyed
        alike (the pseudonym it would get as a user's email) but kept in no table, so memory
        stays bounded by the names, not by the posts."""
        lowered = go_lower(value)
        if lowered in self._names["email"]:
            return self.name("email", value)
        return _recase(value, lowered, self._email(lowered, 0))

    def known(self, kind: NameKind, value: str) -> bool:
        return go_lower(value) in self._names[kind]

    # --- paths ---
    def component(self, component: str) -> str:
        """One element of a file path: a keyed token of letters and digits (long enough that
        two files never meet), the extension kept (the server judges images by it)."""
        if component in _KEEP_COMPONENTS:
            return component
        if not component.isascii():
            component = unicodedata.normalize("NFC", component)  # the server's member key
        stem, dot, ext = component.rpartition(".")
        if not (dot and stem and 0 < len(ext) <= 8 and ext.isascii() and ext.isalnum()):
            stem, dot, ext = component, "", ""
        digest = self._stream(b"path", stem, 0, 32)
        token = base64.b32encode(digest[:10]).decode("ascii").lower()
        if ext and go_lower(ext) not in _KEPT_EXTENSIONS:
            ext = _recase(ext, go_lower(ext), self._shape(b"ext", go_lower(ext)))
        return token + dot + ext

    def path(self, path: str) -> str:
        """A JSONL file path or a zip member name: every element mapped by `component`,
        separators (``/`` and ``\\``, an ordinary character the server keeps) kept."""
        return "".join(
            part if i % 2 else self.component(part)
            for i, part in enumerate(_SEPARATORS.split(path))
        )

    # --- the reverse mapping ---------------------------------------------------------------------
    def reverse(self) -> dict[str, dict[str, str]]:
        """pseudonym → original, per kind of name, each spelling met as it was written (the
        case of a reference that differs from its definition's is kept: the customer reads
        support's answer in their own spelling) — for ``--mapping``; kept names left out."""
        out: dict[str, dict[str, str]] = {}
        for kind in NAME_KINDS:
            pairs = {m: o for o, m in self._spelled[kind].items() if m != o}
            out[kind] = dict(sorted(pairs.items()))
        return out

    def counts(self) -> dict[str, int]:
        """How many distinct names (by lowercase key) got a pseudonym, per kind."""
        return {kind: sum(m != o for o, m in self._names[kind].items()) for kind in NAME_KINDS}


def _kept_part(kind: NameKind, lowered: str) -> int:
    """How many leading characters of a name stay as they are: all of a name the server
    treats specially, the reserved prefix of a team name, else none."""
    if kind == "user" and lowered in RESERVED_USERNAMES:
        return len(lowered)
    if kind == "channel" and lowered in DEFAULT_CHANNELS:
        return len(lowered)
    if kind == "emoji" and lowered in system_emojis():
        return len(lowered)
    if kind == "team":
        for prefix in RESERVED_TEAM_NAME_PREFIXES:
            if lowered.startswith(prefix):
                return len(prefix)
    return 0
