"""Grading a folder of submissions: workers, resuming, progress, outputs as each one finishes.

Each submission is graded by a worker (a spawned process with ``--jobs N > 1``, else this
process) and its ``results.json`` and ``feedback.md`` are written by this process, atomically,
the moment it finishes; ``grades.csv`` is rewritten (atomically) from a table keyed by
submission name. So a batch killed at any point, even with SIGKILL, keeps everything already
graded, and a rerun skips it: a submission is graded again only if its files, the rubric or the
limits changed, or with ``regrade``. Nothing is ever counted twice: the table has one row per
name. Workers die with this process (their parent-death signal), and their sandboxes with them.

At the end, every ``results.json`` written in this batch is read back and rewritten if it
changed on disk: where the platform lets a sandbox write outside its own folder (see
:class:`gradcheck.sandbox.Isolation`), a hostile submission still cannot change another's grade.
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
from .outputs import atomic_write, read_results, row_from_results, write_grades_csv
from .rubric import Rubric

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
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: Isolation | None = None


def settings_digest(rubric: Rubric, limits: Limits) -> str:
    """What a stored grade depends on besides the submission: rubric, limits, gradcheck."""
    text = json.dumps([rubric.digest(), asdict(limits), __version__], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def grade_one(
    source: Source, rubric: Rubric, limits: Limits, isolation: Isolation, hide: list[str], settings: str
) -> dict:
    """Grade one submission; the texts to write (computed in the worker), or an internal error."""
    from ..reports.feedback import feedback_pictures
    from .assess import assess
    from .outputs import feedback_markdown, results_json

    try:
        digest = fingerprint(source)
        assessment = assess(source, rubric, limits=limits, isolation=isolation, hide=hide)
        results = results_json(assessment, rubric, fingerprint=digest, settings=settings)
        return {
            "name": source.name,
            "results": results,
            "feedback": feedback_markdown(assessment, rubric),
            "pictures": feedback_pictures(assessment.score.tests, assessment.report),
            "seconds": assessment.seconds,
        }
    except Exception as exc:  # noqa: BLE001 - a bug of gradcheck: reported, the batch goes on
        return {"name": source.name, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


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


class _Progress:
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

    def __enter__(self) -> _Progress:
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


def _plan(sources: list[Source], out: Path, rubric: Rubric, settings: str, regrade: bool, batch: Batch) -> list[Source]:
    """What to grade now; rows for what is graded already and unchanged (unless regrade)."""
    todo = []
    for source in sources:
        stored = None if regrade else read_results(out / source.name / "results.json")
        record = stored["extra_data"]["gradcheck"] if stored else {}
        if stored and record.get("fingerprint") == fingerprint(source) and record.get("settings") == settings:
            batch.rows[source.name] = row_from_results(source.name, stored, rubric)
            batch.skipped.append(source.name)
        else:
            todo.append(source)
    return todo


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
                    finished(future.result())
                    pending.remove(futures[future])
                return
            except cf.process.BrokenProcessPool:
                continue  # a worker died (not a submission: those run in sandboxes); go on with a new pool
    for source in pending:
        finished({"name": source.name, "error": "the grading workers kept dying"})


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
) -> Batch:
    """Grade every submission in ``submissions`` into ``out``; see the module doc."""
    started = time.monotonic()
    folder, out = Path(submissions), Path(out)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions")
    sources, ignored = discover(folder, rubric.function)
    if not sources:
        raise GradeError(f"{folder} holds no .py/.ipynb submissions or student folders")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise GradeError(f"--out {out} must not be inside the submissions folder {folder}")
    out.mkdir(parents=True, exist_ok=True)
    batch = Batch(ignored=ignored)
    settings = settings_digest(rubric, limits)
    with _Lock(out):
        todo = _plan(sources, out, rubric, settings, regrade, batch)
        write_grades_csv(out, batch.rows.values(), rubric)
        if sys.platform.startswith("linux"):
            sweep_stale_workdirs()
        batch.isolation = isolation = probe()
        hide = [str(folder.resolve()), str(out.resolve())] + ([str(Path(rubric_path).resolve())] if rubric_path else [])
        written: dict[str, dict[str, str]] = {}
        with _Progress(len(todo), stream) as progress:
            for line in ignored:
                progress.log(line)
            if batch.skipped:
                progress.log(
                    f"{len(batch.skipped)} submission(s) already graded and unchanged: skipped (--regrade grades them again)"
                )

            def finished(done: dict) -> None:
                name = done["name"]
                if "error" in done:
                    batch.errors[name] = done["error"]
                    progress.advance(f"{name}: INTERNAL ERROR {done['error']} (not written; a rerun retries it)")
                    return
                text = json.dumps(done["results"], indent=2, allow_nan=False, default=str) + "\n"
                write_pictures(out / name, done["pictures"])
                atomic_write(out / name / "feedback.md", done["feedback"])
                atomic_write(out / name / "results.json", text)  # last: its presence means "graded"
                written[name] = {"feedback.md": done["feedback"], "results.json": text}
                batch.rows[name] = row_from_results(name, done["results"], rubric)
                batch.graded.append(name)
                write_grades_csv(out, batch.rows.values(), rubric)
                r = done["results"]
                progress.advance(
                    f"{name}: {r['score']:g}/{r['extra_data']['gradcheck']['max_score']:g} ({done['seconds']:.1f} s)"
                )

            _run_all(todo, jobs, _Task(rubric, limits, isolation, hide, settings), finished)
        _restore(out, written)
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

    def __call__(self, source: Source) -> dict:
        return grade_one(source, self.rubric, self.limits, self.isolation, self.hide, self.settings)


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
