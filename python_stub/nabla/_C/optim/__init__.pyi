import builtins
"""nabla.optim: optimizers and learning-rate schedulers"""

from collections.abc import Callable, Sequence
from typing import Any, overload

import nabla._C
from nabla._C.optim import lr_scheduler as lr_scheduler


class Optimizer:
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """
        Updates the parameters; with a closure (re-evaluates the model and returns the loss), calls it first and returns its loss (LBFGS calls it several times and requires it).
        """

    def zero_grad(self, set_to_none: builtins.bool = True) -> None: ...

    @property
    def param_groups(self) -> list:
        """Copies of the groups (set learning rates with set_lr)"""

    @property
    def defaults(self) -> dict: ...

    def add_param_group(self, param_group: dict) -> None: ...

    def get_lr(self, group: builtins.int = 0) -> builtins.float: ...

    @overload
    def set_lr(self, lr: builtins.float) -> None: ...

    @overload
    def set_lr(self, group: builtins.int, lr: builtins.float) -> None: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state_dict: dict) -> None: ...

class SGD(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 0.001, momentum: builtins.float = 0.0, dampening: builtins.float = 0.0, weight_decay: builtins.float = 0.0, nesterov: builtins.bool = False, *, maximize: builtins.bool = False) -> None: ...

class Adam(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 0.001, betas: tuple[builtins.float, builtins.float] = (0.9, 0.999), eps: builtins.float = 1e-08, weight_decay: builtins.float = 0.0, amsgrad: builtins.bool = False, *, maximize: builtins.bool = False) -> None: ...

class AdamW(Adam):
    def __init__(self, params: object, lr: builtins.float = 0.001, betas: tuple[builtins.float, builtins.float] = (0.9, 0.999), eps: builtins.float = 1e-08, weight_decay: builtins.float = 0.01, amsgrad: builtins.bool = False, *, maximize: builtins.bool = False) -> None: ...

class RMSprop(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 0.01, alpha: builtins.float = 0.99, eps: builtins.float = 1e-08, weight_decay: builtins.float = 0.0, momentum: builtins.float = 0.0, centered: builtins.bool = False, *, maximize: builtins.bool = False) -> None: ...

class Adagrad(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 0.01, lr_decay: builtins.float = 0.0, weight_decay: builtins.float = 0.0, initial_accumulator_value: builtins.float = 0.0, eps: builtins.float = 1e-10, *, maximize: builtins.bool = False) -> None: ...

class Adadelta(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 1.0, rho: builtins.float = 0.9, eps: builtins.float = 1e-06, weight_decay: builtins.float = 0.0, *, maximize: builtins.bool = False) -> None: ...

class LBFGS(Optimizer):
    def __init__(self, params: object, lr: builtins.float = 1.0, max_iter: builtins.int = 20, max_eval: builtins.int | None = None, tolerance_grad: builtins.float = 1e-07, tolerance_change: builtins.float = 1e-09, history_size: builtins.int = 100, line_search_fn: str | None = None) -> None: ...

def l1_penalty(parameters: Sequence[nabla._C.Tensor]) -> nabla._C.Tensor:
    """sum |p| over the parameters (differentiable)."""

def l2_penalty(parameters: Sequence[nabla._C.Tensor]) -> nabla._C.Tensor:
    """sum p^2 over the parameters (differentiable)."""
