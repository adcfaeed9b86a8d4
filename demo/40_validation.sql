-- clv demo, part 4: does the model predict what it has not seen?
-- Uses cdnow_transactions and cdnow_customers (demo/10_summary.sql: calibration
-- to 1997-09-30, holdout to 1998-06-30, weeks) and the models 'cdnow' (BG/NBD +
-- Gamma-Gamma) and 'cdnow_pnbd' (Pareto/NBD) trained in demo/20_models.sql.
\pset footer off
\set VERBOSITY terse

\echo
\echo '== Calibration vs holdout: mean repeat purchases in the 39-week holdout, by calibration frequency =='
SELECT bucket AS calibration_frequency, n_customers,
	   round(mean_actual::numeric, 3) AS actual, round(mean_predicted::numeric, 3) AS predicted
FROM clv_calibration_holdout('cdnow', 'cdnow_customers', 7);
\echo '   The first row is the one-time buyers: BG/NBD gives all of them P(alive) = 1 (dropout only'
\echo '   after a repeat purchase), so it over-predicts them where many have left (on the CLVTools apparel'
\echo '   data 3x: make report-apparel); MBG/NBD and Pareto/NBD let them drop out.'

\echo
\echo '== Customer-level holdout accuracy (1,882 actual repeat purchases) =='
SELECT m.name, h.n_customers, h.total_actual, round(h.total_predicted::numeric, 1) AS total_predicted,
	   round(h.mae::numeric, 3) AS mae, round(h.rmse::numeric, 3) AS rmse,
	   round(h.correlation::numeric, 3) AS correlation
FROM unnest(ARRAY['cdnow', 'cdnow_pnbd']) AS m(name),
	 LATERAL clv_holdout_metrics(m.name, 'cdnow_customers') AS h;

\echo
\echo '== Tracking the cohort: cumulative repeat transactions, actual vs Pareto/NBD, every 6th week =='
\echo '   (BTYD walkthrough, weeks 20-25: 1309, 1385, 1460, 1533, 1604, 1674 expected)'
SELECT period AS week, period_start, calibration,
	   cumulative_actual AS actual, round(cumulative_expected::numeric, 1) AS expected
FROM clv_tracking('cdnow_pnbd', 'cdnow_transactions', '1997-09-30', '1998-06-30', 'week')
WHERE period % 6 = 0 OR period BETWEEN 20 AND 25
ORDER BY period;

\echo
\echo '== P(alive) by frequency and recency for a customer of 39 weeks (a heatmap as rows) =='
\echo '   (the frequency-0 row is 1.00: BG/NBD takes every customer without a repeat purchase to be alive)'
SELECT frequency,
	   string_agg(to_char(value, '0.00'), ' ' ORDER BY recency) AS "recency 0, 3.9, 7.8, ... 39 weeks"
FROM clv_p_alive_matrix('cdnow', 39, 8, 10)
GROUP BY frequency ORDER BY frequency;

\echo
\echo '== What-if: 10,000 customers simulated from the fitted BG/NBD + Gamma-Gamma, fitted again =='
SELECT 'refitted on the simulation' AS params, (f.fit->'params'->>'r')::numeric(8, 4) AS r, (f.fit->'params'->>'alpha')::numeric(8, 4) AS alpha,
	   (f.fit->'params'->>'a')::numeric(8, 4) AS a, (f.fit->'params'->>'b')::numeric(8, 4) AS b
FROM (SELECT clv_fit(format(
		'SELECT count(*) - 1 AS frequency, max(purchased_at) AS recency, 39.0::float8 AS t,
				avg(amount) FILTER (WHERE purchased_at > 0) AS monetary_value
		 FROM clv_simulate(%L::jsonb, 10000, 39, 1) GROUP BY customer_id',
		(clv_model('cdnow')).params), 'bgnbd', NULL) AS fit) f
UNION ALL
SELECT 'fitted on CDNOW (the truth here)', (params->>'r')::numeric(8, 4), (params->>'alpha')::numeric(8, 4),
	   (params->>'a')::numeric(8, 4), (params->>'b')::numeric(8, 4)
FROM clv_model('cdnow');
