"""nabla.nn.parallel: DataParallel and DistributedDataParallel, for programs that wrap their model.

Both wrap a module as ``.module`` (its state_dict keys gain the "module." prefix, as in
PyTorch) and forward to it. nabla runs one process on one device: DataParallel over the CPU or
a single device is what PyTorch does with no GPUs or one (forwards); DistributedDataParallel
works in a world of one process and refuses more, until nabla.distributed (issue 17) brings
multi-process training.
"""
import contextlib
import os
from typing import Any, Iterator, Optional, Sequence

from .._C import Error
from .._C.nn import Module


def _device_ids(device_ids: Optional[Sequence[Any]]) -> list:
    return [] if device_ids is None else list(device_ids)


class DataParallel(Module):
    """As torch.nn.DataParallel on one device: forwards the inputs to ``module``.

    Several devices (device_ids with more than one entry) would need the module replicated on
    each and the batch scattered, which nabla does not do: that is an error.
    """

    def __init__(self, module: Module, device_ids: Optional[Sequence[Any]] = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        ids = _device_ids(device_ids)
        if len(ids) > 1:
            raise Error(
                f"nn.DataParallel: device_ids {ids} name {len(ids)} devices, but nabla runs a module on one "
                "device; multi-device training arrives with nabla.distributed (issue 17)"
            )
        self.module = module
        self.device_ids = ids
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def _world_size(process_group: Any) -> int:
    if process_group is not None and hasattr(process_group, "size"):
        return int(process_group.size())
    return int(os.environ.get("WORLD_SIZE", "1"))


class DistributedDataParallel(Module):
    """As torch.nn.parallel.DistributedDataParallel in a world of one process: forwards to
    ``module``; gradients need no averaging. A world of more processes (WORLD_SIZE, as torchrun
    sets it, or a process group of that size) is an error until nabla.distributed (issue 17).
    """

    def __init__(self, module: Module, device_ids: Optional[Sequence[Any]] = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: int = 25, find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        super().__init__()
        world = _world_size(process_group)
        if world != 1:
            raise Error(
                f"nn.parallel.DistributedDataParallel: the world has {world} processes, but nabla trains in one; "
                "multi-process training arrives with nabla.distributed (issue 17)"
            )
        ids = _device_ids(device_ids)
        if len(ids) > 1:
            raise Error(f"nn.parallel.DistributedDataParallel: device_ids {ids}: one device per process")
        self.module = module
        self.device_ids = ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skips gradient synchronisation inside the block: with one process there is none."""
        yield


__all__ = ["DataParallel", "DistributedDataParallel"]
