"""What runs inside a box: load the learner's file, then answer questions about it.

The host answers three requests, each a plain JSON object:

- ``load``: compile and run the learner's source, capturing what it prints;
- ``get``: describe one module-level name (a JSON value, a function, or missing);
- ``call``: reseed ``random`` with the given seed, call a function ``repeat`` times,
  return the results.

Nothing here decides pass or fail. The trusted side only ever receives *data*:
a submission that rewrites this module can lie about its own outputs, but a lie
that passes the checks is indistinguishable from a correct answer.

`Host` also runs in-process (no box, no socket): the benchmark's lower bound, and
inside an nbgrader kernel (nbgrader's own trust model).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the C module signal wraps: no stub
import _thread
import errno
import io
import json
import operator
import random
import signal
import socket
import sys
import threading
import types

from grader import learner_text as lt
from grader.sandbox import protocol
from grader.sandbox.codes import READY

TYPE_CHECKING = False  # typing's own is an import: zygotes load typing for boxes that use it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from grader.sandbox.channel import LearnerErrorInfo, Reply

# A box's first frame, written once here: a box sends these bytes as they are.
_READY_FRAME = protocol.frame(READY)
# Bound now, before learner code can replace `random.seed` or `random._inst`.
_seed_random = random.Random.seed
_global_random: random.Random = getattr(random, "_inst")  # noqa: B009  (private: typeshed omits it)


class TimeLimit(BaseException):
    """Raised by the alarm when an operation runs past its budget."""


class CappedWriter(io.TextIOBase):
    """A stdout stand-in that keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output not shown]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


def on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimit


class Watchdog:
    """The alarm where there is no SIGALRM (Windows): a timer thread interrupts the main
    thread, and the KeyboardInterrupt it raises there is read as `TimeLimit`."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        _thread.interrupt_main()

    def cancel(self) -> None:
        self._timer.cancel()


def arm(seconds: float, use_signal: bool | None = None) -> Watchdog | None:
    """Raise `TimeLimit` in learner code after `seconds`: SIGALRM where it exists."""
    if use_signal is None:
        use_signal = hasattr(signal, "setitimer")
    if use_signal:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        return None
    return Watchdog(seconds)


def disarm(watchdog: Watchdog | None) -> None:
    if watchdog is None:
        signal.setitimer(signal.ITIMER_REAL, 0)
    else:
        watchdog.cancel()


def describe_error(exc: BaseException, filename: str) -> LearnerErrorInfo:
    """Turn an exception from learner code into data: kind, message, learner line."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        return {"kind": "syntax", "type": type(exc).__name__, "message": str(exc.msg),
                "line": exc.lineno if exc.filename == filename else line}
    kinds: list[tuple[type[BaseException], str]] = [
        (TimeLimit, "timeout"), (SystemExit, "exit"), (KeyboardInterrupt, "interrupt"),
        (MemoryError, "memory"), (RecursionError, "recursion"),
    ]
    kind = next((name for cls, name in kinds if isinstance(exc, cls)), "exception")
    if (isinstance(exc, BlockingIOError) and exc.errno == errno.EAGAIN) or (
            isinstance(exc, RuntimeError) and "new thread" in str(exc)):
        kind = "process"  # fork/thread refused by the box's process limit
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        kind = "disk"  # the box's own capped disk is full
    elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        kind = "file_size"  # one file past the box's largest (RLIMIT_FSIZE, file_size_kb)
    elif isinstance(exc, PermissionError):
        kind = "forbidden"  # a file, signal or socket outside the box
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "<unprintable>"
    # Cut here too: an 8 MB class name would otherwise cross the wall whole. The
    # module and the classes it derives from let a check match the type, not a sentence.
    bases = [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__[1:-1]][:MAX_BASES]
    return {"kind": kind, "type": lt.cut(type(exc).__name__, lt.NAME_CHARS),
            "module": lt.cut(str(type(exc).__module__), lt.NAME_CHARS),
            "bases": [lt.cut(b, lt.NAME_CHARS) for b in bases],
            "message": lt.cut(message, lt.BOX_MESSAGE_CHARS), "line": line}


MAX_BASES = 8  # ValueError -> Exception -> BaseException: a real hierarchy is short
_CONTAINERS = (dict, list, tuple)
# JSON's scalars, by exact type: a list of only these (the usual call results) is
# measured by C loops (set, map, len), never a Python loop over its items.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scan(items: list[Any]) -> tuple[int, list[Any]]:
    """(the characters of the strings among `items`, the containers among them), by
    real type (as json's encoder sees them): no `__class__`, no subclass's `__len__`."""
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        if kinds == {str}:
            return sum(map(len, items)), []
        return (sum(len(i) for i in items if type(i) is str) if str in kinds else 0), []
    text = sum(str.__len__(i) for i in items if issubclass(type(i), str))
    return text, [i for i in items if issubclass(type(i), _CONTAINERS)]


