"""Reports: the run's results folded into one verdict, as JSON (the CLI contract) or as text.

Folding keeps one failure per problem, ``(check, layer, param, kind)``, shown in the smallest
case where it appeared, and orders them by check, then smallest case first, and within a case
root cause first: from the output layer down, because lower layers inherit the errors of higher
ones through δ.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from . import version as gradcheck_version
from .checker import CHECKS, PARAMS, CaseResult, Run
from .defaults import DEFAULT_FUNCTION
from .records import (
    Diagnosis,
    EvidenceValue,
    Failure,
    FailureKey,
    describe_failure,
    echo_line,
    explained_elsewhere,
    failure_facts,
    failure_lines,
)
from .vocabulary import EXTRA_CHECKS

__all__ = ["SCHEMA_VERSION", "Report", "Row", "build_report", "fold_failures", "render_text", "to_json"]

# The version of the JSON document's shape (docs/json.md, gradcheck/schemas/report.schema.json):
# raised only when a field is renamed, removed or changes meaning; new fields leave it alone.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Report:
    """The verdict on one implementation, and everything needed to explain it.

    ``diagnoses`` is empty until :func:`gradcheck.diagnosis.diagnose` has run; a diagnosed
    report is a new one (``dataclasses.replace(report, diagnoses=...)``).
    """

    target: str
    command: str  # "gradcheck check TARGET [--function F]": the prefix of every reproduction
    seed: int
    run: Run
    failures: list[Failure]
    warnings: list[str] = field(default_factory=list)
    output: str = ""
    sightings: dict[FailureKey, int] = field(default_factory=dict)  # how many cases showed each problem
    diagnoses: dict[FailureKey, Diagnosis] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def inconclusive(self) -> list[str]:
        notes = {n for r in self.run.results if r.truth for n in r.truth.disagreements.values()}
        return sorted(notes)

    def diagnosis_of(self, failure: Failure) -> Diagnosis | None:
        """The likely bug behind ``failure`` (by its key), if the report has been diagnosed."""
        return self.diagnoses.get(failure.key)

    def reproduce(self, failure: Failure) -> str:
        extra = failure.reproduce_options  # e.g. a case checked under another λ
        command = f"{self.command} {extra}" if extra else self.command
        return f"{command} {failure.case.cli_args()}" if failure.case else command

    def lines(self, failure: Failure, *, search_seed: int | None = None) -> list[str]:
        """``failure`` in full, as every face prints it (:func:`gradcheck.records.failure_lines`)."""
        return failure_lines(failure, self.diagnosis_of(failure), self.reproduce(failure), search_seed=search_seed)


def _order(f: Failure) -> tuple[int, int, int, int]:
    layer = -1 if f.layer is None else f.layer
    size = f.case.size if f.case else 0
    params = (*PARAMS, "loss", None)
    checks = (*CHECKS, *EXTRA_CHECKS)
    return (checks.index(f.check), size, -layer, params.index(f.param) if f.param in params else len(params))


def fold_failures(results: list[CaseResult]) -> tuple[list[Failure], dict[FailureKey, int]]:
    """One failure per problem, from its smallest case, root cause first; and how many cases showed each."""
    smallest: dict[FailureKey, Failure] = {}
    seen: dict[FailureKey, int] = {}
    for result in results:
        for f in result.failures:
            seen[f.key] = seen.get(f.key, 0) + 1
            best = smallest.get(f.key)
            if best is None or (f.case and best.case and f.case.size < best.case.size):
                smallest[f.key] = f
    return sorted(smallest.values(), key=_order), seen


def build_report(
    target: str,
    run: Run,
    *,
    seed: int,
    function: str = DEFAULT_FUNCTION,
    output: str = "",
    warnings: list[str] | None = None,
    options: str = "",
) -> Report:
    """Fold ``run`` into a report; ``options`` (e.g. ``--spec X --adapter Y``) join every reproduction line."""
    command = (
        f"gradcheck check {shlex.quote(target)}"
        + (f" --function {function}" if function != DEFAULT_FUNCTION else "")
        + (f" {options}" if options else "")
    )
    failures, sightings = fold_failures(run.results)
    return Report(target, command, seed, run, failures, list(warnings or []), output, sightings)


def check_summaries(report: Report) -> list[dict[str, Any]]:
    """``checks`` of the JSON: every check that ran, whether it passed, on how many cases."""
    summaries = []
    failed = {f.check for f in report.failures}
    for name in (*CHECKS, *EXTRA_CHECKS):
        cases = sum(name in r.evaluated for r in report.run.results)
        if cases or name in failed:
            summaries.append({"name": name, "passed": name not in failed, "cases": cases})
    return summaries


def _evidence(report: Report, f: Failure) -> dict[str, EvidenceValue]:
    """The failure's own facts, how many cases showed it, and the diagnosis's evidence."""
    d = report.diagnosis_of(f)
    evidence = {**failure_facts(f), "cases_showing_it": report.sightings.get(f.key, 1)}
    if d is not None:
        evidence.update(d.evidence)
        links = {"consequence_of": d.consequence_of, "same_bug_as": d.same_bug_as, "detail": d.detail or None}
        evidence.update({k: v for k, v in links.items() if v is not None})
    return evidence


def _failure_json(report: Report, f: Failure) -> dict[str, Any]:
    m = f.mismatch
    d = report.diagnosis_of(f)
    return {
        "check": f.check,
        "layer": f.layer,
        "param": f.param,
        "kind": f.kind,
        "message": describe_failure(f),
        "expected": f.expected,
        "got": f.got,
        "max_abs_error": m.max_abs_error if m else None,
        "max_rel_error": m.max_rel_error if m else None,
        "worst_index": list(m.worst_index) if m else None,
        "fd_max_abs_error": f.fd_max_abs_error,
        "diagnosis": d.id if d else None,
        "confidence": d.confidence if d else None,
        "hint": d.hint if d else None,
        "evidence": _evidence(report, f),
        "case": f.case.describe() if f.case else None,
        "reproduce": report.reproduce(f),
    }


def to_json(report: Report) -> dict[str, Any]:
    """The object ``gradcheck check --json`` prints: every field is in docs/json.md."""
    return {
        "schema_version": SCHEMA_VERSION,
        "gradcheck_version": gradcheck_version(),
        "target": report.target,
        "passed": report.passed,
        "checks": check_summaries(report),
        "failures": [_failure_json(report, f) for f in report.failures],
        "inconclusive": report.inconclusive,
        "warnings": report.warnings,
        "cases_run": len(report.run.results),
        "cases_skipped": [s.describe() for s in report.run.skipped],
        "seed": report.seed,
        "elapsed_s": round(report.run.elapsed_s, 3),
    }


@dataclass
class Row:
    """One line of the per-layer table: a (layer, parameter) and how each check went for it."""

    layer: int
    param: str
    marks: dict[str, str]  # check -> "ok" | "FAIL" | "-"
    max_abs_error: float | None
    fd_max_abs_error: float | None


_TENSOR_CHECKS = (
    "gradient-types",
    "gradient-shapes",
    "gradient-dtypes",
    "gradient-devices",
    "finite",
    "gradient-values",
)
_SHORT = dict(zip(_TENSOR_CHECKS, ("type", "shape", "dtype", "device", "finite", "values")))


def layer_rows(report: Report) -> list[Row]:
    """The per-layer table's rows, from the output layer down."""
    depth = max((len(r.case.widths) - 1 for r in report.run.results), default=0)
    failed = {(f.layer, f.param, f.check) for f in report.failures}
    rows = []
    for layer in reversed(range(depth)):
        for param in PARAMS:
            errors = [r.errors[(layer, param)] for r in report.run.results if (layer, param) in r.errors]
            marks = {}
            for check in _TENSOR_CHECKS:
                ran = any(r.case.depth > layer and check in r.evaluated for r in report.run.results)
                marks[check] = "FAIL" if (layer, param, check) in failed else ("ok" if ran else "-")
            rows.append(
                Row(
                    layer,
                    param,
                    marks,
                    max((e[0] for e in errors), default=None),
                    max((e[1] for e in errors), default=None),
                )
            )
    return rows


