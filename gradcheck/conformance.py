"""The conformance suite: one pytest test per property, so pytest's output reads as a checklist.

Run it against any implementation from the command line::

    pytest --gradcheck-impl student.py

or from your own tests, by subclassing :class:`Conformance` and overriding the
``gradcheck_impl`` fixture (anything :func:`gradcheck.check` accepts)::

    from gradcheck.conformance import Conformance

    class TestMine(Conformance):
        @pytest.fixture(scope="class")
        @classmethod
        def gradcheck_impl(cls):
            return "mypackage.backprop:forward_backward"

Every test reads the same report (:func:`gradcheck.check`: the built-in cases, then the
hypothesis search that shrinks any failure), computed once per class by the ``gradcheck_report``
fixture; ``gradcheck check`` builds that same report, so the two always agree. A failing test
shows each problem as the CLI does (:func:`gradcheck.records.failure_lines`): what went wrong,
the likely bug, the smallest case, the search's seed and the one command line that reproduces it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from .cases import parse_dtype
from .checker import CaseResult
from .compare import TOLERANCES, allowed_error, compare
from .records import Diagnosis, Failure, failure_lines
from .report import Report
from .truth import fd_allowance
from .vocabulary import CoreCheck

__all__ = ["PROPERTIES", "Conformance", "TestConformance"]

PROPERTIES: dict[str, tuple[CoreCheck, ...]] = {
    "returns": ("call", "returns", "gradient-count", "gradient-types"),
    "loss": ("loss-value",),
    "shapes": ("gradient-shapes",),
    "dtype and device": ("gradient-dtypes", "gradient-devices"),
    "values vs autograd": ("finite", "gradient-values"),
    "no input mutation": ("input-mutation",),
    "no hidden state": ("hidden-state",),
}
"""Which of :data:`gradcheck.checker.CHECKS` each test stands for. Values against finite
differences and CPU/CUDA agreement are judged here, from the report's raw results."""


def _borrowed_diagnosis(report: Report, failure: Failure) -> Diagnosis | None:
    """The report's diagnosis of ``failure``; for a finite-difference failure, that of the same
    tensor against autograd, which explains this one too."""
    if failure.check != "finite-differences":
        return report.diagnosis_of(failure)
    same = (
        g
        for g in report.failures
        if g.check == "gradient-values" and (g.layer, g.param) == (failure.layer, failure.param)
    )
    return next((d for g in same if (d := report.diagnosis_of(g)) is not None), None)


def describe(report: Report, failure: Failure) -> str:
    """A failure as the lines a test prints: what, likely bug, smallest case, seed, reproduction."""
    lines = failure_lines(
        failure, _borrowed_diagnosis(report, failure), report.reproduce(failure), search_seed=report.seed
    )
    return "\n".join(lines)


def _fail_with(report: Report, failures: list[Failure], what: str) -> None:
    __tracebackhide__ = True
    if failures:
        header = f"{report.target}: {what} ({len(failures)} problem{'s' if len(failures) > 1 else ''})"
        pytest.fail("\n".join([header, *(describe(report, f) for f in failures)]), pytrace=False)


def _check_property(report: Report, name: str) -> None:
    __tracebackhide__ = True
    _fail_with(report, [f for f in report.failures if f.check in PROPERTIES[name]], name)


def _smallest_first(results: list[CaseResult]) -> list[CaseResult]:
    return sorted(results, key=lambda r: r.case.size)


def fd_failures(report: Report) -> list[Failure]:
    """Returned gradients that the finite-difference oracle, on its own, says are wrong.

    The allowance is the autograd check's plus the distance the checker lets autograd and finite
    differences be apart (:func:`gradcheck.truth.fd_allowance`; more, and the case is
    inconclusive), so an implementation that passes against autograd passes here too: this test
    can only confirm or add to that one. Calls whose wrong values the checker put down to hidden
    state are left to that test.
    """
    found: dict[tuple[int, str, str], Failure] = {}
    for result in _smallest_first(report.run.results):
        if any(f.check == "hidden-state" for f in result.failures):
            continue
        truth = result.truth
        for (layer, param), got in result.returned.items():
            if truth is None or (layer, param) in truth.disagreements or (layer, param, result.case.device) in found:
                continue
            ad, fd = truth.autograd.param(layer, param), truth.fd.param(layer, param)
            allowed = allowed_error(ad, TOLERANCES[parse_dtype(result.case.dtype)], truth.slack[(layer, param)])
            mismatch = compare(got, fd, allowed + fd_allowance(truth.autograd, truth.fd, layer, param))
            if mismatch:
                found[(layer, param, result.case.device)] = Failure(
                    "finite-differences", "value", layer=layer, param=param, mismatch=mismatch, case=result.case
                )
    return list(found.values())


