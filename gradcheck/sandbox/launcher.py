"""Start one sandboxed interpreter: namespaces, limits, then exec. Run as a script, never imported.

gradcheck runs ``python -I -S launcher.py`` (standard library only, nothing of gradcheck is
importable here) as the parent of each submission's interpreter::

    grader --spawn--> launcher   own session; gets SIGTERM when the grader dies; child subreaper
                         `--fork--> child: limits, exec python -I -S runner.py
                                    (PID 1 of a new PID namespace where the platform allows)

The configuration arrives as one JSON object on stdin. Each isolation step is tried in order
and recorded; with ``strict`` a step that fails aborts the launch (the grader probes once and
then asks only for what works). The launcher writes one JSON line ``{"launcher": ...}`` on the
reply pipe before the child starts, so the grader knows what was achieved.

Cleaning up is the launcher's main job: when the child exits, or the grader asks (SIGTERM), or
the grader dies, everything the child started is killed. In a PID namespace that is automatic
(the namespace dies with its first process); without one, orphans re-parent to the launcher
(PR_SET_CHILD_SUBREAPER), which kills them by scanning /proc until none is left.
"""

import ctypes
import json
import os
import re
import resource
import signal
import sys

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
IPC_RMID = 0
MAX_USER_NAMESPACES = "/proc/sys/user/max_user_namespaces"  # per user namespace: 0 forbids nested ones
SYSV_IPC = {"shm": ("shmctl", "shmid"), "msg": ("msgctl", "msqid"), "sem": ("semctl", "semid")}
MQUEUE = "/dev/mqueue"  # where POSIX message queues are listed, if mounted
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
_MOUNT_FLAGS = {
    "ro": MS_RDONLY,
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
# Pseudo filesystems keep their flags: making /dev read-only would break /dev/null.
_KEEP_WRITABLE = (
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "fusectl",
    "configfs",
    "pstore",
    "hugetlbfs",
    "binfmt_misc",
    "autofs",
)

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # not a C runtime we can reach: no step below is possible
    _libc = None


class StepFailed(Exception):
    """An isolation step the platform refused."""


def _call(name, *args):
    function = getattr(_libc, name, None) if _libc is not None else None
    if function is None:
        raise StepFailed(f"{name}() is not available")
    if function(*args) != 0:
        error = ctypes.get_errno()
        raise StepFailed(f"{name}: {os.strerror(error)}")


def prctl(option, value):
    _call("prctl", ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def unshare(flags):
    _call("unshare", ctypes.c_int(flags))


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


# -- the isolation steps (each raises StepFailed) ---------------------------------------------


def enter_user_namespace():
    """A user namespace mapping our own uid to itself: the child keeps our files but, after exec
    as a non-root uid, holds no capability, so it cannot undo the mounts below."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        raise StepFailed(f"uid_map: {exc.strerror}") from None


def _mounts():
    """(mount point, fstype, per-mount options) from /proc/self/mountinfo."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            dash = fields.index("-")
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040 is a space
            yield point, fields[dash + 1], fields[5].split(",")


def make_readonly(writable):
    """Every real filesystem read-only in this mount namespace, except the writable paths
    (pseudo filesystems keep their flags: a read-only /dev would break /dev/null)."""
    failures = 0
    for point, fstype, options in list(_mounts()):
        if (
            fstype in _KEEP_WRITABLE
            or point.startswith(("/proc", "/sys", "/dev"))
            or "ro" in options
            or point in writable
        ):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options:
            flags |= _MOUNT_FLAGS.get(option, 0)
        try:
            mount(None, point, None, flags)
        except StepFailed:
            failures += 1
    if failures:
        raise StepFailed(f"{failures} mount(s) could not be made read-only")


def _is_within(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hide_paths(hide, keep, writable):
    """Cover each path of ``hide`` with an empty tmpfs (a file: with /dev/null), then bind back
    the paths of ``keep`` (read-only) that lay beneath, at their own paths, and every path of
    ``writable`` (a mount of its own, which :func:`make_readonly` leaves writable)."""
    fds = {}
    for path in [*keep, *writable]:
        if path in writable or any(_is_within(path, h) for h in hide if os.path.isdir(h)):
            fds[path] = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    hidden = []
    for path in sorted(hide, key=len):
        if any(_is_within(path, h) for h in hidden) or not os.path.lexists(path) or os.path.islink(path):
            continue
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755")
        else:
            mount("/dev/null", path, None, MS_BIND)
        hidden.append(path)
    for path, fd in sorted(fds.items(), key=lambda item: len(item[0])):
        os.makedirs(path, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if path in keep:
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    # Paths to hide that live inside what was just bound back (a package inside site-packages).
    for path in hide:
        if (
            path not in hidden
            and not any(_is_within(path, h) for h in hidden)
            and os.path.lexists(path)
            and not os.path.islink(path)
        ):
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755")
            else:
                mount("/dev/null", path, None, MS_BIND)


def forbid_user_namespaces():
    """No user namespace may be created below this one: the kernel's limit, per user namespace,
    set to 0 where we hold CAP_SYS_RESOURCE (in a user namespace of our own, never the host's)."""
    _write(MAX_USER_NAMESPACES, "0")


def enter_mapped_user_namespace(uid, ready_fd, mapped_fd):
    """As root, in the child: a user namespace whose only user is ``uid`` (mapped to itself by
    the launcher, which holds CAP_SETUID outside), with nested user namespaces forbidden. The
    child then becomes ``uid`` there: no capability anywhere, and none to undo the limit."""
    unshare(CLONE_NEWUSER)
    os.write(ready_fd, b"u")
    if os.read(mapped_fd, 1) != b"m":
        raise StepFailed("the launcher could not write the uid map")
    forbid_user_namespaces()


def map_user_namespace(child, uid, ready_fd, mapped_fd):
    """The launcher's half of :func:`enter_mapped_user_namespace`: ``uid`` to itself."""
    if os.read(ready_fd, 1) != b"u":
        return  # the child failed before unsharing; it reports why
    try:
        _write(f"/proc/{child}/uid_map", f"{uid} {uid} 1")
        _write(f"/proc/{child}/gid_map", f"{uid} {uid} 1")
        os.write(mapped_fd, b"m")
    except OSError:
        os.write(mapped_fd, b"x")


# -- System V IPC and POSIX message queues without an IPC namespace ---------------------------


def ipc_objects(uid):
    """The System V objects (kind, id) and POSIX message queues (names) that ``uid`` created."""
    found = set()
    for kind, (_, id_column) in SYSV_IPC.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = [line.split() for line in f]
        except (OSError, ValueError):
            continue
        for row in rows:
            fields = dict(zip(header, row, strict=False))
            if fields.get("cuid") == str(uid) and id_column in fields:
                found.add((kind, int(fields[id_column])))
    try:
        found |= {("mqueue", name) for name in os.listdir(MQUEUE) if os.stat(f"{MQUEUE}/{name}").st_uid == uid}
    except OSError:
        pass
    return found


def remove_ipc_objects(objects):
    """IPC_RMID each System V object, mq_unlink each queue (those already gone are skipped)."""
    for kind, key in objects:
        try:
            if kind == "mqueue":
                _call("mq_unlink", f"/{key}".encode())
            elif kind == "sem":
                _call("semctl", ctypes.c_int(key), ctypes.c_int(0), ctypes.c_int(IPC_RMID), ctypes.c_int(0))
            else:
                _call(SYSV_IPC[kind][0], ctypes.c_int(key), ctypes.c_int(IPC_RMID), ctypes.c_void_p(None))
        except StepFailed:
            pass


def enter_mount_namespace(cfg):
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    hide_paths(cfg.get("hide", []), cfg.get("keep", []), cfg.get("writable", []))


def isolate(cfg):
    """Every requested step, in order; returns what was achieved and why the rest was not."""
    wanted, strict = cfg["isolate"], cfg.get("strict", False)
    achieved, errors = {}, {}

    def step(name, action, possible=True):
        if not wanted.get(name) or not possible:
            achieved[name] = False
            return
        try:
            action()
            achieved[name] = True
        except (StepFailed, OSError) as exc:
            if strict:
                raise StepFailed(f"{name}: {exc}") from None
            achieved[name], errors[name] = False, str(exc)

    step("subreaper", lambda: prctl(PR_SET_CHILD_SUBREAPER, 1))
    step("user", enter_user_namespace)
    step("ipc", lambda: unshare(CLONE_NEWIPC))
    step("mount", lambda: enter_mount_namespace(cfg))
    step("readonly", lambda: make_readonly(cfg.get("writable", [])), possible=achieved["mount"])
    step("net", lambda: unshare(CLONE_NEWNET))
    step("pid", lambda: unshare(CLONE_NEWPID))
    # Nested user namespaces: here when we own one; as root, the child makes its own (run_child).
    step("nouserns", forbid_user_namespaces, possible=achieved["user"])
    return achieved, errors


# -- the child ----------------------------------------------------------------------------------


def set_limits(limits):
    names = {
        "cpu": resource.RLIMIT_CPU,
        "data": resource.RLIMIT_DATA,
        "as": resource.RLIMIT_AS,
        "fsize": resource.RLIMIT_FSIZE,
        "core": resource.RLIMIT_CORE,
        "nofile": resource.RLIMIT_NOFILE,
        "nproc": resource.RLIMIT_NPROC,
        "msgqueue": resource.RLIMIT_MSGQUEUE,
    }
    for name, value in limits.items():
        if value is not None and name in names:
            resource.setrlimit(names[name], (int(value), int(value)))


def run_child(cfg, achieved, rep_fd, handshake):
    """In the forked child: the last steps, then exec the runner. Never returns. ``handshake``
    (two pipe ends) is set where the child makes its own user namespace (as root)."""
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if achieved.get("pid") and achieved.get("mount"):
            try:  # a /proc that shows only this namespace's processes
                unshare(CLONE_NEWNS)
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            except StepFailed:
                pass
        set_limits(cfg.get("rlimits", {}))
        uid = cfg["isolate"].get("drop_uid")
        if handshake is not None:
            try:
                enter_mapped_user_namespace(uid, *handshake)
            except (StepFailed, OSError):
                if cfg.get("strict"):
                    raise
        if uid is not None and achieved.get("drop_uid"):
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        try:
            prctl(PR_SET_NO_NEW_PRIVS, 1)
        except StepFailed:
            pass
        os.chdir(cfg["workdir"])
        os.umask(0o077)
        os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
    except BaseException as exc:  # noqa: BLE001 - report, then die without running Python cleanup
        try:
            os.write(rep_fd, (json.dumps({"launcher_error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
        finally:
            os._exit(127)


# -- cleaning up --------------------------------------------------------------------------------


def _children(me):
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            kids.append(int(name))
    return kids


def kill_everything(child):
    """SIGKILL the child and, as long as any is left, every process re-parented to us."""
    if child:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    me = os.getpid()
    for _ in range(10_000):
        kids = _children(me) if os.path.isdir("/proc") else []
        if not kids:
            break
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for kid in kids:
            try:
                os.waitpid(kid, 0)
            except ChildProcessError:
                pass
    while True:  # reap whatever is left without waiting
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def _status_code(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def main():
    cfg = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    rep_fd = cfg["rep_fd"]
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except StepFailed:
        pass
    if os.getppid() != cfg["parent"]:
        sys.exit(1)  # the grader is already gone
    state = {"child": 0, "ipc": None}

    def clean_up(child):
        kill_everything(child)
        if state["ipc"] is not None:  # no IPC namespace: remove what the submission created
            before, uid = state["ipc"]
            remove_ipc_objects(ipc_objects(uid) - before)

    def stop(signum, frame):
        clean_up(state["child"])
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stop)
    try:
        achieved, errors = isolate(cfg)
    except StepFailed as exc:
        os.write(rep_fd, (json.dumps({"launcher_error": str(exc)}) + "\n").encode())
        sys.exit(126)
    uid = cfg["isolate"].get("drop_uid")
    achieved["drop_uid"] = uid is not None and os.geteuid() == 0
    own_userns = achieved["drop_uid"] and cfg["isolate"].get("nouserns") and not achieved["user"]
    achieved["nouserns"] = achieved["nouserns"] or bool(own_userns)  # strict: the child aborts if it fails
    if not achieved["ipc"]:
        owner = uid if achieved["drop_uid"] else os.geteuid()
        state["ipc"] = (ipc_objects(owner), owner)
    os.write(rep_fd, (json.dumps({"launcher": {"achieved": achieved, "errors": errors}}) + "\n").encode())
    ready_r, ready_w = os.pipe() if own_userns else (-1, -1)
    mapped_r, mapped_w = os.pipe() if own_userns else (-1, -1)
    child = os.fork()
    if child == 0:
        if own_userns:
            os.close(ready_r)
            os.close(mapped_w)
        run_child(cfg, achieved, rep_fd, (ready_w, mapped_r) if own_userns else None)
    state["child"] = child
    if own_userns:
        os.close(ready_w)
        os.close(mapped_r)
        map_user_namespace(child, uid, ready_r, mapped_w)
        os.close(ready_r)
        os.close(mapped_w)
    # Hold none of the child's pipes: when it dies, the grader must see end-of-file at once.
    for fd in (cfg["req_fd"], rep_fd, 1, 2):
        os.dup2(devnull, fd) if fd in (1, 2) else os.close(fd)
    status = 0
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            break
    state["child"] = 0
    clean_up(0)
    sys.exit(_status_code(status))


if __name__ == "__main__":
    main()
