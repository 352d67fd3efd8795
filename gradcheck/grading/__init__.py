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

import importlib
import sys
import types
from typing import Any

# Where each public name lives, imported on first use (PEP 562): ``gradcheck --help`` builds the
# grading subcommands from :mod:`.cli` and must not import torch through :mod:`.assess`.
_EXPORTS = {
    "Assessment": "assess",
    "assess": "assess",
    "limits_for": "assess",
    "Source": "discover",
    "discover": "discover",
    "Batch": "grade",
    "GradeError": "grade",
    "grade_batch": "grade",
    "run_gradescope": "gradescope",
    "visible_tests": "notebook",
    **dict.fromkeys(
        ("DEFAULT_RUBRIC", "Policy", "Rubric", "RubricError", "RubricTest", "load_rubric", "parse_rubric"), "rubric"
    ),
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'gradcheck.grading' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``assess`` and ``discover`` name both a submodule and its function. Importing a submodule
    sets it as an attribute of the package, which would hide the lazily exported function of the
    same name; the package keeps the function (``from .assess import ...`` reads sys.modules)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not (isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
