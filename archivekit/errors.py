"""Exceptions: only for an archive that cannot be used at all. Everything else is an Issue.

Exit codes are tied to these classes so the CLI maps them in one place.
"""

from __future__ import annotations

from archivekit.issues import Issue


class ArchiveKitError(Exception):
    """Root of archivekit's exceptions."""

    exit_code = 3


class ArchiveError(ArchiveKitError):
    """The archive is unreadable: not a zip, truncated, no JSONL, unsupported compression.

    Carries an `Issue` so the failure reaches reports the same way a bad line does.
    """

    exit_code = 3

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue

    def __reduce__(self) -> tuple[type[ArchiveError], tuple[Issue]]:
        # Pickled with its issue (not the message), so a worker process can raise it: else
        # unpickling fails in the pool's result thread and the parent waits forever.
        return (type(self), (self.issue,))


def stream_cannot_tell(exc: ArchiveError) -> bool:
    """Whether `exc` is what a stream cannot tell (``stream-unreadable``, archivekit.read.stream)
    rather than damage of the member being read: where a member's read error is otherwise
    an issue of that member, it stops the run instead, as it does where the stream met it."""
    return exc.issue.code == "stream-unreadable"


class UsageError(ArchiveKitError):
    """Bad options or configuration given by the user (exit 2)."""

    exit_code = 2


class WorkerKilled(ArchiveKitError):
    """A worker process of the run was ended from outside by a signal: SIGKILL (the OOM
    killer ends a process so when memory runs out, as does ``kill -9``) or SIGTERM (what
    earlyoom and other out-of-memory daemons send first, as does ``kill``). Not a bug of
    archivekit's (exit 4 is kept for those): exit 128 + the signal's number, what a shell
    reports for a process that signal ended — 137 for SIGKILL, 143 for SIGTERM."""

    exit_code = 137

    def __init__(self, message: str, signal_number: int = 9) -> None:
        super().__init__(message)
        self.exit_code = 128 + signal_number


class OutputError(ArchiveKitError):
    """An output could not be written (or would overwrite an input)."""

    exit_code = 2
