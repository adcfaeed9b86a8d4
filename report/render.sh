#!/usr/bin/env bash
# Renders the validation report of one trained model on one customer summary
# into an output directory (index.html, one PNG per chart, the CSV behind each
# chart).  It only reads: every statement is a SELECT (or COPY of one) through
# clv's public functions, so it can run against an analyst's database in a
# read-only transaction (tools/report.sh --dsn does that; tools/report.sh
# without --dsn sets up a throwaway cluster and loads the data first).
#
#   report/render.sh --model NAME --source SUMMARY [options]
#
#   --model NAME          a trained BTYD model (clv_train) in clv_models
#   --source SUMMARY      a table, view or one SELECT with the clv_summary fields
#                         the model was trained on (frequency, recency, t,
#                         monetary_value; with frequency_holdout and
#                         duration_holdout the holdout charts are drawn;
#                         days_since_last, n_purchases, total_amount for RFM)
#   --compare NAME        another model trained on the same summary, drawn
#                         beside the first (repeatable)
#   --transactions TX     customer_id, purchased_at: the tracking charts
#   --segments NAME       a K-Means model (clv_kmeans_train) whose features are
#                         columns of the value source: CLV by segment, scatter
#   --value-model NAME, --value-source SUMMARY
#                         the model and summary of the forward-looking CLV
#                         charts (default: --model and --source)
#   --calibration-end D, --observation-end D
#                         the split (default: derived from the summary's
#                         first_purchase, t and duration_holdout)
#   --horizon H           CLV horizon in the model's time unit (default half a
#                         year: 26 weeks, 182 days, 6 months, 0.5 years)
#   --discount R          yearly discount rate of the CLV (default 0.1)
#   --currency TEXT       the money unit in labels, e.g. 'US$' (default: "money")
#   --title TEXT          the data set's name in titles
#   --out DIR             output directory (default report/out)
#   --dsn CONNINFO        the database (default: the PG* environment)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

MODEL="" SOURCE="" TX="" SEGMENTS="" VMODEL="" VSOURCE="" CAL_END="" OBS_END=""
HORIZON="" DISCOUNT=0.1 CURRENCY="" TITLE="" OUT=$ROOT/report/out DSN=""
COMPARE=()
die() { echo "report/render.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "$1 needs a value"
	case "$1" in
	--model) MODEL=$2 ;;
	--source) SOURCE=$2 ;;
	--compare) COMPARE+=("$2") ;;
	--transactions) TX=$2 ;;
	--segments) SEGMENTS=$2 ;;
	--value-model) VMODEL=$2 ;;
	--value-source) VSOURCE=$2 ;;
	--calibration-end) CAL_END=$2 ;;
	--observation-end) OBS_END=$2 ;;
	--horizon) HORIZON=$2 ;;
	--discount) DISCOUNT=$2 ;;
	--currency) CURRENCY=$2 ;;
	--title) TITLE=$2 ;;
	--out) OUT=$2 ;;
	--dsn) DSN=$2 ;;
	*) die "unknown option $1 (see the comment at the top of this script)" ;;
	esac
	shift 2
done
[ -n "$MODEL" ] && [ -n "$SOURCE" ] || die "--model NAME and --source SUMMARY are required"
VMODEL=${VMODEL:-$MODEL}
VSOURCE=${VSOURCE:-$SOURCE}
TITLE=${TITLE:-$SOURCE}
MODELS=("$MODEL" "${COMPARE[@]}")

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)
[ -z "$DSN" ] || PSQL+=(-d "$DSN")
q() { "${PSQL[@]}" "$@"; }
# csv QUERY FILE: the rows of QUERY into $OUT/FILE
csv() { q -c "COPY ($1) TO STDOUT WITH (FORMAT csv)" >"$OUT/$2"; }
# lit TEXT: TEXT as an SQL string literal
lit() { printf "'%s'" "${1//\'/\'\'}"; }
# gq TEXT: TEXT as a gnuplot single-quoted string
gq() { printf "'%s'" "${1//\'/\'\'}"; }
# html TEXT: TEXT escaped for HTML
html() { local s=${1//&/&amp;}; s=${s//</&lt;}; printf '%s' "${s//>/&gt;}"; }

mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.csv "$OUT"/index.html

# --- what the models and summaries are ---------------------------------------
# model_info NAME: "transaction_model|spend_model|time_unit|version"
model_info() {
	q -c "SELECT coalesce(transaction_model, ''), coalesce(spend_model, ''), coalesce(time_unit, ''), version
		  FROM clv_model($(lit "$1")) AS m WHERE kind = 'btyd'" || exit 1
}
declare -A TM SM UNIT VER
for m in "${MODELS[@]}" "$VMODEL"; do
	IFS='|' read -r TM[$m] SM[$m] UNIT[$m] VER[$m] <<<"$(model_info "$m")"
	[ -n "${TM[$m]}" ] || die "model \"$m\" is not a trained purchase model (clv_train)"
done
MUNIT=${UNIT[$MODEL]}
for m in "${COMPARE[@]}"; do
	[ "${UNIT[$m]}" = "$MUNIT" ] || die "model \"$m\" is in ${UNIT[$m]}s, \"$MODEL\" in ${MUNIT}s"
done
model_label() {
	case "${TM[$1]}" in
	bgnbd) echo "BG/NBD" ;; mbgnbd) echo "MBG/NBD" ;; pareto_nbd) echo "Pareto/NBD" ;;
	bgbb) echo "BG/BB" ;; *) echo "${TM[$1]}" ;;
	esac
}
days_per() { case "$1" in day) echo 1 ;; week) echo 7 ;; month) echo 30.4375 ;; year) echo 365.25 ;; esac; }
DPU=$(days_per "$MUNIT")
VUNIT=${UNIT[$VMODEL]}
VDPU=$(days_per "$VUNIT")

