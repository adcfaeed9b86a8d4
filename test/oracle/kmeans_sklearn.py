"""K-Means oracle: clv_kmeans_train / clv_kmeans_scan against scikit-learn.

- CDNOW master data (all 23,570 customers): per-customer RFM features built
  in plain SQL; with the same scaled data (z-scores with the population
  standard deviation, ddof = 0, which is what clv stores and what
  StandardScaler does) and the same k, clv's best inertia over n_init = 10
  is within 0.1% of KMeans(n_init=10).
- Synthetic blobs with known centres: the centres are recovered, the
  inertia agrees with scikit-learn, and every point lands in its blob.
- clv's stored inertia is the inertia of its stored centroids (recomputed
  here), and the exact silhouette of clv_kmeans_scan equals
  sklearn.metrics.silhouette_score on the same labels.
"""
import io

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score

from clvtap import data_path, fresh_db, is_close, ok, run

CDNOW_FEATURES = ["frequency", "recency", "days_since_last", "total_amount"]


def load_cdnow(cur):
    cur.execute("CREATE TABLE km_cdnow_raw (line text)")
    with open(data_path("CDNOW_master.txt"), "rb") as f:
        cur.copy_expert("COPY km_cdnow_raw FROM STDIN", io.BytesIO(f.read()))
    # whitespace separated: customer_id yyyymmdd number_of_cds dollar_value
    cur.execute("""
        CREATE TABLE km_cdnow AS
        SELECT f[1]::int AS customer_id, to_date(f[2], 'YYYYMMDD') AS day,
               f[3]::int AS cds, f[4]::float8 AS amount
        FROM (SELECT regexp_split_to_array(btrim(line, E' \\r\\t'), '\\s+') AS f
              FROM km_cdnow_raw) r
        WHERE f[1] ~ '^[0-9]+$'""")
    cur.execute("""
        CREATE TABLE km_cdnow_customers AS
        SELECT customer_id,
               count(DISTINCT day) - 1 AS frequency,
               max(day) - min(day) AS recency,
               date '1998-06-30' - max(day) AS days_since_last,
               sum(amount) AS total_amount
        FROM km_cdnow GROUP BY customer_id""")


def fetch(cur, sql):
    cur.execute(sql)
    return np.array(cur.fetchall(), dtype=float)


