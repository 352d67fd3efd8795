"""Named specifications: the losses that real courses and tutorials ask for, in one place.

Each preset states the math of its source (activations, loss, reductions, L2) in the harness's
canonical layout; the source's own layout (row-major batches, W ``[in, out]``, bias ``[out]``,
params dicts, ...) is an :mod:`gradcheck.adapters` matter, and :data:`USUAL_ADAPTERS` names the
adapter that usually goes with a preset: it is not chosen for you (code in the canonical layout
is checked under these presets too), and a report judged by such a preset without an adapter
says which one the course's layout needs. Sources are named in words; the numbers in brackets
are rows of the maintainers' survey of 21 real implementations (not part of this repository).

=========================  ==========================================================================
preset                     source and loss
=========================  ==========================================================================
``seed``                   the seed notebook: sigmoid everywhere, ½Σ(a − y)² summed, no batch
``nielsen``                Nielsen ``network.py`` [1]: sigmoid, ½‖a − y‖² summed over examples
``nielsen-cross-entropy``  Nielsen ``network2.py`` [2]: sigmoid, bce summed over outputs and examples
``cs231n-two-layer``       CS231n ``TwoLayerNet.loss`` [10, 11, 1a]: ReLU → softmax-CE, mean over the
                           batch, + reg·ΣW² (weights only), reg = 0.05 (the assignment's toy check)
``cs231n-two-layer-half``  the older CS231n template [1a]: same with 0.5·reg·ΣW²
``deeplearning-ai``        deeplearning.ai "Deep Neural Network - Step by Step" / "Gradient Checking"
                           [6, 7]: ReLU hidden, sigmoid output, bce mean over m
``deeplearning-ai-planar`` deeplearning.ai "Planar data classification" [5]: tanh hidden, sigmoid
                           output, bce mean over m
``deeplearning-ai-l2``     deeplearning.ai "Regularization": as ``deeplearning-ai`` + λ/(2m)·ΣW²,
                           λ = 0.7 (the notebook's value)
``coursera-ml-ex4``        Coursera ML ex4 [8]: sigmoid, bce summed over K outputs, mean over m,
                           + λ/(2m)·Σ non-bias θ², λ = 1
``mytorch``                CMU 11-785 MyTorch MLP [9]: sigmoid hidden, softmax-CE mean
``dennybritz``             nn-from-scratch [3]: tanh → softmax-CE summed, + reg/2·ΣW², reg = 0.01
``pytorch-tensor-tutorial`` the PyTorch two-layer tensor tutorial [17]: ReLU → identity, Σ(a − y)²
=========================  ==========================================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .domain import DEFAULT_DOMAIN, Domain
from .spec import SEED, Spec

__all__ = ["PRESETS", "PRESET_DOMAINS", "USUAL_ADAPTERS", "get_preset", "preset_domain", "preset_names"]

_CS231N: dict[str, Any] = dict(
    batch=True, hidden="relu", output="identity", criterion="softmax_ce", batch_reduction="mean", l2=0.05
)
_DLAI: dict[str, Any] = dict(batch=True, hidden="relu", output="sigmoid", criterion="bce", batch_reduction="mean")

PRESETS: dict[str, Spec] = {
    s.name: s
    for s in (
        SEED,
        Spec("nielsen", batch=True, description="Nielsen network.py: sigmoid, half squared error summed over examples"),
        Spec(
            "nielsen-cross-entropy",
            batch=True,
            criterion="bce",
            description="Nielsen network2.py CrossEntropyCost: bce summed",
        ),
        Spec("cs231n-two-layer", **_CS231N, description="CS231n TwoLayerNet: ReLU, softmax-CE mean + reg*sum(W^2)"),
        Spec("cs231n-two-layer-half", **_CS231N, l2_form="half", description="older CS231n template: 0.5*reg*sum(W^2)"),
        Spec(
            "deeplearning-ai",
            **_DLAI,
            description="deeplearning.ai L-layer model: ReLU hidden, sigmoid output, bce mean",
        ),
        Spec(
            "deeplearning-ai-planar",
            **{**_DLAI, "hidden": "tanh"},
            description="deeplearning.ai planar data: tanh hidden, sigmoid output, bce mean",
        ),
        Spec(
            "deeplearning-ai-l2",
            **_DLAI,
            l2=0.7,
            l2_form="half",
            l2_batch_mean=True,
            description="deeplearning.ai regularization: + lambda/(2m)*sum(W^2)",
        ),
        Spec(
            "coursera-ml-ex4",
            batch=True,
            criterion="bce",
            batch_reduction="mean",
            l2=1.0,
            l2_form="half",
            l2_batch_mean=True,
            description="Coursera ML ex4: bce summed over K, mean over m, + lambda/(2m)*sum(non-bias theta^2)",
        ),
        Spec(
            "mytorch",
            batch=True,
            output="identity",
            criterion="softmax_ce",
            batch_reduction="mean",
            description="CMU 11-785 MyTorch: sigmoid hidden, softmax-CE mean",
        ),
        Spec(
            "dennybritz",
            batch=True,
            hidden="tanh",
            output="identity",
            criterion="softmax_ce",
            l2=0.01,
            l2_form="half",
            description="nn-from-scratch: tanh, softmax-CE sum + reg/2*sum(W^2)",
        ),
        Spec(
            "pytorch-tensor-tutorial",
            batch=True,
            hidden="relu",
            output="identity",
            criterion="sse",
            description="PyTorch tensor tutorial: ReLU, identity output, sum of squared errors",
        ),
    )
}

# The name of the adapter (a key of gradcheck.adapters.ADAPTERS) that usually goes with a preset: the source's layout.
USUAL_ADAPTERS: dict[str, str] = {
    "nielsen": "nielsen",
    "nielsen-cross-entropy": "nielsen",
    "cs231n-two-layer": "cs231n",
    "cs231n-two-layer-half": "cs231n",
    "deeplearning-ai": "deeplearning-ai",
    "deeplearning-ai-planar": "deeplearning-ai",
    "deeplearning-ai-l2": "deeplearning-ai",
}


def preset_names() -> list[str]:
    return list(PRESETS)


# The cases each course's code is written for (gradcheck.domain): judged outside them, correct
# code fails. deeplearning.ai's binary classifiers assert one output unit and compute the cost as
# log(a) and log(1 − a), which is −inf once σ rounds to 1 (|z| > 17 in float32), so no
# saturated or large cases; Coursera ex4 recodes each label as a one-hot row and takes log(h)
# too; the two-layer courses (CS231n, nn-from-scratch, the tensor tutorial) fix the depth.
_TWO_LAYERS = Domain(min_depth=2, max_depth=2)
_LOG_OF_SIGMOID = ("normal", "tiny")
PRESET_DOMAINS: dict[str, Domain] = {
    "cs231n-two-layer": _TWO_LAYERS,
    "cs231n-two-layer-half": _TWO_LAYERS,
    "deeplearning-ai": Domain(output_width=1, regimes=_LOG_OF_SIGMOID),
    "deeplearning-ai-planar": Domain(min_depth=2, max_depth=2, output_width=1, regimes=_LOG_OF_SIGMOID),
    "deeplearning-ai-l2": Domain(output_width=1, regimes=_LOG_OF_SIGMOID),
    "coursera-ml-ex4": Domain(min_depth=2, max_depth=2, targets="one-hot", regimes=_LOG_OF_SIGMOID),
    "dennybritz": _TWO_LAYERS,
    "pytorch-tensor-tutorial": _TWO_LAYERS,
}


def preset_domain(name: str) -> Domain:
    """The case domain that goes with a preset (:data:`PRESET_DOMAINS`); the default for others."""
    return PRESET_DOMAINS.get(name, DEFAULT_DOMAIN)


def get_preset(name: str, **overrides) -> Spec:
    """The preset called ``name``, with any field replaced (e.g. ``l2=0.1``, ``batch=False``)."""
    try:
        spec = PRESETS[name]
    except KeyError:
        raise ValueError(f"spec preset {name!r} is not one of {', '.join(PRESETS)}") from None
    return dataclasses.replace(spec, **overrides) if overrides else spec
