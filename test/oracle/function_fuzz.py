"""Fuzz every function of the clv extension, found in its own pg_proc entries
(the functions that depend on the extension), so that a function added later
is fuzzed without editing this file.

The database holds a small customers table and trained models of every kind.
Each signature gets CLV_FUZZ_CALLS / (number of signatures) calls with random
and extreme arguments chosen by argument type (and, to get past validation
more often, by argument name: a coherent customer for frequency/recency/t,
the params of a stored model for params jsonb, a source for source text).
Aggregates run over a small VALUES list, functions that take `internal` (a
type's binary receive function) through binary COPY into a column of that
type.  Every call runs in its own rolled-back transaction (so training and
dropping leave the catalog as it was) under statement_timeout = 1s, and:

- ends within 2 s of wall clock (a slower call is retried once, to tell a
  loaded machine from a call that does not honour the timeout; a call still
  running after 5 s is terminated, after 8 s killed);
- returns no non-finite float8 anywhere in its result (scalars, fields of
  composites, every returned row, numbers in json, arrays);
- raises no internal error (SQLSTATE class XX); every other error is an
  expected answer to bad input;
- does not crash the server (the connection survives, and the server log
  gains no "terminated by signal", PANIC or TRAP).

One TAP line per signature, with the failing calls (SQL that reproduces
them) in the diagnostics.  CLV_FUZZ_SEED (default fixed) and CLV_FUZZ_CALLS
(default 5000) change the run; `make fuzz` runs it much longer."""
import io
import json
import math
import os
import random
import re
import signal
import struct
import sys
import threading
import time
from collections import Counter
from decimal import Decimal

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import AsIs

from clvtap import data_path, fresh_db, ok, run

SEED = os.environ.get("CLV_FUZZ_SEED", "8")
CALLS = int(os.environ.get("CLV_FUZZ_CALLS", "5000"))
VERBOSE = os.environ.get("CLV_FUZZ_VERBOSE", "") not in ("", "0")
DB = "clv_function_fuzz"
WALL_LIMIT = 2.0        # seconds a call may take under statement_timeout = 1s
TERMINATE_AFTER = 5.0   # then pg_terminate_backend
KILL_AFTER = 8.0        # then SIGKILL (a call that ignores termination)
MAX_ROWS = 2000         # rows of a set-returning function that are checked
MAX_DIAG = 4            # failing calls shown per signature

INT_MAX, INT_MIN = 2 ** 31 - 1, -2 ** 31
NAN, INF = float("nan"), float("inf")


class Expr:
    """An SQL expression passed as an argument verbatim (long values stay
    short in the reproduction printed for a failure)."""

    def __init__(self, sql):
        self.sql = sql

    def __repr__(self):
        return self.sql


psycopg2.extensions.register_adapter(Expr, lambda e: AsIs(e.sql))

# Results as text where Python's types would refuse valid PostgreSQL values
# (dates beyond year 9999, infinities) or lose them (json numbers beyond
# float8 are parsed here, see nonfinite()).
_RAW_OIDS = (1082, 1083, 1114, 1184, 1186, 1266, 1182, 1183, 1115, 1185, 1187, 1270,
             114, 3802, 199, 3807)
psycopg2.extensions.register_type(psycopg2.extensions.new_type(_RAW_OIDS, "CLV_RAW", lambda v, c: v))
JSON_OIDS = {114, 3802}


def loguniform(rnd, lo, hi):
    return math.exp(rnd.uniform(math.log(lo), math.log(hi)))


# ---------------------------------------------------------------------------
# Value pools
# ---------------------------------------------------------------------------

F_EXTREME = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-12, 1e300, 1e308, -1e308,
             1.7976931348623157e308, NAN, INF, -INF, -1.0, -1e-9, -1e10, 0.5, 1.0, 2.0, 1e6, 1e9,
             3e9, 2.0 ** 31, 2.0 ** 53]
I_EXTREME = [0, -1, 1, INT_MAX, INT_MIN, 2, 10000, 10001, 65536, 1000000]
TS_EXTREME = ["infinity", "-infinity", "4714-11-24 00:00:00+00 BC", "294276-12-31 23:59:59+00",
              "1970-01-01 00:00:00+00", "2000-01-01 00:00:00+00", "1900-01-01 00:00:00+00",
              "9999-12-31 23:59:59.999999+00", "0001-01-01 00:00:00+00"]
TIME_UNITS = ["day", "week", "month", "year", "DAY", "Week", "fortnight", "", "weeks", "hour"]
MODEL_KINDS = ["bgnbd", "pareto_nbd", "mbgnbd", "bgbb", "gamma_gamma", "kmeans", "BGNBD", " bgnbd",
               "", "none", "null", "bg/nbd"]
COLUMNS = ["frequency", "recency", "t", "monetary_value", "days_since_last", "total_amount",
           "n_purchases", "customer_id", "first_purchase", "weight", "amount", "purchased_at",
           "no_such_column", "", "a", "b", "c", 'x"; DROP TABLE fz_customers; --', "frequency::text",
           "FREQUENCY", "ctid", "tableoid"]
