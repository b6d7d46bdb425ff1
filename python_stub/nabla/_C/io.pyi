"""nabla.io: safetensors files"""

from collections.abc import Mapping


def save_safetensors(path: str, tensors: dict, metadata: Mapping[str, str] = {}) -> None: ...

def load_safetensors(path: str) -> dict: ...

def load_safetensors_metadata(path: str) -> dict[str, str]: ...
