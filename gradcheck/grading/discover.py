"""Finding the submissions in a folder, and the file that holds each one's function.

A submissions folder holds ``.py``/``.ipynb`` files (one submission each) or folders (one per
student, helpers included). In a student's folder the entry is its only ``.py``/``.ipynb`` file,
else the one that defines the function, preferring the top level. Names are the file or folder
names, so ``DIR/<name>/`` in the outputs is predictable.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..defaults import DEFAULT_FUNCTION

__all__ = ["RESERVED", "Source", "discover", "find_entry", "fingerprint"]

SUFFIXES = (".py", ".ipynb")
RESERVED = {"grades.csv"}
_MAX_SCAN = 2_000  # files looked at in one student's folder


@dataclass(frozen=True)
class Source:
    """One submission: its name, the file that defines the function, and its folder if any."""

    name: str
    path: Path  # the submission as given: a file, or a student's folder
    entry: Path | None  # None: no .py/.ipynb file defines the function
    folder: Path | None = None
    note: str = ""  # how the entry was chosen when that was not obvious

    @property
    def label(self) -> str:
        return self.entry.name if self.entry else self.name


def _defines(path: Path, function: str) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf"def\s+{re.escape(function)}\s*\(", text) is not None


def find_entry(folder: Path, function: str = DEFAULT_FUNCTION) -> tuple[Path | None, str]:
    """The file in ``folder`` that holds the submission, and a note if the choice was a guess."""
    candidates = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        candidates += [Path(root) / f for f in sorted(files) if f.endswith(SUFFIXES) and not f.startswith(".")]
        if len(candidates) > _MAX_SCAN:
            break
    candidates = [c for c in candidates if c.is_file() and not c.is_symlink()]
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), ""
    defining = [c for c in candidates if _defines(c, function)] or candidates
    defining.sort(key=lambda p: (len(p.relative_to(folder).parts), p.suffix != ".ipynb", str(p)))
    note = (
        f"{len(defining)} files define {function}; graded {defining[0].relative_to(folder)}"
        if len(defining) > 1
        else ""
    )
    return defining[0], note


def discover(root: str | os.PathLike, function: str = DEFAULT_FUNCTION) -> tuple[list[Source], list[str]]:
    """The submissions in ``root`` (sorted by name), and what was ignored, one line each."""
    folder = Path(root)
    sources, ignored = [], []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith((".", "__")) or name in RESERVED:
            continue
        if path.is_dir():
            entry, note = find_entry(path, function)
            sources.append(Source(name, path, entry, path, note))
        elif path.is_file() and path.suffix in SUFFIXES:
            sources.append(Source(name, path, path))
        else:
            ignored.append(f"ignored {name}: not a .py/.ipynb file or a folder")
    return sources, ignored


def fingerprint(source: Source) -> str:
    """A hash of the submission's files (names and contents): a changed submission is regraded."""
    digest = hashlib.sha256()
    files = (
        [source.path]
        if source.folder is None
        else sorted(p for p in source.path.rglob("*") if p.is_file() and not p.is_symlink())
    )
    for path in files[:_MAX_SCAN]:
        digest.update(str(path.relative_to(source.path.parent)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:16]
