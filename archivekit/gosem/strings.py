"""Go's string semantics where they differ from Python's: lowercasing, splitting, lengths.

Two ways of ignoring case, because Go has two and the server uses both:

* `go_lower` is ``strings.ToLower``: what the server stores and looks names up by (team,
  channel and user names, emails). Go maps rune by rune with the *simple* case mapping.
  Python's ``str.lower`` differs twice: full case mapping turns U+0130 (İ) into two code
  points (Go: plain ``i``), and the final-sigma rule lowers a word-final Σ to ς (Go: always
  σ, so ``ΑΣ`` is ``ασ``). Apart from these, Python and Go map every code point alike.
* `fold_json_key` is how ``encoding/json`` matches a JSON key to a struct field it does not
  spell exactly: Unicode simple *folding*, under which the Kelvin sign (U+212A) matches ``k``
  (``ToLower`` maps it to ``k`` too) and the long s (U+017F) matches ``s`` (which ``ToLower``
  leaves alone).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from typing import Final

# unicode.IsSpace: ASCII \t \n \v \f \r and space, U+0085, U+00A0 and the White_Space set.
_GO_SPACE_RE: Final = re.compile(
    "[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
_CAPITAL_SIGMA: Final = "\u03a3"
# Python's str.split() also splits here; Go does not.
_PY_ONLY_SPACE: Final = frozenset("\x1c\x1d\x1e\x1f")


def go_lower(s: str) -> str:
    """Go ``strings.ToLower``: simple case mapping, rune by rune (U+0130 becomes plain ``i``,
    Σ always σ)."""
    if s.isascii():
        return s.lower()
    s = s.replace("\u0130", "i")
    if _CAPITAL_SIGMA in s:
        # str.lower of a lone character has no context, so no final-sigma rule.
        return "".join([c.lower() for c in s])
    return s.lower()


def members_key(names: Iterable[str]) -> frozenset[str]:
    """A DM/GM's identity: the set of its members' usernames as the server looks them up
    (`go_lower`), whatever their order and repeats."""
    return frozenset([go_lower(name) for name in names])


def members_text(key: Iterable[str]) -> str:
    """A `members_key` as text (how reports, selectors and merges name a DM/GM): its usernames
    sorted and joined by ","."""
    return ",".join(sorted(key))


def fold_json_key(key: str) -> str | None:
    """The lowercase key Go's JSON key matching folds `key` onto, or None when no struct field
    (all ASCII) can match it: outside ASCII only the Kelvin sign and the long s fold onto ASCII
    letters."""
    if not key.isascii():
        key = key.replace("\u212a", "k").replace("\u017f", "s")
        if not key.isascii():
            return None
    return key.lower()


def go_fields(s: str) -> list[str]:
    """Go ``strings.Fields``: split on runs of Unicode white space, no empty fields."""
    if s.isascii() and not any(c in _PY_ONLY_SPACE for c in s):
        return s.split()
    return [f for f in _GO_SPACE_RE.split(s) if f]


_GO_INT_SYNTAX: Final = re.compile(r"[+-]?[0-9]+")


def is_go_int(s: str) -> bool:
    """Whether Go ``strconv.Atoi`` / ``ParseInt(s, 10, 0)`` accepts the syntax of `s`: an
    optional sign and ASCII digits, no spaces or underscores. The range is the caller's check."""
    return _GO_INT_SYNTAX.fullmatch(s) is not None


def byte_len(s: str) -> int:
    """Go ``len(s)``: UTF-8 bytes. ASCII strings skip the encode (the common case)."""
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def rune_len(s: str) -> int:
    """Go ``utf8.RuneCountInString``: code points (decode already replaced lone surrogates)."""
    return len(s)


def _go_replace(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: one U+FFFD per invalid byte, as Go's ``utf8.DecodeRune`` gives."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\ufffd" * (exc.end - exc.start), exc.end


_GO_REPLACE: Final = "archivekit.go-replace"
codecs.register_error(_GO_REPLACE, _go_replace)


def go_text(raw: bytes) -> str:
    """Bytes as Go text: each byte of invalid UTF-8 becomes one U+FFFD (``string`` ranged
    over, or printed)."""
    return raw.decode("utf-8", _GO_REPLACE)
