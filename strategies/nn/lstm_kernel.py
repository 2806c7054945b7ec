"""The online LSTM's day step compiled with numba: forward, BPTT(h), gradient mode, optimizer.

Why: :class:`~strategies.nn.batched_lstm.BatchedLSTM` in torch spends ~1 ms a day
on ten seeds, nearly all of it per-operation dispatch (hundreds of tiny torch
calls); the arithmetic for one ticker is about 1 MFLOP a day. Here one compiled
call runs a day's forward pass for every seed and one runs the whole learning
step (loss derivative, hand-written backward through the kept steps, per-seed
gradient mode, Adam or RMSprop), so Python is entered twice a day. No maintained
library does online BPTT(h) with a per-seed optimizer in one call; torch stays
the reference implementation and the tests compare the two.

Same numbers as the torch path up to float32 rounding (different summation
order; same formulas, float32 throughout, as torch on CPU); bit-identical run to
run. Every seed row is computed by the same loops whatever the other rows are, so
seed k gives the same bits alone or among others. The state lives in the arrays
of the torch path (the parameter tensor, the optimizer's moments, as numpy views
sharing memory), so checkpoints have one format for both paths.

Layout (as in ``BatchedLSTM``): per seed one flat float32 row of parameters; layer
l has ``W_l`` ((I_l + H) x 4H, input rows then hidden rows, gates [i, f, o, g])
then ``b_l`` (4H); the head ``w`` (H) and ``b`` (1). Steps kept for BPTT sit in a
ring of K slots (``bptt`` for the stateful model, ``window`` for the stateless).

Compiled functions are cached on disk (``cache=True``: next to this file, or in
the user's cache dir when that is not writable, or ``NUMBA_CACHE_DIR``); the
first use on a machine compiles for some seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

LOSS_CODES = {"mse": 0, "smooth_l1": 1, "exp_or_log": 2, "smooth_l1_or_l2": 3, "linex": 4, "huber": 5}
MODE_CODES = {"none": 0, "scale": 1, "clip": 2}
OPTIMIZER_CODES = {"adam": 0, "rmsprop": 1}
EXP_LIMIT = 20.0  # as strategies.nn.losses: exponential losses continue linearly beyond

try:
    import numba

    def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return numba.njit(cache=True, boundscheck=False, nogil=True)(fn)
        except RuntimeError:  # no writable cache location: compile on each process start
            return numba.njit(cache=False, boundscheck=False, nogil=True)(fn)

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba comes with vectorbt
    AVAILABLE = False

    def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn


F0 = np.float32(0.0)
F1 = np.float32(1.0)
F2 = np.float32(2.0)
FLIM = np.float32(EXP_LIMIT)


@_jit
def _loss_derivative(e: np.float32, code: int) -> np.float32:  # type: ignore[no-untyped-def]
    """d loss / d e for the losses of :mod:`strategies.nn.losses` (same formulas, float32)."""
    if code == 0:
        return F2 * e
    if code == 1:
        if abs(e) > F1:
            return F1 if e > F0 else -F1
        return F2 * e
    if code == 2:
        if e > F0:
            return F1 / (F1 + e)
        return -np.float32(math.exp(-max(e, -FLIM)))
    if code == 3:
        return F1 if e > F1 else F2 * e
    if code == 4:
        return -np.float32(math.exp(-max(e, -FLIM))) + F1
    return min(max(e, -F1), F1)


@_jit
def _act(z: np.float32, phi: np.float32) -> np.float32:  # type: ignore[no-untyped-def]
    return np.float32(math.tanh(z)) * phi


@_jit
def _dot(p: np.ndarray, off: int, v: np.ndarray, n: int) -> np.float32:  # type: ignore[no-untyped-def]
    """sum_j p[off + j] * v[j] over j < n (n a multiple of 8), in 8 fixed partial sums."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = F0
    for j in range(0, n, 8):
        a0 += p[off + j] * v[j]
        a1 += p[off + j + 1] * v[j + 1]
        a2 += p[off + j + 2] * v[j + 2]
        a3 += p[off + j + 3] * v[j + 3]
        a4 += p[off + j + 4] * v[j + 4]
        a5 += p[off + j + 5] * v[j + 5]
        a6 += p[off + j + 6] * v[j + 6]
        a7 += p[off + j + 7] * v[j + 7]
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


