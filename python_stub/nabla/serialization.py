"""nabla.save and nabla.load (PyTorch's torch.save / torch.load), and pickling of nabla's objects.

Importing this module makes ``nabla.Tensor``, ``nabla.device``, ``nabla.nn.Module`` (nabla's
layers and Python subclasses of ``nn.Module``) picklable, so ``pickle``, ``copy.deepcopy`` and
``multiprocessing`` (the DataLoader's workers) work on them.

File format (version 1) of ``nabla.save``: a 24-byte header, then one pickle stream::

    bytes 0..7    magic b"NABLAPKL"
    bytes 8..11   format version, uint32 little-endian (1)
    bytes 12..19  length of the pickle stream in bytes, uint64 little-endian
    bytes 20..23  CRC-32 (zlib) of the pickle stream, uint32 little-endian
    bytes 24..    the pickle stream (protocol 4 unless asked otherwise)

A tensor in the stream is a call ``nabla.serialization._rebuild_tensor(dtype, shape, data,
requires_grad, device)``: its dtype's name ("float32", "bfloat16", ...), its shape, its
elements as raw little-endian bytes in row-major (contiguous) order, whether it requires
grad, and the device it lived on ("cpu", "cuda:0"). Strides, views and storage sharing
between different views are not kept (each tensor is written as its own contiguous copy);
the same tensor reached twice (through two Python handles too) is written once and loaded
as one tensor. ``nn.Parameter`` is a leaf tensor that requires grad in nabla, so that flag is
its Parameter-ness. Gradients are not written, as in PyTorch. ``copy.deepcopy`` of a tensor goes
the same way (a copy of its data and requires_grad; unlike PyTorch's, it copies no ``.grad``
and also takes tensors that are not graph leaves).

A module is rebuilt from its class and its state: a Python subclass of ``nn.Module`` from its
``__dict__``, parameters, buffers, children and training flag; one of nabla's C++ layers from
the constructor arguments its ``extra_repr()`` shows, checked when it is rebuilt (a layer whose
arguments it does not show, such as a loss, cannot be pickled: save its ``state_dict()``).
Forward hooks are not kept.

The magic, length and checksum make a file that is not one of these, truncated or corrupted
an error that says so (``nabla.Error``) instead of an unpickling failure in the middle.
"""
from __future__ import annotations

import ast
import copyreg
import io
import json
import math
import os
import pickle
import re
import struct
import threading
import zlib
from typing import IO, Any, Callable, Dict, Optional, Union

import numpy as np

from . import _C
from ._C import Error, Tensor, device, dtype

__all__ = ["save", "load", "MAGIC", "FORMAT_VERSION"]

MAGIC = b"NABLAPKL"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIQI")

# nabla dtype name -> safetensors dtype code: nabla's own safetensors reader rebuilds tensors
# of every dtype (bfloat16 included, which NumPy lacks) from the raw bytes.
_ST_CODE = {
    "float32": "F32",
    "float64": "F64",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "uint8": "U8",
    "bool": "BOOL",
}

FileLike = Union[str, "os.PathLike[str]", IO[bytes]]
MapLocation = Union[None, str, device, Dict[str, str], Callable[[Tensor, str], Optional[Tensor]]]


# ---- tensors ----------------------------------------------------------------------------------


# Little-endian NumPy dtypes of the dtypes NumPy has: one copy out (tobytes) and one in.
_NP_DTYPE = {
    "float32": "<f4", "float64": "<f8", "float16": "<f2", "int64": "<i8", "int32": "<i4", "uint8": "u1", "bool": "?",
}


def _tensor_bytes(t: Tensor) -> bytes:
    """The elements of t as contiguous little-endian bytes."""
    c = t.detach().cpu()
    name = c.dtype.name
    if name in _NP_DTYPE:
        a: Any = c.numpy()
        return np.ascontiguousarray(a, dtype=_NP_DTYPE[name]).tobytes()
    # bfloat16, which NumPy lacks: nabla's safetensors writer lays the bytes out; the 8-byte
    # length and the JSON header in front are cut off.
    blob = _C.io.serialize_safetensors({"t": c})
    (header_len,) = struct.unpack_from("<Q", blob, 0)
    return blob[8 + header_len :]


