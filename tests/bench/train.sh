#!/usr/bin/env bash
# clv_train end to end and name-based predictions on 1M customers, each next
# to a baseline measured in the same run.  Prints one markdown section.
set -euo pipefail
source "$(dirname "$0")/common.sh"

N=${CLV_BENCH_TRAIN_N:-1000000}

# Synthetic customers in weeks: ages of 1..78 weeks at whole days, about half
# without a repeat purchase, recency at whole days within the age, spend in
# cents.  The (frequency, recency, t) triples repeat, as in real data, so the
# GROUP BY reduction shrinks the input of the optimiser.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
DROP TABLE IF EXISTS bench_train;
CREATE TABLE bench_train AS
SELECT i AS customer_id, f AS frequency,
	   CASE WHEN f = 0 THEN 0 ELSE floor(random() * d)::float8 / 7 END AS recency,
	   d::float8 / 7 AS t,
	   CASE WHEN f = 0 THEN NULL ELSE round((5 + 45 * random() * random())::numeric, 2)::float8 END AS monetary_value
FROM (SELECT i, least(floor(-ln(1 - random()) * 1.5), 60)::float8 AS f,
			 7 + floor(random() * 540)::int AS d
	  FROM generate_series(1, $N) AS i) AS s;
VACUUM ANALYZE bench_train;
SQL

uniq=$(psql -X -qAt -c "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, t FROM bench_train) s")
uniq_m=$(psql -X -qAt -c "SELECT count(*) FROM (SELECT DISTINCT frequency, monetary_value FROM bench_train WHERE frequency > 0) s")

scan=$(bench_best_ms 3 "SELECT count(*) FROM bench_train;")
reduce=$(bench_best_ms 3 "SELECT count(*) FROM (SELECT frequency, recency, t, count(*) FROM bench_train GROUP BY 1, 2, 3) s;")
reduce_m=$(bench_best_ms 3 "SELECT count(*) FROM (SELECT frequency, monetary_value, count(*) FROM bench_train WHERE frequency > 0 GROUP BY 1, 2) s;")
train_bg=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_bgnbd', 'bench_train', 'bgnbd', 'gamma_gamma');")
train_bgonly=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_bgnbd_only', 'bench_train', 'bgnbd', NULL);")
train_pn=$(bench_best_ms 3 "SELECT version FROM clv_train('bench_pnbd', 'bench_train', 'pareto_nbd', NULL);")
iters=$(psql -X -qAt -c "SELECT format('%s / %s / %s', (SELECT iterations FROM clv_model('bench_bgnbd')), (SELECT iterations FROM clv_model('bench_bgnbd_only')), (SELECT iterations FROM clv_model('bench_pnbd')))")
conv=$(psql -X -qAt -c "SELECT bool_and(converged) FROM clv_models WHERE name LIKE 'bench\\_%'")

arith=$(bench_best_ms 3 "SELECT sum(frequency * recency / t + coalesce(monetary_value, 0)) FROM bench_train;")
by_name=$(bench_best_ms 3 "SELECT sum((clv_predict('bench_bgnbd', frequency, recency, t, monetary_value, 26, 0.002, 1)).clv) FROM bench_train;")
by_params=$(bench_best_ms 3 "SELECT sum((clv_predict(m.params, frequency, recency, t, monetary_value, 26, 0.002, 1)).clv) FROM bench_train, clv_model('bench_bgnbd') AS m;")
pa_name=$(bench_best_ms 3 "SELECT sum(clv_p_alive('bench_bgnbd', frequency, recency, t)) FROM bench_train;")
pa_params=$(bench_best_ms 3 "SELECT sum(clv_p_alive(m.params, frequency, recency, t)) FROM bench_train, clv_model('bench_bgnbd') AS m;")

psql -X -q -c "SELECT clv_drop_model(n) FROM unnest(ARRAY['bench_bgnbd', 'bench_bgnbd_only', 'bench_pnbd']) n" >/dev/null
psql -X -q -c "DROP TABLE bench_train" >/dev/null

cat <<MD
## Training into the catalog and name-based predictions (tests/bench/train.sh)

$N synthetic customers (weeks; $uniq unique (frequency, recency, t) rows, $uniq_m unique
(frequency, monetary_value) rows among the repeat buyers), one table, best of 3 runs, the
default parallel settings of the bench cluster (2 workers per gather). \`clv_train\` is
end to end: the aggregated read of the source, validation, the fit(s), the jsonb and the
catalog INSERT. All fits converged: $conv (iterations BG/NBD+GG / BG/NBD / Pareto/NBD: $iters).

| what | time |
|---|---|
| baseline: \`SELECT count(*)\` over the table | $(bench_s "$scan") |
| baseline: the GROUP BY reduction over (frequency, recency, t) alone | $(bench_s "$reduce") |
| baseline: the GROUP BY reduction over (frequency, monetary_value) alone | $(bench_s "$reduce_m") |
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
\`fn_extra\`), so the name-based functions cost the same as the params-jsonb ones.
MD