SRC="$(q -c "SELECT clv_source_sql($(lit "$SOURCE"))") AS c"
VSRC="$(q -c "SELECT clv_source_sql($(lit "$VSOURCE"))") AS c"
columns() { q -c "COPY (SELECT * FROM $1 LIMIT 0) TO STDOUT WITH (FORMAT csv, HEADER)"; }
has() { [[ ",$1," == *",$2,"* ]]; }
COLS=$(columns "$SRC")
VCOLS=$(columns "$VSRC")
for col in frequency recency t monetary_value; do
	has "$COLS" $col || die "$SOURCE has no column $col (a clv_summary result has)"
	has "$VCOLS" $col || die "$VSOURCE has no column $col (a clv_summary result has)"
done
HOLDOUT=no
has "$COLS" frequency_holdout && has "$COLS" duration_holdout &&
	[ "$(q -c "SELECT count(*) FROM $SRC WHERE c.duration_holdout > 0")" -gt 0 ] && HOLDOUT=yes
# ties in rankings are broken by the customer id, else by a hash of the row
tie() { if has "$1" customer_id; then echo "c.customer_id"; else echo "md5(c::text)"; fi; }
SKIPPED=()
skip() { SKIPPED+=("$1"); }

N_CUST=$(q -c "SELECT count(*) FROM $SRC")
VN_CUST=$(q -c "SELECT count(*) FROM $VSRC")
# one-time buyers: P(alive) under BG/NBD is 1 for every one of them
N_ONCE=$(q -c "SELECT count(*) FROM $SRC WHERE c.frequency = 0")

# the calibration split, from the summary: t runs from the first purchase day
# to the calibration end, duration_holdout from there to the observation end
if [ -z "$CAL_END" ] && has "$COLS" first_purchase; then
	IFS='|' read -r CAL_END CAL_END2 <<<"$(q -c "SELECT min(d), max(d) FROM (
			SELECT c.first_purchase + round(c.t * $DPU)::int AS d FROM $SRC WHERE c.first_purchase IS NOT NULL) s")"
	[ "$CAL_END" = "$CAL_END2" ] || die "$SOURCE: first_purchase + t gives calibration ends from $CAL_END to $CAL_END2; pass --calibration-end"
fi
if [ -z "$OBS_END" ] && [ -n "$CAL_END" ]; then
	if [ "$HOLDOUT" = yes ]; then
		OBS_END=$(q -c "SELECT DATE $(lit "$CAL_END") + round(max(c.duration_holdout) * $DPU)::int FROM $SRC")
	else
		OBS_END=$CAL_END
	fi
fi

# the CLV horizon and the discount per time unit of the value model
if [ -z "$HORIZON" ]; then
	case "$VUNIT" in day) HORIZON=182 ;; week) HORIZON=26 ;; month) HORIZON=6 ;; year) HORIZON=0.5 ;; esac
fi
RATE=$(q -c "SELECT (1 + $DISCOUNT::float8) ^ ($VDPU / 365.25) - 1")
DISCOUNT_TEXT=$(q -c "SELECT format('%s%% a year (%s per %s)', round(100 * $DISCOUNT::numeric, 2)::float8,
		round(($RATE)::numeric, 6)::float8, $(lit "$VUNIT"))")
HORIZON_TEXT="$HORIZON ${VUNIT}s"
VALUE_OK=yes
TOP=""
PERIOD_END="the end of the calibration period"
[ "$HOLDOUT" = yes ] || PERIOD_END="the end of the summary's period"
[ -n "${SM[$VMODEL]}" ] || { VALUE_OK=no; skip "The CLV charts need a spend model: \"$VMODEL\" has none (clv_train with 'gamma_gamma')."; }
MONEY=${CURRENCY:-money}

# --- the chart data -------------------------------------------------------------
# P(alive) and expected purchases of every customer under every model
PRED_COLS=""
PRED_FROM=""
i=0
for m in "${MODELS[@]}"; do
	PRED_COLS+=", p$i.p_alive AS p_alive_$i, p$i.expected_purchases AS purchases_$i"
	horizon=0
	[ "$HOLDOUT" = no ] || horizon="coalesce(c.duration_holdout, 0)"
	PRED_FROM+=", LATERAL clv_predict($(lit "$m"), c.frequency, c.recency, c.t, c.monetary_value, $horizon) AS p$i"
	i=$((i + 1))
done

if has "$COLS" days_since_last; then
	csv "SELECT c.days_since_last, least(c.frequency, 9) AS frequency_group $PRED_COLS
		 FROM $SRC $PRED_FROM WHERE c.frequency IS NOT NULL ORDER BY c.frequency" p_alive_customers.csv
else
	skip "P(alive) against days since the last purchase: $SOURCE has no days_since_last column."
fi

T_MAX=$(q -c "SELECT round(max(c.t)::numeric, 1) FROM $SRC")
MAX_F=$(q -c "SELECT greatest(10, least(30, ceil(percentile_cont(0.99) WITHIN GROUP (ORDER BY c.frequency))))::int FROM $SRC")
csv "SELECT recency, frequency, value FROM clv_p_alive_matrix($(lit "$MODEL"), $T_MAX, $MAX_F, 40)
	 ORDER BY frequency, recency" p_alive.csv

