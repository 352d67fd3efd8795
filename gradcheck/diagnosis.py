"""Diagnosis: name the most likely bug behind each failure, in the seed's equations' terms.

This first version names the bugs that the failure itself proves (an exception, a wrong dtype or
device, a mutated input, hidden state, the seed's layer-0 shape); value-level explanations are
tested numerically against the oracle's true quantities in later versions.
"""

from __future__ import annotations

from .checker import Failure
from .report import Report

__all__ = ["diagnose", "HINTS"]

HINTS = {
    "exception": "The implementation raised; fix the line quoted above.",
    "dtype-mismatch": "Return each gradient in its parameter's dtype: build tensors with dtype=W[l].dtype (or *_like), never a default dtype.",
    "device-mismatch": "Return each gradient on its parameter's device: create tensors with device=x.device (or *_like), never the default device.",
    "input-mutation": "Don't modify x, y, W or b in place (+=, .add_(), slice assignment); work on new tensors.",
    "hidden-state": "Don't keep results between calls (module-level caches, counters, default-argument lists): compute everything from the arguments.",
    "layer0-uses-wrong-input": "Layer 0's weight gradient needs the input x as a⁽⁻¹⁾: ∇W⁽⁰⁾ = δ⁽⁰⁾ xᵀ. In Python a[l-1] with l = 0 wraps to a[-1], the last activation.",
}


def _structural(f: Failure) -> str | None:
    if f.check == "call" and f.kind == "exception":
        return "exception"
    if f.check == "gradient-dtypes":
        return "dtype-mismatch"
    if f.check == "gradient-devices":
        return "device-mismatch"
    if f.check == "input-mutation":
        return "input-mutation"
    if f.check == "hidden-state":
        return "hidden-state"
    if f.check == "gradient-shapes" and f.layer == 0 and f.param == "W" and f.case and f.got == [f.case.widths[1], f.case.widths[-1]]:
        return "layer0-uses-wrong-input"
    return None


def diagnose(report: Report) -> None:
    """Fill ``diagnosis``, ``hint`` and ``confidence`` on every failure of ``report`` that fits."""
    for f in report.failures:
        name = _structural(f)
        if name:
            f.diagnosis, f.hint, f.confidence = name, HINTS[name], 0.9