# Source arguments: relations, queries, and text that must not run.
SOURCE_KINDS = {
    "relation": ["fz_customers", "public.fz_customers", "FZ_CUSTOMERS", '"fz_customers"', "fz_discrete",
                 "fz_transactions", "fz_customers_view", "clv_models", "pg_class"],
    "query": ["SELECT * FROM fz_customers",
              "select frequency, recency, t, monetary_value from fz_customers where customer_id < 50",
              "  (SELECT * FROM fz_customers)", "WITH c AS (SELECT * FROM fz_customers) SELECT * FROM c",
              "TABLE fz_customers", "SELECT * FROM fz_customers;", "SELECT * FROM fz_discrete",
              "SELECT g::float8 AS a, g::float8 AS b, g::float8 AS c FROM generate_series(1,100) g",
              "SELECT g % 3 AS frequency, g % 5 AS recency, 6 AS t FROM generate_series(1, 200) g",
              "SELECT customer_id, purchased_at, amount FROM fz_transactions",
              "SELECT customer_id, purchased_at FROM fz_transactions WHERE customer_id < 20"],
    "odd": ["no_such_table", "", " ", "VALUES (1.0, 2.0, 3.0)",
            "SELECT 1 AS frequency, 2 AS recency, 3 AS t, 4 AS monetary_value",
            "SELECT * FROM fz_customers WHERE false", "SELECT frequency FROM fz_customers",
            "SELECT -frequency AS frequency, recency, t, monetary_value FROM fz_customers",
            "SELECT frequency, recency, t, -monetary_value AS monetary_value FROM fz_customers",
            "SELECT frequency * 1e300 AS frequency, recency, t, monetary_value FROM fz_customers",
            "SELECT frequency, recency * 1e300 AS recency, t * 1e300 AS t, monetary_value * 1e300 AS monetary_value, "
            "days_since_last * 1e300 AS days_since_last, total_amount * 1e300 AS total_amount FROM fz_customers",
            "SELECT 'NaN'::float8 AS frequency, recency, t, 'Infinity'::float8 AS monetary_value, "
            "'NaN'::float8 AS days_since_last, '-Infinity'::float8 AS total_amount FROM fz_customers",
            "SELECT frequency, recency, t, monetary_value, 1e308::float8 AS weight FROM fz_customers",
            "SELECT frequency, recency, t, monetary_value, -1 AS weight FROM fz_customers",
            "SELECT frequency::text AS frequency, recency, t FROM fz_customers",
            "SELECT frequency, recency, t, frequency_holdout, duration_holdout FROM fz_customers",
            "SELECT * FROM fz_customers ; ; ", "fz_customers WHERE 1 = 1",
            "SELECT customer_id, 'infinity'::timestamptz AS purchased_at FROM fz_transactions",
            "SELECT 1 AS customer_id, '294276-12-31 23:59:59+00'::timestamptz AS purchased_at",
            "SELECT 1 AS customer_id, '4714-11-24 00:00:00+00 BC'::timestamptz AS purchased_at",
            "SELECT * FROM fz_customers) s, (SELECT 1 AS x", "SELECT * FROM fz_customers) s CROSS JOIN (SELECT 1"],
    # more than one statement: a source is exactly one
    "multi": ["SELECT 1; SELECT 2", "SELECT * FROM fz_customers; DELETE FROM fz_customers",
              "SELECT g::float8 AS a, g::float8 AS b, g::float8 AS c FROM generate_series(1,100) g) AS s; "
              "SELECT 1::float8 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT 1::float8 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT 1 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT NULL::int FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT 1, 2, 3, 4, 5, 6, 7 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT 'x'::text AS frequency, 1 AS recency, 2 AS t FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SHOW work_mem; SELECT 1 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s GROUP BY 1; SHOW work_mem; --",
              "SELECT * FROM fz_customers) AS s; EXPLAIN SELECT 1 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SELECT pg_sleep(2) FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; SET statement_timeout = 0; SELECT 1 FROM (SELECT 1",
              "SELECT * FROM fz_customers) AS s; DELETE FROM fz_customers; SELECT 1 FROM (SELECT 1",
              "SELECT frequency, monetary_value FROM fz_customers) AS x GROUP BY frequency, monetary_value; "
              "SELECT 1 AS frequency, 5 AS monetary_value FROM (SELECT 1",
              "SELECT frequency, recency, t FROM fz_customers) AS x GROUP BY frequency, recency, t; "
              "SELECT 1 AS frequency, 1 AS recency, 2 AS t FROM (SELECT 1",
              "fz_customers; DROP TABLE fz_customers", "(SELECT 1) x; DROP TABLE fz_customers; --"],
    # statements that write
    "dml": ["DELETE FROM fz_customers RETURNING *", "INSERT INTO fz_customers (customer_id) VALUES (0) RETURNING *",
            "UPDATE clv_models SET params = '{}' RETURNING *",
            "WITH d AS (DELETE FROM fz_customers RETURNING *) SELECT * FROM d",
            "SELECT * FROM fz_customers FOR UPDATE", "SELECT nextval('no_such_sequence') AS frequency",
            "DROP TABLE fz_customers", "TRUNCATE fz_customers", "COPY fz_customers TO STDOUT",
            "CREATE TABLE fz_new AS SELECT * FROM fz_customers"],
    # slow or big: must stop at the timeout
    "heavy": ["SELECT pg_sleep(3)::text::float8 AS frequency, 1 AS recency, 2 AS t",
              "SELECT g::float8 AS frequency, g::float8 AS recency, g::float8 + 1 AS t, 10::float8 AS monetary_value,"
              " g::float8 AS days_since_last, g::float8 AS total_amount FROM generate_series(1, 50000000) g",
              Expr("repeat('SELECT 1 UNION ALL ', 5000) || 'SELECT 1'"), Expr("repeat('(', 100000)")],
}
TRANSACTIONS = ["fz_transactions", "SELECT customer_id, purchased_at, amount FROM fz_transactions",
                "SELECT customer_id, purchased_at FROM fz_transactions WHERE customer_id < 20"]


def gen_source(rnd, lv, transactions=False):
    """Sources are where SQL text meets the server: odd ones often."""
    if not lv.wild(rnd) and rnd.random() < 0.6:
        if transactions:
            return rnd.choice(TRANSACTIONS)
        return rnd.choice(SOURCE_KINDS["relation"] + SOURCE_KINDS["query"])
    return rnd.choice(SOURCE_KINDS[rnd.choice(sorted(SOURCE_KINDS))])


JSON_TEXT = ['{"transaction_model": "bgnbd", "r": 1, "alpha": 1, "a": 1, "b": 1}', "{", "[1]", "{}",
             "null", '{"k": 2}', "[", '"x"']
LONG_TEXT = [Expr("repeat('x', 100000)"), Expr("repeat('fz_customers', 1000)"), Expr("repeat('é', 20000)"),
             Expr("repeat('{', 10000)")]
WEIRD_TEXT = ["ünïcødé", "x'y", 'a"b', "NaN", "Infinity", "1", "-1", "1e308", "\\", "%s", "$1", "--", ";"]
NAMED_TEXT = {"transaction_model": MODEL_KINDS,
              "spend_model": MODEL_KINDS, "time_unit": TIME_UNITS, "value_column": COLUMNS}


