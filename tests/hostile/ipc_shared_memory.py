"""Hostile: a channel between students through System V and POSIX IPC. At import it looks for
the segment, message queue, semaphore set and POSIX message queue that an earlier submission
left under fixed keys and prints what it finds there ("FOUND ..."); then it creates all four,
writes a secret into each and leaves them behind (no IPC_RMID, no mq_unlink). Its gradients are
right. Expected: each sandbox has its own IPC namespace (or, without namespaces, the launcher
removes what the submission created), so a second copy finds nothing ("FOUND" is never
printed) and nothing with these keys outlives the sandbox."""

import ctypes
import os

import torch

KEY = 0x67726164  # "grad": the same key in every copy of this submission
MQ_NAME = b"/gradcheck-hostile-ipc"
SECRET = b"secret-of-an-earlier-student"
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.mq_open.restype = ctypes.c_int
libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]


class Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 64)]


def look():
    shm = libc.shmget(KEY, 0, 0)
    if shm >= 0:
        address = libc.shmat(shm, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            print("FOUND shm", ctypes.string_at(address, len(SECRET)))
    msq = libc.msgget(KEY, 0)
    if msq >= 0:
        message = Message()
        if libc.msgrcv(msq, ctypes.byref(message), 64, 0, 0o4000) >= 0:  # IPC_NOWAIT
            print("FOUND msg", message.mtext)
    if libc.semget(KEY, 0, 0) >= 0:
        print("FOUND sem")
    mq = libc.mq_open(MQ_NAME, os.O_RDONLY | os.O_NONBLOCK, 0, None)
    if mq >= 0:
        print("FOUND mqueue")


def leave():
    shm = libc.shmget(KEY, 1 << 20, IPC_CREAT | 0o666)
    address = libc.shmat(shm, None, 0) if shm >= 0 else None
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, SECRET, len(SECRET))
    msq = libc.msgget(KEY, IPC_CREAT | 0o666)
    if msq >= 0:
        libc.msgsnd(msq, ctypes.byref(Message(1, SECRET)), len(SECRET), 0o4000)
    libc.semget(KEY, 1, IPC_CREAT | 0o666)
    libc.mq_open(MQ_NAME, os.O_CREAT | os.O_RDWR, 0o666, None)
    print("LEFT", shm, msq)


look()
leave()


def forward_backward(x, y, W, b):
    a, zs = [x], []
    for w, c in zip(W, b, strict=True):
        zs.append(w @ a[-1] + c)
        a.append(torch.sigmoid(zs[-1]))
    delta = (a[-1] - y) * torch.sigmoid(zs[-1]) * torch.sigmoid(-zs[-1])
    dW, db = [None] * len(W), [None] * len(W)
    for layer in reversed(range(len(W))):
        dW[layer], db[layer] = delta @ a[layer].T, delta.sum(dim=1, keepdim=True)
        if layer:
            delta = (W[layer].T @ delta) * torch.sigmoid(zs[layer - 1]) * torch.sigmoid(-zs[layer - 1])
    return 0.5 * ((a[-1] - y) ** 2).sum(), dW, db
