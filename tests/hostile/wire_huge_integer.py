"""Hostile: replaces the runner's reply function (``__main__._send``) and answers every call
itself, with the right request id and a value that holds integers of 4,000 digits (as the loss,
and as a gradient's entries). Python's JSON reads them; nothing downstream is made for them.
Expected: the grader's wire refuses integers beyond 64 bits: each call is that submission's
failure with a one-line note (a broken channel), score 0, the batch goes on."""

import os

import __main__

HUGE = "9" * 4000


def forged(request_id):
    tensor = (
        '{"k": "tensor", "cls": "Tensor", "plain": true, "dtype": "float64", "shape": [1], "device": "cpu", '
        f'"data": [{HUGE}]}}'
    )
    items = f'{{"k": "float", "v": {HUGE}}}, {{"k": "list", "items": [{tensor}]}}, {{"k": "int", "v": {HUGE}}}'
    value = f'{{"k": "tuple", "items": [{items}]}}'
    return f'{{"id": {request_id}, "ok": true, "value": {value}, "seconds": {HUGE}, "after": {{}}}}\n'.encode()


def _send(fd, message):
    data = forged(message["id"]) if "value" in message else (__import__("json").dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


__main__._send = _send


def forward_backward(x, y, W, b):
    return None
