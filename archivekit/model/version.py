"""The `version` line's `info` object (Go `VersionInfoImportData`)."""

from __future__ import annotations

from pydantic import Field

from archivekit.model.base import ImportModel, RawJSON, ValueStr


class VersionInfo(ImportModel):
    """Optional export metadata on the version line; the server checks only its JSON types."""

    go_name = "imports.VersionInfoImportData"

    generator: ValueStr | None = Field(
        default=None,
        description="Who wrote the file (`mattermost-server`, `mmetl`). Not validated.",
    )
    version: ValueStr | None = Field(
        default=None,
        description="Exporter version text, e.g. `11.6.0 (<hash>, enterprise: true)`. "
        "Not validated.",
    )
    created: ValueStr | None = Field(
        default=None,
        description="Export time as written by the exporter (a string, not validated).",
    )
    additional: RawJSON = Field(
        default=None,
        description="Any JSON value (Go `json.RawMessage`); scoped exports record their scope "
        "here. Not validated.",
    )
