"""Oracle for the intervals of clv_segment_economics and clv_acquisition_value.

The parameter draws are made again here, in Python, from the stored
log-scale covariance exactly as the documented method makes them (seeded
splitmix64 -> xoshiro256**, Box-Muller normals, the Cholesky factor,
exp(log p + L z); transaction draws first, then spend draws from the same
stream).  Every customer is then predicted under every draw with the point
function clv_predict on inline params (one SQL query, no interval code), the
predictions summed per segment and draw, and the bounds taken as numpy's
linear (type 7) quantiles at (1 -+ level) / 2.  The segment table's
interval columns must match to 1e-9 relative, and so must the acquisition
value's (the draws at frequency = recency = t = 0).  The point values and
shares are also recomputed here with numpy from the per-customer point
predictions.
"""
import json
import math

import numpy as np

from clvtap import data_path, fresh_db, is_close, ok, run

MASK = (1 << 64) - 1
N_DRAWS = 40
SEED = 11
LEVEL = 0.8
HORIZON = 26.0
RATE = 0.002
MARGIN = 0.4
RATIO = 3.0


class Rng:
    """splitmix64-seeded xoshiro256** with clv's uniform and normal."""

    def __init__(self, seed):
        x = seed
        self.s = []
        for _ in range(4):
            x = (x + 0x9e3779b97f4a7c15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
            z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def uniform(self):
        return ((self.next() >> 11) + 0.5) * (1.0 / 9007199254740992.0)

    def normal(self):
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def cholesky(a):
    n = len(a)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        d = a[j][j] - sum(L[j][k] * L[j][k] for k in range(j))
        assert d > 0
        L[j][j] = math.sqrt(d)
        for i in range(j + 1, n):
            L[i][j] = (a[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L


def draws(rng, params, part):
    names = part["names"]
    L = cholesky(part["log_scale"])
    out = []
    for _ in range(N_DRAWS):
        z = [rng.normal() for _ in names]
        d = {}
        for i, k in enumerate(names):
            lp = math.log(params[k])
            for j in range(i + 1):
                lp += L[i][j] * z[j]
            d[k] = math.exp(lp)
        out.append(d)
    return out


def quantiles(v):
    return (np.quantile(v, (1 - LEVEL) / 2, method="linear"),
            np.quantile(v, (1 + LEVEL) / 2, method="linear"))


def main():
    conn = fresh_db("clv_segment_oracle")
    cur = conn.cursor()
    cur.execute("CREATE TABLE cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8)")
    with open(data_path("BTYD_cdnowSummary_cbs.csv")) as f:
        cur.copy_expert("COPY cbs FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute("""CREATE TABLE customers AS
                   SELECT cust, x AS frequency, t_x AS recency, t_cal AS t,
                          CASE WHEN x > 0 THEN m_x END AS monetary_value,
                          CASE WHEN x = 0 THEN 'one-time' WHEN cust % 2 = 0 THEN 'even' ELSE 'odd' END AS segment
                   FROM cbs""")
    cur.execute("SELECT params, covariance FROM clv_train('so_m', 'customers', 'bgnbd', 'gamma_gamma')")
    params, cov = cur.fetchone()

    rng = Rng(SEED)
    tx = draws(rng, params, cov["transaction"])
    sp = draws(rng, params, cov["spend"])
    cur.execute("CREATE TABLE draws (d int, params jsonb)")
    for d in range(N_DRAWS):
        p = {"transaction_model": params["transaction_model"], "spend_model": params["spend_model"]}
        p.update(tx[d])
        p.update(sp[d])
        cur.execute("INSERT INTO draws VALUES (%s, %s)", (d, json.dumps(p)))

    opts = json.dumps({"n_draws": N_DRAWS, "seed": SEED, "level": LEVEL})
    cur.execute("""SELECT segment, customers, customer_share, total_clv, total_clv_lower, total_clv_upper,
                          mean_clv, mean_clv_lower, mean_clv_upper, value_share, mean_p_alive,
                          expected_purchases, expected_purchases_lower, expected_purchases_upper,
                          status, max_allowable_spend
                   FROM clv_segment_economics('so_m', 'customers', 'segment', %s, %s, %s, %s, %s)""",
                (HORIZON, RATE, MARGIN, RATIO, opts))
    got = {r[0]: r for r in cur.fetchall()}
    ok(sorted(got) == ["even", "odd", "one-time"], "one row per segment", sorted(got))

    # the per-draw sums of the point function over each segment's customers
    cur.execute("""SELECT w.d, c.segment, sum((p).clv), sum((p).expected_purchases)
                   FROM draws w, customers c,
                        LATERAL clv_predict(w.params, c.frequency, c.recency, c.t, c.monetary_value, %s, %s, 1) p
                   GROUP BY w.d, c.segment""", (HORIZON, RATE))
    per = {}
    for d, seg, clv, ep in cur.fetchall():
        per.setdefault(seg, [[0.0] * N_DRAWS, [0.0] * N_DRAWS])
        per[seg][0][d] = clv
        per[seg][1][d] = ep
    # the point predictions, aggregated here
    cur.execute("""SELECT c.segment, (p).clv, (p).p_alive, (p).expected_purchases
                   FROM customers c,
                        LATERAL clv_predict('so_m', c.frequency, c.recency, c.t, c.monetary_value, %s, %s, 1) p""",
                (HORIZON, RATE))
    rows = cur.fetchall()
    total_clv = sum(r[1] for r in rows)
    for seg, g in sorted(got.items()):
        mine = [r for r in rows if r[0] == seg]
        n = len(mine)
        clv = np.array([r[1] for r in mine])
        ok(g[1] == n, f"{seg}: customers")
        is_close(g[2], n / len(rows), f"{seg}: share of customers", rel=1e-12)
        is_close(g[3], clv.sum(), f"{seg}: total CLV", rel=1e-9)
        is_close(g[6], clv.mean(), f"{seg}: mean CLV", rel=1e-9)
        is_close(g[9], clv.sum() / total_clv, f"{seg}: share of value", rel=1e-9)
        pa = float(np.mean([r[2] for r in mine]))
        is_close(g[10], pa, f"{seg}: mean P(alive)", rel=1e-12)
        is_close(g[11], sum(r[3] for r in mine), f"{seg}: expected purchases", rel=1e-9)
        status = "active" if pa >= 0.5 else "lapsed" if pa < 0.2 else "at risk"
        ok(g[14] == status, f"{seg}: status {status}", g[14])
        if status == "lapsed":
            ok(g[15] is None, f"{seg}: no LTV-based spend when lapsed")
        else:
            is_close(g[15], clv.mean() * MARGIN / RATIO, f"{seg}: max allowable spend", rel=1e-9)
        lo, hi = quantiles(per[seg][0])
        is_close(g[4], lo, f"{seg}: lower bound of the total CLV (Python draws)", rel=1e-9)
        is_close(g[5], hi, f"{seg}: upper bound of the total CLV (Python draws)", rel=1e-9)
        is_close(g[7], lo / n, f"{seg}: lower bound of the mean CLV", rel=1e-9)
        is_close(g[8], hi / n, f"{seg}: upper bound of the mean CLV", rel=1e-9)
        lo, hi = quantiles(per[seg][1])
        is_close(g[12], lo, f"{seg}: lower bound of the expected purchases", rel=1e-9)
        is_close(g[13], hi, f"{seg}: upper bound of the expected purchases", rel=1e-9)

    # acquisition value: the same draws at x = tx = T = 0, population mean spend
    cur.execute("""SELECT (p).clv, (p).expected_purchases, (p).expected_spend
                   FROM draws w, LATERAL clv_predict(w.params, 0, 0, 0, NULL, %s, %s, 1) p ORDER BY w.d""",
                (HORIZON, RATE))
    new = np.array(cur.fetchall())
    cur.execute("SELECT * FROM clv_acquisition_value('so_m', %s, %s, %s, %s, %s)",
                (HORIZON, RATE, MARGIN, RATIO, opts))
    a = cur.fetchone()
    es = params["p"] * params["gamma"] / (params["q"] - 1)
    is_close(a[3], es, "acquisition: the population mean spend p gamma / (q - 1)", rel=1e-12)
    for col, i_lo, i_hi, what in [(1, 1, 2, "expected purchases"), (2, 4, 5, "expected spend"), (0, 7, 8, "CLV")]:
        lo, hi = quantiles(new[:, col])
        is_close(a[i_lo], lo, f"acquisition: lower bound of {what}", rel=1e-9)
        is_close(a[i_hi], hi, f"acquisition: upper bound of {what}", rel=1e-9)
    lo, hi = quantiles(new[:, 0])
    is_close(a[9], a[6] * MARGIN / RATIO, "acquisition: max cost = CLV x margin / ratio", rel=1e-12)
    is_close(a[10], lo * MARGIN / RATIO, "acquisition: max cost, lower bound", rel=1e-9)
    is_close(a[11], hi * MARGIN / RATIO, "acquisition: max cost, upper bound", rel=1e-9)


run(main)
