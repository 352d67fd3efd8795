"""Presets, settings resolution ([tool.gradcheck]) and the wiring through the API and the CLI."""

import json
import pathlib

import pytest

import gradcheck
from gradcheck import cli
from gradcheck.adapters import ADAPTERS
from gradcheck.config import Settings, resolve_settings
from gradcheck.presets import PRESETS, USUAL_ADAPTERS, get_preset
from gradcheck.records import describe_failure
from gradcheck.spec import SEED

SHAPES = pathlib.Path(__file__).parent / "corpus" / "shapes"
CS231N_FILE = str(SHAPES / "cs231n_two_layer.py")


def test_every_preset_is_documented_and_valid():
    import gradcheck.presets as presets

    assert PRESETS["seed"] is SEED
    for name, spec in PRESETS.items():
        assert spec.name == name
        assert f"``{name}``" in presets.__doc__, name
    assert set(USUAL_ADAPTERS.values()) <= set(ADAPTERS)
    assert get_preset("cs231n-two-layer", l2=0.1).l2 == 0.1
    with pytest.raises(ValueError, match="not one of"):
        get_preset("keras")


def test_presets_state_their_sources_math():
    cs = get_preset("cs231n-two-layer")
    assert (cs.hidden.name, cs.output.name, cs.criterion, cs.batch_reduction, cs.l2_form, cs.l2_biases) == (
        "relu",
        "identity",
        "softmax_ce",
        "mean",
        "full",
        False,
    )
    assert get_preset("cs231n-two-layer-half").l2_form == "half"
    ex4 = get_preset("coursera-ml-ex4")
    assert (ex4.criterion, ex4.output_reduction, ex4.batch_reduction, ex4.l2_batch_mean) == ("bce", "sum", "mean", True)


def test_settings_precedence_explicit_over_pyproject_over_defaults():
    assert resolve_settings(pyproject={}) == Settings()
    section = {"spec": {"preset": "cs231n-two-layer", "l2": 0.2}, "adapter": "cs231n", "mode": "self"}
    s = resolve_settings(pyproject=section)
    assert (s.spec.name, s.spec.l2, s.adapter.name, s.mode) == ("cs231n-two-layer", 0.2, "cs231n", "self")
    s = resolve_settings(spec="nielsen", mode="both", pyproject=section)
    assert (s.spec.name, s.adapter.name, s.mode) == ("nielsen", "cs231n", "both")
    s = resolve_settings(pyproject={"adapter": {"name": "cs231n", "method": "compute", "args": ["x", "y"]}})
    assert s.adapter.method == "compute" and s.adapter.args == ("x", "y")


@pytest.mark.parametrize(
    "section, match",
    [
        ({"spec": "nope"}, "not one of"),
        ({"mode": "strict"}, "mode 'strict'"),
        ({"colour": 1}, "unknown setting 'colour'"),
        ({"spec": {"l3": 1}}, "l3"),
    ],
)
def test_bad_settings_say_why(section, match):
    with pytest.raises(ValueError, match=match):
        resolve_settings(pyproject=section)


def test_pyproject_is_read_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.gradcheck]\nspec = "deeplearning-ai"\nmode = "both"\n')
    monkeypatch.chdir(tmp_path)
    s = resolve_settings()
    assert (s.spec.name, s.mode, s.adapter) == ("deeplearning-ai", "both", None)


def test_api_takes_a_preset_an_adapter_and_a_mode():
    net = gradcheck.check(
        CS231N_FILE, function="TwoLayerNet", spec="cs231n-two-layer", adapter="cs231n", max_examples=3, devices=["cpu"]
    )
    assert net.passed, [describe_failure(f) for f in net.failures]
    assert {r.case.depth for r in net.run.results} == {2}
    assert any("adapter cs231n" in w and "mode spec" in w for w in net.warnings)
    half = gradcheck.check(
        CS231N_FILE,
        function="HalfRegWithBiases",
        spec="cs231n-two-layer",
        adapter="cs231n",
        max_examples=0,
        devices=["cpu"],
        mode="self",
    )
    assert half.passed and any("mode self" in w for w in half.warnings)


def run_cli(capsys, *argv):
    code = cli.main(["check", *argv, "--json", "--device", "cpu", "--max-examples", "0"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def test_cli_spec_adapter_and_mode(capsys):
    code, report = run_cli(
        capsys, CS231N_FILE, "--function", "TwoLayerNet", "--spec", "cs231n-two-layer", "--adapter", "cs231n"
    )
    assert code == 0 and report["passed"]
    code, report = run_cli(
        capsys, CS231N_FILE, "--function", "Db2TimesN", "--spec", "cs231n-two-layer", "--adapter", "cs231n"
    )
    assert code == 1
    assert {(f["check"], f["layer"], f["param"]) for f in report["failures"]} == {("gradient-values", 1, "b")}
    code, report = run_cli(
        capsys,
        CS231N_FILE,
        "--function",
        "HalfRegWithBiases",
        "--spec",
        "cs231n-two-layer",
        "--adapter",
        "cs231n",
        "--mode",
        "self",
    )
    assert code == 0 and any("mode self" in w for w in report["warnings"])
    code, report = run_cli(
        capsys,
        CS231N_FILE,
        "--function",
        "HalfRegWithBiases",
        "--spec",
        "cs231n-two-layer",
        "--adapter",
        "cs231n",
        "--mode",
        "both",
    )
    assert code == 1 and {f["kind"] for f in report["failures"]} <= {"value", "type"}


def test_cli_unknown_preset_is_a_usage_error(capsys):
    code = cli.main(["check", CS231N_FILE, "--spec", "keras"])
    assert code == 2
    assert "preset 'keras' is not one of" in capsys.readouterr().err


def test_cli_reads_pyproject(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.gradcheck]\nspec = "nielsen"\nadapter = "nielsen"\n')
    monkeypatch.chdir(tmp_path)
    code, report = run_cli(capsys, str(SHAPES / "nielsen_network.py"), "--function", "Network")
    assert code == 0, report["failures"]
    assert any(r for r in report["warnings"] if "adapter nielsen" in r)
    code, report = run_cli(capsys, str(SHAPES / "nielsen_network.py"), "--function", "PrimeOfOutput")
    assert code == 1 and all(f["layer"] < 4 for f in report["failures"])
