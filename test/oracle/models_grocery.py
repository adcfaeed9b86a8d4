"""Independent oracle for clv_fit on other real data: the BTYDplus grocery
event log (1,525 customers, 2006-2007).

The summary is built twice -- in Python (pandas) and in plain SQL -- with the
API.md section 1 rules (distinct purchase days; frequency = days - 1;
recency and t in weeks; observation end = the last date in the file).  A
scipy implementation of the BG/NBD and Pareto/NBD log-likelihoods is then
maximised (L-BFGS-B over log-parameters) and compared with clv_fit on the
SQL-built summary: same maximum log-likelihood, same parameters (BG/NBD
tightly; Pareto/NBD loosely, its optimum sits on a flat ridge), and clv's
likelihood at scipy's optimum equals scipy's own (checked through the
params-jsonb prediction path being consistent, and through clv_fit's LL).
"""
import json

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from clvtap import data_path, fresh_db, is_close, ok, run


def summary():
    e = pd.read_csv(data_path("BTYDplus_groceryElog.csv"), parse_dates=["date"])
    end = e["date"].max()
    d = e.drop_duplicates(["cust", "date"]).groupby("cust")["date"].agg(["min", "max", "count"])
    return pd.DataFrame({
        "x": (d["count"] - 1).astype(float),
        "tx": (d["max"] - d["min"]).dt.days / 7.0,
        "T": (end - d["min"]).dt.days / 7.0,
    })


def bgnbd_ll(p, x, tx, T):
    r, alpha, a, b = p
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return np.sum(a1 + a2 + np.logaddexp(a3, a4))


