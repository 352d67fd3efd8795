"""What grading writes: Gradescope's ``results.json``, ``feedback.md`` and ``grades.csv``.

Every file is written whole or not at all (a temporary file in the same folder, flushed, then
``os.replace``), so a grader killed at any moment leaves each file either old or new, never
half written. ``results.json`` follows Gradescope's specification (top level ``score``,
``execution_time``, ``output``, ``output_format``, ``visibility``, ``stdout_visibility``,
``tests``; each test ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``,
``tags``, ``visibility``), with gradcheck's own record in ``extra_data.gradcheck``, which is
what a resumed batch reads back.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import write_atomically
from ..records import failure_lines
from ..reports.feedback import picture_lines
from ..reports.sources import diagnosis_ids
from .assess import Assessment
from .escape import csv_cell, safe_text
from .rubric import Rubric
from .score import PolicyScore, TestScore

__all__ = [
    "OUTPUT_LIMIT",
    "atomic_write",
    "error_results",
    "feedback_markdown",
    "note_row",
    "read_results",
    "results_json",
    "row_from_results",
    "write_grades_csv",
]

OUTPUT_LIMIT = 2_000  # characters of the submission's own prints quoted in feedback
_FAILURES_SHOWN = 5


def atomic_write(path: str | os.PathLike, text: str | bytes) -> None:
    """Write ``text`` (or bytes: a PNG) to ``path`` so that readers see the old file or the new
    one, nothing else; text from a submission is escaped first (:func:`safe_text`), so it always
    encodes."""
    write_atomically(path, safe_text(text) if isinstance(text, str) else text)


# -- results.json ----------------------------------------------------------------------------


def _test_output(t: TestScore, a: Assessment) -> str:
    lines = []
    if t.test.description:
        lines.append(t.test.description)
    if t.judged:
        lines.append(
            f"passed {t.passed} of {t.judged} case(s)" + (" (partial credit)" if 0 < t.score < t.max_score else "")
        )
    if t.note:
        lines.append(t.note)
    for f in t.failures[:_FAILURES_SHOWN]:
        lines += ["", *(a.report.lines(f) if a.report else failure_lines(f, None, ""))]
    if len(t.failures) > _FAILURES_SHOWN:
        lines.append(f"... and {len(t.failures) - _FAILURES_SHOWN} more problem(s)")
    return "\n".join(lines)


def _policy_output(p: PolicyScore) -> str:
    lines = [p.policy.description] if p.policy.description else []
    lines.append(
        "broken" + (" (the whole score is set to 0)" if p.policy.zero_score else "") if p.finding.violated else "kept"
    )
    lines += p.finding.evidence
    if p.finding.note:
        lines.append(p.finding.note)
    return "\n".join(lines)


def _summary(a: Assessment, rubric: Rubric) -> str:
    s = a.score
    lines = [f"**{s.total:g} / {s.max_score:g}** for {a.source.label} ({rubric.name})."]
    if not a.load.ok:
        lines.append(f"\nYour submission could not be checked: {a.load.error}")
    for w in a.load.warnings:
        lines.append(f"\nwarning: {w}")
    for event in a.events:
        lines.append(f"\nsandbox: {event}")
    if s.zeroed_by:
        lines.append(f"\nThe score is 0 because the submission breaks the policy {s.zeroed_by!r}.")
    if a.source.note:
        lines.append(f"\nnote: {a.source.note}")
    return "\n".join(lines)


def results_json(a: Assessment, rubric: Rubric, *, fingerprint: str, settings: str) -> dict:
    """Gradescope's results.json for one submission."""
    tests: list[dict[str, Any]] = []
    for t in a.score.tests:
        tests.append(
            {
                "name": t.test.name,
                "number": t.test.number,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.ok else "failed",
                "output": _test_output(t, a),
                "tags": list(t.test.tags),
                "visibility": t.test.visibility,
            }
        )
    for p in a.score.policies:
        tests.append(
            {
                "name": p.policy.name,
                "number": p.policy.number,
                "score": p.score,
                "max_score": p.max_score,
                "status": "failed" if p.finding.violated else "passed",
                "output": _policy_output(p),
                "tags": ["policy", p.policy.rule],
                "visibility": p.policy.visibility,
            }
        )
    return {
        "score": a.score.total,
        "execution_time": round(a.seconds, 2),
        "output": _summary(a, rubric),
        "output_format": "md",
        "test_output_format": "text",
        "visibility": rubric.visibility,
        "stdout_visibility": rubric.stdout_visibility,
        "tests": tests,
        "extra_data": {
            "gradcheck": {
                "version": __version__,
                "submission": a.source.name,
                "entry": a.source.label,
                "fingerprint": fingerprint,
                "settings": settings,
                "max_score": a.score.max_score,
                "loaded": a.load.ok,
                "timed_out": a.timed_out,
                "crashes": a.crashed,
                "events": a.events,
                "isolation": a.isolation.as_dict() if a.isolation else None,
                "seed": rubric.seed,
                "diagnoses": diagnosis_ids(a.report),
            }
        },
    }


