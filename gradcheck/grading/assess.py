"""Grading one submission: its sandbox, the checker core, the rubric's points.

Everything that decides a grade runs here, in the grader: the submission's function is a
:class:`~gradcheck.sandbox.SandboxedFunction`, and the core checks it exactly as
:func:`gradcheck.check` checks an in-process one (the built-in cases, a fresh copy to tell hidden
state apart, the hypothesis search with shrinking, the report and its diagnosis). Policies read
the source statically. Nothing of the submission runs in this process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from ..adapters import wrap
from ..api import adapter_search_space, case_domain
from ..cases import builtin_cases
from ..checker import CaseResult, Run, check_cases
from ..diagnosis import diagnosed
from ..explore import explore
from ..loading import LoadError, notebook_cells
from ..report import Report, build_report
from ..sandbox import Isolation, Limits, LoadOutcome, SandboxedFunction
from ..sandbox.remote import MAX_SUBMISSION_BYTES
from ..vocabulary import Mode
from .discover import Source
from .rubric import Rubric
from .score import Score, score_submission
from .vet import DEFAULT_CAPS, Caps, inspect_policies, vet

__all__ = ["Assessment", "assess", "limits_for"]

DEVICES = ("cpu",)  # grading runs on the CPU: a sandboxed child gets no GPU


@dataclass
class Assessment:
    """Everything known about one graded submission."""

    source: Source
    score: Score
    load: LoadOutcome
    report: Report | None
    events: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    isolation: Isolation | None = None
    timed_out: bool = False
    crashed: int = 0


def limits_for(rubric: Rubric, *, timeout: float | None = None, memory_mb: int | None = None) -> Limits:
    """The sandbox limits: the rubric's, overridden by the command line."""
    return Limits(call_timeout=float(timeout or rubric.timeout), memory_mb=int(memory_mb or rubric.memory_mb))


def _sources(source: Source, caps: Caps) -> list[tuple[str, str]]:
    """The code policies inspect: the entry (a notebook's code cells) and the folder's .py files
    (those within the size cap; the entry itself has passed :func:`~gradcheck.grading.vet.vet`)."""
    found = []
    if source.entry is not None:
        try:
            if source.entry.suffix == ".ipynb":
                found += [
                    (f"{source.entry.name} [cell {i}]", c)
                    for i, c in enumerate(notebook_cells(str(source.entry)), start=1)
                ]
            else:
                found.append((source.entry.name, source.entry.read_text(encoding="utf-8", errors="replace")))
        except (LoadError, OSError):
            pass
    if source.folder is not None:
        budget = MAX_SUBMISSION_BYTES  # what the sandbox copies at most; beyond it, loading fails anyway
        for path in sorted(source.folder.rglob("*.py"))[:200]:
            if path == source.entry or not path.is_file() or path.is_symlink():
                continue
            size = path.stat().st_size
            if size > caps.max_file_mb * (1 << 20) or size > budget:
                continue
            budget -= size
            found.append((str(path.relative_to(source.folder)), path.read_text(encoding="utf-8", errors="replace")))
    return found


def _restarts(fn: SandboxedFunction) -> Callable[[CaseResult], None]:
    """After each case: a fresh sandbox if the last one crashed."""

    def after(_: CaseResult) -> None:
        fn.revive()

    return after


def _check(fn: SandboxedFunction, rubric: Rubric, label: str, limits: Limits) -> Report:
    """What :func:`gradcheck.check` does, with the sandbox's own fresh copies (never an
    in-process reload) and a restart after a crash between cases.

    The rubric's spec, adapter and mode apply as in :func:`gradcheck.check`; the adapter wraps
    the sandboxed function here, in the grader, so the sandbox only ever performs the call."""
    settings = rubric.settings
    spec, adapter = replace(settings.spec, batch=rubric.batch), settings.adapter
    function: Callable[..., Any] = fn
    fresh: Callable[[], Callable[..., Any]] = fn.fresh
    if adapter is not None:
        function, fresh = wrap(fn, adapter, spec), (lambda: wrap(fn.fresh(), adapter, spec))
    cases = case_domain(settings).fit_all(builtin_cases(seed=rubric.seed, batch=rubric.batch, devices=DEVICES))
    run = check_cases(
        function,
        cases,
        spec=spec,
        timeout=limits.call_timeout,
        fresh=fresh,
        on_case=_restarts(fn),
        mode=cast(Mode, settings.mode),  # a str in Settings, checked by parse_mode when resolved
    )
    timed_out = any(f.kind == "timeout" for r in run.results for f in r.failures)
    if rubric.max_examples > 0 and settings.mode != "self" and not timed_out and fn.revive():
        strategy = adapter_search_space(adapter, spec, DEVICES, settings.domain)
        found = explore(
            function,
            spec=spec,
            max_examples=rubric.max_examples,
            seed=rubric.seed,
            devices=DEVICES,
            timeout=limits.call_timeout,
            fresh=fresh,
            strategy=strategy,
        )
        run = Run(run.results + found.results, run.skipped, run.elapsed_s + found.elapsed_s)
    warnings = list(fn.load_outcome.warnings if fn.load_outcome else [])
    if not settings.judged_as_seed:
        warnings.append(f"judged with {replace(settings, spec=spec).describe()}")
    report = build_report(label, run, seed=rubric.seed, function=rubric.function, output=fn.output, warnings=warnings)
    return diagnosed(report, spec)


def assess(
    source: Source,
    rubric: Rubric,
    *,
    limits: Limits,
    isolation: Isolation | None = None,
    hide: Sequence[str | os.PathLike] = (),
    caps: Caps = DEFAULT_CAPS,
) -> Assessment:
    """Grade ``source`` under ``rubric`` in a sandbox with ``limits``; what the grader reads
    itself is bounded by ``caps``."""
    started = time.monotonic()
    refused = vet(source, caps)
    findings = inspect_policies(rubric.policies, [] if refused else _sources(source, caps), caps.parse_seconds)
    if source.entry is None or refused:
        why = refused or f"no .py or .ipynb file in {source.display} defines {rubric.function}"
        load = LoadOutcome(False, why)
        return Assessment(
            source,
            score_submission(rubric, None, findings, unloaded=load.error or ""),
            load,
            None,
            seconds=time.monotonic() - started,
            isolation=isolation,
        )
    fn = SandboxedFunction(
        source.entry,
        folder=source.folder,
        function=rubric.function,
        limits=limits,
        isolation=isolation,
        hide=[*hide, *rubric.hide],
        echo_output=True,
    )
    with fn:
        load = fn.load()
        report = _check(fn, rubric, source.label, limits) if load.ok else None
    score = score_submission(rubric, report, findings, unloaded=f"the submission did not load: {load.error}")
    return Assessment(
        source,
        score,
        load,
        report,
        events=list(fn.events),
        output=fn.output,
        seconds=time.monotonic() - started,
        isolation=fn.isolation,
        timed_out=fn.timeouts > 0,
        crashed=fn.crashes,
    )
