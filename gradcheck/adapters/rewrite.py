"""The two source rewrites that let the harness's values win over the code's own: by :mod:`ast`.

Code with no function to call (a script, notebook cells) and code that creates its own
parameters (``W1 = np.random.randn(...)`` inside ``build_model``) both assign the names the
harness wants to supply. Running them unchanged would replace the harness's x, y and parameters
by the code's own random ones, so the harness rewrites the statements that would do it:

**Assignments to bound names.** A statement at the top level of the rewritten block (not nested
in an ``if``, ``with``, a function or a class) that assigns any bound name (``x = torch.randn(N,
D_in)``, ``w1 = ...``, ``X, y = load()``) is changed: when every name it assigns is bound, its
right-hand side does not run and the names get the harness's values; when it also assigns other
names, it runs and the bound names are then given the harness's values again. Augmented assignments (``w1 -= lr *
grad_w1``), subscripts and attributes (``w1[0] = 0``) are updates, not creation: they run.

**One loop body** (scripts only, :func:`plan`). The *training loop* is the first top-level ``for``
or ``while`` statement whose body assigns a gradient name (anywhere inside it, except in nested
functions and classes). It runs exactly one iteration (``break`` and ``continue`` keep their
meaning; a ``while`` runs its body once if its condition holds), with the assignment rule applied
to the top level of its body as well (so a minibatch drawn there, ``Xb, Yb = Xtr[ix], Ytr[ix]``,
leaves the harness's ``Xb``, ``Yb`` in place), and nothing after it runs. Without such a loop the
code runs up to and including the first top-level statement after which every gradient name has
been assigned (makemore-style cells that leave ``dW1`` in globals), and nothing after it. An
``if __name__ == "__main__":`` block counts as top level. A gradient name the code never
assigns at all is a configuration that cannot apply (:class:`Unassigned`).

This module uses only the standard library, so it can run wherever the code under test runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

__all__ = ["ONCE", "VALUES", "Unassigned", "assigned_names", "guarded", "once", "plan"]

VALUES = "_gradcheck_values"  # the name under which the rewritten code finds the harness's values
ONCE = "_gradcheck_once"  # the name of the iterator that yields a loop's first item only


class Unassigned(Exception):
    """The code never assigns a gradient name the adapter expects: ``names`` lists them."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def once(items: Iterable[object]) -> Iterator[object]:
    """A loop's first item only: the body runs one iteration."""
    for item in items:
        yield item
        return


def _target_names(target: ast.expr) -> list[str]:
    """The plain names a target rebinds (``x``, ``x, y``, ``*rest``); not subscripts or attributes."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _is_plain(target: ast.expr) -> bool:
    """A target made of names only (so dropping the statement loses nothing else)."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_is_plain(t) for t in target.elts)
    return isinstance(target, ast.Starred) and _is_plain(target.value)


def _restore(names: list[str], where: ast.stmt) -> list[ast.stmt]:
    """``name = _gradcheck_values["name"]`` for each name, at ``where``'s line."""
    statements: list[ast.stmt] = []
    for name in names:
        value = ast.Subscript(ast.Name(VALUES, ast.Load()), ast.Constant(name), ast.Load())
        statements.append(ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], value), where))
    return statements


def guarded(statement: ast.stmt, bound: set[str]) -> list[ast.stmt]:
    """One top-level statement under the assignment rule (see the module's docstring)."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return [statement]
    names = [n for t in targets for n in _target_names(t)]
    hit = [n for n in dict.fromkeys(names) if n in bound]
    if not hit:
        return [statement]
    if all(_is_plain(t) for t in targets) and set(names) <= bound:
        return _restore(hit, statement)
    return [statement, *_restore(hit, statement)]


class _Assigned(ast.NodeVisitor):
    """Names stored anywhere in a statement, except inside nested functions, lambdas and classes."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        return None

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]
    visit_Lambda = visit_FunctionDef  # type: ignore[assignment]


def assigned_names(statement: ast.stmt) -> set[str]:
    """Every name ``statement`` may assign in its own scope."""
    visitor = _Assigned()
    visitor.visit(statement)
    return visitor.names


def _is_main_guard(statement: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (with no ``else``): its body is top level for a script."""
    if not isinstance(statement, ast.If) or statement.orelse:
        return False
    test = statement.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in body:
        if _is_main_guard(statement):
            yield from _top_level(statement.body)  # type: ignore[attr-defined]
        else:
            yield statement


def _once(loop: ast.For | ast.While, bound: set[str]) -> ast.stmt:
    """The loop as one iteration, its body's top level under the assignment rule."""
    body = [s for statement in loop.body for s in guarded(statement, bound)]
    if isinstance(loop, ast.While):
        stop = ast.If(ast.UnaryOp(ast.Not(), loop.test), [ast.Break()], [])
        first: ast.expr = ast.Tuple([ast.Constant(0)], ast.Load())
        new = ast.For(ast.Name("_gradcheck_pass", ast.Store()), first, [ast.copy_location(stop, loop), *body], [])
    else:
        restored = _restore([n for n in _target_names(loop.target) if n in bound], loop)
        call = ast.Call(ast.Name(ONCE, ast.Load()), [loop.iter], [])
        new = ast.For(loop.target, call, [*restored, *body], loop.orelse)
    return ast.copy_location(new, loop)


def plan(cells: list[ast.Module], bound: set[str], grads: list[str]) -> list[ast.Module]:
    """The cells as they run: the assignment rule at top level, the training loop once, nothing
    after the stop point; :class:`Unassigned` names the gradients no statement assigns."""
    wanted, seen = set(grads), set()
    out: list[ast.Module] = []
    for cell in cells:
        body: list[ast.stmt] = []
        for statement in _top_level(cell.body):
            names = assigned_names(statement)
            if isinstance(statement, (ast.For, ast.While)) and names & wanted:
                body.append(_once(statement, bound))
                out.append(ast.Module(body, []))
                return out
            body.extend(guarded(statement, bound))
            seen |= names
            if wanted <= seen:
                out.append(ast.Module(body, []))
                return out
        out.append(ast.Module(body, []))
    raise Unassigned(sorted(wanted - seen))
