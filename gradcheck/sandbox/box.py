"""One launched sandbox: the launcher process, its child, three pipes and a working directory.

The grader talks to the child over two private pipes (requests in, replies out, one JSON object
per line) and drains a third, the child's stdout and stderr together, into a capped buffer, so
a flood of prints costs time but never memory and is never parsed. Every wait has a deadline.
Killing is the launcher's job: SIGTERM makes it SIGKILL the child and everything the child
started; a launcher that does not answer is SIGKILLed with its process group, and then the
child gets SIGKILL too (its parent-death signal).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .wire import MAX_MESSAGE, WireError, parse

__all__ = [
    "LAUNCHER",
    "Box",
    "BoxConfig",
    "BoxTimeout",
    "ChildGone",
    "ProtocolError",
    "SandboxError",
    "sweep_stale_workdirs",
]

LAUNCHER = str(Path(__file__).with_name("launcher.py"))
_GRACE = 2.0  # seconds the launcher gets to clean up before it is SIGKILLed


class SandboxError(Exception):
    """The sandbox itself could not be set up: a problem of the grader or the platform."""


class ChildGone(Exception):
    """The child's reply pipe closed: it exited, crashed or was killed."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class BoxTimeout(Exception):
    """A deadline passed while waiting for the child."""


class ProtocolError(Exception):
    """The child wrote something on the reply pipe that is not a well-formed reply."""


@dataclass
class BoxConfig:
    """Everything the launcher needs; see ``launcher.py``."""

    argv: list[str]
    workdir: str
    env: dict[str, str]
    isolate: dict[str, Any]
    strict: bool = True
    hide: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    rlimits: dict[str, int | None] = field(default_factory=dict)
    output_bytes: int = 200_000


def remove_tree(path: str) -> None:
    """Delete a working folder, even one whose submission took away its own permissions."""

    def retry(function, failed, _):
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            os.chmod(failed, 0o700)
            function(failed)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)


def sweep_stale_workdirs(folder: str | None = None) -> list[str]:
    """Remove sandbox folders (``gradcheck-sbx-<pid>-...``) left by graders that are gone (a
    grader killed with SIGKILL cannot clean up; its sandboxes died with it, their folders did not)."""
    import re
    import tempfile

    def alive(pid: str) -> bool:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return False
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")  # a zombie is dead

    folder = folder or tempfile.gettempdir()
    removed = []
    for name in os.listdir(folder):
        match = re.fullmatch(r"gradcheck-sbx-(\d+)-.*", name)
        if match and not alive(match.group(1)):
            remove_tree(os.path.join(folder, name))
            removed.append(name)
    return removed


def describe_status(code: int | None) -> str:
    """The launcher's exit code (the child's status) in words."""
    if code is None:
        return "did not exit"
    if code > 128:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        return f"was killed by {name}"
    return f"exited with status {code}"