def pnbd_log_a0(p, x, tx, T):
    """r + s + x and the log of the Pareto/NBD integral term A0 (Fader-Hardie 2005 note)."""
    r, alpha, s, beta = p
    rsx = r + s + x
    if alpha >= beta:
        m, d, b2 = alpha, alpha - beta, s + 1
    else:
        m, d, b2 = beta, beta - alpha, r + x
    f1 = np.log(hyp2f1(rsx, b2, rsx + 1, d / (m + tx))) - rsx * np.log(m + tx)
    f2 = np.log(hyp2f1(rsx, b2, rsx + 1, d / (m + T))) - rsx * np.log(m + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        la0 = np.where(tx < T, f1 + np.log(-np.expm1(f2 - f1)), -np.inf)
    return rsx, la0


def pnbd_ll(p, x, tx, T):
    r, alpha, s, beta = p
    rsx, la0 = pnbd_log_a0(p, x, tx, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    a3 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return np.sum(a1 + np.logaddexp(a3, np.log(s) - np.log(rsx) + la0))


def fit(ll, x, tx, T, start):
    def nll(v):
        val = -ll(np.exp(v), x, tx, T) / len(x)
        return val if np.isfinite(val) else 1e10
    best = None
    for s0 in start:
        res = minimize(nll, np.log(s0), method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
    return np.exp(best.x), -best.fun * len(x)


def main():
    s = summary()
    x, tx, T = s["x"].values, s["tx"].values, s["T"].values
    conn = fresh_db("clv_oracle_grocery")
    cur = conn.cursor()
    cur.execute("CREATE TABLE grocery_elog (cust int, date date)")
    with open(data_path("BTYDplus_groceryElog.csv")) as f:
        cur.copy_expert("COPY grocery_elog FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute("""
        CREATE TABLE grocery_cbs AS
        WITH days AS (SELECT DISTINCT cust, date FROM grocery_elog),
             e AS (SELECT max(date) AS obs_end FROM grocery_elog)
        SELECT cust, count(*) - 1 AS frequency,
               (max(date) - min(date)) / 7.0 AS recency,
               (e.obs_end - min(date)) / 7.0 AS t
        FROM days, e GROUP BY cust, e.obs_end""")
    cur.execute("SELECT cust, frequency, recency::float8, t::float8 FROM grocery_cbs ORDER BY cust")
    sql = np.array(cur.fetchall(), dtype=float)
    ok(len(sql) == len(s) == 1525, "1,525 customers in both summaries", f"sql {len(sql)} python {len(s)}")
    ok(np.allclose(sql[:, 1:], np.column_stack([x, tx, T])[np.argsort(s.index.values)], atol=1e-12),
       "SQL summary equals the pandas summary")

    # BG/NBD
    p_sc, ll_sc = fit(bgnbd_ll, x, tx, T, [(1, 1, 1, 1), (0.5, 10, 0.5, 2)])
    cur.execute("SELECT clv_fit('grocery_cbs', 'bgnbd', NULL)")
    f = cur.fetchone()[0]
    p_clv = [f["params"][k] for k in ("r", "alpha", "a", "b")]
    ll_clv = f["log_likelihood"]["transaction"]
    print(f"# BG/NBD clv {p_clv} LL {ll_clv}; scipy {list(p_sc)} LL {ll_sc}")
    ok(f["converged"], "clv_fit bgnbd converged")
    is_close(ll_clv, ll_sc, "BG/NBD max LL equals scipy's", abs_=1e-3)
    ok(ll_clv >= ll_sc - 1e-6, "clv's optimum is not worse than scipy's", f"clv {ll_clv} scipy {ll_sc}")
    for k, a, b in zip(("r", "alpha", "a", "b"), p_clv, p_sc):
        is_close(a, b, f"BG/NBD {k} equals scipy's", rel=2e-3)
    is_close(bgnbd_ll(p_clv, x, tx, T), ll_clv, "scipy's BG/NBD LL at clv's estimate equals clv's LL", rel=1e-10)

    # Pareto/NBD
    p_sc, ll_sc = fit(pnbd_ll, x, tx, T, [(1, 1, 1, 1), (0.5, 10, 0.5, 10)])
    cur.execute("SELECT clv_fit('grocery_cbs', 'pareto_nbd', NULL)")
    f = cur.fetchone()[0]
    p_clv = [f["params"][k] for k in ("r", "alpha", "s", "beta")]
    ll_clv = f["log_likelihood"]["transaction"]
    print(f"# Pareto/NBD clv {p_clv} LL {ll_clv}; scipy {list(p_sc)} LL {ll_sc}")
    ok(f["converged"], "clv_fit pareto_nbd converged")
    is_close(ll_clv, ll_sc, "Pareto/NBD max LL equals scipy's", abs_=5e-3)
    is_close(pnbd_ll(p_clv, x, tx, T), ll_clv, "scipy's Pareto/NBD LL at clv's estimate equals clv's LL", rel=1e-9)
    for k, a, b in zip(("r", "alpha", "s", "beta"), p_clv, p_sc):
        is_close(a, b, f"Pareto/NBD {k} near scipy's (flat ridge)", rel=1e-3)

    # a prediction from the fitted params, recomputed independently:
    # Pareto/NBD P(alive) for every customer
    params = json.dumps(f["params"])
    cur.execute("SELECT clv_p_alive(%s::jsonb, frequency, recency::float8, t::float8) FROM grocery_cbs ORDER BY cust", (params,))
    pa = np.array([r[0] for r in cur.fetchall()])
    r, alpha, s_, beta = p_clv
    xs, txs, Ts = sql[:, 1], sql[:, 2], sql[:, 3]
    rsx, la0 = pnbd_log_a0(p_clv, xs, txs, Ts)
    lv = np.log(s_) - np.log(rsx) + la0 + (r + xs) * np.log(alpha + Ts) + s_ * np.log(beta + Ts)
    want = 1.0 / (1.0 + np.exp(lv))
    ok(np.max(np.abs(pa - want)) < 1e-9, "Pareto/NBD P(alive) of all customers equals scipy's",
       f"max abs diff {np.max(np.abs(pa - want))}")
    conn.close()


run(main)
