"""clv_offer_predict's lifted expectations against independent computations.

An offer changes a responding customer's process from the end of the
observation on (README "Offers"): the purchase rate times k = 1 +
purchase_lift, the dropout rate or probability times c = 1 - retention_lift,
the spend per purchase times 1 + spend_lift.  Checked three ways, each able
to fail:
1. numerically: the lifted conditional expectation of each model
   recomputed from its posterior given alive by quadrature (scipy) of the
   per-customer expectation (Pareto/NBD over mu, BG/NBD and MBG/NBD over p
   with lambda integrated by its Laplace transform) or, for BG/BB, by the
   exact binomial mixture E[(1 - c theta)^i] = E_{J ~ Bin(i, c)} E[(1-theta)^J]
   (no quadrature, unlike the C code) and E[min(1, k p)] by quadrature; the
   baseline (k = c = 1) through the same formula must reproduce clv_predict,
   which checks the decomposition P(alive) x posterior expectation itself;
   tolerance 1e-6 relative;
2. discounting, spend lift, incremental value, net gain and ROI: recomputed
   from the oracle's expectations per unit period;
3. by simulation: numpy simulates cohorts from known parameters (its own
   generator, not clv_simulate: clv_simulate does not expose the latent
   rates that the process after T continues from, and a lift from T on is
   not one of its options), runs each customer's process to T, then the
   lifted process from T on, and the cohort's total future purchases must
   lie within 4 standard errors of the sum of clv_offer_predict's
   offer_purchases for the customers' (x, tx, T); and the same simulation
   must be more than 4 standard errors away from the sum of the baseline
   predictions (so the check has the power to see a missing lift).  The
   generator is seeded: the result is the same on every run;
4. clv_allocate_budget against the brute-force best subset of 14 customers
   (equal costs: equal; per-customer costs: within the fractional-knapsack
   bound).
"""
import json
import math

import numpy as np
from scipy import integrate, special

from clvtap import data_path, fresh_db, is_close, ok, run

GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
BGNBD = {"transaction_model": "bgnbd", "r": 0.6, "alpha": 4.0, "a": 0.8, "b": 2.5}
MBGNBD = {"transaction_model": "mbgnbd", "r": 0.6, "alpha": 4.0, "a": 0.8, "b": 2.5}
PNBD = {"transaction_model": "pareto_nbd", "r": 0.6, "alpha": 6.0, "s": 0.8, "beta": 12.0}
BGBB = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}


def with_gg(p):
    q = dict(p)
    q.update(GG)
    return q


# --- 1. independent quadrature of the lifted posterior expectations -------

def bg_alive_expected(p, sh, x, T, t, k, c):
    """E[(1/(c p))(1 - exp(-k lambda c p t))] over lambda ~ Gamma(r+x, alpha+T),
    p ~ Beta(a, b+x+sh): lambda by its Laplace transform, p by quadrature."""
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    b1 = b + x + sh
    lb = special.betaln(a, b1)

    def f(q):
        # (1/(c q)) (1 - ((alpha+T)/(alpha+T+k c q t))^(r+x)), stable for small q
        u = k * c * q * t / (alpha + T)
        return -np.expm1(-(r + x) * np.log1p(u)) / (c * q) if q > 0 else k * t * (r + x) / (alpha + T)

    val, _ = integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b1 - 1), epsabs=0, epsrel=1e-11, limit=200)
    return val / math.exp(lb)


def pnbd_alive_expected(p, x, T, t, k, c):
    """E[(k lambda / (c mu))(1 - exp(-c mu t))], lambda ~ Gamma(r+x, alpha+T),
    mu ~ Gamma(s, beta+T): E[lambda] exactly, mu by quadrature on g = mu (beta+T)."""
    r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
    el = (r + x) / (alpha + T)
    scale = beta + T

    def f(g):
        u = c * t * g / scale
        return (-math.expm1(-u) / (c * g / scale) if g > 0 else t) * math.exp(-g)

    lo, _ = integrate.quad(f, 0, 1, weight="alg", wvar=(s - 1, 0), epsabs=0, epsrel=1e-11, limit=200)
    hi, _ = integrate.quad(lambda g: f(g) * g ** (s - 1), 1, np.inf, epsabs=0, epsrel=1e-11, limit=200)
    return k * el * (lo + hi) / math.gamma(s)


