"""decode_line reproduces Go's json.Unmarshal into the server's LineImportData (spec §2.2)."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from archivekit.gosem.decode import (
    ENVELOPE,
    GO_MAX_DEPTH,
    JSON_DECODE_ERROR_ID,
    _fast,
    _slow,
    check_canonical,
    decode_line,
    type_is_settled,
)
from archivekit.gosem.spec import FieldSpec, Kind, StructSpec
from archivekit.issues import CODES, FAILS_IMPORT, Severity
from archivekit.model import Envelope, PostImport, parse_line
from archivekit.testing.fuzz import apply_record_mutations, record_mutations


def ok(raw: bytes) -> dict[str, Any]:
    """The envelope of a line that must decode, with no issues."""
    doc, issues = decode_line(raw)
    assert doc is not None, issues
    assert issues == ()
    return doc


def fails(raw: bytes, code: str) -> Any:
    """The single issue of a line Go cannot decode."""
    doc, issues = decode_line(raw)
    assert doc is None
    assert len(issues) == 1
    (issue,) = issues
    assert issue.code == code
    assert issue.severity is Severity.ERROR
    assert issue.server_error_id == JSON_DECODE_ERROR_ID
    assert issue.effect == FAILS_IMPORT
    return issue


def line(payload: dict[str, Any], line_type: str = "post") -> bytes:
    return orjson.dumps({"type": line_type, line_type: payload})


# --- the clean line ------------------------------------------------------------------------


def test_a_clean_post_line_decodes_to_its_own_dict():
    payload = {
        "team": "t",
        "channel": "c",
        "user": "u",
        "message": "hi",
        "create_at": 1,
        "props": {"a": [1, {"b": None}]},
        "replies": [{"user": "r", "message": "m", "create_at": 2}],
    }
    assert ok(line(payload)) == {"type": "post", "post": payload}


def test_type_null_or_absent_decodes_as_empty_string():
    assert ok(b'{"type":null}') == {"type": ""}
    assert ok(b'{"post":{"team":"t"}}') == {"type": "", "post": {"team": "t"}}


def test_null_means_absent():
    assert ok(b'{"type":"post","post":{"team":null,"props":null}}')["post"] == {
        "team": None,
        "props": None,
    }


def test_the_json_null_line_is_an_empty_envelope():
    assert ok(b"null") == {"type": ""}


@pytest.mark.parametrize("raw", [b"[]", b'"post"', b"1", b"true"])
def test_a_line_that_is_not_an_object_is_a_type_error(raw):
    issue = fails(raw, "json-type")
    assert "into Go value of type imports.LineImportData" in issue.message


def test_unknown_keys_are_ignored_and_dropped():
    doc = ok(b'{"type":"post","x":{"y":[1]},"post":{"team":"t","urgent":1,"zz":null}}')
    assert doc == {"type": "post", "post": {"team": "t"}}


# --- keys: case folding, repeats -----------------------------------------------------------


@pytest.mark.parametrize("key", ["type", "Type", "TYPE", "tYpE"])
def test_the_type_key_matches_case_insensitively(key):
    assert ok(b'{"%s":"post"}' % key.encode())["type"] == "post"


def test_payload_keys_match_case_insensitively():
    doc = ok(b'{"Type":"post","Post":{"TEAM":"t","Create_At":5}}')
    assert doc == {"type": "post", "post": {"team": "t", "create_at": 5}}


def test_go_folds_the_long_s_and_the_kelvin_sign_onto_ascii():
    # U+017F (long s) ~ s; U+212A (Kelvin sign) ~ k.
    doc = ok('{"type":"user","po\u017ft":{"team":"t"},"user":{"lin\u212a_previews":"x"}}'.encode())
    assert doc["post"] == {"team": "t"}
    assert doc["user"] == {"link_previews": "x"}


def test_other_unicode_lookalikes_do_not_match():
    # U+0130 (dotted capital I) lowercases to "i̇" in Python but Go does not fold it.
    assert ok('{"type":"post","post":{"\u0130s_pinned":true}}'.encode())["post"] == {}


def test_for_repeated_keys_the_last_scalar_wins_across_case_variants():
    assert ok(b'{"type":"post","Type":"user","TYPE":"team"}')["type"] == "team"
    assert ok(b'{"type":"post","post":{"team":"a","Team":"b"}}')["post"] == {"team": "b"}


def test_a_repeated_null_clears_a_pointer_but_not_a_plain_string():
    # Go: `Type string` ignores null; `*string` fields become nil.
    assert ok(b'{"type":"post","type":null}')["type"] == "post"
    assert ok(b'{"type":"post","post":{"team":"a","team":null}}')["post"] == {"team": None}


@pytest.mark.parametrize("second", [b'"Post"', b'"post"'])
def test_repeated_objects_merge_as_go_decodes_into_the_existing_struct(second):
    raw = b'{"type":"post","post":{"team":"a","channel":"x"},%s:{"channel":"b"}}' % second
    assert ok(raw)["post"] == {"team": "a", "channel": "b"}


def test_repeated_props_merge_like_a_go_map():
    raw = b'{"type":"post","post":{"props":{"a":1,"b":2},"props":{"b":3}}}'
    assert ok(raw)["post"]["props"] == {"a": 1, "b": 3}


def test_repeated_arrays_reuse_elements_as_go_decodes_into_the_slice():
    raw = (
        b'{"type":"post","post":{"replies":[{"user":"a"},{"user":"b"}],'
        b'"replies":[{"message":"m"}],"flagged_by":["x","y"],"flagged_by":[null]}}'
    )
    post = ok(raw)["post"]
    assert post["replies"] == [{"user": "a", "message": "m"}]
    assert post["flagged_by"] == ["x"]


def test_a_repeated_key_holding_an_object_is_decoded_exactly_even_when_spelled_the_same():
    # orjson keeps only the last object; the fast path must notice and defer.
    assert _fast(b'{"type":"post","post":{"team":"a"},"post":{"user":"u"}}') is None


# --- strict types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (
            b'{"type":"team","team":{"allow_open_invite":"true"}}',
            "team.allow_open_invite",
            "cannot unmarshal string into Go struct field TeamImportData.team.allow_open_invite "
            "of type bool",
        ),
        (
            b'{"type":"user","user":{"military_time":true}}',
            "user.military_time",
            "cannot unmarshal bool into Go struct field UserImportData.user.military_time of "
            "type string",
        ),
        (
            b'{"type":"version","version":"1"}',
            "version",
            "cannot unmarshal string into Go struct field LineImportData.version of type int",
        ),
        (
            b'{"type":"version","version":1,"info":{"created":123}}',
            "info.created",
            "cannot unmarshal number into Go struct field VersionInfoImportData.info.created of "
            "type string",
        ),
        (
            b'{"type":"post","post":{"replies":[{"create_at":"5"}]}}',
            "post.replies[0].create_at",
            "cannot unmarshal string into Go struct field ReplyImportData.post.replies.create_at "
            "of type int64",
        ),
        (
            b'{"type":"post","post":"hello"}',
            "post",
            "cannot unmarshal string into Go struct field LineImportData.post of type "
            "imports.PostImportData",
        ),
        (
            b'{"type":"post","post":{"flagged_by":"bob"}}',
            "post.flagged_by",
            "cannot unmarshal string into Go struct field PostImportData.post.flagged_by of "
            "type []string",
        ),
        (
            b'{"type":"post","post":{"flagged_by":[1]}}',
            "post.flagged_by",
            "cannot unmarshal number into Go struct field PostImportData.post.flagged_by of "
            "type string",
        ),
        (
            b'{"type":"post","post":{"props":[]}}',
            "post.props",
            "cannot unmarshal array into Go struct field PostImportData.post.props of type "
            "model.StringInterface",
        ),
        (
            b'{"type":"channel","channel":{"type":1}}',
            "channel.type",
            "cannot unmarshal number into Go struct field ChannelImportData.channel.type of "
            "type model.ChannelType",
        ),
        (
            b'{"type":"direct_channel","direct_channel":{"participants":["a"]}}',
            "direct_channel.participants",
            "cannot unmarshal string into Go struct field DirectChannelImportData."
            "direct_channel.participants of type imports.DirectChannelMemberImportData",
        ),
        (
            b'{"type":"post","post":{"reactions":{}}}',
            "post.reactions",
            "cannot unmarshal object into Go struct field PostImportData.post.reactions of "
            "type []imports.ReactionImportData",
        ),
    ],
)
def test_a_type_mismatch_fails_the_line_with_gos_message(raw, field, message):
    issue = fails(raw, "json-type")
    assert issue.field == field
    assert issue.message == "json: " + message


def test_a_type_mismatch_in_a_payload_the_type_does_not_name_still_fails():
    fails(b'{"type":"post","post":{"team":"t"},"user":{"username":5}}', "json-type")


def test_the_first_type_mismatch_in_the_line_is_reported():
    issue = fails(b'{"type":"post","post":{"team":1,"channel":2}}', "json-type")
    assert issue.field == "post.team"


@pytest.mark.parametrize(
    ("literal", "good"),
    [
        (b"9223372036854775807", True),
        (b"-9223372036854775808", True),
        (b"0", True),
        (b"-0", True),
        (b"9223372036854775808", False),
        (b"-9223372036854775809", False),
        (b"18446744073709551616", False),
        (b"1" * 5000, False),
        (b"1.0", False),
        (b"1e3", False),
        (b"1E3", False),
        (b"-1.5", False),
    ],
)
def test_int64_fields_take_integer_literals_within_int64(literal, good):
    raw = b'{"type":"post","post":{"create_at":%s}}' % literal
    if good:
        assert ok(raw)["post"]["create_at"] == int(literal)
    else:
        issue = fails(raw, "json-type")
        assert issue.message.startswith(f"json: cannot unmarshal number {literal.decode()} ")


def test_version_is_go_int_with_the_same_bounds():
    assert ok(b'{"type":"version","version":9223372036854775807}')["version"] == 2**63 - 1
    fails(b'{"type":"version","version":9223372036854775808}', "json-type")


def test_props_numbers_must_fit_a_float64():
    assert ok(b'{"type":"post","post":{"props":{"a":1e308,"b":-1e-400}}}')
    issue = fails(b'{"type":"post","post":{"props":{"a":{"b":[1e400]}}}}', "json-type")
    assert issue.message == (
        "json: cannot unmarshal number 1e400 into Go struct field PostImportData.post.props "
        "of type float64"
    )
    fails(b'{"type":"post","post":{"props":{"a":%s}}}' % (b"9" * 400), "json-type")


def test_info_additional_is_raw_json_so_any_number_is_accepted():
    doc = ok(b'{"type":"version","version":1,"info":{"additional":{"n":1e400,"k":[1,"x"]}}}')
    assert doc["info"]["additional"]["k"] == [1, "x"]


def test_big_integers_in_props_decode_like_orjson_on_both_paths():
    # orjson keeps integers below 2**64 and gives floats beyond; the slow path agrees.
    raw = b'{"type":"post","post":{"props":{"a":18446744073709551615,"b":18446744073709551616}}}'
    props = ok(raw)["post"]["props"]
    assert props == {"a": 2**64 - 1, "b": float(2**64)}
    assert _slow(raw)[0] == {"type": "post", "post": {"props": props}}


# --- null elements -------------------------------------------------------------------------


def test_null_elements_take_gos_zero_values():
    raw = (
        b'{"type":"post","post":{"flagged_by":["a",null],"replies":[null,{"user":"u",'
        b'"reactions":[null],"attachments":[null]}],"thread_followers":[null]}}'
    )
    post = ok(raw)["post"]
    assert post["flagged_by"] == ["a", ""]
    assert post["replies"] == [{}, {"user": "u", "reactions": [{}], "attachments": [{}]}]
    assert post["thread_followers"] == [{}]


def test_null_participants_stay_none_for_the_rules_to_flag():
    raw = b'{"type":"direct_channel","direct_channel":{"participants":[{"username":"a"},null]}}'
    assert ok(raw)["direct_channel"]["participants"] == [{"username": "a"}, None]


def test_null_elements_inside_user_memberships():
    raw = b'{"type":"user","user":{"teams":[null,{"name":"t","channels":[null]}]}}'
    assert ok(raw)["user"]["teams"] == [{}, {"name": "t", "channels": [{}]}]


# --- time.Time -----------------------------------------------------------------------------


def status(expires: bytes) -> bytes:
    return b'{"type":"user","user":{"custom_status":{"expires_at":%s}}}' % expires


@pytest.mark.parametrize(
    "value",
    [
        b'"2024-01-01T00:00:00Z"',
        b'"2024-01-01T00:00:00.123456789+02:00"',
        b'"2024-02-29T23:59:59-07:00"',
        b'"2024-01-01T1:00:00Z"',  # Go's layout parser takes a one-digit hour
        b'"2024-01-01T00:00:00,5Z"',  # and a comma before the fraction
        b'"2024-01-01T00:00:00.1234567891234Z"',
        b'"2024-01-01T00:00:00+24:00"',  # offsets are range-checked with >, not >=
        b"null",
    ],
)
def test_expires_at_takes_what_gos_time_parser_takes(value):
    assert ok(status(value))["user"]["custom_status"]["expires_at"] == json.loads(value)


@pytest.mark.parametrize(
    "value",
    [
        b'"2024-01-01"',
        b'"2024-01-01 00:00:00Z"',
        b'"2024-01-01t00:00:00Z"',
        b'"2024-01-01T00:00:00z"',
        b'"2023-02-29T00:00:00Z"',
        b'"2024-13-01T00:00:00Z"',
        b'"2024-01-01T24:00:00Z"',
        b'"2024-01-01T00:00:00+25:00"',
        b'"2024-01-01T00:00:00"',
        b'"2024-01-01T00:00:00Zjunk"',
        b'"2024-01-01T00:00:00\\u005a"',  # Go parses the raw bytes, escapes included
        b'""',
        b"1704067200",
        b"{}",
    ],
)
def test_expires_at_refuses_what_gos_time_parser_refuses(value):
    issue = fails(status(value), "json-type")
    assert issue.field == "user.custom_status.expires_at"


def test_a_time_error_wins_over_an_earlier_type_error():
    # Time.UnmarshalJSON's error is returned at once; saved type errors are dropped.
    raw = b'{"type":"user","user":{"username":1,"custom_status":{"expires_at":"x"}}}'
    assert fails(raw, "json-type").field == "user.custom_status.expires_at"


# --- framing -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b" ", b"\t \r", b"\r\r", b"\n"])
def test_empty_and_whitespace_lines_fail(raw):
    fails(raw, "line-empty")


def test_a_bom_fails_the_line():
    fails(b'\xef\xbb\xbf{"type":"version","version":1}', "bom")


def test_exactly_one_trailing_cr_is_stripped_and_more_cr_is_whitespace():
    assert ok(b'{"type":"post"}\r') == {"type": "post"}
    assert ok(b'{"type":"post"}\r\r') == {"type": "post"}
    assert ok(b'{"type":"post"} \t') == {"type": "post"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"post"} {}',
        b'{"type":"post"}x',
        b'{"type":"post"}\x0c',
        b'{"type":"post"}\x00',
        b'{"type":"post",}',
        b'{"type":"post"',
        b'{"type" "post"}',
        b"{'type':'post'}",
        b'{"a":[1,]}',
        b'{"a":01}',
        b'{"a":1.}',
        b'{"a":-}',
        b'{"a":.5}',
        b'{"a":+1}',
        b'{"a":tru}',
        b'{"a":"\x01"}',
        b'{"a":"\\x"}',
        b'{"a":"unterminated}',
    ],
)
def test_syntax_errors_fail_the_line(raw):
    fails(raw, "json-decode")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(constant):
    fails(b'{"type":"post","post":{"props":{"a":%s}}}' % constant, "json-decode")


def test_a_syntax_error_wins_over_a_type_error_earlier_in_the_line():
    # Go validates the whole line before decoding.
    fails(b'{"type":5,"post":{]}', "json-decode")


def nested(depth: int) -> bytes:
    """A post line whose total nesting is `depth` (envelope 1, post 2, props 3, then arrays)."""
    arrays = depth - 3
    return b'{"type":"post","post":{"props":{"a":' + b"[" * arrays + b"]" * arrays + b"}}}"


def test_nesting_up_to_gos_limit_decodes_even_beyond_orjsons():
    doc = ok(nested(GO_MAX_DEPTH))
    value, depth = doc["post"]["props"]["a"], 4
    while value:
        (value,) = value
        depth += 1
    assert depth == GO_MAX_DEPTH
    ok(nested(2000))


def test_nesting_beyond_gos_limit_fails():
    issue = fails(nested(GO_MAX_DEPTH + 1), "json-decode")
    assert "exceeded max depth" in issue.message


# --- invalid UTF-8 and surrogates ----------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "replacements"),
    [
        (b"\xff", 1),
        (b"\xe2\x82", 2),  # truncated 3-byte sequence: Go replaces byte by byte
        (b"\xed\xa0\x80", 3),  # an encoded surrogate
        (b"\xc0\xaf", 2),  # overlong
        (b"\xf4\x90\x80\x80", 4),  # beyond U+10FFFF
        (b"\xe2\x82\xe2\x82\xac", 2),  # truncated, then a valid euro sign
    ],
)
def test_invalid_utf8_becomes_one_replacement_per_byte_as_in_go(bad, replacements):
    doc, issues = decode_line(b'{"type":"post","post":{"message":"a%sb\xef\xbf\xbd"}}' % bad)
    assert doc is not None
    message = doc["post"]["message"]
    assert message.startswith("a" + "\ufffd" * replacements)
    assert message.endswith("b\ufffd")  # a real U+FFFD in the input stays one character
    (issue,) = issues
    assert issue.code == "invalid-utf8"
    assert issue.severity is Severity.WARNING
    assert issue.message.startswith(f"{replacements} invalid UTF-8 byte(s)")


def test_invalid_utf8_outside_strings_is_a_syntax_error():
    fails(b'{"type":"post"}\xff', "json-decode")


@pytest.mark.parametrize(
    ("escaped", "decoded"),
    [
        (b"\\ud800", "\ufffd"),
        (b"\\udc00", "\ufffd"),
        (b"\\ud800\\u0041", "\ufffdA"),
        (b"\\udc00\\ud800", "\ufffd\ufffd"),
        (b"\\ud800\\ud83d\\ude00", "\ufffd\U0001f600"),
        (b"\\ud83d\\ude00", "\U0001f600"),
    ],
)
def test_lone_surrogate_escapes_become_replacement_characters(escaped, decoded):
    doc, issues = decode_line(b'{"type":"post","post":{"message":"%s"}}' % escaped)
    assert doc is not None
    assert doc["post"]["message"] == decoded
    assert [issue.code for issue in issues] == (["invalid-utf8"] if "\ufffd" in decoded else [])


# --- NUL -----------------------------------------------------------------------------------


def test_a_nul_in_the_imported_payload_is_an_error_at_its_field():
    doc, issues = decode_line(
        b'{"type":"post","post":{"message":"a\\u0000b","props":{"k\\u0000":1}}}'
    )
    assert doc is not None
    assert doc["post"]["message"] == "a\x00b"
    assert [(i.code, i.field, i.effect) for i in issues] == [
        ("nul-character", "post.message", FAILS_IMPORT),
        ("nul-character", "post.props.k\x00", FAILS_IMPORT),
    ]


def test_a_nul_in_a_password_is_only_a_warning():
    # The password is bcrypt-hashed before the user is saved: no text column sees the NUL.
    doc, issues = decode_line(
        b'{"type":"user","user":{"username":"a","password":"p\\u0000w","nickname":"n\\u0000"}}'
    )
    assert doc is not None
    assert [(i.code, i.field, i.severity.value, i.effect) for i in issues] == [
        ("nul-character", "user.nickname", "error", FAILS_IMPORT),
        ("nul-character", "user.password", "warning", None),
    ]
    assert "PostgreSQL" not in issues[1].message


def test_a_nul_outside_the_imported_payload_is_not_reported():
    assert ok(b'{"type":"post","post":{},"user":{"username":"\\u0000"},"x":"\\u0000"}')


def test_an_escaped_backslash_before_u0000_is_not_a_nul():
    assert ok(b'{"type":"post","post":{"message":"\\\\u0000"}}')["post"]["message"] == "\\u0000"


def test_every_emitted_code_is_catalogued():
    for code in ("json-decode", "json-type", "line-empty", "bom", "invalid-utf8", "nul-character"):
        assert code in CODES


# --- parse_line ----------------------------------------------------------------------------


def test_parse_line_gives_typed_access():
    envelope = parse_line(b'{"type":"post","post":{"team":"t","create_at":5,"flagged_by":[null]}}')
    assert isinstance(envelope, Envelope)
    assert isinstance(envelope.post, PostImport)
    assert envelope.post.create_at == 5
    assert envelope.post.flagged_by == [""]
    assert parse_line(b"[]") is None


# --- the fast path agrees with the exact path ----------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
_JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_TIMES = st.sampled_from(
    ["2024-01-01T00:00:00Z", "2024-01-01T1:00:00+01:00", "2024-01-01", "garbage", ""]
)


def _value(f: FieldSpec, wrong: bool) -> st.SearchStrategy[Any]:
    """Values for a field: mostly the right JSON type, sometimes any JSON (when `wrong`)."""
    right: st.SearchStrategy[Any]
    if f.kind is Kind.STRING:
        right = _TEXT
    elif f.kind is Kind.INT:
        right = st.integers(min_value=-(2**63) - 2, max_value=2**63 + 1)
    elif f.kind is Kind.BOOL:
        right = st.booleans()
    elif f.kind is Kind.TIME:
        right = _TIMES
    elif f.kind is Kind.STRUCT:
        assert f.struct is not None
        right = _struct(f.struct, wrong)
    elif f.kind is Kind.LIST:
        assert f.elem is not None
        right = st.lists(_value(f.elem, wrong), max_size=2)
    elif f.kind is Kind.MAP:
        right = st.dictionaries(_TEXT, _JSON, max_size=3)
    else:
        right = _JSON
    if f.name == "" and not f.pointer:
        # Array elements that are values: null has its own tests (it becomes "" or {},
        # which the models, describing decoded data, do not accept as input).
        return st.one_of(right, _JSON.filter(lambda v: v is not None)) if wrong else right
    return st.one_of(right, st.none(), _JSON) if wrong else st.one_of(right, st.none())


def _struct(spec: StructSpec, wrong: bool) -> st.SearchStrategy[dict[str, Any]]:
    optional = {name: _value(f, wrong) for name, f in spec.fields.items()}
    if wrong:
        optional["unknown_key"] = _JSON
    return st.fixed_dictionaries({}, optional=optional)


def _envelopes(wrong: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda payload, line_type: {"type": line_type, **payload},
        _struct(
            StructSpec(ENVELOPE.go_name, {k: f for k, f in ENVELOPE.fields.items() if k != "type"}),
            wrong,
        ),
        st.sampled_from(["post", "user", "version", "", "direct_channel"]),
    )


def _dump(doc: dict[str, Any], spaced: bool) -> bytes:
    """JSON text as exporters write it: compact UTF-8 (Go, orjson) or Python's default."""
    if spaced:
        return json.dumps(doc).encode()
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_envelopes(wrong=True), st.booleans())
def test_fast_and_exact_paths_agree(doc, spaced):
    raw = _dump(doc, spaced)
    fast = _fast(raw)
    exact, issues = _slow(raw)
    if fast is not None:
        assert exact == fast
        assert issues == ()
    elif exact is not None:
        # A line that decodes is deferred only when a backslash makes the fast path unsure
        # (a time string that might be escaped, a key ending in a backslash).
        assert b"\\" in raw


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_envelopes(wrong=True))
def test_the_derived_type_check_agrees_with_the_strict_models(doc):
    # The check turns null array elements into Go's zero values ("" or {}) in place, as Go
    # does; the strict models (and schemas) refuse nulls there, so they judge the result.
    normalized = copy.deepcopy(doc)
    accepted = check_canonical(normalized)
    try:
        TypeAdapter(Envelope).validate_python(normalized, strict=True)
        valid = True
    except ValidationError:
        valid = False
    assert accepted is valid


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_envelopes(wrong=False))
def test_well_typed_lines_take_the_fast_path_unless_a_time_needs_the_raw_bytes(doc):
    raw = _dump(doc, spaced=False)
    fast = _fast(raw)
    expected, _ = _slow(raw)
    if fast is None:
        # Only a time string sends a well-typed line elsewhere: a bad one (a decode error), or
        # any one in a line with a backslash (which might be an escape inside the time).
        assert expected is None or (b"\\" in raw and b"expires_at" in raw)
    else:
        assert fast == expected