@_jit
def forward_steps(  # type: ignore[no-untyped-def]
    params, layout, head, width, phi, xs, h, c, slot0, xc, hp, cp, sg, cd, ac, ho, yo
):
    """Run the steps ``xs`` (T, B, I0) for every seed; h, c (L, S, B, H) are updated in place.

    Step t's activations go to ring slot (slot0 + t) % K of the caches
    (``xc`` (K, B, I0), ``hp``/``cp``/``cd``/``ac``/``ho`` (K, L, S, B, H),
    ``sg`` (K, L, S, B, 3H), ``yo`` (K, S, B)); ``layout[l]`` = (offset of W_l,
    offset of b_l, I_l); ``head`` = (offset of w, offset of b).
    """
    steps, batch = xs.shape[0], xs.shape[1]
    n_layers, n_rows = h.shape[0], h.shape[1]
    ring = xc.shape[0]
    g4 = 4 * width
    z = np.empty(g4, np.float32)
    for t in range(steps):
        k = (slot0 + t) % ring
        xc[k] = xs[t]
        for s in range(n_rows):
            p = params[s]
            for b in range(batch):
                for layer in range(n_layers):
                    w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
                    for j in range(g4):
                        z[j] = p[b_off + j]
                    for i in range(n_in):
                        xi = xs[t, b, i] if layer == 0 else ho[k, layer - 1, s, b, i]
                        row = w_off + i * g4
                        for j in range(g4):
                            z[j] += xi * p[row + j]
                    for i in range(width):
                        hi = h[layer, s, b, i]
                        hp[k, layer, s, b, i] = hi
                        cp[k, layer, s, b, i] = c[layer, s, b, i]
                        row = w_off + (n_in + i) * g4
                        for j in range(g4):
                            z[j] += hi * p[row + j]
                    for j in range(3 * width):
                        sg[k, layer, s, b, j] = F1 / (F1 + np.float32(math.exp(-z[j])))
                    for i in range(width):
                        cand = _act(z[3 * width + i], phi)
                        c_new = (
                            sg[k, layer, s, b, width + i] * c[layer, s, b, i] + sg[k, layer, s, b, i] * cand
                        )
                        act_c = _act(c_new, phi)
                        h_new = sg[k, layer, s, b, 2 * width + i] * act_c
                        cd[k, layer, s, b, i] = cand
                        ac[k, layer, s, b, i] = act_c
                        ho[k, layer, s, b, i] = h_new
                        h[layer, s, b, i] = h_new
                        c[layer, s, b, i] = c_new
                y = p[head[1]]
                acc = F0
                for i in range(width):
                    acc += ho[k, n_layers - 1, s, b, i] * p[head[0] + i]
                yo[k, s, b] = y + acc


