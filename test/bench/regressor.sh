#!/usr/bin/env bash
# Supervised models (issue 12): the cost per row of clv_regressor_predict over
# 1M rows, next to a plain scan of the same rows and to clv_value of a BTYD
# model on them, all measured in this run; then the README's comparison of
# BTYD CLV, XGBoost, random forest and the hybrid on CDNOW and apparel
# holdouts, by running the README's own regressor blocks (so README and
# BENCHMARKS.md show the same SQL's figures).
set -euo pipefail
source "$(dirname "$0")/common.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_REGRESSOR_ROWS:-1000000}
RUNS=${BENCH_RUNS:-3}

# The tables README.md's examples name (as test/t/070_readme_sql.pl builds
# them from the bundled data): the BTYD model below and the README's blocks
# at the end read them.
sed "s|@ROOT@|$root|g" "$root/test/t/lib/readme_tables.sql" | psql -X -q -v ON_ERROR_STOP=1 >/dev/null

# Synthetic customers shaped like an RFM summary (weeks; frequency a whole
# number, recency <= t), with a value target that depends on them.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_regressor;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE bench_regressor AS
SELECT i AS customer_id, frequency, recency, t,
       CASE WHEN frequency > 0 THEN m END AS monetary_value,
       round(((t - recency) * 7)::numeric)::float8 AS days_since_last,
       (frequency + 1) * m AS total_amount,
       CASE WHEN random() < 0.3 + 0.6 * recency / t THEN frequency * m * random() ELSE 0 END AS value
FROM (SELECT i, t, recency, floor(random() * 8 * recency / t)::float8 AS frequency,
             round((10 + 90 * random())::numeric, 2)::float8 AS m
      FROM (SELECT i, t, round((random() * t)::numeric, 1)::float8 AS recency
            FROM (SELECT i, round((1 + random() * 51)::numeric, 1)::float8 AS t
                  FROM generate_series(1, $N) i) a) b) c;
VACUUM ANALYZE bench_regressor;
SQL

features="frequency, recency, t, monetary_value, days_since_last, total_amount"
train_src="SELECT * FROM bench_regressor WHERE customer_id <= 100000"
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
SELECT clv_regressor_train('bench_xgb', '$train_src', 'value', NULL,
       '{"objective": "reg:tweedie", "max_depth": 3, "eta": 0.05, "n_rounds": 200}');
SELECT clv_regressor_train('bench_rf', '$train_src', 'value', NULL,
       '{"mode": "random_forest", "max_depth": 6, "seed": 1}');
SELECT clv_regressor_train('bench_stump', '$train_src', 'value', NULL,
       '{"max_depth": 1, "n_rounds": 1}');
