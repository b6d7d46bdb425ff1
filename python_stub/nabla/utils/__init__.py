"""nabla.utils: torch.utils's place for what PyTorch programs import from it (utils.data)."""
from . import data  # noqa: F401
