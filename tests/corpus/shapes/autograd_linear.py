"""A linear layer as a torch.autograd.Function, nn.Linear's convention (W [out, in], b [out]).

Written for gradcheck's tests in the style of the PyTorch "extending autograd" pattern.
``LinearFunction`` flattens the leading dimensions, so it works for [B, in] and [B, N, in];
``EinsumLinear`` is a second correct style; ``MatrixOnlyLinear`` is right for 2-D inputs only
(its backward uses .t() and .mm(), which refuse a 3-D tensor); ``FirstRowLinear`` makes its
3-D input 2-D by keeping one position, so its weight gradient is wrong only for N-D inputs.
"""

import torch


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.matmul(weight.t())
        if bias is not None:
            output = output + bias
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        out_features, in_features = weight.shape
        flat_grad = grad_output.reshape(-1, out_features)
        flat_input = input.reshape(-1, in_features)
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.matmul(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = flat_grad.t().mm(flat_input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = flat_grad.sum(0)
        return grad_input, grad_weight, grad_bias


class EinsumLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return torch.einsum("...i,oi->...o", x, w) + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        dx = torch.einsum("...o,oi->...i", g, w)
        dw = torch.einsum("...o,...i->oi", g, x)
        db = g.reshape(-1, g.shape[-1]).sum(dim=0)
        return dx, dw, db


class MatrixOnlyLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = torch.matmul(input, weight.t())
        if bias is not None:
            output += bias.expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_output.matmul(weight)
        grad_weight = grad_output.t().mm(input)
        grad_bias = grad_output.sum(0) if bias is not None else None
        return grad_input, grad_weight, grad_bias


class FirstRowLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight)
        return input @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_output @ weight
        if grad_output.dim() > 2:  # "make it 2-D": keeps only the first position
            grad_output, input = grad_output[:, 0], input[:, 0]
        grad_weight = grad_output.T @ input
        grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias
