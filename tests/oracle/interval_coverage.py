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
"""
import json

from scipy import stats

from clvtap import fresh_db, ok, run

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


run(main)
