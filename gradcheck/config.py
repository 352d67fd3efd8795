"""Settings: one resolver for every face (CLI, ``[tool.gradcheck]``, rubric, pytest plugin, API).

Each face turns what it was given into a :class:`Source` (a label for errors, the values by
setting name, how the user spelled each one) and calls :func:`resolve` with its sources, highest
priority first, in the style of pytest-timeout's single settings object:

* ``gradcheck check``: command line > ``[tool.gradcheck]`` in ./pyproject.toml > defaults;
* ``pytest --gradcheck-*``: command line > ini file > ``[tool.gradcheck]`` in the rootdir's
  pyproject.toml > defaults;
* a rubric: its own keys > the rubric defaults (``max_examples = 50``);
* ``gradcheck.check(...)``: keyword arguments > ``settings=`` > defaults.

Resolution is field by field, so one ``--adapter-option KEY=VALUE`` (or ``--spec-option``)
overrides that one field of a ``[tool.gradcheck.adapter]`` (``.spec``) table and keeps the rest.
A source that names another preset or adapter starts over from it: the fields of the sources
below it described a different one. Every error is one line that names where the value came
from, e.g. ``--adapter-option method=3 (command line): ...`` or ``[tool.gradcheck.adapter]
method in /path/pyproject.toml: ...``. ::

    [tool.gradcheck]
    spec = "cs231n-two-layer"          # a preset name, or a table:
    adapter = "cs231n"                 # an adapter name, or a table
    mode = "both"                      # spec | self | both
    fd = "auto"                        # full | sampled | auto; fd_memory = 512 (MiB)
    # function, batch, seed, max_examples, timeout (seconds, finite, > 0), devices = ["cpu"]

    # [tool.gradcheck.spec]            # a preset plus any Spec field
    # preset = "cs231n-two-layer"
    # l2 = 0.1
    # [tool.gradcheck.adapter]         # a named adapter plus any Adapter field
    # name = "cs231n"
    # method = "compute_loss"

The module imports neither torch nor the adapters until a value is resolved: the pytest plugin
builds its sources in every pytest run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .defaults import DEFAULT_FUNCTION, DEFAULT_MAX_EXAMPLES, DEFAULT_TIMEOUT
from .vocabulary import parse_fd, parse_mode

if TYPE_CHECKING:
    from .adapters import Adapter
    from .domain import Domain
    from .spec import Spec

__all__ = [
    "HELP",
    "SETTING_KEYS",
    "Settings",
    "SettingsError",
    "Source",
    "parse_option",
    "parse_value",
    "pyproject_source",
    "read_pyproject",
    "resolve",
    "resolve_settings",
    "settings_source",
    "table_source",
    "usable_devices",
]

SCALARS = ("mode", "function", "seed", "max_examples", "timeout", "devices", "fd", "fd_memory")
SETTING_KEYS = ("spec", "adapter", "batch", "domain", *SCALARS)  # the keys of [tool.gradcheck] and of a rubric
BASE_KEY = {"spec": "preset", "adapter": "name"}  # in a table, the key that names what the fields change


# What each setting means, said once for the CLI's --help and the plugin's (pytest --help).
HELP = {
    "function": f"the function (or class) to check in a file or module (default: {DEFAULT_FUNCTION})",
    "spec": "a named specification, e.g. cs231n-two-layer (see gradcheck.presets)",
    "spec_option": "set one field of the specification, repeatable, e.g. l2=0 or hidden=tanh "
    "(values as in [tool.gradcheck.spec]; see gradcheck.spec.Spec)",
    "adapter": "call an implementation in another layout, e.g. cs231n, nielsen, numpy (see gradcheck.adapters)",
    "adapter_option": 'set one field of the adapter, repeatable, e.g. layout=row or \'returns=["loss", "grads"]\' '
    "(values as in [tool.gradcheck.adapter]; see gradcheck.adapters.Adapter)",
    "mode": "judge values against the spec, the implementation's own loss, or both: spec, self or both (default: spec)",
    "batch": "also check batches (x is [n_0, B], bias gradients summed over B)",
    "seed": "seed for the cases' values and the search (default: 0)",
    "max_examples": "cases hypothesis tries after the built-in ones, shrinking any failure "
    f"(default: {DEFAULT_MAX_EXAMPLES}; 0: built-in cases only)",
    "timeout": f"seconds one call may take before it counts as a hang (default: {DEFAULT_TIMEOUT:g})",
    "fd": "finite differences that arbitrate: full (every parameter), sampled (seeded probes per tensor) "
    "or auto (full up to 50,000 parameters; default: auto)",
    "fd_memory": "memory budget in MiB for one chunk of full finite differences (default: no budget, "
    "4096 columns a chunk)",
    "devices": "device to check on, repeatable (default: cpu, and cuda where available)",
    "domain_option": "narrow or widen the cases, repeatable, e.g. output_width=1, max_depth=2, regimes=normal,tiny, "
    "targets=one-hot (values as in [tool.gradcheck.domain]; see gradcheck.domain.Domain; default: the preset's)",
}


class SettingsError(ValueError):
    """A setting cannot be used; the message is one line that starts with where it came from."""


def _seed_spec() -> Spec:
    from .spec import SEED

    return SEED


@dataclass(frozen=True)
class Settings:
    """Everything a check is run with, resolved once (:func:`resolve`); ``sources`` says where
    each value came from (``"default"`` for defaults), and takes no part in equality."""

    spec: Spec = field(default_factory=_seed_spec)
    adapter: Adapter | None = None
    mode: str = "spec"
    function: str = DEFAULT_FUNCTION
    seed: int = 0
    max_examples: int = DEFAULT_MAX_EXAMPLES
    timeout: float = DEFAULT_TIMEOUT
    devices: tuple[str, ...] | None = None  # None: gradcheck.strategies.available_devices()
    domain: Domain | None = None  # None: the preset's (gradcheck.presets.preset_domain)
    fd: str = "auto"  # full | sampled | auto (gradcheck.fdmode)
    fd_memory: float | None = None  # MiB for one chunk of full finite differences; None: no budget
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def case_domain(self) -> Domain:
        """The cases the implementation is judged on: the configured domain, else the preset's."""
        from .presets import preset_domain

        return self.domain if self.domain is not None else preset_domain(self.spec.name)

    @property
    def judged_as_seed(self) -> bool:
        """The seed's contract (batched or not), no adapter, spec mode: nothing for a report to say."""
        return self.spec == dataclasses.replace(_seed_spec(), batch=self.spec.batch) and (
            self.adapter is None and self.mode == "spec"
        )

    def describe(self) -> str:
        """One line for reports: who judged, under which contract, configured fields included
        (``spec cs231n-two-layer {l2 = 0.0}, adapter {numpy = true}, mode spec``)."""
        from .presets import PRESETS

        spec_base = PRESETS.get(self.spec.name, _seed_spec())
        parts = [_named("spec", self.spec.name, _delta(self.spec, spec_base, skip=_SPEC_SKIP))]
        if self.adapter is not None:
            from .adapters import ADAPTERS, Adapter

            base = ADAPTERS.get(self.adapter.name, Adapter())
            name = "" if base == Adapter() else self.adapter.name  # a configured canonical adapter: its fields
            parts.append(_named("adapter", name, _delta(self.adapter, base, skip=("name",))))
        parts.append(f"mode {self.mode}")
        if self.domain is not None:
            from .presets import preset_domain

            parts.append(_named("domain", "", _delta(self.domain, preset_domain(self.spec.name), skip=())))
        return ", ".join(parts)

    def cli_args(self) -> str:
        """The ``gradcheck check`` options that rebuild these settings (for reproduction lines)."""
        from .adapters import ADAPTERS
        from .presets import PRESETS

        spec_name = self.spec.name if self.spec.name in PRESETS else "seed"
        parts = [f"--spec {spec_name}"] if spec_name != "seed" else []
        parts += _options("--spec-option", _delta(self.spec, PRESETS[spec_name], skip=_SPEC_SKIP))
        if self.adapter is not None:
            adapter_name = self.adapter.name if self.adapter.name in ADAPTERS else "canonical"
            delta = _delta(self.adapter, ADAPTERS[adapter_name], skip=("name",))
            parts += [f"--adapter {adapter_name}", *_options("--adapter-option", delta)]
        if self.mode != "spec":
            parts.append(f"--mode {self.mode}")
        if self.fd != "auto":
            parts.append(f"--fd {self.fd}")
        if self.domain is not None:
            from .presets import preset_domain

            parts += _options("--domain-option", _delta(self.domain, preset_domain(spec_name), skip=()))
        return " ".join(parts)


