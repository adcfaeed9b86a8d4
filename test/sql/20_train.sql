-- clv_train and the model catalog: published estimates read back from
-- clv_models, versions, drop, bad input.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

-- Checks a fitted value against a published one within tol: 'ok' or what was got.
CREATE FUNCTION train_check(got float8, want float8, tol float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN abs(got - want) <= tol THEN 'ok'
				ELSE format('got %s, want %s +- %s', got, want, tol) END
$$;

-- CDNOW calibration summary (BTYD cdnowSummary$cbs, weeks).  m.x is 0 for
-- customers without a repeat purchase: no repeat spend is known, so NULL.
CREATE TABLE train_cbs_raw (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy train_cbs_raw FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE train_cdnow AS
SELECT cust AS customer_id, x::float8 AS frequency, t_x AS recency, t_cal AS t,
	   CASE WHEN x > 0 THEN m_x END AS monetary_value
FROM train_cbs_raw;
SELECT count(*) AS customers, count(monetary_value) AS repeat_buyers FROM train_cdnow;

-- BG/NBD + Gamma-Gamma (the defaults).  Fader, Hardie & Lee (2005).
SELECT name, version, kind, transaction_model, spend_model, n_customers, converged,
	   time_unit, source, options->>'time_unit' AS unit_option
FROM clv_train('train_cdnow_bgnbd', 'train_cdnow');

SELECT train_check((params->>'r')::float8, 0.2426, 5e-4) AS r,
	   train_check((params->>'alpha')::float8, 4.4136, 5e-3) AS alpha,
	   train_check((params->>'a')::float8, 0.7929, 5e-3) AS a,
	   train_check((params->>'b')::float8, 2.4259, 2e-2) AS b,
	   train_check((log_likelihood->>'transaction')::float8, -9582.43, 0.01) AS ll,
	   train_check((params->>'p')::float8, 6.2496, 2e-2) AS p,
	   train_check((params->>'q')::float8, 3.7442, 1e-2) AS q,
	   train_check((params->>'gamma')::float8, 15.4435, 5e-2) AS gamma,
	   train_check((log_likelihood->>'spend')::float8, -4055.92, 0.01) AS ll_spend
FROM clv_models WHERE name = 'train_cdnow_bgnbd' AND version = 1;

SELECT params->>'transaction_model' AS tm, params->>'spend_model' AS sm,
	   round((params->>'r')::numeric, 3) AS r, round((params->>'alpha')::numeric, 2) AS alpha,
	   round((params->>'a')::numeric, 3) AS a, round((params->>'b')::numeric, 2) AS b,
	   round((params->>'p')::numeric, 2) AS p, round((params->>'q')::numeric, 2) AS q,
	   round((params->>'gamma')::numeric, 1) AS gamma,
	   round((log_likelihood->>'transaction')::numeric, 1) AS ll,
	   round((log_likelihood->>'spend')::numeric, 1) AS ll_spend
FROM clv_models WHERE name = 'train_cdnow_bgnbd';

-- standard errors are stored for every parameter, positive and finite
SELECT k, (std_errors->>k)::float8 > 0 AS positive
FROM clv_models, unnest(ARRAY['r', 'alpha', 'a', 'b', 'p', 'q', 'gamma']) AS k
WHERE name = 'train_cdnow_bgnbd';

-- the covariance is stored with the model, as clv_fit computes it
SELECT jsonb_object_keys(covariance) AS part,
	   covariance = (clv_fit('train_cdnow'))->'covariance' AS same_as_fit,
	   covariance->'transaction'->'names' AS names
FROM clv_models WHERE name = 'train_cdnow_bgnbd' ORDER BY 1;

-- Pareto/NBD alone (the BTYD package: r = 0.5533, alpha = 10.578, s = 0.6062,
-- beta ~ 11.67 on a flat ridge, LL = -9594.98).
SELECT name, transaction_model, spend_model, converged
FROM clv_train('train_cdnow_pnbd', 'train_cdnow', 'pareto_nbd', NULL);
SELECT train_check((params->>'r')::float8, 0.5533, 5e-3) AS r,
	   train_check((params->>'alpha')::float8, 10.578, 0.1) AS alpha,
	   train_check((params->>'s')::float8, 0.6062, 0.03) AS s,
	   train_check((params->>'beta')::float8, 11.67, 1.0) AS beta,
	   train_check((log_likelihood->>'transaction')::float8, -9594.98, 0.01) AS ll,
	   log_likelihood->'spend' AS ll_spend
FROM clv_model('train_cdnow_pnbd');

-- MBG/NBD (Batislam et al. 2007; LL about -9582.14 on these data)
SELECT name, transaction_model, converged,
	   train_check((log_likelihood->>'transaction')::float8, -9582.14, 0.05) AS ll
FROM clv_train('train_cdnow_mbgnbd', 'train_cdnow', 'mbgnbd', NULL);

-- Gamma-Gamma alone, from a SELECT: only the 946 repeat buyers count.
SELECT name, transaction_model, spend_model, n_customers, converged,
	   train_check((params->>'q')::float8, 3.7442, 1e-2) AS q
FROM clv_train('train_cdnow_gg', 'SELECT frequency, recency, t, monetary_value FROM train_cdnow',
			   NULL, 'gamma_gamma');

-- BG/BB on the donations data (Fader, Hardie & Shang 2010): 11,104 donors,
-- 6 opportunities, one row per (x, t.x) with a count of donors in `weight`.
CREATE TABLE train_donations_raw (x int, t_x int, n_cal int, custs int, x_star int);
\copy train_donations_raw FROM 'data/BTYD_donationsSummary_rf_matrix.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE train_donations AS
SELECT x AS frequency, t_x AS recency, n_cal AS t, custs AS weight FROM train_donations_raw;
SELECT name, transaction_model, spend_model, n_customers, converged, time_unit
FROM clv_train('train_donations_bgbb', 'train_donations', 'bgbb', NULL, '{"time_unit": "year"}');
SELECT train_check((params->>'alpha')::float8, 1.2035, 5e-3) AS alpha,
	   train_check((params->>'beta')::float8, 0.7497, 5e-3) AS beta,
	   train_check((params->>'gamma')::float8, 0.6567, 5e-3) AS gamma,
	   train_check((params->>'delta')::float8, 2.7834, 2e-2) AS delta,
	   train_check((log_likelihood->>'transaction')::float8, -33225.58, 0.01) AS ll
FROM clv_model('train_donations_bgbb');

-- Versions: training a name again adds version 2, which is the newest and
-- serves; the options are stored as used.
SELECT version, converged, options->>'penalizer' AS penalizer
FROM clv_train('train_cdnow_bgnbd', 'SELECT * FROM train_cdnow WHERE customer_id <= 1500',
			   options => '{"penalizer": 0.01}');
SELECT name, version, n_customers, source FROM clv_models
WHERE name = 'train_cdnow_bgnbd' ORDER BY version;
SELECT version, n_customers FROM clv_model('train_cdnow_bgnbd');

-- Dropping one version, then all of them.  A dropped number is never handed
-- out again: the next training is version 3.
SELECT clv_drop_model('train_cdnow_bgnbd', 2);
SELECT version FROM clv_model('train_cdnow_bgnbd');
SELECT version FROM clv_train('train_cdnow_bgnbd', 'train_cdnow', 'bgnbd', NULL);
SELECT clv_drop_model('train_cdnow_bgnbd');
SELECT count(*) FROM clv_models WHERE name = 'train_cdnow_bgnbd';
SELECT clv_drop_model('train_cdnow_bgnbd');
SELECT clv_drop_model('train_cdnow_gg', 7);
SELECT clv_model('no_such_model');

-- Bad input: each a clear error naming the problem.
SELECT clv_train('train_bad', 'train_cdnow', 'bgnbdx');
SELECT clv_train('train_bad', 'train_cdnow', 'gamma_gamma', NULL);
SELECT clv_train('train_bad', 'train_cdnow', 'bgnbd', 'pareto_nbd');
SELECT clv_train('train_bad', 'train_cdnow', NULL, NULL);
SELECT clv_train('train_bad', 'train_donations', 'bgbb', 'gamma_gamma');
SELECT clv_train(NULL, 'train_cdnow');
SELECT clv_train('', 'train_cdnow');
SELECT clv_train('train_bad', NULL);
SELECT clv_train('train_bad', 'train_cdnow', options => '{"time_unit": "fortnight"}');
SELECT clv_train('train_bad', 'train_cdnow', options => '{"penalty": 1}');
SELECT clv_train('train_bad', 'train_no_such_table');
SELECT clv_train('train_bad', 'SELECT frequency, recency AS r, t, monetary_value FROM train_cdnow');
SELECT clv_train('train_bad', 'SELECT frequency, recency, t FROM train_cdnow');
SELECT clv_train('train_bad', 'SELECT -1.0::float8 AS frequency, 1.0::float8 AS recency, 2.0::float8 AS t, 3.0::float8 AS monetary_value');
SELECT clv_train('train_bad', 'SELECT 1.0::float8 AS frequency, 3.0::float8 AS recency, 2.0::float8 AS t, 3.0::float8 AS monetary_value');
SELECT clv_train('train_bad', 'SELECT 1.0::float8 AS frequency, ''NaN''::float8 AS recency, 2.0::float8 AS t, 3.0::float8 AS monetary_value');
SELECT clv_train('train_bad', 'SELECT 1.0::float8 AS frequency, 1.0::float8 AS recency, ''Infinity''::float8 AS t, 3.0::float8 AS monetary_value');
SELECT clv_train('train_bad', 'SELECT * FROM train_cdnow WHERE false');
SELECT clv_train('train_bad', 'SELECT frequency, recency, t, monetary_value FROM train_cdnow WHERE frequency = 0', NULL, 'gamma_gamma');
SELECT count(*) AS bad_models FROM clv_models WHERE name = 'train_bad';

-- Nobody repeats: the transaction model cannot identify its parameters.
-- The model is stored (the evidence is kept) but with a WARNING and flags,
-- never as a silent good-looking model.
SELECT version FROM clv_train('train_norepeat', 'SELECT 0::float8 AS frequency, 0::float8 AS recency, t FROM train_cdnow', 'bgnbd', NULL);
SELECT version FROM clv_train('train_norepeat', 'SELECT 0::float8 AS frequency, 0::float8 AS recency, t FROM train_cdnow', 'pareto_nbd', NULL);
SELECT version, transaction_model, diagnostics->'flags' AS flags FROM clv_models WHERE name = 'train_norepeat' ORDER BY version;
-- its BG/NBD (a = 1 where the fit stays at the start) still predicts
SELECT (params->>'a')::float8 AS a, clv_expected_purchases(params, 0, 0, 38, 10) >= 0 AS finite,
	   clv_expected_purchases_new(params, 10) >= 0 AS finite_new
FROM clv_models WHERE name = 'train_norepeat' AND version = 1;

-- Flags of good fits: the published BG/NBD has a = 0.79 < 1 (noted, no
-- warning: finite horizons are fine); a Gamma-Gamma fit with q <= 1 (here
-- pulled there by a strong penalizer on few customers) warns.
SELECT version, diagnostics->'flags' AS flags FROM clv_train('train_flags', 'train_cdnow', 'bgnbd', NULL);
SELECT version, diagnostics->'flags' AS flags, round((params->>'q')::numeric, 2) AS q
FROM clv_train('train_flags', 'SELECT * FROM train_cdnow WHERE customer_id <= 1500', NULL, 'gamma_gamma',
			   '{"penalizer": 0.01}');

-- Stuck at the start values: one customer observed for no time has the
-- same likelihood (1) for every parameter, so the optimiser never moves;
-- the optimiser's flag (not the fit message's text) gives stuck_at_start.
SELECT version, converged, diagnostics->'flags' AS flags,
	   diagnostics->'transaction'->>'message' AS message
FROM clv_train('train_stuck', 'SELECT 0::float8 AS frequency, 0::float8 AS recency, 0::float8 AS t', 'bgnbd', NULL);

-- Non-convergence: too few iterations.  Stored with converged = false and a
-- WARNING with a HINT.
SELECT version, converged, diagnostics->'flags' AS flags
FROM clv_train('train_flags', 'train_cdnow', 'pareto_nbd', NULL, '{"max_iterations": 2}');

SELECT clv_drop_model(name) FROM (SELECT DISTINCT name FROM clv_models WHERE name LIKE 'train\_%') AS m ORDER BY name;
-- Version retention: keep the newest 2 of 4 versions.
SELECT max(v) FROM (SELECT (clv_train('train_prune', 'train_cdnow', 'bgnbd', NULL)).version AS v FROM generate_series(1, 4)) s;
SELECT clv_prune_models('train_prune', 2);
SELECT array_agg(version ORDER BY version) FROM clv_models WHERE name = 'train_prune';
SELECT clv_prune_models('train_prune', 5);
SELECT clv_prune_models('train_prune', 0);
SELECT clv_prune_models('train_no_such_model', 1);
SELECT clv_drop_model('train_prune');

DROP TABLE train_cbs_raw, train_cdnow, train_donations_raw, train_donations;
DROP FUNCTION train_check(float8, float8, float8);
