"""nabla.utils.data: torch.utils.data's name for nabla.data (the same module object).

``from nabla.utils.data import DataLoader, Dataset`` and ``import nabla.utils.data as d`` give
nabla.data's classes and functions, so PyTorch programs import them unchanged.
"""
import sys

from ..data import *  # noqa: F401,F403  (what type checkers see)
from .. import data as _data

# The import system hands out what sys.modules holds once this file has run: nabla.data itself.
sys.modules[__name__] = _data
