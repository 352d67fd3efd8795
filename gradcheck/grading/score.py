"""Scoring: a rubric applied to what the checker core found about one submission.

Credit needs positive evidence. A case counts as passed for a test only if the call returned a
3-tuple, the test's checks actually ran on the test's layers and parameters in that case, and
none of them failed there. A case that raised, crashed, timed out or was skipped after a time-out
counts as failed; a case where the oracles disagree with each other (the harness cannot tell
what is right) is left out of that test's count rather than blamed.

Hygiene needs substance: a test that judges no values itself (no input mutation, no hidden
state, shapes and dtypes; :attr:`RubricTest.gated`) earns its points only where the
implementation's gradients are right in at least one case: some gradient tensor, in some case,
judged right where all-zero gradients would have been judged wrong (saturated sigmoids make
zeros "right"; that shows nothing). Otherwise a submission that returns random tensors, or
zeros, of the right shapes would collect points for leaving its inputs alone.
``requires_correct_gradients = false`` in the rubric lifts the rule for a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..cases import CaseSpec, parse_dtype
from ..checker import CaseResult
from ..compare import TOLERANCES, allowed_error, compare
from ..records import Failure
from ..report import Report
from .policies import Finding
from .rubric import Policy, Rubric, RubricTest, applies

__all__ = ["PolicyScore", "Score", "TestScore", "gradients_right", "score_submission"]

_WHOLE_CALL = ("call", "returns")
_PER_TENSOR = ("gradient-types", "gradient-shapes", "gradient-dtypes", "gradient-devices", "finite")
_PER_CALL = ("loss-value", "gradient-count", "input-mutation")
_GRADIENT_CHECKS = (
    "gradient-count",
    "gradient-types",
    "gradient-shapes",
    "gradient-dtypes",
    "finite",
    "gradient-values",
)


@dataclass
class TestScore:
    """One rubric test's outcome: points, how many cases passed, and the failures behind it."""

    test: RubricTest
    score: float
    passed: int
    judged: int
    failures: list[Failure] = field(default_factory=list)
    note: str = ""

    @property
    def max_score(self) -> float:
        return self.test.points

    @property
    def ok(self) -> bool:
        return self.judged > 0 and self.passed == self.judged


@dataclass
class PolicyScore:
    """A policy's outcome: kept or broken, with the lines that break it."""

    policy: Policy
    finding: Finding

    @property
    def score(self) -> float:
        return 0.0 if self.finding.violated else self.policy.points

    @property
    def max_score(self) -> float:
        return self.policy.points


@dataclass
class Score:
    """A whole submission's grade under a rubric."""

    tests: list[TestScore]
    policies: list[PolicyScore]
    total: float
    max_score: float
    zeroed_by: str | None = None  # the policy that set the score to 0, if one did


def _layers(test: RubricTest, case: CaseSpec) -> list[int]:
    return [l for l in (test.layers if test.layers is not None else range(case.depth)) if l < case.depth]


def _matches(test: RubricTest, f: Failure, layers: Sequence[int] | None) -> bool:
    """``f`` is one of the test's checks failing on the test's layers and parameters."""
    if f.check not in test.checks:
        return False
    if f.layer is not None and layers is not None and f.layer not in layers:
        return False
    return f.param is None or f.param in test.params


def _case_verdict(test: RubricTest, result: CaseResult, mode: str = "spec") -> bool | None:
    """True: passed; False: failed; None: the oracles disagree, so it is not judged. In
    ``mode="self"`` values are judged by the implementation's own loss, on float64 cases only."""
    layers = _layers(test, result.case)
    if any(f.check in _WHOLE_CALL for f in result.failures) or any(_matches(test, f, layers) for f in result.failures):
        return False
    tensors = [(layer, param) for layer in layers for param in test.params if param in ("W", "b")]
    inconclusive = False
    for check in test.checks:
        if check in _PER_CALL and check not in result.evaluated:
            return False
        if check in _PER_TENSOR and any(t not in result.returned for t in tensors):
            return False
        if check == "gradient-values" and mode == "self":
            inconclusive = inconclusive or check not in result.evaluated  # no failure: its probes agreed
        elif check == "gradient-values":
            for t in tensors:
                if result.truth is not None and t in result.truth.disagreements:
                    inconclusive = True
                elif t not in result.errors:
                    return False
    return None if inconclusive else True


