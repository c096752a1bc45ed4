"""validate() end to end: references between lines, with the server's case rules and block
order (reference §3.3, §5, §7). Line 1 of every archive is the version line."""

from __future__ import annotations

from collections.abc import Callable

from archivekit.check.target import TargetConfig
from archivekit.report.model import Report
from archivekit.testing.synth import (
    bot,
    channel,
    direct_channel,
    direct_post,
    post,
    reaction,
    reply,
    scheme,
    team,
    user,
)

TEAMS_NOT_FOUND = "app.import.get_teams_by_names.some_teams_not_found.error"
USERS_NOT_FOUND = "app.import.get_users_by_username.some_users_not_found.error"
CHANNEL_TEAM_NOT_FOUND = "app.import.import_channel.team_not_found.error"
USER_CHANNEL_NOT_FOUND = "app.import.import_user_channels.channel_not_found.error"
POST_CHANNEL_NOT_FOUND = "app.import.import_post.channel_not_found.error"
REACTION_USER_NOT_FOUND = "app.import.import_post.user_not_found.error"
SCHEME_NOT_FOUND = "app.scheme.get.app_error"
BATCH_NOTE = "line number 0"

Found = tuple[str, int | None, str | None, str | None]
ValidateLines = Callable[..., Report]

# Lines 2-5: team eng, channel eng/general, users alice (in general) and bob.
WORLD = [
    team("eng"),
    channel("eng", "general"),
    user("alice", {"eng": ["general"]}),
    user("bob", ["eng"]),
]
T = 1_700_000_000_000


def found(report: Report) -> list[Found]:
    """(code, line, field, server error id) of every issue, in report order."""
    return [(i.code, i.line, i.field, i.server_error_id) for i in report.issues]


# --- post → team / channel / user: exact -------------------------------------------------------


def test_post_references_in_their_stored_case_resolve(validate_lines: ValidateLines) -> None:
    report = validate_lines([*WORLD, post("eng", "general", "alice", "hi", T)])
    assert report.issues == []


def test_post_team_channel_and_user_are_looked_up_exactly(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            post("Eng", "general", "alice", "a", T),
            post("eng", "General", "alice", "b", T),
            post("eng", "general", "ALICE", "c", T),
        ]
    )
    assert found(report) == [
        ("reference-case", 6, "post.team", TEAMS_NOT_FOUND),
        ("reference-case", 7, "post.channel", POST_CHANNEL_NOT_FOUND),
        ("reference-case", 8, "post.user", USERS_NOT_FOUND),
    ]
    assert "stored as 'eng'" in report.issues[0].message
    # Posts are written in batches: the server reports these on line 0.
    assert BATCH_NOTE in report.issues[1].message
    assert BATCH_NOTE in report.issues[2].message


def test_post_references_to_what_was_never_defined(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            post("ops", "general", "alice", "a", T),
            post("eng", "random", "alice", "b", T),
            post("eng", "general", "mallory", "c", T),
        ]
    )
    assert found(report) == [
        ("unknown-team", 6, "post.team", TEAMS_NOT_FOUND),
        ("unknown-channel", 7, "post.channel", POST_CHANNEL_NOT_FOUND),
        ("unknown-user", 8, "post.user", USERS_NOT_FOUND),
    ]
    assert "'mallory' is not defined on an earlier line" in report.issues[2].message


