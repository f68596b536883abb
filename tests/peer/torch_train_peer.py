#!/usr/bin/env python3
"""PyTorch peer for `ganonnx-train bench-train`: trains the same architectures (same layers, widths, initial
distributions, losses and optimizers as GanOnnx.Trainer's presets) on the same kind of synthetic data, and prints
steps/s in bench-train's format, so that scripts can set the two side by side.

    python3 torch_train_peer.py [--models "dcgan 28×28,keras-dcgan 28×28"] [--steps 30] [--batch-size 64] [--threads 2]
"""
import argparse, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

def dcgan_layout(size):
    for start in (4, 5, 6, 7):
        blocks, s = 0, size
        while s > start and s % 2 == 0: s //= 2; blocks += 1
        if s == start and blocks > 0: return start, blocks
    raise ValueError(size)

class DcganG(nn.Module):
    def __init__(self, latent, channels, size, width=64):
        super().__init__()
        start, blocks = dcgan_layout(size)
        f = width << (blocks - 1)
        layers = [nn.Linear(latent, start * start * f, bias=False), nn.BatchNorm1d(start * start * f), nn.ReLU(), nn.Unflatten(1, (f, start, start))]
        for _ in range(1, blocks):
            layers += [nn.ConvTranspose2d(f, f // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(f // 2), nn.ReLU()]; f //= 2
        layers += [nn.ConvTranspose2d(f, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
    def forward(self, z): return self.net(z)

class DcganD(nn.Module):
    def __init__(self, channels, size, width=64):
        super().__init__()
        start, blocks = dcgan_layout(size)
        layers, c, o = [], channels, width
        for _ in range(blocks):
            layers += [nn.Conv2d(c, o, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.3)]; c, o = o, o * 2
        layers += [nn.Flatten(), nn.Linear(c * start * start, 1)]
        self.net = nn.Sequential(*layers)
    def forward(self, x): return self.net(x)

class KerasG(nn.Module):
    def __init__(self, latent, channels, size, width=64):
        super().__init__()
        s, d = size // 4, width * 4
        self.net = nn.Sequential(
            nn.Linear(latent, s * s * d), nn.BatchNorm1d(s * s * d, 1e-3, 0.1), nn.ReLU(), nn.Unflatten(1, (d, s, s)), nn.Dropout(0.4),
            nn.Upsample(scale_factor=2), nn.ConvTranspose2d(d, d // 2, 5, 1, 2), nn.BatchNorm2d(d // 2, 1e-3, 0.1), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.ConvTranspose2d(d // 2, d // 4, 5, 1, 2), nn.BatchNorm2d(d // 4, 1e-3, 0.1), nn.ReLU(),
            nn.ConvTranspose2d(d // 4, d // 8, 5, 1, 2), nn.BatchNorm2d(d // 8, 1e-3, 0.1), nn.ReLU(),
            nn.ConvTranspose2d(d // 8, channels, 5, 1, 2), nn.Sigmoid())
    def forward(self, z): return self.net(z)

class KerasD(nn.Module):
    def __init__(self, channels, size, width=64):
        super().__init__()
        layers, c, s = [], channels, size
        for i, w in enumerate((width, width * 2, width * 4, width * 8)):
            stride = 2 if i < 3 else 1
            layers += [nn.Conv2d(c, w, 5, stride, 2), nn.LeakyReLU(0.2), nn.Dropout(0.4)]; c = w
            if stride == 2: s = (s - 1) // 2 + 1
        layers += [nn.Flatten(), nn.Linear(c * s * s, 1)]
        self.net = nn.Sequential(*layers)
    def forward(self, x): return self.net(x)

class MlpG(nn.Module):
    def __init__(self, latent, channels, size, width=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, width), nn.LeakyReLU(0.2), nn.Linear(width, channels * size * size), nn.Sigmoid(), nn.Unflatten(1, (channels, size, size)))
    def forward(self, z): return self.net(z)

class MlpD(nn.Module):
    def __init__(self, channels, size, width=128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))
    def forward(self, x): return self.net(x)

PRESETS = {
    "mlp 28×28": (MlpG, MlpD, 1, 28, "adam"),
    "keras-dcgan 28×28": (KerasG, KerasD, 1, 28, "rmsprop"),
    "dcgan 28×28": (DcganG, DcganD, 1, 28, "adam"),
    "dcgan 64×64 RGB": (DcganG, DcganD, 3, 64, "adam"),
}

def measure(name, steps, batch):
    G, D, channels, size, optimizer = PRESETS[name]
    torch.manual_seed(1)
    g, d = G(100, channels, size), D(channels, size)
    if optimizer == "adam":
        opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)); opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999)); clip = 0
    else:
        opt_g = torch.optim.RMSprop(g.parameters(), 4e-4); opt_d = torch.optim.RMSprop(d.parameters(), 8e-4); clip = 1.0
    data = torch.rand(1024, channels, size, size) * (2 if G is DcganG else 1) - (1 if G is DcganG else 0)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step(i):
        real = data[(i * batch) % 960:(i * batch) % 960 + batch]
        z = torch.randn(batch, 100) if G is not KerasG else torch.rand(batch, 100) * 2 - 1
        fake = g(z)
        opt_d.zero_grad()
        loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
        loss_d.backward()
        if clip: torch.nn.utils.clip_grad_value_(d.parameters(), clip)
        opt_d.step()
        opt_g.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        loss_g.backward()
        if clip: torch.nn.utils.clip_grad_value_(g.parameters(), clip)
        opt_g.step()

    for i in range(3): step(i)
    start = time.perf_counter()
    for i in range(steps): step(i + 3)
    rate = steps / (time.perf_counter() - start)
    print(f"  {name:<34} {rate:6.2f} steps/s  ({rate * batch:8.0f} images/s)", flush=True)
    return rate

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(PRESETS)); p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64); p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if name not in PRESETS: print(f"unknown model '{name}'; choose among {', '.join(PRESETS)}", file=sys.stderr); return 1
        measure(name, args.steps, args.batch_size)
    return 0

if __name__ == "__main__":
    sys.exit(main())
