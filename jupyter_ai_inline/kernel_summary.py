"""A compact summary of a Python kernel's user namespace, for the prompt.

The browser runs this file's source in the kernel as a silent execution (`src/kernel.ts`:
``exec(source, {"__name__": "__jupyter_ai_inline__"})``, a namespace of its own, so the user's
gains nothing) and reads the one JSON line it prints: ``{"variables": [{"name", "text"}, ...],
"truncated": bool}``, the most recently defined first.

It never runs a user object's code: no `repr`, `str`, `len`, property, `__getattr__` or
`__class__` of a user's object. Each value is described from its exact type (`type(obj)`):
numpy arrays and pandas frames and series by their shape, dtypes and labels; the builtins
by their lengths and short values; modules by their name; functions and classes by their
signatures, read from `__code__` and the class's own `__dict__`; anything else by its type's
name. Only modules the user has already imported are looked at (`sys.modules`); nothing is
imported. Stdlib only, and a deadline and a size bound of its own.
"""

from __future__ import annotations

import json
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from typing import Any

MAX_CHARS = 4000  # the prompt lines' (`# name: text`) together
DEADLINE_S = 0.2
TEXT_CHARS = 200  # one variable's text
LABELS = 20  # columns of a DataFrame, keys of a dict, methods of a class
VALUE_CHARS = 40  # a short value (a number, the start of a string, a default)
SKIPPED = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
SIMPLE = (int, float, bool, complex, type(None))
CO_VARARGS, CO_VARKEYWORDS = 0x04, 0x08
class_dict = type.__dict__["__dict__"].__get__
class_module = type.__dict__["__module__"].__get__
class_qualname = type.__dict__["__qualname__"].__get__
module_dict = types.ModuleType.__dict__["__dict__"].__get__


def summarize(
    namespace: Mapping[str, Any],
    hidden: Iterable[str] = (),
    max_chars: int = MAX_CHARS,
    deadline_s: float = DEADLINE_S,
) -> dict[str, Any]:
    """The variables of `namespace` (most recently defined first) other than `hidden` names,
    `_` names and IPython's own, within `max_chars` and `deadline_s`."""
    stop = time.perf_counter() + deadline_s
    hidden = set(hidden) | SKIPPED
    variables: list[dict[str, str]] = []
    left = max_chars
    for name in reversed(list(namespace)):
        if type(name) is not str or name.startswith("_") or name in hidden:
            continue
        if time.perf_counter() > stop:
            return {"variables": variables, "truncated": True}
        text = cut(describe(namespace[name]), TEXT_CHARS)
        left -= len(f"# {name}: {text}")
        if left < 0:
            return {"variables": variables, "truncated": True}
        variables.append({"name": name, "text": text})
    return {"variables": variables, "truncated": False}


def describe(obj: Any) -> str:
    """What the prompt says about one value; its type's name when nothing better is safe."""
    kind = type(obj)
    try:
        return next(text(obj) for matches, text in DESCRIBERS if matches(kind))
    except Exception:  # none matched, or a library's attribute failed: the type is still true
        return type_name(kind)


def loaded(module: str) -> Mapping[str, Any]:
    """The namespace of a module the user already imported; empty when it is not loaded."""
    found = sys.modules.get(module)
    return module_dict(found) if issubclass(type(found), types.ModuleType) else {}


def exact(module: str, *names: str) -> Callable[[type], bool]:
    """Matches the exact types `module.name` of a module the user already imported."""

    def matches(kind: type) -> bool:
        own = loaded(module)
        return any(kind is own.get(name) for name in names)

    return matches


def array(obj: Any) -> str:
    return f"ndarray shape={shape(obj.shape)} dtype={obj.dtype.name}"


def frame(obj: Any) -> str:
    pairs = zip(obj.columns[:LABELS], obj.dtypes.iloc[:LABELS], strict=True)
    columns = [f"{label(column)}: {dtype(kind)}" for column, kind in pairs]
    more = f", ... {len(obj.columns) - LABELS} more" if len(obj.columns) > LABELS else ""
    index = f" index={label(obj.index.name)}" if obj.index.name is not None else ""
    return f"DataFrame shape={shape(obj.shape)}{index} columns={{{', '.join(columns)}{more}}}"


def series(obj: Any) -> str:
    name = f" name={label(obj.name)}" if obj.name is not None else ""
    return f"Series{name} length={len(obj)} dtype={dtype(obj.dtype)}"


def numpy_scalar(obj: Any) -> str:
    return f"{class_qualname(type(obj))} {value(obj.item())}"


def sized(obj: list | tuple | set | frozenset) -> str:
    """`list[int] len=3`: the item type when the first items share one."""
    kinds = {class_qualname(type(item)) for item in islice(obj, LABELS)}
    of = f"[{kinds.pop()}]" if len(kinds) == 1 else ""
    return f"{class_qualname(type(obj))}{of} len={len(obj)}"


def mapping(obj: dict) -> str:
    keys = [label(key) for key in islice(obj, LABELS)]
    more = ", ..." if len(obj) > LABELS else ""
    return f"dict len={len(obj)} keys={', '.join(keys)}{more}"