def _json_size(value: Any, budget: int, memo: dict[int, int], open_: set[int]) -> int:
    """A lower bound of the length of `value`'s JSON text, or anything over `budget`.

    Brackets, separators, at least one character per number and two per string.
    Each container is measured once (`memo`): a list that holds one big list ten
    thousand times costs one walk, and counts ten thousand times, as JSON writes it.
    A container inside itself is infinitely large. Only built-in methods run.
    """
    if issubclass(type(value), str):
        return str.__len__(value) + 2
    if not issubclass(type(value), _CONTAINERS):
        return 1
    key = id(value)
    if key in memo:
        return memo[key]
    if key in open_:
        return 1 << 62  # a cycle: no budget is large enough
    is_dict = issubclass(type(value), dict)
    kind = dict if is_dict else list if issubclass(type(value), list) else tuple
    least = 2 + (5 if is_dict else 2) * kind.__len__(value)
    if least > budget:
        return least  # millions of entries: no need to look at them
    if is_dict:
        keys, children = list(dict.keys(value)), list(dict.values(value))
        size = 2 + 5 * len(keys) + _scan(keys)[0]  # `"":0,` per entry at the least
    else:
        children = list(_items(value))
        size = 2 + 2 * len(children)  # `0,` per item at the least
    text, nested = _scan(children)
    size += text
    open_.add(key)
    for child in nested:
        if size > budget:
            break
        size += _json_size(child, budget - size, memo, open_) - 1
    open_.discard(key)
    memo[key] = size
    return size


def _items(value: Any) -> Iterator[Any]:
    """A list's or a tuple's items by the built-in iterator (a subclass's own is not run)."""
    return list.__iter__(value) if issubclass(type(value), list) else tuple.__iter__(value)


def _too_large(value: Any, budget: int) -> bool:
    """Whether `value`'s JSON text would surely take more than `budget` bytes: found
    in a fraction of a second for millions of entries, before encoding them would
    run out the clock. Nesting too deep to measure is left to json to refuse."""
    try:
        return _json_size(value, budget, {}, set()) > budget
    except RecursionError:
        return False


REPEATS = 4  # items per distinct string, at the least, for `_repeated_strings`
_STR = frozenset({str})


def _strings(value: Any) -> bool:
    """Whether `value` is a list of exact strs, as a function's draws usually are
    (`LearnerFunction.draw`); its first look is `_json_size`'s, by length alone."""
    return (type(value) is list and len(value) > 0 and 2 + 2 * len(value) <= protocol.MAX_VALUE
            and frozenset(map(type, value)) == _STR)


def _repeated_strings(value: list[str]) -> str | None:
    """The JSON text of a list of strs that mostly repeat (thousands of draws of a few
    outcomes), or None if they do not.

    json's encoder makes a new string object per item, all kept until its final join:
    in a box, fresh memory, hence page faults (170 of them and 0.4 ms of a box's CPU
    for 10,000 draws). Here each distinct string is written once, and C loops join
    them: the same text. Exact `str`s only: hashing them runs no learner code.
    """
    distinct = set(value)
    if len(value) < 2 * REPEATS or len(distinct) * REPEATS > len(value):
        return None
    written = {text: json.dumps(text) for text in distinct}
    return "[" + ",".join(map(written.__getitem__, value)) + "]"


class TooLarge(Exception):
    """A value whose JSON would exceed `protocol.MAX_VALUE`."""


