"""Rubrics: named tests with points, visibility and partial credit, read from TOML.

A rubric test selects part of what the checker core judges (core checks by name, layers,
parameters, network architectures) and turns it into points: ``partial = true`` gives
``points × cases passed / cases judged``, otherwise all or nothing. Policies are static rules
on the submission's source (``forbid-autograd``, ``forbid-imports``), reported as their own
tests; they cost points only if the rubric says so. :data:`DEFAULT_RUBRIC` is the seed
assignment's. A malformed rubric raises :class:`RubricError` with one line saying what and where.

The top-level ``spec``, ``adapter`` and ``mode`` say what the submission computes, how it is
called and who judges its values, exactly as in ``[tool.gradcheck]``; they, ``function``,
``batch``, ``seed``, ``max_examples`` and ``[sandbox] timeout`` go through the one settings
resolver (:func:`gradcheck.config.resolve`), so their errors read as the CLI's::

    spec = "cs231n-two-layer"       # a preset, or a table: [spec] preset = "..." l2 = 0.1
    adapter = "cs231n"              # a named adapter, or a table: [adapter] name = "..." ...
    mode = "both"                   # spec | self | both: both judges must agree

``batch`` defaults to the spec's. A test of ``mode = "self"`` needs float64 cases to judge.

Honest scores: a test that judges no values (none of ``gradient-values``, ``loss-value``: input
mutation, hidden state, shapes, dtypes, finiteness) earns its points only if the
implementation's gradients are right in at least one case (some gradient tensor judged right
where zeros would be wrong), so random tensors of the right shapes, or zeros, earn 0.
``requires_correct_gradients = false`` on such a test awards its points regardless.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

from ..cases import CaseSpec, builtin_cases
from ..checker import CHECKS
from ..config import DEFAULTS, Settings, SettingsError, Source, resolve, table_source
from ..defaults import DEFAULT_FUNCTION, DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_RUBRIC",
    "RULES",
    "VISIBILITIES",
    "Policy",
    "Rubric",
    "RubricError",
    "RubricTest",
    "applies",
    "load_rubric",
    "parse_rubric",
]

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
RULES = ("forbid-autograd", "forbid-imports")
PARAMS = ("W", "b", "loss")
RUBRIC_MAX_EXAMPLES = 50  # a rubric's default search: enough for a class, quick per submission
RUBRIC_SETTINGS = ("spec", "adapter", "mode", "function", "batch", "seed", "max_examples")  # + [sandbox] timeout
VALUE_CHECKS = ("gradient-values", "loss-value")  # the checks that judge numbers, not form or hygiene


class RubricError(ValueError):
    """The rubric cannot be used; the message says what and where, in one line."""


@dataclass(frozen=True)
class RubricTest:
    """One graded test: which core checks, on which layers, parameters and networks."""

    name: str
    points: float
    checks: tuple[str, ...]
    number: str = ""
    layers: tuple[int, ...] | None = None  # None: every layer the network has
    params: tuple[str, ...] = PARAMS
    widths: tuple[tuple[int, ...], ...] | None = None  # only these architectures
    exclude_widths: tuple[tuple[int, ...], ...] = ()
    partial: bool = True
    visibility: str = "visible"
    tags: tuple[str, ...] = ()
    description: str = ""
    requires_correct_gradients: bool = True  # see ``gated``: hygiene earns nothing on garbage

    @property
    def gated(self) -> bool:
        """Whether this test's points need right gradients in at least one case: a test that
        judges no values itself (input mutation, hidden state, shapes, ...), unless the rubric
        says ``requires_correct_gradients = false``."""
        return self.requires_correct_gradients and not set(self.checks) & set(VALUE_CHECKS)


def applies(test: RubricTest, case: CaseSpec) -> bool:
    """Whether ``test`` judges ``case``: its architecture, and a layer the test is about. The one
    definition, for the rubric's own checks and for the score."""
    widths = tuple(case.widths)
    if test.widths is not None and widths not in test.widths:
        return False
    if widths in test.exclude_widths:
        return False
    return test.layers is None or any(layer < case.depth for layer in test.layers)


@dataclass(frozen=True)
class Policy:
    """A static rule on the submission's source, reported as a test of its own."""

    name: str
    rule: str
    number: str = ""
    points: float = 0.0  # earned when the rule is kept; 0: informational
    zero_score: bool = False  # breaking the rule sets the whole score to 0
    modules: tuple[str, ...] = ("reference_impl", "gradcheck")  # forbid-imports
    visibility: str = "visible"
    description: str = ""


