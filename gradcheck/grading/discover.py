"""Finding the submissions in a folder, and the file that holds each one's function.

A submissions folder holds ``.py``/``.ipynb`` files (one submission each) or folders (one per
student, helpers included). In a student's folder the entry is its only ``.py``/``.ipynb`` file,
else the one that defines the function, preferring the top level. Names are the file or folder
names, so ``DIR/<name>/`` in the outputs is predictable.

The folder is input too, and nothing in it is followed or skipped silently: a top-level symbolic
link is refused (never followed: it could point at a root-only file or at the reference), and so
is a name the output folder needs for itself (:data:`RESERVED`); both get a row saying so.
Hidden entries (``.name``, ``__name``) and other files are ignored with a line each. Names are
kept exactly (an undecodable byte stays a surrogate-escaped character, so the output folder's
name is the same bytes); they are escaped wherever they are shown
(:func:`~gradcheck.grading.escape.safe_name`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..defaults import DEFAULT_FUNCTION
from .escape import safe_name

__all__ = ["RESERVED", "Source", "discover", "find_entry", "fingerprint"]

SUFFIXES = (".py", ".ipynb")
RESERVED = frozenset({"grades.csv", ".gradcheck.lock", ".gradcheck.key"})  # names the output folder uses
_MAX_SCAN = 2_000  # files looked at in one student's folder
_DEFINES_BYTES = 1 << 20  # a file is searched for the function's definition only up to this size
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """One submission: its name, the file that defines the function, and its folder if any."""

    name: str
    path: Path  # the submission as given: a file, or a student's folder
    entry: Path | None  # None: no .py/.ipynb file defines the function
    folder: Path | None = None
    note: str = ""  # how the entry was chosen when that was not obvious
    refused: str = ""  # why it is not graded at all (a link, a reserved name); "" if it is

    @property
    def label(self) -> str:
        """The entry's (or the submission's) name, escaped for display."""
        return safe_name(self.entry.name if self.entry else self.name)

    @property
    def display(self) -> str:
        """The submission's name, escaped for display (logs, progress, grades.csv)."""
        return safe_name(self.name)


def _defines(path: Path, function: str) -> bool:
    try:
        with path.open("rb") as f:
            text = f.read(_DEFINES_BYTES).decode("utf-8", errors="replace")
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
    sources: list[Source] = []
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        try:
            found = _one(path, function)
        except (OSError, ValueError) as exc:  # unreadable, vanished, a name the OS rejects
            found = Source(path.name, path, None, refused=f"could not be read ({type(exc).__name__}: {exc})")
        if isinstance(found, Source):
            sources.append(found)
        else:
            ignored.append(found)
    return sources, ignored


def _one(path: Path, function: str) -> Source | str:
    """The submission at ``path`` (perhaps refused), or the line saying why it is ignored."""
    name = path.name
    if path.is_symlink():
        return Source(name, path, None, refused="a symbolic link: refused, never followed (submit the file itself)")
    if name in RESERVED:
        return Source(name, path, None, refused="the name is reserved for the grader's own output: rename it")
    if name.startswith((".", "__")):
        return f"ignored {safe_name(name)}: hidden (a name starting with '.' or '__')"
    if path.is_dir():
        entry, note = find_entry(path, function)
        return Source(name, path, entry, path, note)
    if path.is_file() and path.suffix in SUFFIXES:
        return Source(name, path, path)
    return f"ignored {safe_name(name)}: not a .py/.ipynb file or a folder"


def fingerprint(source: Source) -> str:
    """A hash of the submission's files (names and contents): a changed submission is regraded."""
    digest = hashlib.sha256()
    files = (
        [source.path]
        if source.folder is None
        else sorted(p for p in source.path.rglob("*") if p.is_file() and not p.is_symlink())
    )
    for path in files[:_MAX_SCAN]:
        digest.update(os.fsencode(path.relative_to(source.path.parent)) + b"\0")
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:16]
