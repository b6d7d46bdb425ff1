"""Every public name of the C++ API is bound under the same name: the functions of ops.h and
factories.h in nabla, Tensor's methods, nn's layers and functional, optim and its schedulers.
The names are read from the headers, so a new op or layer that lands unbound fails here (the
exceptions below say what stands in for each)."""
import re

import pytest

import nabla
from conftest import REPO

INCLUDE = REPO / "core" / "include" / "nabla"

# C++-only names and what Python uses instead.
NOT_IN_PYTHON = {
    "from_vector": "nabla.tensor(list)",
    "from_blob": "nabla.from_numpy / nabla.from_dlpack",
    "to_vector": "Tensor.tolist()",
    "impl": "internal",
    "impl_ptr": "internal",
    "defined": "None stands for an undefined tensor",
    "sizes": "Tensor.shape / size()",
    "strides": "Tensor.stride()",
    "options": "Tensor.dtype / device / requires_grad",
    "str": "repr(tensor)",
    "shape_str": "Tensor.shape",
    "set_grad": "the Tensor.grad setter",
    "version": "Tensor._version",
    "grad_fn_name": "Tensor.grad_fn (the node's name, or None)",
    "index": "Tensor.__getitem__ (C++'s x.index({Slice(), 0}) is x[:, 0])",
    "accessor": "Tensor.tolist() / numpy() (C++'s a[i][j] element access)",
}
# Names still to bind (none now): a family that lands unbound can be listed here meanwhile.
PENDING: set = set()


def functions(header):
    text = (INCLUDE / header).read_text()
    names = set(re.findall(r"^(?:inline )?(?:Tensor|std::\w+<[^>]*>|std::vector<Tensor>|Shape|ScalarType|double|void|RNNOutput)"
                           r"&? (\w+)\(", text, re.M))
    names |= set(re.findall(r"^using nabla::(\w+);", text, re.M))
    return names


def classes(header):
    return set(re.findall(r"^class (\w+) : public \w+", (INCLUDE / header).read_text(), re.M))


def missing(module, names):
    return sorted(n for n in names if n not in NOT_IN_PYTHON and n not in PENDING and not hasattr(module, n))


def test_ops_and_factories():
    assert missing(nabla, functions("ops.h") | functions("factories.h")) == []


def test_tensor_methods():
    text = (INCLUDE / "tensor.h").read_text()
    body = text[text.index("class Tensor {"):text.index("// Operators, as libtorch's.")]
    names = set(re.findall(r"^  (?:template <[^>]*>\s*)?[\w:<>,&* ]+?[ &*](\w+)\(", body, re.M)) - {"Tensor", "operator"}
    assert len(names) > 100
    assert missing(nabla.Tensor, names) == []


@pytest.mark.parametrize("header", ["nn/functional.h"])
def test_nn_functional(header):
    assert missing(nabla.nn.functional, functions(header)) == []


@pytest.mark.parametrize("header", ["nn/modules.h", "nn/conv.h", "nn/loss.h", "nn/module.h", "nn/recurrent.h",
                                    "nn/transformer.h"])
def test_nn_layers(header):
    if not (INCLUDE / header).exists():
        pytest.skip(f"{header} is not in this tree")
    assert missing(nabla.nn, classes(header) | ({"Module"} if header == "nn/module.h" else set())) == []


def test_nn_init_optim_schedulers():
    assert missing(nabla.nn.init, functions("nn/init.h")) == []
    assert missing(nabla.optim, classes("optim.h") | functions("optim.h")) == []
    assert missing(nabla.optim.lr_scheduler, classes("lr_scheduler.h")) == []