if [ "$HOLDOUT" = yes ]; then
	i=0
	CH_COLS=""
	CH_FROM=""
	for m in "${MODELS[@]}"; do
		CH_COLS+=", h$i.mean_predicted"
		[ $i -eq 0 ] || CH_FROM+=" JOIN clv_calibration_holdout($(lit "$m"), $(lit "$SOURCE"), 7) AS h$i USING (frequency)"
		i=$((i + 1))
	done
	csv "SELECT frequency, h0.bucket, h0.n_customers, h0.mean_actual $CH_COLS
		 FROM clv_calibration_holdout($(lit "$MODEL"), $(lit "$SOURCE"), 7) AS h0 $CH_FROM ORDER BY frequency" calibration.csv
	# gains: customers in deciles of predicted holdout purchases (and of
	# predicted holdout revenue), predicted against actual
	REV_OK=no
	[ -n "${SM[$MODEL]}" ] && has "$COLS" monetary_holdout && REV_OK=yes
	if [ "$REV_OK" = yes ]; then
		REV="p.clv AS predicted_revenue, c.frequency_holdout * coalesce(c.monetary_holdout, 0) AS actual_revenue"
	else
		REV="NULL::float8 AS predicted_revenue, NULL::float8 AS actual_revenue"
	fi
	csv "WITH x AS (
			SELECT p.expected_purchases AS predicted, c.frequency_holdout AS actual, $REV, $(tie "$COLS") AS tie
			FROM $SRC, LATERAL clv_predict($(lit "$MODEL"), c.frequency, c.recency, c.t, c.monetary_value, c.duration_holdout) AS p
			WHERE c.duration_holdout IS NOT NULL),
		 d AS (
			SELECT *, ntile(10) OVER (ORDER BY predicted DESC, tie) AS decile,
				   ntile(10) OVER (ORDER BY predicted_revenue DESC, tie) AS revenue_decile
			FROM x)
		 SELECT a.decile, a.customers, a.predicted, a.actual, r.predicted_revenue, r.actual_revenue
		 FROM (SELECT decile, count(*) AS customers, sum(predicted) AS predicted, sum(actual) AS actual
			   FROM d GROUP BY decile) a
		 JOIN (SELECT revenue_decile AS decile, sum(predicted_revenue) AS predicted_revenue,
					  sum(actual_revenue) AS actual_revenue
			   FROM d GROUP BY revenue_decile) r USING (decile)
		 ORDER BY decile" gains.csv
	METRICS=""
	for m in "${MODELS[@]}"; do
		METRICS+=$(q -c "SELECT format('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
				$(lit "$m"), n_customers, total_actual, round(total_predicted::numeric, 1), round(mae::numeric, 3),
				round(rmse::numeric, 3), round(correlation::numeric, 3))
			FROM clv_holdout_metrics($(lit "$m"), $(lit "$SOURCE"))")
	done
else
	skip "Holdout charts (calibration vs holdout, gains, accuracy): $SOURCE has no holdout split; build it with the 5-argument clv_summary(purchased_at, amount, calibration_end, observation_end, time_unit)."
fi

TRACKING=no
if [ -n "$TX" ] && [ -n "$CAL_END" ]; then
	i=0
	TR_COLS=""
	TR_FROM=""
	for m in "${MODELS[@]}"; do
		TR_COLS+=", t$i.cumulative_expected, t$i.expected"
		[ $i -eq 0 ] || TR_FROM+=" JOIN clv_tracking($(lit "$m"), $(lit "$TX"), $(lit "$CAL_END"), $(lit "$OBS_END"), $(lit "$MUNIT")) AS t$i USING (period)"
		i=$((i + 1))
	done
	csv "SELECT period, t0.period_start, t0.cumulative_actual, t0.actual $TR_COLS
		 FROM clv_tracking($(lit "$MODEL"), $(lit "$TX"), $(lit "$CAL_END"), $(lit "$OBS_END"), $(lit "$MUNIT")) AS t0 $TR_FROM
		 ORDER BY period" tracking.csv
	TRACKING=yes
elif [ -z "$TX" ]; then
	skip "Tracking charts: no --transactions table (customer_id, purchased_at) given."
else
	skip "Tracking charts: the calibration end is unknown ($SOURCE has no first_purchase); pass --calibration-end."
fi