class Pools:
    """Values that depend on the database: models, customers, states."""

    def __init__(self, cur):
        cur.execute("SELECT name, kind, transaction_model, spend_model, params::text, options::text "
                    "FROM clv_models ORDER BY name, version")
        self.models = cur.fetchall()
        self.names = sorted({m[0] for m in self.models})
        self.params = [json.loads(m[4]) for m in self.models]
        self.kmeans_params = [json.loads(m[4]) for m in self.models if m[1] == "kmeans"]
        self.btyd_params = [json.loads(m[4]) for m in self.models if m[1] != "kmeans"]
        self.options = [json.loads(m[5]) for m in self.models]
        self.features = [p["features"] for p in self.kmeans_params]
        cur.execute("SELECT frequency::float8, recency, t, monetary_value FROM fz_customers ORDER BY customer_id")
        self.customers = cur.fetchall()
        cur.execute("SELECT frequency::float8, recency::float8, t::float8, NULL::float8 FROM fz_discrete")
        self.discrete = cur.fetchall()
        cur.execute("SELECT s::text FROM (SELECT fz_state(purchased_at, amount, '2020-10-01', '2021-02-01', u) s "
                    "FROM fz_transactions, unnest(ARRAY['day', 'week', 'month', 'year']) u "
                    "WHERE customer_id % 10 = 0 GROUP BY customer_id, u) q "
                    "UNION ALL SELECT fz_state(purchased_at, amount, '2021-02-01')::text FROM fz_transactions "
                    "WHERE customer_id % 15 = 0 GROUP BY customer_id ORDER BY 1")
        self.states = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT clv_summary_state_send(s::clv_summary_state) FROM unnest(%s::text[]) s", (self.states,))
        self.state_bytes = {"clv_summary_state": [bytes(r[0]) for r in cur.fetchall()]}


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------

BIG = "__clv_fuzz_big__"
J_EXTREME = [0, -1, 1e308, -1e308, 1e-308, 5e-324, 1e-320, BIG, "x", None, True, [], {}, [1, 2],
             2 ** 63, 1e20, "NaN", "Infinity", 0.5, 1, 2147483648, "bgnbd", "kmeans", {"method": "none"}]
OPTION_KEYS = ["time_unit", "penalizer", "max_iterations", "tolerance", "n_init", "max_iter", "tol",
               "seed", "scaling", "verbose", "sample_size", "no_such_option", "n_rounds", "max_depth",
               "objective", "mode", "n_trees", "cv_folds", "early_stopping_rounds"]


def json_text(obj):
    return json.dumps(obj).replace(f'"{BIG}"', "1e400")


def mutate_json(obj, rnd, depth=0):
    """One random change somewhere in a JSON value: a value replaced by an
    extreme, a key dropped or added, a list shortened or lengthened."""
    if isinstance(obj, dict) and obj and depth < 4:
        key = rnd.choice(sorted(obj))
        op = rnd.random()
        out = dict(obj)
        if op < 0.35:
            out[key] = rnd.choice(J_EXTREME)
        elif op < 0.55:
            del out[key]
        elif op < 0.7:
            out[rnd.choice(OPTION_KEYS + ["r", "alpha", "k", "features"])] = rnd.choice(J_EXTREME)
        else:
            out[key] = mutate_json(obj[key], rnd, depth + 1)
        return out
    if isinstance(obj, list) and obj and depth < 4:
        out = list(obj)
        i = rnd.randrange(len(out))
        op = rnd.random()
        if op < 0.3:
            out[i] = rnd.choice(J_EXTREME)
        elif op < 0.45:
            del out[i]
        elif op < 0.6:
            out.append(rnd.choice(out))
        elif op < 0.7:
            out = out * rnd.choice([2, 50])
        else:
            out[i] = mutate_json(out[i], rnd, depth + 1)
        return out
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return rnd.choice([obj * -1, obj * 1e300, obj / 1e300, 0, obj + 1e-9, rnd.choice(J_EXTREME)])
    return rnd.choice(J_EXTREME)


def mutated(obj, rnd):
    for _ in range(rnd.randint(1, 3)):
        obj = mutate_json(obj, rnd)
    return obj


TOKEN_EXTREME = ["0", "-1", "1", "2147483647", "-2147483648", "2147483648", "9223372036854775807",
                 "-9223372036854775808", "67108000", "1000000", "nan", "inf", "-inf", "1e308", "-1e308",
                 "", "x", "v1", "day", "1:1:1", "0:0:0", "2147483647:1:1e308", "-2147483648:1:-1e308",
                 "1:2:3", "1:-1:0", "5:1:nan"]


def mutate_state_text(text, rnd):
    """Token-level changes to a valid state literal."""
    toks = text.split(" ")
    for _ in range(rnd.randint(1, 3)):
        if not toks:
            toks = [""]
        op = rnd.random()
        i = rnd.randrange(len(toks))
        if op < 0.5:
            toks[i] = rnd.choice(TOKEN_EXTREME)
        elif op < 0.6 and len(toks) > 1:
            del toks[i]
        elif op < 0.7:
            toks.insert(i, toks[i])
        elif op < 0.8:
            toks = toks[:i]
        elif op < 0.9 and ":" in toks[i]:
            parts = toks[i].split(":")
            parts[rnd.randrange(len(parts))] = rnd.choice(TOKEN_EXTREME[:16])
            toks[i] = ":".join(parts)
        else:
            toks.append(rnd.choice(TOKEN_EXTREME))
    return " ".join(toks)


B_EXTREME = [struct.pack(">i", v) for v in (INT_MAX, INT_MIN, -1, 0, 1, 67108000, 1 << 26)] + \
            [struct.pack(">q", v) for v in (2 ** 63 - 1, -2 ** 63, 0)] + \
            [struct.pack(">d", v) for v in (NAN, INF, -INF, 1e308)]


