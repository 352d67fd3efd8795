"""Hostile: its error message holds a lone surrogate (which UTF-8 cannot encode), an ANSI
escape that clears the screen, a bidirectional override and a fake progress line. Expected: a
grade of 0 like any crash in the call, the message escaped in feedback.md, results.json and
grades.csv, and the batch (and every rerun) goes on."""


def forward_backward(x, y, W, b):
    raise Exception("\ud800 lone surrogate \x1b[2J\u202eevil\n[9/9] someone.py: 12/12 (0.1 s)")
