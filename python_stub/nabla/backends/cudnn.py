"""nabla.backends.cudnn: torch.backends.cudnn's switches, wired to nabla's own.

- ``benchmark`` reads and sets nabla.cuda's cuDNN benchmark mode (set_cudnn_benchmark /
  cudnn_benchmark): each new convolution shape times cuDNN's algorithms and keeps the fastest.
- ``deterministic`` reads and sets nabla's deterministic mode (set_deterministic /
  deterministic): only bitwise-repeatable cuDNN algorithms, fixed-order batch norm.
- ``enabled`` is a flag only: nabla has no switch that turns cuDNN off (its CUDA convolutions
  and batch norm always call cuDNN), so it reads what was set (True at start) and setting it
  to False warns that nothing changes.
- ``is_available()``: whether nabla's CUDA backend (which includes cuDNN) has a GPU.
"""
import sys
import types
import warnings

from .. import _C


def is_available() -> bool:
    """Whether cuDNN can be used: nabla's CUDA backend is built with it and a GPU is present."""
    return _C.cuda.is_available()


def version() -> "int | None":
    """None: nabla does not report cuDNN's version (PyTorch gives None when cuDNN is absent)."""
    return None


class _CudnnModule(types.ModuleType):
    """The module's class: makes benchmark/deterministic/enabled properties of the module."""

    _enabled = True

    @property
    def benchmark(self) -> bool:
        return _C.cuda.cudnn_benchmark()

    @benchmark.setter
    def benchmark(self, on: bool) -> None:
        _C.cuda.set_cudnn_benchmark(bool(on))

    @property
    def deterministic(self) -> bool:
        return _C.cuda.deterministic()

    @deterministic.setter
    def deterministic(self, on: bool) -> None:
        _C.cuda.set_deterministic(bool(on))

    @property
    def enabled(self) -> bool:
        return type(self)._enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        if not on:
            warnings.warn(
                "nabla.backends.cudnn.enabled = False has no effect: nabla has no switch that turns cuDNN off "
                "(set deterministic = True for repeatable convolutions)",
                stacklevel=2,
            )
        type(self)._enabled = bool(on)


sys.modules[__name__].__class__ = _CudnnModule
