"""A pickle reader for untrusted infos files: plain data and numpy arrays, nothing that runs code.

mmdetection3d, mmengine (``mmengine.dump``, pickle protocol 2 by default) and EmbodiedScan ship
camera and annotation "infos" as pickles. A pickle is a program: loading one with :mod:`pickle`
can call any importable function. :func:`load_plain_pickle` reads only what these files hold --
dicts, lists, tuples, sets, strings, numbers, ``None``, ``collections.OrderedDict`` /
``defaultdict``, ``pathlib`` paths, numpy arrays, dtypes and scalars -- written at any protocol
(0-5), and refuses every other global with :class:`spar3d.errors.UnsafeInputError`.

Numpy objects are never built by numpy's own pickle hooks (``ndarray.__setstate__`` and
``dtype.__setstate__`` trust their input: a crafted state can make numpy dereference an
attacker-chosen pointer). The reader maps numpy's globals to its own constructors, which:

* accept only numeric, boolean and fixed-width string dtypes (no object, void, structured or
  sub-array dtypes), rebuilt from their name and byte order;
* copy array data from the bytes in the file (``_codecs.encode(text, "latin1")`` under protocols
  0-2, bytes under 3-4, in-band ``PickleBuffer`` under 5), checking that the length is exactly
  ``prod(shape) * itemsize`` and at most :data:`MAX_ARRAY_BYTES`;
* never allocate from a number in the file (``bytes(N)``, ``bytearray(N)``, ``range``, a huge
  empty shape): allocation is bounded by the size of the file itself.
"""

from __future__ import annotations

import collections
import io
import math
import pathlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.errors import InputError, UnsafeInputError

MAX_ARRAY_BYTES = 1 << 30  # one array's data; real infos arrays are kilobytes
MAX_NDIM = 32
MAX_STRING_ITEMSIZE = 4096  # characters of one element of a fixed-width string array
MAX_NESTING = 500  # containers inside containers (real infos: < 10)

_NUMPY_KINDS = set("biufc") | {"U", "S"}

HOW_TO_FIX = (
    "spar3d reads only plain data from pickles (dicts, lists, strings, numbers, numpy arrays); "
    "if you trust this file, load it yourself and re-save it as plain data"
)


class _Refused(Exception):
    """Raised inside the unpickler; turned into UnsafeInputError naming the file."""


class _NdarrayClass:
    """Stands for ``numpy.ndarray`` in a pickle (only ever passed to ``_reconstruct``)."""


class _DType:
    """A dtype under construction: numpy's ``dtype(name, align, copy)`` then ``BUILD(state)``."""

    def __init__(self, name: Any, *_args: Any) -> None:
        if not isinstance(name, str) or len(name) > 16:
            raise _Refused(f"numpy dtype {name!r}")
        try:
            dt = np.dtype(name)
        except TypeError as exc:
            raise _Refused(f"numpy dtype {name!r}") from exc
        if dt.kind not in _NUMPY_KINDS or dt.fields is not None or dt.subdtype is not None:
            raise _Refused(f"numpy dtype {name!r} (only numbers, booleans and strings)")
        if dt.kind in "US" and dt.itemsize > MAX_STRING_ITEMSIZE * 4:
            raise _Refused(f"numpy dtype {name!r} (string elements too long)")
        self.dtype = dt

    def __setstate__(self, state: Any) -> None:
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags)
        if not isinstance(state, tuple) or len(state) < 5:
            raise _Refused("numpy dtype state")
        order = state[1]
        if order not in ("<", ">", "|", "="):
            raise _Refused(f"numpy dtype byte order {order!r}")
        if any(x is not None for x in state[2:5]):
            raise _Refused("structured or sub-array numpy dtype")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


def _as_dtype(value: Any) -> np.dtype[Any]:
    if not isinstance(value, _DType):
        raise _Refused(f"numpy array with dtype {type(value).__name__}")
    return value.dtype


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, tuple) or len(value) > MAX_NDIM:
        raise _Refused(f"numpy array shape {value!r}")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise _Refused(f"numpy array shape {value!r}")
    return value


