"""nabla.nn.functional: stateless layers and losses (torch.nn.functional)."""
from .._C.nn.functional import *  # noqa: F401,F403
