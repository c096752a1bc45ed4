"""Props length must equal the rune count of Go's json.Marshal output, byte for byte in spirit."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archivekit.check.rules.post import PROPS_MAX_RUNES
from archivekit.gosem.marshal import go_float_length, marshal_runes, marshal_runes_over


def go_float_text(number: float) -> str:
    """Oracle for Go's float64 JSON text, built with Decimal rather than the module's arithmetic."""
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    value = Decimal(repr(number)).normalize()
    if 1e-6 <= abs(number) < 1e21:
        return format(value, "f")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    power = exponent + len(digits) - 1
    return ("-" if sign else "") + mantissa + "e" + ("+" if power >= 0 else "-") + str(abs(power))


def go_marshal_without_floats(value: Any) -> str:
    """Oracle for float-free values: Python's compact sorted JSON plus Go's HTML-safe escapes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@pytest.mark.parametrize(
    ("number", "go_text"),
    [
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e100, "1e+100"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (1e-7, "1e-7"),
        (1.234e-10, "1.234e-10"),
        (-0.0, "-0"),
        (0.0, "0"),
        (123456.789, "123456.789"),
        (1e16, "10000000000000000"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
    ],
)
def test_floats_are_measured_in_gos_format(number: float, go_text: str) -> None:
    assert go_float_text(number) == go_text  # the oracle itself agrees with Go
    assert go_float_length(number) == len(go_text)
    assert marshal_runes({"n": number}) == len('{"n":' + go_text + "}")


@pytest.mark.parametrize(
    ("number", "go_text"),
    [
        (1, "1"),
        (-42, "-42"),
        (2**53, "9007199254740992"),
        (2**53 + 1, "9007199254740992"),  # float64 rounds it; same length
        (123456789012345678, "123456789012345680"),
        (12345678901234567890, "12345678901234567000"),
        (99999999999999999999, "100000000000000000000"),  # rounds up to 1e20: one digit more
        (10**21, "1e+21"),
        (10**25 + 1, "1e+25"),
    ],
)
def test_integers_were_float64_to_go(number: int, go_text: str) -> None:
    assert marshal_runes({"n": number}) == len('{"n":' + go_text + "}")


@pytest.mark.parametrize(
    ("text", "go_json"),
    [
        ("<a&b>", '"\\u003ca\\u0026b\\u003e"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ('q"b\\', '"q\\"b\\\\"'),
        ("\n\r\t\b\f", '"\\n\\r\\t\\b\\f"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x7f", '"\x7f"'),  # DEL is not escaped
        ("é😀中", '"é😀中"'),  # non-ASCII kept: one rune each
        ("", '""'),
    ],
)
def test_strings_use_gos_html_safe_escapes(text: str, go_json: str) -> None:
    assert marshal_runes({text: text}) == 2 + 2 * len(go_json) + 1


def test_structure_nested_maps_and_lists() -> None:
    props = {"b": [1, {"c": None, "d": [True, False]}, []], "a": {}, "e": "x"}
    go = '{"a":{},"b":[1,{"c":null,"d":[true,false]},[]],"e":"x"}'
    assert marshal_runes(props) == len(go)


def test_empty_props_are_two_runes() -> None:
    assert marshal_runes({}) == 2


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    props: dict[str, Any] = {}
    inner = props
    for _ in range(5000):
        inner["k"] = {}
        inner = inner["k"]
    assert marshal_runes(props) == 5000 * len('{"k":}') + 2


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20))
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_value, max_size=6))
def test_parity_with_the_go_text_oracle(props: dict[str, Any]) -> None:
    assert marshal_runes(props) == len(go_marshal_without_floats(props))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_parity_with_the_decimal_oracle(number: float) -> None:
    assert go_float_length(number) == len(go_float_text(number))


def props_of_length(runes: int, char: str = "é") -> dict[str, Any]:
    """`{"k":"ééé…"}` is the value's length + 8 runes."""
    return {"k": char * (runes - 8)}


def test_limit_exactly_800000_runes_is_accepted() -> None:
    props = props_of_length(PROPS_MAX_RUNES)
    assert marshal_runes(props) == PROPS_MAX_RUNES
    assert not marshal_runes_over(props, PROPS_MAX_RUNES)


def test_limit_800001_runes_is_refused() -> None:
    props = props_of_length(PROPS_MAX_RUNES + 1)
    assert marshal_runes_over(props, PROPS_MAX_RUNES)


def test_escapes_push_a_short_props_over_the_limit() -> None:
    # 160,000 "<" are 160,000 bytes for orjson but 960,000 runes for Go.
    props = {"k": "<" * 160_000}
    assert marshal_runes(props) == 960_008
    assert marshal_runes_over(props, PROPS_MAX_RUNES)


def test_small_props_take_the_fast_path_and_are_accepted() -> None:
    assert not marshal_runes_over(
        {"from_webhook": "true", "attachments": [{"text": "hi"}]}, PROPS_MAX_RUNES
    )


def test_int_beyond_64_bits_falls_back_to_the_exact_walk() -> None:
    props = {"n": 10**30, "k": "x" * (PROPS_MAX_RUNES - 20)}
    # {"k":"x…","n":1e+30}: the value's length + 8, a comma, "n":, and 5 runes of number
    assert marshal_runes(props) == (PROPS_MAX_RUNES - 20) + 8 + 1 + 4 + 5
    assert not marshal_runes_over(props, PROPS_MAX_RUNES)


def test_a_custom_limit_is_honoured() -> None:
    assert marshal_runes_over({"k": "abc"}, limit=10)
    assert not marshal_runes_over({"k": "ab"}, limit=10)


def test_non_json_values_are_a_caller_bug() -> None:
    with pytest.raises(TypeError):
        marshal_runes({"k": object()})
