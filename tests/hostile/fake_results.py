"""Hostile: writes fake grades wherever they might be read: results.json in its working
folder, in the folders above, in Gradescope's /autograder/results, and (when the test tells it
where, as a student who guessed right) into the output folder over every other submission's
results.json and grades.csv; then returns zeros. Expected: its own grade is the grader's
(low), and every other submission's results.json and grades.csv are intact."""
import glob
import json
import os

import torch

OUT_DIR = None  # a test writes the grader's real output folder here
FAKE = json.dumps({"score": 999, "tests": [], "output": "hacked", "extra_data": {"gradcheck": {"fingerprint": "x", "settings": "x"}}})


def _plant():
    targets = ["results.json", "../results.json", "../../results.json", "/autograder/results/results.json", "grades.csv", "../grades.csv"]
    if OUT_DIR:
        targets += [os.path.join(OUT_DIR, "grades.csv")] + glob.glob(os.path.join(OUT_DIR, "*", "results.json"))
        targets += [os.path.join(OUT_DIR, "zz_not_a_submission", "results.json")]
    for target in targets:
        try:
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            with open(target, "w") as f:
                f.write(FAKE)
        except OSError:
            pass


def forward_backward(x, y, W, b):
    _plant()
    return torch.zeros((), dtype=x.dtype), [torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b]
