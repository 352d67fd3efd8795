"""Hostile: crashes the interpreter (SIGSEGV) on every call. Expected: the crash is recorded,
the sandbox restarted a bounded number of times, score 0, batch goes on."""
import ctypes


def forward_backward(x, y, W, b):
    ctypes.string_at(0)  # read address 0: segmentation fault
