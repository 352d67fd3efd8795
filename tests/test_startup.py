"""Start-up costs: ``--help``/``--version`` without torch, worst indices without sympy, threads."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gradcheck.compare import entry_index
from gradcheck.threads import few_threads, parameter_count


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_never_import_torch(argv):
    code = f"import sys; from gradcheck.cli import main\ntry: main({argv!r})\nexcept SystemExit: pass\n"
    code += "print('torch' in sys.modules, 'gradcheck.grading.assess' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "False False"


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1)])
def test_entry_index_is_torch_unravel_index(shape):
    for flat in range(int(torch.tensor(shape).prod())):
        assert entry_index(flat, shape) == tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape))


def test_few_threads_for_small_problems_and_the_callers_setting_back():
    before = torch.get_num_threads()
    with few_threads(parameter_count((7, 5, 3, 1))):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with few_threads(parameter_count((1024, 1024, 1024, 10))):
        assert torch.get_num_threads() == before
    assert parameter_count((1024, 1024, 1024, 10)) == 2_109_450
