"""`filter_archive`, `split_archive`, `merge_archives`, `redact_archive`, `fix_archive`: the
writers, as the CLI runs them.

Each opens its input(s) (an input that does not open raises `ArchiveError`, exit 3, and
nothing is written), writes through the writer core (`archivekit.write`), writes the manifest
next to its output, and checks its input(s) with `validate` on the side — in a child process,
while the output is being written, so the check costs no wall time on a machine with a spare
core. An input with errors still gets written (that is often why people filter), and the
result says the output carries those errors; with ``strict=True`` such an input is refused
(`InputHasErrors`, exit 1) and nothing is left under the output's name.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from pathlib import Path
from typing import Any

from archivekit.check.references import Existing
from archivekit.errors import ArchiveKitError, OutputError, UsageError
from archivekit.read import Archive, ReadLimits, open_archive
from archivekit.runtime import RunDirectory, forking_workers, guard_worker, worker_ended
from archivekit.validate import validate
from archivekit.write.atomic import (
    refuse_directory,
    refused_writes,
    remove_created,
    write_atomic,
)
from archivekit.write.changes import ChangeLog
from archivekit.write.core import JSONL_NAME, keep_large_buffers, output_folder, write_archive
from archivekit.write.filter import FilterStats, filter_into
from archivekit.write.fix import FixRun, FixStats, NeedsSurvey
from archivekit.write.fix_report import FixResult
from archivekit.write.manifest import archive_entry, json_bytes, manifest_path, write_manifest
from archivekit.write.merge import MergeRun
from archivekit.write.pseudonyms import Pseudonyms
from archivekit.write.redact import Attachments, RedactRun
from archivekit.write.repairs import FixOptions
from archivekit.write.results import (
    CHECK_ISSUES,
    FilterResult,
    InputCheck,
    InputHasErrors,
    MergeResult,
    RedactResult,
    SplitResult,
    selection_dict,
)
from archivekit.write.select import Selection
from archivekit.write.split import By, SplitRun, prepare_folder
from archivekit.write.zipwriter import CAPPED_DEFLATE


def _check(
    path: str, read_limits: ReadLimits | None, existing: Existing | None = None
) -> InputCheck | None:
    try:
        report = validate(
            path, workers=1, max_issues=CHECK_ISSUES, read_limits=read_limits, existing=existing
        )
    except ArchiveKitError:
        return None  # the writer itself reports an unusable archive
    return InputCheck.of(path, report)


class InputChecker:
    """`validate` of the inputs in one child process, started now, collected by `results`.
    `close` stops the child at once if its results were not collected (an error or Ctrl-C in
    the writer must not wait for a check nobody will read).

    One plain process and a pipe, not a `multiprocessing.Pool`: a pool terminated right after
    its task was queued could hang in its own task-handler thread (seen in the suite: a usage
    error raised just after the check started), where killing one process cannot."""

    def __init__(
        self,
        paths: list[str],
        read_limits: ReadLimits | None,
        existing: list[Existing] | None = None,
    ) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        context: Any = multiprocessing.get_context(method)
        before = existing or [Existing()] * len(paths)
        self._receiver, sender = context.Pipe(duplex=False)
        # The check ends with the writer: killed with it (guard_worker), stopped when it stops.
        with forking_workers():
            self._process = context.Process(
                target=_check_all,
                args=(sender, os.getpid(), paths, read_limits, before),
                daemon=True,
            )
            self._process.start()
        sender.close()
        self._paths = paths
        self._collected = False

    def results(self) -> list[InputCheck]:
        """Each input's check. A process that ended without them (killed, out of memory) ends
        the run: with ``strict`` the inputs cannot be vouched for, and without, the output's
        manifest and summary would not say that they went unchecked. A check that raised is
        only a check: the output stays, and its `InputCheck` says how it failed (``strict``
        cannot vouch for its input then: `_finish_checks`)."""
        try:
            checks: list[InputCheck | str | None] = self._receiver.recv()
        except (EOFError, OSError):
            self._process.join(timeout=1)
            raise worker_ended(
                "the input check (validate of the input, beside the writer)",
                self._process.exitcode,
                advice="rerun with more memory, or with --no-check and without --strict",
            ) from None
        self._collected = True
        return [
            InputCheck.failure(path, check) if isinstance(check, str) else check
            for path, check in zip(self._paths, checks, strict=True)
            if check is not None
        ]

    def close(self) -> None:
        if not self._collected and self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receiver.close()
        if self._process.exitcode != 0:
            # Killed (by this process, or from outside), its validate's run directory is
            # left: removed now, as the next run would, so a stopped run leaves nothing.
            RunDirectory().remove_abandoned()


def _check_all(
    sender: Any,
    parent: int,
    paths: list[str],
    read_limits: ReadLimits | None,
    before: list[Existing],
) -> None:
    """The child of `InputChecker`: each input's check, in order, sent back as one list (None:
    the input does not open, which the writer reports; a string: how its check failed)."""
    guard_worker(parent)
    checks: list[InputCheck | str | None] = []
    for path, seen in zip(paths, before, strict=True):
        try:
            checks.append(_check(path, read_limits, seen))
        except Exception as exc:  # a crashed check must not lose the output: it is only a check
            checks.append(f"{type(exc).__name__}: {exc}")
    sender.send(checks)
    sender.close()


def _start_checks(
    paths: list[str], enabled: bool, read_limits: ReadLimits | None
) -> InputChecker | None:
    return InputChecker(paths, read_limits) if enabled else None


def filter_archive(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    selection: Selection | None = None,
    *,
    dry_run: bool = False,
    strict: bool = False,
    check_input: bool = True,
    read_limits: ReadLimits | None = None,
) -> FilterResult:
    """Write the part of ``source`` that ``selection`` picks to ``output`` (a zip), with what
    it needs to import, and ``OUT.manifest.json`` beside it.

    Raises:
        ArchiveError: ``source`` cannot be used (exit 3); nothing is written.
        UsageError: a selector names something ``source`` does not have (exit 2), or no
            ``output`` without ``dry_run``.
        OutputError: ``output`` is the input, or cannot be written (exit 2).
        InputHasErrors: ``strict`` and ``source`` has errors (exit 1); nothing is written.
    """
    keep_large_buffers()
    selection = selection or Selection()
    source = os.fspath(source)
    if output is None and not dry_run:
        raise UsageError("filter needs an output (-o OUT.zip), or --dry-run")
    target = None if output is None else os.fspath(output)
    result = FilterResult(source, target, dry_run, selection, FilterStats())
    checker = _start_checks([source], check_input or strict, read_limits)
    try:
        with open_archive(source, limits=read_limits) as archive:
            if dry_run or output is None:
                result.stats = filter_into(archive, selection, None)
                result.checks = _finish_checks(checker, strict)
                return result
            with refused_writes(output), write_archive(output, protect=[source]) as writer:
                result.stats = filter_into(
                    archive, selection, writer, spool_folder=output_folder(output)
                )
                result.checks = _finish_checks(checker, strict)
            result.written = writer.result
        document = {
            "command": "filter",
            "source": Path(source).name,
            "selection": selection_dict(selection),
            **_manifest_counts(result.stats),
            "archive": archive_entry(writer.result) if writer.result else None,
            "input_check": [c.to_dict() for c in result.checks],
        }
        result.manifest = str(
            write_manifest(manifest_path(output), document, protect=(source, output))
        )
        return result
    finally:
        if checker is not None:
            checker.close()


def _finish_checks(checker: InputChecker | None, strict: bool) -> list[InputCheck]:
    if checker is None:
        return []
    checks = checker.results()
    if strict and any(c.errors for c in checks):
        raise InputHasErrors(checks)
    failed = [c for c in checks if c.failed]
    if strict and failed:  # after the errors found: those are the better answer
        raise RuntimeError(
            f"the input check of {failed[0].path} failed ({failed[0].failed}); "
            "--strict cannot vouch for it"
        )
    return checks


def _manifest_counts(stats: FilterStats) -> dict[str, Any]:
    data = stats.to_dict()
    left_out: dict[str, Any] = {
        "lines": data["dropped"],
        "why": "not selected, and not needed by a kept line",
        "files": {"count": stats.files_dropped, "bytes": stats.file_bytes_dropped},
        "files_why": "no kept line refers to them",
    }
    if stats.too_long:
        left_out["too_long_lines"] = stats.too_long
    return {
        "kept": {
            "lines": data["kept"],
            "needed": data["needed"],
            "rewritten": data["rewritten"],
            "unjudged": stats.unjudged,
            "files": {"count": stats.files_kept, "bytes": stats.file_bytes_kept},
        },
        "left_out": left_out,
    }


def split_archive(
    source: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    by: By | None = None,
    strict: bool = False,
    check_input: bool = True,
    read_limits: ReadLimits | None = None,
) -> SplitResult:
    """Cut ``source`` into parts under ``max_bytes`` (and/or one group per team, channel or
    month) that import one after the other, written into ``folder`` with ``manifest.json``.
    The scheme is in `archivekit.write.split`. The parts appear only once all are written.

    Raises:
        ArchiveError: ``source`` cannot be used (exit 3); nothing is written.
        UsageError: neither ``max_bytes`` nor ``by`` (exit 2).
        OutputError: ``folder`` cannot be written or holds an earlier split (exit 2).
        InputHasErrors: ``strict`` and ``source`` has errors (exit 1); nothing is written.
    """
    keep_large_buffers()
    source = os.fspath(source)
    if max_bytes is None and by is None:
        raise UsageError("split needs --max-bytes SIZE (or --target-config) or --by")
    stem = Path(source).name
    stem = stem[:-4] if stem.lower().endswith(".zip") else stem.rsplit(".", 1)[0] or stem
    checker = _start_checks([source], check_input or strict, read_limits)
    created: list[Path] = []  # the folders this run made (prepare_folder)
    try:
        with open_archive(source, limits=read_limits) as archive:
            target, created = prepare_folder(folder, stem)
            checks: list[InputCheck] = []
            run: SplitRun | None = None
            with refused_writes(target):
                try:
                    run = SplitRun(archive, target, limit=max_bytes, by=by, stem=stem)
                    stats = run.run_staged()
                    checks = _finish_checks(checker, strict)
                except BaseException:
                    if run is not None:
                        run.discard()
                    raise
                run.publish()
        result = SplitResult(source, str(target), max_bytes, by, stats, checks=checks)
        document = {"command": "split", **result.manifest_document()}
        manifest = target / "manifest.json"
        result.manifest = str(write_manifest(manifest, document, protect=(source,)))
        return result
    except BaseException:
        remove_created(created)  # a failed or refused split leaves no folder it made (if empty)
        raise
    finally:
        if checker is not None:
            checker.close()


def merge_archives(
    sources: list[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    strict: bool = False,
    check_input: bool = True,
    read_limits: ReadLimits | None = None,
) -> MergeResult:
    """Combine ``sources`` (in order: a later input's definitions win) into ``output`` with
    ``OUT.manifest.json`` beside it; see `archivekit.write.merge`.

    Raises:
        ArchiveError: an input cannot be used (exit 3); nothing is written.
        UsageError: no input, or one given twice (exit 2). One input is fine: the output
            is that archive in the exporter's block order.
        OutputError: ``output`` is an input, or cannot be written (exit 2).
        InputHasErrors: ``strict`` and an input has errors (exit 1); nothing is written.
    """
    keep_large_buffers()
    paths = [os.fspath(s) for s in sources]
    if not paths:
        raise UsageError("merge needs at least one archive")
    if len({os.path.realpath(p) for p in paths}) != len(paths):
        raise UsageError("merge: an archive is given twice")
    names = _input_names(paths)
    checker: InputChecker | None = None
    try:
        with contextlib.ExitStack() as stack:
            archives = [stack.enter_context(open_archive(p, limits=read_limits)) for p in paths]
            with refused_writes(output), write_archive(output, protect=paths) as writer:
                run = MergeRun(archives, writer, names, spool_folder=str(output_folder(output)))
                before = run.index()
                if check_input or strict:
                    # Each input as the import would see it: after the inputs before it.
                    checker = InputChecker(paths, read_limits, before)
                stats = run.write()
                checks = _finish_checks(checker, strict)
        assert writer.result is not None
        result = MergeResult(paths, os.fspath(output), stats, writer.result, checks=checks)
        document = {"command": "merge", **result.manifest_document()}
        result.manifest = str(
            write_manifest(manifest_path(output), document, protect=(*paths, output))
        )
        return result
    finally:
        if checker is not None:
            checker.close()


def _input_names(paths: list[str]) -> list[str]:
    """How issues name each input: its file name, or its path when two names clash."""
    names = [Path(p).name for p in paths]
    if len(set(names)) == len(names):
        return names
    return paths


REDACT_KEY_BYTES = 32


def redact_archive(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    mapping: str | os.PathLike[str] | None = None,
    attachments: Attachments = "placeholders",
    read_limits: ReadLimits | None = None,
) -> RedactResult:
    """Write ``source`` with every personal string and file replaced to ``output`` (see
    `archivekit.write.redact`), and ``OUT.manifest.json`` beside it (what was replaced and
    what was kept verbatim; it names no original value).

    ``key``: the pseudonyms' HMAC key (same key, same output bytes); None draws a random key
    that is stored nowhere. ``mapping``: where to write the reverse mapping (pseudonym →
    original, per kind of name, and the original name of every file) for the customer to keep.

    Raises:
        ArchiveError: ``source`` cannot be used (exit 3); nothing is written.
        OutputError: ``output`` or ``mapping`` is the input, or cannot be written (exit 2).
    """
    keep_large_buffers()
    source = os.fspath(source)
    target = os.fspath(output)
    if mapping is not None and os.path.realpath(mapping) in {
        os.path.realpath(target),
        os.path.realpath(source),
        os.path.realpath(manifest_path(target)),
    }:
        # Checked before anything is written: the mapping is written last.
        raise UsageError(
            "redact: --mapping must be another file than the input, the output and the"
            " output's manifest"
        )
    if mapping is not None:
        refuse_directory(mapping)
    key_given = key is not None
    pseudonyms = Pseudonyms(key if key is not None else os.urandom(REDACT_KEY_BYTES))
    with open_archive(source, limits=read_limits) as archive:
        run = RedactRun(archive, pseudonyms, attachments, files=mapping is not None)
        jsonl_name = run.member_name(archive.jsonl) if archive.kind != "jsonl" else JSONL_NAME
        with (
            refused_writes(target),
            write_archive(
                target,
                protect=[source],
                jsonl_name=jsonl_name,
                lead=run.lead(),
                jsonl_traits=run.jsonl_traits(),
            ) as writer,
        ):
            stats = run.run(writer)
    assert writer.result is not None
    result = RedactResult(target, attachments, key_given, stats, writer.result)
    document = {"command": "redact", **result.manifest_document()}
    result.manifest = str(write_manifest(manifest_path(target), document, protect=(source, target)))
    if mapping is not None:
        reverse = {"mapping_version": 1, "names": pseudonyms.reverse(), "files": run.files}
        try:
            write_atomic(mapping, json_bytes(reverse) + b"\n", protect=(source, target))
        except BaseException as exc:
            # All or nothing: a redacted archive whose mapping is lost cannot be mapped back
            # (a random key is stored nowhere, and another run gives other pseudonyms).
            for written in (target, result.manifest):
                with contextlib.suppress(OSError):
                    os.unlink(written)
            if isinstance(exc, OutputError):
                raise OutputError(
                    f"{exc}; the redacted archive and its manifest were removed (a run whose "
                    "names cannot be mapped back)"
                ) from None
            raise
        result.mapping = os.fspath(mapping)
    return result


def fix_archive(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    options: FixOptions | None = None,
    *,
    dry_run: bool = False,
    read_limits: ReadLimits | None = None,
) -> FixResult:
    """Write ``source`` with what validate finds mechanically repaired to ``output`` (a zip),
    and ``OUT.manifest.json`` beside it; see `archivekit.write.fix`. The result holds the
    change log: `FixResult.close` it when done (the CLI does).

    Raises:
        ArchiveError: ``source`` cannot be used (exit 3); nothing is written.
        UsageError: no ``output`` without ``dry_run`` (exit 2).
        OutputError: ``output`` is the input, or cannot be written (exit 2).
    """
    keep_large_buffers()
    options = options or FixOptions()
    source = os.fspath(source)
    if output is None and not dry_run:
        raise UsageError("fix needs an output (-o OUT.zip), or --dry-run")
    target = None if output is None or dry_run else os.fspath(output)
    # The change log waits beside the output, on the disk the output needs anyway.
    folder = None if target is None else output_folder(target)
    result = FixResult(source, target, target is None, FixStats(), ChangeLog(folder))
    try:
        with open_archive(source, limits=read_limits, plain_flagged=True) as archive:
            try:
                _fix_into(archive, target, options, result, None)
            except NeedsSurvey as early:
                # A name is used before its definition: again, with every definition known
                # first, the lines reordered.
                result.log.close()
                result.log = ChangeLog(folder)
                _fix_into(archive, target, options, result, early.line)
        if target is None:
            return result
        result.manifest = str(
            write_manifest(manifest_path(target), result.summary(), protect=(source, target))
        )
        return result
    except BaseException:
        result.log.close()
        raise


def _fix_into(
    archive: Archive,
    target: str | None,
    options: FixOptions,
    result: FixResult,
    early_use: int | None,
) -> None:
    log = result.log
    if target is None:
        result.stats = FixRun(archive, None, options, log, early_use=early_use).run()
        return
    jsonl_name = archive.jsonl.name if archive.kind == "zip" else JSONL_NAME
    with (
        refused_writes(target),
        # Capped: a message of one character repeated must not make fix's own output a
        # zip bomb to every reader (`zipwriter.RatioBound`).
        write_archive(
            target, protect=[archive.path], jsonl_name=jsonl_name, deflate=CAPPED_DEFLATE
        ) as writer,
    ):
        folder = output_folder(target)
        run = FixRun(archive, writer, options, log, spool_folder=folder, early_use=early_use)
        result.stats = run.run()
    result.written = writer.result
