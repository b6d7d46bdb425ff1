"""nabla.nn.utils: gradient clipping (torch.nn.utils)."""
from .._C.nn.utils import *  # noqa: F401,F403
