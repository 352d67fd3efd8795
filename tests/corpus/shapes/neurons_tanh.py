"""Per-neuron dict backpropagation with the transfer function passed in, tanh, ½SSE.

Written for gradcheck's tests. Each transfer function takes (x, derivate): derivate=0 gives the
value, derivate=1 the derivative expressed in the neuron's *output*. ``transfer_tanh`` does that
right (1 - out**2); ``transfer_tanh_twice`` applies tanh again to the output, the classic slip
(1 - tanh(out)**2, the derivative at the output instead of at the pre-activation).
"""

import math


def transfer_tanh(x, derivate):
    if derivate == 0:
        return math.tanh(x)
    return 1.0 - x * x


def transfer_tanh_twice(x, derivate):
    if derivate == 0:
        return math.tanh(x)
    return 1.0 - math.tanh(x) ** 2


def forward_propagate(net, row, transfer):
    inputs = row
    for layer in net:
        outputs = []
        for neuron in layer:
            w = neuron["weights"]
            z = w[-1] + sum(w[k] * inputs[k] for k in range(len(w) - 1))
            neuron["output"] = transfer(z, 0)
            outputs.append(neuron["output"])
        inputs = outputs
    return inputs


def backward_propagate_error(net, expected, transfer):
    for i in range(len(net) - 1, -1, -1):
        layer = net[i]
        if i == len(net) - 1:
            errors = [expected[j] - layer[j]["output"] for j in range(len(layer))]
        else:
            errors = [sum(n["weights"][j] * n["delta"] for n in net[i + 1]) for j in range(len(layer))]
        for j, neuron in enumerate(layer):
            neuron["delta"] = errors[j] * transfer(neuron["output"], 1)


def update_weights(net, row, l_rate):
    for i, layer in enumerate(net):
        inputs = row[:-1] if i == 0 else [n["output"] for n in net[i - 1]]
        for neuron in layer:
            for j, v in enumerate(inputs):
                neuron["weights"][j] += l_rate * neuron["delta"] * v
            neuron["weights"][-1] += l_rate * neuron["delta"]
