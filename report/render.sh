#!/usr/bin/env bash
# Renders the validation report into report/out/ from a running database with
# clv installed (PGHOST/PGPORT/PGUSER/PGDATABASE); tools/report.sh sets that
# up.  Loads the bundled CDNOW sample, fits BG/NBD + Gamma-Gamma on the
# 39-week calibration period (and again on all 78 weeks for the forward-looking
# CLV), queries clv's validation functions and draws every chart with gnuplot.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/report/out
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.csv "$OUT"/index.html

q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
csv() { q -c "COPY ($1) TO STDOUT WITH (FORMAT csv)" >"$OUT/$2"; }
has_function() { [ "$(q -c "SELECT count(*) FROM pg_proc WHERE proname = '$1'")" -gt 0 ]; }

# --- data and models -------------------------------------------------------
q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS report_elog, report_fit, report_cal, report_all, report_clv CASCADE;
CREATE TABLE report_elog (masterid int, sampleid int, date text, cds int, sales float8);
SQL
q -c "COPY report_elog FROM STDIN WITH (FORMAT csv, HEADER)" <"$ROOT/data/BTYD_cdnowElog.csv"
q <<'SQL'
SET TimeZone = 'UTC';
CREATE VIEW report_tx AS
	SELECT masterid AS customer_id, to_date(date, 'YYYYMMDD')::timestamptz AS purchased_at, sales AS amount
	FROM report_elog;
-- calibration 1997-01-01..1997-09-30, holdout to 1998-06-30 (39 + 39 weeks)
CREATE TABLE report_cal AS
	SELECT customer_id, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).*
	FROM report_tx GROUP BY customer_id;
-- everything up to 1998-06-30, for the forward-looking CLV
CREATE TABLE report_all AS
	SELECT customer_id, (clv_summary(purchased_at, amount, '1998-06-30', 'week')).*
	FROM report_tx GROUP BY customer_id;
CREATE TABLE report_fit AS
	SELECT 'calibration'::text AS period, clv_fit('report_cal', 'bgnbd', 'gamma_gamma') AS fit
	UNION ALL
	SELECT 'all 78 weeks', clv_fit('report_all', 'bgnbd', 'gamma_gamma');
SQL
P_CAL="(SELECT fit->'params' FROM report_fit WHERE period = 'calibration')"
P_ALL="(SELECT fit->'params' FROM report_fit WHERE period = 'all 78 weeks')"

# --- data for the charts ---------------------------------------------------
csv "SELECT period, cumulative_actual, cumulative_expected, actual, expected
     FROM clv_tracking($P_CAL, 'report_tx', '1997-09-30', '1998-06-30', 'week')" tracking.csv
csv "SELECT frequency, bucket, n_customers, mean_actual, mean_predicted
     FROM clv_calibration_holdout($P_CAL, 'report_cal', 7)" calibration.csv
csv "SELECT recency, frequency, value FROM clv_p_alive_matrix($P_CAL, 38.857, 15, 39)
     ORDER BY frequency, recency" p_alive.csv
# 26-week CLV: expected revenue (margin 1) of the next 26 weeks, discounted
# at 0.18% a week (about 10% a year), from the model fitted on all 78 weeks.
q -c "DROP TABLE IF EXISTS report_clv;
      CREATE TABLE report_clv AS
      SELECT customer_id, clv_value($P_ALL, frequency, recency, t, monetary_value, 26, 0.0018, 1) AS clv
      FROM report_all"
csv "SELECT least(floor(clv / 5) * 5, 200) AS bin, count(*) FROM report_clv GROUP BY 1 ORDER BY 1" clv26.csv
CLV_STATS=$(q -c "SELECT format('%s customers; median \$%s, mean \$%s, total \$%s', count(*),
		round(percentile_cont(0.5) WITHIN GROUP (ORDER BY clv)::numeric, 2), round(avg(clv)::numeric, 2),
		to_char(sum(clv), 'FM999,999,999')) FROM report_clv")

KMEANS=no
if has_function clv_kmeans_train && has_function clv_cluster; then
	if q -c "SELECT clv_drop_model('report_segments') FROM clv_models WHERE name = 'report_segments' LIMIT 1" >/dev/null &&
		q -c "SELECT 1 FROM clv_kmeans_train('report_segments',
				'SELECT frequency::float8 AS frequency, recency::float8 AS recency, ln(monetary_value) AS log_spend FROM report_all WHERE frequency > 0',
				ARRAY['frequency', 'recency', 'log_spend'], 4, '{\"seed\": 1, \"n_init\": 10}')" >/dev/null; then
		csv "SELECT recency, frequency, monetary_value,
				clv_cluster('report_segments', ARRAY[frequency::float8, recency::float8, ln(monetary_value)])
			 FROM report_all WHERE frequency > 0" kmeans.csv
		KMEANS=yes
	fi
