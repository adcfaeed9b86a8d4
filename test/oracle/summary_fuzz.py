"""clv_summary against an independent Python implementation of API.md §1 on
random histories (refunds, NULL amounts, same-day rows, a DST time zone,
every time unit, with and without a holdout split), and fuzzers for the text
and binary input of its state type: every input either parses into a state
whose summary is sane (finite, 0 <= recency <= t) or is rejected with a
clean error (22P02 syntax, 22003 a field out of range), and the backend
survives."""
import datetime as dt
import io
import math
import random
import struct
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
    # a purchase day holds a purchase and has a net amount >= 0
    cal = sorted(d for d, (m, p) in days.items() if p and m >= 0 and d <= cal_end)
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
        hold = [d for d, (m, p) in days.items() if p and m >= 0 and cal_end < d <= obs_end]
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
    cur.execute("SELECT 'v1 week 1 432000000000 864000000000 5 10 3 1:1:2.5 4:0:-1 7:1:1e300'::clv_summary_state::text")
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
            cur.execute(f"SELECT {NUMERIC_FIELDS} FROM clv_summary_finalfn(%s::clv_summary_state) f", (text,))
            row = cur.fetchone()
            parsed += 1
            if row is not None and not sane(row):
                crashed.append((text, "insane summary", row))
        except psycopg2.Error as e:
            if e.pgcode in STATE_ERRORS:
                rejected += 1
            else:
                crashed.append((text, e.pgcode, str(e).strip()))
                if conn.closed:
                    break
    ok(not crashed, f"fuzzed state text: {parsed} parsed, {rejected} rejected with 22P02/22003/54000, none else",
       crashed[:5])
    fuzz_binary(conn, rnd)
    cur.execute("SELECT 1")
    ok(cur.fetchone()[0] == 1, "backend alive after fuzzing")


# 22P02 malformed, 22003 a field out of range, 54000 a state too large,
# 08P01 / 22P03 a binary state shorter / longer than it claims
STATE_ERRORS = ("22P02", "22003", "54000", "08P01", "22P03")
DAY_MIN, DAY_MAX = -2451546, 106751983
# the summary fields a fuzzed state may take anywhere (dates may be BC)
NUMERIC_FIELDS = ("frequency, recency, t, monetary_value, n_purchases, total_amount, days_since_last, "
                  "frequency_holdout, monetary_holdout, duration_holdout")
USECS_PER_DAY = 86400000000


def sane(row):
    """The summary of any state the input functions accept."""
    frequency, recency, t = row[0], row[1], row[2]
    floats = [v for v in row if isinstance(v, float)]
    return (frequency is None or frequency >= 0) and all(math.isfinite(v) for v in floats) \
        and (t is None or (t >= 0 and 0 <= recency <= t))


def binary_state(version, unit, holdout, cal_end, obs_end, cal_day, obs_day, days, ndays=None):
    """The send/recv form of a state (see clv_summary_state_send)."""
    b = struct.pack("!BBBqqiii", version, unit, holdout, cal_end, obs_end, cal_day, obs_day,
                    len(days) if ndays is None else ndays)
    for day, purchase, amount in days:
        b += struct.pack("!iBd", day, purchase, amount)
    return b


def copy_binary(cur, state):
    """COPY one state into table st through its binary input function."""
    data = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    data += struct.pack("!hi", 1, len(state)) + state + struct.pack("!h", -1)
    cur.copy_expert("COPY st FROM STDIN (FORMAT binary)", io.BytesIO(data))


def pick(rnd, lo, hi, extremes):
    return rnd.choice(extremes) if rnd.random() < 0.15 else rnd.randint(lo, hi)


