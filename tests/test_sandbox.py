"""The sandbox: values cross as plain JSON, verdicts match in-process checking, and the walls
hold (process cleanup, limits, hidden files, no network) as far as this machine allows.

Tests of a wall the platform does not offer are skipped with the reason (``probe()`` says what
is available); everything else runs everywhere. Each sandbox costs an interpreter start and a
torch import (about a second), so the submissions here are small and few.
"""

from __future__ import annotations

import ast
import json
import math
import os
import socket
import textwrap
import time
from pathlib import Path

import pytest
import torch

import gradcheck
from gradcheck.cases import CaseSpec, builtin_cases, make_case
from gradcheck.checker import check_case, check_cases, compute_truth
from gradcheck.diagnosis import diagnosed
from gradcheck.report import build_report, to_json
from gradcheck.sandbox import Isolation, Limits, SandboxCrash, SandboxedFunction, probe, wire
from gradcheck.spec import SEED

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
CORPUS = ROOT / "tests" / "corpus"
FAST = Limits(call_timeout=3.0, load_timeout=20.0, memory_mb=512)
BASIC = Isolation(subreaper=True)  # no namespaces: what a locked-down platform leaves
ISOLATION = probe()
MODES = [pytest.param(ISOLATION, id="probed"), pytest.param(BASIC, id="basic")]

CORRECT = (Path(__file__).parent / "corpus" / "correct" / "compact.py").read_text()  # a correct submission


def _running(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (read from /proc, no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _eventually(condition, seconds: float = 5.0) -> bool:
    """Poll ``condition`` (processes start asynchronously); no timing is asserted."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def _one_case(fn, widths=(3, 2, 1)):
    case = make_case(CaseSpec(widths))
    result, outcome = check_case(fn, case, compute_truth(SEED, case), timeout=FAST.call_timeout)
    return result, outcome


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path, monkeypatch):
    """Sandboxes' working folders go to a private temp folder, checked empty afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    yield
    assert not [p.name for p in folder.iterdir() if p.name.startswith("gradcheck-sbx-")], (
        "a sandbox left its working folder behind"
    )


# -- the wire: no pickle, exact numbers, the checks' distinctions kept ------------------------------


def test_wire_round_trip_is_exact():
    values = torch.randn(4, 3, dtype=torch.float64)
    values[0, 0], values[0, 1], values[0, 2] = math.nan, math.inf, -0.0
    for t in (values, values.float(), values.half(), values.to(torch.bfloat16)):
        back = wire.decode(json.loads(json.dumps(wire.encode(t))))
        assert type(back) is torch.Tensor and back.dtype == t.dtype and back.shape == t.shape
        assert torch.equal(back.view(-1)[1:], t.view(-1)[1:]) and math.isnan(back.view(-1)[0])
        assert torch.equal(torch.signbit(back), torch.signbit(t))
    ints = torch.arange(6).reshape(2, 3)
    assert torch.equal(wire.decode(wire.encode(ints)), ints)
    assert torch.equal(wire.decode(wire.encode(ints > 2)), ints > 2)
    z = torch.tensor([1 + 2j, -3j], dtype=torch.complex128)
    assert torch.equal(wire.decode(wire.encode(z)), z)


def test_wire_keeps_what_the_checks_judge():
    sub = torch.nn.Parameter(torch.ones(2, 2))
    loss = torch.tensor(1.5)
    value = (loss, [sub, None, {"a": 1}], (3, 2.5, True))
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))
    assert isinstance(back, tuple) and isinstance(back[1], list) and isinstance(back[2], tuple)
    assert type(back[0]) is torch.Tensor
    assert (
        isinstance(back[1][0], torch.Tensor)
        and type(back[1][0]) is not torch.Tensor
        and type(back[1][0]).__name__ == "Parameter"
    )
    assert back[1][1] is None
    assert back[1][2] == {"a": 1}  # dicts travel (CS231n's grads), for adapters to read
    assert back[2] == (3, 2.5, True) and type(back[2][2]) is bool


