"""nabla.nn.init: in-place weight initialisation (torch.nn.init)."""
from .._C.nn.init import *  # noqa: F401,F403
