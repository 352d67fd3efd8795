"""Hostile: starts processes that try to outlive the grading: one in a new session
(setsid), one double-forked and detached (its parent exits, it ignores SIGTERM); then computes
the right gradients. Expected: full marks, and once graded no process carrying the marker in its
command line is left anywhere."""
import os
import signal
import subprocess
import sys

import torch

MARKER = "gradcheck-hostile-marker-detached"
_started = []


def _backprop(x, y, W, b):
    """A correct forward_backward (each hostile file carries its own copy: nothing is shared)."""
    a = [x]
    for W_l, b_l in zip(W, b):
        a.append(torch.sigmoid(W_l @ a[-1] + b_l))
    out = a[-1]
    loss = 0.5 * ((out - y) ** 2).sum()
    delta = (out - y) * out * (1 - out)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ a[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l:
            delta = (W[l].T @ delta) * a[l] * (1 - a[l])
    return loss, W_grads, b_grads


def _escape():
    if _started:
        return
    _started.append(True)
    sleeper = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    subprocess.Popen([sys.executable, "-c", sleeper, MARKER + "-setsid"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child = os.fork()
    if child == 0:  # double fork: the grandchild is orphaned at once, in a session of its own
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", sleeper, MARKER + "-double-fork"])
        os._exit(0)
    os.waitpid(child, 0)


def forward_backward(x, y, W, b):
    _escape()
    return _backprop(x, y, W, b)