def zscore(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


def train(cur, name, source, features, k, options):
    cur.execute("SELECT params FROM clv_kmeans_train(%s, %s, %s, %s, %s::jsonb)",
                (name, source, features, k, options))
    return cur.fetchone()[0]


def inertia_of(x, centroids):
    d2 = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return d2.min(axis=1).sum()


def check_cdnow(cur):
    load_cdnow(cur)
    cur.execute("SELECT count(*) FROM km_cdnow_customers")
    n = cur.fetchone()[0]
    ok(n == 23570, f"CDNOW master: {n} customers (23,570 expected)")
    raw = fetch(cur, "SELECT " + ", ".join(CDNOW_FEATURES) + " FROM km_cdnow_customers ORDER BY customer_id")

    for scaling, transform in (("zscore", lambda v: v), ("log_zscore", np.log1p)):
        t = transform(raw)
        x = zscore(t)
        for k in (3, 4, 6):
            p = train(cur, f"km_cdnow_{scaling}_{k}", "km_cdnow_customers", CDNOW_FEATURES, k,
                      f'{{"seed": 1, "n_init": 10, "scaling": "{scaling}"}}')
            if k == 4:
                ok(np.allclose(p["scaling"]["center"], t.mean(axis=0), rtol=1e-10, atol=0)
                   and np.allclose(p["scaling"]["scale"], t.std(axis=0), rtol=1e-10, atol=0),
                   f"CDNOW {scaling}: stored centre/scale are the mean and population sd (ddof=0)",
                   f"clv {p['scaling']}, numpy {t.mean(axis=0)}, {t.std(axis=0)}")
            clv = p["inertia"]
            cent = np.array(p["centroids_scaled"])
            is_close(inertia_of(x, cent), clv, f"CDNOW {scaling} k={k}: stored inertia is that of the stored centroids", rel=1e-9)
            sk = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
            is_close(clv, sk.inertia_, f"CDNOW {scaling} k={k}: inertia {clv:.4f} vs scikit-learn {sk.inertia_:.4f} within 0.1%", rel=1e-3)
            ok(sum(p["sizes"]) == n and p["sizes"] == sorted(p["sizes"], reverse=True),
               f"CDNOW {scaling} k={k}: sizes sum to n, largest cluster first", p["sizes"])


def check_blobs(cur):
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 1.0, -2.0], [-3.0, 7.0, 2.0], [4.0, -6.0, 5.0]])
    x, truth = make_blobs(n_samples=4000, centers=centres, cluster_std=0.8, random_state=7)
    cur.execute("CREATE TABLE km_blob (id int, a float8, b float8, c float8)")
    buf = io.StringIO("".join(f"{i}\t{r[0]!r}\t{r[1]!r}\t{r[2]!r}\n" for i, r in enumerate(x)))
    cur.copy_expert("COPY km_blob FROM STDIN", buf)

    # scaling none: centroids in the original space recover the centres
    p = train(cur, "km_blob_none", "km_blob", ["a", "b", "c"], 4, '{"seed": 3, "scaling": "none"}')
    got = np.array(p["centroids"])
    dist = np.sqrt(((got[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    match = dist.argmin(axis=1)
    ok(sorted(match) == [0, 1, 2, 3] and dist.min(axis=1).max() < 0.1,
       f"blobs: the 4 known centres are recovered (max error {dist.min(axis=1).max():.4f} < 0.1)", got)
    sk = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    is_close(p["inertia"], sk.inertia_, "blobs, unscaled: inertia within 0.1% of scikit-learn", rel=1e-3)

    # zscore: centres recovered in original units too, and labels
    p = train(cur, "km_blob", "km_blob", ["a", "b", "c"], 4, '{"seed": 3}')
    got = np.array(p["centroids"])
    dist = np.sqrt(((got[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    ok(sorted(dist.argmin(axis=1)) == [0, 1, 2, 3] and dist.min(axis=1).max() < 0.1,
       "blobs, zscore: the known centres are recovered in original units", got)
    xs = zscore(x)
    sk = KMeans(n_clusters=4, n_init=10, random_state=0).fit(xs)
    is_close(p["inertia"], sk.inertia_, "blobs, zscore: inertia within 0.1% of scikit-learn", rel=1e-3)
    cur.execute("SELECT clv_cluster('km_blob', ARRAY[a, b, c]) FROM km_blob ORDER BY id")
    labels = np.array([r[0] for r in cur.fetchall()])
    ari = adjusted_rand_score(truth, labels)
    ok(ari > 0.99, f"blobs: clv_cluster reproduces the true blobs (adjusted Rand {ari:.4f})")
    ok(adjusted_rand_score(sk.labels_, labels) > 0.999, "blobs: same partition as scikit-learn")

    # scan: inertia as trained, silhouette exactly scikit-learn's on the same labels
    cur.execute("SELECT k, inertia, silhouette FROM clv_kmeans_scan('km_blob', ARRAY['a','b','c'], 2, 5, '{\"seed\": 3}')")
    scan = cur.fetchall()
    for k, inertia, sil in scan:
        train(cur, "km_blob_k", "km_blob", ["a", "b", "c"], k, '{"seed": 3}')
        cur.execute("SELECT clv_cluster('km_blob_k', ARRAY[a, b, c]) FROM km_blob ORDER BY id")
        lab = np.array([r[0] for r in cur.fetchall()])
        is_close(sil, silhouette_score(xs, lab), f"scan k={k}: silhouette equals scikit-learn's silhouette_score", rel=1e-9)
    best = max(scan, key=lambda r: r[2])[0]
    ok(best == 4, f"scan: the silhouette peaks at the true k = 4 (got {best})")


def main():
    conn = fresh_db("clv_kmeans_oracle")
    cur = conn.cursor()
    check_cdnow(cur)
    check_blobs(cur)
    conn.close()


run(main)
