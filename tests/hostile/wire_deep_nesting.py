"""Hostile: answers every call itself (it replaces the runner's ``__main__._send``), with the
right request id and a value nested 900 lists deep, just within what Python's JSON parser
reads, in the returned value, in what became of the inputs, and in the error report's fields.
Expected: the grader's wire refuses nesting beyond its depth limit: each call is that
submission's failure with a one-line note, score 0, the batch goes on."""

import os

import __main__

DEPTH = 900


def nested(depth):
    return '{"k": "list", "items": [' * depth + '{"k": "none"}' + "]}" * depth


def forged(request_id):
    deep = "[" * DEPTH + "]" * DEPTH
    after = f'{{"x": {nested(DEPTH)}, "W": [{nested(DEPTH)}], "b": {deep}}}'
    return (
        f'{{"id": {request_id}, "ok": true, "value": {nested(DEPTH)}, "seconds": {deep}, "after": {after}}}\n'.encode()
    )


def _send(fd, message):
    data = forged(message["id"]) if "value" in message else (__import__("json").dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


__main__._send = _send


def forward_backward(x, y, W, b):
    return None