def mutate_bytes(data, rnd):
    """Byte-level changes to a valid binary value."""
    b = bytearray(data)
    for _ in range(rnd.randint(1, 3)):
        op = rnd.random()
        if op < 0.35 and b:
            w = rnd.choice(B_EXTREME)
            i = rnd.randrange(max(1, len(b) - len(w) + 1))
            b[i:i + len(w)] = w
        elif op < 0.55 and b:
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif op < 0.7:
            b = b[:rnd.randrange(len(b) + 1)]
        elif op < 0.85:
            b += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
        else:
            b = bytearray(rnd.randrange(256) for _ in range(rnd.randint(0, 80)))
    return bytes(b)


# ---------------------------------------------------------------------------
# Arguments by type (and name)
# ---------------------------------------------------------------------------

def typical_float(rnd, name):
    if name == "frequency":
        return float(rnd.randint(0, 30))
    if name in ("recency", "t"):
        return rnd.uniform(0, 60)
    if name == "horizon":
        return rnd.choice([1.0, 4.0, 13.0, 26.0, 52.0, 104.0, rnd.uniform(0, 200)])
    if name == "monetary_value":
        return loguniform(rnd, 1, 500)
    if name == "discount_rate":
        return rnd.choice([0.0, 0.01, 0.1])
    if name == "margin":
        return rnd.choice([0.1, 0.3, 1.0])
    if name == "acquisition_days":
        return rnd.uniform(0, 365)
    if name in ("activity", "spend"):
        return rnd.gauss(0, 1.5)
    return rnd.choice([float(rnd.randint(0, 20)), rnd.uniform(-10, 100), loguniform(rnd, 1e-4, 1e4)])


def typical_int(rnd, name):
    ranges = {"k": (1, 6), "k_min": (1, 4), "k_max": (1, 6), "n_customers": (0, 100),
              "max_frequency": (0, 25), "recency_steps": (1, 25), "n": (0, 10), "version": (1, 3),
              "r_score": (0, 6), "f_score": (0, 6), "m_score": (0, 6)}
    lo, hi = ranges.get(name, (-5, 100))
    if name == "seed":
        return rnd.randint(INT_MIN, INT_MAX)
    return rnd.randint(lo, hi)


class Level:
    """How wild one call is: the chance that an argument is extreme, or
    NULL.  Two calls in five are clean (typical values only), so that they
    get past the validation into the computation."""

    def __init__(self, rnd):
        self.extreme = rnd.choice([0.0, 0.0, 0.1, 0.25, 0.5])
        self.null = rnd.choice([0.0, 0.0, 0.0, 0.05, 0.15])

    def wild(self, rnd):
        return rnd.random() < self.extreme


def gen_float(rnd, name, lv):
    return rnd.choice(F_EXTREME) if lv.wild(rnd) else typical_float(rnd, name)


def gen_int(rnd, name, lv):
    return rnd.choice(I_EXTREME) if lv.wild(rnd) else typical_int(rnd, name)


def gen_timestamp(rnd, name, lv):
    if lv.wild(rnd):
        return rnd.choice(TS_EXTREME)
    day = rnd.randint(-400, 500)
    return time.strftime(
        "%Y-%m-%d %H:%M:%S+00", time.gmtime(1577836800 + day * 86400 + rnd.randint(0, 86399)))


VALID_TEXT = {"transaction_model": ["bgnbd", "pareto_nbd", "mbgnbd", "bgbb", None],
              "spend_model": ["gamma_gamma", None], "time_unit": ["day", "week", "month", "year"],
              "value_column": ["total_amount", "monetary_value", "frequency", None]}


def gen_text(rnd, name, fname, pools, lv):
    if name in ("source", "transactions"):
        return gen_source(rnd, lv, name == "transactions")
    if name in VALID_TEXT and not lv.wild(rnd):
        return rnd.choice(VALID_TEXT[name])
    if name in NAMED_TEXT and rnd.random() < 0.6:
        return rnd.choice(NAMED_TEXT[name])
    if name == "name" and not lv.wild(rnd):
        want_km = "kmeans" in fname or "cluster" in fname
        names = [m[0] for m in pools.models if (m[1] == "kmeans") == want_km]
        return rnd.choice(names or pools.names)
    if name == "name" and rnd.random() < 0.6:
        return rnd.choice(pools.names + ["no_such_model", "", " ", "FZ_BGNBD", "fz_bgnbd; DROP TABLE x"]
                          + [json.dumps(p) for p in pools.params] + JSON_TEXT)
    r = rnd.random()
    if r < 0.25:
        return rnd.choice(pools.names)
    if r < 0.45:
        return gen_source(rnd, lv)
    if r < 0.6:
        return rnd.choice(JSON_TEXT + [json.dumps(rnd.choice(pools.params))])
    if r < 0.7:
        return rnd.choice(LONG_TEXT)
    return rnd.choice(WEIRD_TEXT + TIME_UNITS + MODEL_KINDS + COLUMNS)


def gen_params(rnd, fname, pools, lv):
    want_km = ("kmeans" in fname or "cluster" in fname) and rnd.random() < 0.7
    base = rnd.choice(pools.kmeans_params if want_km and pools.kmeans_params else pools.btyd_params or pools.params)
    if not lv.wild(rnd) or rnd.random() < 0.3:
        return json_text(base)
    if rnd.random() < 0.8:
        return json_text(mutated(base, rnd))
    return rnd.choice(['{}', '[]', 'null', '1', '"bgnbd"', '{"transaction_model": "bgnbd"}',
                       '{"transaction_model": null}', '{"spend_model": "gamma_gamma", "p": 1, "q": 1, "gamma": 1}',
                       '{"transaction_model": "kmeans"}', '{"k": 10000}', Expr("repeat('[', 5000)"),
                       Expr("(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 10000) g)::text"),
                       "{", "NaN"])


def gen_options(rnd, pools, lv):
    base = rnd.choice(pools.options)
    if not lv.wild(rnd):
        return json_text(base) if rnd.random() < 0.5 else "{}"
    r = rnd.random()
    if r < 0.5:
        return json_text({rnd.choice(OPTION_KEYS): rnd.choice(J_EXTREME + [rnd.choice(TIME_UNITS)])
                          for _ in range(rnd.randint(1, 3))})
    if r < 0.85:
        return json_text(mutated(base if base else {"seed": 1}, rnd))
    return rnd.choice(['[]', 'null', '1', '"x"', '{"time_unit": "day"}', '{"n_init": 1, "max_iter": 1}'])


