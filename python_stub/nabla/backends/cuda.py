"""nabla.backends.cuda: ``matmul.allow_tf32``, wired to nabla.set_allow_tf32 / allow_tf32.

nabla's switch covers float32 matrix products on CUDA (off by default, as in PyTorch >= 1.12).
"""
from .. import _C


class _Matmul:
    """``nabla.backends.cuda.matmul``: allow_tf32 reads and sets nabla's TF32 switch."""

    @property
    def allow_tf32(self) -> bool:
        return _C.cuda.allow_tf32()

    @allow_tf32.setter
    def allow_tf32(self, allow: bool) -> None:
        _C.cuda.set_allow_tf32(bool(allow))

    def __setattr__(self, name: str, value: object) -> None:
        # A typo (allow_fp16_reduced_precision_reduction, which nabla lacks) must not pass silently.
        if name != "allow_tf32":
            raise AttributeError(f"nabla.backends.cuda.matmul has no switch '{name}' (it has allow_tf32)")
        object.__setattr__(self, name, value)


matmul = _Matmul()
