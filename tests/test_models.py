"""The models mirror the server's Go structs: every JSON key, strict types, all optional."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archivekit.gosem.gotime import check_go_rfc3339
from archivekit.gosem.spec import Kind, StructSpec
from archivekit.model import (
    INT64_MAX,
    INT64_MIN,
    LINE_TYPES,
    PAYLOAD_MODELS,
    ChannelImport,
    CustomStatus,
    DirectChannelImport,
    DirectChannelMember,
    Envelope,
    ImportModel,
    PostImport,
    ReplyImport,
    RoleImport,
    TeamImport,
    UserChannelMembership,
    UserImport,
)
from archivekit.model.spec import ENVELOPE, struct_models

# The JSON keys of the Go structs (import_types.go), so a renamed or dropped field shows up.
GO_KEYS = {
    Envelope: "type role scheme team channel user bot post direct_channel direct_post emoji "
    "version info",
    PostImport: "team channel user type message props create_at edit_at flagged_by reactions "
    "replies attachments is_pinned thread_followers",
    ReplyImport: "user type message props create_at edit_at flagged_by reactions attachments "
    "is_pinned",
    DirectChannelImport: "members participants favorited_by shown_by header",
    DirectChannelMember: "username notify_props scheme_user scheme_admin scheme_guest "
    "mention_count mention_count_root urgend_mention_count msg_count msg_count_root "
    "last_viewed_at",
    UserChannelMembership: "name roles notify_props favorite mention_count mention_count_root "
    "urgend_mention_count msg_count msg_count_root last_viewed_at",
    ChannelImport: "team name display_name type header purpose scheme deleted_at",
    RoleImport: "name display_name description permissions scheme_managed",
    CustomStatus: "emoji text duration expires_at",
}


@pytest.mark.parametrize(
    ("model", "keys"), GO_KEYS.items(), ids=lambda v: getattr(v, "__name__", "")
)
def test_models_carry_exactly_the_go_json_keys(model, keys):
    assert set(model.model_fields) == set(keys.split())


def test_the_user_model_has_the_embedded_avatar_and_every_preference():
    keys = set(UserImport.model_fields)
    assert "profile_image" in keys
    assert {"link_previews", "name_format", "sync_drafts", "limit_visible_dms_gms"} <= keys
    assert "urgent_mention_count" not in UserChannelMembership.model_fields


def test_every_line_type_has_a_payload_model():
    assert LINE_TYPES[0] == "version"
    assert set(PAYLOAD_MODELS) == set(LINE_TYPES[1:])
    assert all(name in Envelope.model_fields for name in LINE_TYPES)


def _all_models() -> set[type[ImportModel]]:
    models = struct_models(Envelope)
    seen: set[str] = set()

    def walk(spec: StructSpec) -> None:
        if spec.go_name in seen:
            return
        seen.add(spec.go_name)
        for f in spec.fields.values():
            sub = f.struct or (f.elem.struct if f.elem else None)
            if sub is not None:
                walk(sub)

    walk(ENVELOPE)
    assert seen == set(models)
    return set(models.values())


def test_every_field_is_optional_and_described():
    for model in _all_models():
        assert model.go_name, model
        for name, info in model.model_fields.items():
            assert info.default is None, (model, name)
            assert info.description, (model, name)


def test_descriptions_name_the_server_error_ids():
    assert "validate_post_import_data.create_at_missing.error" in (
        PostImport.model_fields["create_at"].description or ""
    )
    assert "validate_team_import_data.type_invalid.error" in (
        TeamImport.model_fields["type"].description or ""
    )


def test_an_empty_object_is_a_valid_model():
    assert PostImport.model_validate({}).message is None


def test_unknown_keys_are_ignored():
    assert TeamImport.model_validate({"name": "t", "colour": "red"}).name == "t"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message", 5),
        ("create_at", "5"),
        ("create_at", 1.0),
        ("create_at", True),
        ("is_pinned", "true"),
        ("is_pinned", 1),
        ("props", []),
        ("flagged_by", "bob"),
        ("replies", {}),
    ],
)
def test_types_are_strict(field, value):
    with pytest.raises(ValidationError):
        PostImport.model_validate({field: value})


def test_int64_fields_stop_at_the_int64_range():
    assert PostImport.model_validate({"create_at": INT64_MAX}).create_at == INT64_MAX
    assert PostImport.model_validate({"create_at": INT64_MIN}).create_at == INT64_MIN
    for out in (INT64_MAX + 1, INT64_MIN - 1):
        with pytest.raises(ValidationError):
            PostImport.model_validate({"create_at": out})


def test_participants_may_hold_null_and_other_object_arrays_may_not():
    assert DirectChannelImport.model_validate({"participants": [None]}).participants == [None]
    with pytest.raises(ValidationError):
        PostImport.model_validate({"replies": [None]})


def test_expires_at_is_a_go_rfc3339_string():
    assert CustomStatus.model_validate({"expires_at": "2024-01-01T1:00:00Z"}).expires_at
    with pytest.raises(ValidationError):
        CustomStatus.model_validate({"expires_at": "2024-01-01"})


def test_the_derived_spec_knows_the_go_types():
    post = ENVELOPE.fields["post"].struct
    assert post is not None
    assert ENVELOPE.fields["version"].go_type == "int"
    assert ENVELOPE.fields["type"].pointer is False
    assert post.fields["create_at"].go_type == "int64"
    assert post.fields["props"].kind is Kind.MAP
    assert post.fields["props"].go_type == "model.StringInterface"
    assert post.fields["replies"].go_type == "[]imports.ReplyImportData"
    direct = ENVELOPE.fields["direct_channel"].struct
    assert direct is not None
    participants = direct.fields["participants"]
    assert participants.go_type == "[]*imports.DirectChannelMemberImportData"
    assert participants.elem is not None
    assert participants.elem.pointer
    channel = ENVELOPE.fields["channel"].struct
    assert channel is not None
    assert channel.fields["type"].go_type == "model.ChannelType"
    info = ENVELOPE.fields["info"].struct
    assert info is not None
    assert info.fields["additional"].kind is Kind.ANY
    user = ENVELOPE.fields["user"].struct
    assert user is not None
    status = user.fields["custom_status"].struct
    assert status is not None
    assert status.fields["expires_at"].kind is Kind.TIME
    assert status.short_name == "CustomStatus"


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999+23:59",
        "2024-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2024-01-01T9:05:07Z",
        "2024-01-01T00:00:00,1-01:00",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01T00:00:00+00:60",
    ],
)
def test_go_time_accepts(value):
    assert check_go_rfc3339(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2024-01-01",
        "24-01-01T00:00:00Z",
        "2024-1-01T00:00:00Z",
        "2024-01-1T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01T00:0:00Z",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00+25:00",
        "2024-01-01T00:00:00+00:61",
        "2024-01-01T00:00:00+0000",
        "2024-01-01T00:00:00*01:00",
        "2024-01-01T00:00:00z",
        "2024-01-01t00:00:00Z",
        "2024-01-01T00:00:00Z ",
        "２０２４-01-01T00:00:00Z",
    ],
)
def test_go_time_refuses(value):
    assert check_go_rfc3339(value) is not None