class Box:
    """Launch with :meth:`start`; talk with :meth:`send` and :meth:`receive`; end with :meth:`close`."""

    def __init__(self, config: BoxConfig) -> None:
        self.config = config
        self.process: subprocess.Popen | None = None
        self.hello: dict = {}
        self._rep = bytearray()
        self._scanned = 0  # bytes of _rep already known to hold no newline
        self._out_fd: int | None = None
        self._rep_fd: int | None = None
        self._req_fd: int | None = None
        self._kept = bytearray()
        self._taken = 0
        self.dropped = 0

    # -- life cycle ------------------------------------------------------------------------------

    def start(self, deadline: float) -> dict:
        """Spawn the launcher and wait for its report of the isolation it achieved."""
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        cfg = dict(vars(self.config), req_fd=req_r, rep_fd=rep_w, parent=os.getpid(), writable=[self.config.workdir])
        cfg["env"] = dict(self.config.env, GRADCHECK_FDS=f"{req_r},{rep_w}")  # the child's two pipes
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", LAUNCHER],
                stdin=subprocess.PIPE,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(req_r, rep_w),
                cwd=self.config.workdir,
                env=self.config.env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            for fd in (req_r, req_w, rep_r, rep_w, out_r, out_w):
                os.close(fd)
            raise SandboxError(f"cannot start the sandbox launcher: {exc}") from None
        for fd in (req_r, rep_w, out_w):
            os.close(fd)
        self._req_fd, self._rep_fd, self._out_fd = req_w, rep_r, out_r
        for fd in (req_w, rep_r, out_r):
            os.set_blocking(fd, False)
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(cfg).encode())
            self.process.stdin.close()
            message = self.receive(deadline)
        except (BrokenPipeError, ChildGone, BoxTimeout, ProtocolError) as exc:
            self.kill()
            raise SandboxError(f"the sandbox launcher failed: {exc}{self._tail()}") from None
        if "launcher" not in message:
            self.kill()
            raise SandboxError(f"the sandbox launcher failed: {message.get('launcher_error', message)}")
        self.hello = message["launcher"]
        return self.hello

    def _tail(self) -> str:
        text = bytes(self._kept[-400:]).decode(errors="replace").strip()
        return f" ({text})" if text else ""

    def kill(self) -> int | None:
        """End the child and everything it started, now. Returns the launcher's exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)  # the launcher SIGKILLs the whole tree
                self.process.wait(_GRACE)
            except subprocess.TimeoutExpired:
                pass
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait()
        self._close_fds()
        return self.process.returncode

    def close(self, wait: float = _GRACE) -> int | None:
        """Ask the child to exit (end of requests), give it ``wait`` seconds, then kill."""
        if self.process is None:
            return None
        if self._req_fd is not None:
            os.close(self._req_fd)
            self._req_fd = None
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            pass
        code = self.kill()
        remove_tree(self.config.workdir)
        return code

    def _close_fds(self) -> None:
        if self._out_fd is not None:
            self._drain_once(self._out_fd)
        for name in ("_req_fd", "_rep_fd", "_out_fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)

    def exit_status(self, wait: float = 1.0) -> str:
        """What became of the child, once its pipe has closed."""
        if self.process is None:
            return "never started"
        code: int | None
        try:
            code = self.process.wait(wait)
        except subprocess.TimeoutExpired:
            code = self.kill()
        return describe_status(code)

    # -- output ----------------------------------------------------------------------------------

    def _keep(self, data: bytes) -> None:
        room = self.config.output_bytes - len(self._kept)
        if room > 0:
            self._kept += data[:room]
        self.dropped += max(0, len(data) - max(room, 0))

    def _drain_once(self, fd: int) -> bool:
        """Read what is there; False at end of file."""
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            self._keep(data)

    def take_output(self) -> str:
        """What the child printed since the last call of this method (within the cap)."""
        if self._out_fd is not None:
            self._drain_once(self._out_fd)
        text = bytes(self._kept[self._taken :]).decode(errors="replace")
        self._taken = len(self._kept)
        return text

    @property
    def output(self) -> str:
        return bytes(self._kept).decode(errors="replace")

    # -- messages --------------------------------------------------------------------------------

    def send(self, message: dict, deadline: float) -> None:
        if self._req_fd is None:
            raise ChildGone("is not running")
        data = (json.dumps(message) + "\n").encode()
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BoxTimeout()
            readable = [fd for fd in (self._out_fd,) if fd is not None]
            r, w, _ = select.select(readable, [self._req_fd], [], left)
            if self._out_fd in r and not self._drain_once(self._out_fd):
                self._end_of_output()
            if w:
                try:
                    data = data[os.write(self._req_fd, data) :]
                except BrokenPipeError:
                    raise ChildGone(self.exit_status()) from None
                except BlockingIOError:
                    pass

    def _end_of_output(self) -> None:
        if self._out_fd is not None:
            os.close(self._out_fd)
            self._out_fd = None

    def receive(self, deadline: float) -> dict:
        """The next reply line, parsed within the wire's limits (:func:`wire.parse`); drains the
        child's output while it waits. Each byte is searched for the newline once."""
        while (end := self._rep.find(b"\n", self._scanned)) < 0:
            self._scanned = len(self._rep)
            if self._rep_fd is None:
                raise ChildGone("is not running")
            left = deadline - time.monotonic()
            if left <= 0:
                raise BoxTimeout()
            fds = [fd for fd in (self._rep_fd, self._out_fd) if fd is not None]
            r, _, _ = select.select(fds, [], [], left)
            if self._out_fd in r and not self._drain_once(self._out_fd):
                self._end_of_output()
            if self._rep_fd in r:
                try:
                    data = os.read(self._rep_fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    raise ChildGone(self.exit_status())
                self._rep += data
                if len(self._rep) > MAX_MESSAGE and self._rep.find(b"\n", self._scanned) < 0:
                    raise ProtocolError(f"a reply longer than {MAX_MESSAGE >> 20} MiB")
        line = bytes(self._rep[:end])
        del self._rep[: end + 1]
        self._scanned = 0
        try:
            return parse(line)
        except WireError as exc:
            raise ProtocolError(str(exc)) from None
