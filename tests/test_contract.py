"""The published contract: real ``--json`` output against the shipped JSON Schema, ``--version``,
``--help``'s listings, and packaging that declares what the code imports.

The schema (gradcheck/schemas/report.schema.json, explained in docs/json.md) is validated against
what ``gradcheck check`` really prints for a correct and a buggy corpus file, and shown to reject
broken documents, so a test here fails when the output and the published contract drift apart.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from importlib.resources import files
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

import jsonschema
import pytest

import gradcheck
from gradcheck.adapters import ADAPTERS
from gradcheck.cases import REGIMES, parse_dtype
from gradcheck.checker import CHECKS
from gradcheck.cli import CHECK_EXIT_CODES, main
from gradcheck.compare import TOLERANCES
from gradcheck.diagnosis import DIAGNOSIS_IDS
from gradcheck.presets import PRESETS
from gradcheck.report import SCHEMA_VERSION

ROOT = pathlib.Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "corpus"
CORRECT = CORPUS / "correct" / "seed_fixed.py"
BUGGY = CORPUS / "buggy" / "seed_bug.py"  # the seed's a[-1] bug: its hint is full of δ⁽⁰⁾ and xᵀ
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def load_schema() -> dict[str, Any]:
    """The schema as an installed package reads it: package data, not a path into the checkout."""
    text = files("gradcheck").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # the file itself is a valid draft 2020-12 schema
    return cls(schema)


def run_cli(target: pathlib.Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``gradcheck check TARGET --json`` in a fresh interpreter: stdout exactly as a tool reads it."""
    command = [sys.executable, "-m", "gradcheck.cli", "check", str(target), "--json", "--max-examples", "0"]
    return subprocess.run(
        [*command, "--device", "cpu"], capture_output=True, cwd=ROOT, env={**os.environ, **env}, timeout=600
    )


@pytest.fixture(scope="module")
def correct_run() -> subprocess.CompletedProcess[bytes]:
    return run_cli(CORRECT)


@pytest.fixture(scope="module")
def buggy_run() -> subprocess.CompletedProcess[bytes]:
    # An ASCII-only locale: the JSON must still come out as UTF-8, non-ASCII characters unescaped.
    return run_cli(BUGGY, PYTHONIOENCODING="ascii")


