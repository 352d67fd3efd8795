"""The Python API: check an implementation (a callable or a target string) and get a Report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from .cases import CaseSpec, builtin_cases
from .checker import Run, check_cases
from .config import Settings, Source, resolve, settings_source
from .diagnosis import diagnosed
from .domain import DEFAULT_DOMAIN
from .explore import explore
from .loading import Target, load_target
from .presets import USUAL_ADAPTERS
from .report import Report, build_report
from .spec import Spec
from .strategies import available_devices
from .vocabulary import Mode

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from .adapters import Adapter
    from .domain import Domain

__all__ = ["adapter_search_space", "available_devices", "case_domain", "check"]


def check(
    implementation: Callable[..., Any] | str | Target,
    *,
    settings: Settings | None = None,
    function: str | None = None,
    spec: Spec | str | None = None,
    batch: bool | None = None,
    seed: int | None = None,
    devices: Sequence[str] | None = None,
    cases: Sequence[CaseSpec] | None = None,
    timeout: float | None = None,
    max_examples: int | None = None,
    adapter: Adapter | str | None = None,
    mode: str | None = None,
) -> Report:
    """Check ``implementation`` against the specification and return the full report.

    ``implementation`` is a function ``forward_backward(x, y, W, b)`` or a target string
    (``file.py``, ``notebook.ipynb``, ``package.module:attr``); a target that cannot be loaded
    raises :class:`gradcheck.LoadError`. ``cases`` defaults to the built-in deterministic set.

    Every other argument is a setting (:mod:`gradcheck.config`): the keyword arguments given
    (not None) override ``settings`` (e.g. ``gradcheck.config.resolve(pyproject_source())``)
    field by field, over the defaults; a value that cannot be used raises
    :class:`gradcheck.config.SettingsError` naming it. This function reads no file itself.

    After the cases, hypothesis searches ``max_examples`` more (:func:`gradcheck.explore.explore`,
    seeded by ``seed``) and shrinks any failure to the smallest network that shows it. Unset, it
    is :data:`~gradcheck.defaults.DEFAULT_MAX_EXAMPLES` with the built-in cases and no search
    with explicit ``cases`` (a reproduction runs exactly its case); ``0`` never searches.

    ``spec`` is a :class:`~gradcheck.spec.Spec` or a preset name (:mod:`gradcheck.presets`);
    ``adapter`` (an :class:`~gradcheck.adapters.Adapter` or its name) calls an implementation
    written in another layout; ``mode`` is who judges the values: ``"spec"``, ``"self"`` (the
    implementation's own loss, :mod:`gradcheck.selfconsistency`; no search) or ``"both"``;
    ``timeout`` is seconds per call (finite, above 0; default
    :data:`~gradcheck.defaults.DEFAULT_TIMEOUT`); ``devices`` default to
    :func:`gradcheck.strategies.available_devices`.
    """
    given: dict[str, Any] = {"function": function, "spec": spec, "spec.batch": batch, "seed": seed}
    given |= {"devices": devices, "timeout": timeout, "max_examples": max_examples, "adapter": adapter, "mode": mode}
    keywords = Source("", given, {k: f"check({k.removeprefix('spec.')}=...)" for k in given})
    settings = resolve(keywords, *([settings_source(settings)] if settings is not None else []))
    target, fresh = _load(implementation, settings.function)
    if settings.adapter is not None and settings.adapter.autograd == "op":
        return _check_op(target, settings, cases)
    call, fresh = _adapted(target.function, fresh, settings.adapter, settings.spec)
    devices = tuple(settings.devices or available_devices())
    run = _run_cases(call, fresh, target, settings, devices, cases)
    warnings = list(target.warnings) + _judged_by(settings)
    search = 0 if cases is not None and "max_examples" not in settings.sources else settings.max_examples
    if settings.mode == "self":
        search = 0  # the search judges against the specification
    if search > 0 and not any(f.kind == "timeout" for r in run.results for f in r.failures):
        found = explore(
            call,
            spec=settings.spec,
            max_examples=search,
            seed=settings.seed,
            devices=devices,
            timeout=settings.timeout,
            fresh=fresh,
            strategy=_search_space(settings, devices),
        )
        run = _merge(run, Run(found.results, [], found.elapsed_s))
        warnings += [f"hypothesis search: {found.note}"] if found.note else []
    output = target.output + "".join(r.output for r in run.results)
    report = build_report(
        target.label,
        run,
        seed=settings.seed,
        function=target.function_name,
        output=output,
        warnings=warnings,
        options=settings.cli_args(),
    )
    return diagnosed(report, settings.spec)


def _check_op(target: Target, settings: Settings, cases: Sequence[CaseSpec] | None) -> Report:
    """A ``torch.autograd.Function`` for one layer (:func:`gradcheck.layercheck.check_op`): the
    given cases, or the built-in op cases in the domain (each leading shape), then the search."""
    from .layercheck import check_op_cases, op_cases, search_op

    assert settings.adapter is not None  # the caller checked autograd == "op"
    adapter, domain = settings.adapter, settings.case_domain
    devices = tuple(settings.devices or available_devices())
    chosen = cases if cases is not None else op_cases(domain, seed=settings.seed, devices=devices)
    run = check_op_cases(target.function, chosen, adapter=adapter, timeout=settings.timeout)
    search = 0 if cases is not None and "max_examples" not in settings.sources else settings.max_examples
    if search > 0 and run.results and not any(r.failures for r in run.results):
        strategy = domain.op_search(devices=devices)
        run = _merge(
            run, search_op(target.function, strategy, adapter=adapter, max_examples=search, timeout=settings.timeout)
        )
    report = build_report(
        target.label,
        run,
        seed=settings.seed,
        function=target.function_name,
        output=target.output + "".join(r.output for r in run.results),
        warnings=list(target.warnings) + _judged_by(settings),
        options=settings.cli_args(),
    )
    return report


def _run_cases(
    call: Callable[..., Any],
    fresh: Callable[[], Callable[..., Any]] | None,
    target: Target,
    settings: Settings,
    devices: tuple[str, ...],
    cases: Sequence[CaseSpec] | None,
) -> Run:
    """The given cases, or the built-in set (the depth an adapter supports, and a few at λ = 0
    when the implementation takes λ as an argument)."""
    spec, adapter, timeout = settings.spec, settings.adapter, settings.timeout
    mode = cast(Mode, settings.mode)  # a str in Settings, checked by parse_mode when resolved
    if cases is not None:
        return check_cases(call, cases, spec=spec, timeout=timeout, fresh=fresh, mode=mode)
    domain = case_domain(settings)
    domain.require_flat()
    builtin = domain.fit_all(builtin_cases(seed=settings.seed, batch=spec.batch, devices=devices))
    run = check_cases(call, builtin, spec=spec, timeout=timeout, fresh=fresh, mode=mode)
    if spec.l2 and adapter is not None and adapter.reg:
        run = _merge(run, _without_regularisation(target.function, adapter, spec, builtin, timeout, mode))
    return run


def _judged_by(settings: Settings) -> list[str]:
    """The report's line on who judged, when it is not the seed's contract; with a preset whose
    course has its own layout and no adapter, which adapter that layout usually needs."""
    if settings.judged_as_seed:
        return []
    usual = USUAL_ADAPTERS.get(settings.spec.name)
    hint = f" (no adapter: code in that course's own layout needs the {usual} adapter)" if usual else ""
    return [f"judged with {settings.describe()}{hint if settings.adapter is None else ''}"]


REGULARISATION_OFF = 4  # built-in cases also checked at λ = 0 when the implementation takes λ as an argument


def _without_regularisation(
    function: Callable[..., Any],
    adapter: Adapter,
    spec: Spec,
    cases: Sequence[CaseSpec],
    timeout: float | None,
    mode: Mode,
) -> Run:
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


def _adapted(
    function: Callable[..., Any],
    fresh: Callable[[], Callable[..., Any]] | None,
    adapter: Adapter | None,
    spec: Spec,
) -> tuple[Callable[..., Any], Callable[[], Callable[..., Any]] | None]:
    """The implementation (and its fresh copies) behind the adapter, called canonically."""
    if adapter is None:
        return function, fresh
    from .adapters import wrap

    return wrap(function, adapter, spec), ((lambda: wrap(fresh(), adapter, spec)) if fresh else None)


def case_domain(settings: Settings) -> Domain:
    """The domain the cases come from: the settings' (or the preset's), held to the one depth an
    adapter supports (a two-layer ``TwoLayerNet``)."""
    domain = settings.case_domain
    depth = settings.adapter.depth if settings.adapter is not None else None
    if depth is None or domain.min_depth == domain.max_depth == depth:
        return domain
    return domain.replace(min_depth=depth, max_depth=depth)


def _search_space(settings: Settings, devices: tuple[str, ...]) -> SearchStrategy[CaseSpec] | None:
    """The search's cases: inside the domain; None (the search's own space) for the default one."""
    domain = case_domain(settings)
    return None if domain == DEFAULT_DOMAIN else domain.search(batch=settings.spec.batch, devices=devices)


def adapter_search_space(
    adapter: Adapter | None, spec: Spec, devices: tuple[str, ...], domain: Domain | None = None
) -> SearchStrategy[CaseSpec]:
    """The search's cases for the grader: inside the domain (the preset's by default), at the
    depth the adapter supports."""
    return case_domain(Settings(spec=spec, adapter=adapter, domain=domain)).search(batch=spec.batch, devices=devices)
