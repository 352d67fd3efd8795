"""Hostile: ignores SIGTERM, starts a helper that ignores it too, then never returns.
Expected: a time-out (recorded), score 0, and neither process is left running."""
import signal
import subprocess
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
MARKER = "gradcheck-hostile-marker-sigterm"


def forward_backward(x, y, W, b):
    sleeper = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    subprocess.Popen([sys.executable, "-c", sleeper, MARKER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        time.sleep(0.1)
