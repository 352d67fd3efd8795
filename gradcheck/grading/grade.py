"""Grading a folder of submissions: workers, resuming, progress, outputs as each one finishes.

Each submission is graded by a worker (a spawned process with ``--jobs N > 1``, else this
process) and its ``results.json`` and ``feedback.md`` are written by this process, atomically,
the moment it finishes; ``grades.csv`` is rewritten (atomically) from a table keyed by
submission name. So a batch killed at any point, even with SIGKILL, keeps everything already
graded, and a rerun skips it: a submission is graded again only if its files, the rubric or the
limits changed, or with ``regrade``. Nothing is ever counted twice: the table has one row per
name. Workers die with this process (their parent-death signal), and their sandboxes with them.

Every step for one submission (its entry and fingerprint, the sandbox, the scores, the
feedback, writing its files) sits inside that submission's failure boundary: whatever goes
wrong, in the submission or in gradcheck, becomes that submission's row (score 0 and a note
saying what happened; ``results.json`` says so too, unsealed, so a rerun retries it) and the
batch goes on. Text from a submission is escaped wherever it is written
(:mod:`~gradcheck.grading.escape`). Refused entries (links, reserved names) get a row, no files.

A stored grade is trusted only if it carries this grader's seal (:mod:`~gradcheck.grading.seal`),
and only where the sandbox cannot reach the output folder; elsewhere every submission is graded
again. At the end, every ``results.json`` of the batch (graded or skipped) is read back and
rewritten if it changed on disk.

Where the platform lets a sandbox reach the output folder (no mount namespace, see
:class:`gradcheck.sandbox.Isolation`), the texts written are kept until that final check;
otherwise nothing is kept per submission but its ``grades.csv`` row, and a finished worker's
result is dropped once written (memory stays flat over a batch of any size).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from .. import __version__
from ..reports.batch import write_class_report
from ..reports.feedback import write_pictures
from ..sandbox import Isolation, Limits, probe
from ..sandbox.box import sweep_stale_workdirs
from .discover import Source, discover, fingerprint
from .escape import safe_data, safe_name, safe_text
from .outputs import atomic_write, error_results, note_row, row_from_results, write_grades_csv
from .rubric import Rubric
from .seal import KEY_FILE, Seal, forget_key, shielded
from .vet import DEFAULT_CAPS, Caps

__all__ = ["Batch", "GradeError", "grade_batch", "grade_one", "settings_digest"]

_POOL_RESTARTS = 3


class GradeError(Exception):
    """The batch cannot run (no submissions, output folder in use, ...): one line for the user."""


@dataclass
class Batch:
    """How a batch went."""

    rows: dict[str, dict] = field(default_factory=dict)  # submission -> grades.csv row
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # submission -> internal error
    refused: dict[str, str] = field(default_factory=dict)  # submission -> why it is not graded
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: Isolation | None = None


def settings_digest(rubric: Rubric, limits: Limits, caps: Caps = DEFAULT_CAPS) -> str:
    """What a stored grade depends on besides the submission: rubric, limits, caps, gradcheck."""
    text = json.dumps([rubric.digest(), asdict(limits), __version__], sort_keys=True)
    if caps != DEFAULT_CAPS:  # outputs written before the caps existed keep their digest
        text += json.dumps(asdict(caps), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, escaped, even when its ``str()`` fails."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a hostile or broken __str__
        message = "<unprintable message>"
    return safe_text(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def grade_one(
    source: Source,
    rubric: Rubric,
    limits: Limits,
    isolation: Isolation,
    hide: list[str],
    settings: str,
    caps: Caps = DEFAULT_CAPS,
) -> dict:
    """Grade one submission; the texts to write (computed in the worker), or an internal error."""
    from ..reports.feedback import feedback_pictures
    from .assess import assess
    from .outputs import feedback_markdown, results_json

    try:
        digest = fingerprint(source)
        assessment = assess(source, rubric, limits=limits, isolation=isolation, hide=hide, caps=caps)
        results = results_json(assessment, rubric, fingerprint=digest, settings=settings)
        return {
            "name": source.name,
            "results": results,
            "feedback": feedback_markdown(assessment, rubric),
            "pictures": feedback_pictures(assessment.score.tests, assessment.report),
            "seconds": assessment.seconds,
        }
    except Exception as exc:  # noqa: BLE001 - a bug of gradcheck: reported, the batch goes on
        return {"name": source.name, "error": describe(exc), "traceback": safe_text(traceback.format_exc())}


def _worker_init() -> None:
    """In each worker: die with the grader (Linux), and keep torch to one thread per worker."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import torch

    torch.set_num_threads(1)


class _Lock:
    """An exclusive lock on the output folder (released by the kernel if we are killed)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".gradcheck.lock"
        self.fd: int | None = None

    def __enter__(self) -> _Lock:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            raise GradeError(f"another gradcheck grade is writing to {self.path.parent}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)


class Progress:
    """A rich progress bar with ETA on a terminal; one plain line per submission otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.bar = None
        if stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=Console(file=stream),
            )
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def log(self, line: str) -> None:
        if self.bar:
            self.bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def advance(self, line: str) -> None:
        self.done += 1
        if self.bar:
            self.bar.update(self.task, advance=1, description=line)
        else:
            self.log(f"[{self.done}/{self.total}] {line}")


