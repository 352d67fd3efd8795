"""The namespace runner: a script or notebook cells with no function, run as one training step.

The PyTorch tensor tutorial is a top-level script: it creates ``x, y, w1, w2`` with
``torch.randn``, then ``for t in range(500):`` computes ``y_pred``, ``loss`` and ``grad_w1``,
``grad_w2`` and updates the weights. makemore-style notebooks leave ``dW1`` in globals after a few
cells. There is nothing to call, so the target is the code itself: a :class:`ScriptRunner`,
called with the harness's values under the code's own names and the names to read back, runs the
code once in a fresh namespace, rewritten by :mod:`.rewrite` so the harness's values win over
the code's own creation of them, its training loop runs one iteration, and nothing after runs.

Adapter fields (the ``script`` named adapter sets the usual ones): ``script=true``;
``data`` the code's names for x and y (e.g. ``["x", "y"]``); ``keys`` the parameters' names
(patterns, ``{n}`` = layer + 1: ``["w{n}", "b{n}"]``); ``grad_keys`` the gradients' names
(``["grad_w{n}", "grad_b{n}"]``); ``loss_name`` the loss variable (``"loss"``; a float from
``.item()`` or a tensor; unset: the spec's loss stands in). The values the code gets are copies
in its own layout (``layout``, ``weights``, ``bias``, ``numpy`` as for any adapter), so its
in-place updates (``w1 -= learning_rate * grad_w1``) leave the case untouched.

In a notebook, a cell before the stop point that raises is skipped, like "Run All" in the
loader; if a gradient is then missing, that cell's exception is the call's. In a ``.py`` file any
exception is the call's. Each call runs the code afresh (imports are cached by Python).

Only the standard library is used here, so the runner can run where the code under test runs.
"""

from __future__ import annotations

import ast
import builtins
import linecache
from typing import Any

from .rewrite import ONCE, VALUES, once, plan

__all__ = ["ScriptRunner"]


class ScriptRunner:
    """The code of a script (one cell) or a notebook (its code cells, magics already turned into
    Python): called as ``runner(values, reads) -> {name: value}`` for the names it set."""

    def __init__(
        self, cells: list[tuple[str, str]], *, notebook: bool = False, prelude: str = "", path: str = ""
    ) -> None:
        self.notebook = notebook
        self.prelude = prelude
        self.path = path
        self.warnings: list[str] = []
        self.cells: list[tuple[str, ast.Module]] = []
        for number, (name, source) in enumerate(cells, start=1):
            linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
            try:
                self.cells.append((name, ast.parse(source, name)))
            except SyntaxError as exc:
                if not notebook:
                    raise
                self.warnings.append(f"cell {number} skipped: {name}:{exc.lineno}: SyntaxError: {exc.msg}")
        self._plans: dict[tuple[frozenset[str], tuple[str, ...]], list[Any]] = {}
        self.__qualname__ = "script"

    def _compiled(self, bound: frozenset[str], reads: tuple[str, ...]) -> list[Any]:
        """The rewritten cells, compiled (one plan per set of names: the depth changes them)."""
        key = (bound, reads)
        if key not in self._plans:
            trees = plan([tree for _, tree in self.cells], set(bound), list(reads))
            self._plans[key] = [
                compile(ast.fix_missing_locations(tree), name, "exec", dont_inherit=True)
                for (name, _), tree in zip(self.cells, trees, strict=False)
            ]
        return self._plans[key]

    def __call__(self, values: dict[str, Any], reads: list[str]) -> dict[str, Any]:
        """Run the code once with ``values`` under their names; the ``reads`` it set, by name
        (:class:`~gradcheck.adapters.rewrite.Unassigned` if it never assigns some gradient)."""
        codes = self._compiled(frozenset(values), tuple(reads))
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins, "__file__": self.path}
        if self.prelude:
            exec(compile(self.prelude, "<gradcheck: IPython stand-in>", "exec", dont_inherit=True), namespace)
        namespace.update(values)
        namespace[VALUES], namespace[ONCE] = dict(values), once
        first_error: BaseException | None = None
        for code in codes:
            if not self.notebook:
                exec(code, namespace)
                continue
            try:
                exec(code, namespace)
            except Exception as exc:  # noqa: BLE001 - a notebook's broken cell is skipped, as by the loader
                first_error = first_error or exc
        found = {name: namespace[name] for name in reads if name in namespace}
        if first_error is not None and len(found) < len(reads):
            raise first_error
        return found