-- BG/NBD + Gamma-Gamma of the CDNOW calibration period (the synthetic rows
-- are not BTYD-shaped: a fit on them is degenerate)
SELECT clv_train('bench_btyd', 'SELECT (clv_summary(purchased_at, amount, ''1997-09-30'', ''week'')).*
       FROM orders WHERE purchased_at <= ''1997-09-30'' GROUP BY customer_id');
SQL

# Serial (no parallel workers) so that the cost per row is one backend's.
serial="SET max_parallel_workers_per_gather = 0;"
scan_ms=$(bench_best_ms "$RUNS" "$serial SELECT sum(frequency + recency + t + coalesce(monetary_value, 0) + days_since_last + total_amount) FROM bench_regressor;")
xgb_ms=$(bench_best_ms "$RUNS" "$serial SELECT sum(clv_regressor_predict('bench_xgb', ARRAY[$features])) FROM bench_regressor;")
stump_ms=$(bench_best_ms "$RUNS" "$serial SELECT sum(clv_regressor_predict('bench_stump', ARRAY[$features])) FROM bench_regressor;")
rf_ms=$(bench_best_ms "$RUNS" "$serial SELECT sum(clv_regressor_predict('bench_rf', ARRAY[$features])) FROM bench_regressor;")
btyd_ms=$(bench_best_ms "$RUNS" "$serial SELECT sum(clv_value('bench_btyd', frequency, recency, t, coalesce(monetary_value, 0), 39)) FROM bench_regressor;")
load=$(cut -d' ' -f1-3 /proc/loadavg)

us_row() { awk -v ms="$1" -v n="$N" 'BEGIN{printf "%.2f µs", ms * 1000 / n}'; }
over_scan() { awk -v ms="$1" -v s="$scan_ms" -v n="$N" 'BEGIN{printf "%.2f µs", (ms - s) * 1000 / n}'; }
row() { echo "| $1 | $(bench_s "$2") | $(us_row "$2") | $(over_scan "$2") |"; }

cat <<MD
## Supervised models: scoring cost and which predicts better

### Scoring $N rows

$N synthetic customers (an RFM summary in weeks with a fixed \`setseed\`; 6 features),
models trained on the first 100,000 of them: XGBoost \`reg:tweedie\`, depth 3, 200 rounds;
random forest, 100 trees of depth 6; BG/NBD + Gamma-Gamma fitted on the CDNOW calibration
period (README's orders to 1997-09-30), its 39-week CLV. Each query aggregates the
prediction of every row (\`sum(...)\`, so the function is called once per row), in one
backend without parallel workers, best of $RUNS runs each, measured $(date -u +%Y-%m-%d) in
the same run on the same rows. The machine was shared with other work (load average at
the end: $load on $(nproc) cores).

| query | time | per row | per row over the scan |
|---|---:|---:|---:|
$(row "plain scan: \`sum(frequency + recency + ...)\` over the same 6 columns" "$scan_ms")
$(row "\`sum(clv_regressor_predict('bench_xgb', ARRAY[6 columns]))\` (200 trees)" "$xgb_ms")
$(row "\`sum(clv_regressor_predict('bench_stump', ARRAY[6 columns]))\` (1 tree of depth 1: the cost of a call)" "$stump_ms")
$(row "\`sum(clv_regressor_predict('bench_rf', ARRAY[6 columns]))\` (100 trees, depth 6)" "$rf_ms")
$(row "\`sum(clv_value('bench_btyd', ..., 39))\` (BG/NBD + Gamma-Gamma CLV)" "$btyd_ms")
MD
psql -X -q -c "DROP TABLE bench_regressor" -c "DELETE FROM clv_models WHERE name LIKE 'bench\\_%'"

# The README's regressor section, block by block.
out=$(awk '/^<!-- section: regressor -->/ {on = 1; next} on && /^### / {exit}
	on && /^```sql/ {s = 1; next} on && s && /^```/ {s = 0; next} on && s' "$root/README.md" |
	psql -X -v ON_ERROR_STOP=1 -P footer=off 2>&1)
# The result tables of the comparisons (CDNOW first, then apparel) as markdown.
tables=$(printf '%s\n' "$out" | awk -F'|' '
	/holdout_r2/ {n++; print ""; print "**" (n == 1 ? "CDNOW" : "apparel") "**"; print ""; on = 1}
	on && !/\|/ && !/^-/ {on = 0}
	on && /^-/ {printf "|"; for (i = 1; i <= cols; i++) printf (i == 1 ? "---|" : "---:|"); print ""; next}
	on {cols = NF; line = "|"; for (i = 1; i <= NF; i++) {c = $i; gsub(/^ +| +$/, "", c); line = line " " c " |"}; print line}')

cat <<MD

### Which predicts better (README, "Supervised models")

The README's comparison blocks, run as they stand in this run: holdout R², RMSE and MAE of
each customer's value in the holdout period, every customer scored by trees that were not
trained on them (CDNOW: calibration to 1997-09-30, the 39 weeks to 1998-06-30 as target,
one split by \`customer_id % 4\`; apparel: calibration 2005, 2006-2010 as target, 4 folds by
\`customer_id % 4\`, with gender and channel as features). The BTYD models are fitted on all
customers' calibration data only. Seeds: XGBoost \`seed\` 0 (the default) for boosting, 1 for
the random forest; XGBoost is deterministic with one thread, so every run gives these figures.
$tables
MD
