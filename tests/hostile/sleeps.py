"""Hostile: sleeps for an hour in the call. Expected: a time-out (recorded), score 0."""
import time


def forward_backward(x, y, W, b):
    time.sleep(3600)
