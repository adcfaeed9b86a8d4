"""Regressor oracle: clv_regressor_train / clv_regressor_predict against
Debian's python3-xgboost (the same libxgboost) and scikit-learn.

The data are the CDNOW sample's calibration summaries (features, with
monetary_value NULL for customers without a repeat purchase: XGBoost's
missing values) and their holdout spend (target).  Python rebuilds what clv
documents: the rows in the canonical order (lexicographic on the float32
features, missing last, then the target), the XGBoost parameters stored in
params->'xgboost_params', and for cross-validation and early stopping the
seeded shuffle (row i of the canonical order gets the i-th output of
splitmix64 seeded with seed as its key; position p of the rows sorted by
key is in fold p mod k; the first round(fraction * n) positions are the
validation rows).  Then:

- predictions of clv_regressor_predict equal xgboost.train's on the same
  rows, parameters and seed to 1e-6 (squared error; tweedie with row and
  column subsampling; pseudo-Huber; random-forest mode; early stopping);
- the stored booster (clv_models.artifact), loaded into Python, predicts
  exactly what clv does, and the stored feature importance equals
  Booster.get_score;
- the cross-validation metrics equal scikit-learn's r2_score,
  mean_squared_error (its root) and mean_absolute_error on the same folds;
- random-forest mode on a calibration/holdout split of customers reaches a
  holdout R^2 within 0.05 of scikit-learn's RandomForestRegressor.
"""
import numpy as np
import xgboost as xgb
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from clvtap import data_path, fresh_db, is_close, ok, run

FEATURES = ["frequency", "recency", "t", "monetary_value", "days_since_last", "total_amount"]
MASK = (1 << 64) - 1


