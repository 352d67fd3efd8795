"""The one settings resolver (gradcheck.config.resolve): each source, precedence field by field,
errors that name their source, and the faces (CLI, rubric, API) going through it."""

from __future__ import annotations

import json
import pathlib

import pytest

import gradcheck
from gradcheck import cli
from gradcheck.config import (
    Settings,
    SettingsError,
    Source,
    pyproject_source,
    resolve,
    settings_source,
    table_source,
)
from gradcheck.defaults import DEFAULT_FUNCTION, DEFAULT_MAX_EXAMPLES, DEFAULT_TIMEOUT
from gradcheck.grading import RubricError, parse_rubric
from gradcheck.presets import get_preset

SHAPES = pathlib.Path(__file__).parent / "corpus" / "shapes"
CS231N_FILE = str(SHAPES / "cs231n_two_layer.py")
NUMPY_FILE = str(SHAPES / "numpy_forward_backward.py")

PYPROJECT = """\
[tool.gradcheck]
mode = "self"
timeout = 4
max_examples = 7

[tool.gradcheck.spec]
preset = "cs231n-two-layer"
l2 = 0.2

[tool.gradcheck.adapter]
name = "cs231n"
method = "compute"
reg = "lam"
"""


def command_line(values: dict, spelled: dict | None = None) -> Source:
    return Source("(command line)", values, spelled or {}, text=True)


@pytest.fixture
def pyproject(tmp_path: pathlib.Path) -> Source:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    return pyproject_source(path)


def test_defaults_are_the_seed_contract_and_the_shared_constants():
    s = resolve()
    assert s == Settings() and s.judged_as_seed
    assert (s.function, s.max_examples, s.timeout, s.seed, s.devices) == (
        DEFAULT_FUNCTION,
        DEFAULT_MAX_EXAMPLES,
        DEFAULT_TIMEOUT,
        0,
        None,
    )
    assert s.spec == get_preset("seed") and s.adapter is None and s.mode == "spec"


def test_pyproject_tables_resolve_every_field_and_record_where(pyproject, tmp_path):
    s = resolve(pyproject)
    assert (s.spec.name, s.spec.l2, s.spec.batch) == ("cs231n-two-layer", 0.2, True)
    assert (s.adapter.name, s.adapter.method, s.adapter.reg, s.adapter.layout) == ("cs231n", "compute", "lam", "row")
    assert (s.mode, s.timeout, s.max_examples) == ("self", 4.0, 7)
    where = tmp_path / "pyproject.toml"
    assert s.sources["timeout"] == f"[tool.gradcheck] timeout in {where}"
    assert s.sources["adapter"] == f"[tool.gradcheck.adapter] name in {where}"
    assert s.sources["spec.l2"] == f"[tool.gradcheck.spec] l2 in {where}"
    assert "seed" not in s.sources  # a default


def test_one_adapter_option_overrides_one_field_of_the_table(pyproject):
    """Regression: one --adapter-option used to discard the whole [tool.gradcheck.adapter] table."""
    s = resolve(command_line({"adapter.method": "loss"}), pyproject)
    assert (s.adapter.name, s.adapter.method, s.adapter.reg) == ("cs231n", "loss", "lam")
    s = resolve(command_line({"spec.l2": 0.0}), pyproject)
    assert (s.spec.name, s.spec.l2, s.spec.criterion) == ("cs231n-two-layer", 0.0, "softmax_ce")
    s = resolve(command_line({"adapter": "cs231n"}), pyproject)  # naming the same adapter keeps its fields
    assert s.adapter.method == "compute"


def test_a_higher_source_naming_another_base_starts_over(pyproject):
    s = resolve(command_line({"adapter": "nielsen", "spec": "nielsen"}), pyproject)
    assert s.adapter == gradcheck_adapter("nielsen")  # not nielsen with method="compute"
    assert s.spec == get_preset("nielsen")
    assert s.mode == "self"  # the fields that are not spec or adapter still come from below


def gradcheck_adapter(name: str):
    from gradcheck.adapters import get_adapter

    return get_adapter(name)


