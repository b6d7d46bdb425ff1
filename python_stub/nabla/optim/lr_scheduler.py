"""nabla.optim.lr_scheduler: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, ReduceLROnPlateau."""
from .._C.optim.lr_scheduler import *  # noqa: F401,F403
