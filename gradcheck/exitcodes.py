"""The exit codes of every ``gradcheck`` command, defined once for the command line and the grader.

- ``EXIT_OK`` (0): ``check``: every check passed; ``grade``/``gradescope``: the batch ran,
  whatever the students scored.
- ``EXIT_WRONG`` (1): ``check``: the implementation is wrong.
- ``EXIT_USAGE`` (2): the target could not be loaded, or the command line, rubric or folder is wrong.
- ``EXIT_INTERNAL`` (3): gradcheck itself failed (a bug to report).
- ``EXIT_INTERRUPTED`` (130): stopped by Ctrl-C, as a shell reports SIGINT.
"""

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "EXIT_WRONG"]

EXIT_OK = 0
EXIT_WRONG = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