if [ "$VALUE_OK" = yes ]; then
	VALUE="SELECT c.*, p.clv FROM $VSRC,
		LATERAL clv_predict($(lit "$VMODEL"), c.frequency, c.recency, c.t, c.monetary_value, $HORIZON, $RATE) AS p"
	CLV_STATS=$(q -c "SELECT format('%s customers; median %s, mean %s, total %s', count(*),
			round(percentile_cont(0.5) WITHIN GROUP (ORDER BY clv)::numeric, 2), round(avg(clv)::numeric, 2),
			to_char(sum(clv), 'FM999,999,999,990')) FROM ($VALUE) v")
	# bins of a round width, about 40 up to the 99th percentile
	BIN=$(q -c "SELECT (SELECT x FROM unnest(ARRAY[0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) x
					   WHERE x >= p99 / 40 ORDER BY x LIMIT 1)
				FROM (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY clv) AS p99 FROM ($VALUE) v) s")
	BIN=${BIN:-10000}
	LAST=$(q -c "SELECT ceil(percentile_cont(0.99) WITHIN GROUP (ORDER BY clv) / $BIN) * $BIN FROM ($VALUE) v")
	csv "SELECT least(floor(clv / $BIN) * $BIN, $LAST) AS bin, count(*) FROM ($VALUE) v GROUP BY 1 ORDER BY 1" clv.csv
	# value concentration: the share of predicted CLV (and of past revenue)
	# held by the top x % of customers, in 0.5 % steps
	PAST="NULL::float8"
	has "$VCOLS" total_amount && PAST="c.total_amount"
	csv "WITH v AS (SELECT p.clv, $PAST AS past FROM $VSRC,
				LATERAL clv_predict($(lit "$VMODEL"), c.frequency, c.recency, c.t, c.monetary_value, $HORIZON, $RATE) AS p),
			 a AS (SELECT row_number() OVER (ORDER BY clv DESC) AS rn,
						  sum(clv) OVER (ORDER BY clv DESC ROWS UNBOUNDED PRECEDING) AS cum FROM v),
			 b AS (SELECT row_number() OVER (ORDER BY past DESC NULLS LAST) AS rn,
						  sum(past) OVER (ORDER BY past DESC NULLS LAST ROWS UNBOUNDED PRECEDING) AS cum FROM v),
			 tot AS (SELECT count(*) AS n, sum(clv) AS clv, sum(past) AS past FROM v)
		 SELECT g / 2.0 AS pct_customers,
				100 * coalesce((SELECT cum FROM a WHERE rn = ceil(n * g / 200.0)), 0) / nullif(tot.clv, 0) AS pct_clv,
				100 * coalesce((SELECT cum FROM b WHERE rn = ceil(n * g / 200.0)), 0) / nullif(tot.past, 0) AS pct_past
		 FROM generate_series(0, 200) AS g, tot ORDER BY g" concentration.csv
	TOP10=$(awk -F, '$1 == 10 { printf "%.0f", $2 }' "$OUT/concentration.csv")
	TOP20=$(awk -F, '$1 == 20 { printf "%.0f", $2 }' "$OUT/concentration.csv")
	TOP="top 10% of customers: ${TOP10}% of the predicted CLV; top 20%: ${TOP20}%"

	# predicted CLV by RFM segment (quintile scores as in the README)
	if has "$VCOLS" days_since_last && has "$VCOLS" n_purchases && has "$VCOLS" total_amount; then
		T=$(tie "$VCOLS")
		csv "SELECT segment, count(*) AS customers, 100.0 * count(*) / sum(count(*)) OVER () AS pct_customers,
					100.0 * sum(clv) / sum(sum(clv)) OVER () AS pct_clv, avg(clv) AS mean_clv
			 FROM (SELECT clv_rfm_segment(ntile(5) OVER (ORDER BY c.days_since_last DESC, $T),
										  ntile(5) OVER (ORDER BY c.n_purchases, $T),
										  ntile(5) OVER (ORDER BY c.total_amount, $T)) AS segment, p.clv
				   FROM $VSRC,
						LATERAL clv_predict($(lit "$VMODEL"), c.frequency, c.recency, c.t, c.monetary_value, $HORIZON, $RATE) AS p
				   WHERE c.frequency IS NOT NULL) s
			 GROUP BY segment ORDER BY pct_clv, segment" clv_rfm.csv
	else
		skip "CLV by RFM segment: $VSOURCE needs days_since_last, n_purchases and total_amount."
	fi

	# --- segment economics (clv_segment_economics): the value of each RFM
	# segment with its 90 % interval from parameter uncertainty (200 draws
	# shared by every segment); the segments are those of the chart above
	if has "$VCOLS" days_since_last && has "$VCOLS" n_purchases && has "$VCOLS" total_amount; then
		T=$(tie "$VCOLS")
		SEGQ="SELECT c.frequency, c.recency, c.t, c.monetary_value,
					 clv_rfm_segment(ntile(5) OVER (ORDER BY c.days_since_last DESC, $T),
									 ntile(5) OVER (ORDER BY c.n_purchases, $T),
									 ntile(5) OVER (ORDER BY c.total_amount, $T)) AS rfm_segment
			  FROM $VSRC WHERE c.frequency IS NOT NULL"
		csv "SELECT segment, total_clv, total_clv_lower, total_clv_upper, mean_clv, customers
			 FROM clv_segment_economics($(lit "$VMODEL"), $(lit "$SEGQ"), 'rfm_segment', $HORIZON, $RATE, 1, 3,
										'{\"n_draws\": 200}')
			 ORDER BY total_clv, segment" segment_value.csv
	else
		skip "Value per segment with its interval: $VSOURCE needs days_since_last, n_purchases and total_amount."
	fi
	# --- end of segment economics

	# predicted CLV by K-Means segment, named by clv_kmeans_profile
	KMEANS=no
	if [ -n "$SEGMENTS" ]; then
		FEATURES=$(q -c "SELECT string_agg(format('c.%I', f), ', ' ORDER BY o)
						 FROM clv_model($(lit "$SEGMENTS")) AS m,
							  jsonb_array_elements_text(m.params->'features') WITH ORDINALITY AS x(f, o)
						 WHERE m.kind = 'kmeans'")
		[ -n "$FEATURES" ] || die "\"$SEGMENTS\" is not a K-Means model (clv_kmeans_train)"
		NOT_NULL=$(sed 's/, / IS NOT NULL AND /g; s/$/ IS NOT NULL/' <<<"$FEATURES")
		# the profile's names; a name that two clusters share gets the cluster number
		csv "SELECT cluster, CASE WHEN count(*) OVER (PARTITION BY label) > 1 THEN format('%s (cluster %s)', label, cluster)
								 ELSE label END, size
			 FROM clv_kmeans_profile($(lit "$SEGMENTS"), $(lit "$VSOURCE")) ORDER BY cluster" kmeans_labels.csv
		csv "WITH k AS (SELECT clv_cluster($(lit "$SEGMENTS"), ARRAY[$FEATURES]::float8[]) AS cluster, p.clv
						FROM $VSRC,
							 LATERAL clv_predict($(lit "$VMODEL"), c.frequency, c.recency, c.t, c.monetary_value, $HORIZON, $RATE) AS p
						WHERE $NOT_NULL)
			 SELECT l.label, count(*) AS customers, 100.0 * count(*) / sum(count(*)) OVER () AS pct_customers,
					100.0 * sum(clv) / sum(sum(clv)) OVER () AS pct_clv, avg(clv) AS mean_clv
			 FROM k JOIN (SELECT cluster, CASE WHEN count(*) OVER (PARTITION BY label) > 1
											  THEN format('%s (cluster %s)', label, cluster) ELSE label END AS label
						  FROM clv_kmeans_profile($(lit "$SEGMENTS"), $(lit "$VSOURCE"))) l USING (cluster)
			 GROUP BY l.label ORDER BY pct_clv, l.label" clv_kmeans.csv
		if has "$VCOLS" days_since_last && has "$VCOLS" total_amount; then
			csv "SELECT c.days_since_last, c.total_amount, coalesce(c.n_purchases, 1),
						clv_cluster($(lit "$SEGMENTS"), ARRAY[$FEATURES]::float8[])
				 FROM $VSRC WHERE $NOT_NULL AND c.total_amount > 0" kmeans.csv
			KMEANS=yes
		else
			skip "K-Means scatter: $VSOURCE needs days_since_last and total_amount."
		fi
	else
		skip "CLV by K-Means segment: no --segments model given."
	fi
