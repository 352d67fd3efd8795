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

from .escape import safe_data, safe_text
from .outputs import atomic_write, error_results
from .rubric import Rubric, RubricError, load_rubric
from .vet import DEFAULT_CAPS, Caps

__all__ = ["run_gradescope"]


def _write(root: Path, results: dict) -> None:
    text = json.dumps(safe_data(results), indent=2, allow_nan=False, default=str) + "\n"
    atomic_write(root / "results" / "results.json", text)


def run_gradescope(
    root: str | os.PathLike = "/autograder",
    *,
    rubric_path: str | os.PathLike | None = None,
    timeout: float | None = None,
    memory_mb: int | None = None,
    caps: Caps = DEFAULT_CAPS,
) -> int:
    """Grade ``ROOT/submission`` into ``ROOT/results/results.json``; an exit code (0, 2 or 3)."""
    from .assess import assess, limits_for
    from .discover import Source, find_entry, fingerprint
    from .grade import describe, settings_digest
    from .outputs import results_json

    root = Path(root)
    default = root / "source" / "rubric.toml"
    try:
        rubric: Rubric = load_rubric(rubric_path or (default if default.exists() else None))
    except RubricError as exc:
        _write(root, error_results(f"The autograder is misconfigured ({exc}). Please tell your instructor."))
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
        assessment = assess(source, rubric, limits=limits, hide=[str(p) for p in hide], caps=caps)
        results = results_json(
            assessment, rubric, fingerprint=fingerprint(source), settings=settings_digest(rubric, limits, caps)
        )
        _write(root, results)
    except Exception as exc:  # noqa: BLE001 - a bug of gradcheck; the student still gets a results.json
        what = describe(exc)
        _write(
            root,
            error_results(f"The autograder could not grade this submission ({what}). Please tell your instructor."),
        )
        print(f"gradcheck: internal error: {what} (please report this)", file=sys.stderr)
        return 3
    score = f"{results['score']:g}/{assessment.score.max_score:g}"
    print(safe_text(f"gradcheck: {source.label}: {score} in {assessment.seconds:.1f} s"))
    for line in assessment.isolation.describe() if assessment.isolation else []:
        print(f"  sandbox: {line}")
    return 0
