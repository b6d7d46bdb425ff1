#!/usr/bin/env python3
"""Reference numbers for tests/test_rnn.cpp, computed with PyTorch.

Run with a Python that has torch (the numbers in the tests came from PyTorch 1.13.1, Debian's
python3-torch, which reports its version as 1.13.0a0):

    /usr/bin/python3 tests/reference/make_rnn_reference.py > /tmp/rnn_reference.txt

Every input, state and parameter is filled from a formula that test_rnn.cpp repeats
(fill(t, k): element i of the k-th tensor is 0.5 sin(0.7 i + 1.3 k + 0.1)), so only the
results are pasted: the outputs, the final states, and the gradients of
    loss = sum(output * ramp) + sum(h_n * ramp) + sum(c_n * ramp),  ramp_i = 0.3 cos(0.5 i)
with respect to the input, the initial states and every parameter (in named_parameters()
order), float64 throughout. CI never runs this script.
"""
import math

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)


def fill(shape, k):
    n = math.prod(shape)
    return torch.tensor([0.5 * math.sin(0.7 * i + 1.3 * k + 0.1) for i in range(n)]).reshape(shape)


def ramp(t):
    n = t.numel()
    return torch.tensor([0.3 * math.cos(0.5 * i) for i in range(n)]).reshape(t.shape)


def fmt(v):
    v = v.detach().reshape(-1).tolist()
    return "{" + ", ".join(repr(float(x)) for x in v) + "}"


def set_params(m, first):
    with torch.no_grad():
        for k, (_, p) in enumerate(m.named_parameters()):
            p.copy_(fill(p.shape, first + k))


def emit(name, out, h_n, c_n, x, states, m):
    loss = (out * ramp(out)).sum() + (h_n * ramp(h_n)).sum()
    if c_n is not None:
        loss = loss + (c_n * ramp(c_n)).sum()
    loss.backward()
    print('    {"%s",' % name)
    print("     %s," % fmt(out))
    print("     %s," % fmt(h_n))
    print("     %s," % (fmt(c_n) if c_n is not None else "{}"))
    print("     %s," % fmt(x.grad))
    print("     {%s}," % ", ".join(fmt(s.grad) for s in states))
    print("     {%s}}," % ", ".join(fmt(p.grad) for _, p in m.named_parameters()))


def sequence_case(name, module, x_shape, with_states):
    m = module
    set_params(m, 10)
    x = fill(x_shape, 1).requires_grad_(True)
    layers = m.num_layers * (2 if m.bidirectional else 1)
    batch = x_shape[0] if m.batch_first else x_shape[1]
    if len(x_shape) == 2:
        state_shape = (layers, m.hidden_size)
    else:
        state_shape = (layers, batch, m.hidden_size)
    states = []
    if with_states:
        states.append(fill(state_shape, 2).requires_grad_(True))
        if isinstance(m, nn.LSTM):
            states.append(fill(state_shape, 3).requires_grad_(True))
    if isinstance(m, nn.LSTM):
        out, (h, c) = m(x, tuple(states) if states else None)
    else:
        out, h = m(x, states[0] if states else None)
        c = None
    emit(name, out, h, c, x, states, m)


def cell_case(name, cell, batch, steps):
    set_params(cell, 10)
    x = fill((steps, batch, cell.input_size), 1).requires_grad_(True)
    h0 = fill((batch, cell.hidden_size), 2).requires_grad_(True)
    states = [h0]
    if isinstance(cell, nn.LSTMCell):
        c0 = fill((batch, cell.hidden_size), 3).requires_grad_(True)
        states.append(c0)
        h, c = h0, c0
        outs = []
        for t in range(steps):
            h, c = cell(x[t], (h, c))
            outs.append(h)
    else:
        h, c = h0, None
        outs = []
        for t in range(steps):
            h = cell(x[t], h)
            outs.append(h)
    emit(name, torch.stack(outs), h, c, x, states, cell)


print("// PyTorch %s, tests/reference/make_rnn_reference.py" % torch.__version__)
sequence_case("rnn_tanh 2 layers bidirectional", nn.RNN(3, 4, num_layers=2, bidirectional=True), (5, 2, 3), True)
sequence_case("rnn_relu batch_first", nn.RNN(3, 4, nonlinearity="relu", batch_first=True), (2, 5, 3), False)
sequence_case("lstm 2 layers bidirectional batch_first",
              nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3), True)
sequence_case("lstm no bias unbatched", nn.LSTM(3, 4, bias=False), (5, 3), True)
sequence_case("gru 2 layers bidirectional", nn.GRU(3, 4, num_layers=2, bidirectional=True), (5, 2, 3), True)
cell_case("rnn_cell", nn.RNNCell(3, 4), 2, 3)
cell_case("lstm_cell", nn.LSTMCell(3, 4), 2, 3)
cell_case("gru_cell", nn.GRUCell(3, 4), 2, 3)
