"""The package's walls, read from the source: no import cycles, a core that knows no face, no private imports.

Every module under ``gradcheck/`` is parsed with :mod:`ast`; every import counts, at the top of
a module or inside a function (a function-level import hides a cycle from Python, not from a
reader), so the graph is the one a maintainer has to hold in their head.

The three walls:

- **No cycles.** A cycle means neither module can be read, tested or changed alone; Python only
  tolerates it while one side imports lazily, and the next top-level import breaks it.
- **The core knows no face.** The core computes verdicts (specification, cases, oracles,
  comparison, checks, diagnosis, adapters); the faces present them to someone (the command line,
  the pytest plugin, the grader and its sandbox). Faces import the core, never the reverse,
  neither directly nor through a module in between: a new face then needs no change to the core,
  and the core stays importable without any face's dependencies.
- **No private names across modules.** A leading underscore says "this module's business only";
  a name another module needs is public, or lives where both can reach it. Tests are held to the
  same rule for what they import from the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "gradcheck"

# The walls, by module name; a name stands for the module and, for a package, everything in it.
CORE = (
    "gradcheck.spec",
    "gradcheck.cases",
    "gradcheck.oracles",
    "gradcheck.compare",
    "gradcheck.checker",
    "gradcheck.diagnosis",
    "gradcheck.adapters",
)
FACES = ("gradcheck.cli", "gradcheck.plugin", "gradcheck.grading", "gradcheck.sandbox", "gradcheck.reports")


@dataclass(frozen=True)
class Module:
    """One module's source, as the graph needs it."""

    name: str  # dotted, e.g. gradcheck.sandbox.wire
    source: str
    is_package: bool = False  # an __init__.py: relative imports start from the module itself


@dataclass(frozen=True)
class Use:
    """``module`` uses ``name`` of ``target`` (``name`` None: the module itself), at ``line``."""

    module: str
    target: str
    name: str | None
    line: int


