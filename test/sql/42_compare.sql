-- clv_compare_models: one row per model, fitted on the calibration fields of a
-- calibration/holdout summary and scored on its holdout; the likelihoods are
-- those of clv_fit, AIC = 2k - 2LL, BIC = k ln(n) - 2LL, the holdout columns
-- those of clv_holdout_metrics and clv_calibration_holdout, and one row is
-- recommended by the documented rule.
-- (An independent numpy/scipy check is test/oracle/compare_models.py.)
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE TABLE cmp_elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy cmp_elog FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
CREATE TABLE cmp_tx AS
SELECT sampleid AS customer_id, to_date(date::text, 'YYYYMMDD') AS purchased_at, sales AS amount
FROM cmp_elog;
-- a customer first seen in the holdout: a NULL calibration row, left out
INSERT INTO cmp_tx VALUES (99999, '1998-01-15', 10);
CREATE TABLE cmp_cdnow AS
SELECT customer_id, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).*
FROM cmp_tx GROUP BY customer_id;
SELECT count(*) AS customers, count(frequency) AS calibration_customers FROM cmp_cdnow;

CREATE TABLE cmp_apparel_tx (id int, date date, price float8);
\copy cmp_apparel_tx FROM 'data/CLVTools_apparelTrans.csv' CSV HEADER
-- one cohort (all 600 first bought on 2005-01-02): a year of calibration,
-- five years of holdout
CREATE TABLE cmp_apparel AS
SELECT id, (clv_summary(date, price, '2005-12-31', '2010-12-31', 'week')).*
FROM cmp_apparel_tx GROUP BY id;

-- The checks of every row against clv_fit of that model alone and against
-- the holdout functions with the row's params: all true.
CREATE FUNCTION cmp_check(source text, models text[] DEFAULT ARRAY['bgnbd', 'mbgnbd', 'pareto_nbd'],
						  options jsonb DEFAULT '{}')
RETURNS TABLE (model text, ll_is_clv_fit boolean, params_are_clv_fit boolean, aic_ok boolean,
			   bic_ok boolean, metrics_ok boolean, worst_bucket_ok boolean)
LANGUAGE sql AS $$
	SELECT c.model,
		   c.log_likelihood = (f.fit -> 'log_likelihood' ->> 'transaction')::float8,
		   c.params = f.fit -> 'params' AND c.converged = (f.fit ->> 'converged')::boolean
			 AND c.n_customers = (f.fit ->> 'n_customers')::bigint,
		   c.aic = 2 * c.n_params - 2 * c.log_likelihood,
		   abs(c.bic - (c.n_params * ln(c.n_customers::float8) - 2 * c.log_likelihood)) < 1e-9,
		   h.n_customers = c.n_customers AND h.total_actual = c.total_actual
			 AND abs(h.total_predicted / c.total_predicted - 1) < 1e-12
			 AND abs(h.mae / c.mae - 1) < 1e-12 AND abs(h.rmse / c.rmse - 1) < 1e-12
			 AND abs(h.correlation / c.correlation - 1) < 1e-12
			 AND abs(c.total_error - (c.total_predicted - c.total_actual) / c.total_actual) < 1e-15,
		   (w.bucket, w.n_customers) = (c.worst_bucket, c.worst_bucket_customers)
			 AND w.mean_actual = c.worst_bucket_actual
			 AND abs(w.mean_predicted / c.worst_bucket_predicted - 1) < 1e-12
	FROM clv_compare_models(source, models, options) c,
		 LATERAL (SELECT clv_fit(format('SELECT frequency, recency, t FROM %s AS s WHERE frequency IS NOT NULL',
										clv_source_sql(source)),
								 c.model, NULL, options) AS fit) f,
		 LATERAL clv_holdout_metrics(c.params, source) h,
		 LATERAL (SELECT * FROM clv_calibration_holdout(c.params, source, 7) b
				  ORDER BY b.n_customers * abs(b.mean_predicted - b.mean_actual) DESC, b.frequency
				  LIMIT 1) w
$$;

-- CDNOW (2,357 customers, 39 + 39 weeks): BG/NBD, MBG/NBD and Pareto/NBD.
SELECT model, round(log_likelihood::numeric, 2) AS ll, n_params AS k, round(aic::numeric, 2) AS aic,
	   round(bic::numeric, 2) AS bic, n_customers, total_actual,
	   round(total_predicted::numeric, 1) AS total_predicted, round(total_error::numeric, 3) AS total_error,
	   round(mae::numeric, 3) AS mae, round(rmse::numeric, 3) AS rmse,
	   round(correlation::numeric, 3) AS correlation, converged, recommended
FROM clv_compare_models('cmp_cdnow');
SELECT model, worst_bucket, worst_bucket_customers,
	   round(worst_bucket_actual::numeric, 3) AS actual, round(worst_bucket_predicted::numeric, 3) AS predicted