@dataclass(frozen=True)
class Rubric:
    """An assignment's grading: the function, the cases, the tests and the policies."""

    name: str
    tests: tuple[RubricTest, ...]
    policies: tuple[Policy, ...] = ()
    function: str = DEFAULT_FUNCTION
    batch: bool = False
    seed: int = 0
    max_examples: int = (
        RUBRIC_MAX_EXAMPLES  # hypothesis search after the built-in cases; its minimal failure counts too
    )
    visibility: str = "visible"
    stdout_visibility: str = "hidden"
    timeout: float = DEFAULT_TIMEOUT  # seconds per call
    memory_mb: int = 1024
    hide: tuple[str, ...] = ()  # more paths the sandbox hides (solutions, course folders)
    settings: Settings = field(default_factory=lambda: Settings(max_examples=RUBRIC_MAX_EXAMPLES))  # all, resolved

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests) + sum(p.points for p in self.policies)

    @property
    def columns(self) -> list[str]:
        """One per test and policy: the CSV's per-check columns, in rubric order."""
        return [t.name for t in self.tests] + [p.name for p in self.policies]

    def digest(self) -> str:
        """A hash of everything that changes grades (not of the file's formatting)."""
        fields = asdict(self)
        del fields["settings"]  # its scalar settings are the fields above; its contract:
        if not self.settings.judged_as_seed:  # rubrics that predate settings keep their digest
            contract = self.settings
            adapter = asdict(contract.adapter) if contract.adapter is not None else None
            fields["settings"] = {"spec": asdict(contract.spec), "adapter": adapter, "mode": contract.mode}
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


DEFAULT_RUBRIC = """\
# The seed assignment: forward_backward(x, y, W, b) for a sigmoid network with loss ½Σ(a − y)².
name = "Backpropagation (seed assignment)"
function = "forward_backward"
batch = false        # single column vectors, like the seed notebook
seed = 0
max_examples = 50    # hypothesis cases after the built-in ones; a minimal failing case counts too
visibility = "visible"
stdout_visibility = "hidden"

[sandbox]
timeout = 10         # seconds per call
memory_mb = 1024

[[tests]]
number = "1"
name = "Loss value"
points = 1
checks = ["loss-value"]
params = ["loss"]
tags = ["loss"]

[[tests]]
number = "2.1"
name = "W[0] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [0]
params = ["W"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-0", "W"]

[[tests]]
number = "2.2"
name = "b[0] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [0]
params = ["b"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-0", "b"]

[[tests]]
number = "2.3"
name = "W[1] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [1]
params = ["W"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-1", "W"]

[[tests]]
number = "2.4"
name = "b[1] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [1]
params = ["b"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-1", "b"]

[[tests]]
number = "2.5"
name = "W[2] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [2]
params = ["W"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-2", "W"]

[[tests]]
number = "2.6"
name = "b[2] gradient (7-5-3-1 network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
layers = [2]
params = ["b"]
widths = [[7, 5, 3, 1]]
partial = false    # a gradient is right or wrong
tags = ["layer-2", "b"]

[[tests]]
number = "3"
name = "Gradient shapes and dtypes (every network)"
points = 1
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "gradient-devices"]
params = ["W", "b"]
tags = ["shapes"]

[[tests]]
number = "4"
name = "Robustness across architectures"
description = "depths 1 to 5, width-1 layers, square layers, saturated sigmoids, float32 and float64"
points = 2
checks = ["loss-value", "gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "gradient-devices",
          "finite", "gradient-values"]
exclude_widths = [[7, 5, 3, 1]]
tags = ["architectures"]

[[tests]]
number = "5"
name = "Inputs not modified"
points = 1
checks = ["input-mutation"]
partial = false
tags = ["side-effects"]

[[tests]]
number = "6"
name = "Same result on a repeated call"
points = 1
checks = ["hidden-state"]
partial = false
tags = ["side-effects"]

[[policies]]
number = "7.1"
name = "Policy: no autograd"
rule = "forbid-autograd"
description = "backpropagation by hand: no .backward(), torch.autograd or torch.func (static check, informational)"
points = 0

[[policies]]
number = "7.2"
name = "Policy: no harness imports"
rule = "forbid-imports"
modules = ["reference_impl", "gradcheck"]
description = "the reference and the harness are not available to submissions (static check, informational)"
points = 0
"""


# -- parsing -------------------------------------------------------------------------------------


