"""The full CDNOW cohort, end to end, from its raw event log (issue 9, done).

data/CDNOW_master.txt holds all 23,570 customers (whitespace separated,
CRLF, one header line).  One of them has a single $0 repeat purchase day, so
their monetary_value is 0: the spend fit must leave exactly that customer
out (NOTICE, n_spend_excluded = 1) instead of failing for everybody, and a
view scoring every customer must succeed.

Oracles, independent of clv:
- the per-customer summary computed here in Python (same-day rows merged,
  weeks, observation end 1998-06-30), which finds the odd customer;
- a scipy maximum-likelihood fit of the Gamma-Gamma spend model on the
  repeat buyers with a positive mean spend (relative tolerance 1e-4);
- the Gamma-Gamma conditional mean (gamma + x m) p / (p x + q - 1) at m = 0
  for the odd customer's prediction.
"""
import datetime
import io
import math
import re

import numpy as np
from scipy import optimize, special

from clvtap import data_path, fresh_db, is_close, ok, run

END = datetime.date(1998, 6, 30)


def read_master():
    rows = []
    with open(data_path("CDNOW_master.txt"), newline="") as f:
        next(f)
        for line in f:
            cust, day, _cds, dollars = line.split()
            rows.append((int(cust), datetime.datetime.strptime(day, "%Y%m%d").date(), float(dollars)))
    return rows


def python_summary(rows):
    """customer -> (frequency, recency, t, monetary_value or None), in weeks."""
    days = {}
    for cust, day, amount in rows:
        d = days.setdefault(cust, {})
        d[day] = d.get(day, 0.0) + amount
    out = {}
    for cust, d in days.items():
        ds = sorted(d)
        first, last = ds[0], ds[-1]
        x = len(ds) - 1
        m = sum(d[k] for k in ds[1:]) / x if x > 0 else None
        out[cust] = (x, (last - first).days / 7.0, (END - first).days / 7.0, m)
    return out


def gg_negll(logp, x, m):
    p, q, g = np.exp(logp)
    ll = (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
          + q * np.log(g) + (p * x - 1) * np.log(m) + p * x * np.log(x)
          - (p * x + q) * np.log(g + x * m))
    return -ll.sum()


def main():
    rows = read_master()
    summ = python_summary(rows)
    ok(len(summ) == 23570, f"23,570 customers in CDNOW_master.txt ({len(summ)})")
    ok(all(a >= 0 for _, _, a in rows), "no negative amounts in the raw log")
    repeat = {c: v for c, v in summ.items() if v[0] > 0}
    odd = sorted(c for c, v in repeat.items() if v[3] <= 0)
    ok(len(odd) == 1, f"the Python summary finds exactly one repeat buyer with mean spend <= 0 ({odd})")

    conn = fresh_db("clv_cdnow_master")
    cur = conn.cursor()
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("CREATE TABLE master_elog (customer_id int, purchased_at date, amount float8)")
    buf = io.StringIO("".join(f"{c}\t{d.isoformat()}\t{a!r}\n" for c, d, a in rows))
    cur.copy_from(buf, "master_elog", columns=("customer_id", "purchased_at", "amount"))
    cur.execute("""CREATE TABLE master_summary AS
                   SELECT customer_id, (clv_summary(purchased_at, amount, '1998-06-30')).*
                   FROM master_elog GROUP BY customer_id""")
    cur.execute("SELECT customer_id, frequency, recency, t, monetary_value FROM master_summary")
    got = {r[0]: r[1:] for r in cur.fetchall()}
    bad = [c for c, v in summ.items()
           if got.get(c) is None or got[c][0] != v[0] or not math.isclose(got[c][1], v[1], abs_tol=1e-9)
           or not math.isclose(got[c][2], v[2], abs_tol=1e-9)
           or (v[3] is None) != (got[c][3] is None)
           or (v[3] is not None and not math.isclose(got[c][3], v[3], rel_tol=1e-12, abs_tol=1e-12))]
    ok(not bad, "clv_summary over CDNOW_master equals the Python summary for every customer", bad[:5])

    # Train BG/NBD + Gamma-Gamma straight from the raw summary.
    del conn.notices[:]
    cur.execute("""SELECT converged, n_customers, diagnostics->'n_spend_excluded',
                          diagnostics->'n_spend_customers', params
                   FROM clv_train('cdnow_master', 'master_summary')""")
    converged, n, n_excl, n_spend, params = cur.fetchone()
    ok(converged and n == 23570, f"clv_train converges on all 23,570 customers ({converged}, {n})")
    ok(n_excl == 1, f"diagnostics: n_spend_excluded = 1 ({n_excl})")
    ok(n_spend == len(repeat) - 1, f"diagnostics: n_spend_customers = {len(repeat) - 1} ({n_spend})")
    notices = [m for m in conn.notices if "left out" in m]
    want = f"NOTICE:  gamma_gamma: left out 1 repeat buyer with monetary_value <= 0 of {len(repeat)}\n"
    ok(len(notices) == 1 and notices[0].startswith(want),
       "one NOTICE names the count and the reason", "".join(conn.notices))
    hint = re.search(r"HINT:  Find the rows with: (.*)", notices[0] if notices else "")
    found = []
    if hint:
        cur.execute(f"SELECT customer_id FROM ({hint.group(1)}) h")
        found = [r[0] for r in cur.fetchall()]
    ok(found == odd, f"the NOTICE's query finds that customer ({found})")

    # The spend estimates equal an independent fit on the same customers.
    x = np.array([v[0] for c, v in repeat.items() if v[3] > 0], dtype=float)
    m = np.array([v[3] for c, v in repeat.items() if v[3] > 0], dtype=float)
    res = optimize.minimize(gg_negll, np.log([1.0, 1.0, np.mean(m)]), args=(x, m),
                            method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000})
    res = optimize.minimize(gg_negll, res.x, args=(x, m), method="BFGS", options={"gtol": 1e-9})
    for name, want_v in zip(("p", "q", "gamma"), np.exp(res.x)):
        is_close(params[name], want_v, f"gamma_gamma {name} equals the scipy fit", rel=1e-4)

    # A view over every customer scores without error, the odd one included.
    cur.execute("""CREATE VIEW master_scores AS
                   SELECT s.customer_id, s.frequency, p.*
                   FROM master_summary s,
                        LATERAL clv_predict('cdnow_master', s.frequency, s.recency, s.t,
                                            s.monetary_value, 52) p""")
    cur.execute("""SELECT count(*), count(*) FILTER (WHERE expected_spend > 0 AND clv >= 0
                                                    AND p_alive BETWEEN 0 AND 1)
                   FROM master_scores""")
    total, finite = cur.fetchone()
    ok(total == 23570 and finite == 23570, f"clv_predict scores all 23,570 customers ({total}, {finite})")
    cur.execute("SELECT expected_spend FROM master_scores WHERE customer_id = %s", (odd[0] if odd else -1,))
    spend0 = cur.fetchone()
    xo = repeat[odd[0]][0] if odd else 0
    p, q, g = params["p"], params["q"], params["gamma"]
    ok(spend0 is not None, "the odd customer has a prediction")
    if spend0 is not None:
        is_close(spend0[0], g * p / (p * xo + q - 1), "its expected spend is the conditional mean at m = 0", rel=1e-12)
    cur.execute("SELECT clv_drop_model('cdnow_master')")
    conn.close()


if __name__ == "__main__":
    run(main)