# --- type_is_settled --------------------------------------------------------------------------

_POST_PREFIX = b'{"type":"post"'
_TYPED_LINES = [
    b'{"type":"post","post":{"message":"hi","type":"","replies":[{"type":"x"}]}}',
    b'{"type":"post","post":{"message":"a \\u003c b"}}',
    b'{"type":"post","post":{"message":"hi"}}',
    b'{"type":"team","team":{"name":"t"}}',
]


@pytest.mark.parametrize(
    ("raw", "settled"),
    [
        (b'{"type":"post","post":{"message":"hi"}}', True),
        (b'{"type":"post","post":{"message":"a \\u003c b"}}', True),
        (b'{"type":"post","post":{},"type":"team","team":{}}', False),
        (b'{"type":"post","post":{},"TyPe":"team"}', False),
        (b'{"type":"post","post":{},"\\u0074\\u0079\\u0070\\u0065":"team"}', False),
        (b'{"type":"post","post":{"type":"system_join_channel"}}', False),  # unsure: decode it
        (b'{"type":"posts","post":{}}', False),
        (b'{"post":{},"type":"post"}', False),
    ],
)
def test_a_line_type_is_settled_only_when_no_later_key_can_be_type(
    raw: bytes, settled: bool
) -> None:
    assert type_is_settled(raw, _POST_PREFIX) is settled


