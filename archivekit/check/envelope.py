"""The envelope of a decoded line: the version line, the line type and its payload object.

What the server checks of a line before any rule of its type: line 1 must be the version line
``{"type": "version", "version": 1}``; a version line anywhere else and an unknown type stop
the import; a known type without its object is the ``null_<type>`` error. `open_envelope`
says which payload the engine dispatches, and the issue if there is one. Rules never print.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from archivekit.gosem.decode import PAYLOAD_TYPES
from archivekit.issues import REPAIR_STRAY_VERSION, Issue, Values, by_fix, error

Payload = dict[str, Any]

INVALID_VERSION_ID = "app.import.process_import_data_file_version_line.invalid_version.error"
UNSUPPORTED_VERSION_ID = "app.import.bulk_import.unsupported_version.error"
UNKNOWN_TYPE_ID = "app.import.import_line.unknown_line_type.error"
# Payloads the server dereferences before checking them (attachment pre-processing): a null
# payload there crashes the import job instead of returning the null_<type> error.
CRASHES_ON_NULL = frozenset({"post", "direct_post", "user", "bot", "emoji"})


def open_envelope(line: int, envelope: Payload) -> tuple[tuple[Issue, ...], str, Payload | None]:
    """(the envelope's issues, the line type, the payload to check — None when the line
    stops here). Line 1 that is no version line gets its issue and is still checked."""
    line_type: str = envelope.get("type") or ""
    if line == 1:
        version = _version_issue(envelope, line_type)
        if line_type == "version":
            return (() if version is None else (version,)), line_type, None
        issue, payload = _payload(envelope, line_type)
        issues = tuple(i for i in (version, issue) if i is not None)
        return issues, line_type, payload
    if line_type == "version":
        return (
            (
                error(
                    "version-not-first",
                    "a version line is only allowed as line 1; elsewhere the server stops "
                    "with an unknown line type — move the first version line to line 1 and "
                    f"remove any other{by_fix(REPAIR_STRAY_VERSION)}",
                    field="type",
                    server_error_id=UNKNOWN_TYPE_ID,
                    # versioned: fix, moving this line to line 1, gives line 1 a version.
                    values={
                        "repair": REPAIR_STRAY_VERSION,
                        "versioned": envelope.get("version") is not None,
                    },
                ),
            ),
            line_type,
            None,
        )
    issue, payload = _payload(envelope, line_type)
    return (() if issue is None else (issue,)), line_type, payload


def _payload(envelope: Payload, line_type: str) -> tuple[Issue | None, Payload | None]:
    if line_type not in PAYLOAD_TYPES:
        return (
            error(
                "unknown-line-type",
                f"unknown line type {line_type!r}; the server stops the import here "
                f"(known types: version, {', '.join(sorted(PAYLOAD_TYPES))})",
                field="type",
                server_error_id=UNKNOWN_TYPE_ID,
                values={"found": line_type},
            ),
            None,
        )
    payload = envelope.get(line_type)
    if payload is None:
        crash = " (current servers crash on such a line)" if line_type in CRASHES_ON_NULL else ""
        return (
            error(
                "payload-missing",
                f"a {line_type!r} line needs a {line_type!r} object{crash}",
                field=line_type,
                server_error_id=f"app.import.import_line.null_{line_type}.error",
                values={"line_type": line_type},
            ),
            None,
        )
    return None, payload


def _version_issue(envelope: Payload, line_type: str) -> Issue | None:
    version = envelope.get("version")
    if line_type != "version" or version is None:
        return error(
            "version-missing",
            'line 1 must be {"type": "version", "version": 1}; '
            f"found type {line_type!r} — the server refuses the file",
            field="type" if line_type != "version" else "version",
            server_error_id=INVALID_VERSION_ID,
            values={"found": line_type},
        )
    if version != 1:
        return error(
            "version-unsupported",
            f"version {version} is not supported; the server only imports version 1",
            field="version",
            server_error_id=UNSUPPORTED_VERSION_ID,
            values={"found": version, "expected": 1},
        )
    return None


def version_moved(issue: Issue) -> Issue:
    """``issue`` (``version-missing``: line 1 is another line) where a later line is a version
    line with a version: fix moves the first such line to line 1 (`drop-stray-version`),
    which removes it. Only the end of the JSONL tells (`report.tally.Tally` holds the issue
    back until a version line or the end)."""
    return replace(
        issue,
        message=issue.message
        + "; a later line is a version line: move it to line 1"
        + by_fix(REPAIR_STRAY_VERSION),
        values=Values({**issue.values.mapping, "repair": REPAIR_STRAY_VERSION}),
    )