def _from_bytes(dtype_name: str, shape: tuple, data: bytes) -> Tensor:
    code = _ST_CODE.get(dtype_name)
    if code is None:
        raise Error(f"nabla.load: unknown tensor dtype '{dtype_name}' in the file")
    if dtype_name in _NP_DTYPE:
        dt = np.dtype(_NP_DTYPE[dtype_name])
        n = math.prod(shape)
        if not all(isinstance(d, int) and d >= 0 for d in shape) or n * dt.itemsize != len(data):
            raise Error(
                f"nabla.load: {len(data)} bytes of {dtype_name} data do not fill a tensor of shape {list(shape)}"
            )
        # a writable native-order copy (from_numpy refuses read-only arrays)
        return _C.from_numpy(np.frombuffer(data, dtype=dt).astype(dt.newbyteorder("="), copy=True).reshape(shape))
    header = json.dumps({"t": {"dtype": code, "shape": list(shape), "data_offsets": [0, len(data)]}})
    header += " " * (-len(header) % 8)
    blob = struct.pack("<Q", len(header)) + header.encode() + data
    tensors, _ = _C.io.parse_safetensors(blob, "nabla.load")  # checks the size against the shape
    return tensors["t"]


def _tensor_args(t: Tensor) -> tuple:
    return (t.dtype.name, tuple(t.shape), _tensor_bytes(t), bool(t.requires_grad), str(t.device))


# The map_location of the load in progress (pickle's REDUCE calls _rebuild_tensor with only
# the saved arguments). A stack, so a load inside a map_location callable does not clobber it.
# Per thread: two threads may load with different map_locations.
_local = threading.local()


def _map_stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def _target_device(location: str, cpu_tensor: Tensor) -> Union[str, Tensor]:
    """Where a tensor saved on `location` goes under the current map_location: a device string,
    or the tensor a callable map_location returned."""
    stack = _map_stack()
    ml = stack[-1] if stack else None
    if ml is None:
        return location
    if isinstance(ml, (str, device)):
        return str(device(ml) if isinstance(ml, str) else ml)
    if isinstance(ml, dict):
        return str(ml.get(location, location))
    if callable(ml):
        r = ml(cpu_tensor, location)
        if r is None:
            return location
        if not isinstance(r, Tensor):
            raise TypeError(f"nabla.load: map_location returned a {type(r).__name__}, not a Tensor or None")
        return r
    raise TypeError(f"nabla.load: map_location must be a str, nabla.device, dict or callable, not {type(ml).__name__}")


def _rebuild_tensor(dtype_name: str, shape: tuple, data: bytes, requires_grad: bool, location: str) -> Tensor:
    t = _from_bytes(dtype_name, shape, data)
    target = _target_device(location, t)
    if isinstance(target, Tensor):
        t = target
    elif target != "cpu":
        if device(target).type == "cuda" and not _C.cuda.is_available():
            raise Error(
                f"nabla.load: a tensor was saved on '{location}' and would be restored on '{target}', but "
                "nabla.cuda.is_available() is False; on a CPU-only machine pass map_location='cpu'"
            )
        t = t.to(device(target))
    if requires_grad and t.dtype.name in ("float32", "float64", "float16", "bfloat16"):
        t = t.detach()
        t.requires_grad = True
    return t


def _same(obj: Any) -> Any:
    """A second handle of an object already in the stream (the sharing of tensors)."""
    return obj


def _reduce_tensor(t: Tensor) -> tuple:
    return (_rebuild_tensor, _tensor_args(t))


def _reduce_device(d: device) -> tuple:
    return (_rebuild_device, (str(d),))


def _reduce_tensor_dataset(d: Any) -> tuple:
    return (_C.data.TensorDataset, (d.data, d.targets))


def _rebuild_device(s: str) -> device:
    return device(s)


def _rebuild_dtype(name: str) -> dtype:
    return getattr(dtype, name)


# ---- modules ----------------------------------------------------------------------------------

# nabla's C++ layers whose extra_repr() does not show every constructor argument (the loss
# options; RNN's nonlinearity; the attention and Transformer modules, whose extra_repr() is
# empty as PyTorch's): rebuilding them from it could be silently wrong.
_NOT_FROM_REPR = ("Loss", "RNN", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                  "TransformerEncoder", "TransformerDecoder", "Transformer")


def _cpp_base(cls: type) -> Any:
    for c in cls.__mro__:
        if c.__module__.startswith("nabla._C"):
            return c
    raise TypeError(f"{cls.__name__} is not a nabla.nn.Module")


def _literal(node: ast.expr) -> Any:
    # A bare word is a string some extra_repr()s print unquoted (RNNCell's nonlinearity=relu).
    return node.id if isinstance(node, ast.Name) else ast.literal_eval(node)