def gen_float_array(rnd, name, pools, lv):
    d = len(rnd.choice(pools.features)) if pools.features else 3
    if not lv.wild(rnd):
        return [typical_float(rnd, "") for _ in range(d)]
    if rnd.random() < 0.4:
        v = [typical_float(rnd, "") for _ in range(d)]
        v[rnd.randrange(d)] = rnd.choice(F_EXTREME + [None])
        return v
    return rnd.choice([[], [None], [1.0], [1.0] * (d + 1), [[1.0] * d, [2.0] * d], [NAN] * d, [INF] * d,
                       [1e308] * d, [-1e308] * d, Expr("array_fill(1.5::float8, ARRAY[10000])"),
                       Expr("array_fill(1.5::float8, ARRAY[1, 1, 1])")])


def gen_text_array(rnd, name, pools, lv):
    if not lv.wild(rnd) and pools.features:
        return list(rnd.choice(pools.features))
    if rnd.random() < 0.4:
        return [rnd.choice(COLUMNS[:12]) for _ in range(rnd.randint(1, 4))]
    return rnd.choice([[], [None], ["frequency", None], ["frequency"] * 50, ["no_such_column"],
                       ["first_purchase"], ["frequency; DROP TABLE x"], [""], ["a", "b", "c"],
                       Expr("array_fill('frequency'::text, ARRAY[1000])"), [["frequency", "t"], ["a", "b"]]])


def gen_state(rnd, typname, pools, lv):
    if typname != "clv_summary_state" or not pools.states:
        return rnd.choice(["", "x", "v1", "0"])
    if not lv.wild(rnd) or rnd.random() < 0.2:
        return rnd.choice(pools.states)
    if rnd.random() < 0.75:
        return mutate_state_text(rnd.choice(pools.states), rnd)
    if rnd.random() < 0.5:
        return " ".join(rnd.choice(TOKEN_EXTREME) for _ in range(rnd.randint(0, 12)))
    return rnd.choice(["", "v1", "v1 week 0 0 0 0 0 0", "v1 week 0 0 0 0 0 67108000", "v2 week 0 0 0 0 0 0",
                       "v1 week 1 0 0 0 0 1 0:1:1", "v1 week 0 -9223372036854775808 9223372036854775807 "
                       "-2147483648 2147483647 2 -2147483648:1:1 2147483647:1:1",
                       "v1 week 0 0 0 0 0 2147483647", Expr("'v1 day 0 0 0 0 0 5000 ' || "
                       "(SELECT string_agg(g || ':1:1', ' ') FROM generate_series(1, 5000) g)")])


class ArgType:
    def __init__(self, name, category, elem, input_of):
        self.name, self.category, self.elem, self.input_of = name, category, elem, input_of


def gen_value(rnd, argname, at, fname, pools, lv):
    """A random value for one argument; None is NULL."""
    if rnd.random() < lv.null:
        return None
    t = at.name
    if t == "double precision" or (at.category == "N" and t in ("real", "numeric")):
        return gen_float(rnd, argname, lv)
    if at.category == "N":
        return gen_int(rnd, argname, lv)
    if t == "text" or at.category == "S":
        return gen_text(rnd, argname, fname, pools, lv)
    if t in ("jsonb", "json"):
        return gen_options(rnd, pools, lv) if argname == "options" else gen_params(rnd, fname, pools, lv)
    if at.category == "D":
        return gen_timestamp(rnd, argname, lv)
    if at.category == "B":
        return rnd.choice([True, False])
    if at.category == "A":
        if at.elem in ("double precision", "real", "numeric"):
            return gen_float_array(rnd, argname, pools, lv)
        return gen_text_array(rnd, argname, pools, lv)
    if t == "cstring":
        # the text input function of a type gets literals of that type
        return gen_state(rnd, at.input_of, pools, lv) if at.input_of else gen_text(rnd, argname, fname, pools, lv)
    return gen_state(rnd, t, pools, lv)


# ---------------------------------------------------------------------------
# Watching calls
# ---------------------------------------------------------------------------

class Watchdog(threading.Thread):
    """Terminates, then kills, a backend whose call ignores the timeout."""

    def __init__(self, connect):
        super().__init__(daemon=True)
        self.connect = connect
        self.cond = threading.Condition()
        self.pid = None
        self.t0 = 0.0
        self.action = None
        self.killed = set()
        self.admin = None

    def arm(self, pid):
        with self.cond:
            self.pid, self.t0, self.action = pid, time.monotonic(), None
            self.cond.notify()

    def disarm(self):
        with self.cond:
            self.pid = None
            return self.action

    def _terminate(self, pid):
        for _ in range(2):      # the admin connection may be from before a crash
            try:
                if self.admin is None or self.admin.closed:
                    self.admin = self.connect(autocommit=True)
                with self.admin.cursor() as c:
                    c.execute("SELECT pg_terminate_backend(%s)", (pid,))
                return
            except psycopg2.Error:
                self.admin = None

    def run(self):
        while True:
            with self.cond:
                while self.pid is None:
                    self.cond.wait()
                pid, elapsed, action = self.pid, time.monotonic() - self.t0, self.action
            if elapsed > KILL_AFTER and action == "terminate":
                with self.cond:
                    if self.pid == pid:
                        self.action = "kill"
                        self.killed.add(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            elif elapsed > TERMINATE_AFTER and action is None:
                with self.cond:
                    if self.pid == pid:
                        self.action = "terminate"
                self._terminate(pid)
            time.sleep(0.05)


class ServerLog:
    """New lines of the server log (the throwaway cluster of tools/test.sh
    logs to $PGHOST/server.log; CLV_SERVER_LOG overrides)."""

    # postmaster's report of a crashed backend, a PANIC, a failed assertion
    PATTERN = re.compile(r"LOG:.*\(PID \d+\) was terminated by signal|\] (?:[0-9A-Z]{5} )?PANIC:|^TRAP:")

    def __init__(self):
        path = os.environ.get("CLV_SERVER_LOG") or os.path.join(os.environ.get("PGHOST", "/nonexistent"),
                                                                 "server.log")
        self.path = path if os.access(path, os.R_OK) else None
        self.start = self.offset = os.path.getsize(path) if self.path else 0

    def new_lines(self, since=None):
        if not self.path:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset if since is None else since)
            data = f.read()
            self.offset = f.tell()
        return data.decode("utf-8", "replace").splitlines()

    def crashes(self, lines, killed):
        return [ln for ln in lines if self.PATTERN.search(ln)
                and not any(f"(PID {pid})" in ln for pid in killed)]