FROM clv_compare_models('cmp_cdnow');
SELECT * FROM cmp_check('cmp_cdnow');

-- Apparel: BG/NBD over-predicts the customers without a repeat purchase in
-- the calibration year (it cannot let them drop out) in its worst bucket.
SELECT model, round(log_likelihood::numeric, 2) AS ll, round(bic::numeric, 2) AS bic, total_actual,
	   round(total_predicted::numeric, 1) AS total_predicted, round(total_error::numeric, 3) AS total_error,
	   worst_bucket, worst_bucket_customers, round(worst_bucket_actual::numeric, 3) AS bucket_actual,
	   round(worst_bucket_predicted::numeric, 3) AS bucket_predicted, converged, recommended
FROM clv_compare_models('cmp_apparel');
SELECT * FROM cmp_check('cmp_apparel');
-- the options go to every fit; a SELECT as source; two models in a given order
SELECT * FROM cmp_check('SELECT * FROM cmp_apparel WHERE id > 0', ARRAY['pareto_nbd', 'bgnbd'],
						'{"penalizer": 0.001, "time_unit": "week"}');
SELECT model, round(log_likelihood::numeric, 2) AS ll, recommended
FROM clv_compare_models('SELECT * FROM cmp_apparel WHERE id > 0', ARRAY['pareto_nbd', 'bgnbd'],
						'{"penalizer": 0.001}');

-- The rule.  The same fits with 1.35 times the holdout purchases: BG/NBD
-- keeps the lowest BIC, but its holdout total is 0.21 off and Pareto/NBD's
-- 0.001, more than 0.10 better, so Pareto/NBD is recommended.
CREATE VIEW cmp_apparel_more AS
SELECT frequency, recency, t, frequency_holdout * 1.35 AS frequency_holdout, duration_holdout
FROM cmp_apparel;
SELECT model, round(bic::numeric, 2) AS bic, round(total_error::numeric, 3) AS total_error, recommended
FROM clv_compare_models('cmp_apparel_more');
-- only converged models are candidates: with 40 iterations only Pareto/NBD
-- converges, and is recommended though BG/NBD has the lower BIC
SET client_min_messages = error;
SELECT model, round(bic::numeric, 2) AS bic, round(total_error::numeric, 3) AS total_error, converged, recommended
FROM clv_compare_models('cmp_apparel', options => '{"max_iterations": 40}');
-- none converged: all are candidates, one is recommended
SELECT count(*) FILTER (WHERE converged) AS converged, count(*) FILTER (WHERE recommended) AS recommended
FROM clv_compare_models('cmp_apparel', options => '{"max_iterations": 1}');
RESET client_min_messages;
-- a holdout without purchases: total_error is NULL and the lowest BIC wins
SELECT model, total_actual, total_error, recommended
FROM clv_compare_models('SELECT frequency, recency, t, 0 AS frequency_holdout, duration_holdout FROM cmp_cdnow',
						ARRAY['pareto_nbd', 'bgnbd']);

-- The source resolves in the caller's search_path, which is unchanged after.
CREATE SCHEMA cmp_schema;
CREATE TABLE cmp_schema.cmp_mine AS SELECT * FROM cmp_apparel;
SET search_path = cmp_schema, public;
SELECT model, round(log_likelihood::numeric, 2) AS ll FROM clv_compare_models('cmp_mine', ARRAY['bgnbd']);
SHOW search_path;
RESET search_path;

-- Bad input.
SELECT * FROM clv_compare_models('SELECT frequency, recency, t FROM cmp_apparel');
SELECT * FROM clv_compare_models('cmp_no_such_table');
SELECT * FROM clv_compare_models('cmp_apparel', ARRAY[]::text[]);
SELECT * FROM clv_compare_models('cmp_apparel', ARRAY['bgnbd', 'gamma_gamma']);
SELECT * FROM clv_compare_models('cmp_apparel', ARRAY['bgnbd', NULL]);
SELECT * FROM clv_compare_models('cmp_apparel', ARRAY['bgnbd', 'pareto_nbd', 'bgnbd']);
SELECT * FROM clv_compare_models('cmp_apparel', ARRAY['bgnbd', 'bgbb']);
SELECT * FROM clv_compare_models(NULL);
SELECT * FROM clv_compare_models('cmp_apparel', NULL);
SELECT * FROM clv_compare_models('cmp_apparel', options => '{"holdout": 7}');
SELECT * FROM clv_compare_models('SELECT 1; DELETE FROM cmp_apparel');

DROP FUNCTION cmp_check(text, text[], jsonb);
DROP SCHEMA cmp_schema CASCADE;
DROP VIEW cmp_apparel_more;
DROP TABLE cmp_elog, cmp_tx, cmp_cdnow, cmp_apparel_tx, cmp_apparel;
