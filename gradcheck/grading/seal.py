"""Sealed results: a resumed batch trusts a ``results.json`` only if this grader wrote it.

A resumed batch skips every submission whose stored ``results.json`` matches its files and the
settings, and copies that grade into ``grades.csv``. If the sandbox could write into the output
folder, a submission could rewrite a classmate's stored results and the next run would take
them as they are. So every ``results.json`` a batch writes carries an HMAC-SHA256 (over the
submission's name and the results, in a canonical JSON form) under a key the grader keeps in
``DIR/.gradcheck.key`` (mode 0600), and a resumed batch grades again whatever does not verify.

The key is out of every submission's reach only where the sandbox cannot read the grader's
files: a mount namespace hides the output folder, or (as root) the submission runs as another
user. Without both (:func:`shielded` is False), a submission runs as the grader's own user and
could read the key, and nothing on disk can be told apart from what it wrote. Then the batch
takes the key off the disk before any submission runs (so an output folder later graded with
isolation does not trust anything signed during this run) and trusts no stored result: every
submission is graded again. What remains is said in the README (Grading a class).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..sandbox import Isolation

__all__ = ["KEY_FILE", "Seal", "forget_key", "shielded"]

KEY_FILE = ".gradcheck.key"
FIELD = "seal"  # in extra_data.gradcheck
_KEY_BYTES = 32


def shielded(isolation: Isolation) -> bool:
    """Whether a submission cannot read or write the grader's files: a mount namespace hides
    the output folder, or it runs as another user than the grader."""
    return bool(isolation.mount) or isolation.drop_uid is not None


def forget_key(out: Path) -> None:
    """Remove the output folder's key (a batch that cannot keep it from its submissions)."""
    try:
        (out / KEY_FILE).unlink()
    except FileNotFoundError:
        pass


def _load_key(out: Path) -> bytes:
    """The output folder's key, created (at random, mode 0600) if it has none."""
    path = out / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(key) != _KEY_BYTES:
            raise ValueError(f"{path} is not a gradcheck key") from None
        return key
    key = secrets.token_bytes(_KEY_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


class Seal:
    """Signs and verifies one output folder's results (the key never leaves this process)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def ephemeral(cls) -> Seal:
        """A seal whose key exists only in this process: nothing it signs verifies later."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    @classmethod
    def of_folder(cls, out: Path) -> Seal:
        """The seal of ``out``: its key, or a new one where the stored key is damaged (then
        nothing stored verifies, and everything is graded again)."""
        try:
            return cls(_load_key(out))
        except (OSError, ValueError):
            forget_key(out)
            return cls(_load_key(out))

    def _mac(self, name: str, results: dict) -> str:
        record = dict(results.get("extra_data", {}).get("gradcheck", {}))
        record.pop(FIELD, None)
        body = dict(results, extra_data=dict(results.get("extra_data", {}), gradcheck=record))
        text = json.dumps([name, body], sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
        return hmac.new(self._key, text.encode("ascii"), hashlib.sha256).hexdigest()

    def sign(self, name: str, results: dict) -> dict:
        """``results`` with its seal in ``extra_data.gradcheck``."""
        sealed = json.loads(json.dumps(results, default=str))
        sealed["extra_data"]["gradcheck"][FIELD] = self._mac(name, sealed)
        return sealed

    def verify(self, name: str, results: Any) -> bool:
        """Whether ``results`` is exactly what this grader sealed for ``name``."""
        try:
            seal = results["extra_data"]["gradcheck"][FIELD]
            return isinstance(seal, str) and hmac.compare_digest(seal, self._mac(name, results))
        except (KeyError, TypeError, AttributeError, ValueError):
            return False