@pytest.mark.parametrize(
    "message",
    [
        {"k": "tensor", "dtype": "float32", "shape": [2, 2], "data": [1.0], "device": "cpu", "plain": True},
        {"k": "tensor", "dtype": "object", "shape": [1], "data": [1.0], "device": "cpu", "plain": True},
        {"k": "tensor", "dtype": "float64", "shape": [-1], "data": [], "device": "cpu", "plain": True},
        {"k": "tensor", "dtype": "float64", "shape": [1], "data": ["1.0"], "device": "cpu", "plain": True},
        {"k": "pickle", "data": "gASV"},
        {"k": "list", "items": "nope"},
        [1, 2, 3],
    ],
)
def test_wire_rejects_malformed_messages(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_the_child_side_imports_nothing_of_the_harness():
    """The code that runs beside a submission holds no answer key: stdlib and torch only."""
    allowed = {
        "collections",
        "json",
        "os",
        "signal",
        "sys",
        "time",
        "traceback",
        "linecache",
        "inspect",
        "torch",
        "math",
        "re",
        "typing",
        "__future__",
        "_gradcheck_wire",
        "_gradcheck_calling",
    }
    for path in ("sandbox/child.py", "sandbox/wire.py", "adapters/perform.py"):
        tree = ast.parse((ROOT / "gradcheck" / path).read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert imported <= allowed, f"{path} imports {imported - allowed}"


# -- faithful: sandboxed verdicts are in-process verdicts -------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "correct/loops.py",
        "buggy/seed_bug.py",
        "buggy/input_mutation_sgd.py",
        "buggy/grad_accumulation.py",
        "buggy/width1_squeeze_raises.py",
    ],
)
def test_sandboxed_report_equals_in_process_report(path):
    target = str(CORPUS / path)
    specs = builtin_cases(devices=("cpu",))
    local = gradcheck.check(target, cases=specs, timeout=FAST.call_timeout, max_examples=0)
    with SandboxedFunction(target, limits=FAST) as fn:
        assert fn.load().ok
        run = check_cases(fn, specs, timeout=FAST.call_timeout, fresh=fn.fresh, on_case=lambda _: fn.revive())
    remote = diagnosed(build_report(target, run, seed=0, output=fn.output))

    def strip(report):
        data = to_json(report)
        data.pop("elapsed_s")
        return data

    assert strip(remote) == strip(local)


# -- process cleanup, limits, crashes -------------------------------------------------------------


@pytest.mark.parametrize("isolation", MODES)
def test_detached_children_are_killed(isolation):
    marker = "gradcheck-hostile-marker-detached"
    with SandboxedFunction(HOSTILE / "detached_children.py", limits=FAST, isolation=isolation) as fn:
        assert fn.load().ok
        result, _ = _one_case(fn)
        assert not result.failures  # the gradients are right
        assert _eventually(lambda: len(_running(marker)) >= 2), "the submission did start its detached processes"
    assert _running(marker) == []


@pytest.mark.parametrize("isolation", MODES)
def test_timeout_kills_a_process_that_ignores_sigterm(isolation):
    marker = "gradcheck-hostile-marker-sigterm"
    with SandboxedFunction(HOSTILE / "ignores_sigterm.py", limits=FAST, isolation=isolation) as fn:
        assert fn.load().ok
        result, outcome = _one_case(fn)
        assert outcome.timed_out and result.failures[0].kind == "timeout"
        assert fn.timeouts == 1 and "did not return within 3 s" in fn.events[0]
        case = make_case(CaseSpec((2, 1)))
        with pytest.raises(SandboxCrash):  # the sandbox is gone; no further call runs
            fn(case.x, case.y, case.W, case.b)
    assert _running(marker) == []


def test_crash_is_recorded_and_restarts_are_bounded():
    with SandboxedFunction(HOSTILE / "segfault.py", limits=FAST) as fn:
        assert fn.load().ok
        starts = 1
        for _ in range(5):
            _, outcome = _one_case(fn)
            assert "SIGSEGV" in outcome.error
            if fn.revive():
                starts += 1
        assert fn.crashes == starts == 1 + FAST.restarts
        assert not fn.revive()


def test_memory_limit_stops_a_hog():
    with SandboxedFunction(HOSTILE / "memory_hog.py", limits=FAST) as fn:
        assert fn.load().ok
        _, outcome = _one_case(fn)
    assert outcome.error.startswith("MemoryError") and "memory_hog.py:9" in outcome.where


def test_output_is_capped():
    limits = Limits(call_timeout=10, load_timeout=30, output_bytes=50_000)
    with SandboxedFunction(HOSTILE / "flood_stdout.py", limits=limits) as fn:
        assert fn.load().ok
        result, _ = _one_case(fn)
        assert not result.failures
    assert len(fn.output) < 50_000 + 200 and "more bytes of output dropped" in fn.output


def test_printed_replies_are_never_read():
    with SandboxedFunction(HOSTILE / "fake_json_prints.py", limits=FAST) as fn:
        assert fn.load().ok
        result, outcome = _one_case(fn)
    assert not result.failures
    assert '"ok": true' in outcome.output  # it did print its fake reply


