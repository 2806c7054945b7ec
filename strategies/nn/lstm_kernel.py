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

import numba
import numpy as np

LOSS_CODES = {"mse": 0, "smooth_l1": 1, "exp_or_log": 2, "smooth_l1_or_l2": 3, "linex": 4, "huber": 5}
MODE_CODES = {"none": 0, "scale": 1, "clip": 2}
OPTIMIZER_CODES = {"adam": 0, "rmsprop": 1}
EXP_LIMIT = 20.0  # as strategies.nn.losses: exponential losses continue linearly beyond


def _jit(fn: Callable[..., Any], inline: str = "never") -> Callable[..., Any]:
    options: dict[str, Any] = {
        "boundscheck": False,
        "nogil": True,
        "error_model": "numpy",
        "inline": inline,
    }
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:  # no writable cache location: compile on each process start
        return numba.njit(cache=False, **options)(fn)


def _jit_inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    # the named pieces of forward_steps and learn_step, inlined into them by numba: a call
    # per (seed, ticker) passing ~20 arrays cost ~5% of the day step (measured side by side)
    return _jit(fn, inline="always")


F0 = np.float32(0.0)
F1 = np.float32(1.0)
F2 = np.float32(2.0)
FLIM = np.float32(EXP_LIMIT)


@_jit
def _loss_derivative(e: np.float32, code: int) -> np.float32:
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


# odd Taylor coefficients of tanh up to x^13: below |x| = 0.4 the next term is < 4e-9 relative
_T3, _T5, _T7 = np.float32(-1 / 3), np.float32(2 / 15), np.float32(-17 / 315)
_T9, _T11, _T13 = np.float32(62 / 2835), np.float32(-1382 / 155925), np.float32(21844 / 6081075)
_T_SMALL = np.float32(0.4)


@_jit
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


@_jit
def _act(z: np.float32, phi: np.float32) -> np.float32:
    return _tanh(z) * phi


@_jit
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
    layout: np.ndarray,
    width: int,
    phi: np.float32,
    xs: np.ndarray,
    t: int,
    k: int,
    layer: int,
    s: int,
    b: int,
    h: np.ndarray,
    c: np.ndarray,
    z: np.ndarray,
    hp: np.ndarray,
    cp: np.ndarray,
    sg: np.ndarray,
    cd: np.ndarray,
    ac: np.ndarray,
    ho: np.ndarray,
) -> None:
    """One LSTM cell of :func:`forward_steps`: layer ``layer``, seed row ``s``, ticker ``b`` at step
    ``t`` (ring slot ``k``); its input is ``xs[t, b]`` (layer 0) or the layer below's new hidden
    state. Updates h, c in place and keeps the activations in slot ``k``; ``z`` (4H) is scratch."""
    g4 = 4 * width
    w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
    z[:] = p[b_off : b_off + g4]
    for i in range(n_in):
        xi = xs[t, b, i] if layer == 0 else ho[k, layer - 1, s, b, i]
        w_row = p[w_off + i * g4 : w_off + (i + 1) * g4]
        for j in range(g4):
            z[j] += xi * w_row[j]
    for i in range(width):
        hp[k, layer, s, b, i] = h[layer, s, b, i]
        cp[k, layer, s, b, i] = c[layer, s, b, i]
    # four hidden rows per pass over z (width is a multiple of 32): a quarter
    # of the loads and stores of z
    for i in range(0, width, 4):
        h0, h1 = h[layer, s, b, i], h[layer, s, b, i + 1]
        h2, h3 = h[layer, s, b, i + 2], h[layer, s, b, i + 3]
        row = w_off + (n_in + i) * g4
        w0 = p[row : row + g4]
        w1 = p[row + g4 : row + 2 * g4]
        w2 = p[row + 2 * g4 : row + 3 * g4]
        w3 = p[row + 3 * g4 : row + 4 * g4]
        for j in range(g4):
            z[j] += (h0 * w0[j] + h1 * w1[j]) + (h2 * w2[j] + h3 * w3[j])
    for j in range(3 * width):
        sg[k, layer, s, b, j] = F1 / (F1 + np.float32(math.exp(-z[j])))
    for i in range(width):
        cand = _act(z[3 * width + i], phi)
        c_new = sg[k, layer, s, b, width + i] * c[layer, s, b, i] + sg[k, layer, s, b, i] * cand
        act_c = _act(c_new, phi)
        h_new = sg[k, layer, s, b, 2 * width + i] * act_c
        cd[k, layer, s, b, i] = cand
        ac[k, layer, s, b, i] = act_c
        ho[k, layer, s, b, i] = h_new
        h[layer, s, b, i] = h_new
        c[layer, s, b, i] = c_new


