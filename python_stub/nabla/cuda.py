"""nabla.cuda: is_available, device_count, synchronize, memory statistics."""
from ._C.cuda import *  # noqa: F401,F403
