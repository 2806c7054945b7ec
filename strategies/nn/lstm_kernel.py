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
seed k gives the same bits alone or among others. The state (parameters, the
optimizer's moments, the ring of kept steps) is numpy arrays that
:class:`~strategies.nn.numba_day_step.NumbaDayStep` owns; nothing here imports torch.

Layout (as in ``BatchedLSTM``): per seed one flat float32 row of parameters; layer
l has ``W_l`` ((I_l + H) x 4H, input rows then hidden rows, gates [i, f, o, g])
then ``b_l`` (4H); the head ``w`` (H) and ``b`` (1). Steps kept for BPTT sit in a
ring of K slots (``bptt`` for the stateful model, ``window`` for the stateless).

Arguments, as vectorbt's ``nb`` modules pass them: arrays grouped in named tuples
(:class:`Net` the layout, :class:`Cache` the ring of kept steps,
:class:`OptimizerState`, :class:`Work` the learning step's scratch) and the options
as codes of :class:`~strategies.nn.losses.LossKind`, :class:`GradMode`,
:class:`OptimizerKind` (:class:`Training`). The loss derivative is
:func:`strategies.nn.loss_kernels.derivative_f32` (the torch formulas' twin).
:class:`~strategies.nn.numba_day_step.NumbaDayStep` is the
:class:`~strategies.nn.day_step.LstmDayStep` over them.

Compiled functions are cached on disk (``cache=True``: next to this file, or in
the user's cache dir when that is not writable, or ``NUMBA_CACHE_DIR``); the
first use on a machine compiles for some seconds (about 5.5 s CPU, measured with
``benchmarks/cold_start.py --by-function``). What keeps that short: no
array-to-array slice assignment (numba compiles a shape-mismatch message with
str/repr/join for each), no allocation inside the kernels (``np.empty``/``np.zeros``
compile per array kind; the scratch is allocated once by ``NumbaDayStep``),
one specialization per helper, no Python wrapper for helpers called only from
compiled code. numba keys a cached kernel by its own file only (its time and size),
so the other files compiled into these kernels are pinned in :data:`COMPILED_IN` by
digest (a test checks them): an edit there must update its digest here, which
changes this file and so makes numba compile again instead of loading a stale kernel.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from strategies.nn.compiled import jit as _jit, jit_inline as _jit_inline, jit_inner as _jit_inner
from strategies.nn.loss_kernels import LossKind, derivative_f32

# SHA-256 (first 16 hex digits) of the other sources compiled into these kernels: see the module docstring
COMPILED_IN = {
    "strategies/nn/loss_kernels.py": "b31f58e316103a77",
    "strategies/nn/compiled.py": "73ee99b335f0a827",
}


class GradMode(IntEnum):
    """The gradient modes of :mod:`strategies.nn.gradients` (``GradMode[name.upper()]``)."""

    NONE = 0
    SCALE = 1
    CLIP = 2


class OptimizerKind(IntEnum):
    """The optimizers the kernel implements (``OptimizerKind[name.upper()]``)."""

    ADAM = 0
    RMSPROP = 1


class Net(NamedTuple):
    """Where a seed row's parameters sit: ``layout[l]`` = (offset of W_l, offset of b_l, I_l) (int64,
    (L, 3)), ``head`` = (offset of w, offset of b) (int64, (2,)); ``width`` H (hidden units incl.
    padding, a multiple of 32); ``phi`` the activation's scale (float32: 1 for tanh)."""

    layout: np.ndarray
    head: np.ndarray
    width: int
    phi: np.float32


class Cache(NamedTuple):
    """The ring of K kept steps' activations, slot k = step modulo K (float32): inputs ``xc`` (K, B,
    I0); per layer ``hp``/``cp`` (previous h, c), ``cd`` (candidate), ``ac`` (act(c)), ``ho`` (new h),
    all (K, L, S, B, H); ``sg`` the sigmoid gates [i, f, o] (K, L, S, B, 3H); outputs ``yo`` (K, S, B)."""

    xc: np.ndarray
    hp: np.ndarray
    cp: np.ndarray
    sg: np.ndarray
    cd: np.ndarray
    ac: np.ndarray
    ho: np.ndarray
    yo: np.ndarray


class Training(NamedTuple):
    """The learning step's options: the loss, the gradient mode with its norm ``norm_c`` (float32),
    and the optimizer. The kinds travel as plain ints (``int(LossKind.MSE)``): numba types an
    IntEnum argument in Python, ~100 us a call (measured), more than a day step of one ticker;
    the kernels compare them with the enums' members (compile-time constants)."""

    loss: int  # a LossKind
    mode: int  # a GradMode
    norm_c: np.float32
    optimizer: int  # an OptimizerKind

    @classmethod
    def of(cls, loss: LossKind, mode: GradMode, norm_c: float, optimizer: OptimizerKind) -> Training:
        """The options as the kernels take them."""
        return cls(int(loss), int(mode), np.float32(norm_c), int(optimizer))


class OptimizerState(NamedTuple):
    """Per-element optimizer state (S, P) float32 and this step's hyper-parameters (float32): Adam:
    ``state1``/``state2`` = exp_avg/exp_avg_sq, ``hyper`` = (step_size, 1 - beta1, beta2, 1 - beta2,
    1 / sqrt(bias_correction2), eps); RMSprop: ``state1`` = ``state2`` = square_avg, ``hyper`` =
    (lr, alpha, 1 - alpha, eps)."""

    state1: np.ndarray
    state2: np.ndarray
    hyper: np.ndarray


class Work(NamedTuple):
    """Scratch of :func:`learn_step` (see :func:`_backward`), allocated once by :func:`new_work`:
    each call writes every element it reads first (no allocation in the kernels: numba compiles
    ``np.empty``/``np.zeros`` once per array kind, ~0.8 s CPU on a fresh install, measured)."""

    dzs: np.ndarray  # (L, K * B, 4H) pre-activation errors per (step, ticker)
    ins: np.ndarray  # (L, K * B, max(I0, H) + H) the matching [input, h_prev]
    count: np.ndarray  # (L,) int64 rows of dzs/ins filled
    dy: np.ndarray  # (B,) loss derivative w.r.t. the newest outputs
    tops: np.ndarray  # (B, H) the newest top hidden states
    above: np.ndarray  # (B, H) error flowing into a layer from above
    below: np.ndarray  # (B, H) error flowing into the layer below
    dh_next: np.ndarray  # (L, B, H) error into the previous step's h
    dc_next: np.ndarray  # (L, B, H) error into the previous step's c
    has_next: np.ndarray  # (L,) bool
    dz: np.ndarray  # (4H,)
    dh: np.ndarray  # (H,)
    g_row: np.ndarray  # (4H,) one weight row's gradient
    g_head: np.ndarray  # (H + 1,) the head's gradient


F0 = np.float32(0.0)
F1 = np.float32(1.0)
F2 = np.float32(2.0)


# odd Taylor coefficients of tanh up to x^13: below |x| = 0.4 the next term is < 4e-9 relative
_T3, _T5, _T7 = np.float32(-1 / 3), np.float32(2 / 15), np.float32(-17 / 315)
_T9, _T11, _T13 = np.float32(62 / 2835), np.float32(-1382 / 155925), np.float32(21844 / 6081075)
_T_SMALL = np.float32(0.4)


@_jit_inner
def _tanh(x: np.float32) -> np.float32:
    """float32 tanh within 2.1 ulp (libm's tanhf: 2.0 ulp, measured), 4x faster than tanhf:
    a polynomial for |x| < 0.4, else (1 - e) / (1 + e) with e = exp(-2|x|) (no cancellation there)."""
    ax = abs(x)
    if ax < _T_SMALL:
        x2 = x * x
        return x + x * (x2 * (_T3 + x2 * (_T5 + x2 * (_T7 + x2 * (_T9 + x2 * (_T11 + x2 * _T13))))))
    e = np.float32(math.exp(-F2 * ax))
    t = (F1 - e) / (F1 + e)
    return t if x >= F0 else -t


@_jit_inner
def _act(z: np.float32, phi: np.float32) -> np.float32:
    return _tanh(z) * phi


@_jit_inner
def _dot(p: np.ndarray, off: int, v: np.ndarray, n: int) -> np.float32:
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


@_jit_inline
def _cell_step(
    p: np.ndarray,
    net: Net,
    xs: np.ndarray,
    t: int,
    k: int,
    layer: int,
    s: int,
    b: int,
    h: np.ndarray,
    c: np.ndarray,
    z: np.ndarray,
    cache: Cache,
) -> None:
    """One LSTM cell of :func:`forward_steps`: layer ``layer``, seed row ``s``, ticker ``b`` at step
    ``t`` (ring slot ``k``); its input is ``xs[t, b]`` (layer 0) or the layer below's new hidden
    state. Updates h, c in place and keeps the activations in slot ``k``; ``z`` (4H) is scratch."""
    layout, width, phi = net.layout, net.width, net.phi
    hp, cp, sg, cd, ac, ho = cache.hp, cache.cp, cache.sg, cache.cd, cache.ac, cache.ho
    g4 = 4 * width
    w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
    # element loops, never ``a[...] = b`` between arrays in these kernels: numba compiles a
    # shape-mismatch message (str/repr/join, ~3 s CPU on a fresh install, measured) for each
    for j in range(g4):
        z[j] = p[b_off + j]
    # 1-D rows of this (layer, seed, ticker): one index each below (less code to compile)
    h_r, c_r = h[layer, s, b], c[layer, s, b]
    sg_r, ho_r = sg[k, layer, s, b], ho[k, layer, s, b]
    x_r = xs[t, b] if layer == 0 else ho[k, layer - 1, s, b]
    for i in range(n_in):
        xi = x_r[i]
        w_row = p[w_off + i * g4 : w_off + (i + 1) * g4]
        for j in range(g4):
            z[j] += xi * w_row[j]
    hp_r, cp_r = hp[k, layer, s, b], cp[k, layer, s, b]
    for i in range(width):
        hp_r[i] = h_r[i]
        cp_r[i] = c_r[i]
    # four hidden rows per pass over z (width is a multiple of 32): a quarter
    # of the loads and stores of z
    for i in range(0, width, 4):
        h0, h1 = h_r[i], h_r[i + 1]
        h2, h3 = h_r[i + 2], h_r[i + 3]
        row = w_off + (n_in + i) * g4
        w0 = p[row : row + g4]
        w1 = p[row + g4 : row + 2 * g4]
        w2 = p[row + 2 * g4 : row + 3 * g4]
        w3 = p[row + 3 * g4 : row + 4 * g4]
        for j in range(g4):
            z[j] += (h0 * w0[j] + h1 * w1[j]) + (h2 * w2[j] + h3 * w3[j])
    for j in range(3 * width):
        sg_r[j] = F1 / (F1 + np.float32(math.exp(-z[j])))
    cd_r, ac_r = cd[k, layer, s, b], ac[k, layer, s, b]
    for i in range(width):
        cand = _act(z[3 * width + i], phi)
        c_new = sg_r[width + i] * c_r[i] + sg_r[i] * cand
        act_c = _act(c_new, phi)
        h_new = sg_r[2 * width + i] * act_c
        cd_r[i] = cand
        ac_r[i] = act_c
        ho_r[i] = h_new
        h_r[i] = h_new
        c_r[i] = c_new


@_jit
def forward_steps(
    params: np.ndarray,
    net: Net,
    xs: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    slot0: int,
    cache: Cache,
    z: np.ndarray,
) -> None:
    """Run the steps ``xs`` (T, B, I0) for every seed row of ``params`` (S, P); h, c (L, S, B, H) are
    updated in place. Step t's activations go to ring slot (slot0 + t) % K of ``cache``; ``z``
    (4H float32) is scratch."""
    head, width = net.head, net.width
    xc, ho, yo = cache.xc, cache.ho, cache.yo
    steps, batch = xs.shape[0], xs.shape[1]
    n_layers, n_rows = h.shape[0], h.shape[1]
    ring = xc.shape[0]
    for t in range(steps):
        k = (slot0 + t) % ring
        for b in range(batch):
            for i in range(xs.shape[2]):
                xc[k, b, i] = xs[t, b, i]
        for s in range(n_rows):
            p = params[s]
            for b in range(batch):
                for layer in range(n_layers):
                    _cell_step(p, net, xs, t, k, layer, s, b, h, c, z, cache)
                y = p[head[1]]
                acc = F0
                for i in range(width):
                    acc += ho[k, n_layers - 1, s, b, i] * p[head[0] + i]
                yo[k, s, b] = y + acc


@_jit_inner
def _dot64(x: np.ndarray, y: np.ndarray) -> float:
    """sum x[i] * y[i] in float64, in 4 fixed partial sums (one running sum is latency-bound)."""
    s0 = s1 = s2 = s3 = 0.0
    n = x.shape[0] - x.shape[0] % 4
    for i in range(0, n, 4):
        s0 += np.float64(x[i]) * np.float64(y[i])
        s1 += np.float64(x[i + 1]) * np.float64(y[i + 1])
        s2 += np.float64(x[i + 2]) * np.float64(y[i + 2])
        s3 += np.float64(x[i + 3]) * np.float64(y[i + 3])
    for i in range(n, x.shape[0]):
        s0 += np.float64(x[i]) * np.float64(y[i])
    return (s0 + s1) + (s2 + s3)


@_jit_inner
def _gram_norm_sq(a: np.ndarray, d: np.ndarray, n: int) -> float:
    """||sum_k outer(a_k, d_k)||^2 + ||sum_k d_k||^2 (a weight block and its bias), k < n, in
    float64 from dot products: sum_kl (a_k . a_l + 1)(d_k . d_l), without forming the sums."""
    total = 0.0
    for k in range(n):
        for m in range(k, n):
            aa = 1.0 + _dot64(a[k], a[m])
            dd = _dot64(d[k], d[m])
            total += aa * dd if m == k else 2.0 * aa * dd
    return total


@_jit_inner
def _update(
    p: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    off: int,
    g: np.ndarray,
    a: np.float32,
    factor: np.float32,
    optimizer: int,
    hyper: np.ndarray,
) -> None:
    """Optimizer step on params p[off : off + len(g)] with gradient ``(a * g) * factor`` (see
    learn_step; ``a`` is an input for a one-term outer product, else 1: exact either way)."""
    n = g.shape[0]
    ps = p[off : off + n]
    ms = m[off : off + n]
    if optimizer == OptimizerKind.ADAM:
        vs = v[off : off + n]
        step_size, c1, beta2, c2, inv_bc2_sqrt, eps = (
            hyper[0],
            hyper[1],
            hyper[2],
            hyper[3],
            hyper[4],
            hyper[5],
        )
        for j in range(n):
            gj = (a * g[j]) * factor
            mj = ms[j] + c1 * (gj - ms[j])  # torch's lerp(exp_avg, grad, 1 - beta1)
            vj = vs[j] * beta2 + c2 * gj * gj
            ms[j] = mj
            vs[j] = vj
            # torch divides by sqrt(bias_correction2); one division less (throughput-bound loop)
            ps[j] = ps[j] - (step_size * mj) / (np.float32(math.sqrt(vj)) * inv_bc2_sqrt + eps)
    else:
        lr, alpha, c2, eps = hyper[0], hyper[1], hyper[2], hyper[3]
        for j in range(n):
            gj = (a * g[j]) * factor
            mj = ms[j] * alpha + c2 * gj * gj
            ms[j] = mj
            ps[j] = ps[j] - lr * gj / (np.float32(math.sqrt(mj)) + eps)


@_jit_inline
def _output_error(
    p: np.ndarray,
    net: Net,
    newest: int,
    s: int,
    cache: Cache,
    target: np.ndarray,
    known: np.ndarray,
    nk: np.float32,
    loss: int,
    work: Work,
) -> None:
    """Seed row ``s``: the loss derivative w.r.t. the newest outputs into ``work.dy`` (B,), the top
    hidden states into ``work.tops`` (B, H), and the error into the top hidden state into ``work.above``."""
    head, width = net.head, net.width
    ho, yo = cache.ho, cache.yo
    dy, tops, above = work.dy, work.tops, work.above
    n_layers = ho.shape[1]
    for b in range(target.shape[0]):
        e = yo[newest, s, b] - target[b]
        dy[b] = derivative_f32(e, loss) * known[b] / nk
        for i in range(width):
            tops[b, i] = ho[newest, n_layers - 1, s, b, i]
            above[b, i] = dy[b] * p[head[0] + i]


@_jit_inline
def _backward(p: np.ndarray, net: Net, newest: int, n_steps: int, s: int, cache: Cache, work: Work) -> None:
    """Seed row ``s``: BPTT of the error ``work.above`` (B, H) at the top of the newest kept step
    through the last ``n_steps`` ring slots, newest first. Each layer's pre-activation errors dz go
    to ``work.dzs[layer, :count[layer]]`` (4H each), the matching [input, h_prev] rows to
    ``work.ins`` (the rest of ``work``: scratch)."""
    layout, width, phi = net.layout, net.width, net.phi
    xc, hp, cp, sg, cd, ac, ho = cache.xc, cache.hp, cache.cp, cache.sg, cache.cd, cache.ac, cache.ho
    above, below, dzs, ins, count = work.above, work.below, work.dzs, work.ins, work.count
    dh_next, dc_next, has_next, dz, dh = work.dh_next, work.dc_next, work.has_next, work.dz, work.dh
    n_layers = hp.shape[1]
    batch = above.shape[0]
    ring = xc.shape[0]
    g4 = 4 * width
    act_phi = phi
    neg_inv_phi = np.float32(-1.0 / phi)
    has_next[:] = False
    count[:] = 0
    for step in range(n_steps):
        k = (newest - step) % ring
        last = step == n_steps - 1
        has_above = step == 0
        for layer in range(n_layers - 1, -1, -1):
            if not has_above and not has_next[layer]:
                continue  # nothing flows into this layer at this step
            w_off, n_in = layout[layer, 0], layout[layer, 2]
            for b in range(batch):
                # 1-D rows of this (layer, seed, ticker): one index each below (less code to compile)
                above_b, dhn_b, dcn_b = above[b], dh_next[layer, b], dc_next[layer, b]
                sg_r, ac_r, cd_r, cp_r = (
                    sg[k, layer, s, b],
                    ac[k, layer, s, b],
                    cd[k, layer, s, b],
                    cp[k, layer, s, b],
                )
                for i in range(width):
                    if has_above and has_next[layer]:
                        dh[i] = above_b[i] + dhn_b[i]
                    elif has_above:
                        dh[i] = above_b[i]
                    else:
                        dh[i] = dhn_b[i]
                for i in range(width):
                    i_g = sg_r[i]
                    f_g = sg_r[width + i]
                    o_g = sg_r[2 * width + i]
                    a_c = ac_r[i]
                    cand = cd_r[i]
                    dc = dh[i] * o_g * (act_phi + neg_inv_phi * (a_c * a_c))
                    if has_next[layer]:
                        dc += dcn_b[i]
                    dz[i] = dc * cand * (i_g * (F1 - i_g))
                    dz[width + i] = dc * cp_r[i] * (f_g * (F1 - f_g))
                    dz[2 * width + i] = dh[i] * a_c * (o_g * (F1 - o_g))
                    dz[3 * width + i] = dc * i_g * (act_phi + neg_inv_phi * (cand * cand))
                    dcn_b[i] = dc * f_g
                n = count[layer]
                dzs_r, ins_r = dzs[layer, n], ins[layer, n]
                for j in range(g4):
                    dzs_r[j] = dz[j]
                x_r = xc[k, b] if layer == 0 else ho[k, layer - 1, s, b]
                for i in range(n_in):
                    ins_r[i] = x_r[i]
                hp_r = hp[k, layer, s, b]
                for i in range(width):
                    ins_r[n_in + i] = hp_r[i]
                count[layer] = n + 1
                # error into the previous step's hidden state and the layer below
                if not last:
                    for i in range(width):
                        dhn_b[i] = _dot(p, w_off + (n_in + i) * g4, dz, g4)
                if layer > 0:
                    below_b = below[b]
                    for i in range(n_in):
                        below_b[i] = _dot(p, w_off + i * g4, dz, g4)
            has_next[layer] = not last
            if layer > 0:
                above, below = below, above
                has_above = True
            else:
                has_above = False


@_jit_inline
def _gradient_norm(net: Net, work: Work) -> float:
    """One seed row's raw gradient norm (float64), from the kept errors and inputs of
    :func:`_backward` and the head's (``tops``, ``dy``), without forming the gradient."""
    layout, width = net.layout, net.width
    tops, dy, dzs, ins, count = work.tops, work.dy, work.dzs, work.ins, work.count
    batch = dy.shape[0]
    # tops as a strided view, like the ins blocks below: one specialization of _gram_norm_sq
    sq = _gram_norm_sq(tops[:, :width], dy.reshape(batch, 1), batch)
    for layer in range(layout.shape[0]):
        n_in = layout[layer, 2]
        sq += _gram_norm_sq(ins[layer, :, : n_in + width], dzs[layer], count[layer])
    return math.sqrt(sq)


@_jit_inline
def _mode_factor(norm: float, mode: int, norm_c: np.float32) -> np.float32:
    """What the gradient mode multiplies a seed row's gradient by (none 1, scale c / norm,
    clip min(c / norm, 1)), from its raw ``norm``."""
    factor = F1  # g * 1 is g exactly: mode none needs no branch in the updates
    if mode != GradMode.NONE:
        floored = max(np.float32(norm), np.float32(1e-12))
        factor = norm_c / floored
        if mode == GradMode.CLIP:
            factor = min(factor, F1)
    return factor


@_jit_inline
def _optimizer_step(
    p: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    net: Net,
    work: Work,
    factor: np.float32,
    optimizer: int,
    hyper: np.ndarray,
) -> None:
    """One seed row's optimizer step (see :func:`_update`), weight row by weight row: each row's
    gradient (a sum of outer products of the kept inputs and errors) is formed just before its
    update, times ``factor`` (``work.g_row`` (4H), ``work.g_head`` (H + 1): scratch)."""
    layout, head, width = net.layout, net.head, net.width
    tops, dy, dzs, ins, count = work.tops, work.dy, work.dzs, work.ins, work.count
    g_row, g_head = work.g_row, work.g_head
    g4 = 4 * width
    batch = dy.shape[0]
    for layer in range(layout.shape[0]):
        w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
        n = count[layer]
        if n == 0:  # no error reached this layer: a zero gradient still moves Adam's moments
            g_row[:] = F0
            for i in range(n_in + width):
                _update(p, m, v, w_off + i * g4, g_row, F1, factor, optimizer, hyper)
            _update(p, m, v, b_off, g_row, F1, factor, optimizer, hyper)
            continue
        for i in range(n_in + width):
            a0 = ins[layer, 0, i]
            d0 = dzs[layer, 0]
            if n == 1:  # the row's gradient a0 * d0 is formed inside the update
                _update(p, m, v, w_off + i * g4, d0, a0, factor, optimizer, hyper)
                continue
            for j in range(g4):
                g_row[j] = a0 * d0[j]
            for r in range(1, n):
                ar = ins[layer, r, i]
                dr = dzs[layer, r]
                for j in range(g4):
                    g_row[j] += ar * dr[j]
            _update(p, m, v, w_off + i * g4, g_row, F1, factor, optimizer, hyper)
        for j in range(g4):
            g_row[j] = dzs[layer, 0, j]
        for r in range(1, n):
            dr = dzs[layer, r]
            for j in range(g4):
                g_row[j] += dr[j]
        _update(p, m, v, b_off, g_row, F1, factor, optimizer, hyper)
    for i in range(width):
        acc = F0
        for b in range(batch):
            acc += tops[b, i] * dy[b]
        g_head[i] = acc
    gb = F0
    for b in range(batch):
        gb += dy[b]
    g_head[width] = gb
    _update(p, m, v, head[0], g_head, F1, factor, optimizer, hyper)


@_jit
def learn_step(
    params: np.ndarray,
    net: Net,
    cache: Cache,
    newest: int,
    n_steps: int,
    target: np.ndarray,
    known: np.ndarray,
    n_known: int,
    training: Training,
    state: OptimizerState,
    norms: np.ndarray,
    work: Work,
) -> None:
    """One learning step for every seed row of ``params`` (S, P).

    The error of the newest kept step's outputs ``cache.yo[newest]`` against
    ``target`` (B,) (where ``known`` (B,) is 1; the loss is the mean over the
    ``n_known`` known tickers) flows back through the last ``n_steps`` ring
    slots, newest first. Then the gradient mode (per seed row) and one optimizer
    step (``training``, ``state``). ``norms`` (S,) receives each row's raw
    gradient norm (before the gradient mode). ``work``: scratch (:func:`new_work`).

    The gradient is never stored whole: the backward pass keeps each layer's
    pre-activation errors dz and inputs per (step, ticker); the norm for the
    gradient mode comes from their dot products, and each weight row's gradient
    is formed in a small buffer just before its optimizer update (one pass over
    the parameters instead of four).
    """
    n_rows = cache.hp.shape[2]
    nk = np.float32(n_known)
    for s in range(n_rows):
        p = params[s]
        _output_error(p, net, newest, s, cache, target, known, nk, training.loss, work)
        _backward(p, net, newest, n_steps, s, cache, work)
        norms[s] = _gradient_norm(net, work)
        factor = _mode_factor(norms[s], training.mode, training.norm_c)
        _optimizer_step(
            p, state.state1[s], state.state2[s], net, work, factor, training.optimizer, state.hyper
        )


def new_work(ring: int, layers: int, batch: int, width: int, n_in: int) -> Work:
    """:func:`learn_step`'s scratch for a ring of ``ring`` steps, ``batch`` tickers, ``width`` hidden
    units, ``n_in`` inputs (see :class:`Work`)."""
    g4, n_max, in_max = 4 * width, ring * batch, max(n_in, width) + width
    f32 = np.float32
    return Work(
        np.zeros((layers, n_max, g4), f32),
        np.zeros((layers, n_max, in_max), f32),
        np.zeros(layers, np.int64),
        np.zeros(batch, f32),
        np.zeros((batch, width), f32),
        np.zeros((batch, width), f32),
        np.zeros((batch, width), f32),
        np.zeros((layers, batch, width), f32),
        np.zeros((layers, batch, width), f32),
        np.zeros(layers, np.bool_),
        np.zeros(g4, f32),
        np.zeros(width, f32),
        np.zeros(g4, f32),
        np.zeros(width + 1, f32),
    )


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the two kernels a run calls, on tiny arrays.

    The argument types are those ``NumbaDayStep`` passes (C-contiguous float32
    arrays, int64 layouts, float32 scalars, Python ints, the enums), so the run's
    first call finds the one specialization ready. Safe in a background thread
    (numba holds its compiler lock); touches no state outside its own arrays.
    """
    width, n_in, rows, batch, ring, layers = 1, 1, 1, 1, 1, 1
    w_size = (n_in + width) * 4 * width
    n_params = w_size + 4 * width + width + 1
    params = np.zeros((rows, n_params), np.float32)
    net = Net(
        np.array([(0, w_size, n_in)], dtype=np.int64),
        np.array([w_size + 4 * width, w_size + 4 * width + width], dtype=np.int64),
        width,
        np.float32(1.0),
    )
    cache = _new_cache(ring, layers, rows, batch, width, n_in)
    h, c = (np.zeros((layers, rows, batch, width), np.float32) for _ in range(2))
    xs, z = np.zeros((1, batch, n_in), np.float32), np.zeros(4 * width, np.float32)
    forward_steps(params, net, xs, h, c, 0, cache, z)
    state = OptimizerState(np.zeros_like(params), np.zeros_like(params), np.zeros(6, np.float32))
    training = Training.of(LossKind.MSE, GradMode.NONE, 1.0, OptimizerKind.ADAM)
    target, known = np.zeros(batch, np.float32), np.ones(batch, np.float32)
    work = new_work(ring, layers, batch, width, n_in)
    learn_step(params, net, cache, 0, 1, target, known, 1, training, state, np.zeros(rows), work)


def _new_cache(ring: int, layers: int, rows: int, batch: int, width: int, n_in: int) -> Cache:
    """A ring of ``ring`` kept steps, zeros (see :class:`Cache`)."""
    shape = (ring, layers, rows, batch, width)
    return Cache(
        np.zeros((ring, batch, n_in), np.float32),
        np.zeros(shape, np.float32),
        np.zeros(shape, np.float32),
        np.zeros((*shape[:-1], 3 * width), np.float32),
        np.zeros(shape, np.float32),
        np.zeros(shape, np.float32),
        np.zeros(shape, np.float32),
        np.zeros((ring, rows, batch), np.float32),
    )


def supported(options: dict[str, Any]) -> str | None:
    """None when the compiled path implements these training options, else the reason it does not.

    ``options``: the strategy's parameters as a dict; only ``optimizer``, ``loss``
    and ``grad_mode`` are checked here (the strategy checks that the fields this
    path does not know are at their defaults)."""
    for field, kind in (("optimizer", OptimizerKind), ("loss", LossKind), ("grad_mode", GradMode)):
        value = options.get(field)
        if not isinstance(value, str) or value.upper() not in kind.__members__:
            return f"{field} {value!r}"
    return None
