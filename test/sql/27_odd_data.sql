-- Odd customers in real data (issue 9, section 1): a $0 or negative mean
-- spend does not stop a fit or a scoring query, and every error left in
-- the validation of a source carries the query that finds its rows.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

-- The published CDNOW calibration summary (946 repeat buyers), plus odd ones.
CREATE TABLE odd_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy odd_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE odd_cdnow AS
SELECT cust, x AS frequency, t_x AS recency, t_cal AS t,
	   CASE WHEN x > 0 THEN m_x END AS monetary_value
FROM odd_cbs;
CREATE TABLE odd_extra AS
SELECT * FROM odd_cdnow
UNION ALL VALUES (9001, 1, 10.0, 30.0, 0.0),	-- one $0 repeat purchase
				 (9002, 3, 20.0, 30.0, -4.5);	-- net refunds (another summary)

-- The spend fit leaves out the repeat buyers with monetary_value <= 0, says
-- so (NOTICE with the count, the reason and the query that finds them) and
-- counts them in the diagnostics; its estimates are those of the published
-- fit (p 6.2496, q 3.7442, gamma 15.4435, LL -4055.92 on 946).
SELECT round((f->'params'->>'p')::numeric, 3) AS p,
	   round((f->'params'->>'q')::numeric, 3) AS q,
	   round((f->'params'->>'gamma')::numeric, 2) AS gamma,
	   round((f->'log_likelihood'->>'spend')::numeric, 2) AS ll_spend,
	   f->'diagnostics'->'n_spend_customers' AS n_spend,
	   f->'diagnostics'->'n_spend_excluded' AS n_excluded,
	   f->'options'->'nonpositive_spend' AS nonpositive_spend,
	   f->'n_customers' AS n
FROM clv_fit('odd_extra') AS f;
-- the same without a transaction model, and with "exclude" said explicitly
SELECT f->'diagnostics'->'n_spend_excluded' AS n_excluded,
	   round((f->'params'->>'q')::numeric, 3) AS q
FROM clv_fit('odd_extra', NULL, 'gamma_gamma', '{"nonpositive_spend": "exclude"}') AS f;
-- nothing left out: no NOTICE, 0 in the diagnostics
SELECT f->'diagnostics'->'n_spend_excluded' AS n_excluded FROM clv_fit('odd_cdnow', NULL) AS f;
-- clv_train stores the count with the model
SELECT diagnostics->'n_spend_excluded' AS n_excluded, options->'nonpositive_spend' AS nonpositive_spend
FROM clv_train('odd_model', 'odd_extra');
-- the strict rule, for shops that want it
SELECT clv_fit('odd_extra', NULL, 'gamma_gamma', '{"nonpositive_spend": "error"}');
-- only odd repeat buyers: nothing to fit, and it says why
SELECT clv_fit('SELECT * FROM odd_extra WHERE cust > 9000', NULL, 'gamma_gamma');
-- the options are validated like the others
SELECT clv_fit('odd_extra', options => '{"nonpositive_spend": "drop"}');
SELECT clv_fit('odd_extra', options => '{"nonpositive_spend": false}');
SELECT clv_fit('odd_extra', options => '{"verbose": "yes"}');
SELECT clv_fit('odd_extra', options => '{"verbos": true}');

-- Predictions are defined at monetary_value 0: the Gamma-Gamma conditional
-- mean (gamma + x m) p / (p x + q - 1) is gamma p / (p x + q - 1) there.
SELECT round(clv_expected_spend(params, 1, 0)::numeric, 6) AS spend_0,
	   round((15.4435 * 6.2496 / (6.2496 + 3.7442 - 1))::numeric, 6) AS formula,
	   round((clv_predict(params, 1, 10, 30, 0, 39)).expected_spend::numeric, 6) AS predict_spend,
	   clv_value(params, 1, 10, 30, 0, 39) > 0 AS value_positive,
	   round(clv_expected_spend('odd_model', 1, 0)::numeric, 3) AS by_name
