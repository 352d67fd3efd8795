"""Hostile: raises inside forward_backward. Expected: every call fails ("call" check), score 0
for every value test, and the failure quotes this file's own line."""


def forward_backward(x, y, W, b):
    raise ValueError("deliberate failure inside the call")
