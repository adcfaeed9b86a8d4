"""Simulates customer summaries (frequency, recency, t, monetary_value) from
the BG/NBD purchase process and the Gamma-Gamma spend process, at the CDNOW
estimates, for test/bench/fit.sh.  Ages are whole days (cohorts over 78
weeks), so the summary has the ties a real one has.  Writes CSV to stdout.
Usage: python3 fit_simulate.py N SEED
"""
import sys

import numpy as np

n = int(sys.argv[1])
rng = np.random.default_rng(int(sys.argv[2]))
r, alpha, a, b = 0.2426, 4.4136, 0.7929, 2.4259
p, q, gamma = 6.2496, 3.7442, 15.4435

T_days = rng.integers(1, 547, n)
T = T_days / 7.0
lam = rng.gamma(r, 1.0 / alpha, n)
drop = rng.beta(a, b, n)
now = np.zeros(n)
x = np.zeros(n, dtype=np.int64)
last = np.zeros(n)
alive = np.ones(n, dtype=bool)
while alive.any():
    idx = np.flatnonzero(alive)
    now[idx] += rng.exponential(1.0, idx.size) / np.maximum(lam[idx], 1e-300)
    buy = now[idx] <= T[idx]
    b_idx = idx[buy]
    x[b_idx] += 1
    last[b_idx] = now[b_idx]
    alive[idx[~buy]] = False
    gone = rng.random(b_idx.size) < drop[b_idx]
    alive[b_idx[gone]] = False
recency = np.floor(last * 7.0) / 7.0
nu = rng.gamma(q, 1.0 / gamma, n)
mx = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1.0, n) / nu / np.maximum(x, 1), np.nan)
mx = np.round(mx, 2)
out = sys.stdout
out.write("frequency,recency,t,monetary_value\n")
for xi, ri, ti, mi in zip(x, recency, T, mx):
    out.write(f"{xi},{ri!r},{ti!r},{'' if xi == 0 else repr(float(mi))}\n")