def text(obj: str) -> str:
    return f"str len={len(obj)} {value(obj)}"


def module(obj: types.ModuleType) -> str:
    return f"module {module_dict(obj).get('__name__', '?')}"


def function(obj: types.FunctionType) -> str:
    return f"function{signature(obj)}"


def klass(obj: type) -> str:
    """`class(x, y) methods: norm`, an imported one with its name: `class pathlib.Path(...)`."""
    own = class_dict(obj)
    init = own.get("__init__")
    params = signature(init, skip=1) if type(init) is types.FunctionType else "()"
    if class_module(obj) != "__main__":  # an imported class: its name says more
        return f"class {type_name(obj)}{params}"
    methods = [
        name
        for name, member in own.items()
        if type(name) is str and not name.startswith("_") and type(member) is types.FunctionType
    ][:LABELS]
    return f"class{params} methods: {', '.join(methods)}" if methods else f"class{params}"


def signature(function: types.FunctionType, skip: int = 0) -> str:
    """`(a, b=1, /, *args, c, **kwargs)` from the function's code and defaults alone; `skip`
    leaves out the first parameters (a method's `self`)."""
    code = function.__code__
    count = code.co_argcount
    names = code.co_varnames[: count + code.co_kwonlyargcount]
    given = function.__defaults__ or ()
    defaults = dict(zip(names[count - len(given) : count], given, strict=True))
    defaults.update(function.__kwdefaults__ or {})

    def param(name: str) -> str:
        return f"{name}={default(defaults[name])}" if name in defaults else name

    params = [param(name) for name in names[:count]]
    if code.co_posonlyargcount:
        params.insert(code.co_posonlyargcount, "/")
    stars = code.co_varnames[len(names) :]
    varargs = bool(code.co_flags & CO_VARARGS)
    if varargs:
        params.append("*" + stars[0])
    elif code.co_kwonlyargcount:
        params.append("*")
    params += [param(name) for name in names[count:]]
    if code.co_flags & CO_VARKEYWORDS:
        params.append("**" + stars[varargs])
    shown = params[skip:]
    return f"({', '.join(shown[1:] if shown[:1] == ['/'] else shown)})"


def default(obj: Any) -> str:
    return value(obj) if type(obj) in (*SIMPLE, str) else "..."


def value(obj: Any) -> str:
    """A number's or a string's short repr (of its start); a huge int by its size."""
    if type(obj) is int and obj.bit_length() > 128:
        return f"<int of {obj.bit_length()} bits>"
    return cut(repr(obj[:VALUE_CHARS] if type(obj) is str else obj), VALUE_CHARS)


def label(obj: Any) -> str:
    """A column, index or key label: its repr when it is a builtin value, else its type."""
    if type(obj) in (*SIMPLE, str):
        return value(obj)
    if type(obj) is tuple and all(type(part) in (*SIMPLE, str) for part in obj):
        return cut(f"({', '.join(value(part) for part in obj)})", VALUE_CHARS)
    return type_name(type(obj))


def dtype(obj: Any) -> str:
    top = class_module(type(obj)).partition(".")[0]
    return str(obj) if top in ("numpy", "pandas") else type_name(type(obj))


def shape(dims: tuple) -> str:
    return "(" + ", ".join(str(int(d)) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def type_name(kind: type) -> str:
    """`sklearn.linear_model.LinearRegression`: the public module path and the qualname."""
    path = [p for p in class_module(kind).split(".") if not p.startswith("_")]
    module = ".".join(path)
    name = class_qualname(kind)
    return name if module in ("", "builtins", "__main__") else f"{module}.{name}"


def cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 3] + "..."


def is_(*kinds: type) -> Callable[[type], bool]:
    return lambda kind: any(kind is each for each in kinds)


def numpy_scalar_type(kind: type) -> bool:
    generic = loaded("numpy").get("generic")
    return generic is not None and issubclass(kind, generic) and class_module(kind) == "numpy"


DESCRIBERS: list[tuple[Callable[[type], bool], Callable[[Any], str]]] = [
    (is_(*SIMPLE), value),
    (is_(str), text),
    (is_(list, tuple, set, frozenset), sized),
    (is_(dict), mapping),
    (lambda kind: issubclass(kind, types.ModuleType), module),
    (is_(types.FunctionType), function),
    (lambda kind: issubclass(kind, type), klass),
    (exact("numpy", "ndarray"), array),
    (exact("pandas", "DataFrame"), frame),
    (exact("pandas", "Series"), series),
    (numpy_scalar_type, numpy_scalar),
]
"""(does it match the exact type, the text); the first match describes a value."""


def user_namespace() -> tuple[Mapping[str, Any], Iterable[str]]:
    """IPython's user namespace and the names it hides (`%who`'s), else `__main__`'s."""
    shell = getattr(sys.modules.get("builtins"), "get_ipython", lambda: None)()
    if shell is None:
        return module_dict(sys.modules["__main__"]), ()
    return shell.user_ns, shell.user_ns_hidden


if __name__ == "__jupyter_ai_inline__":
    print(json.dumps(summarize(*user_namespace()), ensure_ascii=True))
