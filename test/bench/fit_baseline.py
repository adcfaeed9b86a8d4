"""Independent scipy baseline for test/bench/fit.sh: the same fits and the
same prediction as clv, on the same rows exported by psql.

Times (seconds, wall clock, CSV reading excluded): data reduction to unique
rows with weights (numpy) plus the optimisation (scipy L-BFGS-B over
log-parameters with finite-difference gradients, as a plain scipy user
would write it); the prediction is a vectorised numpy/scipy evaluation of
the BG/NBD conditional expectation and Gamma-Gamma spend over all rows.
Prints "name seconds loglik" lines.
Usage: python3 fit_baseline.py rows.csv
"""
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1, filling_values=np.nan)
x, tx, T, m = d[:, 0], d[:, 1], d[:, 2], d[:, 3]


def bgnbd_ll(p, x, tx, T, w):
    r, alpha, a, b = p
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + tx), -np.inf)
    return np.sum(w * (a1 + a2 + np.logaddexp(a3, a4)))


def gg_ll(p, x, mx, w):
    pp, q, g = p
    return np.sum(w * (gammaln(pp * x + q) - gammaln(pp * x) - gammaln(q) + q * np.log(g)
                       + (pp * x - 1) * np.log(mx) + pp * x * np.log(x) - (pp * x + q) * np.log(g + x * mx)))


def pnbd_ll(p, x, tx, T, w):
    r, alpha, s, beta = p
    rsx = r + s + x
    if alpha >= beta:
        mm, dd, b2 = alpha, alpha - beta, s + 1
    else:
        mm, dd, b2 = beta, beta - alpha, r + x
    f1 = np.log(hyp2f1(rsx, b2, rsx + 1, dd / (mm + tx))) - rsx * np.log(mm + tx)
    f2 = np.log(hyp2f1(rsx, b2, rsx + 1, dd / (mm + T))) - rsx * np.log(mm + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        la0 = np.where(tx < T, f1 + np.log(-np.expm1(f2 - f1)), -np.inf)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    a3 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return np.sum(w * (a1 + np.logaddexp(a3, np.log(s) - np.log(rsx) + la0)))


def fit(ll, args, start):
    n = np.sum(args[-1])

    def nll(v):
        val = -ll(np.exp(v), *args) / n
        return val if np.isfinite(val) else 1e10
    res = minimize(nll, np.log(start), method="L-BFGS-B", options={"maxiter": 2000})
    return np.exp(res.x), -res.fun * n


def unique(cols):
    u, w = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    return [u[:, i] for i in range(u.shape[1])] + [w.astype(float)]


t0 = time.perf_counter()
ux, utx, uT, w = unique([x, tx, T])
p_bg, ll_bg = fit(bgnbd_ll, (ux, utx, uT, w), [1, 1, 1, 1])
rep = x > 0
sx, sm, sw = unique([x[rep], m[rep]])
p_gg, ll_gg = fit(gg_ll, (sx, sm, sw), [1, 1, 1])
print(f"bgnbd_gg {time.perf_counter() - t0:.3f} {ll_bg:.4f} {ll_gg:.4f} {list(p_bg)} {list(p_gg)}")

t0 = time.perf_counter()
ux, utx, uT, w = unique([x, tx, T])
p_pn, ll_pn = fit(pnbd_ll, (ux, utx, uT, w), [1, 1, 1, 1])
print(f"pareto_nbd {time.perf_counter() - t0:.3f} {ll_pn:.4f} 0 {list(p_pn)} []")

# prediction over every row: BG/NBD E[Y(52)] * Gamma-Gamma spend
t0 = time.perf_counter()
r, alpha, a, b = 0.2426, 4.4136, 0.7929, 2.4259
pp, q, g = 6.2496, 3.7442, 15.4435
h = 52.0
z = h / (alpha + T + h)
e = ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + h)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)))
with np.errstate(divide="ignore", invalid="ignore"):
    pa = np.where(x > 0, 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)), 1.0)
spend = np.where(x > 0, (g + x * np.nan_to_num(m)) * pp / (pp * x + q - 1), pp * g / (q - 1))
total = np.sum(e * pa * spend)
print(f"predict {time.perf_counter() - t0:.3f} {total:.4f} 0 [] []")
