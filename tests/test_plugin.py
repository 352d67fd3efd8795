"""The pytest plugin, run the way users run it: ``pytest --gradcheck-impl TARGET`` in a fresh folder."""

import json
import pathlib
import re
import time

import pytest
import torch

from gradcheck.checker import CHECKS
from gradcheck.cli import main as gradcheck_main
from gradcheck.config import Settings
from gradcheck.conformance import PROPERTIES
from gradcheck.explore import DEFAULT_MAX_EXAMPLES
from gradcheck.plugin import OPTIONS

pytest_plugins = ["pytester"]

HERE = pathlib.Path(__file__).parent
MUTANTS = HERE / "mutants_regime"
CORRECT = HERE / "corpus" / "correct" / "loops.py"
SUITE_SIZE = 9  # one test per property, CPU/CUDA agreement included
NO_GPU = not torch.cuda.is_available()


def run(pytester, *args):
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def outcome_counts(result):
    counts = result.parseoutcomes()
    return {key: counts.get(key, 0) for key in ("passed", "failed", "skipped", "errors")}


def test_a_correct_implementation_passes_the_whole_checklist(pytester):
    start = time.perf_counter()
    result = run(pytester, "--gradcheck-impl", str(CORRECT), "-v")
    print(f"conformance suite, in process, on a correct implementation: {time.perf_counter() - start:.2f} s")
    assert result.ret == pytest.ExitCode.OK
    counts = outcome_counts(result)
    assert counts["failed"] == 0 and counts["passed"] + counts["skipped"] == SUITE_SIZE
    for name in (
        "test_returns_loss_and_gradient_lists",
        "test_loss_value",
        "test_values_match_finite_differences",
        "test_no_hidden_state",
    ):
        result.stdout.fnmatch_lines([f"*TestConformance::{name} PASSED*"])
    if NO_GPU:
        result.stdout.fnmatch_lines(["*test_cpu_and_cuda_agree SKIPPED*"])
        assert "needs a CUDA GPU" in result.stdout.str()


@pytest.mark.parametrize(
    "path", sorted(p for p in MUTANTS.glob("*.py") if p.stem != "cuda_no_device"), ids=lambda p: p.stem
)
def test_each_regime_bug_fails_with_the_shrunk_network(pytester, path):
    from gradcheck.loading import load_target

    shrinks_to = load_target(str(path)).function.__globals__["SHRINKS_TO"]
    args = ["--gradcheck-impl", str(path)] + (["--gradcheck-batch"] if "batch" in shrinks_to else [])
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert f"smallest case: widths {list(shrinks_to['widths'])}" in out
    assert f"gradcheck check {path} --widths {','.join(map(str, shrinks_to['widths']))}" in out
    assert "search seed: 0" in out


def test_the_batch_flag_decides_whether_batches_are_checked(pytester):
    assert run(pytester, "--gradcheck-impl", str(MUTANTS / "batch_axis_guess.py")).ret == pytest.ExitCode.OK
    failed = run(pytester, "--gradcheck-impl", str(MUTANTS / "batch_axis_guess.py"), "--gradcheck-batch")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    assert "], batch 2, " in failed.stdout.str()  # the smallest case has a batch


