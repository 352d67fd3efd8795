"""What the grader itself reads of a submission, bounded: size and cell caps, and parsing in a
child process with a time limit.

Before a submission's sandbox starts, the grader reads its files twice: to choose the entry and
fingerprint it, and to run the static policies (``ast.parse``) on its code. Both are work a
hostile file can make unbounded (a 200 MB ``.py``, a notebook of 100,000 cells, a source that
takes minutes to parse in C, where no signal interrupts it). So:

- an entry file larger than :attr:`Caps.max_file_mb`, or a notebook with more than
  :attr:`Caps.max_cells` cells (counted with a plain JSON read, before any notebook library sees
  it), or one the notebook library cannot read within :attr:`Caps.parse_seconds` (a time limit
  by ``SIGALRM``: grading runs in each worker's main thread), is refused with one line: it earns
  0 and is never loaded;
- the policies parse the code in a separate, plain interpreter (no torch, no harness state)
  with a memory limit, killed after :attr:`Caps.parse_seconds`: then the policies say "not
  inspected", and grading goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..invoke import call_contained
from ..loading import notebook_cells
from . import policies as policies_module
from .discover import Source
from .policies import Finding

__all__ = ["DEFAULT_CAPS", "Caps", "inspect_policies", "vet"]

_MIB = 1 << 20
_CHILD_MEMORY = 2048 * _MIB  # address space of the parsing child
# Runs in a plain interpreter: loads policies.py by path (it imports only the standard library).
_CHILD = """
import importlib.util, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
spec = importlib.util.spec_from_file_location("gradcheck_policies", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
request = json.load(sys.stdin)
rules = [type("Rule", (), rule) for rule in request["policies"]]
found = module.check_policies(rules, [tuple(s) for s in request["sources"]])
json.dump([[f.violated, f.evidence, f.note] for f in found], sys.stdout)
"""


@dataclass(frozen=True)
class Caps:
    """How much of a submission the grader reads itself (``--max-file-mb``, ``--max-cells``)."""

    max_file_mb: float = 10.0  # the entry file, .py or .ipynb
    max_cells: int = 1000  # cells of a notebook entry
    parse_seconds: float = 20.0  # the static policies' parsing, all files together


DEFAULT_CAPS = Caps()


def _cell_count(path: Path) -> int | None:
    """The number of cells of a notebook, from a plain JSON read (None: not a notebook)."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError, MemoryError):
        return None
    cells = data.get("cells") if isinstance(data, dict) else None
    return len(cells) if isinstance(cells, list) else None


def vet(source: Source, caps: Caps) -> str | None:
    """Why ``source`` is refused before anything parses it, or None when it may be graded."""
    entry = source.entry
    if entry is None:
        return None
    size = entry.stat().st_size
    if size > caps.max_file_mb * _MIB:
        return f"{entry.name} is {size / _MIB:.1f} MB, over the limit of {caps.max_file_mb:g} MB (--max-file-mb)"
    if entry.suffix == ".ipynb":
        cells = _cell_count(entry)
        if cells is not None and cells > caps.max_cells:
            return f"{entry.name} has {cells} cells, over the limit of {caps.max_cells} (--max-cells)"
        if call_contained(notebook_cells, str(entry), timeout=caps.parse_seconds).timed_out:
            return f"{entry.name} could not be read as a notebook within {caps.parse_seconds:g} s"
    return None


def inspect_policies(policies: Sequence, sources: list[tuple[str, str]], seconds: float) -> list[Finding]:
    """:func:`~gradcheck.grading.policies.check_policies`, run in a child process that is killed
    after ``seconds``; a policy that could not be inspected in time is kept, with a note."""
    if not policies:
        return []
    request = json.dumps(
        {
            "policies": [{"rule": p.rule, "modules": list(p.modules)} for p in policies],
            "sources": [[name, text] for name, text in sources],
        },
        ensure_ascii=True,
    )
    command = [sys.executable, "-I", "-S", "-B", "-c", _CHILD.format(memory=_CHILD_MEMORY)]
    try:
        done = subprocess.run(
            [*command, os.path.abspath(policies_module.__file__)],
            input=request,
            capture_output=True,
            text=True,
            timeout=seconds,
            check=True,
        )
        found = json.loads(done.stdout)
        return [Finding(bool(v), [str(e) for e in evidence], str(note)) for v, evidence, note in found]
    except subprocess.TimeoutExpired:
        why = f"not inspected: parsing the code took longer than {seconds:g} s"
    except (subprocess.CalledProcessError, ValueError, TypeError):
        why = "not inspected: the code could not be parsed (too large or too deeply nested)"
    return [Finding(False, [], why) for _ in policies]