_SPEC_SKIP = ("name", "description", "batch")  # batch travels with the case (--batch)


def _named(kind: str, name: str, delta: list[tuple[str, str]]) -> str:
    fields = "{" + ", ".join(f"{k} = {v}" for k, v in delta) + "}" if delta else ""
    return " ".join(p for p in (kind, name, fields) if p)


def _toml(value: Any) -> str | None:
    """``value`` as a TOML literal (what :func:`parse_value` reads back), or None if it has none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [_toml(v) for v in value]
        return None if any(i is None for i in items) else "[" + ", ".join(typing.cast(list[str], items)) + "]"
    if value is None:
        return None
    return json.dumps(str(value))  # strings, and activations by their name, e.g. "leaky_relu(0.1)"


def _delta(obj: Any, base: Any, *, skip: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(field, TOML literal)`` for every field where ``obj`` differs from ``base``."""
    delta = []
    for f in dataclasses.fields(obj):
        value, literal = getattr(obj, f.name), _toml(getattr(obj, f.name))
        if f.name not in skip and value != getattr(base, f.name) and literal is not None:
            delta.append((f.name, literal))
    return delta


def _options(flag: str, delta: list[tuple[str, str]]) -> list[str]:
    return [f"{flag} {shlex.quote(f'{name}={literal}')}" for name, literal in delta]


