"""nabla.io: safetensors save/load (names as in PyTorch state dicts)."""
from ._C.io import *  # noqa: F401,F403
