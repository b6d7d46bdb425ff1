"""nabla.data's DataLoader, datasets, samplers and default_collate, against PyTorch 1.13's."""
import collections
import os
import pickle
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import nabla
from conftest import REPO, as_np, needs_torch
from nabla.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                              SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                              get_worker_info, random_split)

Point = collections.namedtuple("Point", "x y")


class Squares(Dataset):
    """Samples of every kind default_collate handles."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {
            "t": nabla.full([2], float(i * i)),
            "np": np.arange(3, dtype=np.float32) * i,
            "int": i,
            "float": i / 2,
            "bool": i % 2 == 0,
            "str": f"s{i}",
            "pair": (i, np.float64(i) + 0.5),
            "point": Point(i, [i, -i]),
        }


class Plain:
    """Not a Dataset subclass: any object with __getitem__ and __len__ will do."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.int64), i


def to_np(x):
    if isinstance(x, nabla.Tensor):
        return ("tensor", x.dtype.name, as_np(x).tolist())
    if type(x).__module__.startswith("torch") and hasattr(x, "numpy"):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.numpy().tolist())
    if isinstance(x, dict):
        return {k: to_np(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [to_np(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [to_np(v) for v in x])
    return x


@needs_torch
@pytest.mark.parametrize("num_workers", [0, 2])
def test_python_datasets_collate_as_pytorch_does(num_workers):
    import torch.utils.data as tud

    for ds, bs in ((Squares(), 3), (Plain(), 2)):
        ours = [to_np(b) for b in DataLoader(ds, batch_size=bs, num_workers=num_workers)]
        theirs = [to_np(b) for b in tud.DataLoader(ds if isinstance(ds, Plain) else _TorchSide(ds), batch_size=bs)]
        assert ours == theirs


class _TorchSide:
    """The same samples with torch tensors in place of nabla ones, for torch's DataLoader."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        import torch

        s = dict(self.ds[i])
        s["t"] = torch.from_numpy(as_np(s["t"]))
        return s


@needs_torch
def test_default_collate_matches_pytorch_on_each_kind():
    import torch
    from torch.utils.data import default_collate as torch_collate

    cases = [
        [np.float64(1.5), np.float64(2.0)],
        [np.int32(3), np.int32(4)],
        [np.array(1.0), np.array(2.0)],
        [1, 2, 3], [1.0, 2.5], [True, False], ["a", "b"],
        [[1, 2], [3, 4]], [(1, "x"), (2, "y")], [{"a": 1, "b": [1.0]}, {"a": 2, "b": [2.0]}],
        [Point(1, 2.0), Point(3, 4.0)],
    ]
    for batch in cases:
        assert to_np(default_collate(batch)) == to_np(torch_collate(batch)), batch
    t = [nabla.ones(2, 3), nabla.zeros(2, 3)]
    assert to_np(default_collate(t)) == to_np(torch_collate([torch.ones(2, 3), torch.zeros(2, 3)]))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([np.array(["a"]), np.array(["b"])])


class WhoLoads(Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return i, -1 if info is None else info.id, os.getpid(), int(os.environ.get("NABLA_TEST_INIT", "-1"))


def init_worker(worker_id):
    os.environ["NABLA_TEST_INIT"] = str(100 + worker_id)


def test_workers_are_processes_and_results_come_in_order():
    assert get_worker_info() is None
    serial = list(DataLoader(WhoLoads(), batch_size=2))
    parallel = list(DataLoader(WhoLoads(), batch_size=2, num_workers=3, worker_init_fn=init_worker))
    assert [b[0].tolist() for b in parallel] == [b[0].tolist() for b in serial] == [[i, i + 1] for i in range(0, 12, 2)]
    workers = [w for b in parallel for w in b[1].tolist()]
    assert sorted(set(workers)) == [0, 1, 2] and workers[:6] == [0, 0, 1, 1, 2, 2]  # round robin
    pids = {p for b in parallel for p in b[2].tolist()}
    assert len(pids) == 3 and os.getpid() not in pids
    assert [v for b in parallel for v in b[3].tolist()] == [100 + w for w in workers]
    assert {v for b in serial for v in b[1].tolist()} == {-1}


class Fails(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"sample {i} is broken")
        return i


def test_an_error_in_a_worker_is_raised_in_the_main_process_naming_it():
    # batch 2 (samples 4, 5) goes to worker 0 of 2
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process 0.*sample 5 is broken"):
        list(DataLoader(Fails(), batch_size=2, num_workers=2))
    with pytest.raises(ValueError, match="sample 5 is broken"):
        list(DataLoader(Fails(), batch_size=2))


class Unpicklable(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        class Local(Exception):
            pass

        if i == 3:
            raise Local("local failure")
        return lambda: i  # a batch that cannot travel to the main process


def test_batches_and_errors_that_do_not_pickle_are_errors_not_hangs():
    # the pickling error as pickle raises it (AttributeError for a local object), naming the worker
    with pytest.raises((AttributeError, pickle.PicklingError), match=r"(?s)worker process 0 sending batch 0.*pickle"):
        list(DataLoader(Unpicklable(), batch_size=1, num_workers=2, collate_fn=lambda b: b))
    loader = iter(DataLoader(Unpicklable(), batch_size=1, num_workers=2, sampler=[3], collate_fn=lambda b: b))
    with pytest.raises(RuntimeError, match=r"(?s)Caught Local.*local failure"):
        next(loader)


def failing_init(worker_id):
    raise KeyError(f"init of worker {worker_id}")


def test_an_error_in_worker_init_fn_is_raised():
    with pytest.raises(KeyError, match="init of worker 0"):
        list(DataLoader(Fails(), batch_size=2, num_workers=2, worker_init_fn=failing_init))


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(30 if i == 2 else 0)
        return i


def test_timeout_is_honoured():
    start = time.monotonic()
    it = iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5))
    assert next(it).tolist() == [0] and next(it).tolist() == [1]
    with pytest.raises(RuntimeError, match=r"timed out after 0.5 seconds"):
        next(it)
    assert time.monotonic() - start < 10


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            os._exit(3)
        return i


def test_a_worker_that_dies_is_an_error_not_a_hang():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 20


def test_no_hang_at_exit_with_workers_left_running():
    script = textwrap.dedent("""
        import nabla
        from nabla.utils.data import DataLoader, Dataset
        class D(Dataset):
            def __len__(self): return 1000
            def __getitem__(self, i): return i
        it = iter(DataLoader(D(), batch_size=2, num_workers=2, persistent_workers=True))
        print(next(it).tolist())
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                       cwd=str(REPO))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0, 1]"


def test_persistent_workers_serve_several_epochs_and_a_loop_left_early():
    loader = DataLoader(WhoLoads(), batch_size=3, num_workers=2, persistent_workers=True)
    first = iter(loader)
    next(first)  # left early
    e1 = [b[0].tolist() for b in loader]
    pids1 = {p for b in loader for p in b[2].tolist()}
    e2 = [b[0].tolist() for b in loader]
    pids2 = {p for b in loader for p in b[2].tolist()}
    assert e1 == e2 == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert pids1 == pids2 and len(pids1) == 2


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def test_iterable_datasets_with_and_without_workers():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    got = [b.tolist() for b in DataLoader(Stream(11), batch_size=2, num_workers=2)]
    # PyTorch's order: batches alternate between the workers while both have data
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    assert sorted(v for b in got for v in b) == list(range(11))
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]  # no batching: numbers stay numbers
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)


