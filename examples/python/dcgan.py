"""The classic DCGAN (Radford et al. 2015) on Fashion-MNIST padded to 32x32, as PyTorch's DCGAN
example: a generator of transposed convolutions with batch norm and ReLU ending in Tanh, a
discriminator of strided convolutions with LeakyReLU(0.2) and batch norm ending in Sigmoid,
binary cross-entropy, Adam(2e-4, betas 0.5/0.999), weights from N(0, 0.02). After every epoch
it writes an 8x8 grid of samples from a fixed noise batch to <out>/epoch_<N>.png.

Ends with {"d_fake": ..., "d_loss": ..., "d_real": ..., "g_loss": ...} (epoch means)."""
import os
import struct
import zlib

import numpy as np

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from common import parse, print_json


def generator(nz, w):
    # z [N, nz, 1, 1] -> 4x4 -> 8x8 -> 16x16 -> 32x32
    return nn.Sequential(
        nn.ConvTranspose2d(nz, 4 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, 1, 4, 2, 1, bias=False), nn.Tanh())


def discriminator(w):
    # 32x32 -> 16x16 -> 8x8 -> 4x4 -> 1x1
    return nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
        nn.Conv2d(4 * w, 1, 4, 1, 0, bias=False), nn.Sigmoid())


def weights_init(model):
    """The paper's initialisation: conv weights N(0, 0.02); batch-norm weights N(1, 0.02), biases 0."""
    for m in model.children():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def to_gan_range(x):
    """[N, 1, 28, 28] in [0, 1] -> [N, 1, 32, 32] in [-1, 1], the border at -1 (background)."""
    out = nabla.full([x.shape[0], 1, 32, 32], -1.0, dtype=x.dtype, device=x.device)
    out[:, :, 2:30, 2:30] = x * 2.0 - 1.0
    return out


def save_grid(images, path):
    """An 8x8 grid (2-pixel gutters) of the first 64 images [N, 1, 32, 32] in [-1, 1], as a grey PNG."""
    imgs = images[:64].detach().cpu().numpy()[:, 0]
    side, cell = 8, 34
    px = np.zeros((side * cell, side * cell), dtype=np.uint8)
    for i, img in enumerate(imgs):
        y, x = divmod(i, side)
        px[y * cell + 1:y * cell + 33, x * cell + 1:x * cell + 33] = np.clip((img + 1) * 127.5 + 0.5, 0, 255)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row.tobytes() for row in px)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", px.shape[1], px.shape[0], 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    args = parse(__doc__.splitlines()[0], epochs=5, lr=2e-4, batch_size=64, extra={
        "--data": dict(default="/usr/share/datasets/fashion-mnist"), "--out": dict(default="dcgan_out"),
        "--nz": dict(type=int, default=100), "--width": dict(type=int, default=64)})
    nabla.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train = nabla.data.FashionMNIST(args.data, train=True)
    if 0 < args.limit < len(train):
        train = nabla.data.TensorDataset(train.data[:args.limit], train.targets[:args.limit])
    # drop_last: batch norm wants a full batch, and every step then sees the same batch size
    loader = nabla.data.DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True, seed=args.seed,
                                   device=args.device)
    if len(loader) == 0:
        raise SystemExit(f"dcgan: {len(train)} images make no full batch of {args.batch_size}")

    netG, netD = generator(args.nz, args.width), discriminator(args.width)
    weights_init(netG)
    weights_init(netD)
    netG.to(args.device)
    netD.to(args.device)
    if not args.quiet:
        print(netG, netD, f"{netG.num_parameters()} + {netD.num_parameters()} parameters, training on {args.device}",
              sep="\n")
    optG = nabla.optim.Adam(netG.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optD = nabla.optim.Adam(netD.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = nabla.randn(64, args.nz, 1, 1, device=args.device)

    result = {}
    for epoch in range(args.epochs):
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        for step, (x, _) in enumerate(loader, 1):
            real = to_gan_range(x)
            b = real.shape[0]
            ones, zeros = nabla.ones(b, device=args.device), nabla.zeros(b, device=args.device)
            # discriminator: real -> 1, generated -> 0
            fake = netG(nabla.randn(b, args.nz, 1, 1, device=args.device))
            d_real = netD(real).view(-1)
            d_fake = netD(fake.detach()).view(-1)
            loss_d = F.binary_cross_entropy(d_real, ones) + F.binary_cross_entropy(d_fake, zeros)
            optD.zero_grad()
            loss_d.backward()
            optD.step()
            # generator: make the (updated) discriminator call its images real
            loss_g = F.binary_cross_entropy(netD(fake).view(-1), ones)
            optG.zero_grad()
            loss_g.backward()
            optG.step()
            for k, v in (("d_loss", loss_d), ("g_loss", loss_g), ("d_real", d_real.mean()), ("d_fake", d_fake.mean())):
                sums[k] += v.item()
            if not args.quiet and (step % 10 == 0 or step == len(loader)):
                print(f"epoch {epoch + 1}/{args.epochs} step {step}/{len(loader)}  "
                      f"d_loss {sums['d_loss'] / step:.4f}  g_loss {sums['g_loss'] / step:.4f}")
        result = {k: v / len(loader) for k, v in sums.items()}
        # sampled in training mode (batch statistics), as PyTorch's DCGAN example does
        with nabla.no_grad():
            path = os.path.join(args.out, f"epoch_{epoch + 1}.png")
            save_grid(netG(fixed_noise), path)
        if not args.quiet:
            print("samples:", path)
    print_json(result)


if __name__ == "__main__":
    main()