FROM (VALUES ('{"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259,
				"p": 6.2496, "q": 3.7442, "gamma": 15.4435}'::jsonb)) v(params);
-- a view over every customer, the odd ones included, scores without error
CREATE VIEW odd_scores AS
SELECT c.cust, p.*
FROM odd_cdnow c,
	 LATERAL clv_predict('odd_model', c.frequency, c.recency, c.t, c.monetary_value, 39) p
UNION ALL
SELECT 9001, p.* FROM LATERAL clv_predict('odd_model', 1, 10, 30, 0, 39) p;
SELECT count(*) AS customers, count(*) FILTER (WHERE expected_spend > 0 AND clv >= 0) AS finite
FROM odd_scores;
-- a negative mean spend has no meaning in the model: a clear 22023 with a HINT
SELECT clv_expected_spend('odd_model', 3, -4.5);
SELECT clv_predict('odd_model', 3, 20, 30, -4.5, 39);
SELECT clv_value('{"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259,
				   "p": 6.2496, "q": 3.7442, "gamma": 15.4435}', 3, 20, 30, -4.5, 39);
-- ... and clv_summary never produces one (see 10_summary)
SELECT s.monetary_value, s.frequency
FROM (SELECT (clv_summary(d, a, '2020-12-31', 'day')).*
	  FROM (VALUES ('2020-01-01'::date, 10.0), ('2020-02-01', 10), ('2020-02-01', -15)) v(d, a)) s;

-- Errors that remain name the value and give the query that finds the rows:
-- odd_errors(source, ...) runs the fit, and then the query of the HINT,
-- returning the SQLSTATE, the message, the HINT and how many rows that
-- query finds (1: exactly the bad row among the 2,357 good ones).
CREATE FUNCTION odd_errors(source text, tx text DEFAULT 'bgnbd', sp text DEFAULT 'gamma_gamma',
						   opts jsonb DEFAULT '{}')
RETURNS TABLE (state text, message text, hint text, rows_found bigint)
LANGUAGE plpgsql AS $f$
DECLARE
	q text;
BEGIN
	PERFORM clv_fit(source, tx, sp, opts);
	state := 'no error';
	RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		hint = PG_EXCEPTION_HINT;
	IF hint LIKE 'Find the rows with: %' THEN
		q := substr(hint, length('Find the rows with: ') + 1);
		EXECUTE 'SELECT count(*) FROM (' || q || ') h' INTO rows_found;
	END IF;
	RETURN NEXT;
END
$f$;
CREATE TABLE odd_bad (kind text, frequency float8, recency float8, t float8,
					  monetary_value float8, weight float8);
INSERT INTO odd_bad VALUES
  ('negative frequency', -1, 1, 5, 10, 1),
  ('negative recency', 1, -1, 5, 10, 1),
  ('recency > t', 1, 6, 5, 10, 1),
  ('NaN recency', 1, 'NaN', 5, 10, 1),
  ('infinite t', 1, 1, 'Infinity', 10, 1),
  ('NULL frequency', NULL, 1, 5, 10, 1),
  ('NULL recency', 1, NULL, 5, 10, 1),
  ('NULL t', 1, 1, NULL, 10, 1),
  ('NULL monetary_value', 1, 1, 5, NULL, 1),
  ('NaN monetary_value', 1, 1, 5, 'NaN', 1),
  ('zero monetary_value', 1, 1, 5, 0, 1),
  ('zero weight', 1, 1, 5, 10, 0),
  ('negative weight', 1, 1, 5, 10, -2),
  ('NULL weight', 1, 1, 5, 10, NULL);
CREATE VIEW odd_good AS
SELECT frequency::float8, recency, t, monetary_value, 1.0::float8 AS weight FROM odd_cdnow;
SELECT b.kind, e.*
FROM odd_bad b,
	 LATERAL odd_errors(format('SELECT * FROM odd_good UNION ALL SELECT frequency, recency, t, monetary_value, weight FROM odd_bad WHERE kind = %L', b.kind),
						opts => CASE WHEN b.kind = 'zero monetary_value'
									 THEN '{"nonpositive_spend": "error"}'::jsonb ELSE '{}' END) e
ORDER BY b.kind;
-- spend-only fits and BG/BB: their own checks, the same kind of hint
SELECT e.* FROM odd_errors('SELECT * FROM odd_good UNION ALL VALUES (-2::float8, 0::float8, 1::float8, 1::float8, 1::float8)', NULL) e;
SELECT e.* FROM odd_errors('SELECT * FROM (VALUES (0, 0, 6), (1, 3, 6), (3, 2, 6), (2, 5, 6)) v(frequency, recency, t)', 'bgbb', NULL) e;
-- a table name: the hint names it schema-qualified
CREATE TABLE odd_table AS SELECT * FROM odd_good UNION ALL SELECT 2, 9, 8, 5, 1;
SELECT e.* FROM odd_errors('odd_table') e;
-- the hint is shown with the error
SELECT clv_train('odd_bad_model', 'SELECT * FROM odd_good UNION ALL SELECT 1, 6, 5, 10, 1');

-- "verbose": true reports each stage and every 10 iterations of the
-- optimiser with NOTICEs (as clv_kmeans_train does); the fit is the same.
SELECT round((f->'params'->>'p')::numeric, 3) AS p, f->'diagnostics'->'spend' AS spend_diagnostics
FROM clv_fit('odd_cdnow', NULL, 'gamma_gamma', '{"verbose": true}') f;
SELECT (SELECT f->'diagnostics' FROM clv_fit('odd_cdnow', 'bgnbd', NULL, '{"verbose": true}') f) =
	   (SELECT f->'diagnostics' FROM clv_fit('odd_cdnow', 'bgnbd', NULL) f) AS same_diagnostics;
SELECT version FROM clv_train('odd_model', 'odd_extra', 'pareto_nbd', NULL, '{"verbose": true, "max_iterations": 25}');
-- verbose is not stored: it changes nothing in the model
SELECT options FROM clv_models WHERE name = 'odd_model' ORDER BY version;

SELECT clv_drop_model('odd_model');
DROP VIEW odd_scores, odd_good;
DROP FUNCTION odd_errors(text, text, text, jsonb);
DROP TABLE odd_cbs, odd_cdnow, odd_extra, odd_bad, odd_table;