def _substantial(result: CaseResult, layer: int, param: str) -> bool:
    """Whether zeros for this gradient would be judged wrong (saturated sigmoids make a true
    gradient negligible, and then zeros are "right" there too, which shows nothing)."""
    assert result.truth is not None
    expected = result.truth.autograd.param(layer, param)
    allowed = allowed_error(expected, TOLERANCES[parse_dtype(result.case.dtype)], result.truth.slack[(layer, param)])
    return compare(torch.zeros_like(expected), expected, allowed) is not None


def gradients_right(result: CaseResult) -> bool:
    """Whether this case shows the implementation computing a real gradient: some gradient
    tensor judged right where zeros would be wrong. In ``mode="self"`` (no true gradients
    are compared): every gradient agreed with the implementation's own loss and one is nonzero."""
    if any(f.check in _WHOLE_CALL for f in result.failures):
        return False
    wrong = {(f.layer, f.param) for f in result.failures if f.check in _GRADIENT_CHECKS}
    if result.truth is None or not result.errors:
        return (
            "gradient-values" in result.evaluated
            and not wrong
            and any(bool(t.abs().max() > 0) for t in result.returned.values() if t.numel())
        )
    return any(t not in wrong and _substantial(result, *t) for t in result.errors)


def _score_test(test: RubricTest, report: Report, mode: str = "spec") -> TestScore:
    if test.gated and not any(gradients_right(r) for r in report.run.results):
        failures = [f for f in report.failures if f.check in _WHOLE_CALL or _matches(test, f, test.layers)]
        return TestScore(
            test, 0.0, 0, 0, failures, "no points: the gradients are right in no case (requires_correct_gradients)"
        )
    results = [r for r in report.run.results if applies(test, r.case)]
    skipped = [s for s in report.run.skipped if applies(test, s)]
    failures = [f for f in report.failures if f.check in _WHOLE_CALL or _matches(test, f, test.layers)]
    unchecked = [c for c in test.checks if not any(c in r.evaluated for r in results)]
    if unchecked:
        why = "the calls failed before it" if results else "no case applied"
        return TestScore(test, 0.0, 0, len(results) + len(skipped), failures, f"not checked: {why}")
    verdicts = [_case_verdict(test, r, mode) for r in results] + [False] * len(skipped)
    if "hidden-state" in test.checks and set(test.checks) == {"hidden-state"}:
        verdicts = [not any(f.check == "hidden-state" for f in report.failures)]  # one verdict for the run
    judged = [v for v in verdicts if v is not None]
    passed = sum(judged)
    if not judged:
        return TestScore(test, 0.0, 0, 0, failures, "not checked: the oracles disagree on every case")
    fraction = passed / len(judged) if test.partial else float(passed == len(judged))
    note = f"{len(skipped)} case(s) not run after a time-out" if skipped else ""
    return TestScore(test, round(test.points * fraction, 4), passed, len(judged), failures, note)


def score_submission(
    rubric: Rubric, report: Report | None, findings: Sequence[Finding], *, unloaded: str = ""
) -> Score:
    """The rubric's points for one submission; ``report`` is None when it never loaded."""
    if report is None:
        tests = [TestScore(t, 0.0, 0, 0, [], f"not checked: {unloaded}") for t in rubric.tests]
    else:
        tests = [_score_test(t, report, rubric.settings.mode) for t in rubric.tests]
    policies = [PolicyScore(p, f) for p, f in zip(rubric.policies, findings)]
    total = round(sum(t.score for t in tests) + sum(p.score for p in policies), 4)
    zeroed = next((p.policy.name for p in policies if p.finding.violated and p.policy.zero_score), None)
    return Score(tests, policies, 0.0 if zeroed else total, rubric.max_score, zeroed)
