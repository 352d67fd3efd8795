"""``gradcheck check``: exit codes, one clear line for bad input, pure JSON, reproduction lines."""

import json
import pathlib
import re
import subprocess
import sys

import pytest

from gradcheck.cli import main

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE / "fixtures"
BAD = sorted((FIXTURES / "bad").glob("*.py"))
SEED_NOTEBOOK = FIXTURES / "seed_notebook.ipynb"
# The fixtures that truly never return get a short per-call timeout; every other one a generous
# one, so that its verdict is its own behaviour, never the speed of a loaded machine.
NEVER_RETURN = ("hangs", "sleeps")
HANG_TIMEOUT, GENEROUS_TIMEOUT = "0.5", "60"


def expected_exit(path):
    return int(re.match(r"# gradcheck-expected-exit: (\d)", path.read_text()).group(1))


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_input_gets_its_exit_code_and_no_traceback(path, capsys):
    timeout = HANG_TIMEOUT if path.stem in NEVER_RETURN else GENEROUS_TIMEOUT
    code = main(["check", str(path), "--json", "--timeout", timeout])
    out, err = capsys.readouterr()
    assert code == expected_exit(path)
    assert "Traceback" not in out + err
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("gradcheck: ")
    else:
        json.loads(out)  # exactly one JSON object, whatever the implementation printed


def test_missing_file_and_bad_options_exit_2(capsys):
    assert main(["check", "no/such/file.py"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(SEED_NOTEBOOK), "--widths", "7,x"])
    assert exit_.value.code == 2
    assert main(["check", str(SEED_NOTEBOOK), "--widths", "3,2", "--batch-size", "4"]) == 2
    assert "--batch-size 4 needs --batch" in capsys.readouterr().err


def test_an_exception_names_the_implementations_own_line(capsys):
    assert main(["check", str(FIXTURES / "bad" / "raises.py"), "--json"]) == 1
    failure = json.loads(capsys.readouterr().out)["failures"][0]
    assert failure["check"] == "call" and failure["kind"] == "exception"
    assert "raises.py:17" in failure["message"]


def test_the_seed_notebook_fails_on_layer_0_W_with_the_contracts_json(capsys):
    assert main(["check", str(SEED_NOTEBOOK), "--json", "--seed", "12"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"target", "passed", "checks", "failures", "seed", "elapsed_s"}
    assert report["passed"] is False and report["seed"] == 12
    assert {c["name"] for c in report["checks"]} >= {
        "call",
        "returns",
        "loss-value",
        "gradient-shapes",
        "gradient-values",
    }
    first = report["failures"][0]
    assert (first["check"], first["layer"], first["param"], first["kind"]) == ("gradient-shapes", 0, "W", "shape")
    assert first["expected"] == [first["case"]["widths"][1], first["case"]["widths"][0]]
    assert first["got"] == [first["case"]["widths"][1], first["case"]["widths"][-1]]  # a[-1]: the output
    assert set(first) >= {"max_abs_error", "max_rel_error", "worst_index", "diagnosis", "hint", "case", "reproduce"}
    assert first["reproduce"].startswith(f"gradcheck check {SEED_NOTEBOOK}") and "--seed 12" in first["reproduce"]


def test_a_reproduction_line_rebuilds_the_failing_case(capsys):
    main(["check", str(SEED_NOTEBOOK), "--json"])
    values = next(f for f in json.loads(capsys.readouterr().out)["failures"] if f["check"] == "gradient-values")
    args = values["reproduce"].split()[2:]  # drop "gradcheck check"
    assert main(["check", *args, "--json"]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["cases_run"] == 2  # the case, then its repeat
    assert any(
        f["check"] == "gradient-values" and f["max_abs_error"] == values["max_abs_error"] for f in again["failures"]
    )


def test_correct_targets_in_every_form_exit_0(capsys):
    for target in (
        str(FIXTURES / "seed_fixed.ipynb"),
        "reference_impl:forward_backward",
        str(HERE / "corpus" / "correct" / "loops.py"),
    ):
        assert main(["check", target, "--batch"] if "ipynb" not in target else ["check", target]) == 0, target
    assert "PASS" in capsys.readouterr().out


def test_human_output_has_the_table_the_failure_and_the_reproduction(capsys):
    main(["check", str(SEED_NOTEBOOK)])
    out = capsys.readouterr().out
    assert "FAIL" in out and "per layer and parameter" in out
    assert "gradient-shapes layer 0 W" in out and "reproduce: gradcheck check" in out and "smallest case" in out


def test_the_console_script_keeps_stdout_to_the_json():
    """A real process: the notebook's own prints (it prints on every call) must not reach stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "check", str(SEED_NOTEBOOK), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["failures"][0]["layer"] == 0
    assert "Final activation" not in done.stdout


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning")  # numpy code fed torch tensors
def test_adapter_fields_can_be_set_on_the_command_line(capsys):
    """--adapter-option KEY=VALUE: the numpy fixture needs numpy=true; without it the call fails."""
    numpy_impl = str(HERE / "corpus" / "shapes" / "numpy_forward_backward.py")
    assert main(["check", numpy_impl, "--adapter-option", "numpy=true", "--max-examples", "0"]) == 0
    assert main(["check", numpy_impl, "--max-examples", "0"]) == 1
    capsys.readouterr()
    assert main(["check", numpy_impl, "--adapter-option", "no_such_field=1"]) == 2
    assert "no_such_field" in capsys.readouterr().err


def test_settings_round_trip_through_their_command_line_options():
    import shlex

    from gradcheck.cli import build_parser, command_line_source
    from gradcheck.config import resolve, table_source

    settings = resolve(
        table_source(
            {"spec": {"preset": "cs231n-two-layer", "l2": 0.0, "hidden": "tanh"}, "mode": "both"},
            label="(test)",
        ),
        table_source({"adapter": {"name": "numpy", "layout": "row"}}, label="(test)"),
    )
    args = build_parser().parse_args(["check", "x.py", *shlex.split(settings.cli_args())])
    again = resolve(command_line_source(args))
    assert again == settings


def test_reproduction_lines_carry_the_spec_and_adapter(capsys):
    shapes = str(HERE / "corpus" / "shapes" / "cs231n_two_layer.py")
    common = ["--spec", "cs231n-two-layer", "--adapter", "cs231n", "--max-examples", "0", "--json"]
    assert main(["check", shapes, "--function", "Db2TimesN", *common]) == 1
    reproduce = json.loads(capsys.readouterr().out)["failures"][0]["reproduce"]
    assert "--spec cs231n-two-layer --adapter cs231n" in reproduce
    assert main(["check", *reproduce.split()[2:], "--json"]) == 1
    # A different but self-consistent loss passes once the spec says so.
    assert (
        main(
            [
                "check",
                shapes,
                "--function",
                "HalfRegWithBiases",
                *common,
                "--spec-option",
                "l2_form=half",
                "--spec-option",
                "l2_biases=true",
            ]
        )
        == 0
    )


@pytest.mark.parametrize("value", ["nan", "inf", "0"])
def test_the_graders_timeout_refuses_non_finite_numbers(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--timeout", value])
    assert exit_.value.code == 2
    assert (
        capsys.readouterr().err == f"gradcheck: error: argument --timeout: {value!r} is not a finite positive number\n"
    )
