"""clv_summary against an independent Python implementation of API.md §1 on
random histories (refunds, NULL amounts, same-day rows, a DST time zone,
every time unit, with and without a holdout split), and a fuzzer for the
text input of its state type: every input either parses or is rejected with
SQLSTATE 22P02, and the backend survives."""
import datetime as dt
import random
from zoneinfo import ZoneInfo

import psycopg2

from clvtap import fresh_db, ok, run

UNITS = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}
TZ = "America/New_York"


def oracle(rows, cal_end, obs_end, unit, holdout):
    """rows: (timestamp utc, amount or None). Returns the summary dict or None."""
    tz = ZoneInfo(TZ)
    days = {}
    for ts, amount in rows:
        if ts is None:
            continue
        d = ts.astimezone(tz).date()
        if d > obs_end:
            continue
        money, purchase = days.get(d, (0.0, False))
        days[d] = (money + (amount or 0.0), purchase or amount is None or amount >= 0)
    cal = sorted(d for d, (m, p) in days.items() if p and d <= cal_end)
    if not cal:
        return None
    first, last = cal[0], cal[-1]
    u = UNITS[unit]
    n = len(cal)
    r = {
        "frequency": n - 1,
        "recency": (last - first).days / u,
        "t": (cal_end - first).days / u,
        "monetary_value": (sum(days[d][0] for d in cal[1:]) / (n - 1)) if n > 1 else None,
        "n_purchases": n,
        "total_amount": sum(m for d, (m, p) in days.items() if d <= cal_end),
        "first_purchase": first,
        "last_purchase": last,
        "days_since_last": (cal_end - last).days,
    }
    if holdout:
        hold = [d for d, (m, p) in days.items() if p and cal_end < d <= obs_end]
        r["frequency_holdout"] = len(hold)
        r["monetary_holdout"] = (sum(days[d][0] for d in hold) / len(hold)) if hold else None
        r["duration_holdout"] = (obs_end - cal_end).days / u
    return r


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def main():
    rnd = random.Random(20261122)
    conn = fresh_db("clv_summary_fuzz")
    cur = conn.cursor()
    cur.execute(f"SET TimeZone = '{TZ}'")
    cur.execute("CREATE TABLE h (cust int, at timestamptz, amount float8)")
    base = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    histories = {}
    for cust in range(1, 401):
        rows = []
        for _ in range(rnd.randint(1, 25)):
            ts = base + dt.timedelta(minutes=rnd.randint(0, 2 * 365 * 24 * 60))
            if rnd.random() < 0.3 and rows and rows[-1][0] is not None:
                ts = rows[-1][0] + dt.timedelta(minutes=rnd.randint(-300, 300))
            amount = round(rnd.uniform(-20, 200), 2)
            if rnd.random() < 0.05:
                amount = None
            if rnd.random() < 0.02:
                ts = None
            rows.append((ts, amount))
        histories[cust] = rows
        cur.executemany("INSERT INTO h VALUES (%s, %s, %s)", [(cust, ts, a) for ts, a in rows])

    checks = [("2021-09-30", "2022-06-30", "week", True), ("2022-03-13", "2022-03-13", "day", False),
              ("2021-11-07", "2022-11-06", "month", True), ("2022-12-31", "2022-12-31", "year", False)]
    for cal_s, obs_s, unit, holdout in checks:
        cal_end = dt.date.fromisoformat(cal_s)
        obs_end = dt.date.fromisoformat(obs_s)
        if holdout:
            cur.execute("SELECT cust, (clv_summary(at, amount, %s, %s, %s)).* FROM h GROUP BY cust",
                        (cal_s, obs_s, unit))
        else:
            cur.execute("SELECT cust, (clv_summary(at, amount, %s, %s)).* FROM h GROUP BY cust",
                        (obs_s, unit))
        names = [d[0] for d in cur.description]
        got = {row[0]: dict(zip(names[1:], row[1:])) for row in cur.fetchall()}
        bad = []
        for cust, rows in histories.items():
            want = oracle(rows, cal_end, obs_end, unit, holdout)
            g = got.get(cust)
            if want is None:
                if g is not None and g["frequency"] is not None:
                    bad.append((cust, "expected NULL", g))
                continue
            for k, v in want.items():
                if g is None or not same(g[k], v):
                    bad.append((cust, k, None if g is None else g[k], v))
                    break
        ok(not bad, f"400 random histories match the oracle ({unit}, holdout={holdout})", bad[:5])

    # Fuzz the state's text input.
    cur.execute("SELECT 'v1 week 1 100 200 5 10 3 1:1:2.5 4:0:-1 7:1:1e300'::clv_summary_state::text")
    valid = cur.fetchone()[0]
    rejected = parsed = 0
    crashed = []
    alphabet = "v0123456789 :.-+eE\tinfa"
    for i in range(3000):
        s = list(valid)
        for _ in range(rnd.randint(1, 6)):
            op = rnd.random()
            pos = rnd.randrange(len(s) + 1)
            if op < 0.4 and s:
                del s[min(pos, len(s) - 1)]
            elif op < 0.8:
                s.insert(pos, rnd.choice(alphabet))
            elif s:
                s[min(pos, len(s) - 1)] = rnd.choice(alphabet)
        text = "".join(s) if i % 10 else "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        try:
            cur.execute("SELECT (clv_summary_finalfn(%s::clv_summary_state)).*", (text,))
            cur.fetchall()
            parsed += 1
        except psycopg2.Error as e:
            if e.pgcode in ("22P02", "22023", "54000"):
                rejected += 1
            else:
                crashed.append((text, e.pgcode, str(e).strip()))
                if conn.closed:
                    break
    ok(not crashed, f"fuzzed state text: {parsed} parsed, {rejected} rejected with 22P02/22023/54000, none else",
       crashed[:5])
    cur.execute("SELECT 1")
    ok(cur.fetchone()[0] == 1, "backend alive after fuzzing")


run(main)
