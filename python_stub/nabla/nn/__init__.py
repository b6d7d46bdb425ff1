"""nabla.nn: Module (subclass it and define forward), layers, losses; nn.functional, nn.init."""
from .._C.nn import *  # noqa: F401,F403
from . import functional, init, parallel, utils  # type: ignore[no-redef]  # noqa: F401
from .parallel import DataParallel  # noqa: F401,E402  (torch.nn.DataParallel)