def test_a_post_in_an_unknown_team_is_not_also_reported_for_its_channel(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines([*WORLD, post("ops", "nowhere", "alice", "a", T)])
    assert [i.code for i in report.issues] == ["unknown-team"]


def test_post_flaggers_are_looked_up_exactly(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [*WORLD, post("eng", "general", "alice", "a", T, flagged_by=["bob", "Bob", "zed"])]
    )
    assert found(report) == [
        ("reference-case", 6, "post.flagged_by[1]", USERS_NOT_FOUND),
        ("unknown-user", 6, "post.flagged_by[2]", USERS_NOT_FOUND),
    ]


# --- case-insensitive references ---------------------------------------------------------------


def test_channel_team_is_looked_up_in_any_case(validate_lines: ValidateLines) -> None:
    report = validate_lines([team("eng"), channel("ENG", "general"), channel("ops", "general")])
    assert found(report) == [("unknown-team", 4, "channel.team", CHANNEL_TEAM_NOT_FOUND)]


def test_reactions_and_thread_followers_are_looked_up_in_any_case(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            post(
                "eng",
                "general",
                "alice",
                "a",
                T,
                reactions=[reaction("BOB", "smile", T + 1), reaction("zed", "smile", T + 2)],
                thread_followers=[{"user": "Bob"}, {"user": "zed"}],
            ),
        ]
    )
    assert found(report) == [
        ("unknown-user", 6, "post.reactions[1].user", REACTION_USER_NOT_FOUND),
        ("unknown-user", 6, "post.thread_followers[1].user", USERS_NOT_FOUND),
    ]


# --- replies -----------------------------------------------------------------------------------


def test_reply_users_and_flaggers_exact_reply_reactions_in_any_case(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            post(
                "eng",
                "general",
                "alice",
                "a",
                T,
                replies=[
                    reply("Bob", "r1", T + 1, flagged_by=["ALICE"]),
                    reply("bob", "r2", T + 2, reactions=[reaction("ALICE", "+1", T + 3)]),
                    reply("zed", "r3", T + 4),
                ],
            ),
        ]
    )
    assert found(report) == [
        ("reference-case", 6, "post.replies[0].user", USERS_NOT_FOUND),
        ("reference-case", 6, "post.replies[0].flagged_by[0]", USERS_NOT_FOUND),
        ("unknown-user", 6, "post.replies[2].user", USERS_NOT_FOUND),
    ]
    # Reply problems are reported with the post's own line, not line 0.
    assert all(BATCH_NOTE not in i.message for i in report.issues)


# --- user lines --------------------------------------------------------------------------------


def test_user_team_names_are_looked_up_exactly(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            user("alice", {"Eng": ["nope"]}),  # the channels of an unfound team are not checked
            user("bob", ["ghost"]),
        ]
    )
    assert found(report) == [
        ("reference-case", 3, "user.teams[0].name", TEAMS_NOT_FOUND),
        ("unknown-team", 4, "user.teams[0].name", TEAMS_NOT_FOUND),
    ]


def test_user_channel_names_are_looked_up_exactly(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            channel("eng", "general"),
            # channels[0] is town-square (added by the builder).
            user("alice", {"eng": ["general", "General", "nope"]}),
        ]
    )
    assert found(report) == [
        ("reference-case", 4, "user.teams[0].channels[2].name", USER_CHANNEL_NOT_FOUND),
        ("unknown-channel", 4, "user.teams[0].channels[3].name", USER_CHANNEL_NOT_FOUND),
    ]


def test_default_channels_exist_without_channel_lines(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            user("alice", {"eng": ["off-topic"]}),
            post("eng", "town-square", "alice", "a", T),
            post("eng", "off-topic", "alice", "b", T),
        ]
    )
    assert report.issues == []


def test_explicit_default_channel_lines_are_not_duplicates(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [team("eng"), channel("eng", "town-square"), channel("eng", "off-topic")]
    )
    assert report.issues == []


def test_experimental_default_channels_replace_off_topic(validate_lines: ValidateLines) -> None:
    target = TargetConfig(experimental_default_channels=["lobby"])
    report = validate_lines(
        [
            team("eng"),
            user("alice", {"eng": ["lobby", "off-topic"]}),
        ],
        target=target,
    )
    assert found(report) == [
        ("unknown-channel", 3, "user.teams[0].channels[2].name", USER_CHANNEL_NOT_FOUND)
    ]


def test_duplicate_email_across_two_users(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            team("eng"),
            user("alice", ["eng"], email="shared@example.com"),
            user("bob", ["eng"], email="SHARED@example.com"),
        ]
    )
    assert found(report) == [
        ("duplicate-email", 4, "user.email", "app.user.save.email_exists.app_error")
    ]
    assert "'alice'" in report.issues[0].message
    assert not report.valid


