"""Hostile: allocates 64 MB blocks and keeps them until something gives. Expected: the memory
limit (RLIMIT_DATA, the --memory) stops it with a MemoryError inside the sandbox, score 0 for
the values, the grader unaffected."""


def forward_backward(x, y, W, b):
    blocks = []
    while True:
        blocks.append(bytearray(64 << 20))
