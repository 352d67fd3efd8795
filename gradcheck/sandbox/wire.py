"""Values across the sandbox boundary as plain JSON: tensors as dtype, shape and exact numbers.

Both sides use this module: the grader imports it as ``gradcheck.sandbox.wire`` and the child
gets a copy beside its runner (it imports only the standard library and torch). There is no
pickle anywhere: what comes back from a submission is data, and :func:`decode` builds nothing
but plain ``torch.Tensor`` s, numbers, lists, tuples and named placeholders from it.

Dicts (string keys), strings and numpy arrays travel too, for adapters
(:mod:`gradcheck.adapters`: CS231n's grads dict, the arrays of numpy code); an array comes back
as an array. A decoded value keeps what the checks judge: a tensor subclass comes back as a (behaviourless)
subclass of the same name, a non-tensor as a placeholder object of the same class name, a
wrong dtype as that dtype, ``None`` as ``None``. Numbers travel as Python floats, whose JSON
form (``repr``) is exact for float64 and so for every narrower float dtype too; non-finite
values use Python's ``NaN``/``Infinity`` extension of JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import torch

__all__ = [
    "MAX_CONTAINERS",
    "MAX_DEPTH",
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "MAX_INT",
    "MAX_ITEMS",
    "MAX_KEY",
    "MAX_MESSAGE",
    "MAX_STRING",
    "Placeholder",
    "WireError",
    "decode",
    "encode",
    "parse",
    "safe_name",
]

# The limits of what crosses the wire. The child's encoder keeps within them; the grader's
# parser and decoder refuse anything beyond them (a forged reply), as that submission's failure.
MAX_ELEMENTS = 2_000_000  # numbers per tensor budget; a larger return is described, not shipped
MAX_DEPTH = 6  # nesting of lists, tuples and dicts in one value
MAX_ITEMS = 10_000  # entries of one list, tuple or dict
MAX_DIMS = 8  # dimensions of a tensor
MAX_INT = 2**63  # integers are within +-MAX_INT (int64); larger ones travel as floats
MAX_STRING = 10_000  # characters of a string value
MAX_KEY = 200  # characters of a dict key
MAX_MESSAGE = 64 << 20  # bytes of one message (one JSON line)
MAX_CONTAINERS = 200_000  # JSON arrays and objects in one message (a tensor's data is one array)
_INT_DIGITS = len(str(MAX_INT))
_DTYPES = {
    name: getattr(torch, name)
    for name in (
        "float64",
        "float32",
        "float16",
        "bfloat16",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint8",
        "bool",
        "complex64",
        "complex128",
    )
}


class WireError(ValueError):
    """A message that does not follow the format (from a confused or hostile child)."""


class Placeholder:
    """Stands for a value that is not a tensor, list, tuple or number (its class name is kept)."""

    note = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}{' ' + self.note if self.note else ''}>"


_CLASSES: dict[tuple[str, type], type] = {}


def safe_name(name: Any) -> str:
    """``name`` made a valid Python identifier of at most 60 characters (a class name from a submission)."""
    text = re.sub(r"\W", "_", str(name))[:60]
    return text if text and not text[0].isdigit() else f"_{text}"


def _named(name: str, base: type) -> type:
    """A class called ``name`` deriving from ``base``, with no behaviour of its own."""
    key = (safe_name(name), base)
    if key not in _CLASSES:
        _CLASSES[key] = type(key[0], (base,), {"__module__": "submission"})
    return _CLASSES[key]


# -- encoding ------------------------------------------------------------------------------------


class _Budget:
    def __init__(self, elements: int) -> None:
        self.left = elements


def _object(value: Any, note: str = "") -> dict:
    try:
        name = type(value).__name__
    except Exception:  # noqa: BLE001 - a hostile metaclass
        name = "object"
    return {"k": "object", "cls": str(name)[:60], "note": note}


def _plain_tensor(value: torch.Tensor) -> torch.Tensor:
    """The tensor's own data, bypassing a subclass's ``__torch_function__``."""
    disabled = getattr(torch._C, "DisableTorchFunctionSubclass", None)
    if disabled is None:
        return torch.Tensor.as_subclass(value.detach(), torch.Tensor)
    with disabled():
        return torch.Tensor.as_subclass(torch.Tensor.detach(value), torch.Tensor)


def _encode_tensor(value: torch.Tensor, budget: _Budget) -> dict:
    try:
        t = _plain_tensor(value)
        if t.layout != torch.strided:
            return _object(value, f"{t.layout} tensor")
        dtype = str(t.dtype).replace("torch.", "")
        if dtype not in _DTYPES:
            return _object(value, f"tensor of {dtype}")
        if t.numel() > budget.left or t.dim() > MAX_DIMS:
            return _object(value, f"tensor too large to ship ({t.numel()} elements)")
        budget.left -= t.numel()
        device = str(t.device)
        flat = t.cpu().reshape(-1)
        if t.is_complex():
            data = torch.view_as_real(flat.to(torch.complex128)).reshape(-1).tolist()
        elif t.is_floating_point():
            data = flat.to(torch.float64).tolist()
        else:
            data = flat.tolist()
    except Exception as exc:  # noqa: BLE001 - meta tensors, lying subclasses, ...
        return _object(value, f"unreadable tensor ({type(exc).__name__})")
    return {
        "k": "tensor",
        "cls": type(value).__name__[:60],
        "plain": type(value) is torch.Tensor,
        "dtype": dtype,
        "shape": list(t.shape),
        "device": device,
        "data": data,
    }


def _encode_array(value: Any, budget: _Budget) -> dict:
    """A numpy array (for numpy implementations, through an adapter) as a tensor marked to come
    back as an array, so the grader's adapter sees what an in-process call returns."""
    try:
        import torch as _torch

        t = _torch.from_numpy(value.copy()) if value.dtype.kind in "biufc" else None
    except Exception:  # noqa: BLE001 - byte order, object arrays, a hostile subclass
        t = None
    if t is None or type(value).__name__ != "ndarray" or type(value).__module__ != "numpy":
        return _object(value, "array of a type tensors do not hold")
    data = _encode_tensor(t, budget)
    if data.get("k") == "tensor":
        data.update(numpy=True, cls="ndarray", plain=True)
    return data