def test_the_same_user_twice_with_its_email_is_only_a_duplicate_user(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines([team("eng"), user("alice", ["eng"]), user("alice", ["eng"])])
    assert [i.code for i in report.issues] == ["duplicate-user"]


# --- direct channels and direct posts: exact ---------------------------------------------------


def test_direct_channel_members_and_participants_are_looked_up_exactly(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            direct_channel(["alice", "Bob"]),
            direct_channel(["alice", "zed"], participants=True),
        ]
    )
    assert found(report) == [
        ("reference-case", 6, "direct_channel.members[1]", USERS_NOT_FOUND),
        ("unknown-user", 7, "direct_channel.participants[1].username", USERS_NOT_FOUND),
    ]


def test_direct_post_members_and_author_are_looked_up_exactly(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            *WORLD,
            direct_post(["alice", "Bob"], "alice", "m1", T),
            direct_post(["alice", "bob"], "Alice", "m2", T),
            direct_post(["alice", "zed"], "alice", "m3", T),
        ]
    )
    assert found(report) == [
        ("reference-case", 6, "direct_post.channel_members[1]", USERS_NOT_FOUND),
        ("reference-case", 7, "direct_post.user", USERS_NOT_FOUND),
        ("unknown-user", 8, "direct_post.channel_members[1]", USERS_NOT_FOUND),
    ]
    assert all(BATCH_NOTE in i.message for i in report.issues)


def test_bots_are_usable_as_post_authors_and_dm_members(validate_lines: ValidateLines) -> None:
    report = validate_lines(
        [
            *WORLD,
            bot("build-bot", "alice"),
            post("eng", "general", "build-bot", "deployed", T),
            direct_post(["alice", "build-bot"], "build-bot", "hi", T),
        ]
    )
    assert report.issues == []


# --- block order -------------------------------------------------------------------------------


def test_a_post_before_its_channel_and_user_blocks_is_defined_later(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            team("eng"),
            post("eng", "general", "alice", "too early", T),
            channel("eng", "general"),
            user("alice", {"eng": ["general"]}),
        ]
    )
    assert found(report) == [
        ("defined-later", 3, "post.channel", POST_CHANNEL_NOT_FOUND),
        ("defined-later", 3, "post.user", USERS_NOT_FOUND),
    ]
    assert "only defined on line 4" in report.issues[0].message
    assert "only defined on line 5" in report.issues[1].message
    assert report.issue_counts == {"defined-later": 2}
    assert not report.valid


def test_a_reference_defined_later_in_another_case_is_defined_later(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [team("eng"), post("eng", "town-square", "alice", "a", T), user("Alice")]
    )
    assert [(i.code, i.line) for i in report.issues] == [("defined-later", 3)]


# --- schemes -----------------------------------------------------------------------------------


def test_scheme_references_unknown_wrong_scope_and_defined_later(
    validate_lines: ValidateLines,
) -> None:
    report = validate_lines(
        [
            scheme("team_scheme", "team"),
            scheme("channel_scheme", "channel"),
            team("eng", scheme="team_scheme"),
            team("ops", scheme="channel_scheme"),
            team("qa", scheme="nope"),
            team("dev", scheme="late_scheme"),
            channel("eng", "a", scheme="channel_scheme"),
            channel("eng", "b", scheme="team_scheme"),
            scheme("late_scheme", "team"),
        ]
    )
    assert found(report) == [
        ("apply-invalid", 5, "team.scheme", "app.import.import_team.scheme_wrong_scope.error"),
        ("unknown-scheme", 6, "team.scheme", SCHEME_NOT_FOUND),
        ("defined-later", 7, "team.scheme", SCHEME_NOT_FOUND),
        (
            "apply-invalid",
            9,
            "channel.scheme",
            "app.import.import_channel.scheme_wrong_scope.error",
        ),
    ]
    assert "only defined on line 10" in report.issues[2].message
