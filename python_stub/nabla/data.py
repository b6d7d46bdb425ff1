"""nabla.data (also importable as nabla.utils.data): torch.utils.data's datasets, samplers and
DataLoader, over nabla's C++ ones.

- ``Dataset`` (subclass it and define ``__getitem__``/``__len__``), ``IterableDataset``,
  ``TensorDataset(*tensors)``, ``Subset``, ``ConcatDataset``, ``random_split``, and the C++
  ``FashionMNIST``, ``read_idx``.
- ``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
  ``BatchSampler``; ``default_collate``, ``default_convert``, ``get_worker_info``.
- ``DataLoader`` with PyTorch 1.13's arguments. When the dataset is one of nabla's C++
  datasets (``TensorDataset`` of two tensors, ``FashionMNIST``) and no Python-only feature is
  asked for (sampler, batch_sampler, collate_fn, worker_init_fn, generator, batch_size=None),
  batches come from the C++ DataLoader (batched in C++, prepared ahead on a thread, yielded as
  ``(data, target)``); num_workers does not change that path, as it has no Python to run in
  parallel. Otherwise batches are fetched in Python, in the main process (num_workers=0) or
  in num_workers worker processes (multiprocessing; results in order; worker_init_fn and
  get_worker_info(); a worker's error re-raised in the main process naming the worker;
  timeout; workers are daemons, so none outlives the program). Tensors cross the process
  boundary pickled (nabla.serialization: their bytes).
- ``pin_memory`` is accepted and, as in PyTorch 1.13 without CUDA, does nothing; nabla has no
  pinned host memory to copy into, so it does nothing with CUDA either.
- Shuffling draws from nabla's generator (``nabla.manual_seed``) unless ``seed=`` (nabla's
  C++ loader), or a ``generator`` (an int seed, a ``numpy.random.Generator``, or an object
  with ``initial_seed()`` such as ``torch.Generator``), is given.
"""
from __future__ import annotations

import bisect
import collections.abc
import itertools
import math
import multiprocessing
import os
import pickle
import queue
import random
import sys
import traceback
import warnings
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable, Dict, Generic, Iterable, Iterator, List, Optional, Sequence, TypeVar

import numpy as np

from . import _C
from ._C import Tensor
from ._C.data import FashionMNIST, LoaderIterator, read_idx  # noqa: F401
from ._C.data import DataLoader as _CppDataLoader
from ._C.data import Dataset as _CppDataset
from ._C.data import TensorDataset as _CppTensorDataset

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "FashionMNIST",
    "read_idx", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
    "DataLoader", "default_collate", "default_convert", "get_worker_info", "WorkerInfo",
]

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


# ---- datasets ---------------------------------------------------------------------------------


class _DatasetMeta(type):
    # nabla's C++ datasets (TensorDataset, FashionMNIST) count as Datasets, as in PyTorch.
    def __instancecheck__(cls, obj: object) -> bool:
        if cls is Dataset and isinstance(obj, _CppDataset):
            return True
        return super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls is Dataset and isinstance(sub, type) and issubclass(sub, _CppDataset):
            return True
        return super().__subclasscheck__(sub)