def _repr_args(cls: type, text: str) -> tuple:
    """(args, kwargs) of a C++ layer's constructor from its extra_repr(), e.g.
    "1, 2, kernel_size=(3, 3), stride=(1, 1)" -> ((1, 2), {"kernel_size": (3, 3), ...})."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        assert isinstance(call, ast.Call)
        args = tuple(_literal(a) for a in call.args)
        kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg is not None}
    except (SyntaxError, ValueError, AssertionError) as e:
        raise TypeError(
            f"cannot pickle nabla.nn.{cls.__name__}: its constructor arguments cannot be read from its "
            f"extra_repr() '{text}'; save its state_dict() instead"
        ) from e
    return args, kwargs


def _module_state(m: Any) -> dict:
    d = dict(getattr(m, "__dict__", {}))

    # A tensor attribute and the registered parameter of the same name are one tensor: use the
    # attribute's handle for both, so pickle's memo keeps them one.
    def named(pairs: list) -> list:
        out = []
        for n, t in pairs:
            a = d.get(n)
            same = isinstance(a, Tensor) and a.data_ptr() == t.data_ptr() and a.shape == t.shape
            out.append((n, a if same else t))
        return out

    return {
        "dict": d,
        "params": named(m.named_parameters(recurse=False)),
        "buffers": named(m.named_buffers(recurse=False)),
        "children": list(m.named_children()),
        "training": bool(m.training),
    }


def _reduce_module(m: Any, protocol: int = 2) -> tuple:
    cls = type(m)
    base = _cpp_base(cls)
    state = _module_state(m)
    if base is _C.nn.Module:
        return (_rebuild_module, (cls, "python", (), {}, state))
    if base is _C.nn.Sequential:
        return (_rebuild_module, (cls, "sequential", (), {}, state))
    if any(c.__name__ in _NOT_FROM_REPR for c in base.__mro__):
        raise TypeError(
            f"cannot pickle nabla.nn.{base.__name__}: its extra_repr() does not show all its constructor "
            "arguments; save its state_dict() instead"
        )
    text = base.extra_repr(m)
    args, kwargs = _repr_args(base, text)
    state["extra_repr"] = text
    return (_rebuild_module, (cls, "layer", args, kwargs, state))


def _init_parameters(cls: type) -> Optional[set]:
    """The keyword names of a C++ class's constructor, from nanobind's signature text (None if unknown)."""
    doc = getattr(getattr(cls, "__init__"), "__doc__", None) or ""
    sigs = [line for line in doc.splitlines() if "__init__(" in line]
    return set(re.findall(r"(\w+)\s*:", " ".join(sigs))) if sigs else None


def _rebuild_module(cls: type, kind: str, args: tuple, kwargs: dict, state: dict) -> Any:
    base = _cpp_base(cls)
    m: Any = cls.__new__(cls)  # type: ignore[call-overload]
    if kind == "python":
        _C.nn.Module.__init__(m)
    elif kind == "sequential":
        base.__init__(m, *[c for _, c in state["children"]])
    else:
        # extra_repr may show a setting the constructor does not take (Dropout's inplace=False):
        # those are left out, and the rebuilt layer's extra_repr must match the saved one.
        accepted = _init_parameters(base)
        base.__init__(m, *args, **{k: v for k, v in kwargs.items() if accepted is None or k in accepted})
        if base.extra_repr(m) != state["extra_repr"]:
            raise Error(
                f"nabla.load: rebuilding nabla.nn.{base.__name__}({state['extra_repr']}) gave "
                f"{base.__name__}({base.extra_repr(m)})"
            )
    m.train(state["training"])
    if kind == "python":
        for n, t in state["params"]:
            m.register_parameter(n, t)
        for n, t in state["buffers"]:
            m.register_buffer(n, t)
        for n, c in state["children"]:
            m.add_module(n, c)
    elif kind == "layer":
        mine = dict(m.named_parameters(recurse=False))
        mine.update(m.named_buffers(recurse=False))
        saved = state["params"] + state["buffers"]
        if sorted(mine) != sorted(n for n, _ in saved):
            raise Error(
                f"nabla.load: nabla.nn.{base.__name__}({state['extra_repr']}) has tensors {sorted(mine)}, "
                f"the file {sorted(n for n, _ in saved)}"
            )
        with _no_grad():
            for n, t in saved:
                mine[n].copy_(t)  # copy_ checks the shapes
                if mine[n].requires_grad != t.requires_grad:
                    mine[n].requires_grad_(t.requires_grad)
    if state["dict"] and hasattr(m, "__dict__"):
        m.__dict__.update(state["dict"])  # registered above: no __setattr__ registration again
    return m


class _no_grad:
    def __enter__(self) -> None:
        self.prev = _C.is_grad_enabled()
        _C.set_grad_enabled(False)

    def __exit__(self, *exc: object) -> None:
        _C.set_grad_enabled(self.prev)


# copyreg, not attributes set on the classes (the stubs generated from nabla._C would list
# them); nn.Module's __reduce_ex__ is bound in C++ and calls _reduce_module.
copyreg.pickle(Tensor, _reduce_tensor)
copyreg.pickle(device, _reduce_device)
# The C++ TensorDataset, for DataLoader workers started by spawn or forkserver (they are sent
# the dataset pickled).
copyreg.pickle(_C.data.TensorDataset, _reduce_tensor_dataset)


# ---- save / load ------------------------------------------------------------------------------


class _SavePickler(pickle.Pickler):
    """Writes each tensor once, however many Python handles of it the object holds (nabla hands
    out a new handle per access, e.g. for a module's parameters)."""

    def __init__(self, file: IO[bytes], protocol: int) -> None:
        super().__init__(file, protocol)
        self._seen: Dict[tuple, Tensor] = {}

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not Tensor:
            return NotImplemented
        key = (obj.data_ptr(), tuple(obj.shape), tuple(obj.stride()), obj.dtype.name, str(obj.device),
               obj.requires_grad)
        first = self._seen.setdefault(key, obj)
        if first is not obj:
            return (_same, (first,))
        return _reduce_tensor(obj)


def save(obj: Any, f: FileLike, pickle_protocol: int = 4) -> None:
    """Writes obj (tensors, state dicts, optimizer state dicts, nested dicts, lists and tuples
    of them, modules, any picklable object holding them) to the path or binary file f, in the
    format the module docstring describes. As torch.save."""
    buf = io.BytesIO()
    _SavePickler(buf, pickle_protocol).dump(obj)
    payload = buf.getvalue()
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload), zlib.crc32(payload))
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            out.write(header)
            out.write(payload)
    else:
        f.write(header)
        f.write(payload)