def bgbb_survival_sum(ga, d, c, N):
    """sum_{i=1..N} E[(1 - c theta)^i], theta ~ Beta(ga, d), exactly: given
    J ~ Binomial(i, c) exposed opportunities, survival is (1-theta)^J."""
    m = [math.exp(special.betaln(ga, d + j) - special.betaln(ga, d)) for j in range(N + 1)]
    tot = 0.0
    for i in range(1, N + 1):
        j = np.arange(i + 1)
        w = np.exp(special.gammaln(i + 1) - special.gammaln(j + 1) - special.gammaln(i - j + 1)
                   + j * math.log(c) + (i - j) * (math.log1p(-c) if c < 1 else 0.0)) if c < 1 else None
        tot += m[i] if c == 1 else float(np.dot(w, m[: i + 1]))
    return tot


def capped_mean(a, b, k):
    """E[min(1, k p)], p ~ Beta(a, b), by quadrature."""
    val, _ = integrate.quad(lambda q: min(1.0, k * q), 0, 1, weight="alg", wvar=(a - 1, b - 1),
                            points=None, epsabs=0, epsrel=1e-11, limit=200)
    if k > 1:
        # the kink at 1/k: integrate the two pieces separately
        u = 1.0 / k
        f = lambda q: math.exp((a - 1) * math.log(q) + (b - 1) * math.log1p(-q)) if 0 < q < 1 else 0.0
        v1, _ = integrate.quad(lambda q: k * q * f(q), 0, u, epsabs=0, epsrel=1e-11, limit=200)
        v2, _ = integrate.quad(f, u, 1, epsabs=0, epsrel=1e-11, limit=200)
        val = v1 + v2
    return val / math.exp(special.betaln(a, b))


def oracle_expected(model, p, pa, x, tx, T, t, k, c):
    """The lifted E[X(T, T+t) | x, tx, T] given clv's P(alive)."""
    if model in ("bgnbd", "mbgnbd"):
        return pa * bg_alive_expected(p, 1 if model == "mbgnbd" else 0, x, T, t, k, c)
    if model == "pareto_nbd":
        return pa * pnbd_alive_expected(p, x, T, t, k, c)
    # bgbb: clv's p_alive is P(alive in opportunity n+1) = P_n E[1 - theta]
    al, be, ga, de = p["alpha"], p["beta"], p["gamma"], p["delta"]
    pn = pa * (ga + de + T) / (de + T)
    return pn * capped_mean(al + x, be + T - x, k) * bgbb_survival_sum(ga, de + T, c, int(t))


