"""nabla.nn.init: in-place weight initialisation"""



def calculate_gain(nonlinearity: str, param: float = 0.01) -> float: ...
