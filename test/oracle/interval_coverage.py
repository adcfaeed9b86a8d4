"""Coverage of clv_predict_interval_total by simulation.

Over R data sets simulated (clv_simulate, seeded) from known BG/NBD
parameters, each of N customers observed for T_CAL weeks: fit (clv_fit),
compute the 90 % interval of the cohort's total expected purchases over the
next HORIZON weeks (clv_predict_interval_total with the fit's covariance,
N_DRAWS seeded draws), and the true value: the same total computed with the
true parameters (clv_expected_purchases).  The interval covers the true
value in about 90 % of the replications: the count of covered replications
must lie in the central 99.8 % of Binomial(R, 0.9), which for R = 200 is
[166, 192] (computed below with scipy, not hard-coded).  Everything is
seeded, so the run is repeatable; it takes about 30 s.

Then, independently of the draws, on CDNOW: for a few customers the width
of the 90 % interval of expected purchases (20,000 draws) matches the delta
method's 2 * 1.645 * sqrt(g' C g) within 10 %, g the numerical gradient of
clv_expected_purchases in the log-parameters (central differences through
SQL) and C the stored log-scale covariance; and the interval of a cohort's
total matches the delta method of the total the same way (the shared
draws: the total's gradient is the sum of the customers').
"""
import json
import math

import numpy as np

from scipy import stats

from clvtap import data_path, fresh_db, ok, run

TRUE = {"transaction_model": "bgnbd", "r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
R = 200
N = 500
T_CAL = 52.0
HORIZON = 52.0
N_DRAWS = 400
LEVEL = 0.9
TAIL = 0.001


def main():
    conn = fresh_db("clv_interval_coverage")
    cur = conn.cursor()
    cur.execute("CREATE TABLE sims (rep int, customer_id bigint, frequency float8, recency float8, t float8)")
    for rep in range(1, R + 1):
        cur.execute(
            """INSERT INTO sims
               SELECT %s, customer_id, count(*) - 1, max(purchased_at), %s
               FROM clv_simulate(%s, %s, %s, %s) GROUP BY customer_id""",
            (rep, T_CAL, json.dumps(TRUE), N, T_CAL, 1000 + rep))
    covered = 0
    failed_fits = []
    for rep in range(1, R + 1):
        cur.execute(
            """WITH f AS (SELECT clv_fit(%s, 'bgnbd', NULL) AS f)
               SELECT (f->>'converged')::bool,
                      (SELECT clv_predict_interval_total(f.f->'params', s.frequency, s.recency, s.t, NULL, %s, 0, 1, %s,
                              jsonb_build_object('covariance', f.f->'covariance', 'n_draws', %s, 'seed', %s))
                       FROM sims s WHERE s.rep = %s),
                      (SELECT sum(clv_expected_purchases(%s::jsonb, s.frequency, s.recency, s.t, %s))
                       FROM sims s WHERE s.rep = %s)
               FROM f""",
            (f"SELECT frequency, recency, t FROM sims WHERE rep = {rep}",
             HORIZON, LEVEL, N_DRAWS, rep, rep, json.dumps(TRUE), HORIZON, rep))
        conv, total, truth = cur.fetchone()
        if not conv:
            failed_fits.append(rep)
        fields = total.strip("()").split(",")
        lower, upper = float(fields[2]), float(fields[3])
        covered += lower <= truth <= upper
    lo = int(stats.binom.ppf(TAIL, R, LEVEL))
    hi = int(stats.binom.isf(TAIL, R, LEVEL))
    ok(not failed_fits, "every simulated data set's fit converged", f"not converged: {failed_fits}")
    ok(lo <= covered <= hi,
       f"the {LEVEL:.0%} interval of the cohort's expected purchases covers the true value "
       f"in {covered} of {R} replications (band [{lo}, {hi}])",
       f"covered {covered} of {R}")

    delta_method(cur)


def delta_method(cur):
    cur.execute("CREATE TABLE cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8)")
    with open(data_path("BTYD_cdnowSummary_cbs.csv")) as f:
        cur.copy_expert("COPY cbs FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute("SELECT params, covariance FROM clv_train('dm', "
                "'SELECT x AS frequency, t_x AS recency, t_cal AS t FROM cbs', 'bgnbd', NULL)")
    params, cov = cur.fetchone()
    names = cov["transaction"]["names"]
    C = np.array(cov["transaction"]["log_scale"])
    z = stats.norm.ppf(0.95)

    def ep(p, where):
        cur.execute(f"SELECT sum(clv_expected_purchases(%s::jsonb, x, t_x, t_cal, 39)) FROM cbs WHERE {where}",
                    (json.dumps(p),))
        return cur.fetchone()[0]

    def grad(where):
        g = []
        for k in names:
            h = 1e-4
            hi, lo = dict(params), dict(params)
            hi[k] = params[k] * math.exp(h)
            lo[k] = params[k] * math.exp(-h)
            g.append((ep(hi, where) - ep(lo, where)) / (2 * h))
        return np.array(g)

    for cust, where in [(1, "cust = 1"), (2, "cust = 2"), (0, "cust = 1209"), (None, "cust <= 300")]:
        g = grad(where)
        width_dm = 2 * z * math.sqrt(g @ C @ g)
        if cust is None:
            cur.execute("SELECT (g).expected_purchases_upper - (g).expected_purchases_lower FROM "
                        "(SELECT clv_predict_interval_total('dm', x, t_x, t_cal, NULL, 39, 0, 1, 0.9, "
                        "'{\"n_draws\": 20000}') AS g FROM cbs WHERE cust <= 300) s")
            what = "the total of customers 1-300"
        else:
            cur.execute(f"SELECT i.expected_purchases_upper - i.expected_purchases_lower FROM cbs, "
                        f"clv_predict_interval('dm', x, t_x, t_cal, NULL, 39, options => '{{\"n_draws\": 20000}}') i "
                        f"WHERE {where}")
            what = f"customer ({where})"
        width = cur.fetchone()[0]
        ok(abs(width - width_dm) <= 0.1 * width_dm,
           f"interval width of {what}'s expected purchases matches the delta method within 10 %",
           f"draws {width}, delta method {width_dm}")


run(main)
