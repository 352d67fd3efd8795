"""The Python API: check an implementation (a callable or a target string) and get a Report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .cases import CaseSpec, builtin_cases
from .checker import DEFAULT_TIMEOUT, Run, check_cases
from .defaults import DEFAULT_MAX_EXAMPLES
from .diagnosis import diagnosed
from .explore import explore
from .loading import Target, load_target
from .report import Report, build_report
from .spec import SEED, Spec

__all__ = ["adapter_search_space", "available_devices", "check"]


def available_devices() -> tuple[str, ...]:
    """Every device a check runs on by default: the CPU, and CUDA where a GPU exists."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def check(
    implementation: Callable[..., Any] | str | Target,
    *,
    function: str = "forward_backward",
    spec: Spec | str = SEED,
    batch: bool | None = None,
    seed: int = 0,
    devices: Sequence[str] | None = None,
    cases: Sequence[CaseSpec] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_examples: int | None = None,
    adapter: Adapter | str | None = None,
    mode: str = "spec",
) -> Report:
    """Check ``implementation`` against the specification and return the full report.

    ``implementation`` is a function ``forward_backward(x, y, W, b)`` or a target string
    (``file.py``, ``notebook.ipynb``, ``package.module:attr``); a target that cannot be loaded
    raises :class:`gradcheck.LoadError`. ``cases`` defaults to the built-in deterministic set.

    After the cases, hypothesis searches ``max_examples`` more (:func:`gradcheck.explore.explore`,
    seeded by ``seed``) and shrinks any failure to the smallest network that shows it. ``None``
    means :data:`~gradcheck.explore.DEFAULT_MAX_EXAMPLES` with the built-in cases and no search
    with explicit ``cases`` (a reproduction runs exactly its case); ``0`` never searches.

    ``spec`` is a :class:`~gradcheck.spec.Spec` or a preset name (:mod:`gradcheck.presets`);
    ``adapter`` (an :class:`~gradcheck.adapters.Adapter` or its name) calls an implementation
    written in another layout; ``mode`` is who judges the values: ``"spec"``, ``"self"`` (the
    implementation's own loss, :mod:`gradcheck.selfconsistency`; no search) or ``"both"``.
    """
    from .config import resolve_settings

    settings = resolve_settings(spec=spec, adapter=adapter, mode=mode, pyproject={})
    spec, adapter = settings.spec, settings.adapter
    if batch is not None and batch != spec.batch:
        spec = dataclasses.replace(spec, batch=batch)
    target, fresh = _load(implementation, function)
    function, fresh = _adapted(target.function, fresh, adapter, spec)
    devices = tuple(devices or available_devices())
    if max_examples is None:
        max_examples = DEFAULT_MAX_EXAMPLES if cases is None else 0
    if settings.mode == "self":
        max_examples = 0  # the search judges against the specification
    defaults = cases is None
    if defaults:
        cases = [
            c
            for c in builtin_cases(seed=seed, batch=spec.batch, devices=devices)
            if adapter is None or adapter.depth in (None, c.depth)
        ]
    run = check_cases(function, cases, spec=spec, timeout=timeout, fresh=fresh, mode=settings.mode)
    if defaults and spec.l2 and adapter is not None and adapter.reg:
        run = _merge(run, _without_regularisation(target.function, adapter, spec, cases, timeout, settings.mode))
    warnings = list(target.warnings)
    if settings != type(settings)():
        warnings.append(f"judged with {dataclasses.replace(settings, spec=spec).describe()}")
    if max_examples > 0 and not any(f.kind == "timeout" for r in run.results for f in r.failures):
        found = explore(
            function,
            spec=spec,
            max_examples=max_examples,
            seed=seed,
            devices=devices,
            timeout=timeout,
            fresh=fresh,
            strategy=adapter_search_space(adapter, spec, devices),
        )
        run = _merge(run, Run(found.results, [], found.elapsed_s))
        warnings += [f"hypothesis search: {found.note}"] if found.note else []
    output = target.output + "".join(r.output for r in run.results)
    options = dataclasses.replace(settings, spec=spec).cli_args()
    report = build_report(
        target.label, run, seed=seed, function=target.function_name, output=output, warnings=warnings, options=options
    )
    return diagnosed(report, spec)


REGULARISATION_OFF = 4  # built-in cases also checked at λ = 0 when the implementation takes λ as an argument


def _without_regularisation(function, adapter, spec: Spec, cases, timeout, mode: str) -> Run:
    """A few cases at λ = 0: an implementation that ignores its ``reg`` argument (a hard-coded λ
    that matches the spec's) is right only when λ is that value."""
    off = dataclasses.replace(spec, l2=0.0)
    run = check_cases(
        _adapted(function, None, adapter, off)[0], cases[:REGULARISATION_OFF], spec=off, timeout=timeout, mode=mode
    )
    for result in run.results:
        result.failures = [dataclasses.replace(f, reproduce_options="--spec-option l2=0.0") for f in result.failures]
    return run


def _merge(first: Run, second: Run) -> Run:
    return Run(first.results + second.results, first.skipped + second.skipped, first.elapsed_s + second.elapsed_s)


def _load(
    implementation: Callable[..., Any] | str | Target, function: str
) -> tuple[Target, Callable[[], Callable[..., Any]] | None]:
    """The target, and a way to load a fresh copy of it (for files: new module state), if any."""
    if not isinstance(implementation, (str, Target)):
        label = getattr(implementation, "__qualname__", repr(implementation))
        return Target(label=label, function_name=function, function=implementation), None
    # A Target is already loaded (the pytest plugin loads early, to fail before any test runs).
    target = implementation if isinstance(implementation, Target) else load_target(implementation, function)
    if not target.label.endswith((".py", ".ipynb")):
        return target, None
    return target, lambda: load_target(target.label, target.function_name).function


def _adapted(function: Callable[..., Any], fresh, adapter, spec: Spec):
    """The implementation (and its fresh copies) behind the adapter, called canonically."""
    if adapter is None:
        return function, fresh
    from .adapters import wrap

    return wrap(function, adapter, spec), ((lambda: wrap(fresh(), adapter, spec)) if fresh else None)


def adapter_search_space(adapter, spec: Spec, devices: tuple[str, ...]):
    """The search's cases: the default space, or only the depth an adapter supports."""
    if adapter is None or adapter.depth is None:
        return None
    from . import strategies as gs

    widths = gs.architectures(min_depth=adapter.depth, max_depth=adapter.depth)
    return gs.case_specs(
        widths=widths,
        batch=gs.batch_sizes() if spec.batch else None,
        device=gs.devices(names=devices),
        dtype=gs.dtypes(),
    )