def encode(value: Any, *, budget: int = MAX_ELEMENTS, _depth: int = 0, _budget: _Budget | None = None) -> dict:
    """``value`` as a JSON-ready dict; anything unusual becomes a described placeholder."""
    budget_left = _budget or _Budget(budget)
    if value is None:
        return {"k": "none"}
    if type(value) is bool:
        return {"k": "bool", "v": value}
    if type(value) is str:
        return {"k": "str", "v": value[:MAX_STRING]}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, budget_left)
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            number = int(value)
            return {"k": "int", "v": number} if abs(number) < MAX_INT else {"k": "float", "v": float(number)}
        if isinstance(value, float):  # float subclasses too, such as numpy.float64
            return {"k": "float", "v": float(value)}
        if (
            type(value).__module__ == "numpy"
            and type(value).__name__ != "ndarray"
            and getattr(value, "shape", None) == ()
        ):
            item = value.item()  # a numpy scalar: the Python number it holds
            if type(item) in (int, float):
                return encode(item)
    except Exception:  # noqa: BLE001 - a hostile number
        return _object(value, "unreadable number")
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return _encode_array(value, budget_left)
    if type(value) is dict:
        if _depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return _object(value, "nested too deeply" if _depth >= MAX_DEPTH else f"more than {MAX_ITEMS} items")
        return {
            "k": "dict",
            "items": [
                [str(k)[:MAX_KEY], encode(v, _depth=_depth + 1, _budget=budget_left)] for k, v in list(value.items())
            ],
        }
    if isinstance(value, (list, tuple)):
        if _depth >= MAX_DEPTH:
            return _object(value, "nested too deeply")
        try:
            items = list(value)[: MAX_ITEMS + 1]
        except Exception:  # noqa: BLE001
            return _object(value, "unreadable sequence")
        if len(items) > MAX_ITEMS:
            return _object(value, f"more than {MAX_ITEMS} items")
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"k": kind, "items": [encode(v, _depth=_depth + 1, _budget=budget_left) for v in items]}
    return _object(value)


# -- decoding (untrusted input: validate everything) ---------------------------------------------


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _INT_DIGITS or abs(int(digits)) > MAX_INT:
        raise WireError(f"an integer of {len(digits)} digits (beyond 64 bits)")
    return int(digits)


