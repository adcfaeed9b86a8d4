-- ---------------------------------------------------------------------------
-- Model choice: fit several transaction models on the calibration fields of
-- a calibration/holdout summary and compare them on the likelihood (AIC,
-- BIC) and on the holdout they have not seen, with one recommendation.
-- Written over clv_fit (20_fit.sql) and the holdout predictions
-- (60_validation.sql), in the two layers of every source reader: a public
-- SQL wrapper passing the caller's search_path to pinned functions.
-- ---------------------------------------------------------------------------

-- The row of the comparison, one per model (a type, so that both layers
-- return it and every field has its comment in the data dictionary).
CREATE TYPE clv_model_comparison AS (
	model text,
	log_likelihood float8,
	n_params integer,
	aic float8,
	bic float8,
	n_customers bigint,
	total_actual float8,
	total_predicted float8,
	total_error float8,
	mae float8,
	rmse float8,
	correlation float8,
	worst_bucket text,
	worst_bucket_customers bigint,
	worst_bucket_actual float8,
	worst_bucket_predicted float8,
	converged boolean,
	recommended boolean,
	params jsonb
);

COMMENT ON TYPE clv_model_comparison IS
'one row of clv_compare_models: a transaction model fitted on the calibration fields of a calibration/holdout summary, its likelihood criteria and its holdout accuracy';
COMMENT ON COLUMN clv_model_comparison.model IS 'the transaction model (bgnbd, mbgnbd, pareto_nbd, bgbb)';
COMMENT ON COLUMN clv_model_comparison.log_likelihood IS 'maximised log-likelihood LL on the calibration fields, as clv_fit reports it (unpenalised)';
COMMENT ON COLUMN clv_model_comparison.n_params IS 'number of parameters k (4 for every model)';
COMMENT ON COLUMN clv_model_comparison.aic IS 'Akaike information criterion 2k - 2LL (lower is better)';
COMMENT ON COLUMN clv_model_comparison.bic IS 'Bayesian information criterion k ln(n) - 2LL, n = n_customers (lower is better)';
COMMENT ON COLUMN clv_model_comparison.n_customers IS 'customers with a calibration row (frequency not NULL): those fitted and scored';
COMMENT ON COLUMN clv_model_comparison.total_actual IS 'sum of frequency_holdout: the actual holdout purchases';
COMMENT ON COLUMN clv_model_comparison.total_predicted IS 'sum of the expected purchases over duration_holdout given the calibration fields';
COMMENT ON COLUMN clv_model_comparison.total_error IS '(total_predicted - total_actual) / total_actual; NULL when total_actual is 0';
COMMENT ON COLUMN clv_model_comparison.mae IS 'mean absolute error of the per-customer holdout prediction';
COMMENT ON COLUMN clv_model_comparison.rmse IS 'root mean squared error of the per-customer holdout prediction';
COMMENT ON COLUMN clv_model_comparison.correlation IS 'Pearson correlation of predicted and actual holdout purchases';
COMMENT ON COLUMN clv_model_comparison.worst_bucket IS 'the calibration-frequency bucket (0 .. 6, 7+) of clv_calibration_holdout with the largest |sum predicted - sum actual| (ties: the lower frequency)';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_customers IS 'customers in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_actual IS 'mean actual holdout purchases in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_predicted IS 'mean predicted holdout purchases in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.converged IS 'whether the fit converged (clv_fit''s converged)';
COMMENT ON COLUMN clv_model_comparison.recommended IS 'true on exactly one row: among the converged models (all if none converged) whose |total_error| is at most 0.10 above the smallest |total_error|, the lowest BIC (ties: the first in models)';
COMMENT ON COLUMN clv_model_comparison.params IS 'the fitted params, as clv_fit returns them (for the params jsonb functions)';

