"""A real archive: the Mattermost server's own test import (tests/fixtures/README.md).

Its attachments sit under the old ``attachments/`` folder instead of ``data/``: the server does
not find them, and that must be the only error reported.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archivekit.issues import CODES, DROPS_DATA, Severity
from archivekit.report.model import Report
from archivekit.validate import validate

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mattermost-server-tests-import_test.zip"
SHA256 = "74459d662138f167dffeb52ef96ae6a25f21a3dae4ac172c3dfbfdb1b9eaa57a"


@pytest.fixture(scope="module")
def report() -> Report:
    result = validate(FIXTURE, max_issues=None)
    assert set(result.issue_counts) <= CODES.keys()
    return result


def test_the_fixture_is_the_unchanged_server_archive() -> None:
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == SHA256


def test_counts(report: Report) -> None:
    assert report.lines == 3024
    assert report.counts.to_dict() == {
        "teams": 2,
        "channels": 24,
        "users": 16,
        "bots": 0,
        "roles": 0,
        "schemes": 0,
        "emojis": 0,
        "posts": 2001,
        "replies": 1280,
        "reactions": 712,
        "direct_channels": 79,
        "direct_posts": 901,
        "attachments": 3,
    }


def test_the_three_attachments_outside_data_are_the_only_errors(report: Report) -> None:
    errors = [i for i in report.issues if i.severity is Severity.ERROR]
    assert [(i.code, i.line, i.field) for i in errors] == [
        ("attachment-missing", 473, "post.attachments[0].path"),
        ("attachment-missing", 1950, "post.replies[0].attachments[0].path"),
        ("attachment-missing", 2776, "direct_post.attachments[0].path"),
    ]
    for number, issue in enumerate(errors, start=1):
        assert issue.effect == DROPS_DATA
        assert f"looked for 'data/attachments/test{number}.png'" in issue.message
        assert f"exists outside data/: 'attachments/test{number}.png'" in issue.message
    assert report.errors == 3
    assert not report.valid


def test_the_old_attachments_folder_is_one_warning(report: Report) -> None:
    warnings = [i for i in report.issues if i.severity is Severity.WARNING]
    assert [(i.code, i.member) for i in warnings] == [
        ("attachment-outside-data", "attachments/test1.png")
    ]
    assert "3 file(s) outside data/" in warnings[0].message
    assert report.issue_counts == {"attachment-missing": 3, "attachment-outside-data": 1}


def test_attachment_stats(report: Report) -> None:
    assert report.attachments.to_dict() == {
        "referenced": 0,
        "bytes": 0,
        "missing": 3,
        "dropped": 0,
        "unreferenced": 0,
        "unreferenced_bytes": 0,
    }