@_jit
def forward_steps(
    params: np.ndarray,
    layout: np.ndarray,
    head: np.ndarray,
    width: int,
    phi: np.float32,
    xs: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    slot0: int,
    xc: np.ndarray,
    hp: np.ndarray,
    cp: np.ndarray,
    sg: np.ndarray,
    cd: np.ndarray,
    ac: np.ndarray,
    ho: np.ndarray,
    yo: np.ndarray,
) -> None:
    """Run the steps ``xs`` (T, B, I0) for every seed; h, c (L, S, B, H) are updated in place.

    Step t's activations go to ring slot (slot0 + t) % K of the caches
    (``xc`` (K, B, I0), ``hp``/``cp``/``cd``/``ac``/``ho`` (K, L, S, B, H),
    ``sg`` (K, L, S, B, 3H), ``yo`` (K, S, B)); ``layout[l]`` = (offset of W_l,
    offset of b_l, I_l); ``head`` = (offset of w, offset of b).
    """
    steps, batch = xs.shape[0], xs.shape[1]
    n_layers, n_rows = h.shape[0], h.shape[1]
    ring = xc.shape[0]
    z = np.empty(4 * width, np.float32)
    for t in range(steps):
        k = (slot0 + t) % ring
        xc[k] = xs[t]
        for s in range(n_rows):
            p = params[s]
            for b in range(batch):
                for layer in range(n_layers):
                    _cell_step(p, layout, width, phi, xs, t, k, layer, s, b, h, c, z, hp, cp, sg, cd, ac, ho)
                y = p[head[1]]
                acc = F0
                for i in range(width):
                    acc += ho[k, n_layers - 1, s, b, i] * p[head[0] + i]
                yo[k, s, b] = y + acc


@_jit
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


@_jit
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


@_jit
def _update(
    p: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    off: int,
    g: np.ndarray,
    a: np.float32,
    factor: np.float32,
    opt_code: int,
    hyper: np.ndarray,
) -> None:
    """Optimizer step on params p[off : off + len(g)] with gradient ``(a * g) * factor`` (see
    learn_step; ``a`` is an input for a one-term outer product, else 1: exact either way)."""
    n = g.shape[0]
    ps = p[off : off + n]
    ms = m[off : off + n]
    if opt_code == 0:
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
    head: np.ndarray,
    width: int,
    newest: int,
    s: int,
    ho: np.ndarray,
    yo: np.ndarray,
    target: np.ndarray,
    known: np.ndarray,
    nk: np.float32,
    loss_code: int,
    dy: np.ndarray,
    tops: np.ndarray,
    above: np.ndarray,
) -> None:
    """Seed row ``s``: the loss derivative w.r.t. the newest outputs into ``dy`` (B,), the top
    hidden states into ``tops`` (B, H), and the error into the top hidden state into ``above``."""
    n_layers = ho.shape[1]
    for b in range(target.shape[0]):
        e = yo[newest, s, b] - target[b]
        dy[b] = _loss_derivative(e, loss_code) * known[b] / nk
        for i in range(width):
            tops[b, i] = ho[newest, n_layers - 1, s, b, i]
            above[b, i] = dy[b] * p[head[0] + i]