def document(run: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    return json.loads(run.stdout.decode("utf-8"))  # the whole of stdout is one JSON object


# -- real output against the schema ---------------------------------------------------------------


def test_a_correct_implementations_json_validates_and_passes(correct_run, validator):
    assert correct_run.returncode == 0, correct_run.stderr.decode()
    report = document(correct_run)
    validator.validate(report)
    assert report["passed"] is True and report["failures"] == [] and report["cases_run"] > 0


def test_a_buggy_implementations_json_validates_and_names_the_bug(buggy_run, validator):
    assert buggy_run.returncode == 1, buggy_run.stderr.decode()
    report = document(buggy_run)
    validator.validate(report)
    first = report["failures"][0]
    assert (first["check"], first["layer"], first["param"]) == ("gradient-shapes", 0, "W")
    assert first["diagnosis"] == "layer0-uses-wrong-input"


def test_json_keeps_non_ascii_readable_whatever_the_locale(buggy_run):
    assert "δ⁽⁰⁾".encode() in buggy_run.stdout and "xᵀ".encode() in buggy_run.stdout
    assert b"\\u03b4" not in buggy_run.stdout  # no \u escapes


def test_json_carries_the_schema_and_gradcheck_versions(correct_run, buggy_run):
    schema = load_schema()
    for run in (correct_run, buggy_run):
        report = document(run)
        assert report["schema_version"] == SCHEMA_VERSION == schema["properties"]["schema_version"]["const"]
        assert report["gradcheck_version"] == gradcheck.version()


def test_every_field_of_real_output_is_in_the_schema(correct_run, buggy_run):
    """The schema allows new fields (consumers ignore them), so this is what makes a new field
    come with its documentation: the schema's properties, which docs/json.md lists one for one."""
    defs = load_schema()["$defs"]
    for run in (correct_run, buggy_run):
        report = document(run)
        assert set(report) <= set(load_schema()["properties"])
        assert all(set(c) <= set(defs["check"]["properties"]) for c in report["checks"])
        assert all(set(f) <= set(defs["failure"]["properties"]) for f in report["failures"])
        cases = [f["case"] for f in report["failures"] if f["case"]] + report["cases_skipped"]
        assert all(set(c) <= set(defs["case"]["properties"]) for c in cases)
    assert document(buggy_run)["failures"]  # the failure and case checks above saw something


def test_in_process_json_of_a_whole_call_failure_validates(validator):
    """``gradcheck.check(...)`` plus ``to_json``: the API's object is the CLI's, nulls included."""
    report = gradcheck.check(str(CORPUS / "buggy" / "returns_two_tuple.py"), devices=("cpu",), max_examples=0)
    data = json.loads(json.dumps(gradcheck.to_json(report), default=str))
    validator.validate(data)
    assert data["failures"][0]["check"] == "returns" and data["failures"][0]["layer"] is None


def _broken(report: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(report)
    *parents, last = path
    node = broken
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return broken


_DELETE = object()
BROKEN = {
    "no target": (("target",), _DELETE),
    "passed as text": (("passed",), "no"),
    "a future schema": (("schema_version",), SCHEMA_VERSION + 1),
    "no failures while failing": (("failures",), []),
    "a layer as text": (("failures", 0, "layer"), "0"),
    "a negative layer": (("failures", 0, "layer"), -1),
    "an unknown parameter": (("failures", 0, "param"), "weights"),
    "an unknown check": (("failures", 0, "check"), "gradient-colours"),
    "an unknown diagnosis id": (("failures", 0, "diagnosis"), "made-up-bug"),
    "no reproduction": (("failures", 0, "reproduce"), _DELETE),
    "a confidence above 1": (("failures", 0, "confidence"), 1.5),
    "a one-layer widths list": (("failures", 0, "case", "widths"), [3]),
    "an unknown dtype": (("failures", 0, "case", "dtype"), "float8"),
    "a check without its case count": (("checks", 0, "cases"), _DELETE),
}


@pytest.mark.parametrize("name", BROKEN)
def test_the_schema_rejects_a_broken_document(name, buggy_run, validator):
    report = document(buggy_run)
    validator.validate(report)  # the real document is valid: only the one change below breaks it
    path, value = BROKEN[name]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(_broken(report, path, value))


def test_the_schemas_vocabularies_are_the_codes():
    """The enums in the schema are the code's vocabularies, not copies that drift."""
    defs = load_schema()["$defs"]
    assert defs["failure"]["properties"]["check"]["enum"] == list(CHECKS)
    assert defs["check"]["properties"]["name"]["enum"] == list(CHECKS)
    assert defs["failure"]["properties"]["diagnosis"]["enum"] == [*DIAGNOSIS_IDS, None]
    assert defs["case"]["properties"]["regime"]["enum"] == list(REGIMES)
    dtypes = defs["case"]["properties"]["dtype"]["enum"]
    assert {parse_dtype(name) for name in dtypes} == set(TOLERANCES)


# -- --version and --help --------------------------------------------------------------------------


def test_version_flag_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradcheck {gradcheck.version()}"


def test_version_is_the_installed_one_else_the_source_trees():
    assert gradcheck.__version__ == PYPROJECT["project"]["version"]
    try:
        expected = installed_version(gradcheck.DISTRIBUTION)
    except PackageNotFoundError:
        expected = gradcheck.__version__
    assert gradcheck.version() == expected


def test_check_help_lists_every_preset_adapter_and_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # unwrapped: names never break across lines
    epilog = text[text.index("presets (--spec):") :]
    for name in [*PRESETS, *ADAPTERS]:
        assert f" {name}," in f" {epilog}," or f" {name} " in f" {epilog} ", name
    for code, meaning in CHECK_EXIT_CODES.items():
        assert f"{code} {' '.join(meaning.split())}" in epilog, code


# -- packaging ------------------------------------------------------------------------------------


def _requirement_names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip() for r in requirements}


def test_numpy_is_a_dependency_because_named_adapters_need_it():
    assert any(a.numpy for a in ADAPTERS.values())  # the reason
    assert "numpy" in _requirement_names(PYPROJECT["project"]["dependencies"])


def test_the_schema_and_py_typed_ship_as_package_data():
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]["gradcheck"]
    assert "py.typed" in package_data and "schemas/*.json" in package_data
    assert files("gradcheck").joinpath("py.typed").is_file()
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
