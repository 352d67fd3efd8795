"""``gradcheck prairielearn``: grade the one submission of a PrairieLearn external-grading job.

PrairieLearn mounts the job under ``/grade``: the student's files in ``student``, the
question's ``tests`` folder in ``tests``, shared course files in ``serverFilesCourse``, and
reads ``results/results.json`` (a folder the grader must create). This command is the whole of
the entrypoint's work (see ``examples/prairielearn/``). The rubric is ``ROOT/tests/rubric.toml``
when present, the built-in one otherwise; the grading is :func:`~gradcheck.grading.assess.assess`,
the same as ``gradcheck grade`` and ``gradcheck gradescope``.

The results follow PrairieLearn's external-grader format: ``score`` in [0, 1] (points over the
rubric's maximum), ``gradable``, ``message``, ``output``, and per rubric test ``name``,
``description``, ``points``, ``max_points``, ``message``, ``output`` and ``images`` (each
failing gradient's heatmap as a ``data:`` URI, when matplotlib is installed). A submission that
does not load (a syntax error, no ``forward_backward``) is ``gradable: false`` with its
``format_errors``: PrairieLearn then charges no attempt. The file stays under PrairieLearn's
1 MB limit: images stop at :data:`IMAGE_BUDGET` bytes and texts are capped. A ``results.json``
is always written, even when grading itself fails.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..reports.feedback import HIDDEN
from .outputs import atomic_write
from .rubric import Rubric, RubricError, load_rubric

__all__ = ["IMAGE_BUDGET", "TEXT_LIMIT", "prairielearn_results", "run_prairielearn"]

IMAGE_BUDGET = 600_000  # bytes of base64 images in one results.json (PrairieLearn caps the file at 1 MB)
TEXT_LIMIT = 20_000  # characters of any one message or output


def _cap(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + f"\n[... {len(text) - TEXT_LIMIT} more characters]"


def _error_results(message: str) -> dict[str, Any]:
    """A grading that failed on gradcheck's side: not gradable, so the student loses no attempt."""
    return {"gradable": False, "score": 0.0, "message": message, "format_errors": [message], "tests": []}


def _write(root: Path, results: dict[str, Any]) -> None:
    text = json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"
    atomic_write(root / "results" / "results.json", text)


class _Images:
    """The test's heatmaps as PrairieLearn image records, within one shared byte budget."""

    def __init__(self, report: Any) -> None:
        self.report, self.left = report, IMAGE_BUDGET

    def of(self, test: Any) -> list[dict[str, str]]:
        from ..reports.heatmap import heatmap_png
        from ..reports.sources import failing_gradients

        if self.report is None or test.ok or test.test.visibility == HIDDEN:
            return []
        images = []
        for pair in failing_gradients(self.report, test.failures):
            png = heatmap_png(pair.returned, pair.true, title=pair.title, worst=pair.worst)
            if png is None:
                break
            url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            if len(url) > self.left:
                break
            self.left -= len(url)
            images.append({"label": pair.label, "url": url})
        return images


def prairielearn_results(gradescope: dict[str, Any], assessment: Any) -> dict[str, Any]:
    """PrairieLearn's ``results.json`` from the Gradescope-format results of the same grading
    (one text for both platforms) and the assessment (for the pictures and the load error)."""
    record = gradescope["extra_data"]["gradcheck"]
    maximum = float(record["max_score"])
    if not assessment.load.ok:
        error = assessment.load.error or "the submission could not be loaded"
        return {
            "gradable": False,
            "score": 0.0,
            "message": _cap(f"Your submission could not be checked: {error}"),
            "format_errors": [_cap(error)],
            "output": _cap(assessment.output),
            "tests": [],
        }
    images = _Images(assessment.report)
    by_name = {t.test.name: t for t in assessment.score.tests}
    tests = []
    for t in gradescope["tests"]:
        outcome = by_name.get(t["name"])
        hidden = t.get("visibility") == HIDDEN
        tests.append(
            {
                "name": f"{t['number']} {t['name']}",
                "description": (outcome.test.description if outcome else "") or "",
                "points": t["score"],
                "max_points": t["max_score"],
                "message": "passed" if t["status"] == "passed" else "failed",
                "output": "(details hidden)" if hidden else _cap(t["output"]),
                "images": images.of(outcome) if outcome and not hidden else [],
            }
        )
    score = float(gradescope["score"]) / maximum if maximum > 0 else 0.0
    return {
        "gradable": True,
        "score": round(min(1.0, max(0.0, score)), 6),
        "message": _cap(gradescope["output"]),
        "output": _cap(assessment.output),
        "tests": tests,
    }


def run_prairielearn(
    root: str | os.PathLike = "/grade",
    *,
    rubric_path: str | os.PathLike | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
) -> int:
    """Grade ``ROOT/student`` into ``ROOT/results/results.json``; an exit code (0, 2 or 3)."""
    from .assess import assess, limits_for
    from .discover import Source, find_entry, fingerprint
    from .grade import settings_digest
    from .outputs import results_json

    root = Path(root)
    default = root / "tests" / "rubric.toml"
    try:
        rubric: Rubric = load_rubric(Path(rubric_path) if rubric_path else (default if default.exists() else None))
    except RubricError as exc:
        _write(root, _error_results(f"The autograder is misconfigured ({exc}). Please tell your instructor."))
        print(f"gradcheck: {exc}", file=sys.stderr)
        return 2
    student = root / "student"
    try:
        entry, note = find_entry(student, rubric.function) if student.is_dir() else (None, "")
        source = Source(student.name, student, entry, student, note)
        limits = limits_for(rubric, timeout=timeout, memory_mb=memory_mb)
        hide = [root / "tests", root / "results", root / "serverFilesCourse", root / "data"]
        hide += [Path(rubric_path)] if rubric_path else []
        assessment = assess(source, rubric, limits=limits, hide=[str(p) for p in hide])
        gradescope = results_json(
            assessment, rubric, fingerprint=fingerprint(source), settings=settings_digest(rubric, limits)
        )
        results = prairielearn_results(gradescope, assessment)
    except Exception as exc:  # noqa: BLE001 - a bug of gradcheck; the student still gets a results.json
        _write(
            root,
            _error_results(
                f"The autograder could not grade this submission ({type(exc).__name__}: {exc}). "
                "Please tell your instructor."
            ),
        )
        print(f"gradcheck: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 3
    _write(root, results)
    print(f"gradcheck: {source.label}: score {results['score']:g} in {assessment.seconds:.1f} s")
    for line in assessment.isolation.describe() if assessment.isolation else []:
        print(f"  sandbox: {line}")
    return 0
