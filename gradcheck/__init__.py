"""gradcheck: a gradient-verification harness for hand-written backpropagation in PyTorch.

Check an implementation of ``forward_backward(x, y, W, b) -> (loss, W_grads, b_grads)`` against
three oracles (autograd, finite differences, a reference) and learn which layer and parameter
is wrong, by how much, and why::

    import gradcheck
    report = gradcheck.check("student.py")        # or a callable, or "pkg.module:attr"
    report.passed, report.failures[0].layer, report.diagnosis_of(report.failures[0]).id
"""

import importlib
from typing import Any

# Where each public name lives. Imported on first use (PEP 562), so that loading the pytest
# plugin, which imports this package, costs nothing until gradcheck is actually used.
_EXPORTS = {
    "check": "api",
    "available_devices": "api",
    "Report": "report",
    "to_json": "report",
    "Failure": "records",
    "Diagnosis": "records",
    "describe_failure": "records",
    "CHECKS": "vocabulary",
    "Case": "cases",
    "CaseSpec": "cases",
    "make_case": "cases",
    "builtin_cases": "cases",
    "Spec": "spec",
    "SEED": "spec",
    "LoadError": "loading",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


DISTRIBUTION = "gradcheck-harness"  # the name pip installs it under: pyproject.toml's [project] name
__version__ = "0.1.0"  # this source tree's version, equal to pyproject.toml's (tests/test_contract.py checks)


def version() -> str:
    """The installed distribution's version, as pip reports it; this tree's ``__version__`` when
    gradcheck runs from a checkout that was never installed. Reports carry it so that a JSON
    document says which gradcheck wrote it (docs/json.md). importlib.metadata is imported here,
    on first use, for the same reason as the lazy exports above."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        return __version__


__all__ = [*_EXPORTS, "version"]
