import builtins
"""nabla.nn.init: in-place weight initialisation"""



def calculate_gain(nonlinearity: str, param: builtins.float = 0.01) -> builtins.float: ...