class Runner:
    def __init__(self):
        self.log = ServerLog()
        self.watchdog = Watchdog(self.connect)
        self.watchdog.start()
        self.conn = None
        self.reconnect()

    @staticmethod
    def connect(autocommit=False):
        conn = psycopg2.connect(dbname=DB, application_name="clv_function_fuzz")
        conn.autocommit = autocommit
        return conn

    def reconnect(self):
        """A new connection, waiting out a crash restart of the server."""
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                self.conn = self.connect(autocommit=True)
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with self.conn.cursor() as c:
            c.execute("SET statement_timeout = '1s'")
            c.execute("SET client_min_messages = error")
            c.execute("SELECT pg_backend_pid()")
            self.pid = c.fetchone()[0]
        self.conn.autocommit = False

    def attempt(self, execute):
        """Runs one call; returns (kind, detail, elapsed, rows, description)."""
        offset = self.log.offset
        cur = self.conn.cursor()
        self.watchdog.arm(self.pid)
        t0 = time.monotonic()
        rows = desc = None
        try:
            execute(cur)
            desc = cur.description
            rows = cur.fetchmany(MAX_ROWS) if desc else []
            kind, detail = "ok", None
        except psycopg2.Error as e:
            kind, detail = "error", (e.pgcode, ((e.pgerror or str(e)).strip().splitlines() or [""])[0])
        elapsed = time.monotonic() - t0
        action = self.watchdog.disarm()
        lost = self.conn.closed != 0
        if not lost:
            try:
                self.conn.rollback()
            except psycopg2.Error:
                lost = True
        if action:
            kind, detail = "hang", f"still running after {TERMINATE_AFTER:.0f} s under statement_timeout = 1s; " \
                                   + ("pg_terminate_backend ended it" if action == "terminate"
                                      else f"ignored pg_terminate_backend, killed with SIGKILL after {KILL_AFTER:.0f} s")
        elif lost:
            time.sleep(0.5)     # the postmaster logs the crash after the client notices
            lines = self.log.crashes(self.log.new_lines(since=offset), self.watchdog.killed)
            kind, detail = "crash", "connection lost" + (": " + "; ".join(lines[:3]) if lines else
                                                        f" ({detail[0]}: {detail[1]})" if detail else "")
        if lost or action:
            time.sleep(0.2)
            self.reconnect()
        return kind, detail, elapsed, rows, desc