def test_a_target_that_cannot_be_loaded_is_a_usage_error(pytester):
    result = run(pytester, "--gradcheck-impl", "no_such_file.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "gradcheck: cannot load --gradcheck-impl no_such_file.py: no such file: no_such_file.py" in result.stderr.str()
    )
    pytester.makepyfile(other="def something_else(x, y, W, b):\n    pass\n")
    result = run(pytester, "--gradcheck-impl", "other.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "defines no 'forward_backward'" in result.stderr.str()


def test_function_and_module_targets(pytester):
    pytester.makepyfile(impl=CORRECT.read_text().replace("def forward_backward", "def backprop"))
    quick = ["--gradcheck-max-examples", "10"]
    assert (
        run(pytester, "--gradcheck-impl", "impl.py", "--gradcheck-function", "backprop", *quick).ret
        == pytest.ExitCode.OK
    )
    assert run(pytester, "--gradcheck-impl", "reference_impl:forward_backward", *quick).ret == pytest.ExitCode.OK


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--gradcheck-max-examples", "-3"],
            "gradcheck: --gradcheck-max-examples (command line): '-3' is not a whole number of at least 0",
        ),
        (["--gradcheck-seed", "abc"], "gradcheck: --gradcheck-seed (command line): 'abc' is not a whole number"),
        (
            ["--gradcheck-timeout", "inf"],
            "gradcheck: --gradcheck-timeout (command line): 'inf' is not a finite number of seconds above 0",
        ),
        (
            ["--gradcheck-adapter-option", "method=3"],
            "gradcheck: --gradcheck-adapter-option method=3 (command line): 3 is not a string",
        ),
        (["--gradcheck-mode", "strict"], "gradcheck: --gradcheck-mode (command line): mode 'strict' is not one of"),
    ],
)
def test_bad_settings_are_usage_errors_that_name_their_source(pytester, args, message):
    result = run(pytester, "--gradcheck-impl", str(CORRECT), *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_ini_settings_mirror_the_options_and_the_command_line_wins(pytester):
    pytester.makeini(f"[pytest]\ngradcheck_impl = {CORRECT}\ngradcheck_max_examples = 5\ngradcheck_seed = 3\n")
    from_ini = run(pytester)
    assert from_ini.ret == pytest.ExitCode.OK
    from_ini.stdout.fnmatch_lines(
        [
            f"gradcheck: impl={CORRECT} function=forward_backward batch=False max_examples=5 seed=3 timeout=10 "
            "(spec seed, mode spec)"
        ]
    )
    overridden = run(pytester, "--gradcheck-max-examples", "7")
    assert overridden.ret == pytest.ExitCode.OK
    overridden.stdout.fnmatch_lines(["gradcheck: impl=* max_examples=7 seed=3 *"])
    ini = pytester.makeini("[pytest]\ngradcheck_max_examples = lots\n")
    bad = run(pytester, f"--gradcheck-impl={CORRECT}")  # "=": pytest takes a separate value for a rootdir path
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert f"gradcheck: ini setting gradcheck_max_examples in {ini}: 'lots' is not a whole number" in bad.stderr.str()


def test_without_a_target_only_the_project_tests_run(pytester):
    pytester.makepyfile(test_mine="def test_one():\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["gradcheck: no --gradcheck-impl"])


def test_named_paths_run_alongside_the_suite(pytester):
    pytester.makepyfile(test_mine="def test_one():\n    pass\n")
    result = run(pytester, "test_mine.py", "--gradcheck-impl", str(CORRECT), "--gradcheck-max-examples", "10")
    counts = outcome_counts(result)
    assert counts["passed"] + counts["skipped"] == SUITE_SIZE + 1 and counts["failed"] == 0


def test_the_suite_can_be_subclassed_against_any_implementation(pytester):
    pytester.makepyfile(
        test_mine=f"""
        import pytest
        from gradcheck.conformance import Conformance

        class TestMine(Conformance):
            @pytest.fixture(scope="class")
            @classmethod
            def gradcheck_impl(cls):
                return {str(MUTANTS / "depth_one_transpose.py")!r}
        """
    )
    result = run(pytester, "-m", "gradcheck")
    counts = outcome_counts(result)
    assert counts["failed"] == 2 and counts["passed"] + counts["skipped"] == SUITE_SIZE - 2
    result.stdout.fnmatch_lines(["*smallest case: widths [[]2, 2[]]*"])
    assert "FAILED test_mine.py::TestMine::test_values_match_autograd" in result.stdout.str()


def test_fixtures_markers_and_options_are_documented(pytester):
    fixtures = run(pytester, "--fixtures").stdout.str()
    for name in ("gradcheck_impl", "gradcheck_spec", "gradcheck_settings", "gradcheck_report"):
        assert re.search(rf"^{name} \[\w+ scope\]", fixtures, re.M), name
    assert "The implementation under test" in fixtures
    markers = run(pytester, "--markers").stdout.str()
    assert "@pytest.mark.cuda: needs a CUDA GPU" in markers and "@pytest.mark.gradcheck:" in markers
    help_text = run(pytester, "--help").stdout.str()
    assert "gradient checking of hand-written backprop (gradcheck):" in help_text
    flags = ["--gradcheck-impl"] + [f"--gradcheck-{o.flag}" for o in OPTIONS]
    inis = ["gradcheck_impl"] + [o.ini for o in OPTIONS]
    for option in flags:
        assert option in help_text, option
    for ini in inis:
        assert re.search(rf"^\s+{ini} ", help_text, re.M), ini
    # every setting of `gradcheck check` that makes sense in pytest (not --json, --widths, ...)
    for setting in ("spec", "spec-option", "adapter", "adapter-option", "mode", "timeout", "function", "batch"):
        assert f"--gradcheck-{setting}" in flags
    for setting in ("seed", "max-examples", "device"):
        assert f"--gradcheck-{setting}" in flags
    assert {"gradcheck_spec_options", "gradcheck_adapter_options", "gradcheck_devices"} <= set(inis)


def test_cuda_tests_are_skipped_with_a_reason_never_passed_silently(pytester):
    pytester.makepyfile(
        test_gpu="import pytest\n\n@pytest.mark.cuda\ndef test_on_gpu():\n    assert False, 'ran without a GPU'\n"
    )
    result = run(pytester, "-rs", "--strict-markers")
    if NO_GPU:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["*needs a CUDA GPU: torch.cuda.is_available() is False here*"])
    else:
        result.assert_outcomes(failed=1)


def test_every_check_belongs_to_a_property():
    assert sorted(c for checks in PROPERTIES.values() for c in checks) == sorted(CHECKS)


def test_the_plugin_default_is_the_cli_default():
    assert Settings().max_examples == DEFAULT_MAX_EXAMPLES


FAILURE_LINE = re.compile(rf"^({'|'.join(CHECKS)})(?: layer (\d+))?(?: (W|b|loss))?: ", re.M)

AGREEMENT_TARGETS = [
    CORRECT,
    HERE / "corpus" / "buggy" / "seed_bug.py",
    HERE / "corpus" / "buggy" / "loss_missing_half.py",
    HERE / "corpus" / "buggy" / "input_mutation_sgd.py",
    HERE / "corpus" / "buggy" / "hidden_state_cache.py",
    MUTANTS / "square_autoencoder.py",
    MUTANTS / "second_call_buffers.py",
]


@pytest.mark.parametrize("path", AGREEMENT_TARGETS, ids=lambda p: p.stem)
def test_the_cli_and_the_plugin_agree(pytester, capsys, path):
    code = gradcheck_main(["check", str(path), "--json", "--max-examples", "30", "--seed", "1"])
    cli = json.loads(capsys.readouterr().out)
    result = run(pytester, "--gradcheck-impl", str(path), "--gradcheck-max-examples", "30", "--gradcheck-seed", "1")
    assert (code == 0) == (result.ret == pytest.ExitCode.OK) == cli["passed"]
    cli_failures = [(f["check"], f["layer"], f["param"]) for f in cli["failures"]]
    details = result.stdout.str().split("short test summary info")[0]  # the summary repeats messages (in full under CI)
    plugin_failures = [
        (check, int(layer) if layer else None, param or None) for check, layer, param in FAILURE_LINE.findall(details)
    ]
    assert cli_failures == sorted(plugin_failures, key=lambda f: CHECKS.index(f[0]))  # same first failure, same order


CS231N = HERE / "corpus" / "shapes" / "cs231n_two_layer.py"


@pytest.mark.parametrize("function, passes", [("TwoLayerNet", True), ("Db2TimesN", False)])
def test_pyproject_makes_the_cli_and_the_plugin_judge_the_same_contract(pytester, capsys, function, passes):
    """[tool.gradcheck] names a CS231n spec, adapter and class: without the plugin reading it, the
    class would not even load (it defines no forward_backward)."""
    pytester.makepyprojecttoml(
        f'[tool.gradcheck]\nspec = "cs231n-two-layer"\nadapter = "cs231n"\nfunction = "{function}"\nmax_examples = 5\n'
    )
    (pytester.path / "neural_net.py").write_text(CS231N.read_text())  # a relative target keeps the rootdir here
    code = gradcheck_main(["check", "neural_net.py", "--json", "--device", "cpu"])
    cli = json.loads(capsys.readouterr().out)
    result = run(pytester, "--gradcheck-impl", "neural_net.py", "--gradcheck-device", "cpu")
    result.stdout.fnmatch_lines(
        [f"gradcheck: impl=neural_net.py function={function} *(spec cs231n-two-layer, adapter cs231n, mode spec)"]
    )
    assert (code == 0) == (result.ret == pytest.ExitCode.OK) == cli["passed"] == passes
    cli_failures = [(f["check"], f["layer"], f["param"]) for f in cli["failures"]]
    details = result.stdout.str().split("short test summary info")[0]
    plugin_failures = [
        (check, int(layer) if layer else None, param or None) for check, layer, param in FAILURE_LINE.findall(details)
    ]
    assert cli_failures == sorted(plugin_failures, key=lambda f: CHECKS.index(f[0]))
    assert passes or ("gradient-values", 1, "b") in cli_failures


def test_options_override_the_ini_file_which_overrides_pyproject_field_by_field(pytester):
    pytester.makepyprojecttoml('[tool.gradcheck]\nspec = "cs231n-two-layer"\nmode = "both"\ntimeout = 3\n')
    pytester.makeini(
        f'[pytest]\ngradcheck_impl = {CORRECT}\ngradcheck_spec_options =\n    l2=0.1\n    hidden="tanh"\n'
        "gradcheck_timeout = 4\n"
    )
    result = run(pytester, "--co", "--gradcheck-spec-option", "l2=0.0", "--gradcheck-device", "cpu")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ['gradcheck: impl=* batch=True * timeout=4 (spec cs231n-two-layer {hidden = "tanh", l2 = 0.0}, mode both)']
    )


def test_ini_devices_are_split_like_a_shell_and_an_unusable_one_is_named(pytester):
    ini = pytester.makeini(f"[pytest]\ngradcheck_impl = {CORRECT}\ngradcheck_devices = cpu nosuchdevice\n")
    result = run(pytester, "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"gradcheck: ini setting gradcheck_devices in {ini}: nosuchdevice is not usable here" in result.stderr.str()


def test_the_plugin_and_its_settings_module_stay_light_until_used():
    """Every pytest run loads the plugin: importing it (and the settings resolver) imports no torch."""
    import subprocess
    import sys

    code = "import sys, gradcheck.plugin, gradcheck.config; print(sorted({'torch', 'hypothesis'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
