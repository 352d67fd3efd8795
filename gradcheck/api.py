"""The Python API: check an implementation (a callable or a target string) and get a Report."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from .cases import CaseSpec, builtin_cases
from .checker import DEFAULT_TIMEOUT, check_cases
from .diagnosis import diagnose
from .loading import Target, load_target
from .report import Report, build_report
from .spec import SEED, Spec

__all__ = ["check", "available_devices"]


def available_devices() -> tuple[str, ...]:
    """Every device a check runs on by default: the CPU, and CUDA where a GPU exists."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def check(
    implementation: Callable[..., Any] | str,
    *,
    function: str = "forward_backward",
    spec: Spec = SEED,
    batch: bool | None = None,
    seed: int = 0,
    devices: Sequence[str] | None = None,
    cases: Sequence[CaseSpec] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Report:
    """Check ``implementation`` against the specification and return the full report.

    ``implementation`` is a function ``forward_backward(x, y, W, b)`` or a target string
    (``file.py``, ``notebook.ipynb``, ``package.module:attr``); a target that cannot be loaded
    raises :class:`gradcheck.LoadError`. ``cases`` defaults to the built-in deterministic set.
    """
    fresh = None
    if isinstance(implementation, str):
        target: Target = load_target(implementation, function)
        if implementation.endswith((".py", ".ipynb")):
            fresh = lambda: load_target(implementation, function).function  # noqa: E731 - a new copy, new state
    else:
        label = getattr(implementation, "__qualname__", repr(implementation))
        target = Target(label=label, function_name=function, function=implementation)
    if batch is not None and batch != spec.batch:
        spec = Spec(name=spec.name, batch=batch)
    if cases is None:
        cases = builtin_cases(seed=seed, batch=spec.batch, devices=tuple(devices or available_devices()))
    run = check_cases(target.function, cases, spec=spec, timeout=timeout, fresh=fresh)
    output = target.output + "".join(r.output for r in run.results)
    report = build_report(target.label, run, seed=seed, function=target.function_name, output=output, warnings=target.warnings)
    diagnose(report)
    return report
