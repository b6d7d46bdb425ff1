"""nabla.autograd: backward over several outputs, gradcheck"""

from collections.abc import Callable, Sequence

import nabla._C


def backward(tensors: Sequence[nabla._C.Tensor], grad_tensors: Sequence[nabla._C.Tensor] = [], retain_graph: bool = False) -> None: ...

def gradcheck(fn: Callable[[Sequence[nabla._C.Tensor]], nabla._C.Tensor], inputs: Sequence[nabla._C.Tensor], eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001) -> tuple[bool, float, str]:
    """
    Compares fn's analytic gradients with central differences: (ok, max_abs_error, message).
    """
