"""Sampled finite differences as the arbiter (``--fd full|sampled|auto``) and the memory budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import RELU, near_kinks, relu_backprop

import gradcheck
from gradcheck import cli
from gradcheck.cases import CaseSpec, make_case
from gradcheck.config import SettingsError, resolve, table_source
from gradcheck.fdmode import FD_AUTO_LIMIT, chosen_fd, sampled_oracle
from gradcheck.oracles import autograd_oracle, finite_difference_oracle
from gradcheck.spec import SEED
from gradcheck.truth import compute_truth

CORPUS = Path(__file__).parent / "corpus"
DOUBLED = str(Path(__file__).parent / "fixtures" / "doubled_entry.py")
WIDE = CaseSpec((40, 60, 30, 3), dtype="float64")  # 4,383 parameters: quick either way


def test_auto_differences_everything_up_to_the_limit_and_samples_above():
    small = make_case(CaseSpec((7, 5, 3, 1)))
    big = make_case(CaseSpec((300, 170, 1)))  # 51,511 parameters
    assert sum(w.numel() + v.numel() for w, v in zip(big.W, big.b)) > FD_AUTO_LIMIT
    assert (chosen_fd("auto", small), chosen_fd("auto", big)) == ("full", "sampled")
    assert (chosen_fd("full", big), chosen_fd("sampled", small)) == ("full", "sampled")


@pytest.mark.parametrize("style", ["loops.py", "einsum.py", "compact.py"])
def test_correct_implementations_in_different_styles_pass_in_sampled_mode(style):
    report = gradcheck.check(str(CORPUS / "correct" / style), cases=[WIDE], fd="sampled", devices=["cpu"])
    assert report.passed, [f.check for f in report.failures]
    assert report.inconclusive == []
    document = gradcheck.report.to_json(report)
    assert document["fd_mode"] == "sampled"
    assert 0 < document["fd_forward_equivalents"] <= 4 * document["fd_probes"]


@pytest.mark.parametrize("fd", ["full", "sampled"])
def test_one_doubled_entry_is_named_by_layer_param_and_index_in_either_mode(fd):
    report = gradcheck.check(DOUBLED, cases=[WIDE], fd=fd, devices=["cpu"])
    (failure,) = [f for f in report.failures if f.check == "gradient-values"]
    assert (failure.layer, failure.param) == (1, "W")
    assert failure.mismatch is not None and failure.mismatch.worst_index == (30 // 3, 60 // 2)
    assert gradcheck.report.to_json(report)["fd_mode"] == fd


def test_sampled_probes_are_seeded_reproducible_and_much_cheaper():
    case = make_case(WIDE)
    ad = autograd_oracle(SEED, case)
    first, notes, probes = sampled_oracle(SEED, case, ad)
    again, _, _ = sampled_oracle(SEED, case, ad)
    assert notes == {} and probes == 6 * 6 - 1  # 2 directions + 4 coordinates per tensor; b[2] has only 3 entries
    assert first.evaluations == again.evaluations == 4 * probes
    full = finite_difference_oracle(SEED, case, error_bound=False)
    assert full.evaluations == 2 * sum(w.numel() + v.numel() for w, v in zip(case.W, case.b))
    assert first.evaluations * 50 < full.evaluations


def test_sampled_mode_makes_a_wrong_autograd_inconclusive_not_a_student_bug():
    case = make_case(WIDE)
    ad = autograd_oracle(SEED, case)
    ad.W[1] = ad.W[1] * (1 + 1e-3)  # an oracle gone wrong: the probes must notice
    _, notes, _ = sampled_oracle(SEED, case, ad)
    assert (1, "W") in notes and "sampled finite differences disagree" in notes[(1, "W")]


def test_relu_near_kinks_in_sampled_mode_masks_the_entries_a_step_can_cross():
    case = near_kinks(RELU, widths=(3, 4, 4, 2), distance=3e-6)
    truth = compute_truth(RELU, case, fd_mode="sampled")
    assert truth.fd_mode == "sampled"
    masks = [truth.fd.kinks(layer, "b") for layer in range(3)]
    assert all(m is not None for m in masks) and bool(masks[0].any())
    correct = gradcheck.check(relu_backprop(RELU), spec=RELU, cases=[case.spec], fd="sampled", devices=["cpu"])
    assert correct.passed
    wrong = gradcheck.check(
        relu_backprop(RELU, "mask-from-wrong-layer"), spec=RELU, cases=[CaseSpec((3, 4, 4, 2), 2)], fd="sampled"
    )
    assert {(f.layer, f.param) for f in wrong.failures if f.check == "gradient-values"} <= {(0, "W"), (0, "b")}
    assert not wrong.passed


def test_a_memory_budget_narrows_the_chunks_keeps_the_result_and_lowers_the_peak():
    case = make_case(CaseSpec((64, 64, 64, 1), dtype="float64"))
    free = finite_difference_oracle(SEED, case, error_bound=False)
    tight = finite_difference_oracle(SEED, case, error_bound=False, memory_bytes=64 * 1024)
    for a, b in zip(free.W + free.b, tight.W + tight.b):
        assert torch.equal(a, b)
    assert tight.peak_bytes < free.peak_bytes
    assert tight.evaluations == free.evaluations


def test_the_cli_takes_fd_and_a_memory_budget_and_reports_them_in_json(capsys):
    code = cli.main(
        [
            "check",
            DOUBLED,
            "--widths",
            "40,60,30,3",
            "--fd",
            "sampled",
            "--device",
            "cpu",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["fd_mode"] == "sampled" and document["fd_probes"] == 35
    assert document["failures"][0]["layer"] == 1
    code = cli.main(["check", DOUBLED, "--widths", "20,10,3", "--fd-memory", "0.01", "--device", "cpu", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert document["fd_mode"] == "full" and 0 < document["fd_peak_bytes"]


def test_text_report_says_which_finite_differences_ran(capsys):
    cli.main(["check", str(CORPUS / "correct" / "loops.py"), "--widths", "40,60,30,3", "--fd", "sampled"])
    assert "finite differences sampled (35 probes, 140 forward-equivalents)" in " ".join(
        capsys.readouterr().out.split()
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fd", "some"], "--fd 'some' (command line): fd 'some' is not one of full, sampled, auto"),
        (["--fd-memory", "-1"], "--fd-memory (command line): '-1' is not a finite number of MiB above 0"),
    ],
)
def test_bad_fd_settings_are_one_line_and_exit_2(argv, message, capsys):
    assert cli.main(["check", DOUBLED, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.split(":")[-1].strip() in err


def test_pyproject_sets_fd_and_the_api_keyword_overrides_it():
    settings = resolve(table_source({"fd": "sampled", "fd_memory": 256}, label="(given)", table_name="tool.gradcheck"))
    assert (settings.fd, settings.fd_memory) == ("sampled", 256.0)
    assert settings.cli_args() == "--fd sampled"
    with pytest.raises(SettingsError, match=r"\[tool.gradcheck\] fd"):
        resolve(table_source({"fd": "most"}, label="(given)", table_name="tool.gradcheck"))
    report = gradcheck.check(DOUBLED, settings=settings, fd="full", cases=[WIDE], devices=["cpu"])
    assert gradcheck.report.to_json(report)["fd_mode"] == "full"
