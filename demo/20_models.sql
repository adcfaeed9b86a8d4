-- clv demo, part 2: BTYD models on the CDNOW sample (cdnow_customers from
-- demo/10_summary.sql: calibration to 1997-09-30, weeks).
\pset footer off
\set VERBOSITY terse

\echo
\echo '== Training BG/NBD + Gamma-Gamma and Pareto/NBD + Gamma-Gamma into clv_models =='
SELECT name, version, transaction_model, spend_model, n_customers, converged, iterations
FROM clv_train('cdnow', 'cdnow_customers', 'bgnbd', 'gamma_gamma');
SELECT name, version, transaction_model, spend_model, n_customers, converged, iterations
FROM clv_train('cdnow_pnbd', 'cdnow_customers', 'pareto_nbd', 'gamma_gamma');

\echo
\echo '== Fitted parameters next to the published ones =='
\echo '   (BG/NBD and Gamma-Gamma: Fader, Hardie & Lee 2005; Pareto/NBD: R package BTYD;'
\echo '    the Pareto/NBD likelihood is flat along beta, so beta is loosely determined)'
SELECT v.model, v.parameter,
	   round(CASE v.parameter
				 WHEN 'LL' THEN (m.log_likelihood->>(CASE WHEN v.model = 'Gamma-Gamma' THEN 'spend' ELSE 'transaction' END))::numeric
				 ELSE (m.params->>v.parameter)::numeric END, 4) AS fitted,
	   round((m.std_errors->>v.parameter)::numeric, 4) AS std_error,
	   v.published
FROM (VALUES (1, 'cdnow', 'BG/NBD', 'r', 0.2426), (2, 'cdnow', 'BG/NBD', 'alpha', 4.4136),
			 (3, 'cdnow', 'BG/NBD', 'a', 0.7929), (4, 'cdnow', 'BG/NBD', 'b', 2.4259),
			 (5, 'cdnow', 'BG/NBD', 'LL', -9582.43),
			 (6, 'cdnow_pnbd', 'Pareto/NBD', 'r', 0.5533), (7, 'cdnow_pnbd', 'Pareto/NBD', 'alpha', 10.578),
			 (8, 'cdnow_pnbd', 'Pareto/NBD', 's', 0.6062), (9, 'cdnow_pnbd', 'Pareto/NBD', 'beta', 11.67),
			 (10, 'cdnow_pnbd', 'Pareto/NBD', 'LL', -9594.98),
			 (11, 'cdnow', 'Gamma-Gamma', 'p', 6.2496), (12, 'cdnow', 'Gamma-Gamma', 'q', 3.7442),
			 (13, 'cdnow', 'Gamma-Gamma', 'gamma', 15.4435), (14, 'cdnow', 'Gamma-Gamma', 'LL', -4055.92))
	 AS v(ord, name, model, parameter, published),
	 LATERAL clv_model(v.name) AS m
ORDER BY v.ord;

\echo
\echo '== The catalog: one row per trained version; the newest serves predictions =='
SELECT name, version, kind, transaction_model, spend_model, converged, time_unit,
	   round((log_likelihood->>'transaction')::numeric, 2) AS ll_transaction,
	   diagnostics->'flags' AS flags
FROM clv_models ORDER BY name, version;

\echo
\echo '== Customer 1 of the paper (x = 2, t.x = 30.43, T = 38.86): 1.226 purchases expected in 39 weeks =='
SELECT round(clv_expected_purchases('cdnow', 2, 30.428571, 38.857143, 39)::numeric, 3) AS bgnbd,
	   round(clv_expected_purchases('cdnow_pnbd', 2, 30.428571, 38.857143, 39)::numeric, 3) AS pareto_nbd,
	   round(clv_p_alive('cdnow', 2, 30.428571, 38.857143)::numeric, 3) AS p_alive_bgnbd;

\echo '   Note: under BG/NBD a customer without a repeat purchase (frequency 0) always has P(alive) = 1:'
\echo '   BG/NBD lets customers drop out only right after a repeat purchase, however long ago they bought.'
\echo '   Where many customers buy once, compare MBG/NBD (''mbgnbd'') and Pareto/NBD (''pareto_nbd'')'
\echo '   on a holdout (demo/40_validation.sql; README "BG/NBD and one-time buyers").'
\echo
\echo '== Top 10 customers by 26-week CLV (BG/NBD + Gamma-Gamma; discount 10 %/year = 0.00183/week, revenue: margin 1) =='
SELECT c.customer_id, c.frequency, round(c.recency::numeric, 1) AS recency, round(c.t::numeric, 1) AS t,
	   round(c.monetary_value::numeric, 2) AS monetary_value,
	   round(p.p_alive::numeric, 3) AS p_alive,
	   round(p.expected_purchases::numeric, 2) AS purchases_26w,
	   round(p.expected_spend::numeric, 2) AS spend_per_purchase,
	   round(p.clv::numeric, 2) AS clv_26w
FROM cdnow_customers c,
	 LATERAL clv_predict('cdnow', c.frequency, c.recency, c.t, c.monetary_value, 26, 0.00183, 1) AS p
ORDER BY p.clv DESC, c.customer_id
LIMIT 10;
