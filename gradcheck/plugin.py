"""pytest plugin: ``pytest --gradcheck-impl TARGET`` runs the conformance suite against TARGET.

TARGET takes the CLI's forms (``file.py``, ``notebook.ipynb``, ``package.module:attr``) and is
loaded when pytest starts, so one that cannot be loaded is a usage error before any test runs.
Without ``--gradcheck-impl`` nothing is added to the run; the fixtures, the ``cuda`` marker and
the :class:`gradcheck.conformance.Conformance` suite stay available to any test that supplies
its own implementation.

The plugin takes the settings ``gradcheck check`` takes (function, spec and its options, adapter
and its options, mode, batch, seed, max examples, timeout, devices) as ``--gradcheck-*`` options,
each mirrored by a ``gradcheck_*`` ini setting, and reads ``[tool.gradcheck]`` from the rootdir's
``pyproject.toml``, so the CLI and the plugin judge the same contract. The command line wins over
the ini file, which wins over ``[tool.gradcheck]``, field by field; everything goes through the
one resolver, :func:`gradcheck.config.resolve`, into one :class:`gradcheck.config.Settings`. The
settings are resolved in :func:`pytest_configure` when there is a TARGET (an unusable value is a
usage error before any test runs) and otherwise only when a test asks for them, so a pytest run
that does not use gradcheck imports neither torch nor gradcheck's core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pytest

from .config import HELP, Source

if TYPE_CHECKING:  # the plugin loads with every pytest run: torch is imported only once used
    from .config import Settings
    from .loading import Target
    from .report import Report
    from .spec import Spec

IMPL_HELP = "Implementation to check: file.py, notebook.ipynb or package.module:attr"


@dataclass(frozen=True)
class Option:
    """One ``--gradcheck-*`` option, its ini twin and the setting it gives (``spec.batch``, ...)."""

    flag: str  # after "--gradcheck-"
    setting: str
    metavar: str | None = None
    repeat: bool = False  # repeatable on the command line; a list in the ini file
    switch: bool = False  # a flag without a value
    ini_list: Literal["linelist", "args"] = "linelist"  # KEY=VALUE lines; device names split like a shell

    @property
    def dest(self) -> str:
        return "gradcheck_" + self.flag.replace("-", "_")

    @property
    def ini(self) -> str:
        return self.dest + ("s" if self.repeat else "")  # gradcheck_spec_options, gradcheck_devices


OPTIONS = (
    Option("function", "function", "NAME"),
    Option("spec", "spec", "PRESET"),
    Option("spec-option", "spec.", "KEY=VALUE", repeat=True),
    Option("adapter", "adapter", "NAME"),
    Option("adapter-option", "adapter.", "KEY=VALUE", repeat=True),
    Option("domain-option", "domain.", "KEY=VALUE", repeat=True),
    Option("mode", "mode", "MODE"),
    Option("fd", "fd", "MODE"),
    Option("fd-memory", "fd_memory", "MIB"),
    Option("batch", "spec.batch", switch=True),
    Option("seed", "seed", "N"),
    Option("max-examples", "max_examples", "N"),
    Option("timeout", "timeout", "S"),
    Option("device", "devices", "D", repeat=True, ini_list="args"),
)


def _help(option: Option) -> str:
    key = option.flag.replace("-", "_")
    return HELP["devices" if key == "device" else key]


SETTINGS = pytest.StashKey["Settings"]()
IMPL = pytest.StashKey["str | None"]()  # --gradcheck-impl / gradcheck_impl, when given
TARGET = pytest.StashKey["Target"]()  # the loaded implementation, when --gradcheck-impl is given


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``gradcheck`` option group and its ini mirrors."""
    group = parser.getgroup("gradcheck", "gradient checking of hand-written backprop (gradcheck)")
    group.addoption("--gradcheck-impl", metavar="TARGET", default=None, help=IMPL_HELP)
    parser.addini("gradcheck_impl", IMPL_HELP, default=None)
    for option in OPTIONS:
        if option.switch:
            group.addoption(f"--gradcheck-{option.flag}", action="store_true", default=None, help=_help(option))
            parser.addini(option.ini, _help(option), type="bool", default=None)
        else:
            action = "append" if option.repeat else "store"
            kind: Literal["linelist", "args", "string"] = option.ini_list if option.repeat else "string"
            group.addoption(
                f"--gradcheck-{option.flag}", action=action, metavar=option.metavar, default=None, help=_help(option)
            )
            parser.addini(option.ini, _help(option), type=kind, default=None)