def _get(table: dict, key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    """``table[key]`` checked against ``kind`` (an int is a fine float; a bool is no number)."""
    if key not in table:
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and type(value) is int:
        value = float(value)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise RubricError(f"{where}: '{key}' must be a {names}, not {type(value).__name__} ({value!r})")
    return value


def _visibility(table: dict, where: str, default: str = "visible", key: str = "visibility") -> str:
    value = _get(table, key, str, where, default)
    if value not in VISIBILITIES:
        raise RubricError(f"{where}: {key} {value!r} is not one of {', '.join(VISIBILITIES)}")
    return value


def _widths_list(table: dict, key: str, where: str) -> tuple[tuple[int, ...], ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(w, list) and len(w) >= 2 and all(type(n) is int and n >= 1 for n in w) for w in value
    ):
        raise RubricError(f"{where}: '{key}' must be a list of architectures, e.g. [[7, 5, 3, 1]]")
    return tuple(tuple(w) for w in value)


def _known(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RubricError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _test(table: Any, index: int) -> RubricTest:
    where = f"tests[{index}]"
    if not isinstance(table, dict):
        raise RubricError(f"{where} must be a table ([[tests]])")
    _known(
        table,
        {
            "name",
            "number",
            "points",
            "checks",
            "layers",
            "params",
            "widths",
            "exclude_widths",
            "partial",
            "visibility",
            "tags",
            "description",
            "requires_correct_gradients",
        },
        where,
    )
    name = _get(table, "name", str, where)
    if not name:
        raise RubricError(f"{where}: every test needs a 'name'")
    where = f"test {name!r}"
    checks = _get(table, "checks", list, where)
    if not checks or not all(c in CHECKS and c not in ("call", "returns") for c in checks):
        raise RubricError(
            f"{where}: 'checks' must list some of: {', '.join(c for c in CHECKS if c not in ('call', 'returns'))}"
        )
    layers = _get(table, "layers", list, where)
    if layers is not None and not all(type(n) is int and n >= 0 for n in layers):
        raise RubricError(f"{where}: 'layers' must be layer indices (0 is the first layer)")
    params = _get(table, "params", list, where, list(PARAMS))
    if not params or not all(p in PARAMS for p in params):
        raise RubricError(f"{where}: 'params' must list some of: {', '.join(PARAMS)}")
    points = _get(table, "points", float, where, 1.0)
    if points < 0:
        raise RubricError(f"{where}: 'points' must be at least 0")
    tags = _get(table, "tags", list, where, [])
    return RubricTest(
        name=name,
        points=points,
        checks=tuple(checks),
        number=str(_get(table, "number", (str, int, float), where, "")),
        layers=tuple(layers) if layers is not None else None,
        params=tuple(params),
        widths=_widths_list(table, "widths", where),
        exclude_widths=_widths_list(table, "exclude_widths", where) or (),
        partial=_get(table, "partial", bool, where, True),
        visibility=_visibility(table, where),
        tags=tuple(str(t) for t in tags),
        description=_get(table, "description", str, where, ""),
        requires_correct_gradients=_get(table, "requires_correct_gradients", bool, where, True),
    )


def _policy(table: Any, index: int) -> Policy:
    where = f"policies[{index}]"
    if not isinstance(table, dict):
        raise RubricError(f"{where} must be a table ([[policies]])")
    _known(table, {"name", "number", "rule", "points", "zero_score", "modules", "visibility", "description"}, where)
    rule = _get(table, "rule", str, where)
    if rule not in RULES:
        raise RubricError(f"{where}: 'rule' must be one of {', '.join(RULES)}")
    modules = _get(table, "modules", list, where, ["reference_impl", "gradcheck"])
    if not all(isinstance(m, str) and m for m in modules):
        raise RubricError(f"{where}: 'modules' must be module names")
    points = _get(table, "points", float, where, 0.0)
    if points < 0:
        raise RubricError(f"{where}: 'points' must be at least 0")
    return Policy(
        name=_get(table, "name", str, where, f"Policy: {rule}"),
        rule=rule,
        number=str(_get(table, "number", (str, int, float), where, "")),
        points=points,
        zero_score=_get(table, "zero_score", bool, where, False),
        modules=tuple(modules),
        visibility=_visibility(table, where),
        description=_get(table, "description", str, where, ""),
    )


def _check_applicable(rubric: Rubric) -> None:
    """Every test must judge at least one built-in case, or it could never award its points."""
    from ..api import case_domain  # the grader's faces sit above the API

    cases = case_domain(rubric.settings).fit_all(builtin_cases(seed=rubric.seed, batch=rubric.batch))
    for test in rubric.tests:
        if not any(applies(test, case) for case in cases):
            raise RubricError(f"test {test.name!r} applies to none of the built-in cases (check its widths and layers)")


def _finite(value: Any, where: str) -> None:
    """Every number in the rubric is finite: TOML's ``nan`` and ``inf`` are no points or limits."""
    if isinstance(value, float) and not math.isfinite(value):
        raise RubricError(f"{where} is {value!r}; numbers in a rubric must be finite")
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _finite(item, f"{where}[{index}]")


def parse_rubric(text: str, source: str = "rubric") -> Rubric:
    """A :class:`Rubric` from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{source} is not valid TOML: {exc}") from None
    try:
        _finite(data, "")
    except RubricError as exc:
        raise RubricError(f"{source}: {exc}") from None
    _known(
        data,
        {
            "name",
            "function",
            "batch",
            "seed",
            "max_examples",
            "visibility",
            "stdout_visibility",
            "sandbox",
            "tests",
            "policies",
            "spec",
            "adapter",
            "mode",
        },
        source,
    )
    sandbox = _get(data, "sandbox", dict, source, {})
    _known(sandbox, {"timeout", "memory_mb", "hide"}, f"{source} [sandbox]")
    settings = _settings(data, sandbox, source)
    tests = _get(data, "tests", list, source, [])
    if not tests:
        raise RubricError(f"{source} has no [[tests]]")
    parsed_tests = tuple(_test(t, i) for i, t in enumerate(tests))
    policies = tuple(_policy(p, i) for i, p in enumerate(_get(data, "policies", list, source, [])))
    names = [t.name for t in parsed_tests] + [p.name for p in policies]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise RubricError(
            f"{source}: two tests are named {duplicate!r}; names must be unique (they are the CSV's columns)"
        )
    memory = _get(sandbox, "memory_mb", int, f"{source} [sandbox]", 1024)
    if memory < 256:
        raise RubricError(f"{source} [sandbox]: memory_mb must be at least 256")
    numbered_tests = tuple(t if t.number else _renumber(t, i) for i, t in enumerate(parsed_tests, start=1))
    numbered_policies = tuple(
        p if p.number else _renumber(p, len(parsed_tests) + i) for i, p in enumerate(policies, start=1)
    )
    rubric = Rubric(
        name=_get(data, "name", str, source, "gradcheck rubric"),
        tests=numbered_tests,
        policies=numbered_policies,
        function=settings.function,
        batch=settings.spec.batch,
        settings=settings,
        seed=settings.seed,
        max_examples=settings.max_examples,
        visibility=_visibility(data, source),
        stdout_visibility=_visibility(data, source, "hidden", "stdout_visibility"),
        timeout=settings.timeout,
        memory_mb=memory,
        hide=tuple(str(p) for p in _get(sandbox, "hide", list, f"{source} [sandbox]", [])),
    )
    _check_applicable(rubric)
    judges_loss = next((t.name for t in rubric.tests if "loss-value" in t.checks), None)
    if settings.mode == "self" and judges_loss:
        raise RubricError(
            f'{source}: test {judges_loss!r} checks loss-value, which mode "self" does not judge '
            '(use mode "both", or drop the check)'
        )
    return rubric


def _settings(data: dict, sandbox: dict, source: str) -> Settings:
    """The rubric's settings through the one :func:`~gradcheck.config.resolve`, over the rubric
    defaults (a rubric ignores pyproject.toml); keys as in ``[tool.gradcheck]``."""
    table = {key: data[key] for key in RUBRIC_SETTINGS if key in data}
    try:
        own = table_source(table, label=f"in {source}")
        if "timeout" in sandbox:
            own = Source(
                own.label,
                {**own.values, "timeout": sandbox["timeout"]},
                {**own.spelled, "timeout": "[sandbox] timeout"},
            )
        settings = resolve(own, Source(DEFAULTS.label, {"max_examples": RUBRIC_MAX_EXAMPLES}))
    except SettingsError as exc:
        raise RubricError(str(exc)) from None
    if settings.adapter is not None and settings.adapter.compose:
        raise RubricError(
            f"{source}: a compose adapter chains layer objects in one process; the sandboxed grader cannot use it"
        )
    if settings.adapter is not None and settings.adapter.init:
        raise RubricError(
            f"{source}: init= recompiles the function from its source in one process; the sandboxed grader cannot"
        )
    if settings.adapter is not None and settings.adapter.uses_globals:
        raise RubricError(
            f'{source}: a notebook-globals adapter (params_from/grads_from "globals") binds the function\'s '
            "namespace in one process; the sandboxed grader cannot use it"
        )
    return settings


def _renumber(item: Any, number: int) -> Any:
    return replace(item, number=str(number))


def load_rubric(path: str | os.PathLike[str] | None = None) -> Rubric:
    """The rubric in ``path``, or :data:`DEFAULT_RUBRIC` when ``path`` is None."""
    if path is None:
        return parse_rubric(DEFAULT_RUBRIC, "the default rubric")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"cannot read the rubric {path}: {exc.strerror}") from None
    return parse_rubric(text, str(path))
