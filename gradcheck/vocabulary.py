"""The words a verdict is made of, defined once: checks, failure kinds, parameters and modes.

Each vocabulary is a ``Literal`` type (what a type checker sees) and the tuple of its values
derived from it (what the code iterates and validates against), so the two cannot drift apart.
The order of :data:`CHECKS` is the order a case is judged in, and the order a report lists its
failures in.
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

_T = TypeVar("_T", bound=str)

__all__ = [
    "CHECKS",
    "EXTRA_CHECKS",
    "FD_MODES",
    "KINDS",
    "MODES",
    "PARAMS",
    "Check",
    "CoreCheck",
    "ExtraCheck",
    "FdMode",
    "Kind",
    "Mode",
    "Param",
    "parse_fd",
    "parse_mode",
]

# Every per-case check of the checker core, in the order a case is judged. A case stops at the
# first of the first two that fails (nothing else can be judged without a 3-tuple).
CoreCheck = Literal[
    "call",
    "returns",
    "loss-value",
    "gradient-count",
    "gradient-types",
    "gradient-shapes",
    "gradient-dtypes",
    "gradient-devices",
    "finite",
    "gradient-values",
    "input-mutation",
    "hidden-state",
]
# Checks judged outside the core: by the pytest suite from a report's raw results (finite
# differences on their own, CPU against CUDA) and by the one-layer checker.
ExtraCheck = Literal["finite-differences", "cpu-cuda", "layer-gradient"]
Check = Literal[CoreCheck, ExtraCheck]
CHECKS: tuple[CoreCheck, ...] = get_args(CoreCheck)
EXTRA_CHECKS: tuple[ExtraCheck, ...] = get_args(ExtraCheck)

# What went wrong within a check: the second half of a failure's identity.
Kind = Literal[
    "exception",  # the call raised
    "timeout",  # the call ran past its time limit
    "type",  # a value of the wrong Python type
    "count",  # a list of the wrong length
    "missing",  # None where a gradient belongs
    "subclass",  # a tensor subclass where a plain tensor belongs
    "shape",
    "dtype",
    "device",
    "nan",
    "inf",
    "value",  # numbers off against the specification's oracles
    "self-consistency",  # numbers off against the implementation's own loss
    "mutation",  # an input modified in place
    "state",  # the result depends on earlier calls
    "return-shape",  # a one-layer backward that returned something other than a 3-tuple
]
KINDS: tuple[Kind, ...] = get_args(Kind)

Param = Literal["W", "b"]
PARAMS: tuple[Param, ...] = get_args(Param)

# Who judges the loss and gradient values: the specification's oracles, the implementation's own
# loss (see gradcheck.selfconsistency), or both.
Mode = Literal["spec", "self", "both"]
MODES: tuple[Mode, ...] = get_args(Mode)


def _choice(value: object, choices: tuple[_T, ...], source: str) -> _T:
    """``value`` as one of ``choices``, or a ValueError naming ``source`` (a flag, a setting) and the choices."""
    for choice in choices:
        if value == choice:
            return choice
    raise ValueError(f"{source} {value!r} is not one of {', '.join(choices)}")


def parse_mode(value: object, *, source: str = "mode") -> Mode:
    """``value`` as a :data:`Mode`, or a ValueError naming ``source`` and the choices."""
    return _choice(value, MODES, source)


# Which finite differences arbitrate (gradcheck.fdmode): every parameter, a seeded sample, or
# by the network's size.
FdMode = Literal["full", "sampled", "auto"]
FD_MODES: tuple[FdMode, ...] = get_args(FdMode)


def parse_fd(value: object, *, source: str = "fd") -> FdMode:
    """``value`` as an :data:`FdMode`, or a ValueError naming ``source`` and the choices."""
    return _choice(value, FD_MODES, source)
