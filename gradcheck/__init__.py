"""gradcheck: a gradient-verification harness for hand-written backpropagation in PyTorch.

Check an implementation of ``forward_backward(x, y, W, b) -> (loss, W_grads, b_grads)`` against
three oracles (autograd, finite differences, a reference) and learn which layer and parameter
is wrong, by how much, and why::

    import gradcheck
    report = gradcheck.check("student.py")        # or a callable, or "pkg.module:attr"
    report.passed, report.failures[0].layer, report.failures[0].diagnosis
"""

from .api import available_devices, check
from .cases import Case, CaseSpec, builtin_cases, make_case
from .checker import CHECKS, Failure
from .loading import LoadError
from .report import Report, to_json
from .spec import SEED, Spec

__all__ = [
    "check",
    "available_devices",
    "Report",
    "Failure",
    "CHECKS",
    "to_json",
    "Case",
    "CaseSpec",
    "make_case",
    "builtin_cases",
    "Spec",
    "SEED",
    "LoadError",
]
__version__ = "0.1.0"
