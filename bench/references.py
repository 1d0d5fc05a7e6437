"""references.py: the code a researcher would otherwise write for full-batch
gradient descent on the minimal model's embedding tables (docs/model.md section 2),
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


# --- siam-sg (docs/model.md section 3): |P x_i - sg(y_c)|^2 + |P y_c - sg(x_i)|^2 ---
#
# L = (1/2M) sum_ic A_ic (|P x_i - sg(y_c)|^2 + |P y_c - sg(x_i)|^2), a shared
# linear head P (d x d), stop-gradient on each target. gd as repcollapse runs
# it: x_i -= dt eta_x (M / a_i) dL/dx_i (the `degree` scheme, s_x = eta_x / a_i),
# y_c likewise, P -= dt eta_P dL/dP, every gradient taken at the old state.


class TorchSiamSG:
    """siam-sg gd as a SimSiam researcher writes it in PyTorch: project every
    embedding with the head, gather per observation, the loss with the targets
    .detach()ed, autograd for the gradients, then the same update."""

    def __init__(self, i, c, count, x0, y0, P0, s_x, s_y, dt, dtype="float64", eta_head=1.0):
        import torch
        self.torch = torch
        dt_ = getattr(torch, dtype)
        self.i = torch.from_numpy(i)
        self.c = torch.from_numpy(c)
        self.w = torch.from_numpy(count).to(dt_)
        self.M = float(count.sum())
        self.x = torch.from_numpy(x0).to(dt_).clone()
        self.y = torch.from_numpy(y0).to(dt_).clone()
        self.P = torch.from_numpy(P0).to(dt_).clone()
        # dt times each embedding's rate, times M (the loss is a mean over M)
        self.hx = (dt * self.M * torch.from_numpy(s_x)).to(dt_)[:, None]
        self.hy = (dt * self.M * torch.from_numpy(s_y)).to(dt_)[:, None]
        self.hP = dt * eta_head

    def loss(self, x, y, P):
        xi, yc = x[self.i], y[self.c]
        px, py = x @ P.T, y @ P.T
        r1 = px[self.i] - yc.detach()          # P x_i - sg(y_c)
        r2 = py[self.c] - xi.detach()          # P y_c - sg(x_i)
        return (self.w * ((r1 * r1).sum(1) + (r2 * r2).sum(1))).sum() / (2.0 * self.M)

    def step(self):
        torch = self.torch
        x = self.x.requires_grad_(True)
        y = self.y.requires_grad_(True)
        P = self.P.requires_grad_(True)
        gx, gy, gP = torch.autograd.grad(self.loss(x, y, P), (x, y, P))
        with torch.no_grad():
            self.x = (x - self.hx * gx).detach()
            self.y = (y - self.hy * gy).detach()
            self.P = (P - self.hP * gP).detach()

    def state(self):
        return self.x.detach().double().numpy(), self.y.detach().double().numpy(), self.P.detach().double().numpy()


class TorchSiamSGManual(TorchSiamSG):
    """The same step with the gradients written by hand: residuals per
    observation from the gathered projections, summed per embedding with
    index_add_, then dL/dx = Rx P / M, dL/dy = Ry P / M, dL/dP = (Rx^T x + Ry^T y) / M
    (the stop-gradient is the absence of the target terms). No autograd."""

    def step(self):
        torch = self.torch
        x, y, P = self.x, self.y, self.P
        w = self.w[:, None]
        px, py = x @ P.T, y @ P.T
        r1 = w * (px[self.i] - y[self.c])
        r2 = w * (py[self.c] - x[self.i])
        Rx = torch.zeros_like(x).index_add_(0, self.i, r1)
        Ry = torch.zeros_like(y).index_add_(0, self.c, r2)
        gP = (Rx.T @ x + Ry.T @ y) / self.M
        self.x = x - (self.hx / self.M) * (Rx @ P)
        self.y = y - (self.hy / self.M) * (Ry @ P)
        self.P = P - self.hP * gP


class TorchSiamSGPrealloc(TorchSiamSG):
    """The hand-written step with PyTorch's fast paths: index_select into
    buffers allocated once instead of advanced indexing, in-place arithmetic,
    addmm_ for the products: a stronger peer than the two above."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        torch = self.torch
        n_obs, d = self.i.shape[0], self.x.shape[1]
        self.w1 = self.w[:, None].contiguous()
        self.px = torch.empty_like(self.x)
        self.py = torch.empty_like(self.y)
        self.r1 = torch.empty(n_obs, d, dtype=self.x.dtype)
        self.r2 = torch.empty_like(self.r1)
        self.tmp = torch.empty_like(self.r1)
        self.Rx = torch.empty_like(self.x)
        self.Ry = torch.empty_like(self.y)
        self.gP = torch.empty_like(self.P)
        self.ux = torch.empty_like(self.x)
        self.uy = torch.empty_like(self.y)
        self.hx_ = self.hx / self.M
        self.hy_ = self.hy / self.M

    def step(self):
        torch = self.torch
        x, y, P = self.x, self.y, self.P
        torch.mm(x, P.T, out=self.px)
        torch.mm(y, P.T, out=self.py)
        torch.index_select(self.px, 0, self.i, out=self.r1)
        torch.index_select(y, 0, self.c, out=self.tmp)
        self.r1.sub_(self.tmp).mul_(self.w1)                       # A (P x_i - y_c)
        torch.index_select(self.py, 0, self.c, out=self.r2)
        torch.index_select(x, 0, self.i, out=self.tmp)
        self.r2.sub_(self.tmp).mul_(self.w1)                       # A (P y_c - x_i)
        self.Rx.zero_().index_add_(0, self.i, self.r1)
        self.Ry.zero_().index_add_(0, self.c, self.r2)
        torch.mm(self.Rx.T, x, out=self.gP)
        self.gP.addmm_(self.Ry.T, y)
        torch.mm(self.Rx, P, out=self.ux)
        torch.mm(self.Ry, P, out=self.uy)
        x.addcmul_(self.hx_, self.ux, value=-1.0)
        y.addcmul_(self.hy_, self.uy, value=-1.0)
        P.add_(self.gP, alpha=-self.hP / self.M)