def load(cur):
    cur.execute("CREATE TABLE elog_raw (masterid int, sampleid int, date text, cds int, sales float8)")
    with open(data_path("BTYD_cdnowElog.csv")) as fh:
        cur.copy_expert("COPY elog_raw FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
    cur.execute("""
        CREATE TABLE cust AS
        SELECT customer_id, (s).frequency::float8 AS frequency, (s).recency, (s).t, (s).monetary_value,
               (s).days_since_last::float8 AS days_since_last, (s).total_amount,
               coalesce((s).frequency_holdout * (s).monetary_holdout, 0) AS holdout_value
        FROM (SELECT sampleid AS customer_id,
                     clv_summary(to_date(date, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', 'week') s
              FROM elog_raw GROUP BY sampleid) q
        ORDER BY customer_id""")


def fetch(cur, sql):
    cur.execute(sql)
    rows = cur.fetchall()
    x = np.array([[np.nan if v is None else v for v in r[1:]] for r in rows], dtype=np.float64)
    y = np.array([r[0] for r in rows], dtype=np.float64)
    return x, y


def canonical(x, y):
    """clv's canonical row order of float32 features (NaN last), then target."""
    x32 = x.astype(np.float32)
    order = np.lexsort([y] + [x32[:, j] for j in reversed(range(x32.shape[1]))])
    return x32[order], y[order]


def splitmix64_keys(n, seed):
    state = seed & MASK
    keys = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        keys.append(z ^ (z >> 31))
    return keys


def shuffle(n, seed):
    keys = splitmix64_keys(n, seed)
    return sorted(range(n), key=lambda i: (keys[i], i))


def dmatrix(x, y=None):
    return xgb.DMatrix(x, label=None if y is None else y.astype(np.float32), missing=np.nan,
                       feature_names=FEATURES)


def train_sql(cur, name, options, source="cust"):
    cur.execute("SELECT params, options, artifact FROM clv_regressor_train(%s, %s, 'holdout_value', %s, %s::jsonb)",
                (name, source, FEATURES, options))
    return cur.fetchone()


def predict_sql(cur, name):
    arr = ", ".join(FEATURES)
    cur.execute(f"SELECT clv_regressor_predict(%s, ARRAY[{arr}]) FROM cust ORDER BY customer_id", (name,))
    return np.array([r[0] for r in cur.fetchall()])


def compare(cur, name, options, x, y, label):
    params, used, artifact = train_sql(cur, name, options)
    xs, ys = canonical(x, y)
    xp = params["xgboost_params"]
    ok(xp["nthread"] == "1" and xp["seed"] is not None, f"{label}: xgboost_params stored ({len(xp)} parameters)")
    es = params["metrics"].get("early_stopping")
    if es:
        n = len(ys)
        nvalid = int(np.floor(used["validation_fraction"] * n + 0.5))
        ok(params["metrics"]["validation"]["n"] == nvalid, f"{label}: {nvalid} validation rows, round(fraction * n)")
        perm = shuffle(n, int(xp["seed"]))
        is_valid = np.zeros(n, dtype=bool)
        is_valid[perm[:nvalid]] = True
        evals_result = {}
        dtrain = dmatrix(xs[~is_valid], ys[~is_valid])
        dvalid = dmatrix(xs[is_valid], ys[is_valid])
        bst = xgb.train(xp, dtrain, num_boost_round=used["n_rounds"], evals=[(dvalid, "valid")],
                        early_stopping_rounds=used["early_stopping_rounds"],
                        evals_result=evals_result, verbose_eval=False)
        ok(bst.best_iteration == es["best_iteration"],
           f"{label}: the same best iteration as xgboost's EarlyStopping ({es['best_iteration']})",
           f"python {bst.best_iteration}")
        bst = bst[: bst.best_iteration + 1]
    else:
        bst = xgb.train(xp, dmatrix(xs, ys), num_boost_round=params["n_rounds"])
    want = bst.predict(dmatrix(x)).astype(np.float64)
    got = predict_sql(cur, name)
    err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
    ok(err <= 1e-6, f"{label}: clv_regressor_predict = xgboost.train on the same rows, parameters and seed "
       f"({len(got)} customers, max error {err:.2g})")
    stored = xgb.Booster()
    stored.load_model(bytearray(bytes(artifact)))
    ok(np.array_equal(stored.predict(dmatrix(x)).astype(np.float64), got),
       f"{label}: the stored booster predicts exactly what clv does")
    for kind in ("gain", "cover", "weight"):
        score = bst.get_score(importance_type=kind)
        mine = params["importance"][kind]
        worst = max(abs(mine[f] - score.get(f, 0.0)) / max(1.0, abs(score.get(f, 0.0))) for f in FEATURES)
        ok(worst <= 1e-6, f"{label}: importance ({kind}) = Booster.get_score", f"clv {mine}, python {score}")
    return params


def check_cv(cur, x, y):
    k, seed = 5, 7
    params, _, _ = train_sql(cur, "cv", f'{{"cv_folds": {k}, "seed": {seed}, "n_rounds": 30, "max_depth": 4}}')
    cv = params["metrics"]["cv"]
    xs, ys = canonical(x, y)
    n = len(ys)
    fold = np.empty(n, dtype=int)
    fold[shuffle(n, seed)] = np.arange(n) % k
    r2, rmse, mae = [], [], []
    for f in range(k):
        bst = xgb.train(params["xgboost_params"], dmatrix(xs[fold != f], ys[fold != f]), num_boost_round=30)
        pred = bst.predict(dmatrix(xs[fold == f])).astype(np.float64)
        r2.append(r2_score(ys[fold == f], pred))
        rmse.append(np.sqrt(mean_squared_error(ys[fold == f], pred)))
        mae.append(mean_absolute_error(ys[fold == f], pred))
    for key, want in (("r2", r2), ("rmse", rmse), ("mae", mae)):
        got = cv[key]["folds"]
        ok(len(got) == k and all(abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(got, want)),
           f"cv: {key} of each of the {k} folds = scikit-learn's on the same folds", f"clv {got}, python {want}")
        is_close(cv[key]["mean"], float(np.mean(want)), f"cv: mean {key} over the folds", rel=1e-9)
        is_close(cv[key]["sd"], float(np.std(want)), f"cv: population sd of {key} over the folds",
                 rel=1e-6, abs_=1e-12)


def check_forest(cur, x, y):
    """Random forest on a holdout split of the customers: clv's random_forest
    mode against scikit-learn's RandomForestRegressor (bootstrap, all
    features), holdout R^2 within 0.05."""
    cur.execute("SELECT customer_id % 4 = 0 FROM cust ORDER BY customer_id")
    test = np.array([r[0] for r in cur.fetchall()])
    cur.execute("SELECT version FROM clv_regressor_train('rf_holdout', 'SELECT * FROM cust WHERE customer_id %% 4 <> 0', "
                "'holdout_value', %s, '{\"mode\": \"random_forest\", \"n_trees\": 200, \"max_depth\": 8, \"seed\": 3}')",
                (FEATURES,))
    got = predict_sql(cur, "rf_holdout")[test]
    clv_r2 = r2_score(y[test], got)
    rf = RandomForestRegressor(n_estimators=200, max_depth=8, min_samples_leaf=1, random_state=3)
    rf.fit(np.nan_to_num(x[~test], nan=0.0), y[~test])
    sk_r2 = r2_score(y[test], rf.predict(np.nan_to_num(x[test], nan=0.0)))
    ok(abs(clv_r2 - sk_r2) <= 0.05,
       f"random forest: holdout R^2 {clv_r2:.3f} within 0.05 of RandomForestRegressor's {sk_r2:.3f}")


def main():
    conn = fresh_db("clv_regressor_oracle")
    cur = conn.cursor()
    load(cur)
    x, y = fetch(cur, f"SELECT holdout_value, {', '.join(FEATURES)} FROM cust ORDER BY customer_id")
    ok(np.isnan(x).any() and len(y) == 2357, "CDNOW: 2,357 customers, monetary_value missing for some")
    compare(cur, "sq", "{}", x, y, "reg:squarederror defaults")
    compare(cur, "tw", '{"objective": "reg:tweedie", "subsample": 0.7, "colsample_bytree": 0.8, '
            '"colsample_bynode": 0.9, "seed": 42, "n_rounds": 50, "max_depth": 4, "eta": 0.1}', x, y,
            "reg:tweedie, subsampled rows and columns, seed 42")
    compare(cur, "hub", '{"objective": "reg:pseudohubererror", "huber_slope": 20, "tree_method": "exact", '
            '"n_rounds": 40, "lambda": 2, "alpha": 0.5, "min_child_weight": 3}', x, y,
            "reg:pseudohubererror, exact trees")
    compare(cur, "rf", '{"mode": "random_forest", "n_trees": 50, "seed": 5}', x, y, "random_forest mode")
    compare(cur, "es", '{"early_stopping_rounds": 5, "n_rounds": 1000, "eta": 0.05, "seed": 11, '
            '"validation_fraction": 0.25}', x, y, "early stopping")
    check_cv(cur, x, y)
    check_forest(cur, x, y)
    conn.close()


if __name__ == "__main__":
    run(main)
