"""Turning a target (``file.py``, ``notebook.ipynb`` or ``package.module:attr``) into a callable.

Loading runs the target's top-level code, so it goes through :func:`call_contained` too: prints
are captured, hangs are cut, and every way it can fail becomes one :class:`LoadError` line.
Notebook code cells run in order in one namespace, like "Run All"; IPython magics (``%...``,
``%%...``) and shell lines (``!...``) are skipped, and a cell that raises is noted and skipped
rather than fatal, because a broken demo cell must not hide a working function.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .defaults import DEFAULT_FUNCTION
from .invoke import call_contained, register_source

__all__ = ["IPYTHON_STAND_IN", "LoadError", "Target", "load_script", "load_target", "notebook_cells", "strip_magics"]

LOAD_TIMEOUT = 60.0
# Each load of a file is a new module (a fresh copy is how hidden state is caught).
_LOADS = itertools.count(1)


class LoadError(Exception):
    """The target could not be turned into a callable; the message is one line for the user."""


@dataclass
class Target:
    """A loaded implementation and what loading it printed or survived."""

    label: str
    function_name: str
    function: Callable[..., Any]
    output: str = ""
    warnings: list[str] = field(default_factory=list)


# What IPython syntax becomes when a notebook runs outside IPython: the transformed cells call
# ``get_ipython()``, and every magic or shell command it is asked for does nothing and returns
# None. Source text, so that the sandbox child (which imports nothing of the harness) runs the
# same stand-in: see :func:`gradcheck.sandbox.remote`.
IPYTHON_STAND_IN = """\
class _GradcheckIPythonStandIn:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def get_ipython():
    return _GradcheckIPythonStandIn()
"""

# Cell magics whose body is ordinary Python that should still run.
_PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")


def strip_magics(source: str, *, ipython: bool = True) -> str | None:
    """A code cell as plain Python; ``None`` for a cell magic whose body is not Python.

    IPython's own input transformer rewrites magics and shell escapes anywhere in a line
    (``files = !ls``, ``t = %timeit -o f()``, ``obj?``) into ``get_ipython()`` calls, which
    :data:`IPYTHON_STAND_IN` answers with None. Without IPython, lines that start with ``%`` or
    ``!`` become ``pass`` and anything else that is not Python is left to the compiler (the
    loader then skips that cell with a warning). ``ipython=False`` forces that fallback.
    """
    lines = source.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        if not first.startswith(_PYTHON_CELL_MAGICS):
            return None  # %%bash, %%writefile, ...: not Python
        lines = lines[1:]
    body = "\n".join(lines)
    transformer = _ipython_transformer() if ipython else None
    if transformer is not None:
        return str(transformer.transform_cell(body)).rstrip("\n")
    return "\n".join(_line_without_magic(line) for line in lines)


def _line_without_magic(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        return line[: len(line) - len(stripped)] + "pass"  # keep blocks well-formed
    return line


@functools.lru_cache(maxsize=1)
def _ipython_transformer() -> Any:
    """IPython's cell transformer where IPython is installed (it is optional), else None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return None
    return TransformerManager()