fi

# --- charts ------------------------------------------------------------------
COLORS=('#1f77b4' '#d62728' '#2ca02c' '#9467bd' '#ff7f0e' '#8c564b' '#e377c2' '#17becf')
# gp FILE [WIDTH HEIGHT]: a gnuplot script on stdin drawn into $OUT/FILE
gp() {
	{
		echo "set terminal pngcairo size ${2:-900},${3:-560} font 'DejaVu Sans,11' noenhanced"
		echo "set datafile separator ','"
		echo "set output '$OUT/$1'"
		echo "set linetype 1 lc rgb '#1f77b4'; set linetype 2 lc rgb '#d62728'; set linetype 3 lc rgb '#2ca02c'"
		echo "set linetype 4 lc rgb '#9467bd'; set linetype 5 lc rgb '#ff7f0e'; set linetype 6 lc rgb '#8c564b'"
		cat
	} | gnuplot
}
UNITS="${MUNIT}s"
D="$OUT"

if [ "$TRACKING" = yes ]; then
	plot_cum="'$D/tracking.csv' using 2:3 with lines lw 2.5 lc rgb '#222222' title 'actual'"
	plot_per="'$D/tracking.csv' using 2:4 with lines lw 1.5 lc rgb '#222222' title 'actual'"
	i=0
	for m in "${MODELS[@]}"; do
		c=${COLORS[$((i + 1))]}
		plot_cum+=", '' using 2:$((5 + 2 * i)) with lines lw 2.5 dt $((i + 2)) lc rgb '$c' title $(gq "expected: $(model_label "$m") ($m)")"
		plot_per+=", '' using 2:$((6 + 2 * i)) with lines lw 2.5 dt $((i + 2)) lc rgb '$c' title $(gq "expected: $(model_label "$m") ($m)")"
		i=$((i + 1))
	done
	TIMEAXIS="set xdata time; set timefmt '%Y-%m-%d'; set format x '%Y-%m'; set xtics rotate by -30"
	CALMARK="set arrow from '$CAL_END', graph 0 to '$CAL_END', graph 1 nohead dt 2 lw 1.5 lc rgb 'gray30'"
	gp tracking_cumulative.png 900 620 <<GP
set title $(gq "$TITLE ($N_CUST customers): cumulative repeat transactions, actual vs expected")
set xlabel 'date (start of each $MUNIT)'; set ylabel 'cumulative repeat transactions (count)'
$TIMEAXIS; set key outside bottom center horizontal maxrows 2; set grid; set yrange [0:*]; set rmargin 8; set offsets 0, 0, graph 0.1, 0
$CALMARK
set label 'end of calibration ($CAL_END)' at '$CAL_END', graph 0.05 offset 0.5,0 tc rgb 'gray30'
plot $plot_cum
GP
	gp tracking_weekly.png 900 620 <<GP
set title $(gq "$TITLE: repeat transactions per $MUNIT, actual vs expected")
set xlabel 'date (start of each $MUNIT)'; set ylabel 'repeat transactions in the $MUNIT (count)'
$TIMEAXIS; set key outside bottom center horizontal maxrows 2; set grid; set yrange [0:*]; set rmargin 8; set offsets 0, 0, graph 0.1, 0
$CALMARK
set label 'end of calibration ' at '$CAL_END', graph 0.96 right tc rgb 'gray30'
plot $plot_per
GP
fi

if [ "$HOLDOUT" = yes ]; then
	HOLD_LEN=$(q -c "SELECT round(max(c.duration_holdout)::numeric, 1) FROM $SRC")
	plot="'$D/calibration.csv' using 1:4:xtic(sprintf(\"%s\\n(n=%s)\", stringcolumn(2), stringcolumn(3))) with linespoints lw 2.5 pt 7 lc rgb '#222222' title 'actual'"
	i=0
	for m in "${MODELS[@]}"; do
		plot+=", '' using 1:$((5 + i)) with linespoints lw 2.5 pt $((5 + 2 * i)) dt $((i + 2)) lc rgb '${COLORS[$((i + 1))]}' title $(gq "expected: $(model_label "$m") ($m)")"
		i=$((i + 1))
	done
	gp calibration_holdout.png <<GP
set title $(gq "$TITLE: mean repeat purchases in the holdout ($HOLD_LEN $UNITS), by calibration purchases")
set xlabel 'repeat purchases in the calibration period (n = customers)' offset 0,-0.8; set bmargin 5
set ylabel 'mean repeat purchases per customer in the holdout'
set key top left box opaque; set grid; set yrange [0:*]; set offsets 0.5, 0.5, 0, 0
plot $plot
GP
	if [ "$REV_OK" = yes ]; then
		gp gains.png 1100 520 <<GP