@needs_torch
def test_iterable_order_with_workers_matches_pytorch():
    import torch.utils.data as tud

    class TorchStream(tud.IterableDataset):
        def __iter__(self):
            info = tud.get_worker_info()
            return iter(range(info.id, 11, info.num_workers))

    theirs = [b.tolist() for b in tud.DataLoader(TorchStream(), batch_size=2, num_workers=2)]
    assert [b.tolist() for b in DataLoader(Stream(11), batch_size=2, num_workers=2)] == theirs


def test_samplers_batch_sampler_and_no_auto_batching():
    nabla.manual_seed(7)
    a = list(RandomSampler(range(10)))
    nabla.manual_seed(7)
    assert list(RandomSampler(range(10))) == a and sorted(a) == list(range(10)) and a != list(range(10))
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=8))) == 8
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2
    loader = DataLoader(Plain(), batch_sampler=[[4, 0], [2]])
    assert [b[1].tolist() for b in loader] == [[4, 0], [2]]
    loader = DataLoader(Plain(), sampler=[3, 1, 0], batch_size=2)
    assert [b[1].tolist() for b in loader] == [[3, 1], [0]] and len(loader) == 2
    single = list(DataLoader(Plain(), batch_size=None))
    assert isinstance(single[0][0], nabla.Tensor) and single[0][0].shape == (2, 2) and single[3][1] == 3
    nabla.manual_seed(1)
    s1 = [b[1].tolist() for b in DataLoader(Plain(), batch_size=5, shuffle=True)]
    nabla.manual_seed(1)
    assert [b[1].tolist() for b in DataLoader(Plain(), batch_size=5, shuffle=True)] == s1
    g = [b[1].tolist() for b in DataLoader(Plain(), batch_size=5, shuffle=True, generator=np.random.default_rng(3))]
    assert g == [b[1].tolist() for b in DataLoader(Plain(), batch_size=5, shuffle=True,
                                                   generator=np.random.default_rng(3))]


