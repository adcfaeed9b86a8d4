#!/usr/bin/env bash
# Scale curve: clv_summary, clv_fit and clv_predict on simulated transaction
# tables of growing size, each step next to a baseline doing the same scan and
# grouping with built-in aggregates, measured in the same run, plus the peak
# memory of the backend running the step.  Prints one markdown section.
#
# Sizes (transactions) from CLV_BENCH_SCALE_SIZES, default 1M 10M 50M: about
# 8.5 minutes on 2 cores shared with other work (load average 6); with
# "1000000 5000000 20000000" it takes under 4.
# Every step runs in a new connection, so VmHWM (the backend's peak resident
# set) is that step's own; it counts the shared-buffer pages the backend
# touched (RssShmem, reported beside it) and not the memory of parallel
# workers.
set -euo pipefail
source "$(dirname "$0")/common.sh"

SIZES=${CLV_BENCH_SCALE_SIZES:-"1000000 10000000 50000000"}
PARAMS='{"transaction_model":"bgnbd","r":0.5,"alpha":6,"a":0.8,"b":2.5,"spend_model":"gamma_gamma","p":6,"q":4,"gamma":15}'
START='2024-01-01 00:00+00'
END_DAY='2025-06-29'		# start + 78 weeks - 1 day
ACQ_DAYS=91					# acquisitions spread over the first 13 weeks

# measure SQL -> "milliseconds vmhwm_kB rssshmem_kB" of SQL in a fresh backend
measure() {
	psql -X -q -v ON_ERROR_STOP=1 -At <<SQL | awk '
		/^Time: / { ms = $2 }
		/^MEM\|/ { split($0, f, "|"); hwm = f[2]; shm = f[3] }
		END { print ms, hwm, shm }'
SET TimeZone = 'UTC';
\timing on
$1
\timing off
SELECT 'MEM', substring(s from 'VmHWM:\s*(\d+)'), substring(s from 'RssShmem:\s*(\d+)')
FROM pg_read_file('/proc/self/status') AS s;
SQL
}

mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }

# Transactions per customer of these parameters over 78 weeks, from a pilot.
ratio=$(psql -X -qAt -c "SELECT count(*)::float8 / 20000 FROM clv_simulate_transactions('$PARAMS', 20000, '$START', $ACQ_DAYS, 78, 'week', 7)")

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows_md=""
for N in $SIZES; do
	C=$(awk -v n="$N" -v r="$ratio" 'BEGIN { printf "%d", n / r }')
	psql -X -q -c "DROP TABLE IF EXISTS scale_tx, scale_summary, scale_base, scale_fit" 2>/dev/null
	read -r gen_ms _ _ <<<"$(measure "CREATE UNLOGGED TABLE scale_tx AS SELECT * FROM clv_simulate_transactions('$PARAMS', $C, '$START', $ACQ_DAYS, 78, 'week', 1);")"
	psql -X -q -c "VACUUM ANALYZE scale_tx"
	rows=$(psql -X -qAt -c "SELECT count(*) FROM scale_tx")

	read -r b_sum_ms b_sum_hwm b_sum_shm <<<"$(measure "CREATE UNLOGGED TABLE scale_base AS SELECT customer_id, count(*) AS n, min(purchased_at) AS first, max(purchased_at) AS last, sum(amount) AS total FROM scale_tx GROUP BY customer_id;")"
	read -r sum_ms sum_hwm sum_shm <<<"$(measure "CREATE UNLOGGED TABLE scale_summary AS SELECT customer_id, (clv_summary(purchased_at, amount, '$END_DAY', 'week')).* FROM scale_tx GROUP BY customer_id;")"
	psql -X -q -c "VACUUM ANALYZE scale_summary"
	custs=$(psql -X -qAt -c "SELECT count(*) FROM scale_summary")
	workers=$(psql -X -qAt -c "EXPLAIN SELECT customer_id, (clv_summary(purchased_at, amount, '$END_DAY', 'week')).* FROM scale_tx GROUP BY customer_id" | sed -nE 's/.*Workers Planned: ([0-9]+).*/\1/p' | head -1)
	uniq=$(psql -X -qAt -c "SELECT count(*) FROM (SELECT DISTINCT frequency, recency, t FROM scale_summary) s")

	read -r b_fit_ms b_fit_hwm b_fit_shm <<<"$(measure "SELECT count(*) FROM (SELECT frequency, recency, t, count(*) FROM scale_summary GROUP BY 1, 2, 3) s;")"
	read -r fit1_ms fit1_hwm fit1_shm <<<"$(measure "SELECT clv_fit('scale_summary', 'bgnbd', NULL) IS NOT NULL;")"
	read -r fit_ms fit_hwm fit_shm <<<"$(measure "CREATE UNLOGGED TABLE scale_fit AS SELECT clv_fit('scale_summary', 'bgnbd', 'gamma_gamma') AS fit;")"
	fitted=$(psql -X -qAt -c "SELECT format('r=%s alpha=%s a=%s b=%s', round((fit->'params'->>'r')::numeric, 3), round((fit->'params'->>'alpha')::numeric, 3), round((fit->'params'->>'a')::numeric, 3), round((fit->'params'->>'b')::numeric, 3)) FROM scale_fit")

	read -r b_pr_ms b_pr_hwm b_pr_shm <<<"$(measure "SELECT sum(frequency * recency / t + coalesce(monetary_value, 0)) FROM scale_summary;")"
	read -r pr_ms pr_hwm pr_shm <<<"$(measure "SELECT sum((clv_predict(f.fit->'params', frequency, recency, t, monetary_value, 26, 0.0018, 1)).clv) FROM scale_summary, scale_fit f;")"

	rows_md+="| $rows | $custs | generate (clv_simulate_transactions) | $(bench_s "$gen_ms") | | |
