#!/usr/bin/env bash
# PrairieLearn's external grader runs this for every submission (the question's entrypoint).
#
#   in:   /grade/student/                 the student's files (.py or .ipynb, helpers allowed)
#         /grade/tests/rubric.toml        the question's rubric, if it has one
#   out:  /grade/results/results.json     always written, even if grading itself fails
#
# Each submission runs in gradcheck's sandbox (fresh interpreter, time and memory limits, an
# unprivileged uid as root; /grade/tests, /grade/serverFilesCourse and /grade/results hidden
# where the container allows a mount namespace); what was achieved goes to this script's stdout.
# The image must have gradcheck installed (see README.md): here in /opt/gradcheck.
set -uo pipefail
exec /opt/gradcheck/bin/gradcheck prairielearn --root /grade
