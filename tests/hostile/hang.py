"""Hostile: a busy infinite loop in the call. Expected: the call times out (recorded), the
sandbox is killed, score 0."""


def forward_backward(x, y, W, b):
    while True:
        pass