# ---------------------------------------------------------------------------
# Result checks
# ---------------------------------------------------------------------------

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def json_nonfinite(text, echo):
    """Numbers beyond float8 and the strings that float8 NaN and infinities
    become in json, unless the call's own arguments hold them (a function
    may hand back the json it was given)."""
    bad = []

    def num(s):
        if not math.isfinite(float(s)) and Decimal(s) not in {Decimal(n) for n in NUMBER.findall(echo)}:
            bad.append(s)
        return 0

    def const(s):
        bad.append(s)
        return 0

    def walk(v):
        if isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity") and v not in echo:
            bad.append(json.dumps(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    try:
        walk(json.loads(text, parse_float=num, parse_int=num, parse_constant=const))
    except ValueError:
        return None
    return bad


def nonfinite(value, type_oid, echo):
    """A description of the non-finite numbers in one result value, or None."""
    if value is None:
        return None
    if type_oid in JSON_OIDS and isinstance(value, str):
        bad = json_nonfinite(value, echo)
        return f"json {', '.join(bad)}" if bad else None
    if isinstance(value, float):
        return None if math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return None if value.is_finite() else str(value)
    if isinstance(value, (list, tuple)):
        for v in value:
            b = nonfinite(v, None, echo)
            if b:
                return b
    return None


def check_rows(rows, desc, echo):
    for i, row in enumerate(rows):
        for col, v in zip(desc, row):
            b = nonfinite(v, col.type_code, echo)
            if b:
                return f"row {i + 1} column {col.name} is {b}"
    return None


def check(cond, name, diag):
    """ok(), with the diagnostics of a failure on stderr, where prove shows
    them (as Test::More does): the failing calls belong in the CI log."""
    ok(cond, name)
    if not cond:
        for line in diag.splitlines():
            print(f"# {line}", file=sys.stderr)
        sys.stderr.flush()


# ---------------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------------

def catalog(cur):
    cur.execute("""
        SELECT p.oid, quote_ident(n.nspname) || '.' || quote_ident(p.proname), p.proname,
               p.oid::regprocedure::text, p.prokind, p.proretset, p.pronargs, p.pronargdefaults,
               p.provariadic <> 0, p.proargnames, p.proargmodes::text[], rt.typtype,
               ARRAY(SELECT format_type(a.t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY a(t, i) ORDER BY i),
               ARRAY(SELECT ty.typcategory::text FROM unnest(p.proargtypes) WITH ORDINALITY a(t, i)
                     JOIN pg_type ty ON ty.oid = a.t ORDER BY i),
               ARRAY(SELECT coalesce(format_type(ty.typelem, NULL), '') FROM unnest(p.proargtypes)
                     WITH ORDINALITY a(t, i) JOIN pg_type ty ON ty.oid = a.t ORDER BY i),
               (SELECT format_type(t.oid, NULL) FROM pg_type t WHERE t.typinput = p.oid LIMIT 1),
               (SELECT format_type(t.oid, NULL) FROM pg_type t WHERE t.typreceive = p.oid LIMIT 1)
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_type rt ON rt.oid = p.prorettype
        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND e.oid = d.refobjid
        WHERE e.extname = 'clv'
        ORDER BY 4""")
    funcs = []
    for (oid, qname, name, sig, kind, retset, nargs, ndefaults, variadic, argnames, modes, rettyptype,
         types, cats, elems, input_of, recv_of) in cur.fetchall():
        if modes:
            names = [n for n, m in zip(argnames, modes) if m in ("i", "b", "v")]
        else:
            names = list(argnames or [])
        names = (names + [""] * nargs)[:nargs]
        args = [ArgType(t, c, e, input_of if t == "cstring" else None) for t, c, e in zip(types, cats, elems)]
        funcs.append(dict(oid=oid, qname=qname, name=name, sig=sig, kind=kind, retset=retset,
                          ndefaults=ndefaults, variadic=variadic, argnames=names, args=args,
                          composite=rettyptype == "c", recv_of=recv_of))
    return funcs


def coherent_customer(rnd, f, values, pools):
    """Fills frequency/recency/t (and monetary_value) from one real customer."""
    idx = {n: i for i, n in enumerate(f["argnames"])}
    if not {"frequency", "recency", "t"} <= idx.keys() or rnd.random() > 0.6:
        return
    # BG/BB customers are counts of discrete periods
    bgbb = any(isinstance(v, str) and "bgbb" in v for v in values)
    row = rnd.choice(pools.discrete if bgbb else pools.customers)
    for n, v in zip(("frequency", "recency", "t", "monetary_value"), row):
        if n in idx and idx[n] < len(values) and f["args"][idx[n]].name == "double precision":
            values[idx[n]] = v


def function_call(rnd, f, pools):
    """SQL text and parameters for one call of a plain function or procedure."""
    nargs = len(f["args"])
    n = nargs
    if f["ndefaults"] and rnd.random() < 0.3:
        n = nargs - rnd.randint(1, f["ndefaults"])
    lv = Level(rnd)
    values = [gen_value(rnd, f["argnames"][i], f["args"][i], f["name"], pools, lv) for i in range(n)]
    coherent_customer(rnd, f, values, pools)
    ph = [f"%s::{a.name}" for a in f["args"][:n]]
    if f["variadic"] and n == nargs:
        ph[-1] = "VARIADIC " + ph[-1]
    call = f"{f['qname']}({', '.join(ph)})"
    if f["kind"] == "p":
        return f"CALL {call}", values
    return f"SELECT * FROM {call} LIMIT {MAX_ROWS}", values


def aggregate_call(rnd, f, pools):
    """An aggregate (or window function) over a few VALUES rows in groups."""
    nrows = rnd.randint(1, 6)
    # the first arguments are the data (they vary by row), the others the
    # settings of the group (constant, as they must be, most of the time)
    consts = [rnd.random() < (0.2 if i < 2 else 0.85) for i in range(len(f["args"]))]
    lv = Level(rnd)
    first = [gen_value(rnd, f["argnames"][i], a, f["name"], pools, lv) for i, a in enumerate(f["args"])]
    rows, params = [], []
    for r in range(nrows):
        cells = ["%s::int"]
        params.append(rnd.randint(1, 2))
        for i, a in enumerate(f["args"]):
            v = first[i] if consts[i] or r == 0 else gen_value(rnd, f["argnames"][i], a, f["name"], pools, lv)
            cells.append(f"%s::{a.name}")
            params.append(v)
        rows.append("(" + ", ".join(cells) + ")")
    cols = ", ".join(f"c{i}" for i in range(len(f["args"])))
    call = f"{f['qname']}({', '.join('v.c%d' % i for i in range(len(f['args'])))})"
    src = f"(VALUES {', '.join(rows)}) v(g, {cols})"
    if f["kind"] == "w":
        inner = f"SELECT {call} OVER (PARTITION BY v.g) AS r FROM {src}"
    elif rnd.random() < 0.15:
        inner = f"SELECT {call} AS r FROM {src} WHERE v.g < 0"
    else:
        inner = f"SELECT {call} AS r FROM {src} GROUP BY v.g"
    out = "(q.r).*" if f["composite"] else "q.r"
    return f"SELECT {out} FROM ({inner}) q LIMIT {MAX_ROWS}", params


def copy_payload(field):
    """A binary COPY stream of one row with one field (None: NULL)."""
    out = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + struct.pack(">h", 1)
    out += struct.pack(">i", -1) if field is None else struct.pack(">i", len(field)) + field
    return out + struct.pack(">h", -1)


def recv_call(rnd, f, pools, table):
    """A binary receive function, reached through COPY FROM STDIN (FORMAT binary)."""
    valid = pools.state_bytes.get(f["recv_of"], [b""])
    r = rnd.random()
    field = None if r < 0.05 else rnd.choice(valid) if r < 0.3 else mutate_bytes(rnd.choice(valid), rnd)
    shown = "NULL" if field is None else "\\x" + field.hex()

    def execute(cur):
        cur.copy_expert(f"COPY {table} (v) FROM STDIN (FORMAT binary)", io.BytesIO(copy_payload(field)))
        cur.execute(f"SELECT v::text, v FROM {table}")
    return execute, f"COPY {table} (v) FROM STDIN (FORMAT binary) -- one field {shown}"


def fuzz_signature(runner, f, pools, ncalls, failures):
    rnd = random.Random(f"{SEED}:{f['sig']}")
    stats = Counter()
    codes = Counter()
    bad = []
    recv_table = None
    if any(a.name == "internal" for a in f["args"]):
        if not (f["recv_of"] and len(f["args"]) <= 3):
            ok(True, f"{f['sig']} # SKIP takes internal and is no type's receive function")
            return
        recv_table = "fz_recv_" + re.sub(r"\W", "_", f["recv_of"])
        with runner.conn.cursor() as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {recv_table} (v {f['recv_of']})")
        runner.conn.commit()
    for _ in range(ncalls):
        if recv_table:
            execute, shown = recv_call(rnd, f, pools, recv_table)
        else:
            sql, params = (aggregate_call if f["kind"] in ("a", "w") else function_call)(rnd, f, pools)
            with runner.conn.cursor() as c:
                shown = c.mogrify(sql, params).decode()

            def execute(cur, shown=shown):
                cur.execute(shown)
        kind, detail, elapsed, rows, desc = runner.attempt(execute)
        if kind not in ("hang", "crash") and elapsed > WALL_LIMIT:
            # a loaded machine, or a call that does not honour the timeout?
            kind, detail, elapsed2, rows, desc = runner.attempt(execute)
            if kind not in ("hang", "crash") and elapsed2 > WALL_LIMIT:
                kind, detail = "slow", f"took {elapsed:.1f} s and {elapsed2:.1f} s under statement_timeout = 1s"
        stats["calls"] += 1
        if VERBOSE:
            print(f"# {elapsed:.3f}s {kind} {detail if kind != 'ok' else len(rows or [])}: {shown[:300]}")
        problem = None
        if kind == "ok":
            stats["returned"] += 1
            problem = check_rows(rows, desc, shown) if desc else None
            if problem:
                problem = "non-finite result: " + problem
        elif kind == "error":
            code, msg = detail
            if code == "57014":
                stats["cancelled"] += 1
            else:
                stats["errors"] += 1
                codes[code] += 1
            if code is None or code.startswith("XX"):
                problem = f"{code or 'client error'}: {msg}"
        else:
            problem = f"{kind}: {detail}"
        if problem:
            bad.append((shown, problem))
            failures.append((f["sig"], shown, problem))
    summary = (f"{stats['calls']} calls: {stats['returned']} returned, {stats['errors']} errors"
               + (f" ({', '.join(f'{c} x{n}' for c, n in codes.most_common(4))})" if codes else "")
               + f", {stats['cancelled']} cancelled at 1 s")
    diag = "\n".join(f"{p}\n  call: {s[:2000]}" for s, p in bad[:MAX_DIAG])
    if len(bad) > MAX_DIAG:
        diag += f"\n... and {len(bad) - MAX_DIAG} more failing calls"
    check(not bad, f"{f['sig']}: {summary}", diag)


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------

SETUP = """
CREATE TABLE fz_transactions AS
SELECT customer_id, purchased_at, amount FROM clv_simulate_transactions(
  '{"transaction_model": "bgnbd", "r": 0.8, "alpha": 4, "a": 0.6, "b": 2.5,
    "spend_model": "gamma_gamma", "p": 6, "q": 4, "gamma": 15}', 150, '2020-01-01', 60, 60, 'week', 11);
CREATE TABLE fz_customers AS
SELECT customer_id, (clv_summary(purchased_at, amount, '2020-10-01', '2021-02-01', 'week')).*
FROM fz_transactions GROUP BY customer_id;
CREATE VIEW fz_customers_view AS SELECT * FROM fz_customers WHERE frequency > 0;
CREATE TABLE fz_discrete (frequency int, recency int, t int, weight int, holdout int);
CREATE AGGREGATE fz_state(timestamptz, float8, timestamptz) (sfunc = clv_summary_transfn, stype = clv_summary_state);
CREATE AGGREGATE fz_state(timestamptz, float8, timestamptz, timestamptz, text)
    (sfunc = clv_summary_transfn, stype = clv_summary_state);
"""
TRAIN = [
    "SELECT clv_train('fz_bgnbd', 'fz_customers')",
    "SELECT clv_train('fz_pnbd', 'fz_customers', 'pareto_nbd')",
    "SELECT clv_train('fz_mbgnbd', 'fz_customers', 'mbgnbd')",
    "SELECT clv_train('fz_bgbb', 'fz_discrete', 'bgbb', NULL, '{\"time_unit\": \"year\"}')",
    "SELECT clv_train('fz_gg', 'fz_customers', NULL, 'gamma_gamma')",
    "SELECT clv_kmeans_train('fz_km', 'fz_customers', ARRAY['frequency', 'days_since_last', 'total_amount'], 3)",
    "SELECT clv_kmeans_train('fz_km2', 'SELECT * FROM fz_customers WHERE monetary_value IS NOT NULL',"
    " ARRAY['recency', 'monetary_value'], 2, '{\"scaling\": \"log_zscore\", \"n_init\": 2}')",
    "SELECT clv_regressor_train('fz_xgb', 'fz_customers', 'total_amount', ARRAY['frequency', 'recency', 't'],"
    " '{\"n_rounds\": 10}')",
]


def setup():
    conn = fresh_db(DB)
    cur = conn.cursor()
    cur.execute(SETUP)
    with open(data_path("BTYD_donationsSummary_rf_matrix.csv")) as fh:
        cur.copy_expert("COPY fz_discrete FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
    for sql in TRAIN:
        cur.execute(sql)
    ok(True, "a database with customers, transactions and trained models of every kind")
    conn.close()


def main():
    setup()
    runner = Runner()
    with runner.conn.cursor() as c:
        pools = Pools(c)
        funcs = catalog(c)
    runner.conn.rollback()
    ok(len(funcs) > 0, f"{len(funcs)} functions of the clv extension found in pg_proc")
    per = max(10, CALLS // max(1, len(funcs)))
    print(f"# seed {SEED!r}, {per} calls per signature")
    failures = []
    t0 = time.monotonic()
    for f in funcs:
        fuzz_signature(runner, f, pools, per, failures)
    print(f"# {len(funcs) * per} calls in {time.monotonic() - t0:.1f} s, "
          f"{len(failures)} failing in {len({sig for sig, _, _ in failures})} signatures")
    with runner.conn.cursor() as c:
        c.execute("SELECT 1")
        ok(c.fetchone()[0] == 1, "backend alive after fuzzing")
    runner.conn.rollback()
    if runner.log.path:
        lines = runner.log.crashes(runner.log.new_lines(since=runner.log.start), runner.watchdog.killed)
        check(not lines, "server log: no backend terminated by a signal, no PANIC, no TRAP", "\n".join(lines[:20]))
    else:
        ok(True, "server log # SKIP not readable (set CLV_SERVER_LOG)")


if __name__ == "__main__":
    run(main)
