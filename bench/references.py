"""references.py: the code a researcher would otherwise write for full-batch
gradient descent on the minimal model's embedding tables (MODEL.md section 2),
in PyTorch (CPU) and in NumPy: residuals per observation by gathering x and y,
gradients accumulated with index_add_ / np.add.at, and the same update rule
as repcollapse's gd, z <- z + dt F(z), with the `degree` rate scheme (each
embedding's gradient divided by its own observation weight over M) or
`uniform`. These are the peers of bench/bench.py; they are checked against
repcollapse's own gd trajectory there before anything is timed.

Observations are (sample, label) pairs with repeats merged into counts A_ic."""
import numpy as np


def load_observations(path):
    """CSV `sample,label` (as `repcollapse data --out` writes it) -> (i, c, count, N, K)."""
    obs = np.loadtxt(path, delimiter=",", comments="#", skiprows=1, dtype=np.int64, ndmin=2)
    N, K = int(obs[:, 0].max()) + 1, int(obs[:, 1].max()) + 1
    pair, count = np.unique(obs[:, 0] * K + obs[:, 1], return_counts=True)
    return pair // K, pair % K, count.astype(np.float64), N, K


def rates(i, c, count, N, K, scheme="degree", eta_x=1.0, eta_y=1.0):
    """Per-embedding rates s_i, s_c (repcollapse's model.h)."""
    M = count.sum()
    if scheme == "uniform":
        return np.full(N, eta_x / M), np.full(K, eta_y / M)
    a = np.bincount(i, weights=count, minlength=N)
    b = np.bincount(c, weights=count, minlength=K)
    return eta_x / a, eta_y / b


class TorchGD:
    """Full-batch gd on embedding tables with PyTorch on the CPU."""

    def __init__(self, i, c, count, x0, y0, s_x, s_y, dt, dtype="float64"):
        import torch
        self.torch = torch
        dt_ = getattr(torch, dtype)
        self.i = torch.from_numpy(i)
        self.c = torch.from_numpy(c)
        self.w = torch.from_numpy(count).to(dt_)[:, None]
        self.x = torch.from_numpy(x0).to(dt_).clone()
        self.y = torch.from_numpy(y0).to(dt_).clone()
        self.hx = (dt * torch.from_numpy(s_x)).to(dt_)[:, None]
        self.hy = (dt * torch.from_numpy(s_y)).to(dt_)[:, None]

    def step(self):
        torch = self.torch
        r = self.w * (self.x[self.i] - self.y[self.c])            # residual per observation
        gx = torch.zeros_like(self.x).index_add_(0, self.i, r)     # sum_c A_ic (x_i - y_c)
        gy = torch.zeros_like(self.y).index_add_(0, self.c, r)     # sum_i A_ic (x_i - y_c)
        self.x -= self.hx * gx
        self.y += self.hy * gy

    def state(self):
        return self.x.double().numpy(), self.y.double().numpy()


class TorchGDPrealloc(TorchGD):
    """The same step with every buffer allocated once (index_select/sub/mul
    with out=, index_add_ into zeroed buffers): PyTorch without its allocator
    in the loop, a stronger peer than the straightforward code above."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        torch = self.torch
        n_obs = self.i.shape[0]
        self.xi = torch.empty(n_obs, self.x.shape[1], dtype=self.x.dtype)
        self.yc = torch.empty_like(self.xi)
        self.gx = torch.empty_like(self.x)
        self.gy = torch.empty_like(self.y)

    def step(self):
        torch = self.torch
        torch.index_select(self.x, 0, self.i, out=self.xi)
        torch.index_select(self.y, 0, self.c, out=self.yc)
        r = self.xi.sub_(self.yc).mul_(self.w)                       # in place: xi is now r
        self.gx.zero_().index_add_(0, self.i, r)
        self.gy.zero_().index_add_(0, self.c, r)
        self.x.addcmul_(self.hx, self.gx, value=-1.0)
        self.y.addcmul_(self.hy, self.gy)


class NumpyGD:
    """Full-batch gd on embedding tables with NumPy."""

    def __init__(self, i, c, count, x0, y0, s_x, s_y, dt, dtype="float64"):
        self.i, self.c = i, c
        self.w = count.astype(dtype)[:, None]
        self.x = x0.astype(dtype).copy()
        self.y = y0.astype(dtype).copy()
        self.hx = (dt * s_x).astype(dtype)[:, None]
        self.hy = (dt * s_y).astype(dtype)[:, None]

    def step(self):
        r = self.w * (self.x[self.i] - self.y[self.c])
        gx = np.zeros_like(self.x)
        np.add.at(gx, self.i, r)
        gy = np.zeros_like(self.y)
        np.add.at(gy, self.c, r)
        self.x -= self.hx * gx
        self.y += self.hy * gy

    def state(self):
        return self.x.astype(np.float64), self.y.astype(np.float64)
