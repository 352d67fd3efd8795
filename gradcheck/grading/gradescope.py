"""``gradcheck gradescope``: grade the one submission of a Gradescope autograder run.

Gradescope unpacks the autograder zip in ``/autograder/source``, the student's files in
``/autograder/submission``, runs ``/autograder/run_autograder`` and reads
``/autograder/results/results.json``. This command is the whole of ``run_autograder``'s work
(see ``examples/gradescope/``): the rubric is ``ROOT/source/rubric.toml`` when present, the
built-in one otherwise. A ``results.json`` is always written, even when grading itself fails
(Gradescope shows "The autograder failed to execute correctly" for a missing one), and the
sandbox hides ``source``, ``results`` and the metadata from the submission.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .outputs import atomic_write
from .rubric import Rubric, RubricError, load_rubric

__all__ = ["run_gradescope"]


def _error_results(message: str) -> dict:
    return {
        "score": 0.0,
        "execution_time": 0,
        "output": message,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def _write(root: Path, results: dict) -> None:
    atomic_write(root / "results" / "results.json", json.dumps(results, indent=2, allow_nan=False, default=str) + "\n")


def run_gradescope(
    root: str | os.PathLike = "/autograder",
    *,
    rubric_path: str | os.PathLike | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
) -> int:
    """Grade ``ROOT/submission`` into ``ROOT/results/results.json``; an exit code (0, 2 or 3)."""
    from .assess import assess, limits_for
    from .discover import Source, find_entry, fingerprint
    from .grade import settings_digest
    from .outputs import results_json

    root = Path(root)
    default = root / "source" / "rubric.toml"
    try:
        rubric: Rubric = load_rubric(rubric_path or (default if default.exists() else None))
    except RubricError as exc:
        _write(root, _error_results(f"The autograder is misconfigured ({exc}). Please tell your instructor."))
        print(f"gradcheck: {exc}", file=sys.stderr)
        return 2
    submission = root / "submission"
    try:
        entry, note = find_entry(submission, rubric.function) if submission.is_dir() else (None, "")
        source = Source(submission.name, submission, entry, submission, note)
        limits = limits_for(rubric, timeout=timeout, memory_mb=memory_mb)
        hide = [
            root / "source",
            root / "results",
            root / "submission_metadata.json",
            *([rubric_path] if rubric_path else []),
        ]
        assessment = assess(source, rubric, limits=limits, hide=[str(p) for p in hide])
        results = results_json(
            assessment, rubric, fingerprint=fingerprint(source), settings=settings_digest(rubric, limits)
        )
    except Exception as exc:  # noqa: BLE001 - a bug of gradcheck; the student still gets a results.json
        _write(
            root,
            _error_results(
                f"The autograder could not grade this submission ({type(exc).__name__}: {exc}). Please tell your instructor."
            ),
        )
        print(f"gradcheck: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 3
    _write(root, results)
    print(
        f"gradcheck: {source.label}: {results['score']:g}/{assessment.score.max_score:g} in {assessment.seconds:.1f} s"
    )
    for line in assessment.isolation.describe() if assessment.isolation else []:
        print(f"  sandbox: {line}")
    return 0
