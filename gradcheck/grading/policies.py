"""Policies: static rules on a submission's source, read with :mod:`ast` (never executed).

``forbid-autograd`` looks for ``.backward``, ``torch.autograd`` (``grad``, ``functional``, ...)
and ``torch.func``/``functorch``, including through ``getattr``/``__import__`` with a literal
name. ``forbid-imports`` looks for imports of the named modules. Static inspection is a hint,
not a wall: code can always hide a name from it (the sandbox is the wall; these modules are not
importable there anyway). So findings are reported as policies, and cost points only if the
rubric says so.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Finding", "check_policies", "find_autograd", "find_imports"]

_AUTOGRAD_WORDS = ("autograd", "functorch", "torch.func")
_DYNAMIC = ("getattr", "__import__", "import_module")


@dataclass
class Finding:
    """Whether a policy is broken, and where (``file:line: what``)."""

    violated: bool
    evidence: list[str] = field(default_factory=list)
    note: str = ""


def _dotted(node: ast.AST) -> str:
    """``torch.autograd.grad`` for an attribute chain, '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _literals(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _call_name(call: ast.Call) -> str:
    return _dotted(call.func).rsplit(".", 1)[-1]


def find_autograd(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every use of autograd the source shows."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "backward":
            found.append((node.lineno, ".backward"))
        elif isinstance(node, ast.Attribute) and node.attr in ("autograd", "func") and _dotted(node.value) == "torch":
            found.append((node.lineno, f"torch.{node.attr}"))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"import {a.name}")
                for a in node.names
                if a.name.startswith(("torch.autograd", "torch.func", "functorch"))
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith(("torch.autograd", "torch.func", "functorch")) or (
                module == "torch" and any(a.name in ("autograd", "func") for a in node.names)
            ):
                found.append((node.lineno, f"from {module} import {', '.join(a.name for a in node.names)}"))
        elif isinstance(node, ast.Call) and _call_name(node) in _DYNAMIC:
            for text in _literals(node):
                if text == "backward" or any(word in text for word in _AUTOGRAD_WORDS) or text == "func":
                    found.append((node.lineno, f"{_call_name(node)}(..., {text!r})"))
    return found


def find_imports(tree: ast.AST, modules: Sequence[str]) -> list[tuple[int, str]]:
    """(line, what) for every import of one of ``modules`` (or a submodule)."""
    roots = set(modules)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] in roots]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in roots:
            found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call) and _call_name(node) in ("__import__", "import_module"):
            found += [
                (node.lineno, f"{_call_name(node)}({text!r})")
                for text in _literals(node)
                if text.split(".")[0] in roots
            ]
    return found


def check_policies(policies: Sequence, sources: Iterable[tuple[str, str]]) -> list[Finding]:
    """One :class:`Finding` per policy, over every ``(name, source)`` of the submission."""
    trees, unreadable = [], []
    for name, text in sources:
        try:
            trees.append((name, ast.parse(text, filename=name)))
        except (SyntaxError, ValueError):
            unreadable.append(name)
    findings = []
    for policy in policies:
        evidence = []
        for name, tree in trees:
            hits = find_autograd(tree) if policy.rule == "forbid-autograd" else find_imports(tree, policy.modules)
            evidence += [f"{name}:{line}: {what}" for line, what in sorted(set(hits))]
        note = f"not inspected (syntax error): {', '.join(unreadable)}" if unreadable else ""
        findings.append(Finding(bool(evidence), evidence[:20], note))
    return findings
