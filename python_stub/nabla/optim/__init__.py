"""nabla.optim: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, LBFGS and lr_scheduler (torch.optim)."""
from .._C.optim import *  # noqa: F401,F403
globals().pop("lr_scheduler", None)  # _C.optim's, so that the package is imported (see nabla/__init__.py)
from . import lr_scheduler  # type: ignore[no-redef]  # noqa: F401
