"""Running untrusted submissions: one fresh, isolated interpreter per submission.

The pieces, from the outside in:

- :class:`SandboxedFunction` (``remote.py``): the submission's ``forward_backward`` as a local
  callable for the checker core; every comparison and verdict is computed in the grader.
- :class:`Box` (``box.py``): one launched sandbox, its pipes, deadlines, capped output and kill.
- ``launcher.py``: the script that sets up namespaces and limits, execs the child, and kills
  everything the child started at the end.
- ``child.py``: the script that runs inside, loads the submission and answers calls.
- ``wire.py``: values as plain JSON both ways (no pickle).
- :mod:`gradcheck.adapters.perform`: the one function that makes a call an adapter describes,
  on either side (a copy runs inside).
- :func:`probe` (``isolation.py``): which walls this machine allows; :class:`Isolation` says so.

What is always there (any POSIX machine):

- a fresh interpreter per submission (``subprocess``, never a fork of the grader), started as
  ``python -I -S -B``: no environment variables, no user site, no ``site`` processing; its
  ``sys.path`` holds the standard library, the folder(s) that hold torch, and the submission's
  own folder, never the repository; ``reference_impl`` and ``gradcheck`` refuse to import;
- its own session, a minimal environment (``PATH``, ``HOME`` and ``TMPDIR`` in its folder, one
  thread for torch/OpenMP, no GPU), and a fresh temporary working folder holding only a copy of
  the submission and the two runner scripts, deleted afterwards;
- rlimits set by the launcher before ``exec``: CPU seconds, heap (``RLIMIT_DATA``, the
  ``--memory``), address space (that + 2 GiB for libraries), file size, no core dumps, no
  POSIX message queues (``RLIMIT_MSGQUEUE`` 0);
- without an IPC namespace, the launcher removes, at the end, every System V IPC object that
  the submission's uid created while it ran;
- replies within the wire's limits (``wire.py``: bytes, containers, integers, strings, depth,
  items), or the call fails;
- a wall-clock limit per call and for loading, enforced by the grader, which kills on expiry;
- stdout and stderr drained by the grader into a capped buffer, never parsed: requests and
  replies travel on two private pipes, as JSON, and a reply that does not answer the call
  fails that call;
- on Linux, the launcher is a child subreaper with a parent-death signal: when the child ends,
  times out, or the grader dies, the launcher SIGKILLs the child and every process re-parented
  to it (orphans of double forks and ``setsid``), scanning ``/proc`` until none is left.

What :func:`probe` adds where the platform allows (Linux; as root, or with unprivileged user
namespaces):

- a PID namespace: the submission is PID 1 of its own namespace; it cannot see or signal the
  grader or other submissions, and when it ends the kernel kills everything it started;
- a network namespace: no network at all (not even loopback to the host);
- a mount namespace: the harness (``gradcheck``, ``reference_impl``, the source checkout), the
  grader's working folder, home, ``/tmp`` and the temp folder (except the sandbox's own
  folder), ``/dev/shm``, ``/var/tmp``, the submissions folder, the output folder, the rubric
  file and the rubric's ``[sandbox] hide`` paths are covered by empty tmpfs mounts (a file by
  ``/dev/null``); the Python installation stays reachable, read-only;
- every other filesystem read-only in that namespace, except the working folder;
- an IPC namespace: System V shared memory, message queues and semaphores and POSIX message
  queues are the submission's own and die with it (no channel between students, nothing left);
- no nested user namespaces: the kernel's per-namespace ``max_user_namespaces`` is 0 in a user
  namespace the sandbox owns (as root, the child's own, where only ``nobody`` is mapped), so
  ``unshare(CLONE_NEWUSER)`` fails inside; :func:`probe` checks it by trying;
- no privileges: as root, the child runs as ``nobody`` (65534) with ``NO_NEW_PRIVS`` and at most
  512 processes; otherwise a user namespace maps the user to itself, so the child holds no
  capability and cannot undo the mounts.

What is NOT isolated: without a mount namespace the harness files, other submissions and the
output folder stay readable (and writable, as the same user) by a determined submission (the
batch grader rewrites any ``results.json`` of the batch that changed, at its end); without a
network namespace the network is open; without a PID namespace a submission can see other
processes and, as the same user, signal them (killing its own launcher defeats the cleanup of
its detached processes); without an IPC namespace, System V objects are visible to the user's
other processes while the submission runs (and a concurrent sandbox's may be removed with its
own); fork bombs are bounded only by the time limit, the PID namespace's
teardown and, as root, the process limit; the CPU share is not limited (no cgroups); static
policy checks can be evaded (they are hints, not walls). Grading runs on the CPU only.
``Isolation.describe()`` lists, in words, what a given machine achieved; the grader reports it.
"""

from .box import Box, BoxConfig, SandboxError
from .isolation import Isolation, probe
from .remote import Limits, LoadOutcome, RemoteError, SandboxCrash, SandboxedFunction

__all__ = [
    "Box",
    "BoxConfig",
    "Isolation",
    "Limits",
    "LoadOutcome",
    "RemoteError",
    "SandboxCrash",
    "SandboxError",
    "SandboxedFunction",
    "probe",
]