# -- feedback.md ---------------------------------------------------------------------------------


def _fence(text: str) -> str:
    return "```text\n" + text.replace("```", "ˋˋˋ") + "\n```"


def feedback_markdown(a: Assessment, rubric: Rubric) -> str:
    """The student's feedback: score, every failing test with its diagnosis, hint and smallest
    failing network (tests whose visibility is ``hidden`` are left out)."""
    s = a.score
    out = [f"# Feedback: {a.source.label}", "", _summary(a, rubric), ""]
    hidden = 0
    for t in s.tests:
        if t.test.visibility == "hidden":
            hidden += 1
            continue
        mark = "✓" if t.ok else "✗"
        out.append(f"## {mark} {t.test.number} {t.test.name}: {t.score:g} / {t.max_score:g}")
        out.append("")
        if not t.ok:
            out.append(_fence(_test_output(t, a)))
            out.append("")
            out += picture_lines(t, a.report)
    for p in s.policies:
        if p.policy.visibility == "hidden":
            hidden += 1
            continue
        mark = "✗" if p.finding.violated else "✓"
        out += [f"## {mark} {p.policy.number} {p.policy.name}: {p.score:g} / {p.max_score:g}", ""]
        if p.finding.violated:
            out += [_fence(_policy_output(p)), ""]
    if hidden:
        out += [f"({hidden} hidden test(s) not shown.)", ""]
    if a.output.strip():
        shown = a.output[:OUTPUT_LIMIT]
        more = f"\n[... {len(a.output) - OUTPUT_LIMIT} more characters]" if len(a.output) > OUTPUT_LIMIT else ""
        out += ["## What your code printed", "", _fence(shown + more), ""]
    return "\n".join(out)


# -- grades.csv and resuming ---------------------------------------------------------------------


def read_results(path: str | os.PathLike) -> dict | None:
    """A results.json written by gradcheck, or None if missing, unreadable or someone else's."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("extra_data", {}).get("gradcheck"), dict)
        or not isinstance(data.get("tests"), list)
    ):
        return None
    return data


def _cell(test: dict) -> object:
    """A test's score; for an informational (0-point) test, whether it passed."""
    if not test.get("max_score"):
        return test.get("status", "")
    return test.get("score")


def row_from_results(name: str, results: dict, rubric: Rubric) -> dict:
    """A grades.csv row: submission, score, max_score, then each test's score by name."""
    scores = {t.get("name"): _cell(t) for t in results["tests"] if isinstance(t, dict)}
    row = {
        "submission": name,
        "score": results.get("score"),
        "max_score": results["extra_data"]["gradcheck"].get("max_score", rubric.max_score),
    }
    row.update({column: scores.get(column, "") for column in rubric.columns})
    return row


def note_row(name: str, note: str, rubric: Rubric) -> dict:
    """A grades.csv row for a submission that has no results: refused, or gradcheck failed on it."""
    return {"submission": name, "score": 0.0, "max_score": rubric.max_score, "note": note}


def error_results(message: str, *, submission: str = "") -> dict:
    """A results.json that says grading failed (score 0, no tests), in Gradescope's format;
    it carries no seal, so a resumed batch never takes it for a grade."""
    results: dict[str, Any] = {
        "score": 0.0,
        "execution_time": 0,
        "output": message,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }
    if submission:
        results["extra_data"] = {"gradcheck": {"version": __version__, "submission": submission, "error": message}}
    return results


def write_grades_csv(out_dir: str | os.PathLike, rows: Iterable[dict], rubric: Rubric) -> None:
    """``DIR/grades.csv``: one row per submission, sorted by name (atomically); the last column,
    ``note``, says why a submission has no grade (refused, or an internal error). Every cell
    that a spreadsheet would run as a formula is written as text (:func:`csv_cell`)."""
    columns = ["submission", "score", "max_score", *rubric.columns, "note"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in sorted(rows, key=lambda r: r["submission"]):
        writer.writerow([csv_cell(row.get(c, "")) for c in columns])
    atomic_write(Path(out_dir) / "grades.csv", buffer.getvalue())
