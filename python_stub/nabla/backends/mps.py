"""nabla.backends.mps: Apple's Metal backend, which nabla does not have."""


def is_available() -> bool:
    """False: nabla has no Metal backend (as torch.backends.mps.is_available on other machines)."""
    return False


def is_built() -> bool:
    """False: nabla is never built with Metal."""
    return False