def package_modules(root: Path = ROOT, package: str = PACKAGE) -> list[Module]:
    """Every module of the package on disk."""
    modules = []
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules.append(Module(name, path.read_text(encoding="utf-8"), is_package))
    return modules


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module an ``from ... import`` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _typing_only(tree: ast.AST) -> set[int]:
    """The import nodes inside ``if TYPE_CHECKING:`` blocks: read by type checkers, never run."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            inside |= {
                id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))
            }
    return inside


def runtime_imports(module: Module, known: Iterable[str]) -> set[str]:
    """The known modules ``module`` imports when it runs (anywhere, lazily included), not those it
    imports only for type checkers: those make no cycle at run time, so they make no edge."""
    tree = ast.parse(module.source)
    typing_only = _typing_only(tree)
    skipped = {n.lineno for n in ast.walk(tree) if id(n) in typing_only}
    return {u.target for u in uses(module, known) if u.line not in skipped}


def uses(module: Module, known: Iterable[str]) -> list[Use]:
    """What ``module`` takes from the modules in ``known``: every import at any depth, and any
    attribute read from a name that an import bound to a known module (``wire._safe_name``)."""
    known = set(known)
    tree = ast.parse(module.source)
    found: list[Use] = []
    aliases: dict[str, str] = {}  # a local name bound to a known module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    found.append(Use(module.name, alias.name, None, node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    found.append(Use(module.name, submodule, None, node.lineno))
                    aliases[alias.asname or alias.name] = submodule
                elif source in known:
                    found.append(Use(module.name, source, alias.name, node.lineno))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append(Use(module.name, aliases[node.value.id], node.attr, node.lineno))
    return found


def import_graph(modules: Iterable[Module]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a module importing itself is no edge)."""
    modules = list(modules)
    names = {m.name for m in modules}
    graph: dict[str, set[str]] = {m.name: set() for m in modules}
    for module in modules:
        graph[module.name] |= {target for target in runtime_imports(module, names) if target != module.name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One concrete cycle (``a, b, ..., a``) per strongly connected component (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"{sorted(component)} is not strongly connected")  # pragma: no cover


def _inside(name: str, walls: Iterable[str]) -> bool:
    return any(name == wall or name.startswith(wall + ".") for wall in walls)


def core_to_face(
    graph: Mapping[str, set[str]], core: Iterable[str] = CORE, faces: Iterable[str] = FACES
) -> list[list[str]]:
    """For each core module that reaches a face, one import chain from it to the face."""
    core, faces = tuple(core), tuple(faces)
    chains = []
    for start in sorted(n for n in graph if _inside(n, core)):
        paths = {start: [start]}
        frontier = [start]
        while frontier and not any(_inside(n, faces) for n in frontier):
            nxt_frontier = []
            for node in frontier:
                for nxt in sorted(graph[node] - paths.keys()):
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
            frontier = nxt_frontier
        chains += [paths[n] for n in frontier if _inside(n, faces)][:1]
    return chains


def private_uses(modules: Iterable[Module], known: Iterable[str]) -> list[Use]:
    """Uses of another module's private names (``_name``, not ``__dunder__``), and of a private
    module from outside its own package."""
    known = set(known)
    return [u for module in modules for u in uses(module, known) if _is_private_use(u)]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_private_use(use: Use) -> bool:
    if use.target == use.module:
        return False
    if use.name is not None and _private(use.name):
        return True
    package, _, last = use.target.rpartition(".")
    return _private(last) and use.module.rpartition(".")[0] != package


def _describe(use: Use) -> str:
    return f"{use.module} line {use.line} uses {use.target}{'.' + use.name if use.name else ''}"


# -- the package --------------------------------------------------------------------------------


MODULES = package_modules()
GRAPH = import_graph(MODULES)


def test_the_package_is_parsed_whole():
    """A sanity floor, so the checks below cannot pass on an empty or half-read package."""
    assert {"gradcheck.checker", "gradcheck.adapters", "gradcheck.cli", "gradcheck.sandbox.remote"} <= GRAPH.keys()
    assert "gradcheck.checker" in GRAPH["gradcheck.api"]
    assert all(_inside(name, (PACKAGE,)) for name in GRAPH)
    for wall in (*CORE, *FACES):
        assert any(_inside(name, (wall,)) for name in GRAPH), f"{wall} names no module of the package"


def test_no_import_cycles():
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_core_imports_no_face():
    found = core_to_face(GRAPH)
    assert not found, "core -> face imports: " + "; ".join(" -> ".join(c) for c in found)


def test_no_private_names_imported_across_modules():
    tests = [
        Module(f"tests.{p.stem}", p.read_text(encoding="utf-8")) for p in sorted((ROOT / "tests").glob("test_*.py"))
    ]
    found = private_uses([*MODULES, *tests], GRAPH)
    assert not found, "private names used across modules: " + "; ".join(map(_describe, found))


# -- the checks themselves can fail -------------------------------------------------------------


SYNTHETIC = [
    Module("pkg", "from .core import solve\n", is_package=True),
    Module("pkg.core", "def solve():\n    from .helpers import step\n    return step()\n"),
    Module("pkg.helpers", "from . import core\nfrom pkg.face import show\n\ndef step():\n    return core._cache\n"),
    Module("pkg.face", "from pkg.core import solve\nfrom .helpers import _inner\n"),
    Module("pkg.sub", "", is_package=True),
    Module("pkg.sub.leaf", "from .. import core\nfrom ..helpers import step\nfrom ._impl import thing\n"),
    Module("pkg.sub._impl", "thing = 1\n"),
]


def test_a_lazy_cycle_is_found_and_named():
    graph = import_graph(SYNTHETIC)
    assert graph["pkg.core"] == {"pkg.helpers"}  # the function-level import counts
    assert graph["pkg.sub.leaf"] == {"pkg.core", "pkg.helpers", "pkg.sub._impl"}  # relative levels resolved
    assert cycles(graph) == [["pkg.core", "pkg.helpers", "pkg.core"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_core_module_reaching_a_face_is_found_through_a_module_in_between():
    graph = import_graph(SYNTHETIC)
    assert core_to_face(graph, core=("pkg.core",), faces=("pkg.face",)) == [["pkg.core", "pkg.helpers", "pkg.face"]]
    assert core_to_face(graph, core=("pkg.sub",), faces=("pkg.face",)) == [
        ["pkg.sub.leaf", "pkg.helpers", "pkg.face"]
    ]  # a package wall covers its modules
    assert core_to_face(graph, core=("pkg.face",), faces=("pkg.sub",)) == []


def test_a_private_import_or_attribute_across_modules_is_found():
    found = private_uses(SYNTHETIC, {m.name for m in SYNTHETIC})
    assert sorted(map(_describe, found)) == [
        "pkg.face line 2 uses pkg.helpers._inner",
        "pkg.helpers line 5 uses pkg.core._cache",
    ]  # pkg.sub._impl is private to pkg.sub, which may use it


@pytest.mark.parametrize(
    "source",
    ["from pkg.helpers import _inner\n", "def f():\n    from pkg import helpers\n    return helpers._inner\n"],
)
def test_each_way_of_reaching_a_private_name_counts(source):
    modules = [*SYNTHETIC, Module("pkg.other", source)]
    found = [u for u in private_uses(modules, {m.name for m in modules}) if u.module == "pkg.other"]
    assert [(u.target, u.name) for u in found] == [("pkg.helpers", "_inner")]
