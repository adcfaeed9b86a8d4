"""Fuzz the prediction functions of every model with random and extreme
parameters and customers.  Each call must either return finite values in
range (P(alive) and probabilities in [0, 1], expectations >= 0) or raise a
clean user error (22023 invalid parameter, 22003 out of range), never NaN or
Infinity (extreme spends and margins included), never another error class,
and the backend must survive; clv_simulate likewise.  Extreme parameters
with long discounted horizons can take seconds: each call runs under a 1 s
statement_timeout, and a timeout (57014, the call was cancellable) is
counted and reported, not failed; test/t/025 checks cancellation itself."""
import math
import random

import psycopg2
import psycopg2.extras

from clvtap import fresh_db, ok, run

ALLOWED = {"22023", "22003"}
CANCELLED = "57014"


def loguniform(rnd, lo, hi):
    return math.exp(rnd.uniform(math.log(lo), math.log(hi)))


def params_for(model, rnd):
    extreme = rnd.random() < 0.3
    lo, hi = (1e-4, 1e4) if extreme else (0.05, 30)
    p = {"transaction_model": model}
    names = {"bgnbd": "r alpha a b", "mbgnbd": "r alpha a b", "pareto_nbd": "r alpha s beta",
             "bgbb": "alpha beta gamma delta"}[model]
    for k in names.split():
        p[k] = loguniform(rnd, lo, hi)
    if model != "bgbb":
        p.update(spend_model="gamma_gamma", p=loguniform(rnd, lo, hi),
                 q=loguniform(rnd, 1.01, hi), gamma=loguniform(rnd, lo, hi))
    return p


def customer(model, rnd):
    if model == "bgbb":
        # now and then beyond the 2^31 - 1 opportunities BG/BB sums (22023)
        # or far inside them with the last transaction near the end (cheap)
        if rnd.random() < 0.05:
            n = rnd.choice([2**31, 3e9, 1e12, 2**31 - 1])
            return float(n - 1), float(n - 1), float(n), float(rnd.randint(0, 20))
        n = rnd.randint(1, 60)
        x = rnd.randint(0, n)
        tx = 0 if x == 0 else rnd.randint(x, n)
        return float(x), float(tx), float(n), float(rnd.randint(0, 20))
    T = loguniform(rnd, 1e-3, 1e4)
    x = 0.0 if rnd.random() < 0.3 else float(rnd.randint(1, 10000 if rnd.random() < 0.2 else 50))
    tx = 0.0 if x == 0 else rnd.uniform(0, T)
    return x, tx, T, loguniform(rnd, 1e-3, 1e4)


class Tally:
    """Counts the calls, clean errors and cancellations of one fuzz loop and
    collects what is wrong."""

    def __init__(self):
        self.calls = self.errors = self.cancelled = 0
        self.bad = []

    def error(self, e, context):
        if e.pgcode == CANCELLED:
            self.cancelled += 1
            return
        self.errors += 1
        if e.pgcode not in ALLOWED:
            self.bad.append(context + (e.pgcode, str(e).strip()))

    def report(self, what):
        ok(not self.bad, f"{self.calls} fuzzed {what}, or a 22023/22003 error "
                         f"({self.errors} errors, {self.cancelled} cancelled at 1 s)",
           "\n".join(map(str, self.bad[:8])))


def main():
    rnd = random.Random(424242)
    conn = fresh_db("clv_predict_fuzz")
    cur = conn.cursor()
    cur.execute("SET statement_timeout = '1s'")
    tally = Tally()
    for model in ("bgnbd", "mbgnbd", "pareto_nbd", "bgbb"):
        for _ in range(250):
            p = params_for(model, rnd)
            x, tx, T, h = customer(model, rnd)
            mx = loguniform(rnd, 0.01, 1e4) if x > 0 else None
            if mx is not None and rnd.random() < 0.05:
                mx = rnd.choice([1e300, 1.7e308])
            margin = rnd.choice([1.0] * 8 + [0.0, 1e300, -1e300, 1e-300])
            n = rnd.randint(0, 30)
            tally.calls += 1
            try:
                cur.execute(
                    "SELECT (clv_predict(%(p)s::jsonb, %(x)s, %(tx)s, %(T)s, %(mx)s, %(h)s, %(d)s, %(margin)s)).*, "
                    "clv_expected_purchases_new(%(p)s::jsonb, %(h)s), "
                    "clv_purchase_probability(%(p)s::jsonb, %(n)s, %(h)s)",
                    {"p": psycopg2.extras.Json(p), "x": x, "tx": tx, "T": T, "mx": mx, "h": h,
                     "d": rnd.choice([0.0, 0.001, 0.1]), "n": n, "margin": margin})
                e_x, alive, spend, clv, e_new, prob = cur.fetchone()
                vals = [e_x, alive, e_new, prob] + ([spend, clv] if model != "bgbb" else [])
                if any(v is None or not math.isfinite(v) for v in vals):
                    tally.bad.append((model, p, (x, tx, T, h, n), "non-finite", vals))
                elif e_x < -1e-9 or e_new < -1e-9 or not (-1e-12 <= alive <= 1 + 1e-12) \
                        or not (-1e-12 <= prob <= 1 + 1e-12):
                    tally.bad.append((model, p, (x, tx, T, h, n), "out of range", vals))
            except psycopg2.Error as e:
                tally.error(e, (model, p, (x, tx, T, h, n)))
                if conn.closed:
                    break
    tally.report("predictions: finite and in range")
    fuzz_simulate(cur, rnd)
    cur.execute("SELECT 1")
    ok(cur.fetchone()[0] == 1, "backend alive after fuzzing")


def fuzz_simulate(cur, rnd):
    """clv_simulate with random and extreme parameters: every simulated time
    and amount is finite, or the call is a 22023/22003 error."""
    tally = Tally()
    for model in ("bgnbd", "mbgnbd", "pareto_nbd", "bgbb"):
        for _ in range(60):
            p = params_for(model, rnd)
            if model != "bgbb" and rnd.random() < 0.3:
                p["q"] = loguniform(rnd, 1e-8, 1e-3)     # spend rate may underflow to 0
            tally.calls += 1
            try:
                cur.execute("SELECT count(*), bool_and(purchased_at >= 0 AND purchased_at <= 20 "
                            "AND (amount IS NULL OR amount = amount AND abs(amount) < 'Infinity')) "
                            "FROM clv_simulate(%s::jsonb, 5, 20, %s)",
                            (psycopg2.extras.Json(p), rnd.randint(0, 2**31 - 1)))
                count, finite = cur.fetchone()
                if count < 5 or not finite:
                    tally.bad.append((model, p, count, finite))
            except psycopg2.Error as e:
                tally.error(e, (model, p))
    tally.report("simulations: finite times and amounts")


if __name__ == "__main__":
    run(main)