def _array(data: Any, dtype: np.dtype[Any], shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    """A fresh array copied from ``data``, whose length must match the shape exactly."""
    if isinstance(data, str):  # protocol 0-2 pickles of numpy < 1.x stored latin-1 text
        data = data.encode("latin1")
    if not isinstance(data, (bytes, bytearray)):
        raise _Refused(f"numpy array data of type {type(data).__name__}")
    n = math.prod(shape)
    need = n * dtype.itemsize
    if need > MAX_ARRAY_BYTES:
        raise _Refused(f"numpy array of {need} bytes (limit {MAX_ARRAY_BYTES})")
    if len(data) != need:
        raise _Refused(f"numpy array data of {len(data)} bytes for shape {shape} {dtype}")
    flat = np.frombuffer(bytes(data), dtype=dtype, count=n)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


class _ArrayStub:
    """``_reconstruct(ndarray, shape, b'b')`` then ``BUILD((version, shape, dtype, fortran,
    data))``; replaced by the array once the pickle is read."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("numpy array state")
        if len(state) == 5:
            state = state[1:]
        shape, dtype, fortran, data = state
        self.array = _array(data, _as_dtype(dtype), _shape(shape), bool(fortran))


def _reconstruct(cls: Any, shape: Any = (0,), typecode: Any = b"b") -> _ArrayStub:
    if cls is not _NdarrayClass:
        raise _Refused("numpy _reconstruct of a class other than ndarray")
    return _ArrayStub()


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    if isinstance(buf, pickle.PickleBuffer):
        buf = bytes(buf.raw())
    return _array(buf, _as_dtype(dtype), _shape(shape), order == "F")


def _scalar(dtype: Any, data: Any = None) -> Any:
    dt = _as_dtype(dtype)
    return _array(data, dt, (), False)[()]


def _codecs_encode(text: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
    # protocol 0-2 write every bytes object as _codecs.encode(<latin-1 text>, "latin1")
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _container(kind: type) -> Any:
    def build(items: Any = None) -> Any:
        if items is None:
            return kind()
        if not isinstance(items, (list, tuple, set, frozenset, dict, str, bytes)):
            raise _Refused(f"builtins.{kind.__name__} of a {type(items).__name__}")
        return kind(items)

    build.__name__ = kind.__name__
    return build


def _bytes(data: Any = b"") -> bytes:
    if not isinstance(data, (bytes, bytearray, list, tuple)):  # bytes(N) allocates N bytes
        raise _Refused(f"builtins.bytes of a {type(data).__name__}")
    return bytes(data)


def _bytearray(data: Any = b"") -> bytearray:
    if not isinstance(data, (bytes, bytearray, list, tuple)):
        raise _Refused(f"builtins.bytearray of a {type(data).__name__}")
    return bytearray(data)


def _scalar_type(kind: type) -> Any:
    def build(*args: Any) -> Any:
        if not all(isinstance(a, (int, float, str)) for a in args) or len(args) > 2:
            raise _Refused(f"builtins.{kind.__name__}{args!r}")
        return kind(*args)

    return build


def _defaultdict(factory: Any = None, items: Any = None) -> collections.defaultdict[Any, Any]:
    plain = _PLAIN_TYPES.get(factory) if factory is not None else None
    if factory is not None and plain is None:
        raise _Refused("defaultdict with a default factory that is not a plain type")
    out: collections.defaultdict[Any, Any] = collections.defaultdict(plain)
    if items is not None:
        out.update(_container(dict)(items))
    return out


def _path(kind: type) -> Any:
    def build(*parts: Any) -> Any:
        if not all(isinstance(p, str) for p in parts):
            raise _Refused(f"pathlib.{kind.__name__} of non-strings")
        return kind(*parts)

    return build


_GLOBALS: dict[tuple[str, str], Any] = {
    ("builtins", "list"): _container(list),
    ("builtins", "dict"): _container(dict),
    ("builtins", "tuple"): _container(tuple),
    ("builtins", "set"): _container(set),
    ("builtins", "frozenset"): _container(frozenset),
    ("builtins", "int"): _scalar_type(int),
    ("builtins", "float"): _scalar_type(float),
    ("builtins", "complex"): _scalar_type(complex),
    ("builtins", "str"): _scalar_type(str),
    ("builtins", "bool"): _scalar_type(bool),
    ("builtins", "bytes"): _bytes,
    ("builtins", "bytearray"): _bytearray,
    ("_codecs", "encode"): _codecs_encode,
    ("collections", "OrderedDict"): _container(collections.OrderedDict),
    ("collections", "defaultdict"): _defaultdict,
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "dtype"): _DType,
}
# the builders standing for plain types, back to the types (a defaultdict's factory)
_PLAIN_TYPES: dict[Any, type] = {
    _GLOBALS[("builtins", t.__name__)]: t for t in (list, dict, set, tuple, int, float, str, bool)
}
for _mod in ("numpy.core", "numpy._core"):
    _GLOBALS[(f"{_mod}.multiarray", "_reconstruct")] = _reconstruct
    _GLOBALS[(f"{_mod}.multiarray", "scalar")] = _scalar
    _GLOBALS[(f"{_mod}.numeric", "_frombuffer")] = _frombuffer
for _name in ("Path", "PosixPath", "WindowsPath", "PurePath", "PurePosixPath", "PureWindowsPath"):
    _GLOBALS[("pathlib", _name)] = _path(pathlib.PurePosixPath if "Windows" not in _name else
                                         pathlib.PureWindowsPath)  # fmt: skip
# Python 2 pickles name the builtins module __builtin__
for (_m, _n), _f in list(_GLOBALS.items()):
    if _m == "builtins":
        _GLOBALS[("__builtin__", _n)] = _f


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise _Refused(f"global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent id")


def _finish(obj: Any, memo: dict[int, Any], depth: int = 0) -> Any:
    """Replace array stubs by their arrays (shared objects stay shared; no exponential walk)."""
    if depth > MAX_NESTING:
        raise _Refused(f"containers nested more than {MAX_NESTING} deep")
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, _ArrayStub):
        if obj.array is None:
            raise _Refused("numpy array without its state")
        memo[key] = obj.array
        return obj.array
    if isinstance(obj, _DType):
        memo[key] = obj.dtype
        return obj.dtype
    if isinstance(obj, list):
        memo[key] = obj
        obj[:] = [_finish(x, memo, depth + 1) for x in obj]
        return obj
    if isinstance(obj, dict):
        memo[key] = obj
        for k in list(obj):
            obj[k] = _finish(obj[k], memo, depth + 1)
        return obj
    if isinstance(obj, tuple):
        out = tuple(_finish(x, memo, depth + 1) for x in obj)
        memo[key] = out
        return out
    if isinstance(obj, (set, frozenset)):
        memo[key] = obj
        if any(isinstance(x, (_ArrayStub, _DType)) for x in obj):
            raise _Refused("numpy object inside a set")
        return obj
    return obj


def loads_plain(data: bytes, where: str = "<bytes>") -> Any:
    """Read plain data from pickle bytes (see the module docstring); ``where`` names the file.

    Raises:
        UnsafeInputError: The pickle asks for something that could run code or exhaust memory.
        InputError: The pickle is truncated or malformed.
    """
    try:
        obj = _PlainUnpickler(io.BytesIO(data)).load()
        return _finish(obj, {})
    except _Refused as exc:
        msg = f"{where}: refusing to load {exc} from the pickle; {HOW_TO_FIX}"
        raise UnsafeInputError(msg) from None
    except RecursionError:
        raise UnsafeInputError(f"{where}: pickle nested too deeply; {HOW_TO_FIX}") from None
    except MemoryError:
        raise UnsafeInputError(f"{where}: pickle needs too much memory") from None
    except Exception as exc:  # truncated or malformed: any opcode error of the unpickler
        raise InputError(f"{where}: cannot read pickle ({type(exc).__name__}: {exc})") from None


def load_plain_pickle(path: str | Path) -> Any:
    """:func:`loads_plain` on a file.

    Raises:
        InputError: The file cannot be read, or is not a plain-data pickle.
        UnsafeInputError: See :func:`loads_plain`.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return loads_plain(data, str(p))
