"""What the platform lets a sandbox do, found out once by trying, and which paths to hide.

Linux offers more than one wall, and a machine may allow any subset of them (root or not,
unprivileged user namespaces allowed or not, inside a container or not). :func:`probe` launches
the real launcher with a tiny program instead of a submission, asks for everything, and keeps
what worked *and* left the interpreter able to run; the grader then asks only for that, strictly.
:meth:`Isolation.describe` says in words what is and is not isolated, for reports and logs.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

__all__ = ["NOBODY", "Isolation", "hidden_paths", "needed_paths", "probe"]

NOBODY = 65534


@dataclass(frozen=True)
class Isolation:
    """The walls around a submission's process (beyond a fresh interpreter, limits and a timeout,
    which are always there)."""

    subreaper: bool = False  # orphans re-parent to the launcher, which kills them at the end
    user: bool = False  # a user namespace (unprivileged): the child holds no capability
    mount: bool = False  # a mount namespace: the harness's files are hidden
    readonly: bool = False  # every filesystem read-only except the working directory
    net: bool = False  # a network namespace: no network at all
    pid: bool = False  # a PID namespace: the grader is invisible; all dies with the child
    ipc: bool = False  # an IPC namespace: System V and POSIX IPC objects are private, gone at the end
    nouserns: bool = False  # the submission cannot create user namespaces (checked by the probe)
    drop_uid: int | None = None  # as root: the child runs as this uid (nobody)

    def request(self) -> dict:
        """The launcher's ``isolate`` setting."""
        return {k: v for k, v in asdict(self).items()}

    def describe(self) -> list[str]:
        """What is isolated and what is not, one line each."""
        lines = [
            "fresh interpreter (python -I -S), own session, minimal environment, temporary working directory,"
            " capped output, wall-clock timeout, CPU/memory/file-size rlimits, no POSIX message queues"
        ]
        facts = [
            (
                self.pid,
                "PID namespace: the submission cannot see or signal other processes, and every process it starts"
                " dies with it",
                "no PID namespace: the submission can see other processes; detached processes are killed through"
                " the subreaper",
            ),
            (self.net, "network namespace: no network", "network NOT isolated"),
            (
                self.ipc,
                "IPC namespace: System V shared memory, queues and semaphores and POSIX message queues are private"
                " and die with the submission",
                "IPC NOT isolated: System V and POSIX message-queue objects the submission creates are visible to"
                " the user's other processes while it runs (the launcher removes them when it ends)",
            ),
            (
                self.nouserns,
                "no nested user namespaces: unshare(CLONE_NEWUSER) fails inside",
                "nested user namespaces NOT blocked",
            ),
            (
                self.mount,
                "mount namespace: harness, reference, rubric, submissions, outputs, home and temp folders hidden",
                "harness files NOT hidden (only left off sys.path and refused by an import hook)",
            ),
            (
                self.readonly,
                "filesystem read-only except the working directory",
                "filesystem writable wherever the user may write",
            ),
            (
                self.drop_uid is not None or self.user,
                "runs without privileges "
                + (f"(uid {self.drop_uid})" if self.drop_uid is not None else "(user namespace, no capabilities)"),
                "runs as the grader's own user",
            ),
        ]
        if not self.pid:
            facts.append(
                (
                    self.subreaper,
                    "child subreaper: orphaned processes are collected and killed",
                    "no subreaper: only the process group is killed",
                )
            )
        return lines + [good if ok else bad for ok, good, bad in facts]

    def as_dict(self) -> dict:
        return asdict(self)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _minimal(paths: Iterable[str]) -> list[str]:
    """The paths, without any that lies inside another."""
    unique = sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)}, key=len)
    kept: list[str] = []
    for p in unique:
        if not any(_within(p, k) for k in kept):
            kept.append(p)
    return kept


