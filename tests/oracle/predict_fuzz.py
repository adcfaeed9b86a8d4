"""Fuzz the prediction functions of every model with random and extreme
parameters and customers.  Each call must either return finite values in
range (P(alive) and probabilities in [0, 1], expectations >= 0) or raise a
clean user error (22023 invalid parameter, 22003 out of range), never NaN,
never another error class, and the backend must survive.  Extreme parameters
with long discounted horizons can take seconds: each call runs under a 1 s
statement_timeout, and a timeout (57014, the call was cancellable) is
counted and reported, not failed; tests/t/025 checks cancellation itself."""
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
        n = rnd.randint(1, 60)
        x = rnd.randint(0, n)
        tx = 0 if x == 0 else rnd.randint(x, n)
        return float(x), float(tx), float(n), float(rnd.randint(0, 20))
    T = loguniform(rnd, 1e-3, 1e4)
    x = 0.0 if rnd.random() < 0.3 else float(rnd.randint(1, 10000 if rnd.random() < 0.2 else 50))
    tx = 0.0 if x == 0 else rnd.uniform(0, T)
    return x, tx, T, loguniform(rnd, 1e-3, 1e4)


def main():
    rnd = random.Random(424242)
    conn = fresh_db("clv_predict_fuzz")
    cur = conn.cursor()
    cur.execute("SET statement_timeout = '1s'")
    bad = []
    calls = errors = cancelled = 0
    for model in ("bgnbd", "mbgnbd", "pareto_nbd", "bgbb"):
        for _ in range(250):
            p = params_for(model, rnd)
            x, tx, T, h = customer(model, rnd)
            mx = loguniform(rnd, 0.01, 1e4) if x > 0 else None
            n = rnd.randint(0, 30)
            calls += 1
            try:
                cur.execute(
                    "SELECT (clv_predict(%(p)s::jsonb, %(x)s, %(tx)s, %(T)s, %(mx)s, %(h)s, %(d)s, 1)).*, "
                    "clv_expected_purchases_new(%(p)s::jsonb, %(h)s), "
                    "clv_purchase_probability(%(p)s::jsonb, %(n)s, %(h)s)",
                    {"p": psycopg2.extras.Json(p), "x": x, "tx": tx, "T": T, "mx": mx, "h": h,
                     "d": rnd.choice([0.0, 0.001, 0.1]), "n": n})
                e_x, alive, spend, clv, e_new, prob = cur.fetchone()
                vals = [e_x, alive, e_new, prob] + ([spend, clv] if model != "bgbb" else [])
                if any(v is None or not math.isfinite(v) for v in vals):
                    bad.append((model, p, (x, tx, T, h, n), "non-finite", vals))
                elif e_x < -1e-9 or e_new < -1e-9 or not (-1e-12 <= alive <= 1 + 1e-12) \
                        or not (-1e-12 <= prob <= 1 + 1e-12):
                    bad.append((model, p, (x, tx, T, h, n), "out of range", vals))
            except psycopg2.Error as e:
                if e.pgcode == CANCELLED:
                    cancelled += 1
                    continue
                errors += 1
                if e.pgcode not in ALLOWED:
                    bad.append((model, p, (x, tx, T, h, n), e.pgcode, str(e).strip()))
                if conn.closed:
                    break
    ok(not bad, f"{calls} fuzzed predictions: finite and in range, or a 22023/22003 error "
                f"({errors} errors, {cancelled} cancelled at 1 s)", "\n".join(map(str, bad[:8])))
    cur.execute("SELECT 1")
    ok(cur.fetchone()[0] == 1, "backend alive after fuzzing")


if __name__ == "__main__":
    run(main)
