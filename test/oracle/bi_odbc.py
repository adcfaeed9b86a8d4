"""BI tools read clv through ODBC: the README's BI views (the block after
<!-- bi-views --> in README.md) over the CDNOW sample, read with psqlODBC
through pyodbc (Debian's odbc-postgresql and python3-pyodbc), deliver every
column as a plain number, text or date, with the values psycopg2 reads."""
import datetime
import os
import re

import pyodbc

import clvtap
from clvtap import ok

PLAIN = (int, float, str, bool, datetime.date, datetime.datetime)


def readme_block(marker):
    with open(os.path.join(clvtap.ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(re.escape(marker) + r"\s*```sql\n(.*?)```", text, re.S)
    return m.group(1)


def main():
    conn = clvtap.fresh_db("clv_bi_odbc")
    with conn.cursor() as c:
        c.execute("CREATE TABLE raw (masterid int, sampleid int, date int, cds int, sales float8)")
        with open(clvtap.data_path("BTYD_cdnowElog.csv")) as f:
            c.copy_expert("COPY raw FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        c.execute("""CREATE TABLE customers AS
                     SELECT sampleid AS customer_id,
                            (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30')).*
                     FROM raw GROUP BY sampleid""")
        c.execute("SELECT clv_train('shop', 'customers')")
        c.execute(readme_block("<!-- bi-views -->"))

    odbc = pyodbc.connect(
        "Driver={PostgreSQL Unicode};Servername=%s;Port=%s;Database=clv_bi_odbc;UID=%s;BoolsAsChar=0"
        % (os.environ.get("PGHOST", "/tmp"), os.environ.get("PGPORT", "5432"),
           os.environ.get("PGUSER", "postgres")))
    for view, key in (("bi_customer_value", "customer_id"), ("bi_models", "version")):
        cur = odbc.cursor()
        cur.execute(f"SELECT * FROM {view} ORDER BY {key}")
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
        ok(len(rows) > 0, f"{view}: rows arrive through ODBC ({len(rows)})")
        bad = sorted({(names[i], type(v).__name__) for r in rows for i, v in enumerate(r)
                      if v is not None and not isinstance(v, PLAIN)})
        ok(not bad, f"{view}: every column of {len(names)} is a plain number, text or date", bad)
        with conn.cursor() as c:
            c.execute(f"SELECT * FROM {view} ORDER BY {key}")
            want = c.fetchall()
        same = all(clvtap.close(a, b, 1e-12) if isinstance(a, float) else a == b
                   for r, w in zip(rows, want) for a, b in zip(r, w) if not isinstance(a, datetime.datetime))
        ok(len(rows) == len(want) and same, f"{view}: ODBC and libpq read the same values")
    odbc.close()


clvtap.run(main)