-- One fit of the comparison: the calibration fields of the customers with a
-- calibration row (frequency not NULL, the rows the holdout predictions
-- use), read by clv_fit under the caller's search_path.  The wrapping query
-- names the holdout fields too, so that a source without them fails here,
-- before any fit, with the HINT of the holdout functions (clv_fit reads
-- only frequency, recency and t).  As in clv_source_rows, the path is
-- switched for the rest of this function only (its SET clause restores it
-- on exit) and nothing after the switch uses an unqualified name.
CREATE FUNCTION clv_compare_fit_with_path(source text, transaction_model text, options jsonb,
										  caller_path text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	msg text;
	q text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
	q := pg_catalog.concat(
		'SELECT s.frequency, s.recency, s.t, s.frequency_holdout, s.duration_holdout FROM ',
		@extschema@.clv_source_sql(source), ' AS s WHERE s.frequency IS NOT NULL');
	RETURN @extschema@.clv_fit(q, transaction_model, NULL, options);
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		PERFORM @extschema@.clv_holdout_field_missing(source, msg);
END
$$;

COMMENT ON FUNCTION clv_compare_fit_with_path(text, text, jsonb, text) IS
'clv_fit of one transaction model on the calibration fields (frequency not NULL) of a calibration/holdout summary, the source read in the given search_path';

-- The comparison itself.  Each model is fitted (clv_fit, the options as
-- given) and scored on the holdout in one pass over its per-customer
-- predictions (clv_holdout_predictions_with_path): the totals, errors and
-- correlation of clv_holdout_metrics and the buckets of
-- clv_calibration_holdout (frequency 0 .. 7+).  The rows are collected
-- first, because the recommendation compares them:
--   candidates: the converged models (all of them if none converged);
--   eligible:   the candidates whose |total_error| is at most 0.10 above the
--               smallest |total_error| among the candidates (all when the
--               holdout has no purchase, total_error then being NULL);
--   recommended: the eligible model with the lowest BIC (ties: the first in
--               models).
CREATE FUNCTION clv_compare_models_with_path(source text, models text[], options jsonb,
											 caller_path text)
RETURNS SETOF clv_model_comparison
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- the transaction models of the registry (clv_model_types), so that a
	-- new model is comparable without an edit here
	valid constant text[] := ARRAY(SELECT t.name FROM @extschema@.clv_model_types() t
								   WHERE NOT t.is_spend);
	discrete constant text[] := ARRAY(SELECT t.name FROM @extschema@.clv_model_types() t
									  WHERE NOT t.is_spend AND t.discrete);
	d text;
	acc jsonb := '[]';
	i integer;
	m text;
	fit jsonb;
	p jsonb;
	ll float8;
	k integer;
	n float8;
	h record;
BEGIN
	IF source IS NULL OR models IS NULL THEN
		RAISE EXCEPTION 'source and models must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	models := ARRAY(SELECT u.m FROM unnest(models) WITH ORDINALITY AS u(m, o) ORDER BY u.o);
	IF cardinality(models) = 0 THEN
		RAISE EXCEPTION 'models must name at least one transaction model'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = pg_catalog.format('Valid models are: %s.', pg_catalog.array_to_string(valid, ', '));
	END IF;
	FOR i IN 1 .. cardinality(models) LOOP
		m := models[i];
		IF m IS NULL OR NOT m = ANY (valid) THEN
			RAISE EXCEPTION 'unknown transaction model "%" in models', coalesce(m, 'NULL')
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = pg_catalog.format('Valid models are: %s.', pg_catalog.array_to_string(valid, ', '));
		END IF;
		IF m = ANY (models[1:i - 1]) THEN
			RAISE EXCEPTION 'model "%" is named twice in models', m
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	-- a model over discrete opportunities (BG/BB) is compared alone
	d := (SELECT u.m FROM unnest(models) u(m) WHERE u.m = ANY (discrete) LIMIT 1);
	IF d IS NOT NULL AND cardinality(models) > 1 THEN
		RAISE EXCEPTION '% cannot be compared with %', d, array_to_string(array_remove(models, d), ', ')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('%s''s likelihood is over discrete opportunities, the others'' over continuous time: their likelihoods, AIC and BIC are not comparable.',
											 (SELECT t.label FROM @extschema@.clv_model_types() t WHERE t.name = d)),
				  HINT = pg_catalog.format('Compare %s on continuous-time data, or run %s alone.',
										   pg_catalog.array_to_string(ARRAY(SELECT v FROM unnest(valid) v WHERE NOT v = ANY (discrete)), ', '), d);
	END IF;

	FOR i IN 1 .. cardinality(models) LOOP
		m := models[i];
		fit := @extschema@.clv_compare_fit_with_path(source, m, options, caller_path);
		p := fit -> 'params';
		ll := (fit -> 'log_likelihood' ->> 'transaction')::float8;
		n := (fit ->> 'n_customers')::float8;
		SELECT count(*)::integer INTO k FROM jsonb_each(p) e WHERE jsonb_typeof(e.value) = 'number';

		-- one pass over the holdout predictions: the metrics and the worst
		-- bucket (the largest |sum predicted - sum actual|, ties: the lower
		-- frequency)
		WITH hp AS MATERIALIZED (
			SELECT hp.frequency, hp.actual, hp.predicted
			FROM @extschema@.clv_holdout_predictions_with_path(p, source, caller_path) hp
		), metrics AS (
			SELECT count(*) AS n, sum(hp.actual) AS actual, sum(hp.predicted) AS predicted,
				   avg(abs(hp.predicted - hp.actual)) AS mae,
				   sqrt(avg((hp.predicted - hp.actual) ^ 2)) AS rmse,
				   corr(hp.predicted, hp.actual) AS correlation
			FROM hp
		), buckets AS (
			SELECT least(floor(hp.frequency), 7)::integer AS f, count(*) AS n,
				   avg(hp.actual) AS mean_actual, avg(hp.predicted) AS mean_predicted,
				   abs(sum(hp.predicted) - sum(hp.actual)) AS gap
			FROM hp GROUP BY 1
		), worst AS (
			SELECT CASE WHEN b.f = 7 THEN '7+' ELSE b.f::text END AS bucket, b.n,
				   b.mean_actual, b.mean_predicted
			FROM buckets b ORDER BY b.gap DESC, b.f LIMIT 1
		)
		SELECT mt.n, mt.actual, mt.predicted, mt.mae, mt.rmse, mt.correlation,
			   wb.bucket, wb.n AS n_bucket, wb.mean_actual, wb.mean_predicted
		INTO h
		FROM metrics mt LEFT JOIN worst wb ON true;
		acc := acc || jsonb_build_object(
			'ord', i, 'model', m, 'log_likelihood', ll, 'n_params', k,
			'aic', 2 * k - 2 * ll, 'bic', k * ln(n) - 2 * ll,
			'n_customers', h.n, 'total_actual', h.actual, 'total_predicted', h.predicted,
			'mae', h.mae, 'rmse', h.rmse, 'correlation', h.correlation,
			'worst_bucket', h.bucket, 'worst_bucket_customers', h.n_bucket,
			'worst_bucket_actual', h.mean_actual, 'worst_bucket_predicted', h.mean_predicted,
			'converged', (fit ->> 'converged')::boolean, 'params', p);
	END LOOP;

	RETURN QUERY
	WITH e AS (
		SELECT x.*, (x.total_predicted - x.total_actual) / nullif(x.total_actual, 0) AS total_error
		FROM jsonb_to_recordset(acc)
			 AS x(ord integer, model text, log_likelihood float8, n_params integer,
				  aic float8, bic float8, n_customers bigint, total_actual float8,
				  total_predicted float8, mae float8, rmse float8, correlation float8,
				  worst_bucket text, worst_bucket_customers bigint, worst_bucket_actual float8,
				  worst_bucket_predicted float8, converged boolean, params jsonb)
	), candidates AS (
		SELECT e.* FROM e
		WHERE e.converged OR NOT EXISTS (SELECT 1 FROM e e2 WHERE e2.converged)
	), pick AS (
		SELECT c.ord FROM candidates c
		WHERE c.total_error IS NULL
		   OR abs(c.total_error) <= (SELECT min(abs(c2.total_error)) FROM candidates c2) + 0.10
		ORDER BY c.bic, c.ord
		LIMIT 1
	)
	SELECT e.model, e.log_likelihood, e.n_params, e.aic, e.bic, e.n_customers,
		   e.total_actual, e.total_predicted, e.total_error, e.mae, e.rmse, e.correlation,
		   e.worst_bucket, e.worst_bucket_customers, e.worst_bucket_actual,
		   e.worst_bucket_predicted, e.converged, e.ord = (SELECT pick.ord FROM pick), e.params
	FROM e
	ORDER BY e.ord;
END
$$;

COMMENT ON FUNCTION clv_compare_models_with_path(text, text[], jsonb, text) IS
'clv_compare_models with the source read in the given search_path';

CREATE FUNCTION clv_compare_models(source text,
								   models text[] DEFAULT ARRAY['bgnbd', 'mbgnbd', 'pareto_nbd'],
								   options jsonb DEFAULT '{}')
RETURNS SETOF clv_model_comparison
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_compare_models_with_path(source, models, options,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_compare_models(text, text[], jsonb) IS
'fits each transaction model on the calibration fields (frequency, recency, t) of a calibration/holdout summary (frequency_holdout, duration_holdout) with the options of clv_fit, and returns per model: log-likelihood, parameters k, AIC = 2k - 2LL, BIC = k ln(n) - 2LL, holdout customers, total actual and predicted holdout purchases, total_error = (predicted - actual) / actual, MAE, RMSE, correlation, the worst calibration-frequency bucket (0 .. 7+, largest |sum predicted - sum actual|) with its customers and mean actual and predicted, converged, recommended and the params; recommended (one row): among the converged models (all if none converged) whose |total_error| is at most 0.10 above the smallest, the lowest BIC (ties: the first in models)';