@_jit
def learn_step(  # type: ignore[no-untyped-def]
    params,
    grad,
    layout,
    head,
    width,
    phi,
    newest,
    n_steps,
    xc,
    hp,
    cp,
    sg,
    cd,
    ac,
    ho,
    yo,
    target,
    known,
    n_known,
    loss_code,
    mode,
    norm_c,
    opt_code,
    state1,
    state2,
    hyper,
):
    """One learning step for every seed row.

    The error of the newest kept step's outputs ``yo[newest]`` against ``target``
    (B,) (where ``known`` (B,) is 1; the loss is the mean over the ``n_known``
    known tickers) flows back through the last ``n_steps`` ring slots, newest
    first. Then the gradient mode (per seed row) and one optimizer step:
    ``opt_code`` 0 Adam (``state1``/``state2`` = exp_avg/exp_avg_sq, ``hyper`` =
    (step_size, 1 - beta1, beta2, 1 - beta2, sqrt(bias_correction2), eps)), 1
    RMSprop (``state1`` = square_avg, ``hyper`` = (lr, alpha, 1 - alpha, eps)).
    ``grad`` (S, P) holds the raw gradient afterwards (before the gradient mode).
    """
    n_layers, n_rows = hp.shape[1], hp.shape[2]
    batch = target.shape[0]
    ring = xc.shape[0]
    g4 = 4 * width
    n_params = params.shape[1]
    act_phi = phi
    neg_inv_phi = np.float32(-1.0 / phi)
    dy = np.empty(batch, np.float32)
    above = np.zeros((batch, width), np.float32)
    below = np.zeros((batch, width), np.float32)
    dh_next = np.zeros((n_layers, batch, width), np.float32)
    dc_next = np.zeros((n_layers, batch, width), np.float32)
    has_next = np.zeros(n_layers, np.bool_)
    dz = np.empty(g4, np.float32)
    dh = np.empty(width, np.float32)
    nk = np.float32(n_known)
    for s in range(n_rows):
        p = params[s]
        g = grad[s]
        for j in range(n_params):
            g[j] = F0
        has_next[:] = False
        # loss derivative w.r.t. the newest outputs, and the head
        gb = F0
        for b in range(batch):
            e = yo[newest, s, b] - target[b]
            dy[b] = _loss_derivative(e, loss_code) * known[b] / nk
            gb += dy[b]
        g[head[1]] = gb
        for i in range(width):
            acc = F0
            for b in range(batch):
                acc += ho[newest, n_layers - 1, s, b, i] * dy[b]
            g[head[0] + i] = acc
        for b in range(batch):
            for i in range(width):
                above[b, i] = dy[b] * p[head[0] + i]
        for step in range(n_steps):
            k = (newest - step) % ring
            last = step == n_steps - 1
            has_above = step == 0
            for layer in range(n_layers - 1, -1, -1):
                if not has_above and not has_next[layer]:
                    continue  # nothing flows into this layer at this step
                w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
                for b in range(batch):
                    for i in range(width):
                        if has_above and has_next[layer]:
                            dh[i] = above[b, i] + dh_next[layer, b, i]
                        elif has_above:
                            dh[i] = above[b, i]
                        else:
                            dh[i] = dh_next[layer, b, i]
                    for i in range(width):
                        i_g = sg[k, layer, s, b, i]
                        f_g = sg[k, layer, s, b, width + i]
                        o_g = sg[k, layer, s, b, 2 * width + i]
                        a_c = ac[k, layer, s, b, i]
                        cand = cd[k, layer, s, b, i]
                        dc = dh[i] * o_g * (act_phi + neg_inv_phi * (a_c * a_c))
                        if has_next[layer]:
                            dc += dc_next[layer, b, i]
                        dz[i] = dc * cand * (i_g * (F1 - i_g))
                        dz[width + i] = dc * cp[k, layer, s, b, i] * (f_g * (F1 - f_g))
                        dz[2 * width + i] = dh[i] * a_c * (o_g * (F1 - o_g))
                        dz[3 * width + i] = dc * i_g * (act_phi + neg_inv_phi * (cand * cand))
                        dc_next[layer, b, i] = dc * f_g
                    # weight and bias gradients: outer(input, dz)
                    for j in range(g4):
                        g[b_off + j] += dz[j]
                    for i in range(n_in):
                        xi = xc[k, b, i] if layer == 0 else ho[k, layer - 1, s, b, i]
                        row = w_off + i * g4
                        for j in range(g4):
                            g[row + j] += xi * dz[j]
                    for i in range(width):
                        hi = hp[k, layer, s, b, i]
                        row = w_off + (n_in + i) * g4
                        for j in range(g4):
                            g[row + j] += hi * dz[j]
                    # error into the previous step's hidden state and the layer below
                    if not last:
                        for i in range(width):
                            dh_next[layer, b, i] = _dot(p, w_off + (n_in + i) * g4, dz, g4)
                    if layer > 0:
                        for i in range(n_in):
                            below[b, i] = _dot(p, w_off + i * g4, dz, g4)
                has_next[layer] = not last
                if layer > 0:
                    above, below = below, above
                    has_above = True
                else:
                    has_above = False
        # gradient mode, then the optimizer, for this seed row
        factor = F1
        if mode != 0:
            sq = 0.0
            for j in range(n_params):
                sq += np.float64(g[j]) * np.float64(g[j])
            norm = max(np.float32(math.sqrt(sq)), np.float32(1e-12))
            factor = norm_c / norm
            if mode == 2:
                factor = min(factor, F1)
        m = state1[s]
        if opt_code == 0:
            v = state2[s]
            step_size, c1, beta2, c2, bc2_sqrt, eps = (
                hyper[0],
                hyper[1],
                hyper[2],
                hyper[3],
                hyper[4],
                hyper[5],
            )
            for j in range(n_params):
                gj = g[j] * factor if mode != 0 else g[j]
                m[j] = m[j] + c1 * (gj - m[j])
                v[j] = v[j] * beta2 + c2 * gj * gj
                p[j] = p[j] - step_size * m[j] / (np.float32(math.sqrt(v[j])) / bc2_sqrt + eps)
        else:
            lr, alpha, c2, eps = hyper[0], hyper[1], hyper[2], hyper[3]
            for j in range(n_params):
                gj = g[j] * factor if mode != 0 else g[j]
                m[j] = m[j] * alpha + c2 * gj * gj
                p[j] = p[j] - lr * gj / (np.float32(math.sqrt(m[j])) + eps)


