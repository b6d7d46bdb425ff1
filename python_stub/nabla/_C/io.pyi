"""nabla.io: safetensors files"""

from collections.abc import Mapping


def save_safetensors(path: str, tensors: dict, metadata: Mapping[str, str] = {}) -> None: ...

def load_safetensors(path: str) -> dict: ...

def serialize_safetensors(tensors: dict, metadata: Mapping[str, str] = {}) -> bytes:
    """The bytes of a safetensors file holding the tensors."""

def parse_safetensors(data: bytes, source: str = '<memory>') -> tuple[dict, dict[str, str]]:
    """(tensors, metadata) of safetensors bytes, validated."""

def save_checkpoint(path: str, tensors: dict, metadata: Mapping[str, str] = {}) -> None:
    """A checksummed safetensors checkpoint, written atomically."""

def load_checkpoint(path: str) -> tuple[dict, dict[str, str]]:
    """(tensors, metadata) of a checkpoint, after checking its checksum."""

def load_safetensors_metadata(path: str) -> dict[str, str]: ...