class TorchMetrics:
    """The metrics of one state (docs/model.md section 2: loss, accuracy,
    accuracy_frustrated, margin, within_class_spread, min/mean label distance)
    as a researcher would compute them in PyTorch: squared distances to every
    label by torch.cdist (its matrix-product path) in chunks of samples, the
    two nearest by topk, a tie (equal nearest distances) counted as wrong."""

    def __init__(self, i, c, count, N, K, dtype="float64", chunk=1 << 16):
        import torch
        self.torch = torch
        self.dt = getattr(torch, dtype)
        self.N, self.K, self.chunk = N, K, chunk
        self.i = torch.from_numpy(i)
        self.c = torch.from_numpy(c)
        self.w = torch.from_numpy(count).to(self.dt)
        self.M = float(count.sum())
        n_lab = np.bincount(i, minlength=N)
        clean = n_lab == 1
        own = np.full(N, -1, dtype=np.int64)
        own[i[clean[i]]] = c[clean[i]]
        self.own = torch.from_numpy(own)
        self.clean = torch.from_numpy(clean)
        fr = np.flatnonzero(~clean)
        self.fr = torch.from_numpy(fr)
        seen = np.zeros((fr.size, K), dtype=bool)  # observed labels of the frustrated samples
        pos = np.full(N, -1, dtype=np.int64)
        pos[fr] = np.arange(fr.size)
        m = ~clean[i]
        seen[pos[i[m]], c[m]] = True
        self.seen = torch.from_numpy(seen)
        self.fr_pos = torch.from_numpy(pos)

    def compute(self, x_np, y_np, d0):
        torch = self.torch
        x = torch.from_numpy(x_np).to(self.dt)
        y = torch.from_numpy(y_np).to(self.dt)
        correct = correct_f = 0
        margin = spread = 0.0
        for a in range(0, self.N, self.chunk):
            b = min(a + self.chunk, self.N)
            d2 = torch.cdist(x[a:b], y, compute_mode="use_mm_for_euclid_dist").pow_(2)
            top = d2.topk(2, dim=1, largest=False)
            near, strict = top.indices[:, 0], top.values[:, 1] > top.values[:, 0]
            own, cl = self.own[a:b], self.clean[a:b]
            rows = torch.arange(b - a)
            oc = own.clamp(min=0)
            d_own = d2[rows, oc]
            correct += int(((near == own) & strict & cl).sum())
            other = d2.scatter(1, oc[:, None], float("inf")).min(dim=1).values
            margin += float(((other.sqrt() - d_own.sqrt()) * cl).sum())
            spread += float((d_own * cl).sum())
            f = ~cl
            if f.any():
                p = self.fr_pos[a:b][f]
                correct_f += int((self.seen[p, near[f]] & strict[f]).sum())
        loss = 0.0
        for a in range(0, self.i.shape[0], self.chunk):
            b = min(a + self.chunk, self.i.shape[0])
            r = x[self.i[a:b]] - y[self.c[a:b]]
            loss += float((self.w[a:b] * (r * r).sum(dim=1)).sum())
        ld = torch.pdist(y)
        n_clean = int(self.clean.sum())
        n_fr = self.N - n_clean
        return {"loss": loss / (2 * self.M), "accuracy": correct / n_clean if n_clean else None,
                "accuracy_frustrated": correct_f / n_fr if n_fr else None,
                "margin": margin / n_clean / d0 if n_clean else None,
                "within_class_spread": spread / n_clean if n_clean else None,
                "min_label_distance": float(ld.min()), "mean_label_distance": float(ld.mean())}
