"""Another forward pass as the explanation: the network the implementation actually computed.

When the forward pass itself is wrong (the seed's classic: z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ without + b⁽ˡ⁾),
the loss is that network's loss and every gradient is that network's gradient, right for the
wrong network. Autograd on the altered forward pass says so exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .facts import CaseFacts, Key

__all__ = ["bias_free", "gradients_are_bias_free", "loss_is_bias_free"]


def bias_free(facts: CaseFacts) -> tuple[float, dict[Key, Tensor]]:
    """Loss and gradients of the case's network with the biases left out of the forward pass."""
    memo = facts.memo.get("bias_free")
    if memo is None:
        W = [w.clone().requires_grad_(True) for w in facts.W]
        b = [torch.zeros_like(v, requires_grad=True) for v in facts.b]
        with torch.enable_grad():
            loss = facts.spec.loss(facts.x, facts.y, W, b)
            grads = torch.autograd.grad(loss, [*W, *b])
        n = len(W)
        memo = facts.memo["bias_free"] = (
            float(loss.detach()),
            {**{(l, "W"): grads[l] for l in range(n)}, **{(l, "b"): grads[n + l] for l in range(n)}},
        )
    return memo


def loss_is_bias_free(facts: CaseFacts) -> bool:
    """Whether the returned loss is the bias-free network's, and that differs from the true loss."""
    failure = next((g for g in facts.result.failures if g.check == "loss-value" and g.kind == "value"), None)
    if failure is None:
        return False
    free_loss, _ = bias_free(facts)
    allowed = 1e-6 * abs(free_loss) + facts.slack((None, "loss"))
    return abs(float(failure.got) - free_loss) <= allowed < abs(free_loss - float(failure.expected))


def gradients_are_bias_free(facts: CaseFacts) -> bool:
    """Whether the loss and every failing gradient of the case are the bias-free network's."""
    if not facts.failing or not loss_is_bias_free(facts):
        return False
    _, grads = bias_free(facts)
    for key in facts.failing:
        got = facts.returned(key)
        if got is None or facts.agrees(key, grads[key], facts.true_grad(key)) or not facts.agrees(key, got, grads[key]):
            return False
    return True