def _draws(value: Any) -> str | None:
    """A call's results, when they are draws of a few outcomes (exact strs, each
    repeated), as `protocol.expand_draws` reads them: the outcomes once, then one
    character per draw. Else None, and they go as a JSON list.

    10,000 draws are 10 KB of text instead of 90: less fresh memory in the box (page
    faults), and the trusted side decodes three strings, not ten thousand. Refused
    as too large exactly when their JSON list would be (`_encode`'s test, and the
    list's length counted from the picks). Hashing and sorting exact strs runs no
    learner code.
    """
    if not _strings(value):
        return None
    distinct = set(value)
    if (len(value) < 2 * REPEATS or len(distinct) * REPEATS > len(value)
            or len(distinct) > len(protocol.PICKS)):
        if 2 + 2 * len(value) + sum(map(len, value)) > protocol.MAX_VALUE:
            raise TooLarge
        return None
    outcomes = sorted(distinct)
    code = dict(zip(outcomes, protocol.PICKS))
    picks = "".join(map(code.__getitem__, value))
    # each outcome's draws counted in the picks (a C loop over one string), not by a
    # pass over the list: `_encode`'s first look (2 + 2n + their characters), then
    # "[" + the items, a comma between two + "]": the text `_encode` would send
    counts = [picks.count(pick) for pick in protocol.PICKS[:len(outcomes)]]
    if 2 + 2 * len(value) + sum(map(operator.mul, counts, map(len, outcomes))
                                ) > protocol.MAX_VALUE:
        raise TooLarge
    written = [json.dumps(text) for text in outcomes]
    length = len(value) + 1 + sum(map(operator.mul, counts, map(len, written)))
    if length > protocol.MAX_VALUE:
        raise TooLarge
    return '{"outcomes":[' + ",".join(written) + '],"picks":"' + picks + '"}'


def _encode(value: Any) -> str | None:
    """`value` as JSON text, or None if it cannot be. Learner code may run here (a dict
    subclass's items()), so this happens under the alarm; the text is plain data.

    Raises TooLarge for a value over `protocol.MAX_VALUE` bytes.
    """
    encoded = None
    if _strings(value):  # `_too_large`'s own measure of them, by C loops, in one pass
        if 2 + 2 * len(value) + sum(map(len, value)) > protocol.MAX_VALUE:
            raise TooLarge
        encoded = _repeated_strings(value)
    elif _too_large(value, protocol.MAX_VALUE):
        raise TooLarge
    if encoded is None:
        try:
            encoded = protocol.write(value)
        except (TypeError, ValueError, RecursionError):
            return None
    if len(encoded) > protocol.MAX_VALUE:
        raise TooLarge
    return encoded


def _to_json(value: Any) -> tuple[bool, Any]:
    """(True, value) if `value` survives a JSON round trip unchanged in kind."""
    encoded = _encode(value)
    return (False, type(value).__name__) if encoded is None else (True, json.loads(encoded))


TOO_LARGE: LearnerErrorInfo = {"kind": "too_large", "limit": protocol.MAX_VALUE}


def _repeated(function: Callable[..., Any], args: list[Any], kwargs: dict[str, object],
              repeat: int) -> list[Any]:
    """`repeat` calls of `function(*args, **kwargs)`: a draw of 10,000 samples. The common
    shape, one positional argument, is called as such: unpacking an empty `**kwargs` and a
    one-item `*args` on every call was a fifth of a sampler's own cost."""
    if kwargs:
        return [function(*args, **kwargs) for _ in range(repeat)]
    if len(args) == 1:
        (argument,) = args
        return [function(argument) for _ in range(repeat)]
    return [function(*args) for _ in range(repeat)]


MAX_AHEAD_GETS = 16  # gets answered ahead of their asking, at most, per request
MAX_AHEAD = 1 << 20  # bytes of their values, at most: a reply stays far below MAX_FRAME
_PLAIN_KEYS = frozenset({str})
_PLAIN_NODES = 10_000  # a larger value is answered when asked, not ahead


def _inert(namespace: dict[str, object], name: str) -> bool:
    """Whether a get of `name` surely runs no learner code: every global's name an
    exact str (a dict look-up may compare keys), and its value missing, an exact
    function, or JSON data of exact built-in types only (json's encoder calls a dict
    subclass's items(); isinstance reads an object's __class__)."""
    if not set(map(type, namespace)) <= _PLAIN_KEYS:
        return False
    if name not in namespace:
        return True
    value = namespace[name]
    kind = type(value)
    if kind is types.FunctionType or kind is types.BuiltinFunctionType:
        return True
    stack: list[Any] = [value]
    nodes = 0
    while stack:
        nodes += 1
        if nodes > _PLAIN_NODES:
            return False
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not set(map(type, item)) <= _PLAIN_KEYS:
                return False
            stack.extend(dict.values(item))
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind not in _SCALARS:
            return False
    return True


