"""nabla.autograd: backward over several outputs, gradcheck."""
from ._C.autograd import *  # noqa: F401,F403
