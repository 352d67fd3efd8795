"""Grading: sandboxed batch grading with partial credit, feedback and Gradescope output.

- :mod:`.rubric`: TOML rubrics (tests with points, visibility, partial credit; policies).
- :mod:`.policies`: static rules on the source (no autograd, no harness imports).
- :mod:`.assess`: one submission in its sandbox, checked by the core, scored.
- :mod:`.score`: the rubric's points from the core's results (positive evidence only).
- :mod:`.outputs`: ``results.json`` (Gradescope), ``feedback.md``, ``grades.csv``; atomic writes.
- :mod:`.escape`: text from a submission made safe to write; :mod:`.seal`: stored results a
  resumed batch can trust; :mod:`.vet`: what the grader reads of a submission, bounded.
- :mod:`.grade`: the batch (workers, resume, progress); :mod:`.gradescope`: one Gradescope run.
- :mod:`.prairielearn`: one PrairieLearn external-grading job; :mod:`.notebook`: the visible
  tests, run from a notebook cell with the grader's verdicts.
- :mod:`.cli`: ``gradcheck grade``, ``gradcheck gradescope`` and ``gradcheck prairielearn``.

Isolation is :mod:`gradcheck.sandbox`'s job; what it achieves on a machine is reported in every
``results.json`` (``extra_data.gradcheck.isolation``) and at the end of ``gradcheck grade``.
"""

from .assess import Assessment, assess, limits_for
from .discover import Source, discover
from .grade import Batch, GradeError, grade_batch
from .gradescope import run_gradescope
from .notebook import visible_tests
from .rubric import DEFAULT_RUBRIC, Policy, Rubric, RubricError, RubricTest, load_rubric, parse_rubric

__all__ = [
    "DEFAULT_RUBRIC",
    "Assessment",
    "Batch",
    "GradeError",
    "Policy",
    "Rubric",
    "RubricError",
    "RubricTest",
    "Source",
    "assess",
    "discover",
    "grade_batch",
    "limits_for",
    "load_rubric",
    "parse_rubric",
    "run_gradescope",
    "visible_tests",
]