class Host:
    """The learner's module and the operations the trusted side may ask of it."""

    def __init__(self, output_limit: int = 64_000, encoded: bool = False,
                 use_signal: bool | None = None) -> None:
        self.use_signal = use_signal  # None: SIGALRM where the OS has it, else a Watchdog
        self.namespace: dict[str, object] = {}  # the learner module's globals
        self.filename = "<submission>"
        self.stdout = CappedWriter(output_limit)
        # In a box, call results stay the JSON text they were validated as, for
        # `protocol.send` to splice in: encoded once, never decoded and re-encoded.
        self.encoded = encoded

    def handle(self, request: dict[str, Any]) -> Reply:
        """Answer one request frame (raw JSON: the trusted side wrote it)."""
        op = request.get("op")
        seconds = float(request.get("seconds", 0) or 0)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.stdout
        alarm = arm(seconds, self.use_signal) if seconds > 0 else None
        try:
            if op == "load":
                reply = self.load(request["source"], request["filename"])
            elif op == "get":
                reply = self.get(request["name"])
            elif op == "call":
                reply = self.call(request["name"], request.get("args", []),
                                  request.get("kwargs", {}), request.get("seed"),
                                  int(request.get("repeat", 1)))
                if request.get("echo_args") and ("results" in reply or "draws" in reply):
                    reply["args"] = self.args_after(request.get("args", []))
            else:
                reply = {"error": {"kind": "protocol", "message": f"unknown op {op!r}"}}
        except BaseException as exc:  # learner code raised anything at all
            if isinstance(alarm, Watchdog) and alarm.fired and isinstance(exc, KeyboardInterrupt):
                exc = TimeLimit().with_traceback(exc.__traceback__)
            reply = {"error": describe_error(exc, self.filename)}
        finally:
            if seconds > 0:
                disarm(alarm)
            sys.stdout, sys.stderr = saved
        reply["id"] = request.get("id")
        reply["stdout"] = self.stdout.take()
        then = request.get("then")
        if then and self.encoded and "error" not in reply:
            answered = self._ahead(then, request)
            if answered:
                reply["then"] = protocol.Encoded(
                    "[" + ",".join(map(protocol.encode_text, answered)) + "]")
        return reply

    def _ahead(self, then: Any, request: dict[str, Any]) -> list[Reply]:
        """The replies to `then`'s gets, asked with `request` (`Box.request`): each as
        its own request would get it, as long as each looks at plain data only.

        It stops at the first it cannot answer so: a name whose value is not plain
        JSON data of the built-in types (only then could a get run learner code: a
        dict subclass's items(), an object's __class__), a request that is not a get,
        a get that errs, or past MAX_AHEAD bytes. The trusted side asks the rest as
        usual; the gets answered here would have run, unchanged, right after this
        request, as no learner code runs between two requests.
        """
        answered: list[Reply] = []
        size = 0
        first = request.get("id")
        if not isinstance(then, list) or not isinstance(first, int):
            return answered
        for number, ask in enumerate(then[:MAX_AHEAD_GETS], start=first + 1):
            name = ask.get("name") if isinstance(ask, dict) and ask.get("op") == "get" else None
            if not isinstance(name, str) or not _inert(self.namespace, name):
                break
            reply = self.handle({"op": "get", "name": name, "id": number,
                                 "seconds": request.get("seconds", 0)})
            size += len(reply.get("value", ""))
            if "error" in reply or size > MAX_AHEAD:
                break
            answered.append(reply)
        return answered

    def load(self, source: str, filename: str) -> Reply:
        self.filename = filename
        # Imported, not run as a script: a demo under `if __name__ == "__main__":`
        # stays out of grading, so a bug there fails only the checks it affects.
        module = types.ModuleType(filename.rsplit(".", 1)[0] or "submission")
        module.__file__ = filename
        self.namespace = module.__dict__
        # The same source prints the same thing in every box: a re-graded class
        # reproduces its gradebook byte for byte (the zygote's seed is random).
        _seed_random(_global_random, 0)
        try:
            code = compile(source, filename, "exec", dont_inherit=True)
        except ValueError as exc:  # e.g. NUL bytes
            return {"error": {"kind": "syntax", "type": "ValueError", "message": str(exc),
                              "line": None}}
        exec(code, self.namespace)
        return {"ok": True}

    def get(self, name: str) -> Reply:
        if name not in self.namespace:
            return {"kind": "missing"}
        value = self.namespace[name]
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
            code = getattr(value, "__code__", None)
            params = list(code.co_varnames[: code.co_argcount]) if code else []
            return {"kind": "function", "params": params}
        try:
            encoded = _encode(value)
        except TooLarge:
            return {"kind": TOO_LARGE["kind"], "limit": TOO_LARGE["limit"]}
        if encoded is None:
            return {"kind": "opaque", "type": type(value).__name__}
        # in a box, sent as the text it was checked as (as a call's results are)
        return {"kind": "value",
                "value": protocol.Encoded(encoded) if self.encoded else json.loads(encoded)}

    def call(self, name: str, args: list[Any], kwargs: dict[str, object],
             seed: int | None, repeat: int) -> Reply:
        function = self.namespace.get(name)
        if not callable(function):
            return {"error": {"kind": "missing", "message": f"{name} is not a function"}}
        if seed is not None:
            _seed_random(_global_random, seed)
        results = _repeated(function, args, kwargs, repeat)
        try:
            if self.encoded:  # to a trusted side that expands them (`Box`)
                draws = _draws(results)
                if draws is not None:
                    return {"draws": protocol.Encoded(draws)}
            encoded = _encode(results)
        except TooLarge:
            return {"error": TOO_LARGE.copy()}
        if encoded is None:
            bad = next((type(r).__name__ for r in results if _encode(r) is None), "value")
            return {"error": {"kind": "opaque", "message": f"returned a {bad}", "type": bad}}
        return {"results": protocol.Encoded(encoded) if self.encoded else json.loads(encoded)}


    @staticmethod
    def args_after(args: list[Any]) -> Any:
        """The call's arguments as the learner's function left them (in place changes)."""
        try:
            ok, data = _to_json(args)
        except TooLarge:
            return None
        return data if ok else None


