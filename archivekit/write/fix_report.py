"""What `fix` reports: `FixResult` (the CLI's JSON, the manifest) and its text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from archivekit.issues import OPT_IN_OPTIONS, REPAIRS
from archivekit.report.render import human_bytes
from archivekit.write.changes import SAMPLE, ChangeLog
from archivekit.write.core import WrittenArchive
from archivekit.write.fix import FixStats
from archivekit.write.manifest import archive_entry, json_bytes, printable_text

_EMPTY_LOG: Final = b'"change_log": []\n}'


@dataclass(slots=True)
class FixResult:
    """What `fix_archive` did. The change log stays open until `close` (its full list is read
    back from a temporary file for the JSON)."""

    source: str
    output: str | None
    dry_run: bool
    stats: FixStats
    log: ChangeLog
    written: WrittenArchive | None = None
    manifest: str | None = None

    @property
    def changed(self) -> bool:
        return self.log.total > 0

    @property
    def offered(self) -> int:
        """Changes the opt-in repairs left off would make (with their options)."""
        return sum(self.log.offered.values())

    @property
    def unrepaired(self) -> int:
        """Problems fix found and could not repair (an ambiguous file, a line over 16 MiB)."""
        return sum(self.log.refused.values())

    def summary(self) -> dict[str, Any]:
        """Everything but the change list (the manifest's part)."""
        return {
            "command": "fix",
            "source": self.source,
            "output": self.output,
            "dry_run": self.dry_run,
            "changes": self.log.total,
            "repairs": dict(sorted(self.log.applied.items())),
            "not_repaired": dict(sorted(self.log.refused.items())),
            "opt_in": {
                repair: {"option": OPT_IN_OPTIONS[repair], "changes": count}
                for repair, count in sorted(self.log.offered.items())
            },
            **self.stats.to_dict(),
            "too_long_lines": self.stats.too_long,
            "archive": None if self.written is None else archive_entry(self.written),
            "manifest": self.manifest,
        }

    def to_dict(self) -> dict[str, Any]:
        """The summary and every change, in the order made (the full change log). Holds every
        change in memory: `write_json` writes the same document streaming them."""
        return {**self.summary(), "change_log": list(self.log)}

    def write_json(self, out: BinaryIO) -> None:
        """``json_bytes(self.to_dict())`` and a newline, byte for byte, written to ``out``
        with one change in memory at a time (millions of CRLF lines make millions)."""
        head = json_bytes({**self.summary(), "change_log": []})
        if not head.endswith(_EMPTY_LOG):  # the last key, written as orjson writes it
            raise AssertionError("unexpected JSON layout")
        out.write(head[: -len(_EMPTY_LOG)] + b'"change_log": [')
        separator = b"\n"
        for change in self.log:
            item = json_bytes(change).replace(b"\n", b"\n    ")
            out.write(separator + b"    " + item)
            separator = b",\n"
        out.write(b"\n  ]\n}\n" if separator == b",\n" else b"]\n}\n")

    def close(self) -> None:
        self.log.close()


def render_fix(result: FixResult) -> str:
    stats, log = result.stats, result.log
    target = "(dry run: nothing written)" if result.written is None else result.output
    out = [f"fix {result.source} → {target}"]
    if not log.total and not log.refused:
        done = "every line and file is kept as it is"
        if log.offered:
            out.append(f"nothing to repair with these options: {done}")
        else:
            out.append(f"nothing to repair: {done}")
    for repair, count in sorted(log.applied.items()):
        out.append(f"  {count:>9,}  {repair}: {REPAIRS.get(repair, '')}")
    if log.sample:
        shown = len(log.sample)
        more = f" (the first {shown:,}; --format json lists all)" if log.total > SAMPLE else ""
        out.append(f"changes{more}:")
        out += [f"  {change.text()}" for change in log.sample]
    refused = sum(log.refused.values())
    if refused:
        out.append(f"not repaired ({refused:,}; fix these by hand):")
        out += [f"  {change.text()}" for change in log.refusals]
        if refused > len(log.refusals):
            out.append(f"  … and {refused - len(log.refusals):,} more (--format json lists all)")
    if log.offered:
        out.append(
            "opt-in repairs left off (they change or drop data; pass the option to make them):"
        )
        for repair, count in sorted(log.offered.items()):
            out.append(f"  {count:>9,}  {repair} ({OPT_IN_OPTIONS[repair]}): {REPAIRS[repair]}")
    if stats.too_long:
        out.append(
            f"  {len(stats.too_long):,} line(s) over 16 MiB kept as they are (the server "
            "stops there; fix does not read them): "
            f"line(s) {', '.join(str(n) for n in stats.too_long[:10])}"
        )
    out.append(
        f"lines: {stats.lines_read:,} read, {stats.lines_written:,} written "
        f"({stats.lines_rewritten:,} rewritten, {stats.lines_dropped:,} removed)"
        + ("; reordered into the server's block order" if stats.reordered else "")
    )
    out.append(
        f"files: {stats.members_copied:,} written ({stats.members_moved:,} moved, "
        f"{stats.members_recompressed:,} re-compressed), {stats.members_dropped:,} left out"
    )
    if result.written is not None:
        written = result.written
        out.append(
            f"wrote {written.path} ({human_bytes(written.size)}, sha256 {written.sha256}); "
            f"manifest {result.manifest}"
        )
    return printable_text("\n".join(out) + "\n")