def device_disagreements(report: Report) -> list[Failure]:
    """Cases that ran on the CPU and on a GPU and came out differently (failures or gradients)."""
    on_cpu = {replace(r.case, device="cpu"): r for r in report.run.results if r.case.device == "cpu"}
    found = []
    for result in _smallest_first([r for r in report.run.results if r.case.device.startswith("cuda")]):
        twin = on_cpu.get(replace(result.case, device="cpu"))
        if twin is None:
            continue
        if result.failures and not twin.failures:
            found.append(Failure("cpu-cuda", "device", case=result.case, in_sequence=result.failures[0]))
            continue
        for key, got in result.returned.items():
            expected = twin.returned.get(key)
            if expected is None or expected.shape != got.shape:
                continue
            slack = result.truth.slack[key] if result.truth else 0.0
            allowed = allowed_error(expected, TOLERANCES[parse_dtype(result.case.dtype)], slack)
            mismatch = compare(got, expected, allowed)
            if mismatch:
                layer, param = key
                found.append(
                    Failure("cpu-cuda", "value", layer=layer, param=param, mismatch=mismatch, case=result.case)
                )
    return found[:5]


@pytest.mark.gradcheck
class Conformance:
    """The properties every implementation of ``forward_backward(x, y, W, b)`` must have.

    Subclass it as ``Test...`` and override the ``gradcheck_impl`` fixture to run it against an
    implementation; ``pytest --gradcheck-impl TARGET`` runs :class:`TestConformance`.
    """

    def test_returns_loss_and_gradient_lists(self, gradcheck_report):
        """It is callable and returns ``(loss, W_grads, b_grads)``: one tensor per layer in each list."""
        _check_property(gradcheck_report, "returns")

    def test_loss_value(self, gradcheck_report):
        """The loss is ½ Σ (a⁽ᴸ⁾ − ȳ)², as a scalar or the seed's elementwise tensor."""
        _check_property(gradcheck_report, "loss")

    def test_gradient_shapes(self, gradcheck_report):
        """Each gradient has its parameter's shape."""
        _check_property(gradcheck_report, "shapes")

    def test_gradient_dtype_and_device(self, gradcheck_report):
        """Each gradient is in its parameter's dtype and on its parameter's device."""
        _check_property(gradcheck_report, "dtype and device")

    def test_values_match_autograd(self, gradcheck_report):
        """Every gradient is finite and matches autograd within the dtype's tolerance."""
        _check_property(gradcheck_report, "values vs autograd")

    def test_values_match_finite_differences(self, gradcheck_report):
        """Every gradient matches central finite differences (float64), an oracle independent of autograd."""
        _fail_with(gradcheck_report, fd_failures(gradcheck_report), "values vs finite differences")

    def test_inputs_not_modified(self, gradcheck_report):
        """x, y, W and b are left as they were."""
        _check_property(gradcheck_report, "no input mutation")

    def test_no_hidden_state(self, gradcheck_report):
        """The same inputs give the same gradients, whatever was called before."""
        _check_property(gradcheck_report, "no hidden state")

    @pytest.mark.cuda
    def test_cpu_and_cuda_agree(self, gradcheck_report):
        """The same case gives the same verdict and gradients on the CPU and on the GPU."""
        _fail_with(gradcheck_report, device_disagreements(gradcheck_report), "CPU/CUDA agreement")


class TestConformance(Conformance):
    """The suite against ``--gradcheck-impl`` (collected by the plugin only when that is given)."""
