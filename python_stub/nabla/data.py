"""nabla.data: TensorDataset, DataLoader, FashionMNIST, read_idx."""
from ._C.data import *  # noqa: F401,F403