def test_forged_reply_on_the_channel_fails_the_call_only():
    with SandboxedFunction(HOSTILE / "fake_reply_fd.py", limits=FAST) as fn:
        assert fn.load().ok
        _, outcome = _one_case(fn)
    assert outcome.error.startswith("ProtocolViolation") and fn.crashes == 1


def test_exceptions_come_back_with_the_submissions_line(tmp_path):
    path = _write(
        tmp_path,
        "student.py",
        """
        def forward_backward(x, y, W, b):
            scale = 2
            raise KeyError("no such layer")
    """,
    )
    with SandboxedFunction(path, limits=FAST) as fn:
        assert fn.load().ok
        _, outcome = _one_case(fn)
    assert outcome.error == "KeyError: 'no such layer'"
    assert outcome.where == 'student.py:4: raise KeyError("no such layer")'


def test_sys_exit_in_a_call_is_an_error_not_a_pass():
    with SandboxedFunction(HOSTILE / "exit_sys.py", limits=FAST) as fn:
        assert fn.load().ok
        _, outcome = _one_case(fn)
    assert outcome.error == "SystemExit: called sys.exit(0)"


# -- loading: files, notebooks, folders ------------------------------------------------------------


def test_load_errors_are_one_line(tmp_path):
    broken = _write(tmp_path, "broken.py", "def forward_backward(x, y, W, b)\n    return 1\n")
    other = _write(tmp_path, "other.py", "def backprop(x, y, W, b):\n    return 1\n")
    with SandboxedFunction(broken, limits=FAST) as fn:
        outcome = fn.load()
    assert not outcome.ok and outcome.error.startswith("broken.py:1: SyntaxError")
    with SandboxedFunction(other, limits=FAST) as fn:
        outcome = fn.load()
    assert outcome.error == "other.py defines no 'forward_backward' (it defines: backprop)"