@_jit_inline
def _backward(
    p: np.ndarray,
    layout: np.ndarray,
    width: int,
    phi: np.float32,
    newest: int,
    n_steps: int,
    s: int,
    xc: np.ndarray,
    hp: np.ndarray,
    cp: np.ndarray,
    sg: np.ndarray,
    cd: np.ndarray,
    ac: np.ndarray,
    ho: np.ndarray,
    above: np.ndarray,
    below: np.ndarray,
    dzs: np.ndarray,
    ins: np.ndarray,
    count: np.ndarray,
    dh_next: np.ndarray,
    dc_next: np.ndarray,
    has_next: np.ndarray,
    dz: np.ndarray,
    dh: np.ndarray,
) -> None:
    """Seed row ``s``: BPTT of the error ``above`` (B, H) at the top of the newest kept step through
    the last ``n_steps`` ring slots, newest first. Each layer's pre-activation errors dz go to
    ``dzs[layer, :count[layer]]`` (4H each), the matching [input, h_prev] rows to ``ins``
    (``below``, ``dh_next``/``dc_next`` (L, B, H), ``has_next`` (L,), ``dz`` (4H), ``dh`` (H):
    scratch, allocated once per call of :func:`learn_step`)."""
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
                n = count[layer]
                dzs[layer, n, :] = dz
                for i in range(n_in):
                    ins[layer, n, i] = xc[k, b, i] if layer == 0 else ho[k, layer - 1, s, b, i]
                for i in range(width):
                    ins[layer, n, n_in + i] = hp[k, layer, s, b, i]
                count[layer] = n + 1
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


@_jit_inline
def _gradient_norm(
    layout: np.ndarray,
    width: int,
    tops: np.ndarray,
    dy: np.ndarray,
    dzs: np.ndarray,
    ins: np.ndarray,
    count: np.ndarray,
) -> float:
    """One seed row's raw gradient norm (float64), from the kept errors and inputs of
    :func:`_backward` and the head's (``tops``, ``dy``), without forming the gradient."""
    batch = dy.shape[0]
    sq = _gram_norm_sq(tops, dy.reshape(batch, 1), batch)
    for layer in range(layout.shape[0]):
        n_in = layout[layer, 2]
        sq += _gram_norm_sq(ins[layer, :, : n_in + width], dzs[layer], count[layer])
    return math.sqrt(sq)


@_jit_inline
def _mode_factor(norm: float, mode: int, norm_c: np.float32) -> np.float32:
    """What the gradient mode multiplies a seed row's gradient by (``MODE_CODES``: none 1,
    scale c / norm, clip min(c / norm, 1)), from its raw ``norm``."""
    factor = F1  # g * 1 is g exactly: mode none needs no branch in the updates
    if mode != 0:
        floored = max(np.float32(norm), np.float32(1e-12))
        factor = norm_c / floored
        if mode == 2:
            factor = min(factor, F1)
    return factor


@_jit_inline
def _optimizer_step(
    p: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    layout: np.ndarray,
    head: np.ndarray,
    width: int,
    tops: np.ndarray,
    dy: np.ndarray,
    dzs: np.ndarray,
    ins: np.ndarray,
    count: np.ndarray,
    factor: np.float32,
    opt_code: int,
    hyper: np.ndarray,
    g_row: np.ndarray,
    g_head: np.ndarray,
) -> None:
    """One seed row's optimizer step (see :func:`_update`), weight row by weight row: each row's
    gradient (a sum of outer products of the kept inputs and errors) is formed just before its
    update, times ``factor`` (``g_row`` (4H), ``g_head`` (H + 1): scratch)."""
    g4 = 4 * width
    batch = dy.shape[0]
    for layer in range(layout.shape[0]):
        w_off, b_off, n_in = layout[layer, 0], layout[layer, 1], layout[layer, 2]
        n = count[layer]
        if n == 0:  # no error reached this layer: a zero gradient still moves Adam's moments
            g_row[:] = F0
            for i in range(n_in + width):
                _update(p, m, v, w_off + i * g4, g_row, F1, factor, opt_code, hyper)
            _update(p, m, v, b_off, g_row, F1, factor, opt_code, hyper)
            continue
        for i in range(n_in + width):
            a0 = ins[layer, 0, i]
            d0 = dzs[layer, 0]
            if n == 1:  # the row's gradient a0 * d0 is formed inside the update
                _update(p, m, v, w_off + i * g4, d0, a0, factor, opt_code, hyper)
                continue
            for j in range(g4):
                g_row[j] = a0 * d0[j]
            for r in range(1, n):
                ar = ins[layer, r, i]
                dr = dzs[layer, r]
                for j in range(g4):
                    g_row[j] += ar * dr[j]
            _update(p, m, v, w_off + i * g4, g_row, F1, factor, opt_code, hyper)
        g_row[:] = dzs[layer, 0]
        for r in range(1, n):
            dr = dzs[layer, r]
            for j in range(g4):
                g_row[j] += dr[j]
        _update(p, m, v, b_off, g_row, F1, factor, opt_code, hyper)
    for i in range(width):
        acc = F0
        for b in range(batch):
            acc += tops[b, i] * dy[b]
        g_head[i] = acc
    gb = F0
    for b in range(batch):
        gb += dy[b]
    g_head[width] = gb
    _update(p, m, v, head[0], g_head, F1, factor, opt_code, hyper)