@given(record_mutations(_TYPED_LINES, max_mutations=4))
def test_a_settled_line_decodes_as_its_prefix_says_or_not_at_all(mutations: Any) -> None:
    for raw in apply_record_mutations(_TYPED_LINES, mutations):
        if type_is_settled(raw, _POST_PREFIX):
            doc, _ = decode_line(raw)
            assert doc is None or doc["type"] == "post", raw


@given(record_mutations(_TYPED_LINES, max_mutations=4), st.sampled_from([b"", b"\\u0059", b"Y"]))
def test_the_c_scanner_settles_the_same_lines(mutations: Any, extra: bytes) -> None:
    from archivekit.check.fast.fastpath import (
        DIRECT_POST_TYPE_PREFIX,
        NATIVE_SETTLED,
        POST_TYPE_PREFIX,
    )

    if NATIVE_SETTLED is None:
        pytest.skip("the C extension is not built (test_native_scan fails under CI then)")
    lines = [raw + extra for raw in apply_record_mutations(_TYPED_LINES, mutations)]
    for raw in lines:
        python = type_is_settled(raw, POST_TYPE_PREFIX) or type_is_settled(
            raw, DIRECT_POST_TYPE_PREFIX
        )
        assert NATIVE_SETTLED([raw], 0) == int(python), raw
    assert NATIVE_SETTLED([*lines, b"{}"], 0) <= len(lines)
