import builtins
"""
nabla.autograd: backward over several outputs, grad (higher-order too), gradcheck, gradgradcheck
"""

from collections.abc import Callable, Sequence

import nabla._C


def backward(tensors: nabla._C.Tensor | Sequence[nabla._C.Tensor], grad_tensors: nabla._C.Tensor | Sequence[nabla._C.Tensor | None] | None = None, retain_graph: builtins.bool | None = None, create_graph: builtins.bool = False) -> None:
    """
    Backpropagates from several outputs into the leaves' .grad (as torch.autograd.backward).
    """

def grad(outputs: nabla._C.Tensor | Sequence[nabla._C.Tensor], inputs: nabla._C.Tensor | Sequence[nabla._C.Tensor], grad_outputs: nabla._C.Tensor | Sequence[nabla._C.Tensor | None] | None = None, retain_graph: builtins.bool | None = None, create_graph: builtins.bool = False, allow_unused: builtins.bool = False) -> tuple[nabla._C.Tensor | None, ...]:
    """
    The gradients of the outputs with respect to the inputs, as a tuple (None for an unused input under allow_unused), without touching any .grad (as torch.autograd.grad); create_graph makes them differentiable again.
    """

def gradcheck(fn: Callable, inputs: Sequence[nabla._C.Tensor], eps: builtins.float = 1e-06, atol: builtins.float = 1e-05, rtol: builtins.float = 0.001) -> tuple[builtins.bool, builtins.float, str]:
    """
    Compares fn's analytic gradients with central differences: (ok, max_abs_error, message).
    """

def gradgradcheck(fn: Callable, inputs: Sequence[nabla._C.Tensor], eps: builtins.float = 1e-06, atol: builtins.float = 1e-05, rtol: builtins.float = 0.001) -> tuple[builtins.bool, builtins.float, str]:
    """
    Compares fn's analytic second derivatives (through create_graph) with central differences of its first-order gradients: (ok, max_abs_error, message).
    """