def _stored(out: Path, source: Source, settings: str, seal: Seal) -> tuple[dict, str] | None:
    """The stored results of ``source`` and their text, if this grader sealed them and they
    match the submission's files and the settings; None otherwise (grade it)."""
    path = out / source.name / "results.json"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    stored = json.loads(text)
    if not seal.verify(source.name, stored):
        return None
    record = stored["extra_data"]["gradcheck"]
    if record.get("fingerprint") != fingerprint(source) or record.get("settings") != settings:
        return None
    return stored, text


def _plan(
    sources: list[Source], out: Path, rubric: Rubric, settings: str, seal: Seal | None, batch: Batch
) -> tuple[list[Source], dict[str, dict[str, str]]]:
    """What to grade now, and the files of what is graded already and unchanged (their rows
    go into ``batch``). ``seal`` None: nothing stored is trusted (``--regrade``, or a sandbox
    that could have rewritten it)."""
    todo, kept = [], {}
    for source in sources:
        try:
            found = None if seal is None else _stored(out, source, settings, seal)
        except (OSError, ValueError, KeyError, TypeError):  # unreadable or damaged: grade it again
            found = None
        if found is None:
            todo.append(source)
            continue
        stored, text = found
        batch.rows[source.name] = row_from_results(source.display, stored, rubric)
        batch.skipped.append(source.name)
        kept[source.name] = {"results.json": text}
    return todo, kept


def _run_all(todo: list[Source], jobs: int, task: Callable[[Source], dict], finished: Callable[[dict], None]) -> None:
    """Run ``task`` on every source (in ``jobs`` spawned workers when jobs > 1), calling
    ``finished`` here, in this process, as each completes."""
    if jobs <= 1:
        for source in todo:
            finished(task(source))
        return
    pending = list(todo)
    for _ in range(_POOL_RESTARTS + 1):
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
            futures = {pool.submit(task, source): source for source in pending}
            try:
                for future in cf.as_completed(futures):
                    source = futures[future]
                    try:
                        done = future.result()
                    except cf.process.BrokenProcessPool:
                        raise
                    except Exception as exc:  # noqa: BLE001 - the worker's answer did not come back
                        done = {"name": source.name, "error": f"the worker failed: {describe(exc)}"}
                    finished(done)
                    pending.remove(futures.pop(future))  # drop the future: its result is written
                return
            except cf.process.BrokenProcessPool:
                continue  # a worker died (not a submission: those run in sandboxes); go on with a new pool
    for source in pending:
        finished({"name": source.name, "error": "the grading workers kept dying"})


class _Writer:
    """Writes each finished submission's files and row, inside its failure boundary."""

    def __init__(self, out: Path, rubric: Rubric, seal: Seal, batch: Batch, progress: Progress, *, keep: bool) -> None:
        self.out, self.rubric, self.seal, self.batch, self.progress = out, rubric, seal, batch, progress
        self.keep = keep  # keep the texts written for the final tamper check (a sandbox may reach them)
        self.written: dict[str, dict[str, str]] = {}

    def __call__(self, done: dict) -> None:
        name = done["name"]
        display = safe_name(name)
        error = done.get("error")
        if error is None:
            try:
                self._graded(name, display, done)
                return
            except Exception as exc:  # noqa: BLE001 - gradcheck failed on this one; the batch goes on
                error = f"writing its results failed: {describe(exc)}"
        self._failed(name, display, safe_name(error))  # one line, wherever it is shown

    def _graded(self, name: str, display: str, done: dict) -> None:
        results = self.seal.sign(name, safe_data(done["results"]))
        text = json.dumps(results, indent=2, allow_nan=False, default=str) + "\n"
        feedback = safe_text(done["feedback"])
        row = row_from_results(display, results, self.rubric)
        write_pictures(self.out / name, done.get("pictures", {}))
        atomic_write(self.out / name / "feedback.md", feedback)
        atomic_write(self.out / name / "results.json", text)  # last: its presence means "graded"
        if self.keep:
            self.written[name] = {"feedback.md": feedback, "results.json": text}
        self.batch.rows[name] = row
        self.batch.graded.append(name)
        write_grades_csv(self.out, self.batch.rows.values(), self.rubric)
        record = results["extra_data"]["gradcheck"]
        self.progress.advance(f"{display}: {results['score']:g}/{record['max_score']:g} ({done['seconds']:.1f} s)")

    def _failed(self, name: str, display: str, error: str) -> None:
        """Score 0 and a note: in the row, and (best effort) in its results.json and feedback.md."""
        self.batch.errors[name] = error
        if name in self.batch.graded:  # it failed after its row was taken
            self.batch.graded.remove(name)
        self.batch.rows[name] = note_row(display, f"internal error: {error}", self.rubric)
        message = (
            f"gradcheck could not grade this submission ({error}); the score is 0 for now. Please tell your instructor."
        )
        try:
            feedback = f"# Feedback: {display}\n\n{message}\n"
            text = json.dumps(error_results(message, submission=name), indent=2) + "\n"
            atomic_write(self.out / name / "feedback.md", feedback)
            atomic_write(self.out / name / "results.json", text)  # unsealed: a rerun grades it again
            self.written[name] = {"feedback.md": feedback, "results.json": text}
        except Exception:  # noqa: BLE001 - the row says it all; the files are a courtesy
            pass
        try:
            write_grades_csv(self.out, self.batch.rows.values(), self.rubric)
        finally:
            self.progress.advance(f"{display}: INTERNAL ERROR {error} (score 0 for now; a rerun retries it)")


