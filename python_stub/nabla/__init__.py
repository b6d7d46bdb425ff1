"""nabla: a GPU-accelerated deep learning runtime, from Python.

A thin binding of the C++ library libnabla.so with PyTorch's names: ``nabla.tensor``,
``nabla.zeros``, ``Tensor`` with operators, autograd, ``nabla.nn``, ``nabla.optim``,
``nabla.data`` (also as ``nabla.utils.data``), ``nabla.io``, ``nabla.cuda``, ``nabla.backends``,
``nabla.save``/``nabla.load``; NumPy and DLPack exchange without copies.
All computation happens in the library; this package only adapts Python to it.
"""
import builtins as _builtins
import functools as _functools
import types as _types

from . import _C
from ._C import *  # noqa: F401,F403  (Tensor, dtype, device, Error, factories, ops)
from ._C import Error, OutOfMemoryError, Tensor, device, dtype, is_grad_enabled, set_grad_enabled  # noqa: F401
# The Python packages, in place of _C's submodules of the same names that the * import brought.
# Those names are dropped first: `from . import nn` takes an attribute that already exists
# instead of importing the submodule, so `import nabla; nabla.data.DataLoader` would be _C's.
for _sub in ("autograd", "cuda", "data", "io", "nn", "optim"):
    globals().pop(_sub, None)
del _sub
from . import autograd, cuda, data, io, nn, optim  # type: ignore[no-redef]  # noqa: F401,E402
from . import backends, utils  # noqa: F401,E402  (torch.backends.cudnn, torch.utils.data)
from .serialization import load, save  # noqa: F401,E402  (also makes tensors and modules picklable)

__version__ = "0.1.0"

# torch.__config__'s one function that PyTorch programs call: the threading setup.
__config__ = _types.SimpleNamespace(parallel_info=_C.parallel_info)


class no_grad:
    """Switches autograd recording off in a ``with`` block or a decorated function."""

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        set_grad_enabled(False)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._prev)

    def __call__(self, fn):
        @_functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Switches autograd recording back on inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        set_grad_enabled(True)


def is_tensor(obj: object) -> "_builtins.bool":
    return isinstance(obj, Tensor)


# dtypes under PyTorch's names (defined last: they shadow the builtins float, int and bool).
float32 = dtype.float32
float64 = dtype.float64
float16 = dtype.float16
bfloat16 = dtype.bfloat16
int64 = dtype.int64
int32 = dtype.int32
uint8 = dtype.uint8
bool = dtype.bool  # noqa: A001
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
del _builtins