set multiplot layout 1,2 title $(gq "$TITLE: holdout gains, $(model_label "$MODEL") ($MODEL), customers in deciles of their prediction")
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.85 border rgb 'white'
set grid ytics; set key top right box opaque; set yrange [0:*]
set xlabel 'decile of predicted holdout purchases (1 = highest)'
set ylabel 'repeat purchases in the holdout (count)'
plot '$D/gains.csv' using 3:xtic(1) lc rgb '#d62728' title 'predicted', '' using 4 lc rgb '#1f77b4' title 'actual'
set xlabel 'decile of predicted holdout revenue (1 = highest)'
set ylabel $(gq "revenue in the holdout ($MONEY)")
plot '$D/gains.csv' using 5:xtic(1) lc rgb '#d62728' title 'predicted', '' using 6 lc rgb '#1f77b4' title 'actual'
unset multiplot
GP
	else
		gp gains.png <<GP
set title $(gq "$TITLE: holdout gains, $(model_label "$MODEL") ($MODEL), customers in deciles of their prediction")
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.85 border rgb 'white'
set grid ytics; set key top right box opaque; set yrange [0:*]
set xlabel 'decile of predicted holdout purchases (1 = highest)'
set ylabel 'repeat purchases in the holdout (count)'
plot '$D/gains.csv' using 3:xtic(1) lc rgb '#d62728' title 'predicted', '' using 4 lc rgb '#1f77b4' title 'actual'
GP
	fi
fi