def notebook_cells(path: str) -> list[str]:
    """The code cells of a notebook, in order, as plain Python (see :func:`strip_magics`)."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a damaged file
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise LoadError(f"{path} is not a readable notebook: {type(exc).__name__}: {first_line}") from None
    cells = [strip_magics(c.source) for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
    return [c for c in cells if c is not None]


def _compile(source: str, filename: str) -> types.CodeType:
    """Compile the target's code with its own ``__future__`` flags only, never the harness's."""
    register_source(filename, source)
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        text = (exc.text or "").strip()
        raise LoadError(
            f"{os.path.basename(filename)}:{exc.lineno}: SyntaxError: {exc.msg}" + (f": {text}" if text else "")
        ) from None


def _module_namespace(name: str, path: str) -> dict[str, Any]:
    """A fresh module registered in ``sys.modules``, as a plain import would leave it, so code
    that looks itself up there (``@dataclass``, pickling, ``typing.get_type_hints``) works."""
    module = types.ModuleType(name)
    module.__file__ = os.path.abspath(path)
    sys.modules[name] = module
    return vars(module)


def _run(code: types.CodeType, namespace: dict[str, Any], what: str, timeout: float) -> tuple[str, str | None]:
    """Execute ``code``; returns (captured output, one-line error or None)."""
    outcome = call_contained(exec, code, namespace, timeout=timeout)
    return outcome.output, (None if outcome.ok else f"{what}: {outcome.describe_error()}")


def _load_file(path: str, timeout: float) -> tuple[dict[str, Any], str, list[str]]:
    if not os.path.exists(path):
        raise LoadError(f"no such file: {path}")
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # a target may import helpers that sit beside it
    if path.endswith(".ipynb"):
        namespace: dict[str, Any] = {"__name__": "__main__", "__file__": os.path.abspath(path)}
        exec(compile(IPYTHON_STAND_IN, "<gradcheck: IPython stand-in>", "exec", dont_inherit=True), namespace)
        printed_by_cells: list[str] = []
        warnings: list[str] = []
        for number, source in enumerate(notebook_cells(path), start=1):
            try:
                code = _compile(source, f"{path} [cell {number}]")
            except LoadError as exc:  # a cell that cannot parse is skipped, like one that raises
                warnings.append(f"cell {number} skipped: {exc}")
                continue
            printed, error = _run(code, namespace, f"cell {number} raised", timeout)
            printed_by_cells.append(printed)
            if error:
                warnings.append(error)
        return namespace, "".join(printed_by_cells), warnings
    with open(path, encoding="utf-8", errors="replace") as f:
        code = _compile(f.read(), path)
    namespace = _module_namespace(f"gradcheck_target_{next(_LOADS)}", path)
    output, error = _run(code, namespace, f"loading {os.path.basename(path)} failed", timeout)
    if error:
        raise LoadError(error)
    return namespace, output, []


def _load_module(name: str, timeout: float) -> tuple[dict[str, Any], str]:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    outcome = call_contained(importlib.import_module, name, timeout=timeout)
    if not outcome.ok:
        raise LoadError(f"cannot import {name}: {outcome.describe_error()}")
    return vars(outcome.value), outcome.output


def load_script(target: str) -> Target:
    """A script or notebook with no function to call (:mod:`gradcheck.adapters.script`): its code
    is read, not run; each call runs it once. A ``.py`` that cannot parse is a :class:`LoadError`;
    a notebook cell that cannot parse is skipped with a warning, as :func:`load_target` does."""
    from .adapters.script import ScriptRunner

    if not target.endswith((".py", ".ipynb")):
        raise LoadError(f"a script adapter runs a .py or .ipynb file, not {target!r}")
    if not os.path.exists(target):
        raise LoadError(f"no such file: {target}")
    folder = os.path.dirname(os.path.abspath(target))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # a script may import helpers that sit beside it
    notebook = target.endswith(".ipynb")
    if notebook:
        cells = [(f"{target} [cell {n}]", source) for n, source in enumerate(notebook_cells(target), start=1)]
    else:
        with open(target, encoding="utf-8", errors="replace") as f:
            cells = [(target, f.read())]
    try:
        runner = ScriptRunner(
            cells, notebook=notebook, prelude=IPYTHON_STAND_IN if notebook else "", path=os.path.abspath(target)
        )
    except SyntaxError as exc:
        text = (exc.text or "").strip()
        raise LoadError(
            f"{os.path.basename(target)}:{exc.lineno}: SyntaxError: {exc.msg}" + (f": {text}" if text else "")
        ) from None
    return Target(label=target, function_name="(script)", function=runner, warnings=list(runner.warnings))


def load_target(target: str, function: str = DEFAULT_FUNCTION, *, timeout: float = LOAD_TIMEOUT) -> Target:
    """Load ``target`` and return the function to check; :class:`LoadError` if that is impossible."""
    warnings: list[str] = []
    if target.endswith((".py", ".ipynb")) or os.sep in target or os.path.exists(target):
        namespace, output, warnings = _load_file(target, timeout)
        where = os.path.basename(target)
    else:
        module, _, attr = target.partition(":")
        function = attr or function
        namespace, output = _load_module(module, timeout)
        where = module
    if function not in namespace:
        found = sorted(n for n, v in namespace.items() if inspect.isfunction(v) and not n.startswith("_"))
        hint = f" (it defines: {', '.join(found)})" if found else ""
        detail = f"; {warnings[0]}" if warnings else ""
        raise LoadError(f"{where} defines no '{function}'{hint}{detail}")
    fn = namespace[function]
    if not callable(fn):
        raise LoadError(f"'{function}' in {where} is a {type(fn).__name__}, not a function")
    return Target(label=target, function_name=function, function=fn, output=output, warnings=warnings)