class Dataset(Generic[T_co], metaclass=_DatasetMeta):
    """A map-style dataset: subclass it and define ``__getitem__`` (and ``__len__``)."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: "Dataset[T_co]") -> "ConcatDataset[T_co]":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A dataset that is a stream: subclass it and define ``__iter__``. With workers, each
    worker iterates its own copy; split the stream with get_worker_info()."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: Any) -> Any:
        raise TypeError("nabla.data: IterableDataset does not support +")


class TensorDataset(Dataset[tuple]):
    """Samples are tuples (t[i] for t in tensors); every tensor has the same first dimension.
    Two tensors give nabla's C++ TensorDataset (the fast DataLoader path; samples (data, target))."""

    tensors: tuple

    def __new__(cls, *tensors: Tensor) -> Any:
        if cls is TensorDataset and len(tensors) == 2 and all(isinstance(t, Tensor) for t in tensors):
            return _CppTensorDataset(tensors[0], tensors[1])
        return super().__new__(cls)

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected tensors, got a {type(t).__name__}")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise ValueError(f"Size mismatch between tensors: first dimensions {[t.shape[0] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The datasets one after the other."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        if d >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        return self.datasets[d][idx - (self.cumulative_sizes[d - 1] if d else 0)]


def _as_rng(generator: Any) -> Optional[np.random.Generator]:
    """The NumPy generator that draws for `generator` (None: nabla's own generator draws)."""
    if generator is None:
        return None
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    if isinstance(generator, random.Random):
        return np.random.default_rng(generator.getrandbits(64))
    if hasattr(generator, "initial_seed"):  # torch.Generator, or a look-alike
        return np.random.default_rng(int(generator.initial_seed()))
    raise TypeError(
        "nabla.data: generator must be None, an int seed, a numpy.random.Generator, a random.Random or an object "
        f"with initial_seed() (torch.Generator), not {type(generator).__name__}"
    )


def _permutation(n: int, rng: Optional[np.random.Generator]) -> List[int]:
    """A random order of range(n), from nabla's generator (rng None) or rng."""
    if n == 0:
        return []
    if rng is None:
        order: Any = _C.randperm(n).tolist()
        return [int(i) for i in order]
    return [int(i) for i in rng.permutation(n)]


def _seed(rng: Optional[np.random.Generator]) -> int:
    """A 62-bit seed drawn from nabla's generator (rng None) or rng."""
    if rng is None:
        return int(_C.randint(0, 2**62, [1]).item())
    return int(rng.integers(0, 2**62))


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> List[Subset]:
    """Splits dataset into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _permutation(n, _as_rng(generator))
    out: List[Subset] = []
    start = 0
    for length in lengths:
        out.append(Subset(dataset, order[start : start + int(length)]))
        start += int(length)
    return out


# ---- samplers ---------------------------------------------------------------------------------


class Sampler(Generic[T_co]):
    """Yields dataset indices (or lists of them, for a batch sampler)."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A new random order each pass (or num_samples draws with replacement)."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: Optional[int] = None,
                 generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self._rng = _as_rng(generator)
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            draws: Any
            if self._rng is None:
                draws = _C.randint(0, n, [self.num_samples]).tolist()
            else:
                draws = self._rng.integers(0, n, self.num_samples).tolist()
            return iter(int(i) for i in draws)
        order: List[int] = []
        while len(order) < self.num_samples:
            order += _permutation(n, self._rng)
        return iter(order[: self.num_samples])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a random order each pass."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator
        self._rng = _as_rng(generator)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices[i] for i in _permutation(len(self.indices), self._rng))

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[List[int]]):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[List[int]]:
        batch: List[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


# ---- collation --------------------------------------------------------------------------------

_COLLATE_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _np_tensor(a: Any) -> Tensor:
    if a.dtype.kind in "SaUO":
        raise TypeError(_COLLATE_ERR.format(a.dtype))
    # from_numpy wants a C-contiguous writable array; np.ascontiguousarray would make a 0-d one 1-d.
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = np.array(a, order="C")
    return _C.from_numpy(a)


def default_convert(data: Any) -> Any:
    """As torch's default_convert (the collate of batch_size=None): NumPy arrays become
    tensors, inside mappings, named tuples and sequences too; everything else is left."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        a = np.asarray(data)
        return data if a.dtype.kind in "SaUO" else _np_tensor(a)
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})  # type: ignore[call-arg]
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])  # type: ignore[call-arg]
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """As torch.utils.data.default_collate (1.13): tensors are stacked on a new first
    dimension; NumPy arrays become tensors first; Python floats a float64 tensor, ints an
    int64 one (bools a bool one); strings stay a list; mappings, named tuples and sequences
    are collated per field (a tuple gives a list, as in PyTorch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        return default_collate([_np_tensor(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return _np_tensor(np.array(batch))
    if isinstance(elem, float):
        return _C.tensor(list(batch), dtype=_C.dtype.float64)
    if isinstance(elem, int):  # bool too: torch.tensor([True, False]) is a bool tensor
        return _C.tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)({k: default_collate([d[k] for d in batch]) for k in elem})  # type: ignore[call-arg]
        except TypeError:
            return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        size = len(next(it))
        if not all(len(e) == size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]
        try:
            return type(elem)([default_collate(s) for s in transposed])  # type: ignore[call-arg]
        except TypeError:
            return [default_collate(s) for s in transposed]
    raise TypeError(_COLLATE_ERR.format(type(elem)))


# ---- workers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() gives inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: Optional[WorkerInfo] = None


def get_worker_info() -> Optional[WorkerInfo]:
    """Inside a DataLoader worker process: its id, the number of workers, its seed and its copy
    of the dataset. In the main process: None."""
    return _worker_info


def _dumps(obj: Any) -> bytes:
    return bytes(ForkingPickler.dumps(obj))  # dumps gives a memoryview, which a Queue cannot pickle


class _WorkerError:
    """An exception raised in a worker, carried to the main process (tracebacks do not pickle)."""

    def __init__(self, where: str) -> None:
        exc_type, exc, _ = sys.exc_info()
        assert exc_type is not None
        try:
            pickle.dumps(exc_type)
            self.exc_type: type = exc_type
        except Exception:  # noqa: BLE001 - a class defined in a function: raised as a RuntimeError
            self.exc_type = RuntimeError
        self.message = f"Caught {exc_type.__name__} {where}.\nOriginal {traceback.format_exc()}"

    def reraise(self) -> None:
        try:
            err = self.exc_type(self.message)
        except Exception:  # noqa: BLE001 - an exception type whose constructor takes other arguments
            raise RuntimeError(self.message) from None
        raise err


@dataclass
class _IterableEnd:
    worker_id: int


def _fetch(dataset: Any, iterable: bool, it: Optional[Iterator[Any]], index: Any, auto_collation: bool,
           collate_fn: Callable, drop_last: bool) -> Any:
    if iterable:
        assert it is not None
        if auto_collation:
            data = list(itertools.islice(it, len(index) if isinstance(index, list) else 1))
            if not data or (drop_last and len(data) < len(index)):
                raise StopIteration
            return collate_fn(data)
        return collate_fn(next(it))
    if auto_collation:
        return collate_fn([dataset[i] for i in index])
    return collate_fn(dataset[index])


def _worker_loop(dataset: Any, index_queue: Any, result_queue: Any, done_event: Any, auto_collation: bool,
                 collate_fn: Callable, drop_last: bool, base_seed: int, init_fn: Optional[Callable], worker_id: int,
                 num_workers: int, parent_pid: int) -> None:
    global _worker_info
    try:
        # One CPU thread per worker, as PyTorch's workers: num_workers processes already use the cores.
        _C.set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        _C.manual_seed(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error: Optional[_WorkerError] = None
        iterable = isinstance(dataset, IterableDataset)
        it: Optional[Iterator[Any]] = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            if iterable:
                it = iter(dataset)
        except Exception:  # noqa: BLE001 - reported to the main process with the next task
            init_error = _WorkerError(f"in DataLoader worker process {worker_id}")
        exhausted = False
        while True:
            try:
                task = index_queue.get(timeout=1.0)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent_pid:
                    return  # the loader went away (or the main process died): stop
                continue
            if task is None:
                return
            if task == "reset":  # a new epoch of persistent workers over an IterableDataset
                exhausted = False
                if iterable:
                    it = iter(dataset)
                continue
            epoch, idx, index = task
            if init_error is not None:
                result_queue.put((epoch, idx, _dumps(init_error)))
                init_error = None
                continue
            if exhausted:
                result_queue.put((epoch, idx, _dumps(_IterableEnd(worker_id))))
                continue
            try:
                data = _fetch(dataset, iterable, it, index, auto_collation, collate_fn, drop_last)
            except StopIteration:
                exhausted = True
                data = _IterableEnd(worker_id)
            except Exception:  # noqa: BLE001 - re-raised in the main process, naming this worker
                data = _WorkerError(f"in DataLoader worker process {worker_id}")
            # Pickled here, not in the queue's feeder thread, which would only print the error of
            # a batch that does not pickle, and leave the main process waiting for it.
            try:
                blob = _dumps(data)
            except Exception:  # noqa: BLE001 - re-raised in the main process
                blob = _dumps(
                    _WorkerError(f"in DataLoader worker process {worker_id} sending batch {idx} to the main process"))
            result_queue.put((epoch, idx, blob))
            del data, blob
    except KeyboardInterrupt:
        pass


class _Workers:
    """num_workers processes with an index queue each and one result queue."""

    def __init__(self, loader: "DataLoader", base_seed: int) -> None:
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.n = loader.num_workers
        self.done = ctx.Event()
        self.result_queue = ctx.Queue()
        self.index_queues = []
        self.procs = []
        for wid in range(self.n):
            iq = ctx.Queue()
            iq.cancel_join_thread()  # exiting must never wait for a queue a dead worker will not drain
            p = ctx.Process(
                target=_worker_loop,
                args=(loader.dataset, iq, self.result_queue, self.done, loader._auto_collation, loader._collate,
                      loader.drop_last, base_seed, loader.worker_init_fn, wid, self.n, os.getpid()),
                daemon=True,
            )
            p.start()
            self.index_queues.append(iq)
            self.procs.append(p)

    def dead(self) -> List[int]:
        return [p.pid for p in self.procs if not p.is_alive() and p.pid is not None]

    def shutdown(self, wait: float = 5.0) -> None:
        """Stops the workers: each finishes its batch within `wait` seconds, or is terminated."""
        if not self.procs:
            return
        self.done.set()
        for q in self.index_queues:
            try:
                q.put(None)
            except Exception:  # noqa: BLE001 - a queue already closed
                pass
        for p in self.procs:
            p.join(timeout=wait)
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()
        self.procs = []


class _PythonIter:
    """One epoch of a DataLoader whose batches are fetched in Python."""

    _epoch_counter = itertools.count()

    def __init__(self, loader: "DataLoader") -> None:
        self.loader = loader
        self.epoch = next(self._epoch_counter)
        self.iterable = isinstance(loader.dataset, IterableDataset)
        self.index_iter: Iterator[Any] = iter(loader._index_sampler) if not self.iterable else itertools.repeat(
            list(range(loader.batch_size or 1)) if loader._auto_collation else None)
        self.workers: Optional[_Workers] = None
        self.it: Optional[Iterator[Any]] = None
        if loader.num_workers == 0:
            if self.iterable:
                self.it = iter(loader.dataset)
            return
        if loader.persistent_workers and loader._workers is not None:
            self.workers = loader._workers
            if self.iterable:
                for q in self.workers.index_queues:
                    q.put("reset")
        else:
            base_seed = _seed(loader._rng)
            self.workers = _Workers(loader, base_seed)
            if loader.persistent_workers:
                loader._workers = self.workers
        self.send_idx = 0
        self.rcvd_idx = 0
        self.buffer: Dict[int, Any] = {}
        self.task_worker: Dict[int, int] = {}
        self.active = [True] * loader.num_workers
        self.next_worker = itertools.cycle(range(loader.num_workers))
        self.sampler_done = False
        for _ in range(loader.prefetch_factor * loader.num_workers):
            self._dispatch()

    def __iter__(self) -> "_PythonIter":
        return self

    def __len__(self) -> int:
        return len(self.loader)

    def _dispatch(self) -> None:
        assert self.workers is not None
        if self.sampler_done or not any(self.active):
            return
        try:
            index = next(self.index_iter)
        except StopIteration:
            self.sampler_done = True
            return
        for _ in range(self.workers.n):
            w = next(self.next_worker)
            if self.active[w]:
                break
        self.workers.index_queues[w].put((self.epoch, self.send_idx, index))
        self.task_worker[self.send_idx] = w
        self.send_idx += 1

    def _get(self) -> Any:
        assert self.workers is not None
        timeout = self.loader.timeout
        waited = 0.0
        while True:
            # Waits in short slices, to notice a dead worker (its batch would never come) early.
            slice_s = 1.0 if timeout <= 0 else min(1.0, timeout - waited)
            try:
                epoch, idx, data = self.workers.result_queue.get(timeout=slice_s)
            except queue.Empty:
                waited += slice_s
                dead = self.workers.dead()
                if dead:
                    self._close(failed=True)
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
                if timeout > 0 and waited >= timeout:
                    self._close(failed=True)
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
                continue
            if epoch == self.epoch:  # else a batch of an epoch left early (persistent workers)
                return idx, pickle.loads(data)

    def __next__(self) -> Any:
        loader = self.loader
        if self.workers is None:
            index = next(self.index_iter)
            return _fetch(loader.dataset, self.iterable, self.it, index, loader._auto_collation, loader._collate,
                          loader.drop_last)
        while True:
            if self.rcvd_idx >= self.send_idx:
                self._close()
                raise StopIteration
            if self.rcvd_idx in self.buffer:
                data = self.buffer.pop(self.rcvd_idx)
            else:
                idx, data = self._get()
                if idx != self.rcvd_idx:
                    self.buffer[idx] = data
                    continue
            self.task_worker.pop(self.rcvd_idx, None)
            self.rcvd_idx += 1
            if isinstance(data, _IterableEnd):
                self.active[data.worker_id] = False
                self._dispatch()
                continue
            self._dispatch()
            if isinstance(data, _WorkerError):
                self._close()
                data.reraise()
            return data

    def _close(self, failed: bool = False) -> None:
        if self.workers is None:
            return
        if failed:  # a timeout or a dead worker: the others' batches are not wanted
            self.workers.shutdown(wait=0.2)
            if self.loader._workers is self.workers:
                self.loader._workers = None
            self.workers = None
        elif not self.loader.persistent_workers:
            self.workers.shutdown()
            self.workers = None

    def __del__(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# ---- the loader -------------------------------------------------------------------------------


class DataLoader(Generic[T_co]):
    """As torch.utils.data.DataLoader (1.13), with nabla's C++ loader as the fast path (see the
    module docstring). nabla extensions: seed= (the C++ loader's shuffling seed; default drawn
    from nabla's generator), prefetch= and device= (C++ path: prepare the next batch on a
    thread; move batches to a device), epoch/set_epoch (C++ path)."""

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1, shuffle: Optional[bool] = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Optional[Callable] = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Optional[Callable] = None, multiprocessing_context: Any = None,
                 generator: Any = None, *, prefetch_factor: int = 2, persistent_workers: bool = False,
                 pin_memory_device: str = "", seed: Optional[int] = None, prefetch: bool = True,
                 device: Any = None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor != 2:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing.")
        if prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be at least 1, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle if shuffle else None), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.pin_memory = pin_memory  # no pinned memory in nabla: accepted, no effect (module docstring)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.collate_fn = collate_fn
        self._workers: Optional[_Workers] = None
        self._cpp: Optional[_CppDataLoader] = None
        self._rng = _as_rng(generator)

        python_only = (sampler is not None or batch_sampler is not None or collate_fn is not None
                       or worker_init_fn is not None or generator is not None or batch_size is None)
        if isinstance(dataset, _CppDataset) and not python_only:
            if seed is None:
                seed = _seed(None) if shuffle else 0
            assert batch_size is not None
            self._cpp = _CppDataLoader(dataset, batch_size, bool(shuffle), drop_last, seed=seed, prefetch=prefetch,
                                       device=device)
            self.sampler = self.batch_sampler = None  # the C++ loader orders and batches
            return
        if seed is not None or device is not None:
            raise ValueError("DataLoader: seed= and device= are options of nabla's C++ loader, which serves "
                             "nabla's C++ datasets without sampler, batch_sampler, collate_fn, worker_init_fn or "
                             "generator")

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
                sampler._rng = self._rng  # one stream for the order and the workers' seeds
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    @property
    def _collate(self) -> Callable:
        if self.collate_fn is not None:
            return self.collate_fn
        return default_collate if self._auto_collation else default_convert

    def __iter__(self) -> Iterator[Any]:
        if self._cpp is not None:
            return iter(self._cpp)  # type: ignore[arg-type]  # its stub's LoaderIterator is an iterator
        return _PythonIter(self)

    def __len__(self) -> int:
        if self._cpp is not None:
            return len(self._cpp)
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]  # a TypeError if it has no __len__, as in PyTorch
            if self.batch_size is not None:
                return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    # nabla's C++ loader's cursor.
    @property
    def epoch(self) -> int:
        if self._cpp is None:
            raise AttributeError("DataLoader.epoch: only nabla's C++ loader path keeps an epoch cursor")
        return self._cpp.epoch

    def set_epoch(self, epoch: int) -> None:
        if self._cpp is None:
            raise AttributeError("DataLoader.set_epoch: only nabla's C++ loader path keeps an epoch cursor")
        self._cpp.set_epoch(epoch)

    def __del__(self) -> None:
        w = getattr(self, "_workers", None)
        if w is not None:
            try:
                w.shutdown()
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass


class _InfiniteSampler(Sampler[None]):
    def __iter__(self) -> Iterator[None]:
        while True:
            yield None
