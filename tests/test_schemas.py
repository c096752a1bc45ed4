"""The committed JSON Schemas match the models (run `make schemas` after changing a model)."""

from __future__ import annotations

import json
from pathlib import Path

from archivekit.gosem import decode_spec
from archivekit.gosem.decode import ENVELOPE as GENERATED
from archivekit.gosem.spec import to_data
from archivekit.model import LINE_TYPES
from archivekit.model.spec import DECODE_SPEC_MODULE, ENVELOPE, decode_spec_source
from archivekit.write.schemas import export_schemas

COMMITTED = Path(__file__).resolve().parent.parent / "schemas"


def test_committed_schemas_match_the_models(tmp_path):
    written = export_schemas(tmp_path)
    names = sorted(path.name for path in written)
    assert names == sorted(path.name for path in COMMITTED.glob("*.json")), (
        "schemas/ is out of date: run `make schemas`"
    )
    for path in written:
        assert path.read_text(encoding="utf-8") == (COMMITTED / path.name).read_text(
            encoding="utf-8"
        ), f"schemas/{path.name} is out of date: run `make schemas`"


def test_the_committed_decode_spec_matches_the_models():
    assert DECODE_SPEC_MODULE.read_text(encoding="utf-8") == decode_spec_source(), (
        "archivekit/gosem/decode_spec.py is out of date: run `make schemas`"
    )
    assert decode_spec.__file__ is not None
    assert DECODE_SPEC_MODULE.samefile(decode_spec.__file__)


def test_the_decoder_links_the_same_spec_the_models_give():
    assert to_data(GENERATED) == to_data(ENVELOPE)
    assert GENERATED.fields["post"].struct is not None
    post = GENERATED.fields["post"].struct
    reply = post.fields["replies"].elem
    assert reply is not None
    assert reply.struct is not None
    # A struct used in two places is one object, as in the derived spec.
    assert reply.struct.fields["reactions"].elem.struct is post.fields["reactions"].elem.struct  # type: ignore[union-attr]


def test_there_is_a_schema_per_line_type_and_one_for_the_envelope(tmp_path):
    names = {path.name for path in export_schemas(tmp_path)}
    assert names == {f"{t}.schema.json" for t in LINE_TYPES} | {"line.schema.json"}


def test_each_schema_is_a_json_object_schema(tmp_path):
    for path in export_schemas(tmp_path):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        schema = json.loads(text)
        assert schema["type"] == "object"
        assert schema["properties"]
        for definition in schema.get("$defs", {}).values():
            assert definition["type"] == "object"
            assert definition["properties"]
        # Every $ref points at a definition in the same file.
        for ref in _refs(schema):
            assert ref.startswith("#/$defs/")
            assert ref.removeprefix("#/$defs/") in schema["$defs"]


def test_a_line_schema_requires_its_type_and_payload(tmp_path):
    export_schemas(tmp_path)
    post = json.loads((tmp_path / "post.schema.json").read_text(encoding="utf-8"))
    assert set(post["required"]) == {"type", "post"}
    assert post["properties"]["type"]["const"] == "post"
    version = json.loads((tmp_path / "version.schema.json").read_text(encoding="utf-8"))
    assert set(version["required"]) == {"type", "version"}


def test_export_is_deterministic(tmp_path):
    first = {p.name: p.read_bytes() for p in export_schemas(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in export_schemas(tmp_path / "b")}
    assert first == second


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