def _source(config: pytest.Config, *, ini: bool) -> Source:
    """The command line's ``--gradcheck-*`` values, or the ini file's ``gradcheck_*`` ones."""
    from .config import parse_option

    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for option in OPTIONS:
        value = config.getini(option.ini) if ini else config.getoption(option.dest)
        if value in (None, "", []):
            continue
        name = f"ini setting {option.ini}" if ini else f"--gradcheck-{option.flag}"
        if option.setting.endswith("."):  # KEY=VALUE options: one field each
            for text in value:
                try:
                    key, parsed = parse_option(text)
                except ValueError as exc:
                    raise pytest.UsageError(f"gradcheck: {name}: {exc}") from None
                values[option.setting + key], spelled[option.setting + key] = parsed, f"{name} {text}"
        else:
            values[option.setting], spelled[option.setting] = value, name
    label = f"in {config.inipath}" if ini and config.inipath else ("(ini file)" if ini else "(command line)")
    return Source(label, values, spelled, text=True)


def resolve_plugin_settings(config: pytest.Config) -> Settings:
    """Command line > ini file > ``[tool.gradcheck]`` of the rootdir's pyproject.toml > defaults."""
    from .config import SettingsError, pyproject_source, resolve, usable_devices

    try:
        sources = _source(config, ini=False), _source(config, ini=True)
        settings = resolve(*sources, pyproject_source(config.rootpath / "pyproject.toml"))
        usable_devices(settings)
    except SettingsError as exc:
        raise pytest.UsageError(f"gradcheck: {exc}") from None
    return settings


def _impl(config: pytest.Config) -> str | None:
    return config.getoption("gradcheck_impl") or config.getini("gradcheck_impl") or None


def _load(impl: str, settings: Settings) -> Target:
    """Load TARGET now, so that a missing file or function is a usage error, not nine failed tests."""
    from .loading import LoadError, load_target

    try:
        return load_target(impl, settings.function)
    except LoadError as exc:
        raise pytest.UsageError(f"gradcheck: cannot load --gradcheck-impl {impl}: {exc}") from None


def _suite_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance.py")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, resolve the settings and, with a TARGET, add the suite to the run."""
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU; skipped, with the reason, where torch sees none")
    config.addinivalue_line(
        "markers", "gradcheck: a test of the gradcheck conformance suite (select with -m gradcheck)"
    )
    impl = config.stash[IMPL] = _impl(config)
    if impl is None:
        return  # settings are resolved when a test asks for them (gradcheck_settings)
    settings = config.stash[SETTINGS] = resolve_plugin_settings(config)
    config.stash[TARGET] = _load(impl, settings)
    suite = _suite_path()
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        config.args.append(suite)  # the user named what to run: run the suite as well
    else:
        config.args[:] = [suite]  # no paths given: only the suite, from whatever folder


def pytest_report_header(config: pytest.Config) -> str:
    """The gradcheck settings in effect, at the top of the run."""
    impl = config.stash.get(IMPL, None)
    if impl is None:
        return "gradcheck: no --gradcheck-impl"
    s = config.stash[SETTINGS]
    return (
        f"gradcheck: impl={impl} function={s.function} batch={s.spec.batch} max_examples={s.max_examples} "
        f"seed={s.seed} timeout={s.timeout:g} ({s.describe()})"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``cuda`` tests, saying why, where there is no GPU: never pass them silently."""
    if item.get_closest_marker("cuda") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU: torch.cuda.is_available() is False here")


@pytest.fixture(scope="session")
def gradcheck_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved gradcheck settings: ``--gradcheck-*`` options over ``gradcheck_*`` ini values
    over ``[tool.gradcheck]`` in the rootdir's pyproject.toml (a :class:`gradcheck.config.Settings`)."""
    if SETTINGS not in pytestconfig.stash:
        pytestconfig.stash[SETTINGS] = resolve_plugin_settings(pytestconfig)
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
    """The contract the implementation is held to: the resolved ``Spec`` (the seed's by default,
    batched with ``--gradcheck-batch``)."""
    return gradcheck_settings.spec


@pytest.fixture(scope="class")
def gradcheck_report(gradcheck_impl: Any, gradcheck_spec: Spec, gradcheck_settings: Settings) -> Report:
    """The ``gradcheck.Report`` on ``gradcheck_impl``: built-in cases, then the hypothesis search.

    Computed once per test class and read by every conformance test; ``gradcheck check`` builds
    the same report from the same settings, so the two agree on every verdict.
    """
    from .api import check
    from .threads import few_threads

    with few_threads():
        return check(gradcheck_impl, settings=gradcheck_settings, spec=gradcheck_spec)