fi

# --- charts ----------------------------------------------------------------
CAL_WEEK=39
read -r N_CUST <<<"$(q -c "SELECT count(*) FROM report_cal")"
# gp FILE: a gnuplot script on stdin drawn into $OUT/FILE
gp() {
	{
		echo "set terminal pngcairo size 900,560 font 'DejaVu Sans,11' noenhanced"
		echo "set datafile separator ','"
		echo "set output '$OUT/$1'"
		cat
	} | gnuplot
}

gp tracking_cumulative.png <<GP
set title 'CDNOW cohort ($N_CUST customers): cumulative repeat transactions, BG/NBD fitted on weeks 1-39'
set xlabel 'week since 1997-01-01'; set ylabel 'cumulative repeat transactions'
set key top left; set grid; set xrange [0:78]; set yrange [0:*]
set arrow from $CAL_WEEK, graph 0 to $CAL_WEEK, graph 1 nohead dt 2 lw 1.5 lc rgb 'gray30'
set label 'end of calibration (week 39)' at $CAL_WEEK + 1, graph 0.08 tc rgb 'gray30'
plot '$OUT/tracking.csv' using 1:2 with lines lw 2.5 lc rgb '#1f77b4' title 'actual', \
     '' using 1:3 with lines lw 2.5 dt 2 lc rgb '#d62728' title 'expected (BG/NBD)'
GP

gp tracking_weekly.png <<GP
set title 'CDNOW cohort: repeat transactions per week'
set xlabel 'week since 1997-01-01'; set ylabel 'repeat transactions in the week'
set key top right; set grid; set xrange [0:78]; set yrange [0:*]
set arrow from $CAL_WEEK, graph 0 to $CAL_WEEK, graph 1 nohead dt 2 lw 1.5 lc rgb 'gray30'
set label 'end of calibration' at $CAL_WEEK + 1, graph 0.95 tc rgb 'gray30'
plot '$OUT/tracking.csv' using 1:4 with lines lw 2 lc rgb '#1f77b4' title 'actual', \
     '' using 1:5 with lines lw 2.5 dt 2 lc rgb '#d62728' title 'expected (BG/NBD)'
GP

gp calibration_holdout.png <<GP
set title 'Calibration vs holdout: mean repeat purchases in the 39-week holdout'
set xlabel 'repeat purchases in the calibration period, weeks 1-39 (n = customers)' offset 0,-0.8; set bmargin 5
set ylabel 'mean repeat purchases per customer, weeks 40-78'
set key top left; set grid; set yrange [0:*]; set offsets 0.5, 0.5, 0, 0
plot '$OUT/calibration.csv' using 1:4:xtic(sprintf("%s\n(n=%s)", stringcolumn(2), stringcolumn(3))) with linespoints lw 2.5 pt 7 lc rgb '#1f77b4' title 'actual', \
     '' using 1:5 with linespoints lw 2.5 pt 5 dt 2 lc rgb '#d62728' title 'expected (BG/NBD)'
GP

gp p_alive.png <<GP
set title 'P(alive) at the end of calibration for a customer acquired in week 1 (t = 38.9 weeks)'
set xlabel 'recency: weeks from the first to the last purchase'
set ylabel 'frequency: repeat purchases'
set cblabel 'P(alive)'; set cbrange [0:1]; set palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')
set xrange [-0.5:39.5]; set yrange [-0.5:15.5]; set tics out
plot '$OUT/p_alive.csv' using 1:2:3 with image notitle
GP

gp clv26.png <<GP
set title 'Distribution of 26-week CLV (expected revenue, discounted 10%/year), model fitted on all 78 weeks'
set xlabel 'CLV over the next 26 weeks (US\$, bins of \$5; last bin: \$200 and more)'
set ylabel 'customers (log scale)'; set logscale y; set grid
set style fill solid 0.8 border rgb 'white'; set boxwidth 5; set xrange [-2.5:207.5]
set label '$CLV_STATS' at graph 0.97, graph 0.93 right
plot '$OUT/clv26.csv' using (\$1 + 2.5):2 with boxes lc rgb '#1f77b4' notitle
GP