@functools.cache
def site_directories() -> tuple[str, ...]:
    """The directories the child must put on ``sys.path`` to import torch (and numpy)."""
    dirs = []
    for name in ("torch", "numpy"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            dirs.append(str(Path(spec.origin).parent.parent))
    return tuple(dict.fromkeys(dirs))


@functools.cache
def needed_paths() -> tuple[str, ...]:
    """What the child's interpreter must reach: Python itself, its standard library, torch."""
    paths = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(sys.executable),
        os.path.dirname(os.path.realpath(sys.executable)),
    ]
    paths += [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")]
    return tuple(_minimal([*paths, *site_directories()]))


def _harness_paths() -> list[str]:
    import gradcheck

    package = Path(gradcheck.__file__).resolve().parent
    paths = [str(package)]
    spec = importlib.util.find_spec("reference_impl")
    if spec and spec.origin:
        paths.append(str(Path(spec.origin).resolve().parent))
    root = package.parent
    if (root / "pyproject.toml").exists() or (root / ".git").exists():
        paths.append(str(root))  # a source checkout: tests, corpus, everything
    return paths


def hidden_paths(extra: Iterable[str | os.PathLike] = ()) -> list[str]:
    """Everything a submission has no business reading: the harness, its checkout, the current
    folder, home, shared temporary folders, plus ``extra`` (submissions, outputs, rubric, ...)."""
    paths = [
        *_harness_paths(),
        os.getcwd(),
        os.path.expanduser("~"),
        tempfile.gettempdir(),
        "/tmp",
        "/dev/shm",
        "/var/tmp",
    ]
    paths += [os.fspath(p) for p in extra]
    return sorted({os.path.realpath(p) for p in paths if p and p != "/" and os.path.lexists(p)})


_PROBE = r"""
import json, os, sys
cfg = json.loads(sys.argv[1])
report = {
    "readable": all(os.access(p, os.R_OK | os.X_OK) for p in cfg["must_reach"]),
    "exposed": [p for p in cfg["must_hide"] if os.path.exists(p)],
    "uid": os.getuid(),
}
def nested_userns():
    import ctypes
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0
report["nested_userns"] = nested_userns()
os.write(int(os.environ["GRADCHECK_FDS"].split(",")[1]), (json.dumps(report) + "\n").encode())
"""


def _try(isolation: Isolation, hide: list[str]) -> Isolation | None:
    """Launch the probe with ``isolation``: what was achieved, or None if Python could not run
    (or the harness stayed visible) that way."""
    from .box import Box, BoxConfig, BoxTimeout, ChildGone, ProtocolError, SandboxError

    workdir = tempfile.mkdtemp(prefix=f"gradcheck-sbx-{os.getpid()}-probe-")
    if isolation.drop_uid is not None:
        os.chown(workdir, isolation.drop_uid, isolation.drop_uid)
    keep = list(needed_paths())
    must_hide = [os.path.join(_harness_paths()[0], "__init__.py")]
    argv = [sys.executable, "-I", "-S", "-B", "-c", _PROBE, json.dumps({"must_reach": keep, "must_hide": must_hide})]
    box = Box(
        BoxConfig(
            argv=argv,
            workdir=workdir,
            env={"PATH": "/usr/bin:/bin"},
            isolate=isolation.request(),
            strict=False,
            hide=hide,
            keep=keep,
        )
    )
    try:
        achieved = box.start(time.monotonic() + 30).get("achieved", {})
        report = box.receive(time.monotonic() + 30)
    except (SandboxError, ChildGone, BoxTimeout, ProtocolError):
        return None
    finally:
        box.close()
        shutil.rmtree(workdir, ignore_errors=True)
    if not report.get("readable") or (achieved.get("mount") and report.get("exposed")):
        return None
    return Isolation(
        subreaper=bool(achieved.get("subreaper")),
        user=bool(achieved.get("user")),
        mount=bool(achieved.get("mount")),
        readonly=bool(achieved.get("readonly")),
        net=bool(achieved.get("net")),
        pid=bool(achieved.get("pid")),
        ipc=bool(achieved.get("ipc")),
        nouserns=bool(achieved.get("nouserns")) and report.get("nested_userns") is False,
        drop_uid=isolation.drop_uid if achieved.get("drop_uid") and report.get("uid") == isolation.drop_uid else None,
    )


@functools.cache
def probe() -> Isolation:
    """The strongest isolation this machine allows (cached for the process). Set
    ``GRADCHECK_SANDBOX=basic`` to ask for none of the namespaces (for tests and debugging)."""
    if os.environ.get("GRADCHECK_SANDBOX") == "basic" or not sys.platform.startswith("linux"):
        return Isolation(subreaper=sys.platform.startswith("linux"))
    root = os.geteuid() == 0
    full = Isolation(
        subreaper=True,
        user=not root,
        mount=True,
        readonly=True,
        net=True,
        pid=True,
        ipc=True,
        nouserns=True,
        drop_uid=NOBODY if root else None,
    )
    hide = hidden_paths()
    for attempt in (
        full,
        replace(full, nouserns=False),
        replace(full, drop_uid=None),
        replace(full, mount=False, readonly=False, drop_uid=None),
        replace(full, user=False, mount=False, readonly=False, drop_uid=None),
    ):
        achieved = _try(attempt, hide)
        if achieved is not None:
            return achieved
    return Isolation(subreaper=True)
