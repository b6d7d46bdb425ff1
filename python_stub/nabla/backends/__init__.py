"""nabla.backends: torch.backends' switches that PyTorch programs set (cudnn, cuda.matmul, mps)."""
from . import cuda, cudnn, mps  # noqa: F401
