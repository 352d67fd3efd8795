"""The initialisation seam: code that creates its own parameters gets the harness's instead.

nn-from-scratch's ``build_model(X, y, nn_hdim, num_passes=20000)`` draws ``W1 =
np.random.randn(...) / np.sqrt(...)``, ``b1 = np.zeros(...)`` and so on, trains, and returns the
model dict. The harness cannot hand it parameters, and intercepting the random draws would not
do either (the draw is scaled afterwards). So with ``init="assign"`` the function is compiled
again from its own source, in its own module's globals, with one change: each statement at the
top level of its body *before its first loop* that assigns parameter names (``keys``: ``W1``,
``b1``, ...) follows :func:`.rewrite.guarded`, so the names get the harness's parameters (copies,
in the adapter's layout) instead of the drawn ones. Everything else runs as written: the loop,
the updates, the returned value. With a constant keyword argument that makes one pass
(``kwargs=["num_passes=1"]``) the gradient is read from that one step (``grads_from="step"``,
``lr`` the code's own learning rate, ``returns=["params"]`` when the step's result is the
returned dict keyed like ``keys``).

A parameter the function never assigns before its loop (it builds a dict literal instead, or
calls a helper that creates them) cannot be replaced: that is a configuration that cannot apply
(:class:`~gradcheck.invoke.NotApplicable`), never a wrong gradient blamed on the code.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from ..invoke import NotApplicable
from .rewrite import VALUES, assigned_names, guarded

__all__ = ["with_given_parameters"]


def with_given_parameters(fn: Callable[..., Any]) -> Callable[..., Callable[..., Any]]:
    """``made(names)``: ``fn`` recompiled so that its own assignments of ``names`` before its first
    loop take the values of a keyword argument ``_gradcheck_values`` (a dict by name) instead."""
    tree, filename = _definition(fn)

    @functools.lru_cache(maxsize=8)
    def made(names: frozenset[str]) -> Callable[..., Any]:
        return _compiled(fn, tree, filename, names)

    return made


def _definition(fn: Callable[..., Any]) -> tuple[ast.FunctionDef, str]:
    """The function's own definition, parsed from its source, at its own line numbers."""
    name = getattr(fn, "__name__", repr(fn))
    try:
        lines, first = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError):
        raise NotApplicable(f"init='assign' needs the source of {name!r}, which Python cannot find") from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef):
        raise NotApplicable(f"init='assign' rewrites a plain function; {name!r} is not one")
    return definition, filename


def _compiled(
    fn: Callable[..., Any], tree: ast.FunctionDef, filename: str, names: frozenset[str]
) -> Callable[..., Any]:
    body: list[ast.stmt] = []
    assigned: set[str] = set()
    for at, statement in enumerate(tree.body):
        if isinstance(statement, (ast.For, ast.While)):
            body.extend(tree.body[at:])
            break
        body.extend(guarded(statement, set(names)))
        assigned |= assigned_names(statement) & names
    missing = sorted(names - assigned)
    if missing:
        raise NotApplicable(
            f"init='assign': {tree.name} never assigns {', '.join(missing)} before its first loop, "
            "so its own parameters cannot be replaced (adapter keys names them)"
        )
    value = ast.arg(VALUES)
    arguments = tree.args
    new_args = ast.arguments(
        posonlyargs=arguments.posonlyargs,
        args=arguments.args,
        vararg=arguments.vararg,
        kwonlyargs=[*arguments.kwonlyargs, value],
        kw_defaults=[*arguments.kw_defaults, ast.Constant(None)],
        kwarg=arguments.kwarg,
        defaults=arguments.defaults,
    )
    new = copy.copy(tree)
    new.args, new.body, new.decorator_list = new_args, body, []
    module = ast.fix_missing_locations(ast.Module([ast.copy_location(new, tree)], []))
    made: dict[str, Any] = {}
    exec(compile(module, filename, "exec", dont_inherit=True), fn.__globals__, made)
    return made[tree.name]
