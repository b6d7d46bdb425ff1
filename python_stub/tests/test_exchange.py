"""NumPy and DLPack exchange: memory shared both ways (a write through one side is seen by the
other), owners kept alive, malformed DLPack input rejected with nabla.Error, and no leak of
tensors or buffers over 10^5 round trips."""
import ctypes
import gc
import sys

import numpy as np
import pytest

import nabla
from conftest import needs_cuda, needs_torch


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


# ---- NumPy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("np_dtype,dtype", [(np.float32, nabla.float32), (np.float64, nabla.float64),
                                            (np.float16, nabla.float16), (np.int64, nabla.int64),
                                            (np.int32, nabla.int32), (np.uint8, nabla.uint8), (np.bool_, nabla.bool)])
def test_from_numpy_shares_memory(np_dtype, dtype):
    arr = np.arange(12).reshape(3, 4).astype(np_dtype)
    t = nabla.from_numpy(arr)
    assert t.dtype == dtype and t.shape == (3, 4)
    assert t.data_ptr() == arr.ctypes.data
    arr[1, 2] = 1
    assert t[1, 2].item() == 1
    t[2, 3] = 0
    assert arr[2, 3] == 0
    back = t.numpy()
    assert back.dtype == arr.dtype and np.shares_memory(back, arr)


def test_from_numpy_strided_views_and_lifetime():
    arr = np.arange(24, dtype=np.float64).reshape(4, 6)
    view = arr[1:, ::2]  # strided view of a larger buffer
    t = nabla.from_numpy(view)
    assert t.stride() == (6, 2)
    np.testing.assert_array_equal(t.numpy(), view)
    base_refs = sys.getrefcount(arr)
    t2 = nabla.from_numpy(arr)
    assert sys.getrefcount(arr) > base_refs  # the tensor holds the array
    del arr, view
    gc.collect()
    assert t2.sum().item() == sum(range(24))  # memory still alive through the tensor
    assert t.sum().item() == sum(np.arange(24).reshape(4, 6)[1:, ::2].ravel())


def test_numpy_keeps_the_tensor_alive():
    t = nabla.arange(10, dtype=nabla.float64)
    a = t.numpy()
    ptr = t.data_ptr()
    del t
    gc.collect()
    assert a.ctypes.data == ptr
    np.testing.assert_array_equal(a, np.arange(10))
    t2 = nabla.ones(3)
    a2 = np.asarray(t2)  # __array__
    a2[0] = 5
    assert t2[0].item() == 5


def test_numpy_rejections():
    with pytest.raises(nabla.Error, match="requires grad"):
        nabla.ones(2, requires_grad=True).numpy()
    assert nabla.ones(2, requires_grad=True).numpy(force=True).tolist() == [1, 1]
    with pytest.raises(nabla.Error, match="bfloat16"):
        nabla.ones(2, dtype=nabla.bfloat16).numpy()
    with pytest.raises(nabla.Error, match="negative strides"):
        nabla.from_numpy(np.arange(4.0)[::-1])
    with pytest.raises(nabla.Error, match="read-only"):
        nabla.from_numpy(np.broadcast_to(np.arange(3.0), (2, 3)))
    with pytest.raises(nabla.Error, match="unsupported"):
        nabla.from_numpy(np.zeros(2, dtype=np.complex64))
    with pytest.raises(nabla.Error, match="unsupported"):
        nabla.from_numpy(np.zeros(2, dtype=np.int16))
    with pytest.raises(TypeError):
        nabla.from_numpy([1, 2])


def test_zero_size_and_scalar_arrays():
    assert nabla.from_numpy(np.zeros((0, 3), dtype=np.float32)).shape == (0, 3)
    assert nabla.from_numpy(np.array(2.5)).item() == 2.5
    assert nabla.zeros(0, 2).numpy().shape == (0, 2)
    assert nabla.tensor(1.5).numpy().shape == ()


# ---- DLPack ------------------------------------------------------------------------------
def test_dlpack_round_trip_within_nabla():
    t = nabla.arange(6, dtype=nabla.float32).view(2, 3)
    assert t.__dlpack_device__() == (1, 0)
    u = nabla.from_dlpack(t)
    assert u.data_ptr() == t.data_ptr() and u.stride() == t.stride()
    u[0, 0] = 42
    assert t[0, 0].item() == 42
    cap = nabla.to_dlpack(t.t())
    v = nabla.from_dlpack(cap)
    assert v.shape == (3, 2) and v.stride() == (1, 3)
    with pytest.raises(nabla.Error):
        nabla.from_dlpack(cap)  # a capsule is consumed once


def test_dlpack_numpy_consumer():
    t = nabla.arange(4, dtype=nabla.float64)
    a = np.from_dlpack(t)  # NumPy marks DLPack imports read-only; writes go through nabla
    t[1] = -1
    assert a[1] == -1
    b = np.arange(5, dtype=np.int64)
    u = nabla.from_dlpack(b)
    b[4] = 99
    assert u[4].item() == 99