def supported(options: dict[str, Any]) -> str | None:
    """None when the compiled path implements these training options, else the reason it does not.

    ``options``: the strategy's parameters (a dict); fields that the compiled
    path does not know must be at their defaults (passed as ``defaults``)."""
    if not AVAILABLE:
        return "numba is not installed"
    if options.get("optimizer") not in OPTIMIZER_CODES:
        return f"optimizer {options.get('optimizer')!r}"
    if options.get("loss") not in LOSS_CODES:
        return f"loss {options.get('loss')!r}"
    if options.get("grad_mode") not in MODE_CODES:
        return f"grad_mode {options.get('grad_mode')!r}"
    return None


class KernelLSTM:
    """The compiled day step over a :class:`BatchedLSTM`'s parameters and an optimizer's state.

    ``params``/``grad``: the model's (S, P) float32 tensors (numpy views: shared
    memory, so the torch objects hold the state for checkpoints); ``optimizer``:
    the :class:`~strategies.nn.optim.Adam` or ``RMSprop`` instance over them.
    ``ring``: steps kept for BPTT (``bptt`` or ``window``); ``batch``: tickers.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        optimizer_name: str,
        loss: str,
        grad_mode: str,
        grad_norm: float,
        ring: int,
        batch: int,
    ) -> None:
        self.model, self.optimizer = model, optimizer
        self.params = model.params.numpy()
        self.grad = model.grad.numpy()
        width, layers = model.width, model.n_layers
        self.width = width
        self.phi = np.float32(model.phi)
        layout, offset = [], 0
        for layer in range(layers):
            n_in = model.n_inputs if layer == 0 else width
            w_size = (n_in + width) * 4 * width
            layout.append((offset, offset + w_size, n_in))
            offset += w_size + 4 * width
        self.layout = np.array(layout, dtype=np.int64)
        self.head = np.array([offset, offset + width], dtype=np.int64)
        rows = len(model._rows)
        self.n_rows = rows
        self.loss_code = LOSS_CODES[loss]
        self.mode = MODE_CODES[grad_mode]
        self.norm_c = np.float32(grad_norm)
        self.opt_code = OPTIMIZER_CODES[optimizer_name]
        shape = (ring, layers, rows, batch, width)
        self.xc = np.zeros((ring, batch, model.n_inputs), np.float32)
        self.hp, self.cp, self.cd, self.ac, self.ho = (np.zeros(shape, np.float32) for _ in range(5))
        self.sg = np.zeros((*shape[:-1], 3 * width), np.float32)
        self.yo = np.zeros((ring, rows, batch), np.float32)
        self.ring = ring
        self.newest = -1  # ring slot of the newest kept step
        self.kept = 0  # steps kept (at most ring)

    def caches(self) -> tuple[np.ndarray, ...]:
        return (self.xc, self.hp, self.cp, self.sg, self.cd, self.ac, self.ho, self.yo)

    def forward(self, xs: np.ndarray, h: np.ndarray, c: np.ndarray, *, fresh: bool) -> np.ndarray:
        """Run steps ``xs`` (T, B, I) from states h, c (L, S, B, H; updated in place); returns the
        last step's outputs (S, B). ``fresh``: forget the kept steps first (stateless model)."""
        if fresh:
            self.newest, self.kept = -1, 0
        steps = xs.shape[0]
        slot0 = (self.newest + 1) % self.ring
        forward_steps(
            self.params, self.layout, self.head, self.width, self.phi, xs, h, c, slot0, *self.caches()
        )
        self.newest = (slot0 + steps - 1) % self.ring
        self.kept = min(self.kept + steps, self.ring)
        return self.yo[self.newest]

    def learn(self, target: np.ndarray, known: np.ndarray) -> None:
        """One step on the newest kept output against ``target`` (B,) where ``known`` (B, bool)."""
        n_known = int(known.sum())
        if self.kept == 0 or n_known == 0:
            return
        opt = self.optimizer
        if self.opt_code == 0:
            opt.steps.add_(1.0)
            step = float(opt.steps)
            beta1, beta2 = opt.betas
            bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
            hyper = np.array(
                [opt.lr / bc1, 1.0 - beta1, beta2, 1.0 - beta2, math.sqrt(bc2), opt.eps], dtype=np.float32
            )
            state1, state2 = opt.exp_avg.numpy(), opt.exp_avg_sq.numpy()
        else:
            hyper = np.array([opt.lr, opt.alpha, 1.0 - opt.alpha, opt.eps], dtype=np.float32)
            state1 = state2 = opt.square_avg.numpy()
        learn_step(
            self.params,
            self.grad,
            self.layout,
            self.head,
            self.width,
            self.phi,
            self.newest,
            self.kept,
            *self.caches(),
            np.nan_to_num(target).astype(np.float32),
            known.astype(np.float32),
            n_known,
            self.loss_code,
            self.mode,
            self.norm_c,
            self.opt_code,
            state1,
            state2,
            hyper,
        )

    # --- the kept steps as the torch path's caches (one checkpoint format) ----------------
    def kept_steps(self) -> list[Any]:
        """The kept steps, oldest first, as :class:`StepCache` objects of the torch path."""
        import torch

        from strategies.nn.batched_lstm import LayerCache, StepCache

        out = []
        rows = self.n_rows
        for back in range(self.kept - 1, -1, -1):
            k = (self.newest - back) % self.ring
            layers = []
            for layer in range(self.layout.shape[0]):
                x = (
                    np.broadcast_to(self.xc[k], (rows, *self.xc[k].shape))
                    if layer == 0
                    else self.ho[k, layer - 1]
                )
                t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731 - a copy
                layers.append(
                    LayerCache(
                        t(x),
                        t(self.hp[k, layer]),
                        t(self.sg[k, layer]),
                        t(self.cd[k, layer]),
                        t(self.cp[k, layer]),
                        t(self.ac[k, layer]),
                    )
                )
            out.append(StepCache(layers, t(self.ho[k, -1]), t(self.yo[k])))
        return out

    def load_kept_steps(self, steps: list[Any]) -> None:
        """Refill the ring from :class:`StepCache` objects, oldest first (from a checkpoint)."""
        steps = steps[-self.ring :]
        for k, step in enumerate(steps):
            self.xc[k] = step.layers[0].x[0].numpy()
            for layer, cache in enumerate(step.layers):
                self.hp[k, layer] = cache.h_prev.numpy()
                self.sg[k, layer] = cache.sig.numpy()
                self.cd[k, layer] = cache.cand.numpy()
                self.cp[k, layer] = cache.c_prev.numpy()
                self.ac[k, layer] = cache.act_c.numpy()
                self.ho[k, layer] = (
                    step.layers[layer + 1].x if layer + 1 < len(step.layers) else step.top
                ).numpy()
            self.yo[k] = step.output.numpy()
        self.kept = len(steps)
        self.newest = self.kept - 1 if steps else -1
