"""Group ``fd``: our finite-difference oracle vs ``torch.autograd.gradcheck`` (slow mode).

All compute central differences for every parameter of the same 64-64-64-64-1 float64 sigmoid
network. Target (docs/architecture.md): ours at least 100x faster, max abs error vs autograd <= 1e-8.
"ours" is the gradient alone (steps ±h), what the checker computes first; "ours + error bound"
adds the ±2h differences that give each entry its Richardson truncation estimate, which the
checker computes only where the first pass disagrees with autograd.
Run with ``pytest benchmarks`` (add ``--benchmark-disable`` to only check they run).
"""

import pytest
import torch

from gradcheck.cases import CaseSpec, make_case
from gradcheck.oracles import autograd_oracle, finite_difference_oracle
from gradcheck.spec import SEED

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
WIDTHS = (64, 64, 64, 64, 1)


def network(device):
    return make_case(CaseSpec(WIDTHS, device=device))


@pytest.mark.parametrize("error_bound", [False, True], ids=["gradient", "gradient+bound"])
@pytest.mark.parametrize("device", DEVICES)
def test_ours(benchmark, record_time, device, error_bound):
    group = f"fd-{device}"
    benchmark.group = group
    case = network(device)
    fd = benchmark(finite_difference_oracle, SEED, case, error_bound=error_bound)
    ad = autograd_oracle(SEED, case)
    error = max(float((f - a).abs().max()) for f, a in zip(fd.W + fd.b, ad.W + ad.b))
    benchmark.extra_info["max_abs_error_vs_autograd"] = error
    name = "gradcheck FD oracle" + (" + error bound" if error_bound else "")
    print(f"\n[{group}] {name}: max abs error vs autograd = {error:.2e}")
    record_time(group, name, benchmark)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_gradcheck_slow_mode(benchmark, record_time, device):
    benchmark.group = f"fd-{device}"
    case = network(device)
    params = [t.clone().requires_grad_(True) for t in case.W + case.b]
    depth = len(case.W)

    def loss(*ps):
        return SEED.loss(case.x, case.y, list(ps[:depth]), list(ps[depth:]))

    assert benchmark.pedantic(
        torch.autograd.gradcheck, args=(loss, params), kwargs={"fast_mode": False}, rounds=3, iterations=1
    )
    record_time(f"fd-{device}", "torch.autograd.gradcheck (slow mode)", benchmark)
