"""The report renders for an analyst's own data (issue 9, section 5).

Two documented ways in: `make report-apparel` (tools/report.sh --load: the
CLVTools apparel data loaded into a throwaway cluster by report/apparel.sql)
and `make report DSN=... MODEL=... SOURCE=...` (tools/report.sh --dsn: an
existing database, here the CDNOW tables of report/cdnow.sql in the shared
test cluster, read in read-only transactions).  Every chart must exist as a
PNG of the expected size with data drawn in it (the pixels are decoded here:
a chart whose series are missing has only grey axes and text), and the
numbers behind the charts must be clv's own (gains against
clv_holdout_metrics, K-Means names from clv_kmeans_profile, BG/NBD's
P(alive) of one-time buyers)."""
import csv
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy

import clvtap
from clvtap import ok

CHARTS = ["tracking_cumulative.png", "tracking_weekly.png", "calibration_holdout.png", "gains.png",
          "p_alive_customers.png", "p_alive.png", "clv.png", "concentration.png", "clv_rfm.png",
          "clv_kmeans.png", "kmeans.png", "segment_value.png"]
LABEL = re.compile(r"^(Loyal power users|(Active|Inactive) (high-value|mid-tier|low-value))( \(cluster \d+\))?$")


def png_pixels(path):
    """The RGB pixels of an 8-bit RGB/RGBA PNG (as gnuplot's pngcairo writes), as (h, w, 3)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6):
        raise ValueError(f"{path}: bit depth {depth}, colour type {ctype}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = numpy.zeros(stride, dtype=numpy.int64)
    rows = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = numpy.frombuffer(raw, dtype=numpy.uint8, count=stride, offset=y * (stride + 1) + 1).astype(numpy.int64)
        if kind == 0:
            cur = line
        elif kind == 1:
            cur = numpy.cumsum(line.reshape(width, bpp), axis=0).reshape(stride) & 255
        elif kind == 2:
            cur = (line + prev) & 255
        else:
            # Average and Paeth depend on the pixel to the left: byte by byte
            cur, up, out = line.tolist(), prev.tolist(), [0] * stride
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    out[i] = (cur[i] + (a + b) // 2) & 255
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    out[i] = (cur[i] + pred) & 255
            cur = numpy.array(out, dtype=numpy.int64)
        rows.append(cur)
        prev = cur
    return numpy.array(rows).reshape(height, width, bpp)[:, :, :3]


def check_charts(out, what):
    """Every chart: a PNG at least 700 x 300 with data drawn in colour (a chart
    without its series has under 100 coloured pixels: the key's samples)."""
    for name in CHARTS:
        path = os.path.join(out, name)
        if not ok(os.path.exists(path), f"{what}: {name} exists"):
            continue
        px = png_pixels(path)
        h, w = px.shape[:2]
        ok(w >= 700 and h >= 300, f"{what}: {name} is {w} x {h}")
        # series are coloured; axes, grid and text are grey (equal channels)
        coloured = int(((px.max(axis=2) - px.min(axis=2)) > 60).sum())
        ok(coloured >= 1000 and os.path.getsize(path) > 10000,
           f"{what}: {name} has data drawn ({coloured} coloured pixels, {os.path.getsize(path)} bytes)")


def colours(path):
    """Distinct saturated colours (quantized to 32 levels) covering 50 pixels or more."""
    px = png_pixels(path)
    sat = px[(px.max(axis=2) - px.min(axis=2)) > 60] // 32
    _, counts = numpy.unique(sat, axis=0, return_counts=True)
    return int((counts >= 50).sum())


def rows(out, name):
    with open(os.path.join(out, name)) as f:
        return list(csv.reader(f))


def run(cmd, what, env=None):
    r = subprocess.run(cmd, cwd=clvtap.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not ok(r.returncode == 0, f"{what} exits 0", r.stdout[-3000:]):
        sys.stderr.write(r.stdout[-3000:])  # prove shows stderr, not the TAP diagnostics
    return r.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="clv-report-")

    # --- an existing database, read-only: make report DSN=... MODEL=... SOURCE=...
    db = "clv_report_cdnow"
    conn = clvtap.fresh_db(db)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", "report/cdnow.sql"],
                   cwd=clvtap.ROOT, check=True, stdout=subprocess.DEVNULL)
    with conn.cursor() as c:
        c.execute("SELECT (SELECT count(*) FROM pg_class WHERE relpersistence <> 't'), (SELECT count(*) FROM clv_models)")
        before = c.fetchone()
    out = os.path.join(tmp, "cdnow")
    log = run(["make", "-s", "report", f"DSN=dbname={db}", "MODEL=cdnow", "SOURCE=cdnow_customers",
               "COMPARE=cdnow_pnbd", "TRANSACTIONS=cdnow_transactions", "SEGMENTS=cdnow_segments", f"OUT={out}"],
              "make report DSN=... MODEL=cdnow SOURCE=cdnow_customers")
    check_charts(out, "CDNOW (--dsn)")
    with conn.cursor() as c:
        c.execute("SELECT (SELECT count(*) FROM pg_class WHERE relpersistence <> 't'), (SELECT count(*) FROM clv_models)")
        after = c.fetchone()
        ok(before == after, f"--dsn creates no relation and trains no model ({before} / {after})")
        c.execute("SELECT total_actual, total_predicted FROM clv_holdout_metrics('cdnow', 'cdnow_customers')")
        actual, predicted = c.fetchone()
        c.execute("SELECT label FROM clv_kmeans_profile('cdnow_segments', 'cdnow_customers') ORDER BY cluster")
        labels = [r[0] for r in c.fetchall()]
    gains = rows(out, "gains.csv")
    ok(len(gains) == 10 and [int(r[0]) for r in gains] == list(range(1, 11)), "gains: ten deciles")
    clvtap.is_close(sum(float(r[2]) for r in gains), predicted, "gains: the deciles add up to the predicted holdout purchases", 1e-9)
    clvtap.is_close(sum(float(r[3]) for r in gains), actual, "gains: and to the actual ones", 1e-12)
    ok(float(gains[0][3]) > 3 * float(gains[9][3]), "gains: the first decile buys more than the last")
    ok([r[1] for r in rows(out, "kmeans_labels.csv")] == labels,
       "K-Means legend: the names of clv_kmeans_profile", (rows(out, "kmeans_labels.csv"), labels))
    once = [r for r in rows(out, "p_alive_customers.csv") if r[1] == "0"]
    ok(len(once) > 1000 and all(float(r[2]) == 1.0 for r in once) and all(float(r[4]) < 1 for r in once),
       "P(alive): BG/NBD gives every one-time buyer 1, Pareto/NBD less", len(once))
    conc = rows(out, "concentration.csv")
    ok(len(conc) == 201 and float(conc[0][1]) == 0 and clvtap.close(float(conc[-1][1]), 100, 1e-9)
       and all(float(a[1]) <= float(b[1]) + 1e-9 for a, b in zip(conc, conc[1:])),
       "concentration: a Lorenz curve from 0 to 100 %")
    # value per segment (clv_segment_economics): the segments and means of the
    # RFM chart (computed there from clv_predict), inside their intervals
    seg = {r[0]: r for r in rows(out, "segment_value.csv")}
    rfm = {r[0]: r for r in rows(out, "clv_rfm.csv")}
    ok(sorted(seg) == sorted(rfm), "segment value: the segments of the RFM chart", (sorted(seg), sorted(rfm)))
    ok(all(int(seg[k][5]) == int(rfm[k][1]) and clvtap.close(float(seg[k][4]), float(rfm[k][4]), 1e-9)
           for k in seg if k in rfm),
       "segment value: customers and mean CLV as clv_predict gives them", (seg, rfm))
    ok(all(float(r[2]) < float(r[1]) < float(r[3]) for r in seg.values()),
       "segment value: every total inside its interval")
    page = open(os.path.join(out, "index.html")).read()
    ok("without a repeat purchase" in page and "P(alive) = 1" in page and "MBG/NBD" in page
       and "Pareto/NBD" in page, "the page explains BG/NBD's P(alive) = 1 and points to MBG/NBD and Pareto/NBD")

    # --dsn really is read-only: a source that writes (nextval) fails and writes nothing
    with conn.cursor() as c:
        c.execute("CREATE SEQUENCE report_probe")
    r = subprocess.run(["bash", "tools/report.sh", "--dsn", f"dbname={db}", "--model", "cdnow",
                        "--source", "SELECT c.*, nextval('report_probe') AS n FROM cdnow_customers c",
                        "--out", os.path.join(tmp, "probe")],
                       cwd=clvtap.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with conn.cursor() as c:
        c.execute("SELECT is_called FROM report_probe")
        called = c.fetchone()[0]
    ok(r.returncode != 0 and "read-only transaction" in r.stdout and not called,
       "--dsn: a source that writes fails in the read-only transaction", r.stdout[-800:])

    # --- the apparel example in a throwaway cluster: make report-apparel
    out = os.path.join(tmp, "apparel")
    env = dict(os.environ)
    for k in ("PGHOST", "PGPORT", "PGDATABASE"):
        env.pop(k, None)
    # the suite's staged pg_config is first on PATH and would point the nested
    # staging's `make install` at the suite's own private prefix
    env["PG_CONFIG"] = "/usr/lib/postgresql/15/bin/pg_config"
    run(["make", "-s", "report-apparel", f"OUT={out}"], "make report-apparel", env)
    check_charts(out, "apparel (--load)")
    labels = [r[1] for r in rows(out, "kmeans_labels.csv")]
    ok(len(labels) == 4 and all(LABEL.match(x) for x in labels), "apparel: segments named by profile", labels)
    n = colours(os.path.join(out, "kmeans.png"))
    ok(n >= 4, f"apparel: the four segments of the scatter have their own colours ({n})")
    cal = rows(out, "calibration.csv")
    ok(len(cal) == 8 and len(cal[0]) == 7, "apparel: calibration vs holdout of three models in eight groups")
    # the finding: BG/NBD over-predicts the one-time buyers, Pareto/NBD does not
    ok(float(cal[0][4]) > 2 * float(cal[0][3]) and float(cal[0][6]) < 1.5 * float(cal[0][3]),
       "apparel: BG/NBD over-predicts one-time buyers at least 2x, Pareto/NBD within 1.5x", cal[0])
    page = open(os.path.join(out, "index.html")).read()
    ok("MBG/NBD" in page and "P(alive) = 1" in page, "apparel: the page carries the BG/NBD note")


clvtap.run(main)
