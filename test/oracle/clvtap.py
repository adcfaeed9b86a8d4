"""Minimal TAP output and database access for clv's Python oracle tests.

The oracles are independent implementations (numpy/scipy/scikit-learn from
Debian) that check what clv computes inside PostgreSQL.  Each test script
prints TAP, so prove runs them beside the Perl tests.  They connect to the
throwaway cluster started by tools/test.sh (PGHOST/PGPORT/PGUSER).
"""
import os
import sys
import traceback

import psycopg2

ROOT = os.environ.get("CLV_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

_count = 0
_failed = 0


def ok(cond, name, diag=None):
    global _count, _failed
    _count += 1
    if cond:
        print(f"ok {_count} - {name}")
    else:
        _failed += 1
        print(f"not ok {_count} - {name}")
        if diag:
            for line in str(diag).splitlines():
                print(f"# {line}")
    sys.stdout.flush()
    return cond


def close(x, y, rel=1e-6, abs_=0.0):
    return abs(x - y) <= max(abs_, rel * max(abs(x), abs(y)))


def is_close(got, want, name, rel=1e-6, abs_=0.0):
    return ok(close(got, want, rel, abs_), name, f"got {got!r}, want {want!r} (rel {rel}, abs {abs_})")


def done():
    print(f"1..{_count}")
    sys.exit(1 if _failed else 0)


def fresh_db(name):
    """A new database with clv installed; returns an autocommit connection."""
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    conn = psycopg2.connect(dbname=name)
    conn.autocommit = True
    with conn.cursor() as c:
        c.execute("CREATE EXTENSION clv")
    return conn


def data_path(name):
    return os.path.join(ROOT, "data", name)


def run(main):
    """Run a test body, turning an unexpected exception into a failed test."""
    try:
        main()
    except Exception:
        ok(False, "unexpected exception", traceback.format_exc())
    done()
