"""PyTorch programs run unchanged on nabla (issue 15): each program below is written against
`torch` (`import torch`, `torch.nn`, `torch.optim`, `torch.utils.data`), after PyTorch's own
examples (mnist, regression, vae, time_sequence_prediction, dcgan), and runs twice: once on
PyTorch 1.13 and once with `torch` mapped to nabla in sys.modules, as a user's shim would.
The losses must agree step by step.

What is not the examples' own text, and why: the data are small seeded arrays (no downloads);
parameters and noise come from the harness's `init(model)` and `noise(*shape)` (the two
libraries' random streams differ), and dropout runs in eval mode (its masks are random too).
Everything else (layers, functional calls, optimizers and schedulers with closures, in-place
activations, .data updates, apply(weights_init), DataLoader, save/load) is the programs' own."""
import contextlib
import sys

import numpy as np
import pytest

import nabla
import nabla.nn
import nabla.nn.functional
import nabla.optim
from conftest import HAVE_TORCH, needs_torch

pytestmark = needs_torch

if HAVE_TORCH:
    import torch


@contextlib.contextmanager
def torch_is(lib):
    """`import torch` (and its submodules the programs use) gives `lib` inside the block."""
    names = ["torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.optim.lr_scheduler",
             "torch.utils", "torch.utils.data"]
    saved = {n: sys.modules.get(n) for n in names}
    if lib is not torch:
        mods = [nabla, nabla.nn, nabla.nn.functional, nabla.optim, nabla.optim.lr_scheduler, nabla.utils,
                nabla.utils.data]
        sys.modules.update(dict(zip(names, mods)))
    try:
        yield
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def harness(lib, seed):
    rng = np.random.default_rng(seed)

    def init(model, scale=0.1):
        # every parameter from one seeded stream, in registration order (same names in both)
        with lib.no_grad():
            for _, p in model.named_parameters():
                p.copy_(lib.from_numpy(rng.uniform(-scale, scale, size=tuple(p.shape))).to(p.dtype))

    def noise(*shape, dtype=None):
        t = lib.from_numpy(rng.standard_normal(shape))
        return t.to(dtype if dtype is not None else lib.float32)

    return init, noise


def run(program, lib, seed=0, **kw):
    scope = {}
    with torch_is(lib):
        exec(compile(program, "<program>", "exec"), scope)
        init, noise = harness(lib, seed)
        return scope["main"](init, noise, **kw)


def compare(program, rtol, atol=1e-7, **kw):
    ref = run(program, torch, **kw)
    got = run(program, nabla, **kw)
    assert len(ref) == len(got) and len(ref) > 2
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)
    return got


MNIST = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def main(init, noise, path):
    device = torch.device("cpu")
    images = noise(12, 1, 28, 28)
    labels = (images.sum(dim=(1, 2, 3)) > 0).long() + 2 * (images[:, 0, 0, 0] > 0).long()
    train_loader = DataLoader(TensorDataset(images, labels), batch_size=4, shuffle=False)
    model = Net().to(device)
    init(model, 0.05)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    for epoch in range(1, 3):
        model.eval()  # the harness's choice: dropout masks are random (see the module doc)
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            line = "Train Epoch: {} [{}/{}]\\tLoss: {:.6f}".format(epoch, batch_idx * len(data),
                                                                 len(train_loader.dataset), loss.item())
            assert line.startswith("Train Epoch")
        scheduler.step()
    test_loss, correct = 0, 0
    with torch.no_grad():
        output = model(images)
        test_loss += F.nll_loss(output, labels, reduction='sum').item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(labels.view_as(pred)).sum().item()
    torch.save(model.state_dict(), path)
    again = Net()
    again.load_state_dict(torch.load(path))
    again.eval()
    assert (again(images) - model(images)).abs().max().item() == 0
    return losses + [test_loss, float(correct)]
'''


def test_mnist(tmp_path):
    compare(MNIST, rtol=1e-4, atol=1e-5, path=str(tmp_path / "mnist_cnn.pt"))


REGRESSION = '''
import torch
import torch.nn.functional as F

POLY_DEGREE = 4


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE+1)], 1)


def main(init, noise):
    W_target = noise(POLY_DEGREE, 1) * 5
    b_target = noise(1) * 5

    def f(x):
        return x.mm(W_target) + b_target.item()

    def get_batch(batch_size=32):
        random = noise(batch_size)
        x = make_features(random)
        y = f(x)
        return x, y

    fc = torch.nn.Linear(W_target.size(0), 1)
    init(fc)
    losses = []
    for batch_idx in range(40):
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        losses.append(loss)
        if loss < 1e-3:
            break
    return losses
'''


def test_regression():
    compare(REGRESSION, rtol=1e-4, atol=1e-6)


VAE = '''
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar)
        eps = self.noise(*std.shape)  # torch.randn_like(std) in the example: the harness's stream
        return mu + eps*std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(init, noise):
    data = torch.sigmoid(noise(16, 1, 28, 28))
    train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, torch.zeros(16)),
                                               batch_size=8, shuffle=False)
    model = VAE()
    model.noise = noise
    init(model, 0.05)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for epoch in range(3):
        model.train()
        train_loss = 0
        for batch_idx, (data, _) in enumerate(train_loader):
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            losses.append(loss.item() / len(data))
    with torch.no_grad():
        sample = noise(4, 20)
        sample = model.decode(sample)
        losses.append(float(sample.sum()))
    return losses
'''


def test_vae():
    compare(VAE, rtol=1e-4, atol=1e-5)


SEQUENCE = '''
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future = 0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):# if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


def main(init, noise):
    T, L, N = 20, 24, 5
    x = np.empty((N, L), 'int64')
    x[:] = np.array(range(L)) + np.arange(N).reshape(N, 1) * 4
    data = np.sin(x / 1.0 / T).astype('float64')
    input = torch.from_numpy(data[2:, :-1])
    target = torch.from_numpy(data[2:, 1:])
    test_input = torch.from_numpy(data[:2, :-1])
    test_target = torch.from_numpy(data[:2, 1:])
    seq = Sequence()
    seq.double()
    init(seq)
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    losses = []
    for i in range(2):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            future = 5
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            losses.append(loss.item())
            y = pred.detach().numpy()
            losses.append(float(y[:, -1].sum()))
    return losses
'''


def test_time_sequence_prediction():
    # float64 throughout, as the example: the closures' losses agree to the last digits
    compare(SEQUENCE, rtol=1e-8, atol=1e-12)


DCGAN = '''
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf, nc = 8, 8, 8, 1


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def main(init, noise):
    device = torch.device("cpu")
    netG = Generator().to(device)
    netG.apply(weights_init)
    init(netG)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    init(netD)
    criterion = nn.BCELoss()
    real_label, fake_label = 1, 0
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
    losses = []
    for i in range(4):
        real_cpu = torch.tanh(noise(6, nc, 16, 16))
        batch_size = real_cpu.size(0)
        netD.zero_grad()
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        z = noise(batch_size, nz, 1, 1)
        fake = netG(z)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        losses += [errD.item(), errG.item(), D_x, D_G_z1, D_G_z2]
    return losses
'''


def test_dcgan():
    compare(DCGAN, rtol=1e-4, atol=1e-6)


def test_the_shim_really_swaps_the_library():
    # a program that reports which library `import torch` gave it: the harness is not a no-op
    prog = "import torch\n\ndef main(init, noise):\n    return [1.0, 2.0, 3.0, float(torch.__name__ == 'nabla')]\n"
    assert run(prog, torch)[-1] == 0.0 and run(prog, nabla)[-1] == 1.0
    assert sys.modules["torch"] is torch  # restored