if [ -f "$OUT/p_alive_customers.csv" ]; then
	n=${#MODELS[@]}
	[ "$n" -le 3 ] || n=3
	{
		echo "set multiplot layout 1,$n title $(gq "$TITLE: P(alive) of each customer at $PERIOD_END")"
		echo "set xlabel 'days since the last purchase'; set ylabel 'P(alive)'; set yrange [-0.02:1.02]; set grid"
		echo "set key outside bottom center horizontal title 'repeat purchases in the calibration period:'"
		echo "set palette defined (0 '#fde725', 1 '#5ec962', 2 '#21918c', 3 '#3b528b', 4 '#440154'); unset colorbox"
		for i in $(seq 0 $((n - 1))); do
			m=${MODELS[$i]}
			# the customers without a repeat purchase (often one spot) in the title
			once=$(awk -F, -v col=$((3 + 2 * i)) '$2 == 0 { n++; y += $col }
				END { if (n) printf "%d one-time buyers (orange): mean P(alive) %.2f", n, y / n }' \
				"$OUT/p_alive_customers.csv")
			echo "set title $(gq "$(model_label "$m") ($m)")${once:+.\"\\n\".$(gq "$once")}"
			# one series per frequency group, so that the key names them
			echo "plot '$D/p_alive_customers.csv' using (\$2 == 0 ? \$1 : 1/0):$((3 + 2 * i)) with points pt 7 ps 1 lc rgb '#e6a000' title '0', \\"
			echo "  '' using (\$2 == 1 ? \$1 : 1/0):$((3 + 2 * i)) with points pt 7 ps 0.5 lc rgb '#2ca02c' title '1', \\"
			echo "  '' using (\$2 >= 2 && \$2 <= 4 ? \$1 : 1/0):$((3 + 2 * i)) with points pt 7 ps 0.5 lc rgb '#1f77b4' title '2-4', \\"
			echo "  '' using (\$2 >= 5 ? \$1 : 1/0):$((3 + 2 * i)) with points pt 7 ps 0.5 lc rgb '#9467bd' title '5+'"
		done
		echo "unset multiplot"
	} | gp p_alive_customers.png $((420 * n + 100)) 560
fi

gp p_alive.png <<GP
set title $(gq "$(model_label "$MODEL") ($MODEL): P(alive) of a customer acquired $T_MAX $UNITS before the calibration end")
set xlabel 'recency: $UNITS from the first to the last purchase'
set ylabel 'frequency: repeat purchases'
set cblabel 'P(alive)'; set cbrange [0:1]; set palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')
set autoscale xfix; set autoscale yfix; set tics out
plot '$D/p_alive.csv' using 1:2:3 with image notitle
GP

if [ "$VALUE_OK" = yes ]; then
	gp clv.png <<GP
set title $(gq "$TITLE: predicted CLV over the next $HORIZON_TEXT ($(model_label "$VMODEL") + Gamma-Gamma, $VMODEL)")
set xlabel $(gq "CLV over the next $HORIZON_TEXT ($MONEY, bins of $BIN; last bin: $LAST and more)")
set ylabel 'customers (log scale)'; set logscale y; set grid; set yrange [0.8:*]
set style fill solid 0.8 border rgb 'white'; set boxwidth $BIN; set xrange [0:$LAST + $BIN]
set label $(gq "$CLV_STATS") at graph 0.97, graph 0.93 right front
plot '$D/clv.csv' using (\$1 + $BIN / 2.0):2 with boxes lc rgb '#1f77b4' notitle
GP
	plot="'$D/concentration.csv' using 1:2 with lines lw 2.5 lc rgb '#d62728' title $(gq "predicted CLV, next $HORIZON_TEXT")"
	[ "$PAST" = "NULL::float8" ] || plot+=", '' using 1:3 with lines lw 2 dt 2 lc rgb '#1f77b4' title 'past revenue (total_amount)'"
	plot+=", x with lines lw 1 lc rgb 'gray50' title 'every customer equal'"
	gp concentration.png 760 620 <<GP
set title $(gq "$TITLE: value concentration ($VN_CUST customers, ranked by value)")."\\n".$(gq "$TOP")
set xlabel 'share of customers, most valuable first (%)'; set ylabel 'share of the total value (%)'
set xrange [0:100]; set yrange [0:100]; set grid; set key bottom right box opaque; set size ratio -1
set xtics 10; set ytics 10
plot $plot
GP
	# segment_chart CSV PNG TITLE: horizontal bars of the share of customers
	# and of predicted CLV per segment, with the mean CLV written beside
	segment_chart() {
		local rows
		rows=$(wc -l <"$OUT/$1")
		gp "$2" 900 $((190 + 46 * rows)) <<GP
set title $(gq "$3")
set xlabel 'share of all customers / of all predicted CLV (%)'
set ytics scale 0 nomirror; set yrange [-0.6:$rows - 0.4]; set xrange [0:*]; set offsets 0, 12, 0, 0
set grid xtics; set key outside bottom center horizontal; set style fill solid 0.85 border rgb 'white'; set lmargin 24
plot '$D/$1' using 3:(\$0 + 0.19):(0):3:(\$0):(\$0 + 0.38):ytic(1) with boxxyerrorbars lc rgb '#1f77b4' title '% of customers', \
     '' using 4:(\$0 - 0.19):(0):4:(\$0 - 0.38):(\$0) with boxxyerrorbars lc rgb '#d62728' title '% of predicted CLV', \
     '' using 4:(\$0 - 0.19):(sprintf(' mean %.0f${CURRENCY:+ $CURRENCY}', \$5)) with labels left font ',10' notitle
GP
	}
	[ ! -f "$OUT/clv_rfm.csv" ] || segment_chart clv_rfm.csv clv_rfm.png \
		"$TITLE: predicted CLV (next $HORIZON_TEXT) by RFM segment"
	[ ! -f "$OUT/clv_kmeans.csv" ] || segment_chart clv_kmeans.csv clv_kmeans.png \
		"$TITLE: predicted CLV (next $HORIZON_TEXT) by K-Means segment ($SEGMENTS)"
	# --- segment economics chart: bars of each segment's predicted value, its
	# 90 % interval as an error bar, the interval written beside
	if [ -f "$OUT/segment_value.csv" ]; then
		rows=$(wc -l <"$OUT/segment_value.csv")
		gp segment_value.png 900 $((190 + 40 * rows)) <<GP
set title $(gq "$TITLE: predicted value (next $HORIZON_TEXT) per RFM segment, 90 % interval")
set xlabel $(gq "total predicted CLV of the segment ($MONEY, revenue)")
set ytics scale 0 nomirror; set yrange [-0.6:$rows - 0.4]; set xrange [0:*]; set offsets 0, graph 0.45, 0, 0
set grid xtics; set key outside bottom center horizontal; set style fill solid 0.85 border rgb 'white'; set lmargin 24
plot '$D/segment_value.csv' using 2:0:(0):2:(\$0 - 0.32):(\$0 + 0.32):ytic(1) with boxxyerrorbars lc rgb '#1f77b4' title 'predicted value', \
     '' using 2:0:3:4 with xerrorbars lw 1.5 pt 0 lc rgb '#d62728' title '90 % interval (parameter uncertainty)', \
     '' using 4:0:(sprintf('  %.0f .. %.0f (%d customers)', \$3, \$4, \$6)) with labels left font ',9' notitle
GP
	fi
	# --- end of segment economics chart
	if [ "$KMEANS" = yes ]; then
		plot=""
		i=0
		while IFS=, read -r cluster label size; do
			label=${label#\"}
			label=${label%\"}
			[ -z "$plot" ] || plot+=", "
			c=${COLORS[$((i % 8))]}
			plot+="'$D/kmeans.csv' using (\$4 == $cluster ? \$1 : 1/0):2:(0.3 + (\$3 > 20 ? 20 : \$3) * 0.06) with points pt 7 ps variable lc rgb '#40${c#\#}' title $(gq "$label: $size")"
			i=$((i + 1))
		done <"$OUT/kmeans_labels.csv"
		gp kmeans.png 900 620 <<GP
set title $(gq "$TITLE: K-Means segments ($SEGMENTS) by recency and spend")
set xlabel 'days since the last purchase'; set ylabel $(gq "total spend ($MONEY, log scale)")
set logscale y; set grid; set key outside bottom center horizontal maxrows 2 title 'segment: customers (point size ~ purchases)'
plot $plot
GP
	fi
fi

# --- the page --------------------------------------------------------------
fit_rows() {
	local m
	for m in "$@"; do
		q -c "SELECT format('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
				name, version, concat_ws(' + ', transaction_model, spend_model),
				(SELECT string_agg(format('%s = %s', k, round((params->>k)::numeric, 4)), ', ')
				 FROM unnest(ARRAY['r', 'alpha', 'a', 'b', 's', 'beta', 'p', 'q', 'gamma']) AS k WHERE params ? k),
				round((log_likelihood->>'transaction')::numeric, 2), n_customers, converged)
			  FROM clv_model($(lit "$m"))"
	done
}
figure() { # figure FILE CAPTION
	[ -f "$OUT/$1" ] || return 0
	printf '<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>\n' "$1" "$1" "$2"
}
# the BG/NBD caveat, where a chart shows BG/NBD's P(alive) or predictions
BGNBD_NOTE=""
for m in "${MODELS[@]}"; do
	if [ "${TM[$m]}" = bgnbd ]; then
		BGNBD_NOTE="<strong>BG/NBD and one-time buyers:</strong> in BG/NBD a customer can drop out only right
after a repeat purchase, so every customer without one ($N_ONCE of the $N_CUST here) has P(alive) = 1,
however long ago they bought, and their future purchases are over-predicted when many of them have in fact
left. MBG/NBD (<code>'mbgnbd'</code>) lets a customer drop out after the first purchase too and
Pareto/NBD (<code>'pareto_nbd'</code>) at any time; compare them with <code>clv_holdout_metrics</code> and
<code>clv_calibration_holdout</code> (or pass <code>--compare</code> to this report)."
		break
	fi
done
MODEL_LIST=$(for m in "${MODELS[@]}"; do printf '%s (%s), ' "$(model_label "$m")" "$m"; done)
MODEL_LIST=${MODEL_LIST%, }
{
	cat <<HTML
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>clv report: $(html "$TITLE")</title>
<style>body{font-family:sans-serif;max-width:1140px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em}
img{max-width:100%}figure{margin:2em 0}figcaption{color:#555;font-size:.95em}
.note{background:#fff6d8;border-left:4px solid #e6a000;padding:.5em 1em}</style></head><body>
<h1>clv report: $(html "$TITLE")</h1>
<p>$N_CUST customers in <code>$(html "$SOURCE")</code>, time unit: $MUNIT$([ -z "$CAL_END" ] || echo ", calibration to $CAL_END")$([ "$HOLDOUT" = no ] || echo ", holdout to $OBS_END").
Models: $(html "$MODEL_LIST"); forward-looking CLV: $(html "$VMODEL") on <code>$(html "$VSOURCE")</code>
($VN_CUST customers), next $HORIZON_TEXT, discounted $DISCOUNT_TEXT.
Generated $(date -u '+%Y-%m-%d %H:%M UTC') by <code>tools/report.sh</code>.</p>
<h2>Fitted models (clv_models)</h2>
<table><tr><th>name</th><th>version</th><th>models</th><th>parameters</th><th>log-likelihood (purchases)</th><th>customers</th><th>converged</th></tr>
$(fit_rows $(printf '%s\n' "${MODELS[@]}" "$VMODEL" | awk '!seen[$0]++'))
</table>
HTML
	if [ "$HOLDOUT" = yes ]; then
		cat <<HTML
<h2>Holdout accuracy (clv_holdout_metrics)</h2>
<table><tr><th>model</th><th>customers</th><th>actual repeat purchases</th><th>predicted</th><th>MAE</th><th>RMSE</th><th>correlation</th></tr>
$METRICS
</table>
HTML
	fi
	[ -z "$BGNBD_NOTE" ] || echo "<p class=\"note\">$BGNBD_NOTE</p>"
	figure tracking_cumulative.png "clv_tracking: cumulative repeat transactions of the customers acquired by the
calibration end, actual against each model's expectation; each customer's expectation starts at their own first
purchase. The dashed vertical line is the end of the calibration period: to its right the models forecast."
	figure tracking_weekly.png "clv_tracking: the same per $MUNIT."
	figure calibration_holdout.png "clv_calibration_holdout: customers grouped by their repeat purchases in the
calibration period (last group 7 and more), mean purchases in the holdout, actual against each model's conditional
expectation; n = customers per group.$([ -z "$BGNBD_NOTE" ] || echo " BG/NBD's first point (customers without a repeat purchase) is where it over-predicts: it takes all of them to be alive.")"
	figure gains.png "Holdout gains: the customers split into ten equal groups by their predicted holdout purchases
(and, on the right, predicted holdout revenue: expected purchases × expected spend), the prediction summed against
what they actually bought. A good ranking puts most of the actual purchases into the first deciles."
	figure p_alive_customers.png "clv_p_alive for every customer of <code>$(html "$SOURCE")</code> at $PERIOD_END,
against the days since their last purchase, coloured by repeat purchases.
$([ -z "$BGNBD_NOTE" ] || echo "Under BG/NBD the customers without a repeat purchase (orange) sit at P(alive) = 1 whatever the days since their only purchase; MBG/NBD and Pareto/NBD let them drop out.")"
	figure p_alive.png "clv_p_alive_matrix: P(alive) of a hypothetical customer acquired $T_MAX $UNITS before the
calibration end, by frequency and recency (the frequency-0 row is constant: such customers have recency 0$([ "${TM[$MODEL]}" != bgnbd ] || echo "; under BG/NBD it is 1").)"
	figure clv.png "clv_predict: CLV over the next $HORIZON_TEXT for every customer of <code>$(html "$VSOURCE")</code>,
margin 1 (revenue), discounted $DISCOUNT_TEXT."
	figure concentration.png "Value concentration (a Lorenz curve): customers ranked by predicted CLV, most valuable first;
the curve is the share of the total predicted CLV held by the top x % of customers ($TOP). The dashed curve ranks them by
their past revenue instead; the diagonal is every customer worth the same."
	figure clv_rfm.png "Predicted CLV by RFM segment: quintile scores of days since the last purchase, purchases and
spend (ties broken by customer), named by clv_rfm_segment; bars: the segment's share of the customers and of the
total predicted CLV, with its mean CLV per customer ($MONEY)."
	figure segment_value.png "clv_segment_economics: each RFM segment's total predicted CLV (revenue, next $HORIZON_TEXT,
discounted $DISCOUNT_TEXT) with its 90 % interval from the uncertainty of the fitted parameters: 200 parameter draws from
the estimates' covariance, the same draws for every segment (so the intervals come from one model uncertainty). The
interval says how sure the model is of the segment's expected value, not how much the actual revenue will scatter."
	figure clv_kmeans.png "Predicted CLV by K-Means segment: clv_cluster assigns each customer of
<code>$(html "$VSOURCE")</code> to a segment of <code>$(html "$SEGMENTS")</code>, named by clv_kmeans_profile; bars as
above."
	figure kmeans.png "clv_cluster: every customer's segment (named by clv_kmeans_profile, with its number of customers), days since
the last purchase against total spend; point size grows with the number of purchases."
	for s in "${SKIPPED[@]}"; do echo "<p><em>Not drawn: $(html "$s")</em></p>"; done
	echo '</body></html>'
} >"$OUT/index.html"
echo "report written to $OUT/index.html" >&2
