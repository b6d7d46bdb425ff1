"""nabla.optim: optimizers and learning-rate schedulers"""

from typing import overload

from nabla._C.optim import lr_scheduler as lr_scheduler


class Optimizer:
    def step(self) -> None: ...

    def zero_grad(self, set_to_none: bool = True) -> None: ...

    @property
    def param_groups(self) -> list:
        """Copies of the groups (set learning rates with set_lr)"""

    @property
    def defaults(self) -> dict[str, float]: ...

    def add_param_group(self, param_group: dict) -> None: ...

    def get_lr(self, group: int = 0) -> float: ...

    @overload
    def set_lr(self, lr: float) -> None: ...

    @overload
    def set_lr(self, group: int, lr: float) -> None: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state_dict: dict) -> None: ...

class SGD(Optimizer):
    def __init__(self, params: object, lr: float = 0.001, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None: ...

class Adam(Optimizer):
    def __init__(self, params: object, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-08, weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False) -> None: ...

class AdamW(Adam):
    def __init__(self, params: object, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-08, weight_decay: float = 0.01, amsgrad: bool = False, *, maximize: bool = False) -> None: ...

class RMSprop(Optimizer):
    def __init__(self, params: object, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-08, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *, maximize: bool = False) -> None: ...

class Adagrad(Optimizer):
    def __init__(self, params: object, lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False) -> None: ...
