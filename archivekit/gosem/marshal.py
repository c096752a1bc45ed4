"""The length of Go's ``json.Marshal`` output, in runes, for a decoded JSON value.

The server measures a post's `props` this way: it decodes them into ``map[string]any`` (every
number becomes a float64) and checks ``utf8.RuneCountInString(json.Marshal(props))`` against
a limit (`archivekit.check.rules.post`). We compute that length without building the Go text:

* maps: keys sorted (order does not change the length), no spaces;
* strings: non-ASCII kept, ``"`` ``\\`` and ``\\n \\r \\t \\b \\f`` as two-character escapes
  (``\\b``/``\\f`` since Go 1.22, which every v11 server is built with), other control
  characters as ``\\u00XX``, and ``<`` ``>`` ``&`` U+2028 U+2029 as ``\\uXXXX`` (HTML-safe);
* numbers: Go's float64 format: shortest round-trip digits, plain notation for
  ``1e-6 <= |x| < 1e21`` (``1.0`` -> ``1``), otherwise ``1e+21`` / ``1.5e-7`` style.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

# No Go token is more than 6 times longer than orjson's encoding of the same value: the worst
# case is "<" (1 byte) -> "\u003c" (6 runes); 1e20 (orjson "1e+20") -> 21 digits is 4.2x. And
# runes never exceed UTF-8 bytes. So `6 * len(orjson bytes)` bounds the Go rune length.
_MAX_GO_EXPANSION = 6

_GO_STRING_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_GO_STRING_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
        ord("<"): "\\u003c",
        ord(">"): "\\u003e",
        ord("&"): "\\u0026",
        0x2028: "\\u2028",
        0x2029: "\\u2029",
    }
)

# Integers up to 2**53 survive the float64 round trip unchanged and print as plain digits.
_EXACT_FLOAT_INT = 2**53


def marshal_runes_over(value: dict[str, Any], limit: int) -> bool:
    """True when Go's encoding of `value` is over `limit` runes (cheap for the common case)."""
    try:
        encoded_bytes = len(orjson.dumps(value))
    except TypeError:  # orjson.JSONEncodeError: e.g. an int beyond 64 bits; measure exactly
        return marshal_runes(value) > limit
    if encoded_bytes * _MAX_GO_EXPANSION <= limit:
        return False
    return marshal_runes(value) > limit


def marshal_runes(value: dict[str, Any]) -> int:
    """Runes in Go's ``json.Marshal(value)`` (``model.StringInterfaceToJSON`` for props).

    Walks the value iteratively (deeply nested props must not hit Python's recursion limit).
    Values must be JSON types (dict, list, str, int, float, bool, None); anything else is a
    caller bug and raises TypeError.
    """
    total = 0
    pending: list[Any] = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            total += go_string_length(node)
        elif isinstance(node, dict):
            count = len(node)
            # braces + one colon per entry + commas between entries
            total += 2 + count + max(count - 1, 0)
            for key, item in node.items():
                total += go_string_length(key)
                pending.append(item)
        elif isinstance(node, list):
            total += 2 + max(len(node) - 1, 0)
            pending.extend(node)
        elif node is None or node is True:
            total += 4  # null / true
        elif node is False:
            total += 5
        elif isinstance(node, int):
            total += go_number_length(node)
        elif isinstance(node, float):
            total += go_float_length(node)
        else:
            raise TypeError(f"not a JSON value: {type(node).__name__}")
    return total


def go_string_length(text: str) -> int:
    """Runes of Go's HTML-safe JSON string encoding of `text`, quotes included."""
    if text.isascii() and text.isalnum():  # the common key/value shape needs no escapes
        return len(text) + 2
    return len(text.translate(_GO_STRING_ESCAPES)) + 2


def go_number_length(number: int) -> int:
    """Runes Go prints for a JSON integer, which it decoded as a float64."""
    if -_EXACT_FLOAT_INT <= number <= _EXACT_FLOAT_INT:
        return len(str(number))
    try:
        return go_float_length(float(number))
    except OverflowError:  # beyond float64: Go's decoder refuses the line before this matters
        return len(str(number))


def go_float_length(number: float) -> int:
    """Runes of Go's ``encoding/json`` float64 encoding (``floatEncoder``)."""
    if number == 0.0:
        return 2 if math.copysign(1.0, number) < 0 else 1  # "-0" / "0"
    if not math.isfinite(number):  # JSON cannot carry these; Go would refuse to encode
        return 4
    # repr() gives the shortest digits that round-trip, as Go's strconv does with precision -1;
    # only the layout differs, so rebuild Go's layout from those digits.
    text = repr(number)
    sign = 1 if text[0] == "-" else 0
    mantissa, _, exponent_text = text[sign:].partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    significant = digits.rstrip("0")
    n_digits = len(significant)
    # number == significant * 10**scale
    scale = (int(exponent_text) if exponent_text else 0) - len(fraction)
    scale += len(digits) - n_digits
    magnitude = abs(number)
    if magnitude < 1e-6 or magnitude >= 1e21:
        # d[.ddd]e±X. strconv pads X to two digits; Go's encoder then trims "e-07" to "e-7",
        # and positive exponents are >= 21, so X is always written without padding.
        exponent = scale + n_digits - 1
        point = 1 if n_digits > 1 else 0
        return sign + n_digits + point + 2 + len(str(abs(exponent)))
    if scale >= 0:
        return sign + n_digits + scale  # integer: digits then zeros
    leading = scale + n_digits  # digits before the decimal point
    if leading > 0:
        return sign + n_digits + 1
    return sign + 2 + (-leading) + n_digits  # "0." + zeros + digits
