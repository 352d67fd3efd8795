# A two-layer network fitted by hand with torch tensors and no autograd, written for gradcheck's
# tests in the style of a tensor tutorial: a top-level script, no function to call.
# ReLU hidden layer, linear output, loss = sum of squared errors; no biases.
import torch

dtype = torch.float
device = torch.device("cpu")

batch, n_in, n_hidden, n_out = 16, 20, 12, 3

x = torch.randn(batch, n_in, device=device, dtype=dtype)
y = torch.randn(batch, n_out, device=device, dtype=dtype)

w1 = torch.randn(n_in, n_hidden, device=device, dtype=dtype)
w2 = torch.randn(n_hidden, n_out, device=device, dtype=dtype)

learning_rate = 1e-6
for step in range(300):
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)

    loss = (y_pred - y).pow(2).sum().item()
    if step % 100 == 99:
        print(step, loss)

    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)

    w1 -= learning_rate * grad_w1
    w2 -= learning_rate * grad_w2

print("trained", loss)
raise SystemExit("never reached by the harness: it stops after one loop body")