def fuzz_binary(conn, rnd):
    """Binary states: crafted ones from the audit, then random field values."""
    cur = conn.cursor()
    cur.execute("CREATE TABLE st (s clv_summary_state)")
    i32 = [-2**31, 2**31 - 1, -1, 0, DAY_MIN - 1, DAY_MAX + 1]
    i64 = [-2**63, 2**63 - 1, -211813488000000001, 9223371331200000000, 0]
    # a '-infinity' first purchase and an end day near 2^31 overflowed the
    # int32 day arithmetic into a negative t; ndays must fit the message
    crafted = {
        "first purchase -infinity": binary_state(1, 1, 0, 0, 0, 0, 0, [(-2**31, 1, 1.0)]),
        "end day 2^31 - 1": binary_state(1, 1, 0, 0, 0, 2**31 - 1, 2**31 - 1, [(-5, 1, 1.0)]),
        "end timestamp infinity": binary_state(1, 1, 0, 2**63 - 1, 2**63 - 1, 0, 0, []),
        "67 million days claimed": binary_state(1, 1, 0, 0, 0, 0, 0, [], ndays=67108000),
        "negative day count": binary_state(1, 1, 0, 0, 0, 0, 0, [], ndays=-1),
        "infinite amount": binary_state(1, 1, 0, 0, 0, 0, 0, [(0, 1, math.inf)]),
    }
    for name, state in crafted.items():
        try:
            copy_binary(cur, state)
            ok(False, f"binary state with {name} is rejected", "accepted")
        except psycopg2.Error as e:
            ok(e.pgcode in ("22003", "22P02"), f"binary state with {name} is rejected (22003/22P02)",
               f"{e.pgcode}: {e}")
    copy_binary(cur, binary_state(1, 0, 1, 3 * USECS_PER_DAY, 9 * USECS_PER_DAY, 3, 9,
                                  [(5, 1, 2.0), (1, 1, 4.0), (5, 0, -1.0), (-2, 0, -3.0)]))
    cur.execute("SELECT s::text, (clv_summary_finalfn(s)).* FROM st")
    row = cur.fetchone()
    ok(row[0] == "v1 day 1 259200000000 777600000000 3 9 3 -2:0:-3 1:1:4 5:1:1" and row[1:5] == (0, 0.0, 2.0, None),
       "a valid binary state is read, sorted and merged", row)

    accepted = rejected = 0
    bad = []
    for _ in range(1500):
        cal_end = pick(rnd, -10**17, 10**17, i64)
        obs_end = cal_end + pick(rnd, 0, 10**12, [0, 2**40, -1])
        cal_day = pick(rnd, -1, 1, i32) + cal_end // USECS_PER_DAY
        obs_day = pick(rnd, -1, 1, i32) + obs_end // USECS_PER_DAY
        days = [(pick(rnd, obs_day - 1000, obs_day, i32), pick(rnd, 0, 1, [2, 255]),
                 rnd.choice([rnd.uniform(-1e3, 1e3), 1e308, -1e308, math.nan, 0.0]))
                for _ in range(rnd.randint(0, 6))]
        fields = [pick(rnd, 1, 1, [0, 2, 255]), pick(rnd, 0, 3, [4, 255]), pick(rnd, 0, 1, [2, 255]),
                  cal_end, obs_end, cal_day, obs_day]
        try:
            state = binary_state(*[max(-2**63, min(2**63 - 1, f)) for f in fields[:5]],
                                 *[max(-2**31, min(2**31 - 1, f)) for f in fields[5:]],
                                 [(max(-2**31, min(2**31 - 1, d)), p, a) for d, p, a in days],
                                 ndays=len(days) + pick(rnd, 0, 0, [1, -1, 2**31 - 1]))
        except struct.error:
            continue
        cur.execute("TRUNCATE st")
        try:
            copy_binary(cur, state)
            cur.execute(f"SELECT {NUMERIC_FIELDS} FROM st, clv_summary_finalfn(s) f")
            row = cur.fetchone()
            accepted += 1
            if row is not None and not sane(row):
                bad.append((fields, days, "insane summary", row))
        except psycopg2.Error as e:
            if e.pgcode in STATE_ERRORS:
                rejected += 1
            else:
                bad.append((fields, days, e.pgcode, str(e).strip()))
                if conn.closed:
                    break
    ok(not bad and accepted > 100, f"fuzzed binary states: {accepted} accepted with a sane summary, "
                                   f"{rejected} rejected with 22P02/22003/54000/08P01/22P03", bad[:5])


run(main)