@needs_torch
def test_dlpack_torch_both_ways():
    import torch

    t = nabla.arange(12, dtype=nabla.float32).view(3, 4)[:, 1:]
    tt = torch.from_dlpack(t)
    assert tt.shape == (3, 3) and tt.stride() == (4, 1) and tt.data_ptr() == t.data_ptr()
    tt[0, 0] = 100
    assert t[0, 0].item() == 100
    src = torch.arange(6, dtype=torch.float64).reshape(2, 3).t()
    n = nabla.from_dlpack(src)
    assert n.shape == (3, 2) and n.stride() == (1, 3) and n.dtype == nabla.float64
    src[1, 1] = -5
    assert n[1, 1].item() == -5
    for dt, ndt in [(torch.float16, nabla.float16), (torch.bfloat16, nabla.bfloat16), (torch.int32, nabla.int32),
                    (torch.uint8, nabla.uint8), (torch.int64, nabla.int64)]:
        assert nabla.from_dlpack(torch.ones(2, dtype=dt)).dtype == ndt
    with pytest.raises(nabla.Error, match="requires grad"):
        torch.from_dlpack(nabla.ones(2, requires_grad=True))


@needs_cuda
def test_dlpack_cuda():
    t = nabla.arange(8, dtype=nabla.float32, device="cuda")
    assert t.__dlpack_device__() == (2, 0)
    u = nabla.from_dlpack(t)
    assert u.device == t.device and u.data_ptr() == t.data_ptr()
    with pytest.raises(nabla.Error, match="cpu"):
        t.numpy()
    np.testing.assert_array_equal(t.numpy(force=True), np.arange(8, dtype=np.float32))
    # CUDA data: nabla's import passes its own stream for the producer to order its work before
    p = RecordingProducer(t)
    nabla.from_dlpack(p)
    assert isinstance(p.calls[0]["stream"], int) and p.calls[0]["stream"] not in (0, -1)
    # export: the consumer's stream waits on nabla's (legacy default, per-thread, none)
    for stream in (None, 1, 2, -1):
        assert nabla.from_dlpack(t.__dlpack__(stream=stream)).tolist() == t.tolist()


# ---- malformed DLPack input ------------------------------------------------------------------
class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class Producer:
    """A hand-made DLPack producer whose fields the test sets (buffers kept on self)."""

    def __init__(self, shape, strides=None, code=2, bits=32, lanes=1, device=(1, 0), ndim=None, byte_offset=0):
        self.buf = (ctypes.c_float * 64)()
        self.shape = (ctypes.c_int64 * max(1, len(shape)))(*shape)
        self.strides = (ctypes.c_int64 * max(1, len(shape)))(*strides) if strides is not None else None
        self.m = DLManagedTensor()
        d = self.m.dl_tensor
        d.data = ctypes.cast(self.buf, ctypes.c_void_p)
        d.device = DLDevice(*device)
        d.ndim = len(shape) if ndim is None else ndim
        d.dtype = DLDataType(code, bits, lanes)
        d.shape = self.shape
        d.strides = self.strides
        d.byte_offset = byte_offset

    def __dlpack__(self, stream=None):
        new = ctypes.pythonapi.PyCapsule_New
        new.restype = ctypes.py_object
        new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        return new(ctypes.addressof(self.m), b"dltensor", None)

    def __dlpack_device__(self):
        return (self.m.dl_tensor.device.device_type, self.m.dl_tensor.device.device_id)


def test_handmade_producer_is_accepted():
    p = Producer([4, 4], [4, 1])
    t = nabla.from_dlpack(p)
    p.buf[5] = 3.0
    assert t[1, 1].item() == 3.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(shape=[-1, 4]), "negative size"),
    (dict(shape=[2**40, 2**40]), "overflow"),
    (dict(shape=[4, 4], strides=[-4, 1]), "negative stride"),
    (dict(shape=[3, 3], strides=[2**62, 1]), "overflow"),
    (dict(shape=[4], code=5, bits=64), "unsupported dtype"),   # complex
    (dict(shape=[4], code=2, bits=8), "unsupported dtype"),
    (dict(shape=[4], lanes=4), "lanes"),
    (dict(shape=[4], device=(4, 0)), "unsupported device"),   # OpenCL
    (dict(shape=[4], device=(2, 0)), "not available"),        # CUDA on a machine without one
    (dict(shape=[4], ndim=-3), "number of dims"),
    (dict(shape=[4], ndim=1000), "number of dims"),
    (dict(shape=[4], byte_offset=2), "byte_offset"),
])
def test_malformed_dlpack_is_a_clear_error(kwargs, match):
    if kwargs.get("device") == (2, 0) and nabla.cuda.is_available():
        pytest.skip("a CUDA device is available here")
    with pytest.raises(nabla.Error, match=match):
        nabla.from_dlpack(Producer(**kwargs))


