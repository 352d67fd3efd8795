"""The submission's side of the sandbox: load the submission, then answer calls. A script.

The grader copies this file, ``wire.py`` and ``adapters/perform.py`` into the sandbox's fresh working
directory and runs ``python -I -S -B runner.py CONFIG``: no site-packages processing, no environment, no repository
on ``sys.path``; the directories that hold torch are added by hand, and the names in
``blocked`` (``reference_impl``, ``gradcheck``) refuse to import. Only the standard library and
torch are used here. Nothing in this process knows the right answers: it reports what the
submission returned and what became of its inputs, and the grader judges.

Protocol: JSON lines on two private pipes (numbers in ``GRADCHECK_FDS``), requests in and
replies out. The submission's own prints go to file descriptors 1 and 2, which the grader
drains and caps, so nothing it prints can pass for a reply.
"""

import json
import os
import signal
import sys
import time
import traceback


class CellTimeout(BaseException):
    """A notebook cell ran past its share of the load time (cooperative; the grader enforces)."""


class _Blocker:
    """A meta-path finder that refuses the harness's own packages (a courtesy, not the wall:
    the mount namespace is what keeps their files out of reach)."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ImportError(f"{name} is not available to submissions")
        return None


def _send(fd, message):
    data = memoryview((json.dumps(message, allow_nan=True) + "\n").encode())
    while data:  # a view: a large reply is not copied once per pipe-full
        data = data[os.write(fd, data) :]


# What counts as the submission's own code: its cells' names and the files of its folder.
_OWN = {"names": set(), "folder": "//"}


def _own_frame(tb):
    """The innermost traceback frame in the submission's own code: file, line and code."""
    import linecache

    folder = _OWN["folder"]
    frames = [f for f in traceback.extract_tb(tb) if f.filename in _OWN["names"] or f.filename.startswith(folder)]
    if not frames:
        return None
    f = frames[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
    name = f.filename[len(folder) :] if f.filename.startswith(folder) else f.filename
    return {"file": name, "line": f.lineno, "code": line[:500]}


def _error(exc):
    """An exception as data: its type, its first line, and the submission's line that raised."""
    if isinstance(exc, SystemExit):
        text = f"called sys.exit({exc.code!r})"
    else:
        try:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        except Exception:  # noqa: BLE001 - a hostile __str__
            text = ""
    return {"type": type(exc).__name__[:100], "message": text[:2000], "where": _own_frame(exc.__traceback__)}


def _encode(wire, value):
    try:
        return wire.encode(value)
    except Exception as exc:  # noqa: BLE001 - a hostile object that breaks even the encoder
        return {"k": "object", "cls": "object", "note": f"could not be read ({type(exc).__name__})"}


def _alarm(seconds):
    def expire(signum, frame):
        raise CellTimeout()

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def load(cfg):
    """Run the submission's cells; returns (namespace, error or None, warnings)."""
    import linecache

    cells = cfg["cells"]
    # A .py submission runs as a module registered in sys.modules, as a plain import leaves it
    # (``@dataclass`` and pickling look themselves up there); a notebook runs as __main__.
    module = type(sys)("__main__" if cfg["notebook"] else "gradcheck_target")
    module.__file__ = os.path.join(cfg["submission_dir"], cfg["entry"])
    if not cfg["notebook"]:
        sys.modules[module.__name__] = module
    namespace = vars(module)
    if cfg.get("prelude"):  # the IPython stand-in that notebook cells call (gradcheck.loading)
        exec(compile(cfg["prelude"], "<gradcheck: IPython stand-in>", "exec", dont_inherit=True), namespace)
    warnings = []
    budget = cfg["cell_timeout"]
    for number, cell in enumerate(cells, start=1):
        name = cell["name"]
        linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(keepends=True), name)
        try:
            code = compile(cell["source"], name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            text = (exc.text or "").strip()
            error = f"{name}:{exc.lineno}: SyntaxError: {exc.msg}" + (f": {text}" if text else "")
            if not cfg["notebook"]:
                return namespace, error, warnings
            warnings.append(f"cell {number} skipped: {error}")  # as the in-process loader does
            continue
        try:
            _alarm(budget)
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - the submission's failure is data
            error = (
                _error(exc)
                if not isinstance(exc, CellTimeout)
                else {"type": "Timeout", "message": f"did not finish within {budget:g} s", "where": None}
            )
            text = f"{error['type']}: {error['message']}" if error["message"] else error["type"]
            if error["where"]:
                text += f" (at {error['where']['file']}:{error['where']['line']}: {error['where']['code']})"
            if not cfg["notebook"]:
                return namespace, f"loading {cfg['entry']} failed: {text}", warnings
            warnings.append(f"cell {number} raised: {text}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    function = cfg["function"]
    if function not in namespace:
        import inspect

        found = sorted(n for n, v in namespace.items() if inspect.isfunction(v) and not n.startswith("_"))
        hint = f" (it defines: {', '.join(found)})" if found else ""
        detail = f"; {warnings[0]}" if warnings else ""
        return namespace, f"{cfg['entry']} defines no '{function}'{hint}{detail}", warnings
    if not callable(namespace[function]):
        return (
            namespace,
            f"'{function}' in {cfg['entry']} is a {type(namespace[function]).__name__}, not a function",
            warnings,
        )
    return namespace, None, warnings


def serve(req_fd, rep_fd, wire, cfg, function):
    """Answer requests until the grader closes the pipe or says exit. ``fresh`` loads another
    copy of the submission (a new namespace, as the core's in-process loader would); calls name
    the copy they are for (0: the first)."""
    copies = {0: function}
    requests = os.fdopen(req_fd, "rb", buffering=0)
    buffer = b""
    while True:
        while b"\n" not in buffer:
            chunk = requests.read(1 << 16)
            if not chunk:
                os._exit(0)
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        request = json.loads(line)
        if request.get("op") == "fresh":
            namespace, error, _ = load(cfg)
            if error is None:
                copies[request["id"]] = namespace[cfg["function"]]
            _send(
                rep_fd,
                {
                    "id": request["id"],
                    "ok": error is None,
                    "error": {"type": "LoadError", "message": error, "where": None} if error else None,
                },
            )
        elif request.get("op") == "call" and request.get("copy") in copies:
            _send(rep_fd, call(request, wire, copies[request["copy"]]))
        elif request.get("op") == "perform" and request.get("copy") in copies:
            _send(rep_fd, perform(request, wire, copies[request["copy"]]))
        else:
            os._exit(0)


def call(request, wire, function):
    """One call on the decoded inputs: what it returned (or raised), and the inputs afterwards."""
    args = request["args"]
    x, y = wire.decode(args["x"]), wire.decode(args["y"])
    W, b = [wire.decode(t) for t in args["W"]], [wire.decode(t) for t in args["b"]]
    originals = (list(W), list(b))
    started = time.perf_counter()
    try:
        value = function(x, y, W, b)
        reply = {"id": request["id"], "ok": True, "value": _encode(wire, value)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, anything
        reply = {"id": request["id"], "ok": False, "error": _error(exc)}
    reply["seconds"] = time.perf_counter() - started
    reply["after"] = {
        "x": _encode(wire, x),
        "y": _encode(wire, y),
        "W": [dict(_encode(wire, t), same=i < len(originals[0]) and t is originals[0][i]) for i, t in enumerate(W)],
        "b": [dict(_encode(wire, t), same=i < len(originals[1]) and t is originals[1][i]) for i, t in enumerate(b)],
    }
    return reply


def perform(request, wire, function):
    """One call an adapter described (``_gradcheck_calling.perform``): its arguments, keyword
    arguments and object attributes, and what became of them afterwards."""
    import _gradcheck_calling as calling  # type: ignore[import-not-found]  # copied beside the child at run time

    values = wire.decode(request["values"])
    sent = set(map(id, _leaves(values)))
    started = time.perf_counter()
    try:
        value = calling.perform(
            function,
            values["args"],
            values["kwargs"],
            **request["how"],
            attributes=values["attributes"],
            then=values["then"],
        )
        reply = {"id": request["id"], "ok": True, "value": _encode(wire, value)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, anything
        reply = {"id": request["id"], "ok": False, "error": _error(exc)}
    reply["seconds"] = time.perf_counter() - started
    reply["after"] = _encode(wire, _same_only(values, sent))
    return reply


def _leaves(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _same_only(value, sent):
    """The containers' contents after a call, keeping only the very objects that were sent (an
    array put in a new one's place was not modified, as in process)."""
    if type(value) is dict:
        return {k: _same_only(v, sent) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [_same_only(v, sent) for v in value]
    return value if id(value) in sent else None


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    sys.path.extend(cfg["paths"])
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _gradcheck_calling  # noqa: F401 - imported here, before the submission can shadow it
    import _gradcheck_wire as wire  # type: ignore[import-not-found]  # copied beside the child at run time

    del sys.path[0]
    sys.meta_path.insert(0, _Blocker(cfg["blocked"]))
    sys.path.insert(0, cfg["submission_dir"])  # the submission's own helper modules
    _OWN["names"] = {c["name"] for c in cfg["cells"]}
    _OWN["folder"] = cfg["submission_dir"] + os.sep
    req_fd, rep_fd = (int(fd) for fd in os.environ.pop("GRADCHECK_FDS").split(","))
    _send(rep_fd, {"op": "ready", "pid": os.getpid(), "uid": os.getuid(), "torch": torch.__version__})
    namespace, error, warnings = load(cfg)
    _send(rep_fd, {"op": "loaded", "ok": error is None, "error": error, "warnings": warnings})
    if error is not None:
        os._exit(0)
    serve(req_fd, rep_fd, wire, cfg, namespace[cfg["function"]])


if __name__ == "__main__":
    main()