| | | summary: GROUP BY count/min/max/sum (baseline) | $(bench_s "$b_sum_ms") | $(mb "$b_sum_hwm") | $(mb "$b_sum_shm") |
| | | summary: clv_summary per customer (${workers:-0} parallel workers planned) | $(bench_s "$sum_ms") | $(mb "$sum_hwm") | $(mb "$sum_shm") |
| | | fit: GROUP BY (frequency, recency, t) ($uniq groups; baseline) | $(bench_s "$b_fit_ms") | $(mb "$b_fit_hwm") | $(mb "$b_fit_shm") |
| | | fit: clv_fit BG/NBD alone | $(bench_s "$fit1_ms") | $(mb "$fit1_hwm") | $(mb "$fit1_shm") |
| | | fit: clv_fit BG/NBD + Gamma-Gamma ($fitted) | $(bench_s "$fit_ms") | $(mb "$fit_hwm") | $(mb "$fit_shm") |
| | | predict: arithmetic over the summary (baseline) | $(bench_s "$b_pr_ms") | $(mb "$b_pr_hwm") | $(mb "$b_pr_shm") |
| | | predict: clv_predict 26 weeks for every customer | $(bench_s "$pr_ms") | $(mb "$pr_hwm") | $(mb "$pr_shm") |
"
	growth+="| $rows | $(awk -v a="$sum_ms" -v n="$rows" 'BEGIN{printf "%.2f", a / n * 1e3}') | $(awk -v a="$fit1_ms" -v n="$custs" 'BEGIN{printf "%.2f", a / n * 1e3}') | $(awk -v a="$fit_ms" -v n="$custs" 'BEGIN{printf "%.2f", a / n * 1e3}') | $(awk -v a="$pr_ms" -v n="$custs" 'BEGIN{printf "%.2f", a / n * 1e3}') |
"
	psql -X -q -c "DROP TABLE IF EXISTS scale_tx, scale_summary, scale_base, scale_fit"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<MD
## Scale: summary, fit and prediction on growing simulated data (test/bench/scale.sh)

Transactions simulated by \`clv_simulate_transactions\` from BG/NBD + Gamma-Gamma
(\`$PARAMS\`): acquisitions spread over 13 weeks, observed for 78 weeks, $(printf %.2f "$ratio") transactions
per customer on average (pilot of 20,000). One run per step, each in a fresh connection; the bench cluster's
defaults (2 parallel workers per gather). Peak memory is the backend's VmHWM after the step;
RssShmem is the part of it that is shared buffers touched, not private memory; parallel
workers' memory is not included. Load average (1, 5, 15 min) at the start: $load_start; at the
end: $load_end (other work on the machine shares the $(nproc) cores).

| transactions | customers | step | time | backend VmHWM | of which RssShmem |
|---|---|---|---|---|---|
${rows_md}
Growth (microseconds per transaction for the summary, per customer for fit and predict;
flat means linear):

| transactions | clv_summary µs/transaction | clv_fit BG/NBD µs/customer | clv_fit BG/NBD + GG µs/customer | clv_predict µs/customer |
|---|---|---|---|---|
${growth}
MD