class RecordingProducer:
    """An array-API producer that records the keywords nabla's import passes to __dlpack__."""

    def __init__(self, t, accepts_keywords=True):
        self.t, self.accepts_keywords, self.calls = t, accepts_keywords, []

    def __dlpack__(self, **kw):
        self.calls.append(kw)
        if kw and not self.accepts_keywords:
            raise TypeError("__dlpack__() got an unexpected keyword argument")
        return self.t.__dlpack__(**{k: v for k, v in kw.items() if k == "max_version"})

    def __dlpack_device__(self):
        return self.t.__dlpack_device__()


def capsule_name(cap):
    get = ctypes.pythonapi.PyCapsule_GetName
    get.restype = ctypes.c_char_p
    get.argtypes = [ctypes.py_object]
    return get(cap).decode()


def test_import_follows_the_protocol():
    src = nabla.arange(6, dtype=nabla.float32)
    p = RecordingProducer(src)
    t = nabla.from_dlpack(p)
    # CPU data: no stream (the spec wants None), and the newest version nabla reads
    assert p.calls == [{"max_version": (1, 0)}]
    assert t.data_ptr() == src.data_ptr() and t.tolist() == src.tolist()
    # a producer older than the array API's keywords is asked again without them
    old = RecordingProducer(src, accepts_keywords=False)
    assert nabla.from_dlpack(old).tolist() == src.tolist()
    assert old.calls == [{"max_version": (1, 0)}, {}]


def test_export_honours_max_version_and_round_trips():
    t = nabla.arange(5, dtype=nabla.float64)
    assert capsule_name(t.__dlpack__()) == "dltensor"
    assert capsule_name(t.__dlpack__(max_version=(0, 8))) == "dltensor"
    v = t.__dlpack__(max_version=(1, 0))
    assert capsule_name(v) == "dltensor_versioned"
    u = nabla.from_dlpack(v)
    assert capsule_name(v) == "used_dltensor_versioned"
    assert u.data_ptr() == t.data_ptr() and u.tolist() == t.tolist()
    del v, u
    gc.collect()
    assert t.tolist() == [0, 1, 2, 3, 4]


def test_export_stream_device_and_copy_arguments():
    t = nabla.arange(4, dtype=nabla.float32)
    assert capsule_name(t.__dlpack__(stream=None)) == "dltensor"
    with pytest.raises(nabla.Error, match="stream 5 given for a CPU tensor"):
        t.__dlpack__(stream=5)
    with pytest.raises(nabla.Error, match="dl_device"):
        t.__dlpack__(dl_device=(2, 0))
    assert nabla.from_dlpack(t.__dlpack__(dl_device=(1, 0))).data_ptr() == t.data_ptr()
    c = nabla.from_dlpack(t.__dlpack__(copy=True))
    assert c.data_ptr() != t.data_ptr() and c.tolist() == t.tolist()


def test_not_a_producer():
    with pytest.raises(nabla.Error, match="__dlpack__"):
        nabla.from_dlpack(object())


# ---- reference counts: 10^5 round trips leak neither tensors nor buffers ----------------------
N = 100_000


def test_no_leak_numpy_round_trips():
    arr = np.ones(256, dtype=np.float32)
    refs = sys.getrefcount(arr)
    for _ in range(1000):
        nabla.from_numpy(arr).numpy()
    gc.collect()
    rss = rss_mb()
    for _ in range(N):
        nabla.from_numpy(arr).numpy()
    gc.collect()
    assert sys.getrefcount(arr) == refs
    t = nabla.ones(1024)  # 4 KiB: 10^5 leaked copies would be 400 MB
    for _ in range(N):
        t.numpy()
    for _ in range(N // 10):
        nabla.ones(1024).numpy()
    gc.collect()
    assert rss_mb() - rss < 40, f"RSS grew by {rss_mb() - rss:.1f} MB"


def test_no_leak_dlpack_round_trips():
    arr = np.ones(256, dtype=np.float32)
    refs = sys.getrefcount(arr)
    rss = rss_mb()
    for _ in range(N):
        nabla.from_dlpack(nabla.from_dlpack(arr))
    for _ in range(N // 10):
        np.from_dlpack(nabla.ones(1024))
    gc.collect()
    assert sys.getrefcount(arr) == refs
    assert rss_mb() - rss < 40, f"RSS grew by {rss_mb() - rss:.1f} MB"


@needs_torch
def test_no_leak_torch_round_trips():
    import torch

    src = torch.ones(256)
    t = nabla.ones(1024)
    rss = rss_mb()
    for _ in range(N):
        torch.from_dlpack(nabla.from_dlpack(src))
    for _ in range(N // 10):
        torch.from_dlpack(t)
    gc.collect()
    assert sys.getrefcount(src) == 2
    assert rss_mb() - rss < 40, f"RSS grew by {rss_mb() - rss:.1f} MB"
