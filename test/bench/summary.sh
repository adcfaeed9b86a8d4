#!/usr/bin/env bash
# Benchmark: clv_summary over 10M orders of 1M customers, next to the plain-SQL
# query that computes the same fields and a bare count(*) scan (the floor).
set -euo pipefail
source "$(dirname "$0")/common.sh"
N=${BENCH_SUMMARY_ROWS:-10000000}
CUST=${BENCH_SUMMARY_CUSTOMERS:-1000000}
RUNS=${BENCH_RUNS:-3}

psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
DROP TABLE IF EXISTS bench_orders;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE bench_orders AS
SELECT (random() * ($CUST - 1))::int AS customer_id,
       timestamptz '2022-01-01 00:00+00' + random() * interval '1095 days' AS purchased_at,
       round((random() * 100)::numeric, 2)::float8 AS amount
FROM generate_series(1, $N);
VACUUM ANALYZE bench_orders;
SQL

floor_sql="SELECT count(*) FROM bench_orders;"
clv_sql="SELECT sum((s).frequency), sum((s).recency), sum((s).monetary_value)
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '2024-12-31') AS s
      FROM bench_orders GROUP BY customer_id) x;"
plain_sql="SELECT sum(frequency), sum(recency), sum(monetary_value)
FROM (SELECT customer_id, count(*) - 1 AS frequency,
             (max(d) - min(d)) / 7.0 AS recency,
             (date '2024-12-31' - min(d)) / 7.0 AS t,
             (sum(a) - (array_agg(a ORDER BY d))[1]) / nullif(count(*) - 1, 0) AS monetary_value,
             count(*) AS n_purchases, sum(a) AS total_amount, min(d) AS first_purchase,
             max(d) AS last_purchase, date '2024-12-31' - max(d) AS days_since_last
      FROM (SELECT customer_id, purchased_at::date AS d, sum(amount) AS a
            FROM bench_orders WHERE purchased_at::date <= date '2024-12-31'
            GROUP BY 1, 2) days
      GROUP BY customer_id) x;"

# Both queries must agree before their speed means anything.
check=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "SET TimeZone = 'UTC'" \
	-c "SELECT (SELECT sum((s).frequency) FROM (SELECT clv_summary(purchased_at, amount, '2024-12-31') s FROM bench_orders GROUP BY customer_id) a)
	         = (SELECT count(*) - count(DISTINCT customer_id) FROM (SELECT DISTINCT customer_id, purchased_at::date FROM bench_orders) b)")
floor_ms=$(bench_best_ms "$RUNS" "SET TimeZone = 'UTC'; $floor_sql")
clv_ms=$(bench_best_ms "$RUNS" "SET TimeZone = 'UTC'; $clv_sql")
plain_ms=$(bench_best_ms "$RUNS" "SET TimeZone = 'UTC'; $plain_sql")
clv1_ms=$(bench_best_ms "$RUNS" "SET TimeZone = 'UTC'; SET max_parallel_workers_per_gather = 0; $clv_sql")
plain1_ms=$(bench_best_ms "$RUNS" "SET TimeZone = 'UTC'; SET max_parallel_workers_per_gather = 0; $plain_sql")

ratio=$(awk -v a="$clv_ms" -v b="$plain_ms" 'BEGIN{printf "%.2f", a/b}')
verdict=$(awk -v a="$clv_ms" -v b="$plain_ms" 'BEGIN{print (a <= b ? "met" : "NOT met")}')
cat <<MD
## clv_summary: $N orders of $CUST customers

Best of $RUNS runs each, same data, same server, measured $(date -u +%Y-%m-%d). Frequencies of
both queries agree: $check. Parallel = up to 2 workers per gather (the server's setting).

| query | parallel | serial |
|---|---|---|
| \`count(*)\` scan (floor) | $(bench_s "$floor_ms") | |
| \`clv_summary(...) GROUP BY customer_id\` | $(bench_s "$clv_ms") | $(bench_s "$clv1_ms") |
| plain SQL, distinct days through a subquery | $(bench_s "$plain_ms") | $(bench_s "$plain1_ms") |

clv_summary / plain SQL (parallel): **$ratio** — target "no slower than the plain-SQL equivalent": $verdict.
MD
psql -X -q -c "DROP TABLE bench_orders"
