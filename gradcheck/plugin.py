"""pytest plugin: ``pytest --gradcheck-impl TARGET`` runs the conformance suite against TARGET.

TARGET takes the CLI's forms (``file.py``, ``notebook.ipynb``, ``package.module:attr``) and is
loaded when pytest starts, so one that cannot be loaded is a usage error before any test runs.
Without ``--gradcheck-impl`` nothing is added to the run; the fixtures, the ``cuda`` marker and
the :class:`gradcheck.conformance.Conformance` suite stay available to any test that supplies
its own implementation.

Every option is mirrored by an ini setting (``gradcheck_impl``, ``gradcheck_function``,
``gradcheck_batch``, ``gradcheck_max_examples``, ``gradcheck_seed``); the command line wins.
Both are read, validated and frozen into one :class:`Settings` in :func:`pytest_configure`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .defaults import DEFAULT_FUNCTION, DEFAULT_MAX_EXAMPLES

if TYPE_CHECKING:  # the plugin loads with every pytest run: torch is imported only once used
    from .loading import Target
    from .report import Report
    from .spec import Spec

IMPL_HELP = "Implementation to check: file.py, notebook.ipynb or package.module:attr"
FUNCTION_HELP = "Function to check in a file or module (default: forward_backward)"
BATCH_HELP = "Also check batches: x is [n_0, B], bias gradients summed over B"
MAX_EXAMPLES_HELP = f"Cases hypothesis tries after the built-in ones, shrinking any failure (default: {DEFAULT_MAX_EXAMPLES}; 0: built-in cases only)"
SEED_HELP = "Seed of the cases' values and of the search (default: 0)"


@dataclass(frozen=True)
class Settings:
    """Every gradcheck option, resolved once from the command line and the ini file."""

    impl: str | None = None
    function: str = DEFAULT_FUNCTION
    batch: bool = False
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0


SETTINGS = pytest.StashKey[Settings]()
TARGET = pytest.StashKey["Target"]()  # the loaded implementation, when --gradcheck-impl is given


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``gradcheck`` option group and its ini mirrors."""
    group = parser.getgroup("gradcheck", "gradient checking of hand-written backprop (gradcheck)")
    group.addoption("--gradcheck-impl", metavar="TARGET", default=None, help=IMPL_HELP)
    group.addoption("--gradcheck-function", metavar="NAME", default=None, help=FUNCTION_HELP)
    group.addoption("--gradcheck-batch", action="store_true", default=None, help=BATCH_HELP)
    group.addoption("--gradcheck-max-examples", metavar="N", default=None, help=MAX_EXAMPLES_HELP)
    group.addoption("--gradcheck-seed", metavar="N", default=None, help=SEED_HELP)
    parser.addini("gradcheck_impl", IMPL_HELP, default=None)
    parser.addini("gradcheck_function", FUNCTION_HELP, default=None)
    parser.addini("gradcheck_batch", BATCH_HELP, type="bool", default=None)
    parser.addini("gradcheck_max_examples", MAX_EXAMPLES_HELP, default=None)
    parser.addini("gradcheck_seed", SEED_HELP, default=None)


def _option(config: pytest.Config, name: str) -> tuple[Any, str]:
    """The value of one setting and where it came from: the command line first, then the ini file."""
    value = config.getoption(f"gradcheck_{name}")
    if value is not None:
        return value, f"--gradcheck-{name.replace('_', '-')}"
    return config.getini(f"gradcheck_{name}"), f"ini setting gradcheck_{name}"


def _whole_number(config: pytest.Config, name: str, default: int, minimum: int | None = None) -> int:
    value, where = _option(config, name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or (minimum is not None and number < minimum):
        floor = f" of at least {minimum}" if minimum is not None else ""
        raise pytest.UsageError(f"gradcheck: {where} {value!r} is not a whole number{floor}")
    return number


def read_settings(config: pytest.Config) -> Settings:
    """Resolve, validate and freeze every gradcheck setting (one place, like pytest-timeout)."""
    impl, _ = _option(config, "impl")
    function, _ = _option(config, "function")
    batch, _ = _option(config, "batch")
    return Settings(
        impl=impl or None,
        function=function or DEFAULT_FUNCTION,
        batch=bool(batch),
        max_examples=_whole_number(config, "max_examples", Settings.max_examples, minimum=0),
        seed=_whole_number(config, "seed", Settings.seed),
    )


def _load(settings: Settings) -> Target:
    """Load TARGET now, so that a missing file or function is a usage error, not nine failed tests."""
    from .loading import LoadError, load_target

    try:
        return load_target(settings.impl, settings.function)
    except LoadError as exc:
        raise pytest.UsageError(f"gradcheck: cannot load --gradcheck-impl {settings.impl}: {exc}") from None


def _suite_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance.py")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, resolve the settings and, with a TARGET, add the suite to the run."""
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU; skipped, with the reason, where torch sees none")
    config.addinivalue_line(
        "markers", "gradcheck: a test of the gradcheck conformance suite (select with -m gradcheck)"
    )
    settings = config.stash[SETTINGS] = read_settings(config)
    if settings.impl is None:
        return
    config.stash[TARGET] = _load(settings)
    suite = _suite_path()
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args.append(suite)  # the user named what to run: run the suite as well
    else:
        config.args[:] = [suite]  # no paths given: only the suite, from whatever folder


def pytest_report_header(config: pytest.Config) -> str:
    """The gradcheck settings in effect, at the top of the run."""
    s = config.stash[SETTINGS]
    if s.impl is None:
        return f"gradcheck: no --gradcheck-impl (max_examples={s.max_examples}, seed={s.seed})"
    return f"gradcheck: impl={s.impl} function={s.function} batch={s.batch} max_examples={s.max_examples} seed={s.seed}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``cuda`` tests, saying why, where there is no GPU: never pass them silently."""
    if item.get_closest_marker("cuda") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU: torch.cuda.is_available() is False here")


@pytest.fixture(scope="session")
def gradcheck_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved gradcheck settings (``--gradcheck-*`` options over ``gradcheck_*`` ini values)."""
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def gradcheck_impl(pytestconfig: pytest.Config) -> Any:
    """The implementation under test, as loaded from ``--gradcheck-impl``.

    Override it (in a test class or module) with anything ``gradcheck.check`` accepts: a target
    string, a callable, or a loaded ``Target``. Without either, the tests that need it skip.
    """
    target = pytestconfig.stash.get(TARGET, None)
    if target is None:
        pytest.skip("no implementation: pass --gradcheck-impl TARGET, or override the gradcheck_impl fixture")
    return target


@pytest.fixture(scope="session")
def gradcheck_spec(gradcheck_settings: Settings) -> Spec:
    """The contract the implementation is held to: the seed's ``Spec``, batched with ``--gradcheck-batch``."""
    from .spec import Spec

    return Spec(batch=gradcheck_settings.batch)


@pytest.fixture(scope="class")
def gradcheck_report(gradcheck_impl: Any, gradcheck_spec: Spec, gradcheck_settings: Settings) -> Report:
    """The ``gradcheck.Report`` on ``gradcheck_impl``: built-in cases, then the hypothesis search.

    Computed once per test class and read by every conformance test; ``gradcheck check`` builds
    the same report from the same settings, so the two agree on every verdict.
    """
    from .api import check

    s = gradcheck_settings
    return check(gradcheck_impl, function=s.function, spec=gradcheck_spec, seed=s.seed, max_examples=s.max_examples)