def parse(line: bytes) -> dict:
    """One message (a JSON object on one line) within the limits above; :class:`WireError` if it
    is too long, holds too many containers, an integer beyond ``MAX_INT``, or is not JSON. The
    container count is taken from the raw bytes first, so a flood of ``[]`` never gets parsed."""
    if len(line) > MAX_MESSAGE:
        raise WireError(f"a message longer than {MAX_MESSAGE >> 20} MiB")
    containers = line.count(b"[") + line.count(b"{")
    if containers > MAX_CONTAINERS:
        raise WireError(f"a message with more than {MAX_CONTAINERS} arrays and objects ({containers})")
    try:
        message = json.loads(line, parse_int=_bounded_int)
    except RecursionError:
        raise WireError("a message nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, or an integer of too many digits
        raise exc if isinstance(exc, WireError) else WireError("a message that is not JSON") from None
    if not isinstance(message, dict):
        raise WireError("a message that is not a JSON object")
    return message


def _integer(v: Any) -> int:
    if type(v) is not int:
        raise WireError(f"not an integer: {type(v).__name__}")
    if not -MAX_INT <= v <= MAX_INT:
        raise WireError("an integer beyond 64 bits")
    return v


def _number(v: Any) -> float:
    if type(v) is int:
        return _integer(v)
    if type(v) is not float:
        raise WireError(f"not a number: {type(v).__name__}")
    return v


def _string(v: Any, limit: int = MAX_STRING) -> str:
    if type(v) is not str:
        raise WireError(f"not a string: {type(v).__name__}")
    if len(v) > limit:
        raise WireError(f"a string of {len(v)} characters (at most {limit})")
    return v


def _decode_tensor(data: dict) -> Any:
    dtype_name, shape, device = data.get("dtype"), data.get("shape"), data.get("device")
    if dtype_name not in _DTYPES:
        raise WireError(f"unknown dtype {dtype_name!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape)
    ):
        raise WireError(f"bad shape {str(shape)[:100]}")
    numel = math.prod(shape)
    dtype = _DTYPES[dtype_name]
    values = data.get("data")
    width = 2 if dtype.is_complex else 1
    if not isinstance(values, list) or len(values) != numel * width or numel > MAX_ELEMENTS:
        raise WireError("tensor data does not match its shape")
    if dtype == torch.bool:
        if not all(type(v) is bool for v in values):
            raise WireError("bool tensor with non-bool data")
        t = torch.tensor(values, dtype=torch.bool)
    elif dtype.is_floating_point or dtype.is_complex:
        t = torch.tensor([float(_number(v)) for v in values], dtype=torch.float64)
        if dtype.is_complex:
            t = torch.view_as_complex(t.reshape(-1, 2))
    else:
        t = torch.tensor([_integer(v) for v in values], dtype=torch.int64)
    t = t.reshape(shape).to(dtype)
    if device != "cpu":
        return _named(f"Tensor_on_{device}", Placeholder)()
    if data.get("plain") is not True:
        return t.as_subclass(_named(_string(data.get("cls", "TensorSubclass"), MAX_KEY), torch.Tensor))
    return t


def decode(data: Any, *, _depth: int = 0) -> Any:
    """Rebuild a value from :func:`encode`'s form; :class:`WireError` if it is malformed."""
    if not isinstance(data, dict):
        raise WireError("malformed value")
    if _depth > MAX_DEPTH + 1:
        raise WireError(f"a value nested too deeply (more than {MAX_DEPTH + 1} levels)")
    kind = data.get("k")
    if kind == "none":
        return None
    if kind == "bool" and type(data.get("v")) is bool:
        return data["v"]
    if kind == "int":
        return _integer(data.get("v"))
    if kind == "str":
        return _string(data.get("v"))
    if kind == "float":
        return float(_number(data.get("v")))
    if kind == "tensor":
        try:
            t = _decode_tensor(data)
        except (RuntimeError, TypeError, OverflowError) as exc:
            raise WireError(f"bad tensor: {exc}") from None
        return t.numpy() if data.get("numpy") is True and type(t) is torch.Tensor else t
    if kind == "dict":
        items = data.get("items")
        if (
            not isinstance(items, list)
            or len(items) > MAX_ITEMS
            or not all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in items)
        ):
            raise WireError("malformed dict")
        return {_string(k, MAX_KEY): decode(v, _depth=_depth + 1) for k, v in items}
    if kind in ("list", "tuple"):
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError("malformed sequence")
        decoded = [decode(v, _depth=_depth + 1) for v in items]
        return tuple(decoded) if kind == "tuple" else decoded
    if kind == "object":
        placeholder = _named(_string(data.get("cls", "object"), MAX_KEY), Placeholder)()
        placeholder.note = _string(data.get("note", ""))[:MAX_KEY]
        return placeholder
    raise WireError(f"unknown kind {kind!r}")