def test_notebook_with_magics_and_a_failing_demo_cell(tmp_path):
    cells = [
        "%matplotlib inline\nimport torch",
        CORRECT,
        "forward_backward(None, None, None, None)  # a broken demo",
        "!pip install nothing",
        "files = !ls\nt = %timeit -o forward_backward",  # magics inside a line
        "x = (1,",  # a cell that cannot parse
    ]
    notebook = {
        "cells": [
            {"id": f"c{i}", "cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
            for i, c in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "student.ipynb"
    path.write_text(json.dumps(notebook))
    with SandboxedFunction(path, limits=FAST) as fn:
        outcome = fn.load()
        assert outcome.ok and outcome.warnings[0].startswith("cell 3 raised")
        assert len(outcome.warnings) == 2 and outcome.warnings[1].startswith("cell 6 skipped: student.ipynb [cell 6]")
        result, _ = _one_case(fn)
    assert not result.failures


def test_a_dataclass_submission_loads_as_a_registered_module(tmp_path):
    source = "from __future__ import annotations\nimport dataclasses\n\n\n@dataclasses.dataclass\nclass Net:\n"
    source += "    depth: int = 0\n\n\n" + CORRECT
    path = _write(tmp_path, "student.py", source)
    with SandboxedFunction(path, limits=FAST) as fn:
        assert fn.load().ok
        result, _ = _one_case(fn)
    assert not result.failures


def test_folder_with_helpers_and_a_decoy_torch_module(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    _write(folder, "helpers.py", CORRECT)
    _write(folder, "torch.py", "raise ImportError('a student file named torch.py must not shadow torch')\n")
    main = _write(folder, "main.py", "from helpers import forward_backward\n")
    with SandboxedFunction(main, folder=folder, limits=FAST) as fn:
        assert fn.load().ok
        result, _ = _one_case(fn)
    assert not result.failures


# -- the walls the platform allows -----------------------------------------------------------------


def _printed(tmp_path, source: str, **kwargs) -> str:
    """Run ``source`` (its top-level code) in a sandbox; what it printed."""
    path = _write(
        tmp_path,
        "probe_submission.py",
        textwrap.dedent(source) + "\n\ndef forward_backward(x, y, W, b):\n    return None\n",
    )
    with SandboxedFunction(path, limits=FAST, **kwargs) as fn:
        outcome = fn.load()
    assert outcome.ok, outcome.error
    return fn.output


def test_harness_is_not_importable(tmp_path):
    out = _printed(
        tmp_path,
        """
        for name in ("reference_impl", "gradcheck", "gradcheck.oracles"):
            try:
                __import__(name)
                print("IMPORTED", name)
            except ImportError:
                print("BLOCKED", name)
    """,
    )
    assert "IMPORTED" not in out and out.count("BLOCKED") == 3


@pytest.mark.skipif(
    not ISOLATION.mount, reason="no mount namespace on this machine: harness files stay readable (documented)"
)
def test_harness_rubric_and_other_submissions_are_hidden(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("secret = 1\n")
    other = _write(tmp_path, "other_student.py", CORRECT)
    secrets = [
        ROOT / "reference_impl" / "__init__.py",
        ROOT / "gradcheck" / "oracles.py",
        CORPUS / "correct" / "loops.py",
        rubric,
        other,
    ]
    out = _printed(
        tmp_path,
        f"""
        import os
        for path in {[str(p) for p in secrets]!r}:
            try:
                with open(path) as f:
                    print("READ", path, len(f.read()))
            except OSError as exc:
                print("DENIED", path, type(exc).__name__)
    """,
        hide=[rubric],
    )
    readable = [line for line in out.splitlines() if line.startswith("READ") and not line.endswith(" 0")]
    assert readable == []


@pytest.mark.skipif(not ISOLATION.readonly, reason="no read-only mounts on this machine")
def test_nothing_outside_the_working_folder_is_writable(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = _printed(
        tmp_path,
        f"""
        for path in ({str(outside / "planted.json")!r}, "/tmp/planted.json", "../planted.json", "inside.json"):
            try:
                open(path, "w").write("{{}}")
                print("WROTE", path)
            except OSError:
                print("REFUSED", path)
    """,
    )
    assert "WROTE inside.json" in out and out.count("WROTE") == 1
    assert not (outside / "planted.json").exists()


@pytest.mark.skipif(not ISOLATION.net, reason="no network namespace on this machine: network not isolated (documented)")
def test_no_network(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    out = _printed(
        tmp_path,
        f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
            print("CONNECTED")
        except OSError as exc:
            print("NO NETWORK", type(exc).__name__)
    """,
    )
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()
    assert "NO NETWORK" in out


@pytest.mark.skipif(not ISOLATION.pid, reason="no PID namespace on this machine")
def test_pid_namespace_hides_the_grader(tmp_path):
    out = _printed(
        tmp_path,
        f"""
        import os
        grader = "/proc/{os.getpid()}/cmdline"
        print("PID", os.getpid(), "GRADER VISIBLE", os.path.exists(grader) and b"pytest" in open(grader, "rb").read())
    """,
    )
    assert "PID 1 GRADER VISIBLE False" in out


@pytest.mark.skipif(
    ISOLATION.drop_uid is None and not ISOLATION.user, reason="the child runs as the grader's own user here"
)
def test_runs_without_privileges(tmp_path):
    out = _printed(
        tmp_path,
        """
        import os
        print("UID", os.getuid(), "EUID", os.geteuid())
        try:
            os.setuid(0)
            print("BECAME ROOT")
        except OSError:
            print("NO PRIVILEGE")
    """,
    )
    assert "NO PRIVILEGE" in out and ("UID 0 " not in out or ISOLATION.user)


# -- IPC: nothing shared between submissions, nothing left behind -----------------------------------

IPC_KEY = 0x67726164  # the key tests/hostile/ipc_shared_memory.py uses
IPC_MQUEUE = b"/gradcheck-hostile-ipc"


def _ipc_left() -> list[str]:
    """What the hostile IPC submission's objects look like from here, if any outlived it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    left = [kind for kind in ("shm", "msg", "sem") if str(IPC_KEY) in Path(f"/proc/sysvipc/{kind}").read_text().split()]
    mq = libc.mq_open(IPC_MQUEUE, os.O_RDONLY, 0, None)
    if mq >= 0:
        os.close(mq)
        left.append("mqueue")
    return left


@pytest.fixture
def _no_ipc_leftovers():
    """Remove the hostile submission's IPC objects afterwards, whatever the test found."""
    import ctypes

    yield
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmctl(libc.shmget(IPC_KEY, 0, 0), 0, None)
    libc.msgctl(libc.msgget(IPC_KEY, 0), 0, None)
    libc.semctl(libc.semget(IPC_KEY, 0, 0), 0, 0, 0)
    libc.mq_unlink(IPC_MQUEUE)


@pytest.mark.skipif(not Path("/proc/sysvipc").is_dir(), reason="no System V IPC listing (/proc/sysvipc) here")
@pytest.mark.parametrize("isolation", MODES)
def test_ipc_objects_neither_reach_the_next_submission_nor_outlive_the_sandbox(isolation, _no_ipc_leftovers):
    if isolation is ISOLATION and not ISOLATION.ipc:
        pytest.skip("no IPC namespace on this machine: the basic case covers the launcher's clean-up")
    outputs = []
    for _ in range(2):
        with SandboxedFunction(HOSTILE / "ipc_shared_memory.py", limits=FAST, isolation=isolation) as fn:
            assert fn.load().ok
        outputs.append(fn.output)
        assert _ipc_left() == []
    assert all("LEFT" in out for out in outputs), outputs  # it did create its objects
    assert "FOUND" not in outputs[1], outputs[1]


@pytest.mark.skipif(not ISOLATION.nouserns, reason="nested user namespaces cannot be blocked on this machine")
def test_nested_user_namespaces_are_refused():
    with SandboxedFunction(HOSTILE / "ipc_nested_user_namespace.py", limits=FAST) as fn:
        assert fn.load().ok
        result, _ = _one_case(fn)
    assert "NESTED USERNS REFUSED" in fn.output, fn.output
    assert not result.failures  # its gradients are right: the refusal costs nothing else


def test_isolation_reports_ipc_and_nested_user_namespaces():
    lines = Isolation(subreaper=True).describe()
    assert any(line.startswith("IPC NOT isolated") for line in lines)
    assert "nested user namespaces NOT blocked" in lines
    lines = Isolation(subreaper=True, ipc=True, nouserns=True).describe()
    assert any(line.startswith("IPC namespace") for line in lines)
    assert any(line.startswith("no nested user namespaces") for line in lines)


# -- the wire's limits: a forged reply beyond them is that call's failure --------------------------


def _reply(value: str) -> bytes:
    return f'{{"id": 1, "ok": true, "value": {value}}}'.encode()


@pytest.mark.parametrize(
    "line, message",
    [
        (_reply('{"k": "int", "v": ' + "9" * 4000 + "}"), "an integer of 4000 digits"),
        (_reply('{"k": "float", "v": ' + str(2**70) + "}"), "an integer of 22 digits"),
        (_reply("[" * 5000 + "]" * 5000), "nested too deeply"),
        (_reply("[" + "[]," * (wire.MAX_CONTAINERS + 1) + "[]]"), "more than 200000 arrays and objects"),
        (b'{"pad": "' + b"x" * (wire.MAX_MESSAGE + 1) + b'"}', "longer than 64 MiB"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_wire_parse_refuses_what_exceeds_its_limits(line, message):
    with pytest.raises(wire.WireError, match=message):
        wire.parse(line)


@pytest.mark.parametrize(
    "value, message",
    [
        ({"k": "int", "v": 2**64}, "beyond 64 bits"),
        ({"k": "float", "v": 2**64}, "beyond 64 bits"),
        ({"k": "str", "v": "A" * (wire.MAX_STRING + 1)}, "a string of 10001 characters"),
        ({"k": "dict", "items": [["A" * (wire.MAX_KEY + 1), {"k": "none"}]]}, "a string of 201 characters"),
        ({"k": "object", "cls": "A" * (wire.MAX_KEY + 1)}, "a string of 201 characters"),
        (
            {"k": "tensor", "dtype": "int64", "shape": [1], "data": [2**64], "device": "cpu", "plain": True},
            "beyond 64 bits",
        ),
        ({"k": "tensor", "dtype": "float64", "shape": [2**62, 0], "data": [], "device": "cpu"}, "bad shape"),
    ],
)
def test_wire_decode_refuses_what_exceeds_its_limits(value, message):
    with pytest.raises(wire.WireError, match=message):
        wire.decode(value)


def test_wire_limits_keep_what_the_encoder_sends():
    value = {"k" * wire.MAX_KEY: "v" * wire.MAX_STRING, "n": 2**63 - 1, "m": -(2**63)}
    assert wire.decode(wire.parse(json.dumps(wire.encode(value)).encode())) == value


@pytest.mark.parametrize(
    "name, note",
    [
        ("wire_huge_integer.py", "an integer of 4000 digits"),
        ("wire_deep_nesting.py", "nested too deeply"),
        ("wire_huge_string.py", "a string of 1048576 characters"),
    ],
)
def test_forged_reply_beyond_the_wire_limits_fails_that_call_only(name, note):
    with SandboxedFunction(HOSTILE / name, limits=FAST) as fn:
        assert fn.load().ok
        result, outcome = _one_case(fn)
    assert outcome.error.startswith("ProtocolViolation") and note in outcome.error, outcome.error
    assert "\n" not in outcome.error and len(outcome.error) < 300
    assert result.failures and result.failures[0].check == "call"