# -- sources ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One place settings come from, in the resolver's terms.

    ``values`` is keyed by setting (``mode``, ``timeout``, ...; ``spec`` and ``adapter`` name a
    preset or adapter, or are a ``Spec``/``Adapter``; ``spec.FIELD``/``adapter.FIELD`` set one
    field); a value of None is not given. ``label`` ends every error about it (``(command
    line)``, ``in /path/pyproject.toml``); ``spelled`` says how the user wrote a key
    (``--timeout``, ``[tool.gradcheck.adapter] method``). ``text``: values are strings as typed
    on a command line or in an ini file, read as numbers where a number is wanted.
    """

    label: str
    values: Mapping[str, Any]
    spelled: Mapping[str, str] = field(default_factory=dict)
    text: bool = False

    def where(self, key: str) -> str:
        return f"{self.spelled.get(key, key)} {self.label}".strip()


DEFAULTS = Source("(default)", {})


def table_source(table: Mapping[str, Any], *, label: str, table_name: str | None = None) -> Source:
    """A :class:`Source` from a TOML table with the keys of :data:`SETTING_KEYS` (``[tool.gradcheck]``,
    or a rubric's top level with ``table_name=None``); ``spec`` and ``adapter`` may be tables."""

    def spelled(key: str, sub: str | None = None) -> str:
        if sub is None:
            return f"[{table_name}] {key}" if table_name else key
        return f"[{table_name}.{key}] {sub}" if table_name else f"[{key}] {sub}"

    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for key, value in table.items():
        if key not in SETTING_KEYS:
            where = f"[{table_name}] {label}" if table_name else label
            raise SettingsError(f"{where}: unknown setting {key!r} (known: {', '.join(SETTING_KEYS)})")
        if key == "domain":
            if not isinstance(value, dict):
                raise SettingsError(f"{spelled(key)}: must be a table of domain fields, e.g. output_width = 1")
            for sub, item in value.items():
                values[f"domain.{sub}"], names[f"domain.{sub}"] = item, spelled(key, sub)
        elif key in BASE_KEY and isinstance(value, dict):
            for sub, item in value.items():
                inner = key if sub == BASE_KEY[key] else f"{key}.{sub}"
                values[inner], names[inner] = item, spelled(key, sub)
        else:
            inner = "spec.batch" if key == "batch" else key
            values[inner], names[inner] = value, spelled(key)
    return Source(label, values, names)


def read_pyproject(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``[tool.gradcheck]`` of ``path`` (default: ./pyproject.toml); ``{}`` if there is none."""
    path = os.fspath(path or os.path.join(os.getcwd(), "pyproject.toml"))
    if not os.path.exists(path):
        return {}
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read [tool.gradcheck]: {exc}") from None
    section = data.get("tool", {}).get("gradcheck", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [tool.gradcheck] must be a table")
    return section


def pyproject_source(path: str | os.PathLike[str] | None = None) -> Source:
    """``[tool.gradcheck]`` of ``path`` (default: ./pyproject.toml) as a :class:`Source`."""
    path = os.path.abspath(os.fspath(path or os.path.join(os.getcwd(), "pyproject.toml")))
    return table_source(read_pyproject(path), label=f"in {path}", table_name="tool.gradcheck")


def settings_source(settings: Settings) -> Source:
    """Resolved settings as a :class:`Source` below others (the API's ``settings=``), each value
    still named by where it first came from."""
    values = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(settings)
        if f.name in BASE_KEY
        or (f.name in SCALARS and (f.name in settings.sources or getattr(settings, f.name) != f.default))
    }
    if settings.domain is not None:  # its fields, so that a higher source can change one of them
        values |= {f"domain.{f.name}": getattr(settings.domain, f.name) for f in dataclasses.fields(settings.domain)}
    return Source("", values, {k: settings.sources.get(k, f"{k} (given settings)") for k in values})


def usable_devices(settings: Settings) -> tuple[str, ...] | None:
    """``settings.devices``, each one tried here: a device torch cannot use is a settings error."""
    if settings.devices is None:
        return None
    import torch

    for device in settings.devices:
        try:
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError, TypeError, ValueError) as exc:  # unknown, or not built in
            where = settings.sources.get("devices", "devices")
            raise SettingsError(f"{where}: {device} is not usable here ({str(exc).splitlines()[0]})") from None
    return settings.devices


def parse_value(text: str) -> Any:
    """A command-line value read as a TOML value (``3``, ``0.1``, ``true``, ``["W{n}", "b{n}"]``,
    ``"row"``), or the bare text when it isn't one (``row``): the same values as pyproject's."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` (``--spec-option``/``--adapter-option``, their ini twins) as ``(KEY, value)``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"{text!r} is not KEY=VALUE, e.g. layout=row")
    return key.strip(), parse_value(value.strip())


# -- resolution ---------------------------------------------------------------------------------


def resolve(*sources: Source) -> Settings:
    """The settings that ``sources`` (highest priority first) give, field by field, over the
    defaults. Raises :class:`SettingsError`, one line naming the source, for anything unusable."""
    for source in sources:
        unknown = sorted(k for k in source.values if k.split(".")[0] not in (*SCALARS, *BASE_KEY, "domain"))
        if unknown:
            raise SettingsError(f"{source.where(unknown[0])}: unknown setting (known: {', '.join(SETTING_KEYS)})")
    chosen: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key in SCALARS:
        giver = next((s for s in sources if s.values.get(key) is not None), None)
        if giver is not None:
            chosen[key] = _conform_scalar(key, giver.values[key], giver)
            origin[key] = giver.where(key)
    spec, spec_origin = _compose("spec", sources)
    adapter, adapter_origin = _compose("adapter", sources)
    domain, domain_origin = _compose_domain(spec.name, sources)
    origin |= spec_origin | adapter_origin | domain_origin
    return Settings(spec=spec, adapter=_plain(adapter), domain=domain, sources=origin, **chosen)


def _compose_domain(preset: str, sources: Sequence[Source]) -> tuple[Domain | None, dict[str, str]]:
    """The preset's domain changed by every ``domain.*`` field, higher sources over lower; None
    when no source sets one (the preset's own domain applies)."""
    from .domain import Domain
    from .presets import preset_domain

    hints = typing.get_type_hints(Domain)
    fields: dict[str, Any] = {}
    where: dict[str, str] = {}
    for source in reversed(sources):  # lowest first: higher sources overwrite
        for key, value in source.values.items():
            if key.startswith("domain.") and value is not None:
                name = key.split(".", 1)[1]
                where[name] = source.where(key)
                if name not in hints:
                    raise SettingsError(f"{where[name]}: the domain has no field {name!r} (fields: {', '.join(hints)})")
                if hints[name] == tuple[str, ...] and source.text and isinstance(value, str):
                    value = [item.strip() for item in value.split(",") if item.strip()]
                fields[name] = _conform_field(value, hints[name], where[name], text=source.text)
    if not fields:
        return None, {}
    return _replace(preset_domain(preset), fields, where), {f"domain.{k}": w for k, w in where.items()}


def resolve_settings(
    *,
    spec: Any = None,
    adapter: Any = None,
    mode: str | None = None,
    pyproject: Mapping[str, Any] | None = None,
) -> Settings:
    """Explicit values over ``pyproject`` (``[tool.gradcheck]``, read from ./pyproject.toml when
    ``None``) over defaults: :func:`resolve` on two sources, for callers with Python values."""
    given = Source("(keyword argument)", {"spec": spec, "adapter": adapter, "mode": mode})
    section = pyproject_source() if pyproject is None else table_source(pyproject, label="(given)")
    return resolve(given, section)


def _plain(adapter: Adapter | None) -> Adapter | None:
    """The canonical adapter with no field changed is no adapter: the implementation is called as is."""
    from .adapters import Adapter

    return None if adapter == Adapter() else adapter


def _compose(kind: str, sources: Sequence[Source]) -> tuple[Any, dict[str, str]]:
    """The spec or adapter: the highest named base, changed by the fields of that source, of the
    sources above it and of those below it that name no other base; and where the base and each
    field came from (``spec``, ``spec.l2``, ...)."""
    base, base_where, layers = None, "default", []
    for source in sources:
        named = source.values.get(kind)
        if named is not None:
            found = _base(kind, named, source.where(kind))
            if base is None:
                base, base_where = found, source.where(kind)
            elif found != base:
                break  # this source, and every one below it, described another base
        layers.append(source)
    if base is None:
        base = _base(kind, None, "default")
    fields: dict[str, Any] = {}
    where: dict[str, str] = {}
    hints = typing.get_type_hints(type(base))
    for source in reversed(layers):  # lowest first: higher sources overwrite
        for key, value in source.values.items():
            if key.startswith(f"{kind}.") and value is not None:
                name = key.split(".", 1)[1]
                where[name] = source.where(key)
                if name not in hints:
                    raise SettingsError(f"{where[name]}: {kind} has no field {name!r} (fields: {', '.join(hints)})")
                fields[name] = _conform_field(value, hints[name], where[name], text=source.text)
    return _replace(base, fields, where), {kind: base_where} | {f"{kind}.{k}": w for k, w in where.items()}


def _base(kind: str, named: Any, where: str) -> Any:
    """The preset (a name or a ``Spec``) or adapter (a name or an ``Adapter``) that fields change."""
    from .adapters import Adapter, get_adapter
    from .presets import get_preset
    from .spec import Spec

    cls, default, lookup = (Spec, "seed", get_preset) if kind == "spec" else (Adapter, "canonical", get_adapter)
    if isinstance(named, cls):
        return named
    if named is None:
        named = default
    if not isinstance(named, str):
        raise SettingsError(f"{where}: {named!r} must be a {'preset' if kind == 'spec' else kind} name or a table")
    try:
        return lookup(named)
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _replace(base: Any, fields: dict[str, Any], where: dict[str, str]) -> Any:
    """``base`` with ``fields`` replaced; a refusal names the fields without which it would pass."""
    try:
        return dataclasses.replace(base, **fields)
    except (ValueError, TypeError) as exc:
        problem = str(exc)
    culprits = [name for name in fields if _accepts(base, {k: v for k, v in fields.items() if k != name})]
    named = ", ".join(dict.fromkeys(where[name] for name in (culprits or fields)))
    raise SettingsError(f"{named}: {problem}")


def _accepts(base: Any, fields: dict[str, Any]) -> bool:
    try:
        dataclasses.replace(base, **fields)
    except (ValueError, TypeError):
        return False
    return True


# -- values -------------------------------------------------------------------------------------


def _conform_scalar(key: str, value: Any, source: Source) -> Any:
    """One top-level setting, checked (and read from text where the source is text)."""
    where = source.where(key)
    if key == "mode":
        try:
            return parse_mode(value)
        except ValueError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    if key == "fd":
        try:
            return parse_fd(value)
        except ValueError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    if key == "function":
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{where}: {value!r} is not a function name")
        return value.strip()
    if key == "devices":
        items = value.split() if source.text and isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items or not all(isinstance(d, str) and d for d in items):
            raise SettingsError(f'{where}: {value!r} is not a list of device names, e.g. ["cpu", "cuda"]')
        return tuple(items)
    hint, floor, wanted = {
        "timeout": (float, 0.0, "a finite number of seconds above 0"),
        "fd_memory": (float, 0.0, "a finite number of MiB above 0"),
        "max_examples": (int, 0, "a whole number of at least 0"),
        "seed": (int, None, "a whole number"),
    }[key]
    try:
        number = _conform(value, hint, text=source.text)
    except ValueError:
        number = None
    if number is None or (floor is not None and not (number > floor if hint is float else number >= floor)):
        raise SettingsError(f"{where}: {value!r} is not {wanted}")
    return number


def _conform_field(value: Any, hint: Any, where: str, *, text: bool = False) -> Any:
    try:
        return _conform(value, hint, text=text)
    except ValueError:
        raise SettingsError(f"{where}: {value!r} is not {_kind(hint)}") from None


def _conform(value: Any, hint: Any, *, text: bool) -> Any:
    """``value`` as a field of type ``hint`` wants it (TOML lists as tuples, ints as floats), or
    ValueError; numbers must be finite, and a bool is not a number."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _conform(value, arg, text=text)
            except ValueError:
                pass
        raise ValueError(value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(value)
        items = args[:1] * len(value) if args[-1:] == (Ellipsis,) else args
        if len(items) != len(value):
            raise ValueError(value)
        return tuple(_conform(v, a, text=text) for v, a in zip(value, items, strict=True))
    if text and isinstance(value, str) and hint in (int, float):
        value = _number(value, hint)
    if hint in (int, float):
        ok = isinstance(value, (int, float)) if hint is float else isinstance(value, int)
        if not ok or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(value)
        return hint(value)
    if not isinstance(value, hint):
        raise ValueError(value)
    return value


def _number(text: str, hint: Callable[[str], Any]) -> Any:
    try:
        return hint(text.strip())
    except ValueError:
        raise ValueError(text) from None


def _kind(hint: Any) -> str:
    """What a value of type ``hint`` is, in words, for error messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_kind(a) for a in args if a is not type(None))
    if origin is tuple:
        return "a list of strings" if args[-1:] == (Ellipsis,) else f"a list of {len(args)} strings"
    words = {bool: "true or false", int: "a whole number", float: "a finite number", str: "a string"}
    return words.get(hint, f"a {getattr(hint, '__name__', hint)}")
