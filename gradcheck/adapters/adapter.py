"""The :class:`Adapter`: one frozen configuration, checked when it is made.

An adapter is data, not code per course: each step of :func:`~gradcheck.adapters.wrap` reads
the fields it needs, and each step's module explains its fields in full. A configuration that
no step could carry out is refused here, with one line that names the field and the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .layerargs import parse_layer_args

__all__ = ["ARGUMENTS", "RETURNS", "Adapter", "literal"]

# What the binding step can pass (see .binding): the case's tensors, then its constants; plus
# n0, n1, ... (one layer's width) and JSON literals ("1", "false").
ARGUMENTS = ("x", "y", "W", "b", "params", "theta", "sizes", "nL", "depth", "batch", "reg")
RETURNS = ("loss", "W", "b", "grads", "theta", "params")  # what the extraction step can read back
WIDTH = re.compile(r"n(\d+)")  # n0, n1, ...: the width of layer l's output (n0: the input)
_CHOICES = {
    "layout": ("column", "row"),
    "weights": ("out_in", "in_out"),
    "bias": ("column", "vector", "row", "folded", "folded-first", "none"),
    "grads_from": ("return", "attributes", "step", "globals", "delta"),
    "params_from": ("args", "globals"),
    "sign": (1, -1),
    "targets": ("dense", "index"),
    "instance": (None, "bare", "sizes"),
    "init": (None, "assign"),
    "autograd": (None, "op", "loss"),
}
_FORWARD_ITEM = re.compile(r"forward\[\d+\]")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_NOT_LITERAL = object()


def literal(text: str) -> object:
    """An argument that is no binding name, read as a JSON literal (``1``, ``0.5``, ``false``,
    ``null``, ``"tanh"``); a sentinel when it is not one."""
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_LITERAL


def _argument_ok(name: str) -> bool:
    return name in ARGUMENTS or bool(WIDTH.fullmatch(name)) or literal(name) is not _NOT_LITERAL


@dataclass(frozen=True)
class Adapter:
    """How to call an implementation and read its gradients (the defaults: the canonical contract).

    The fields, by the step that reads them (each module explains its own in full):

    - :mod:`~gradcheck.adapters.layout`: ``layout``, ``weights``, ``bias``, ``targets``, ``numpy``;
    - :mod:`~gradcheck.adapters.binding`: ``args``, ``keys``;
    - :mod:`~gradcheck.adapters.calling`: ``reg``, ``instance``, ``attributes``, ``method``,
      ``backward``, ``backward_args``, ``params_from``, ``data``;
    - :mod:`~gradcheck.adapters.extraction`: ``returns``, ``grad_keys``, ``grads_from``, ``lr``, ``sign``;
    - :mod:`~gradcheck.adapters.composition`: ``compose``, ``compose_style``, ``layer_args``,
      ``activation_upstream`` (and ``attributes``, ``grad_keys`` for the layer objects);
    - :mod:`~gradcheck.adapters.wrapping`: ``per_example``;
    - :mod:`~gradcheck.adapters.script`: ``script``, ``loss_name`` (a script or notebook with no
      function, run once with the harness's values under its own names);
    - :mod:`~gradcheck.adapters.seam`: ``init`` (code that creates its own parameters);
    - :mod:`~gradcheck.layercheck` and :mod:`~gradcheck.adapters.function`: ``autograd`` (a
      ``torch.autograd.Function``: one layer op, or a whole loss);
    - :mod:`~gradcheck.adapters.neurons`: ``neurons``, ``neuron_keys``, ``transfer`` (per-neuron
      dict lists, Machine Learning Mastery style);
    - ``depth``: the one number of layers the implementation supports, if it is fixed; cases of
      other depths are not run (CS231n's ``TwoLayerNet``).
    """

    name: str = "canonical"
    layout: str = "column"  # x [n_0, B]; "row": x [B, n_0], y [B, n_L]
    weights: str = "out_in"  # or "in_out"
    bias: str = "column"  # [out, 1]; "vector", "row"; or none of its own: "folded", "folded-first", "none"
    targets: str = "dense"  # like the case's y; "index": class indices [B]
    numpy: bool = False  # float64 numpy arrays in, arrays out
    args: tuple[str, ...] = ("x", "y", "W", "b")  # the positional arguments, from ARGUMENTS
    keys: tuple[str, str] = ("W{n}", "b{n}")  # a params dict's keys ({n} = layer + 1, {l} = layer)
    reg: str | None = None  # the keyword that receives the spec's L2 coefficient
    instance: str | None = None  # the target is a class: "bare" (no __init__) or "sizes" (cls(widths))
    attributes: tuple[str, ...] = ()  # where the parameters go on the object: a params dict, or W and b lists
    method: str | None = None  # the object's method that is called
    per_example: bool = False  # one call per example, added up
    returns: tuple[str, ...] = ("loss", "W", "b")  # the returned tuple's order, from RETURNS
    grad_keys: tuple[str, ...] | None = (
        None  # the gradients' names, W's then b's (default: keys); W's alone without biases
    )
    depth: int | None = None  # the only depth the implementation supports, if fixed
    grads_from: str = "return"  # or "attributes", "step" (a training step), "globals"
    lr: float = 0.1  # a training step's learning rate
    sign: int = 1  # a training step's direction: +1 descent, -1 ascent
    backward: str | None = None  # a second function of the target's module, called after it
    backward_args: tuple[str, ...] = ()  # its arguments: binding names, forward, forward[i]
    compose: tuple[str, ...] = ()  # (linear class, hidden activation class, output activation class or "")
    params_from: str = "args"  # or "globals": parameters written into fn.__globals__ under keys
    data: tuple[str, ...] = ()  # with params_from="globals": the global names that receive x and y
    # -- namespace runner, constant arguments, initialisation seam (binding.py, script.py, seam.py) --
    kwargs: tuple[str, ...] = ()  # keyword arguments "name=VALUE": a binding name (n1, reg, ...) or a JSON literal
    script: bool = False  # a script/notebook with no function: its code runs once (see .script)
    loss_name: str | None = None  # with script: the variable that holds the loss (a float or a tensor)
    init: str | None = None  # "assign": the function's own `W1 = ...` before its first loop gets the harness's W1
    # -- per-layer composition (with compose=; read by gradcheck.adapters.composition) -----------
    compose_style: str = "objects"  # or "functions": NAME_forward(...) -> (out, cache), NAME_backward(dout, cache)
    layer_args: tuple[str, ...] = ()  # the linear class's constructor: in, out, NAME=in, NAME=<literal>; (): bare
    activation_upstream: bool = True  # False: an activation's backward() takes no upstream, returns dA/dZ
    # -- end of per-layer composition ------------------------------------------------------------
    # -- torch.autograd.Function and per-neuron dict lists (layercheck.py, function.py, neurons.py) --
    autograd: str | None = None  # a torch.autograd.Function: "op" one linear layer, "loss" a whole loss
    neurons: tuple[str, ...] = ()  # per-neuron dicts: the forward, backward and update functions' names
    neuron_keys: tuple[str, str, str] = ("weights", "output", "delta")  # each neuron's keys
    transfer: str | None = None  # a global of the module passed last to forward and backward

    def __post_init__(self) -> None:
        self._check_choices()
        self._check_binding()
        self._check_calling()
        self._check_extraction()
        self._check_script()
        self._check_composition()
        self._check_function_and_neurons()

    def _check_function_and_neurons(self) -> None:
        if self.autograd and (self.numpy or self.instance or self.compose or self.uses_globals or self.neurons):
            raise ValueError(
                "autograd= calls a torch.autograd.Function: not with numpy, instance=, compose=, globals or neurons="
            )
        if self.autograd == "op" and (self.layout != "row" or self.bias not in ("vector", "none")):
            raise ValueError('autograd="op" takes nn.Linear\'s layout: layout="row" and bias="vector" (or "none")')
        if self.neurons and (len(self.neurons) != 3 or not all(self.neurons[:2])):
            raise ValueError(
                "neurons= names three functions: forward, backward and update "
                '(e.g. ["forward_propagate", "backward_propagate_error", "update_weights"]; '
                'update "" with grads_from="delta")'
            )
        if self.neurons and (self.grads_from not in ("delta", "step") or not self.per_example):
            raise ValueError(
                'neurons= reads gradients with grads_from="delta" or "step", one example at a time (per_example=true)'
            )
        if self.neurons and self.grads_from == "step" and not self.neurons[2]:
            raise ValueError('neurons= with grads_from="step" needs the update function\'s name (the third)')
        if self.grads_from == "delta" and not self.neurons:
            raise ValueError('grads_from="delta" reads per-neuron deltas: it needs neurons=')

    def _check_choices(self) -> None:
        for field_, allowed in _CHOICES.items():
            value = getattr(self, field_)
            if value not in allowed:
                raise ValueError(f"adapter {field_}={value!r} is not one of {', '.join(map(str, allowed))}")
        bad = [v for v in self.returns if v not in RETURNS]
        if bad:
            raise ValueError(f"adapter returns: {bad[0]!r} is not one of {', '.join(RETURNS)}")
        bad = [kw for kw in self.kwargs if not _IDENTIFIER.fullmatch(kw.partition("=")[0]) or "=" not in kw]
        if bad:
            raise ValueError(f'adapter kwargs: {bad[0]!r} is not "name=VALUE" (e.g. "num_passes=1", "hidden=n1")')
        bad = [v for v in (*self.args, *(kw.partition("=")[2] for kw in self.kwargs)) if not _argument_ok(v)]
        if bad:
            raise ValueError(
                f"adapter args: {bad[0]!r} is not one of {', '.join(ARGUMENTS)}, n0, n1, ... or a JSON literal"
            )

    def _check_binding(self) -> None:
        if self.instance and (not self.method or len(self.attributes) not in (1, 2)):
            raise ValueError(
                "an adapter with instance= needs method= and attributes= "
                "(one name for a params dict, two for W and b lists)"
            )
        if self.uses_globals and (self.instance or self.compose or self.backward):
            raise ValueError(
                "notebook globals (params_from/grads_from='globals') work with a plain function: "
                "not with instance=, compose= or backward="
            )
        if self.data and (self.params_from != "globals" or len(self.data) != 2):
            raise ValueError("data= names the two globals that receive x and y, with params_from='globals'")

    def _check_script(self) -> None:
        if self.script and (
            self.params_from != "globals" or self.grads_from != "globals" or len(self.data) != 2 or self.init
        ):
            raise ValueError(
                'script=true runs the code with params_from and grads_from "globals" and data= naming x and y '
                '(the "script" adapter sets them), and no init='
            )
        if self.loss_name is not None and not (self.script and _IDENTIFIER.fullmatch(self.loss_name)):
            raise ValueError("loss_name= names the script's loss variable (with script=true)")
        if self.init and (self.uses_globals or self.compose or self.instance):
            raise ValueError(
                "init= rewrites a plain function's own parameter creation: not with globals, compose= or instance="
            )
        if "params" in self.returns and self.grads_from != "step":
            raise ValueError('returns "params" is the parameters after a training step: it needs grads_from="step"')

    def _check_calling(self) -> None:
        if self.compose and (len(self.compose) != 3 or not self.compose[0]):
            raise ValueError(
                "compose= names three classes: the linear layer, the hidden activation, "
                'the output activation ("" for none)'
            )
        bad = [v for v in self.backward_args if v not in (*ARGUMENTS, "forward") and not _FORWARD_ITEM.fullmatch(v)]
        if bad or bool(self.backward) != bool(self.backward_args):
            raise ValueError(
                "backward= names the second function and backward_args= its arguments, "
                "from x, y, W, b, params, theta, forward, forward[i]"
            )

    def _check_extraction(self) -> None:
        if "W" in self.returns and "b" not in self.returns and "grads" not in self.returns and not self.bias_free:
            raise ValueError("adapter returns: W without b (or grads) gives no bias gradients")
        if self.grads_from == "attributes" and not self.instance:
            raise ValueError("grads_from='attributes' reads the gradients from an object: it needs instance=")
        if self.grads_from == "globals" and not self.grad_keys:
            raise ValueError("grads_from='globals' needs grad_keys=, the gradients' global names (e.g. dW{n}, db{n})")
        if self.grads_from == "step" and not self.lr > 0:
            raise ValueError("grads_from='step' needs the step's learning rate lr > 0")

    def _check_composition(self) -> None:
        """The per-layer composition fields (see :mod:`~gradcheck.adapters.composition`)."""
        if self.compose_style not in ("objects", "functions"):
            raise ValueError(f"adapter compose_style={self.compose_style!r} is not one of objects, functions")
        changed = [
            n
            for n, v in (
                ("compose_style", self.compose_style != "objects"),
                ("layer_args", self.layer_args),
                ("activation_upstream", not self.activation_upstream),
            )
            if v
        ]
        if changed and not self.compose:
            raise ValueError(f"adapter {changed[0]}= describes the layers of compose=, which is not set")
        if self.layer_args and self.compose_style == "functions":
            raise ValueError(
                "adapter layer_args= are a layer class's constructor arguments: not with compose_style='functions'"
            )
        parse_layer_args(self.layer_args)
        if (
            self.compose
            and self.compose_style == "objects"
            and len(self.attributes) not in (0, 1 if self.bias_free else 2)
        ):
            wanted = "one name (W, the bias folded in or none)" if self.bias_free else "two names (W and b)"
            raise ValueError(f"adapter attributes= on compose's linear objects: {wanted}, got {list(self.attributes)}")
        if self.grad_keys is not None and len(self.grad_keys) not in ((1, 2) if self.bias_free else (2,)):
            raise ValueError(
                "adapter grad_keys= names two gradients (W's and b's); one (W's) only with bias='folded', "
                "'folded-first' or 'none'"
            )

    @property
    def bias_free(self) -> bool:
        """The implementation takes no separate biases (none at all, or folded into W)."""
        return self.bias in ("folded", "folded-first", "none")

    @property
    def uses_globals(self) -> bool:
        """Parameters or gradients pass through the implementation's module namespace."""
        return self.params_from == "globals" or self.grads_from == "globals"