def check_exact(conn):
    offers = [(1.0, 1.0), (1.5, 1.0), (1.0, 0.6), (1.3, 0.5), (0.8, 0.9), (3.0, 0.3)]
    cases = {
        "bgnbd": (with_gg(BGNBD), [(0, 0, 30), (2, 20, 39), (8, 50, 52)], [10, 52]),
        "mbgnbd": (with_gg(MBGNBD), [(0, 0, 30), (2, 20, 39), (8, 50, 52)], [10, 52]),
        "pareto_nbd": (with_gg(PNBD), [(0, 0, 30), (2, 20, 39), (8, 50, 52)], [10, 52]),
        "bgbb": (BGBB, [(0, 0, 6), (3, 5, 6), (6, 6, 6), (2, 3, 10)], [1, 5, 12]),
    }
    with conn.cursor() as cur:
        for model, (params, custs, horizons) in cases.items():
            worst = 0.0
            bad = []
            for (x, tx, T) in custs:
                for h in horizons:
                    for (k, c) in offers:
                        offer = {"cost": 1, "response_rate": 1, "purchase_lift": k - 1,
                                 "retention_lift": 1 - c}
                        if model == "bgbb":
                            offer["value_per_purchase"] = 1
                        cur.execute("SELECT (o).p_alive, (o).baseline_purchases, (o).offer_purchases "
                                    "FROM (SELECT clv_offer_predict(%s::jsonb, %s, %s, %s, NULL, %s, 0, 1, %s::jsonb) o) s",
                                    (json.dumps(params), x, tx, T, h, json.dumps(offer)))
                        pa, base, got = cur.fetchone()
                        want = oracle_expected(model, params, pa, x, tx, T, h, k, c)
                        want0 = oracle_expected(model, params, pa, x, tx, T, h, 1, 1)
                        for g, w in ((got, want), (base, want0)):
                            rel = abs(g - w) / max(abs(w), 1e-300)
                            worst = max(worst, rel)
                            if rel > 1e-6:
                                bad.append((x, tx, T, h, k, c, g, w))
            ok(not bad, f"{model}: lifted and baseline expectations match the quadrature oracle "
                        f"({len(custs) * len(horizons) * len(offers)} cases, worst rel {worst:.1e})",
               "\n".join(map(str, bad[:10])))


def check_discounting(conn):
    """offer_clv = margin * (1 + spend_lift) * spend * sum_i d^i (E'(min(i,h)) - E'(i-1))."""
    params = with_gg(PNBD)
    k, c, g, rate, margin, h = 1.2, 0.7, 0.1, 0.05, 0.4, 10.5
    offer = {"cost": 2.5, "response_rate": 0.3, "purchase_lift": k - 1, "retention_lift": 1 - c,
             "spend_lift": g}
    x, tx, T, m = 3, 25, 40, 55.0
    with conn.cursor() as cur:
        cur.execute("SELECT (o).* FROM (SELECT clv_offer_predict(%s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) o) s",
                    (json.dumps(params), x, tx, T, m, h, rate, margin, json.dumps(offer)))
        cols = [d[0] for d in cur.description]
        r = dict(zip(cols, cur.fetchone()))
        cur.execute("SELECT clv_expected_spend(%s::jsonb, %s, %s)", (json.dumps(params), x, m))
        spend = cur.fetchone()[0]
    pa = r["p_alive"]
    disc = 0.0
    prev = 0.0
    for i in range(1, math.ceil(h) + 1):
        cur_e = oracle_expected("pareto_nbd", params, pa, x, tx, T, min(i, h), k, c)
        disc += (cur_e - prev) / (1 + rate) ** i
        prev = cur_e
    want_clv = margin * (1 + g) * spend * disc
    is_close(r["offer_spend"], (1 + g) * spend, "offer_spend = (1 + spend_lift) * expected spend", rel=1e-12)
    is_close(r["offer_clv"], want_clv, "offer_clv: discounted lifted purchases per unit period", rel=1e-6)
    inc = 0.3 * (want_clv - r["baseline_clv"])
    is_close(r["incremental_value"], inc, "incremental_value = response_rate * (offer_clv - baseline_clv)", rel=1e-6)
    is_close(r["net_gain"], inc - 2.5, "net_gain = incremental_value - cost", rel=1e-6)
    is_close(r["roi"], (inc - 2.5) / 2.5, "roi = net_gain / cost", rel=1e-6)


# --- 3. simulation of the lifted process -----------------------------------