@_jit
def learn_step(
    params: np.ndarray,
    layout: np.ndarray,
    head: np.ndarray,
    width: int,
    phi: np.float32,
    newest: int,
    n_steps: int,
    xc: np.ndarray,
    hp: np.ndarray,
    cp: np.ndarray,
    sg: np.ndarray,
    cd: np.ndarray,
    ac: np.ndarray,
    ho: np.ndarray,
    yo: np.ndarray,
    target: np.ndarray,
    known: np.ndarray,
    n_known: int,
    loss_code: int,
    mode: int,
    norm_c: np.float32,
    opt_code: int,
    state1: np.ndarray,
    state2: np.ndarray,
    hyper: np.ndarray,
    norms: np.ndarray,
) -> None:
    """One learning step for every seed row.

    The error of the newest kept step's outputs ``yo[newest]`` against ``target``
    (B,) (where ``known`` (B,) is 1; the loss is the mean over the ``n_known``
    known tickers) flows back through the last ``n_steps`` ring slots, newest
    first. Then the gradient mode (per seed row) and one optimizer step:
    ``opt_code`` 0 Adam (``state1``/``state2`` = exp_avg/exp_avg_sq, ``hyper`` =
    (step_size, 1 - beta1, beta2, 1 - beta2, 1 / sqrt(bias_correction2), eps)), 1
    RMSprop (``state1`` = square_avg, ``hyper`` = (lr, alpha, 1 - alpha, eps)).
    ``norms`` (S,) receives each row's raw gradient norm (before the gradient mode).

    The gradient is never stored whole: the backward pass keeps each layer's
    pre-activation errors dz and inputs per (step, ticker); the norm for the
    gradient mode comes from their dot products, and each weight row's gradient
    is formed in a small buffer just before its optimizer update (one pass over
    the parameters instead of four).
    """
    n_layers, n_rows = hp.shape[1], hp.shape[2]
    batch = target.shape[0]
    g4 = 4 * width
    n_max = xc.shape[0] * batch
    in_max = max(xc.shape[2], width) + width
    dzs = np.zeros((n_layers, n_max, g4), np.float32)  # pre-activation errors per (step, ticker)
    ins = np.zeros((n_layers, n_max, in_max), np.float32)  # the matching [input, h_prev]
    count = np.zeros(n_layers, np.int64)
    dy = np.empty(batch, np.float32)
    tops = np.empty((batch, width), np.float32)
    above = np.zeros((batch, width), np.float32)
    below = np.zeros((batch, width), np.float32)
    dh_next = np.zeros((n_layers, batch, width), np.float32)
    dc_next = np.zeros((n_layers, batch, width), np.float32)
    has_next = np.zeros(n_layers, np.bool_)
    dz = np.empty(g4, np.float32)
    dh = np.empty(width, np.float32)
    g_row = np.empty(g4, np.float32)
    g_head = np.empty(width + 1, np.float32)
    nk = np.float32(n_known)
    for s in range(n_rows):
        p = params[s]
        _output_error(p, head, width, newest, s, ho, yo, target, known, nk, loss_code, dy, tops, above)
        _backward(
            p,
            layout,
            width,
            phi,
            newest,
            n_steps,
            s,
            xc,
            hp,
            cp,
            sg,
            cd,
            ac,
            ho,
            above,
            below,
            dzs,
            ins,
            count,
            dh_next,
            dc_next,
            has_next,
            dz,
            dh,
        )
        norms[s] = _gradient_norm(layout, width, tops, dy, dzs, ins, count)
        factor = _mode_factor(norms[s], mode, norm_c)
        _optimizer_step(
            p,
            state1[s],
            state2[s],
            layout,
            head,
            width,
            tops,
            dy,
            dzs,
            ins,
            count,
            factor,
            opt_code,
            hyper,
            g_row,
            g_head,
        )


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the two kernels a run calls, on tiny arrays.

    The argument types are those :class:`KernelLSTM` passes (C-contiguous float32
    arrays, int64 layouts, float32 scalars, Python ints), so the run's first call
    finds the one specialization ready. Safe in a background thread (numba holds its
    compiler lock); touches no state outside its own arrays.
    """
    width, n_in, rows, batch, ring, layers = 1, 1, 1, 1, 1, 1
    w_size = (n_in + width) * 4 * width
    n_params = w_size + 4 * width + width + 1
    params = np.zeros((rows, n_params), np.float32)
    layout = np.array([(0, w_size, n_in)], dtype=np.int64)
    head = np.array([w_size + 4 * width, w_size + 4 * width + width], dtype=np.int64)
    phi = np.float32(1.0)
    shape = (ring, layers, rows, batch, width)
    xc = np.zeros((ring, batch, n_in), np.float32)
    hp, cp, cd, ac, ho = (np.zeros(shape, np.float32) for _ in range(5))
    sg = np.zeros((*shape[:-1], 3 * width), np.float32)
    yo = np.zeros((ring, rows, batch), np.float32)
    h, c = (
        np.zeros((layers, rows, batch, width), np.float32),
        np.zeros((layers, rows, batch, width), np.float32),
    )
    xs = np.zeros((1, batch, n_in), np.float32)
    forward_steps(params, layout, head, width, phi, xs, h, c, 0, xc, hp, cp, sg, cd, ac, ho, yo)
    state1, state2 = np.zeros_like(params), np.zeros_like(params)
    hyper = np.zeros(6, np.float32)
    target, known = np.zeros(batch, np.float32), np.ones(batch, np.float32)
    norms = np.zeros(rows)
    learn_step(
        params, layout, head, width, phi, 0, 1, xc, hp, cp, sg, cd, ac, ho, yo,
        target, known, 1, 0, 0, np.float32(1.0), 0, state1, state2, hyper, norms,
    )  # fmt: skip


def supported(options: dict[str, Any]) -> str | None:
    """None when the compiled path implements these training options, else the reason it does not.

    ``options``: the strategy's parameters (a dict); fields that the compiled
    path does not know must be at their defaults."""
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
        rows = len(model.rows)
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
        self.grad_norms = np.zeros(rows)  # the last step's raw gradient norm per row (a diagnostic)
        # numpy views of the optimizer's state (its load_state_dict copies in place)
        if self.opt_code == 0:
            self.state1, self.state2 = optimizer.exp_avg.numpy(), optimizer.exp_avg_sq.numpy()
            self.steps = optimizer.steps.numpy()  # 0-d float32, as torch counts
        else:
            self.state1 = self.state2 = optimizer.square_avg.numpy()

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
            self.steps += np.float32(1.0)
            step = float(self.steps)
            beta1, beta2 = opt.betas
            bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
            hyper = np.array(
                [opt.lr / bc1, 1.0 - beta1, beta2, 1.0 - beta2, 1.0 / math.sqrt(bc2), opt.eps],
                dtype=np.float32,
            )
        else:
            hyper = np.array([opt.lr, opt.alpha, 1.0 - opt.alpha, opt.eps], dtype=np.float32)
        learn_step(
            self.params,
            self.layout,
            self.head,
            self.width,
            self.phi,
            self.newest,
            self.kept,
            *self.caches(),
            np.where(known, target, 0.0).astype(np.float32),
            known.astype(np.float32),
            n_known,
            self.loss_code,
            self.mode,
            self.norm_c,
            self.opt_code,
            self.state1,
            self.state2,
            hyper,
            self.grad_norms,
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
