"""Hostile: answers every call itself (it replaces the runner's ``__main__._send``), with the
right request id and a 1 MiB string (well under the reply's byte limit, a hundred times the
string limit) as the loss, as a dict key and as a placeholder's class name, so that whatever
quotes the value copies it into the feedback and the results. Expected: the grader's wire
refuses strings longer than its limit: each call is that submission's failure with a one-line
note, score 0, the batch goes on."""

import os

import __main__

HUGE = "A" * (1 << 20)


def forged(request_id):
    grads = f'{{"k": "dict", "items": [["{HUGE}", {{"k": "none"}}]]}}'
    value = f'{{"k": "tuple", "items": [{{"k": "str", "v": "{HUGE}"}}, {grads}, {{"k": "object", "cls": "{HUGE}"}}]}}'
    return f'{{"id": {request_id}, "ok": true, "value": {value}, "after": {{}}}}\n'.encode()


def _send(fd, message):
    data = forged(message["id"]) if "value" in message else (__import__("json").dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


__main__._send = _send


def forward_backward(x, y, W, b):
    return None
