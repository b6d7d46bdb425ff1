import builtins
"""nabla.nn.init: in-place weight initialisation"""

import nabla._C


def calculate_gain(nonlinearity: str, param: builtins.float = 0.01) -> builtins.float: ...

def calculate_fan_in_and_fan_out(tensor: nabla._C.Tensor) -> tuple[builtins.int, builtins.int]: ...