def serve(channel: socket.socket, output_limit: int) -> Host:
    """Answer requests on `channel` until the trusted side hangs up.

    Returns the host, the learner's module in it: a box that ends then keeps them
    referenced while it leaves (`zygote._enter_box`), and tears none of them down."""
    if hasattr(signal, "SIGALRM"):  # else (Windows) `arm` uses a Watchdog
        _signal.signal(signal.SIGALRM, on_alarm)  # no enum for the old one (zygote.py)
    host = Host(output_limit, encoded=True)
    channel.sendall(_READY_FRAME)  # locked down: from here on, any exit is learner code's
    while _answer(channel, host):
        pass
    return host


def _answer(channel: socket.socket, host: Host) -> bool:
    """Answer one request; False once the trusted side hung up."""
    try:
        request = protocol.read_request(channel)
    except (protocol.ProtocolError, OSError):
        return False
    protocol.send(channel, host.handle(request))
    return True


# Trusted code only: what `rehearse` loads in the zygote, shaped like an exercise's file.
REHEARSAL = """\
import random
weights = {"sun": 0.5, "rain": 0.3, "fog": 0.2}
numbers = [1, 2.5, None, True, "x"]

def pick(table):
    r = random.random()
    total = 0.0
    for outcome, weight in table.items():
        total += weight
        if r < total:
            return outcome
    return outcome

def add(x, y=1):
    return x + y

def fails():
    raise ValueError("rehearsed")

print("loaded")
"""
REHEARSALS = 8  # runs of each request: 3.11 quickens a function's code at its 8th call


def rehearse() -> None:
    """Run what every box runs (the protocol both ways, the host's answers, the JSON
    of their values) in the zygote, on trusted code, before it forks more boxes.

    Python 3.11 rewrites a function's bytecode in place as it warms up (quickening,
    then specializing): done in every box, that is CPU and a copy-on-write fault per
    page written, per box. Done once here, every box inherits the warm code. No
    learner code runs, no alarm is armed (seconds 0), `sys.stdout` is restored by
    `Host.handle` as in a box, and `random`'s state is seeded again by every box's
    load (`Host.load`).
    """
    w = {"sun": 0.5, "rain": 0.3, "fog": 0.2}
    requests: list[dict[str, Any]] = [
        {"op": "get", "name": "numbers", "then": [{"op": "get", "name": "weights"},
                                                  {"op": "get", "name": "pick"}]},
        {"op": "get", "name": "absent"},
        {"op": "call", "name": "pick", "args": [w], "kwargs": {}, "seed": 0, "repeat": 40},
        {"op": "call", "name": "add", "args": [1], "kwargs": {"y": 2}, "seed": None,
         "repeat": 1, "echo_args": True},
        {"op": "call", "name": "fails", "args": [], "kwargs": {}, "seed": None,
         "repeat": 1},
    ]
    load = {"op": "load", "source": REHEARSAL, "filename": "rehearsal.py"}
    ours, theirs = socket.socketpair()
    with ours, theirs:
        host = Host(64, encoded=True)
        for number in range(REHEARSALS):
            # compiling is C code, warm or not: one load, and the host's own code warms
            for request in ([load] if number == 0 else []) + requests:
                protocol.send(ours, {**request, "id": number, "seconds": 0})
                _answer(theirs, host)
                protocol.recv(ours)