def sim_pnbd(rng, p, n, T, h, k, c):
    lam = rng.gamma(p["r"], 1 / p["alpha"], n)
    mu = rng.gamma(p["s"], 1 / p["beta"], n)
    tau = rng.exponential(1 / mu)
    w = np.minimum(tau, T)
    x = rng.poisson(lam * w)
    tx = np.where(x > 0, w * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    alive = tau > T
    rem = rng.exponential(1 / (c * mu))          # memoryless: the lifted lifetime left at T
    fut = np.where(alive, rng.poisson(k * lam * np.minimum(rem, h)), 0)
    return x.astype(float), tx, fut.astype(float)


def sim_bg(rng, p, sh, n, T, h, k, c):
    lam = rng.gamma(p["r"], 1 / p["alpha"], n)
    q = rng.beta(p["a"], p["b"], n)
    alive = np.ones(n, bool)
    if sh:
        alive &= rng.random(n) >= q              # MBG/NBD: dropout at the first purchase
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    active = alive.copy()                        # still purchasing before T
    while active.any():
        t = t + rng.exponential(1 / lam)
        buy = active & (t <= T)
        x[buy] += 1
        tx[buy] = t[buy]
        drop = buy & (rng.random(n) < q)
        alive &= ~drop
        active = buy & ~drop
    # alive customers continue from T (memoryless) with k lam and c q
    fut = np.zeros(n)
    t = np.full(n, float(T))
    active = alive.copy()
    while active.any():
        t = t + rng.exponential(1 / (k * lam))
        buy = active & (t <= T + h)
        fut[buy] += 1
        drop = buy & (rng.random(n) < c * q)
        active = buy & ~drop
    return x, tx, fut


def sim_bgbb(rng, p, n, T, h, k, c):
    q = rng.beta(p["alpha"], p["beta"], n)
    th = rng.beta(p["gamma"], p["delta"], n)
    alive = np.ones(n, bool)
    x = np.zeros(n)
    tx = np.zeros(n)
    for j in range(1, T + 1):
        alive &= rng.random(n) >= th
        buy = alive & (rng.random(n) < q)
        x[buy] += 1
        tx[buy] = j
    fut = np.zeros(n)
    qk = np.minimum(1.0, k * q)
    for j in range(h):
        alive &= rng.random(n) >= c * th
        fut += alive & (rng.random(n) < qk)
    return x, tx, fut


def check_simulation(conn):
    rng = np.random.default_rng(20261202)
    n = 20000
    plans = [
        ("bgnbd", with_gg(BGNBD), lambda k, c: sim_bg(rng, BGNBD, 0, n, 39, 52, k, c), 39, 52),
        ("mbgnbd", with_gg(MBGNBD), lambda k, c: sim_bg(rng, MBGNBD, 1, n, 39, 52, k, c), 39, 52),
        ("pareto_nbd", with_gg(PNBD), lambda k, c: sim_pnbd(rng, PNBD, n, 39, 52, k, c), 39, 52),
        ("bgbb", BGBB, lambda k, c: sim_bgbb(rng, BGBB, n, 8, 6, k, c), 8, 6),
    ]
    with conn.cursor() as cur:
        for model, params, sim, T, h in plans:
            for label, k, c in (("purchase lift 0.5", 1.5, 1.0), ("retention lift 0.6", 1.0, 0.4),
                                ("both", 1.3, 0.5)):
                x, tx, fut = sim(k, c)
                offer = {"cost": 1, "response_rate": 1, "purchase_lift": k - 1, "retention_lift": 1 - c}
                if model == "bgbb":
                    offer["value_per_purchase"] = 1
                cur.execute("""
                    SELECT (o).offer_purchases, (o).baseline_purchases
                    FROM (SELECT clv_offer_predict(%s::jsonb, u.x, u.tx, %s, NULL, %s, 0, 1, %s::jsonb) o
                          FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS u(x, tx, i)
                          ORDER BY u.i) s""",
                            (json.dumps(params), T, h, json.dumps(offer), x.tolist(), tx.tolist()))
                rows = np.array(cur.fetchall())
                pred, base = rows[:, 0], rows[:, 1]
                d = fut - pred
                se = d.std(ddof=1) * math.sqrt(n)
                z = d.sum() / se
                z0 = (fut - base).sum() / ((fut - base).std(ddof=1) * math.sqrt(n))
                ok(abs(z) <= 4, f"{model}, {label}: simulated future purchases {fut.sum():.0f} vs "
                                f"predicted {pred.sum():.1f} ({z:+.2f} SE; {n} customers)",
                   f"z = {z}")
                ok(abs(z0) > 4, f"{model}, {label}: and the baseline prediction {base.sum():.1f} is "
                                f"{z0:+.1f} SE away (the check can see the lift)", f"z0 = {z0}")


# --- 4. the budget allocation against the brute-force optimum -------------

def check_budget(conn):
    """clv_allocate_budget's greedy prefix against every subset of 14
    customers: with equal costs it is the optimum of the total net gain within
    the budget; with per-customer costs it is within the net gain of the first
    profitable customer it leaves out (the fractional-knapsack bound)."""
    rng = np.random.default_rng(7)
    rows = np.loadtxt(data_path("BTYD_cdnowSummary_cbs.csv"), delimiter=",", skiprows=1)
    rows = rows[rows[:, 1] >= 3][:14]            # repeat buyers: most offers pay for them
    params = json.dumps(with_gg({"transaction_model": "bgnbd", "r": 0.2426, "alpha": 4.4136,
                                 "a": 0.7929, "b": 2.4259}))
    offer = {"cost": 3, "response_rate": 0.3, "retention_lift": 0.4, "purchase_lift": 0.2}
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bud; CREATE TABLE bud (customer_id int, frequency float8, "
                    "recency float8, t float8, monetary_value float8, price float8)")
        for r in rows:
            cur.execute("INSERT INTO bud VALUES (%s, %s, %s, %s, %s, %s)",
                        (int(r[0]), r[1], r[2], r[3], r[5], float(rng.integers(1, 9))))
        for label, opts in (("equal costs", {}), ("per-customer costs", {"cost_column": "price"})):
            cur.execute("SELECT r.customer_id, r.cost, r.net_gain FROM clv_offer_roi(%s, 'bud', %s::jsonb, 52, 0.01, 0.5, %s::jsonb) r",
                        (params, json.dumps(offer), json.dumps(opts)))
            cand = cur.fetchall()
            ids = [c[0] for c in cand]
            cost = np.array([c[1] for c in cand])
            net = np.array([c[2] for c in cand])
            for budget in (0.0, 7.0, 16.0, 25.0, 1000.0):
                cur.execute("SELECT a.customer_id, a.cumulative_net_gain FROM clv_allocate_budget(%s, 'bud', %s::jsonb, %s, 52, 0.01, 0.5, %s::jsonb) a ORDER BY a.step",
                            (params, json.dumps(offer), budget, json.dumps(opts)))
                alloc = cur.fetchall()
                greedy = alloc[-1][1] if alloc else 0.0
                # every subset: its cost within the budget, the best net gain
                n = len(ids)
                masks = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
                tc, tn = masks @ cost, masks @ net
                best = tn[tc <= budget + 1e-9].max()
                chosen = {a[0] for a in alloc}
                order = sorted((i for i in range(n) if net[i] > 0 and ids[i] not in chosen),
                               key=lambda i: -(net[i] + cost[i]) / cost[i])
                nxt = net[order[0]] if order else 0.0
                if label == "equal costs":
                    ok(abs(greedy - best) <= 1e-9 * max(1.0, best),
                       f"budget {budget:g}, {label}: the greedy allocation is optimal ({greedy:.3f} = {best:.3f})")
                else:
                    ok(greedy <= best + 1e-9 and best <= greedy + nxt + 1e-9,
                       f"budget {budget:g}, {label}: greedy {greedy:.3f} <= optimum {best:.3f} <= greedy + next {greedy + nxt:.3f}")


def main():
    conn = fresh_db("clv_offer_lift")
    check_exact(conn)
    check_discounting(conn)
    check_simulation(conn)
    check_budget(conn)


run(main)