def test_precedence_is_field_by_field_across_three_sources(pyproject):
    ini = Source("in /p/tox.ini", {"timeout": "2", "seed": "5"}, text=True)
    s = resolve(command_line({"seed": "9"}), ini, pyproject)
    assert (s.seed, s.timeout, s.max_examples) == (9, 2.0, 7)
    assert s.sources["seed"] == "seed (command line)" and s.sources["timeout"] == "timeout in /p/tox.ini"


def test_the_canonical_adapter_unchanged_is_no_adapter_and_a_configured_one_is_named_by_its_fields():
    assert resolve(command_line({"adapter": "canonical"})).adapter is None
    s = resolve(command_line({"adapter.numpy": True, "adapter.layout": "row"}))
    assert s.adapter.numpy and s.adapter.name == "canonical"
    assert "adapter canonical" not in s.describe()
    assert 'adapter {layout = "row", numpy = true}' in s.describe()
    named = resolve(command_line({"adapter": "cs231n", "adapter.method": "compute"}))
    assert 'adapter cs231n {method = "compute"}' in named.describe()
    spec = resolve(command_line({"spec": "cs231n-two-layer", "spec.l2": 0.0}))
    assert spec.describe().startswith("spec cs231n-two-layer {l2 = 0.0}")


@pytest.mark.parametrize(
    "values, spelled, message",
    [
        ({"timeout": "nan"}, "--timeout", "--timeout (command line): 'nan' is not a finite number of seconds above 0"),
        ({"timeout": "inf"}, "--timeout", "--timeout (command line): 'inf' is not a finite number of seconds above 0"),
        ({"timeout": "0"}, "--timeout", "--timeout (command line): '0' is not a finite number of seconds above 0"),
        ({"seed": "abc"}, "--seed", "--seed (command line): 'abc' is not a whole number"),
        ({"max_examples": "-1"}, "--max-examples", "--max-examples (command line): '-1' is not a whole number of at"),
        ({"mode": "strict"}, "--mode", "--mode (command line): mode 'strict' is not one of spec, self, both"),
        ({"adapter.method": 3}, "--adapter-option method=3", "--adapter-option method=3 (command line): 3 is not a"),
        ({"adapter.lr": float("inf")}, "--adapter-option lr=inf", "--adapter-option lr=inf (command line): inf is not"),
        (
            {"adapter.layout": "diag"},
            "--adapter-option layout=diag",
            "--adapter-option layout=diag (command line): adapter layout='diag'",
        ),
        ({"spec.l3": 1}, "--spec-option l3=1", "--spec-option l3=1 (command line): spec has no field 'l3'"),
        ({"spec": "keras"}, "--spec", "--spec (command line): spec preset 'keras' is not one of"),
    ],
)
def test_errors_are_one_line_naming_the_source(values, spelled, message):
    key = next(iter(values))
    with pytest.raises(SettingsError) as error:
        resolve(command_line(values, {key: spelled}))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_pyproject_errors_name_the_table_and_the_file(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.gradcheck.adapter]\nname = "cs231n"\nmethod = 3\n')
    with pytest.raises(SettingsError, match=rf"^\[tool.gradcheck.adapter\] method in {path}: 3 is not a string"):
        resolve(pyproject_source(path))
    path.write_text("[tool.gradcheck]\ntimeout = inf\n")
    with pytest.raises(SettingsError, match=rf"^\[tool.gradcheck\] timeout in {path}: inf is not a finite"):
        resolve(pyproject_source(path))
    path.write_text("[tool.gradcheck]\ncolour = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        pyproject_source(path)


def test_a_bad_combination_names_only_the_fields_that_make_it_bad():
    spelled = {"spec.criterion": "--spec-option criterion=bce", "spec.l2": "--spec-option l2=0.5"}
    with pytest.raises(SettingsError) as error:
        resolve(
            command_line({"spec.criterion": "bce", "spec.l2": 0.5}, spelled),
            table_source({"spec": "cs231n-two-layer"}, label="in p"),
        )
    assert str(error.value).startswith("--spec-option criterion=bce (command line): loss 'bce' needs a sigmoid")


def test_the_api_takes_settings_and_keyword_arguments_over_them(pyproject):
    s = resolve(pyproject)
    again = resolve(Source("", {"seed": 3}), settings_source(s))
    assert again.seed == 3 and again.spec == s.spec and again.adapter == s.adapter and again.timeout == 4.0
    assert again.sources["adapter"] == s.sources["adapter"]  # still named by where it first came from
    with pytest.raises(SettingsError, match=r"^check\(timeout=...\): inf is not a finite number"):
        gradcheck.check(lambda *a: None, timeout=float("inf"))


def test_the_rubric_goes_through_the_same_resolver():
    base = '[[tests]]\nname = "a"\nchecks = ["loss-value"]\n'
    assert parse_rubric(base).max_examples == 50  # the rubric's own default
    rubric = parse_rubric('function = "f"\nseed = 4\n[sandbox]\ntimeout = 3\n' + base)
    assert (rubric.function, rubric.seed, rubric.timeout) == ("f", 4, 3.0)
    assert rubric.settings.timeout == 3.0 and rubric.settings.function == "f"
    with pytest.raises(RubricError, match=r"^r\.toml: sandbox\.timeout is inf; numbers in a rubric must be finite$"):
        parse_rubric("[sandbox]\ntimeout = inf\n" + base, "r.toml")
    with pytest.raises(RubricError, match=r"^\[adapter\] method in r.toml: 3 is not a string"):
        parse_rubric('[adapter]\nname = "numpy"\nmethod = 3\n' + base, "r.toml")


def run_cli(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = cli.main(["check", *argv, "--json", "--device", "cpu", "--max-examples", "0"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::RuntimeWarning")
def test_cli_adapter_option_keeps_the_pyproject_table(tmp_path, monkeypatch, capsys):
    """The regression end to end: [tool.gradcheck.adapter] says numpy = true; one more field on
    the command line must not drop it (without numpy = true the numpy fixture fails)."""
    (tmp_path / "pyproject.toml").write_text("[tool.gradcheck.adapter]\nnumpy = true\n")
    monkeypatch.chdir(tmp_path)
    code, report, _ = run_cli(capsys, NUMPY_FILE)
    assert code == 0, report["failures"]
    code, report, _ = run_cli(capsys, NUMPY_FILE, "--adapter-option", "layout=column")
    assert code == 0, report["failures"]
    assert any("adapter {numpy = true}" in w for w in report["warnings"]), report["warnings"]
    assert not any("adapter canonical" in w for w in report["warnings"])
    code, report, _ = run_cli(capsys, NUMPY_FILE, "--adapter-option", "numpy=false")  # the one field, overridden
    assert code == 1


@pytest.mark.parametrize("flag, value", [("--timeout", "nan"), ("--timeout", "inf"), ("--seed", "x")])
def test_cli_refuses_unusable_numbers_with_one_line_and_exit_2(capsys, flag, value):
    code = cli.main(["check", CS231N_FILE, flag, value])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"gradcheck: {flag} (command line): {value!r} is not")


def test_cli_error_names_the_pyproject_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.gradcheck.adapter]\nname = "cs231n"\nmethod = 3\n')
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", CS231N_FILE])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"gradcheck: [tool.gradcheck.adapter] method in {tmp_path / 'pyproject.toml'}: 3 is not a string\n"


def test_a_preset_without_its_adapter_says_which_adapter_its_layout_needs(capsys):
    code, report, _ = run_cli(capsys, CS231N_FILE, "--function", "TwoLayerNet", "--spec", "cs231n-two-layer")
    assert code == 1  # the CS231n class is not called canonically: the adapter is never guessed
    assert any("needs the cs231n adapter" in w for w in report["warnings"]), report["warnings"]
    code, report, _ = run_cli(
        capsys, CS231N_FILE, "--function", "TwoLayerNet", "--spec", "cs231n-two-layer", "--adapter", "cs231n"
    )
    assert code == 0 and not any("needs the" in w for w in report["warnings"])