if [ "$KMEANS" = yes ]; then
	CLUSTERS=$(cut -d, -f4 "$OUT/kmeans.csv" | sort -un | tr '\n' ' ')
	gp kmeans.png <<GP
set title 'K-Means segments (k = 4) of the repeat customers, on frequency, recency and log spend'
set xlabel 'recency (weeks from first to last purchase)'; set ylabel 'mean spend per repeat purchase (US\$, log scale)'
set logscale y; set grid; set key outside right title 'point size ~ frequency'
set linetype 1 lc rgb '#1f77b4'; set linetype 2 lc rgb '#d62728'; set linetype 3 lc rgb '#2ca02c'
set linetype 4 lc rgb '#9467bd'; set linetype 5 lc rgb '#ff7f0e'; set linetype 6 lc rgb '#8c564b'
plot for [c in "$CLUSTERS"] '$OUT/kmeans.csv' using (\$4 == c + 0 ? \$1 : 1/0):3:(0.4 + (\$2 > 25 ? 25 : \$2) * 0.08) with points pt 7 ps variable title sprintf('cluster %s', c)
GP
fi

# --- the page --------------------------------------------------------------
fit_row() {
	q -c "SELECT format('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>', period,
			(SELECT string_agg(format('%s = %s', k, round((fit->'params'->>k)::numeric, 4)), ', ')
			 FROM unnest(ARRAY['r','alpha','a','b','p','q','gamma']) k WHERE fit->'params' ? k),
			fit->>'n_customers', fit->>'converged')
		  FROM report_fit ORDER BY period DESC"
}
METRICS=$(q -c "SELECT format('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
				n_customers, total_actual, round(total_predicted::numeric, 1), round(mae::numeric, 3),
				round(rmse::numeric, 3), round(correlation::numeric, 3))
			  FROM clv_holdout_metrics($P_CAL, 'report_cal')")
{
	cat <<HTML
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>clv validation report: CDNOW</title>
<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em}
figure{margin:2em 0}figcaption{color:#555;font-size:.95em}</style></head><body>
<h1>clv validation report: CDNOW sample</h1>
<p>$N_CUST customers of CDNOW's first-quarter-1997 cohort (BTYD's <code>cdnowElog</code>), weeks,
calibration 1997-01-01..1997-09-30 (39 weeks), holdout 1997-10-01..1998-06-30 (39 weeks).
Generated $(date -u '+%Y-%m-%d %H:%M UTC') by <code>tools/report.sh</code>.</p>
<h2>Fitted models (clv_fit, BG/NBD + Gamma-Gamma)</h2>
<table><tr><th>data</th><th>parameters</th><th>customers</th><th>converged</th></tr>
$(fit_row)
</table>
<h2>Holdout accuracy (clv_holdout_metrics)</h2>
<table><tr><th>customers</th><th>actual repeat purchases</th><th>predicted</th><th>MAE</th><th>RMSE</th><th>correlation</th></tr>
$METRICS
</table>
<figure><img src="tracking_cumulative.png" alt="cumulative tracking"><figcaption>clv_tracking: cumulative
repeat transactions of the cohort, actual vs expected; each customer's expectation starts at their own first purchase.</figcaption></figure>
<figure><img src="tracking_weekly.png" alt="weekly tracking"><figcaption>clv_tracking: the same per week.</figcaption></figure>
<figure><img src="calibration_holdout.png" alt="calibration vs holdout"><figcaption>clv_calibration_holdout: customers grouped
by calibration frequency (last group 7 and more), mean holdout purchases actual vs conditional expectation; n = customers per group.</figcaption></figure>
<figure><img src="p_alive.png" alt="P(alive) heatmap"><figcaption>clv_p_alive_matrix: probability that a customer is still
active, by frequency and recency (the frequency-0 row is constant: such customers have recency 0).</figcaption></figure>
<figure><img src="clv26.png" alt="CLV distribution"><figcaption>clv_value over 26 weeks for every customer, margin 1 (revenue),
discount 0.18% per week.</figcaption></figure>
HTML
	if [ "$KMEANS" = yes ]; then
		echo '<figure><img src="kmeans.png" alt="K-Means segments"><figcaption>clv_kmeans_train / clv_cluster on repeat customers; point size grows with frequency.</figcaption></figure>'
	else
		echo '<p><em>K-Means segments: clv_kmeans_train is not installed in this build; chart skipped.</em></p>'
	fi
	echo '</body></html>'
} >"$OUT/index.html"
echo "report written to $OUT/index.html" >&2
