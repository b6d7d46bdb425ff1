"""nabla.nn: Module (subclass it and define forward), layers, losses; nn.functional, nn.init."""
from .._C.nn import *  # noqa: F401,F403
# _C.nn's submodules of these names are dropped first, so that the import below loads the
# packages (see nabla/__init__.py).
for _sub in ("functional", "init", "utils"):
    globals().pop(_sub, None)
del _sub
from . import functional, init, parallel, utils  # type: ignore[no-redef]  # noqa: F401
from .parallel import DataParallel  # noqa: F401,E402  (torch.nn.DataParallel)
