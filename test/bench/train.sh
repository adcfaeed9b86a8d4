#!/usr/bin/env bash
# clv_train end to end and name-based predictions on 1M customers, each next
# to a baseline measured in the same run.  Prints one markdown section.
set -euo pipefail
source "$(dirname "$0")/common.sh"

N=${CLV_BENCH_TRAIN_N:-1000000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"

# Synthetic customers drawn from the BG/NBD purchase process and the
# Gamma-Gamma spend process at the published CDNOW parameters, CDNOW-shaped:
# first purchases spread over 12 weeks, a 39-week calibration period, whole
# days, in weeks.  Debian's numpy (a test/bench package, not a dependency of
# clv) draws them; the fitted parameters are printed as a sanity check.
cat >"$TMP/gen.py" <<'PY'
import sys, numpy as np
n = int(sys.argv[1]); out = sys.argv[2]
rng = np.random.default_rng(20261122)
r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
p_, q_, g_ = 6.25, 3.74, 15.44
lam = rng.gamma(r, 1 / alpha, n)          # purchases per week
pdrop = rng.beta(a, b, n)
Tdays = 273 - rng.integers(0, 84, n)      # first purchase in the first 12 weeks, 39-week calibration
x = np.zeros(n, dtype=np.int64); last = np.zeros(n)
alive = np.ones(n, bool); now = np.zeros(n)
idx = np.arange(n)
while idx.size:
    now[idx] += rng.exponential(1, idx.size) / lam[idx] * 7   # days
    ok = now[idx] <= Tdays[idx]
    idx = idx[ok]
    x[idx] += 1; last[idx] = np.floor(now[idx])
    idx = idx[rng.random(idx.size) >= pdrop[idx]]
nu = rng.gamma(q_, 1 / g_, n)
m = np.where(x > 0, rng.gamma(p_ * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), np.nan)
with open(out, 'w') as f:
    for i in range(n):
        f.write(f"{i+1},{x[i]},{last[i]/7 if x[i] else 0:.6f},{Tdays[i]/7:.6f},{'' if x[i]==0 else f'{m[i]:.2f}'}\n")
PY
/usr/bin/python3 "$TMP/gen.py" "$N" "$TMP/customers.csv"
chmod 644 "$TMP/customers.csv"
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
DROP TABLE IF EXISTS bench_train;
CREATE TABLE bench_train (customer_id int, frequency float8, recency float8, t float8, monetary_value float8);
\copy bench_train FROM '$TMP/customers.csv' WITH (FORMAT csv)
VACUUM ANALYZE bench_train;
SQL

uniq=$(psql -X -qAt -c "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, t FROM bench_train) s")
uniq_m=$(psql -X -qAt -c "SELECT count(*) FROM (SELECT DISTINCT frequency, monetary_value FROM bench_train) s")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
scan=$(bench_best_ms 3 "SELECT count(*) FROM bench_train;")
# The reduction clv_train runs (src/fit.c: one GROUP BY per model, UNION ALL),
# counted instead of fetched.
RED_TX="SELECT 0, frequency::float8, recency::float8, t::float8, NULL::float8, count(*)::float8 FROM (SELECT * FROM bench_train) s GROUP BY frequency, recency, t"
RED_SP="SELECT 1, frequency::float8, NULL::float8, NULL::float8, monetary_value::float8, count(*)::float8 FROM (SELECT * FROM bench_train) s WHERE frequency > 0 GROUP BY frequency, monetary_value"
reduce=$(bench_best_ms 3 "SELECT count(*) FROM ($RED_TX) r;")
reduce_m=$(bench_best_ms 3 "SELECT count(*) FROM ($RED_TX UNION ALL $RED_SP) r;")
train_bg=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_bgnbd', 'bench_train', 'bgnbd', 'gamma_gamma');")
train_bgonly=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_bgnbd_only', 'bench_train', 'bgnbd', NULL);")
train_pn=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_pnbd', 'bench_train', 'pareto_nbd', NULL);")
iters=$(psql -X -qAt -c "SELECT format('%s / %s / %s', (SELECT iterations FROM clv_model('bench_bgnbd')), (SELECT iterations FROM clv_model('bench_bgnbd_only')), (SELECT iterations FROM clv_model('bench_pnbd')))")
conv=$(psql -X -qAt -c "SELECT bool_and(converged) FROM clv_models WHERE name LIKE 'bench\\_%'")
fitted=$(psql -X -qAt -c "SELECT string_agg(k || ' ' || round((params->>k)::numeric, 3), ', ' ORDER BY o) FROM clv_model('bench_bgnbd'), unnest(ARRAY['r', 'alpha', 'a', 'b', 'p', 'q', 'gamma']) WITH ORDINALITY AS u(k, o)")

arith=$(bench_best_ms 3 "SELECT sum(frequency * recency / t + coalesce(monetary_value, 0)) FROM bench_train;")
by_name=$(bench_best_ms 3 "SELECT sum((clv_predict('bench_bgnbd', frequency, recency, t, monetary_value, 26, 0.002, 1)).clv) FROM bench_train;")
by_params=$(bench_best_ms 3 "SELECT sum((clv_predict(m.params, frequency, recency, t, monetary_value, 26, 0.002, 1)).clv) FROM bench_train, clv_model('bench_bgnbd') AS m;")
pa_name=$(bench_best_ms 3 "SELECT sum(clv_p_alive('bench_bgnbd', frequency, recency, t)) FROM bench_train;")
pa_params=$(bench_best_ms 3 "SELECT sum(clv_p_alive(m.params, frequency, recency, t)) FROM bench_train, clv_model('bench_bgnbd') AS m;")

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
psql -X -q -c "SELECT clv_drop_model(n) FROM unnest(ARRAY['bench_bgnbd', 'bench_bgnbd_only', 'bench_pnbd']) n" >/dev/null
psql -X -q -c "DROP TABLE bench_train" >/dev/null

cat <<MD
## Training into the catalog and name-based predictions (test/bench/train.sh)

$N synthetic customers drawn from BG/NBD + Gamma-Gamma at the published CDNOW parameters
(r 0.243, alpha 4.414, a 0.793, b 2.426, p 6.25, q 3.74, gamma 15.44; CDNOW-shaped: 12 weeks
of acquisition, 39 weeks of calibration, whole days, in weeks). They reduce to $uniq unique
(frequency, recency, t) rows for the transaction model and $uniq_m unique (frequency,
monetary_value) rows for the spend model (mean spend in cents). One table, best of 3 runs,
the bench cluster's parallel settings (2 workers per gather). \`clv_train\` is end to end: the aggregated read of the source, validation, the fit(s), the jsonb and the catalog
INSERT. All fits converged: $conv (iterations BG/NBD+GG / BG/NBD / Pareto/NBD: $iters);
fitted BG/NBD + Gamma-Gamma: $fitted.
Load average before / after the timings: $load_before / $load_after ($(nproc) cores; other
work on the machine slows baselines and clv alike, so compare within the table).

| what | time |
|---|---|
| baseline: \`SELECT count(*)\` over the table | $(bench_s "$scan") |
| baseline: clv_train's reduction query alone, transaction model (one GROUP BY) | $(bench_s "$reduce") |
| baseline: clv_train's reduction query alone, transaction + spend model (two GROUP BYs) | $(bench_s "$reduce_m") |
| \`clv_train(..., 'bgnbd', 'gamma_gamma')\` | $(bench_s "$train_bg") |
| \`clv_train(..., 'bgnbd', NULL)\` | $(bench_s "$train_bgonly") |
| \`clv_train(..., 'pareto_nbd', NULL)\` | $(bench_s "$train_pn") |

Predictions over all $N rows (\`sum\` of the result, so no rows are sent to the client):

| what | time |
|---|---|
| baseline: plain SQL arithmetic over the same columns | $(bench_s "$arith") |
| \`clv_predict(params jsonb, ...)\` 26 weeks, discounted | $(bench_s "$by_params") |
| \`clv_predict(name text, ...)\` the same, model looked up by name | $(bench_s "$by_name") |
| \`clv_p_alive(params jsonb, ...)\` | $(bench_s "$pa_params") |
| \`clv_p_alive(name text, ...)\` | $(bench_s "$pa_name") |

The name is resolved once per query and call site (the parsed model is cached in
\`fn_extra\`), so the name-based functions cost about what the params-jsonb ones cost.
MD
