import builtins
"""nabla.autograd: backward over several outputs, gradcheck"""

from collections.abc import Callable, Sequence

import nabla._C


def backward(tensors: Sequence[nabla._C.Tensor], grad_tensors: Sequence[nabla._C.Tensor] = [], retain_graph: builtins.bool = False) -> None: ...

def gradcheck(fn: Callable, inputs: Sequence[nabla._C.Tensor], eps: builtins.float = 1e-06, atol: builtins.float = 1e-05, rtol: builtins.float = 0.001) -> tuple[builtins.bool, builtins.float, str]:
    """
    Compares fn's analytic gradients with central differences: (ok, max_abs_error, message).
    """