# What a weights_only load may build: tensors, dtypes, devices and plain containers.
_SAFE = {
    ("nabla.serialization", "_rebuild_tensor"),
    ("nabla.serialization", "_rebuild_device"),
    ("nabla.serialization", "_rebuild_dtype"),
    ("nabla.serialization", "_same"),
    ("nabla._C", "dtype"),
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
}


class _WeightsOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SAFE:
            raise pickle.UnpicklingError(f"weights_only load refuses to build {module}.{name}")
        return super().find_class(module, name)


def load(f: FileLike, map_location: MapLocation = None, weights_only: bool = False) -> Any:
    """Reads what nabla.save wrote, from a path or a binary file. As torch.load:

    map_location: None (each tensor back on the device it was saved from), a device or device
    string (every tensor there), a dict {"cuda:0": "cpu"} (saved location -> new location, the
    others kept), or a callable fn(tensor, location) given each tensor on the CPU and its saved
    location string, returning the tensor to use or None for the default.
    weights_only: build only tensors, dtypes, devices and plain containers (no other classes).
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fin:
            raw = fin.read()
    else:
        # A stream is read up to the end of this object only: several may follow one another.
        raw = f.read(_HEADER.size)
        if len(raw) == _HEADER.size and raw[:8] == MAGIC:
            raw += f.read(_HEADER.unpack_from(raw, 0)[2])
    if len(raw) < _HEADER.size or raw[:8] != MAGIC:
        hint = " (a zip archive: a PyTorch checkpoint? nabla.load reads nabla.save files)" if raw[:2] == b"PK" else ""
        raise Error(f"nabla.load: {name!s} is not a nabla.save file: it starts with {raw[:8]!r}, not {MAGIC!r}{hint}")
    _, version, length, crc = _HEADER.unpack_from(raw, 0)
    if version != FORMAT_VERSION:
        raise Error(f"nabla.load: {name!s} has format version {version}; this nabla reads version {FORMAT_VERSION}")
    payload = raw[_HEADER.size :]
    if len(payload) != length:
        raise Error(
            f"nabla.load: {name!s} is truncated or has trailing bytes: its header announces {length} bytes of "
            f"data, the file has {len(payload)}"
        )
    if zlib.crc32(payload) != crc:
        raise Error(f"nabla.load: {name!s} is corrupt: the checksum of its data does not match its header")
    if map_location is not None and not isinstance(map_location, (str, device, dict)) and not callable(map_location):
        raise TypeError(
            f"nabla.load: map_location must be a str, nabla.device, dict or callable, not {type(map_location).__name__}"
        )
    unpickler = _WeightsOnlyUnpickler if weights_only else pickle.Unpickler
    _map_stack().append(map_location)
    try:
        return unpickler(io.BytesIO(payload)).load()
    except pickle.UnpicklingError as e:
        raise Error(f"nabla.load: {name!s}: {e}") from e
    finally:
        _map_stack().pop()