def _print_failure(console: Any, report: Report, f: Failure) -> None:
    """One failure in full: what, the likely bug, the smallest case and how to reproduce it."""
    from rich.markup import escape

    first, *rest = report.lines(f)
    console.print(f"[bold red]✗[/] {escape(first)}", highlight=False)
    for line in rest:
        console.print(escape(line), highlight=False, soft_wrap=line.lstrip().startswith("reproduce:"))


def render_text(report: Report, console: Any) -> None:
    """The human report: verdict, per-layer table, then each failure with its smallest case."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    verdict = "[bold green]PASS[/]" if report.passed else "[bold red]FAIL[/]"
    console.print(
        f"{verdict} {report.target}: {len(report.run.results)} calls, {len(report.failures)} problem(s), "
        f"{report.run.elapsed_s:.1f} s"
    )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    table = Table(
        title="per layer and parameter, worst over all cases",
        title_justify="left",
        caption="err: max abs error vs autograd (AD) and vs finite differences (FD)",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    table.add_column("layer", justify="right", no_wrap=True)
    table.add_column("param", no_wrap=True)
    for check in _TENSOR_CHECKS:
        table.add_column(_SHORT[check], justify="center", no_wrap=True)
    table.add_column("err AD", justify="right", no_wrap=True)
    table.add_column("err FD", justify="right", no_wrap=True)
    style = {"ok": "[green]✓[/]", "FAIL": "[bold red]✗[/]", "-": "[dim]·[/]"}
    for row in layer_rows(report):
        errors = [f"{e:.1e}" if e is not None else "-" for e in (row.max_abs_error, row.fd_max_abs_error)]
        table.add_row(str(row.layer), row.param, *(style[row.marks[c]] for c in _TENSOR_CHECKS), *errors)
    console.print(table)
    echoes = [(f, d) for f in report.failures if explained_elsewhere(d := report.diagnosis_of(f)) and d]
    for f in report.failures:
        if not explained_elsewhere(report.diagnosis_of(f)):
            _print_failure(console, report, f)
    if echoes:
        console.print(f"[dim]{len(echoes)} more failure(s), explained above:[/]", highlight=False)
        for f, d in echoes:
            console.print(f"  [red]✗[/] {escape(echo_line(f, d))}", highlight=False)
    for note in report.inconclusive:
        console.print(f"[yellow]inconclusive (not blamed on the implementation):[/] {escape(note)}", highlight=False)
