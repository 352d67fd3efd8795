#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu base image).
#
# Put in the autograder zip, at its root:
#   setup.sh         this file
#   run_autograder   the other file of this folder
#   gradcheck/       a copy of the gradcheck project (pyproject.toml, gradcheck/, reference_impl/)
#   rubric.toml      optional: your rubric (default: the seed assignment's built-in rubric;
#                    print it with: python -c "from gradcheck.grading import DEFAULT_RUBRIC; print(DEFAULT_RUBRIC)")
#
# The virtual environment lives in /opt, outside /autograder, so that the sandbox can hide
# /autograder/source (your rubric and anything else you ship) from the students' code while
# their code can still start Python and import torch.
set -euo pipefail

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /opt/gradcheck
# The CPU build of torch (the default wheel would pull CUDA, gigabytes that grading never uses).
/opt/gradcheck/bin/pip install --quiet "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
/opt/gradcheck/bin/pip install --quiet /autograder/source/gradcheck
/opt/gradcheck/bin/gradcheck --help > /dev/null