UNTRUSTED = (
    "no mount namespace and the same user as the grader: a submission could rewrite stored results, "
    "so none is trusted and every submission is graded (see the README, Grading a class)"
)


def _trust(out: Path, isolation: Isolation, regrade: bool) -> tuple[Seal, Seal | None]:
    """The seal this batch signs with, and the one stored results must carry (None: trust none).
    Decided before any submission runs."""
    if shielded(isolation):
        try:
            seal = Seal.of_folder(out)
        except (OSError, ValueError) as exc:
            raise GradeError(f"cannot use the key {out / KEY_FILE}: {exc}") from None
        return seal, (None if regrade else seal)
    try:
        forget_key(out)  # nothing a submission of this batch could read will ever verify
    except OSError as exc:
        raise GradeError(f"cannot remove the key {out / KEY_FILE}: {exc.strerror}") from None
    return Seal.ephemeral(), None


def grade_batch(
    submissions: str | os.PathLike,
    out: str | os.PathLike,
    rubric: Rubric,
    *,
    limits: Limits,
    jobs: int = 1,
    regrade: bool = False,
    rubric_path: str | os.PathLike | None = None,
    stream: TextIO = sys.stderr,
    caps: Caps = DEFAULT_CAPS,
) -> Batch:
    """Grade every submission in ``submissions`` into ``out``; see the module doc."""
    started = time.monotonic()
    folder, out = Path(submissions), Path(out)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions")
    if out.exists() and not out.is_dir():
        raise GradeError(f"--out {out} is a file; it must be a folder (new or from an earlier run)")
    sources, ignored = discover(folder, rubric.function)
    if not sources:
        raise GradeError(f"{folder} holds no .py/.ipynb submissions or student folders")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise GradeError(f"--out {out} must not be inside the submissions folder {folder}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradeError(f"cannot create --out {out}: {exc.strerror}") from None
    batch = Batch(ignored=ignored)
    settings = settings_digest(rubric, limits, caps)
    with _Lock(out):
        if sys.platform.startswith("linux"):
            sweep_stale_workdirs()
        batch.isolation = isolation = probe()
        hide = [str(folder.resolve()), str(out.resolve())] + ([str(Path(rubric_path).resolve())] if rubric_path else [])
        seal, trusted = _trust(out, isolation, regrade)
        for source in sources:
            if source.refused:
                batch.refused[source.name] = source.refused
                batch.rows[source.name] = note_row(source.display, f"refused: {source.refused}", rubric)
        todo, kept = _plan([s for s in sources if not s.refused], out, rubric, settings, trusted, batch)
        write_grades_csv(out, batch.rows.values(), rubric)
        with Progress(len(todo), stream) as progress:
            if not shielded(isolation):
                progress.log(UNTRUSTED)
            for line in ignored:
                progress.log(line)
            for name, why in batch.refused.items():
                progress.log(f"refused {safe_name(name)}: {safe_name(why)}")
            if batch.skipped:
                progress.log(
                    f"{len(batch.skipped)} submission(s) already graded and unchanged: skipped"
                    " (--regrade grades them again)"
                )
            writer = _Writer(out, rubric, seal, batch, progress, keep=not isolation.mount)
            task = _Task(rubric, limits, isolation, hide, settings, caps)
            _run_all(todo, jobs, task, writer)
        _restore(out, {**kept, **writer.written})
        write_grades_csv(out, batch.rows.values(), rubric)
        write_class_report(out, batch, rubric)
    batch.seconds = time.monotonic() - started
    return batch


@dataclass
class _Task:
    """``grade_one`` with the batch's settings bound (picklable, for spawned workers)."""

    rubric: Rubric
    limits: Limits
    isolation: Isolation
    hide: list[str]
    settings: str
    caps: Caps = DEFAULT_CAPS

    def __call__(self, source: Source) -> dict:
        return grade_one(source, self.rubric, self.limits, self.isolation, self.hide, self.settings, self.caps)


def _restore(out: Path, written: dict[str, dict[str, str]]) -> None:
    """Rewrite any file of this batch that changed on disk since it was written."""
    for name, files in written.items():
        for filename, text in files.items():
            path = out / name / filename
            try:
                same = path.read_text(encoding="utf-8") == text
            except OSError:
                same = False
            if not same:
                atomic_write(path, text)