@needs_torch
def test_a_torch_generator_is_accepted():
    import torch

    def order():
        loader = DataLoader(Plain(), batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(4))
        return [b[1].tolist() for b in loader]

    a, b = order(), order()
    assert a == b and sorted(a[0]) == [0, 1, 2, 3, 4]


def test_dataset_helpers():
    ds = Squares(6)
    sub = Subset(ds, [4, 1])
    assert len(sub) == 2 and sub[0]["int"] == 4
    cat = ds + Squares(3)
    assert isinstance(cat, ConcatDataset) and len(cat) == 9 and cat[7]["int"] == 1 and cat[-1]["int"] == 2
    with pytest.raises(IndexError):
        cat[9]
    nabla.manual_seed(0)
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7] and sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    one = TensorDataset(nabla.arange(4))
    three = TensorDataset(nabla.arange(4), nabla.ones(4, 2), nabla.zeros(4))
    assert len(one) == 4 and one[2][0].item() == 2 and len(three[1]) == 3
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(nabla.arange(4), nabla.arange(3), nabla.arange(4))
    two = TensorDataset(nabla.arange(4), nabla.arange(4))
    assert isinstance(two, Dataset) and isinstance(two, nabla._C.data.TensorDataset) and len(two.tensors) == 2
    assert [b[0].tolist() for b in DataLoader(three, batch_size=3)] == [[0, 1, 2], [3]]


def test_cpp_datasets_take_the_cpp_loader_unless_a_python_feature_is_asked():
    ds = TensorDataset(nabla.arange(10, dtype=nabla.float32), nabla.arange(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pin_memory without CUDA is silent, as in PyTorch 1.13
        fast = DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)
    assert fast._cpp is not None and len(fast) == 3
    batches = list(fast)
    assert isinstance(batches[0], tuple) and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    slow = DataLoader(ds, batch_size=4, collate_fn=lambda b: [s[1].item() for s in b])
    assert slow._cpp is None and list(slow) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    nabla.manual_seed(5)
    a = [b[1].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)]
    nabla.manual_seed(5)
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)] == a
    assert sorted(v for b in a for v in b) == list(range(10))
    with pytest.raises(nabla.Error):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="seed= and device="):
        DataLoader(Plain(), seed=1)


def test_argument_checks_as_pytorch():
    ds = Plain()
    bad = [
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(prefetch_factor=4), "prefetch_factor option could only be specified in multiprocessing"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(sampler=[0], shuffle=True), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
        (dict(batch_size=0), "batch_size should be a positive integer value"),
    ]
    for kwargs, msg in bad:
        with pytest.raises(ValueError, match=msg):
            DataLoader(ds, **kwargs)


class Numbers(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return nabla.full([2], float(i)).to(nabla.bfloat16), nabla.tensor([i], dtype=nabla.float64)


def test_spawned_workers_receive_the_dataset_and_send_tensors_back_pickled():
    loader = DataLoader(Numbers(), batch_size=4, num_workers=2, multiprocessing_context="spawn")
    batches = list(loader)
    assert batches[0][0].dtype == nabla.bfloat16 and batches[0][1].dtype == nabla.float64
    assert as_np(batches[1][1]).ravel().tolist() == [4.0, 5.0]
    assert as_np(batches[0][0].float()).tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]


def test_a_cpp_tensor_dataset_travels_to_spawned_workers():
    ds = TensorDataset(nabla.arange(6, dtype=nabla.float64), nabla.arange(6))
    loader = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn",
                        collate_fn=lambda b: [int(s[1].item()) for s in b])
    with pytest.raises(Exception, match="pickle"):  # the lambda collate_fn cannot travel under spawn
        list(loader)
    loader = DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn", sampler=[5, 0, 2])
    batches = list(loader)
    assert batches[0][0].dtype == nabla.float64 and batches[0][1].tolist() == [5, 0, 2]
