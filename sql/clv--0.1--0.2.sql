-- clv 0.1 -> 0.2: ALTER EXTENSION clv UPDATE TO '0.2'.
--
-- Every object that 0.2 adds or changes relative to the released 0.1
-- (sql/clv--0.1.sql, frozen) goes here, so that an updated database has
-- exactly the objects of a fresh 0.2 install (sql/ext/*.sql assembled into
-- clv--0.2.sql); test/t/080_upgrade.pl compares the two.  New functions:
-- CREATE FUNCTION; changed bodies, volatility or options: CREATE OR REPLACE
-- FUNCTION (or ALTER FUNCTION); changed signatures or return types: DROP
-- then CREATE, and the same GRANTs and COMMENTs as the fresh script.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION clv UPDATE TO '0.2'" to load this file. \quit


-- ---------------------------------------------------------------------------
-- clv_summary: volatility as the functions behave (the timestamptz
-- transitions read TimeZone; combine and final read their arguments only),
-- and the date forms of the aggregate.
-- ---------------------------------------------------------------------------
ALTER FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz) STABLE;
ALTER FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, text) STABLE;
ALTER FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, timestamptz, text) STABLE;
ALTER FUNCTION clv_summary_combinefn(clv_summary_state, clv_summary_state) IMMUTABLE;
ALTER FUNCTION clv_summary_finalfn(clv_summary_state) IMMUTABLE;

CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, date, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date) IS 'transition function of clv_summary by purchase date';
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, text) IS 'transition function of clv_summary by purchase date';
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, date, text) IS 'transition function of clv_summary by purchase date with a calibration/holdout split';

CREATE AGGREGATE clv_summary(purchased_on date, amount float8, observation_end date) (
	SFUNC = clv_summary_date_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_on date, amount float8, observation_end date, time_unit text) (
	SFUNC = clv_summary_date_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_on date, amount float8, calibration_end date, observation_end date, time_unit text) (
	SFUNC = clv_summary_date_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE clv_summary(date, float8, date) IS
'per-customer summary of purchases by purchase date up to observation_end (days independent of TimeZone)';
COMMENT ON AGGREGATE clv_summary(date, float8, date, text) IS
'per-customer summary of purchases by purchase date up to observation_end, durations in time_unit';
COMMENT ON AGGREGATE clv_summary(date, float8, date, date, text) IS
'per-customer summary by purchase date of the calibration period up to calibration_end plus holdout fields up to observation_end';

-- ---------------------------------------------------------------------------
-- clv_model_missing: on a Citus worker (empty catalog) the error says why and
-- gives the inline-params idiom.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION clv_model_missing(name text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
BEGIN
	SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = clv_model_missing.name;
	IF FOUND AND NOT @extschema@.clv_model_readable(n.owner, n.readers) THEN
		RAISE EXCEPTION 'permission denied for clv model "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('The model is owned by role "%s" and has not been granted to the current role.', n.owner),
				  HINT = pg_catalog.format('A member of "%s" can grant it: SELECT clv_grant_model(%L, %L).', n.owner, name, current_user);
	END IF;
	-- A Citus worker running its shard of a by-name call over a distributed
	-- table has an empty catalog of its own: say so, and how to pass the
	-- model from the coordinator instead.
	IF NOT FOUND AND EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus')
	   AND NOT EXISTS (SELECT FROM @extschema@.clv_model_names) THEN
		RAISE EXCEPTION 'clv model "%" does not exist on this node', name
			USING ERRCODE = 'undefined_object',
				  DETAIL = 'The model catalog of this node is empty: on Citus, a by-name call over a distributed table runs on the workers, and the catalog lives on the coordinator.',
				  HINT = pg_catalog.format('Make the catalog reference tables once, on the coordinator: SELECT clv_catalog_distribute(); or pass the model inline, evaluated once on the coordinator: clv_predict((SELECT params FROM clv_model(%L)), ...) or clv_cluster((SELECT params FROM clv_model(%L)), ...).', name, name);
	END IF;
	RAISE EXCEPTION 'clv model "%" does not exist', name
		USING ERRCODE = 'undefined_object',
			  HINT = 'Train it with clv_train() or clv_kmeans_train(); SELECT DISTINCT name FROM clv_models lists the models you can read.';
END
$$;

-- ---------------------------------------------------------------------------
-- The model registry as a table; clv_compare_models reads its valid names there.
-- ---------------------------------------------------------------------------
-- The registry of models (src/btyd.h) as a table, for SQL that needs to
-- know which models exist.
CREATE FUNCTION clv_model_types(OUT name text, OUT label text, OUT is_spend boolean,
								OUT discrete boolean, OUT takes_spend_model boolean,
								OUT params text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'clv_model_types'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION clv_model_types() IS
'the registered BTYD models: name, label, is_spend (a spend model), discrete (time in whole opportunities), takes_spend_model (may pair with a spend model) and the parameter names in params order';

CREATE OR REPLACE FUNCTION clv_compare_models_with_path(source text, models text[], options jsonb,
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

-- ---------------------------------------------------------------------------
-- New in 0.2: sql/ext/75_segments.sql (segment economics, acquisition value)
-- ---------------------------------------------------------------------------
-- ---------------------------------------------------------------------------
-- Segment economics and acquisition value (issue 11 §2): from per-customer
-- predictions to what a segment is worth, how sure the model is of it, and
-- the most a customer of it (or a new one) justifies spending.
--
-- Written over clv_predict (30/35) for the point values and the aggregate
-- clv_predict_interval_total (70_interval.sql) for the intervals: one set of
-- seeded parameter draws serves every customer of every segment of a call
-- (the aggregate keeps its draws per call site; the seed fixes them), so the
-- segments' intervals are those of one model uncertainty.
--
-- Margin enters once.  The CLV columns are revenue (clv_predict with margin
-- 1); the spend ceiling applies the gross margin and the target LTV:CAC
-- ratio:  max_allowable_spend = mean CLV x margin / ltv_cac_ratio.
-- ---------------------------------------------------------------------------

-- The arguments and options shared by both functions, checked: margin in
-- (0, 1], ltv_cac_ratio > 0 (finite), a model with a spend part, the
-- options an object of known keys (level in (0, 1), intervals boolean; the
-- draws' n_draws, seed, covariance are passed on to the interval functions,
-- which check them).  Returns the options of the interval functions.
CREATE FUNCTION clv_decision_check(name text, margin float8, ltv_cac_ratio float8,
								   options jsonb, valid_options text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
	v jsonb;
	params jsonb;
BEGIN
	IF NOT (margin > 0 AND margin <= 1) THEN
		RAISE EXCEPTION 'margin must be in (0, 1], not %', margin
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'margin is the gross margin as a fraction of revenue: 0.4 for 40 %.';
	END IF;
	IF NOT (ltv_cac_ratio > 0 AND ltv_cac_ratio < 'infinity'::float8) THEN
		RAISE EXCEPTION 'ltv_cac_ratio must be positive and finite, not %', ltv_cac_ratio
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'ltv_cac_ratio is the target ratio of customer value to acquisition cost: 3 for 3:1.';
	END IF;
	IF jsonb_typeof(options) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'options must be a jsonb object, not %', coalesce(jsonb_typeof(options), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"level": 0.9, "n_draws": 1000, "seed": 1}.';
	END IF;
	FOR k, v IN SELECT e.key, e.value FROM jsonb_each(options) e LOOP
		IF NOT k = ANY (valid_options) THEN
			RAISE EXCEPTION 'unknown option "%"', k
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Valid options are ' || array_to_string(valid_options, ', ') || '.';
		END IF;
		-- (CASE: the number is read only once it is known to be one;
		-- parenthesised, as PL/pgSQL's IF ends at the first bare THEN)
		IF k = 'level' AND NOT (CASE WHEN jsonb_typeof(v) = 'number'
									THEN v::text::float8 > 0 AND v::text::float8 < 1 ELSE false END) THEN
			RAISE EXCEPTION 'option level must be a number between 0 and 1 (exclusive), not %', v
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'For a 90 % interval, pass 0.9.';
		END IF;
		IF k = 'intervals' AND jsonb_typeof(v) <> 'boolean' THEN
			RAISE EXCEPTION 'option intervals must be true or false, not %', v
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF k IN ('active_threshold', 'lapsed_threshold')
		   AND NOT (CASE WHEN jsonb_typeof(v) = 'number' THEN v::text::float8 BETWEEN 0 AND 1 ELSE false END) THEN
			RAISE EXCEPTION 'option % must be a number from 0 to 1, not %', k, v
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'The thresholds are on the segment''s mean P(alive).';
		END IF;
		IF k = 'test_budget'
		   AND NOT (CASE WHEN jsonb_typeof(v) = 'number' THEN v::text::float8 >= 0 ELSE false END) THEN
			RAISE EXCEPTION 'option test_budget must be a non-negative number, not %', v
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	IF coalesce((options ->> 'lapsed_threshold')::float8, 0.2)
	   >= coalesce((options ->> 'active_threshold')::float8, 0.5) THEN
		RAISE EXCEPTION 'lapsed_threshold % must be below active_threshold %',
			coalesce((options ->> 'lapsed_threshold')::float8, 0.2),
			coalesce((options ->> 'active_threshold')::float8, 0.5)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A segment is lapsed below lapsed_threshold and active from active_threshold on (defaults 0.2 and 0.5).';
	END IF;
	params := @extschema@.clv_model_params(name);
	IF params ->> 'spend_model' IS NULL THEN
		RAISE EXCEPTION 'model "%" has no spend model', name
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Customer value needs the expected spend per purchase.',
				  HINT = 'Train the model with spend_model ''gamma_gamma'' (the default of clv_train).';
	END IF;
	IF params ->> 'transaction_model' IS NULL THEN
		RAISE EXCEPTION 'model "%" has no transaction model', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Customer value needs one of bgnbd, pareto_nbd, mbgnbd, bgbb.';
	END IF;
	RETURN (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}')
			FROM jsonb_each(options) e WHERE e.key IN ('n_draws', 'seed', 'covariance'));
END
$$;

COMMENT ON FUNCTION clv_decision_check(text, float8, float8, jsonb, text[]) IS
'checks the arguments of clv_segment_economics and clv_acquisition_value (margin in (0, 1], ltv_cac_ratio > 0, options an object of the valid keys with valid values, lapsed_threshold below active_threshold, a model with transaction and spend parts; 22023 otherwise) and returns the options of the interval functions (n_draws, seed, covariance)';

CREATE TYPE clv_segment_economics_row AS (
	segment text,
	customers bigint,
	customer_share float8,
	total_clv float8,
	total_clv_lower float8,
	total_clv_upper float8,
	mean_clv float8,
	mean_clv_lower float8,
	mean_clv_upper float8,
	value_share float8,
	mean_p_alive float8,
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	status text,
	max_allowable_spend float8,
	spend_basis text,
	test_budget float8
);

COMMENT ON TYPE clv_segment_economics_row IS
'one row of clv_segment_economics: a segment''s customers, predicted value (revenue) with its interval from parameter uncertainty, P(alive), status and the most a customer of it justifies spending';
COMMENT ON COLUMN clv_segment_economics_row.segment IS 'the value of the segment column, as text (NULL: the customers whose segment is NULL)';
COMMENT ON COLUMN clv_segment_economics_row.customers IS 'customers of the segment (rows with frequency, recency and t not NULL)';
COMMENT ON COLUMN clv_segment_economics_row.customer_share IS 'customers / all customers of the source';
COMMENT ON COLUMN clv_segment_economics_row.total_clv IS 'sum of the customers'' predicted CLV over the horizon, discounted, as revenue: clv_predict(name, ..., horizon, discount_rate, margin => 1)';
COMMENT ON COLUMN clv_segment_economics_row.total_clv_lower IS 'lower bound of total_clv at the option level (default 0.9): the (1 - level) / 2 quantile of the per-draw totals of clv_predict_interval_total; NULL with intervals false';
COMMENT ON COLUMN clv_segment_economics_row.total_clv_upper IS 'upper bound of total_clv: the (1 + level) / 2 quantile of the per-draw totals; NULL with intervals false';
COMMENT ON COLUMN clv_segment_economics_row.mean_clv IS 'total_clv / customers: the predicted revenue value of the segment''s average customer';
COMMENT ON COLUMN clv_segment_economics_row.mean_clv_lower IS 'total_clv_lower / customers';
COMMENT ON COLUMN clv_segment_economics_row.mean_clv_upper IS 'total_clv_upper / customers';
COMMENT ON COLUMN clv_segment_economics_row.value_share IS 'total_clv / the sum of total_clv over all segments (NULL when that sum is 0)';
COMMENT ON COLUMN clv_segment_economics_row.mean_p_alive IS 'mean of the customers'' P(alive) (clv_predict); decides the status';
COMMENT ON COLUMN clv_segment_economics_row.expected_purchases IS 'sum of the customers'' expected purchases over the horizon (clv_predict)';
COMMENT ON COLUMN clv_segment_economics_row.expected_purchases_lower IS 'lower bound of expected_purchases at level, from the same draws as total_clv_lower';
COMMENT ON COLUMN clv_segment_economics_row.expected_purchases_upper IS 'upper bound of expected_purchases at level, from the same draws as total_clv_upper';
COMMENT ON COLUMN clv_segment_economics_row.status IS 'active (mean_p_alive >= option active_threshold, default 0.5), lapsed (mean_p_alive < option lapsed_threshold, default 0.2) or at risk (between)';
COMMENT ON COLUMN clv_segment_economics_row.max_allowable_spend IS 'the most to spend per customer of the segment (to acquire, retain or win back one like them): mean_clv x margin / ltv_cac_ratio; NULL for a lapsed segment (spend_basis test_budget)';
COMMENT ON COLUMN clv_segment_economics_row.spend_basis IS 'ltv: spend up to max_allowable_spend per customer; test_budget (lapsed segments): the model expects too little of them to justify an LTV-based spend, try a fixed test budget and measure the response';
COMMENT ON COLUMN clv_segment_economics_row.test_budget IS 'on lapsed segments, the option test_budget (a fixed amount for the whole segment); NULL elsewhere or when not given';

-- The body: reads the source once (clv_source_rows, the caller's path),
-- predicts every customer with clv_predict (margin 1: revenue) and, per
-- segment, sums the customers' predictions draw by draw with
-- clv_predict_interval_total (one set of draws for the whole call), then
-- adds the shares, the status and the spend ceiling.
CREATE FUNCTION clv_segment_economics_with_path(name text, source text, segment_column text,
												horizon float8, discount_rate float8,
												margin float8, ltv_cac_ratio float8,
												options jsonb, caller_path text)
RETURNS SETOF clv_segment_economics_row
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iopts jsonb;
	lvl float8;
	with_intervals boolean;
	active float8;
	lapsed float8;
	budget float8;
	msg text;
BEGIN
	iopts := @extschema@.clv_decision_check(name, margin, ltv_cac_ratio, options,
		ARRAY['level', 'n_draws', 'seed', 'covariance', 'intervals', 'active_threshold',
			  'lapsed_threshold', 'test_budget']);
	IF segment_column = '' THEN
		RAISE EXCEPTION 'segment_column must name a column of the source, not an empty string'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	lvl := coalesce((options ->> 'level')::float8, 0.9);
	with_intervals := coalesce((options ->> 'intervals')::boolean, true);
	active := coalesce((options ->> 'active_threshold')::float8, 0.5);
	lapsed := coalesce((options ->> 'lapsed_threshold')::float8, 0.2);
	budget := (options ->> 'test_budget')::float8;

	RETURN QUERY
	WITH c AS (
		SELECT s.segment, s.frequency, s.recency, s.t, s.monetary_value
		FROM @extschema@.clv_source_rows(source,
				ARRAY['s.' || quote_ident(segment_column) || '::pg_catalog.text',
					  's.frequency::pg_catalog.float8', 's.recency::pg_catalog.float8',
					  's.t::pg_catalog.float8', 's.monetary_value::pg_catalog.float8'],
				caller_path)
			 AS s(segment text, frequency float8, recency float8, t float8, monetary_value float8)
		WHERE s.frequency IS NOT NULL AND s.recency IS NOT NULL AND s.t IS NOT NULL
	), g AS (
		SELECT c.segment, count(*) AS n, sum((p).clv) AS clv, avg((p).p_alive) AS p_alive,
			   sum((p).expected_purchases) AS ep,
			   @extschema@.clv_predict_interval_total(name, c.frequency, c.recency, c.t,
					c.monetary_value, horizon, discount_rate, 1::pg_catalog.float8, lvl, iopts)
					FILTER (WHERE with_intervals) AS iv
		FROM c, LATERAL @extschema@.clv_predict(name, c.frequency, c.recency, c.t,
												 c.monetary_value, horizon, discount_rate,
												 1::pg_catalog.float8) AS p
		GROUP BY c.segment
	), r AS (
		SELECT g.*, g.clv / g.n AS mean_clv,
			   CASE WHEN g.p_alive >= active THEN 'active'
					WHEN g.p_alive < lapsed THEN 'lapsed'
					ELSE 'at risk' END AS status
		FROM g
	)
	SELECT r.segment, r.n, r.n::float8 / sum(r.n) OVER (),
		   r.clv, (r.iv).clv_lower, (r.iv).clv_upper,
		   r.mean_clv, (r.iv).mean_clv_lower, (r.iv).mean_clv_upper,
		   r.clv / nullif(sum(r.clv) OVER (), 0),
		   r.p_alive, r.ep, (r.iv).expected_purchases_lower, (r.iv).expected_purchases_upper,
		   r.status,
		   CASE WHEN r.status <> 'lapsed' THEN r.mean_clv * margin / ltv_cac_ratio END,
		   CASE WHEN r.status = 'lapsed' THEN 'test_budget' ELSE 'ltv' END,
		   CASE WHEN r.status = 'lapsed' THEN budget END
	FROM r
	ORDER BY r.clv DESC, r.segment NULLS LAST;
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		IF position(('s.' || segment_column || ' ') IN msg) > 0 THEN
			RAISE EXCEPTION 'source "%" has no segment column "%"', source, segment_column
				USING ERRCODE = 'undefined_column', DETAIL = msg,
					  HINT = 'segment_column names a column of the source as it is spelled there (any type: an RFM segment, a K-Means cluster, a region).';
		END IF;
		RAISE EXCEPTION 'source "%" lacks a column of the customer summary: %', source, msg
			USING ERRCODE = 'undefined_column',
				  HINT = 'The source needs frequency, recency, t and monetary_value (a clv_summary result) and the segment column.';
END
$$;

COMMENT ON FUNCTION clv_segment_economics_with_path(text, text, text, float8, float8, float8, float8, jsonb, text) IS
'clv_segment_economics with the source read in the given search_path';

CREATE FUNCTION clv_segment_economics(name text, source text, segment_column text,
									  horizon float8, discount_rate float8 DEFAULT 0,
									  margin float8 DEFAULT 1, ltv_cac_ratio float8 DEFAULT 3,
									  options jsonb DEFAULT '{}')
RETURNS SETOF clv_segment_economics_row
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_segment_economics_with_path(name, source, segment_column,
		horizon, discount_rate, margin, ltv_cac_ratio, options,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_segment_economics(text, text, text, float8, float8, float8, float8, jsonb) IS
'per segment (each value of segment_column in the source, NULL its own row; by total value, highest first): customers and their share, total and mean predicted CLV (revenue, margin 1; discounted over horizon) with the interval at option level (default 0.9) from one set of parameter draws, share of the total value, mean P(alive), expected purchases with its interval, status (active / at risk / lapsed by mean P(alive); options active_threshold 0.5, lapsed_threshold 0.2), max_allowable_spend = mean CLV x margin / ltv_cac_ratio (NULL for a lapsed segment: spend_basis test_budget, option test_budget); options also n_draws, seed, covariance, intervals';

CREATE TYPE clv_acquisition_value_row AS (
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	expected_spend float8,
	expected_spend_lower float8,
	expected_spend_upper float8,
	clv float8,
	clv_lower float8,
	clv_upper float8,
	max_acquisition_cost float8,
	max_acquisition_cost_lower float8,
	max_acquisition_cost_upper float8
);

COMMENT ON TYPE clv_acquisition_value_row IS
'result of clv_acquisition_value: the expected value of a newly acquired customer and the acquisition cost it justifies, with intervals from parameter uncertainty';
COMMENT ON COLUMN clv_acquisition_value_row.expected_purchases IS 'repeat purchases a new customer (frequency = recency = t = 0) is expected to make over the horizon: clv_expected_purchases_new';
COMMENT ON COLUMN clv_acquisition_value_row.expected_purchases_lower IS 'lower bound of expected_purchases at level (clv_predict_interval)';
COMMENT ON COLUMN clv_acquisition_value_row.expected_purchases_upper IS 'upper bound of expected_purchases at level (clv_predict_interval)';
COMMENT ON COLUMN clv_acquisition_value_row.expected_spend IS 'the population mean spend per purchase of the spend model (Gamma-Gamma: p gamma / (q - 1))';
COMMENT ON COLUMN clv_acquisition_value_row.expected_spend_lower IS 'lower bound of expected_spend at level';
COMMENT ON COLUMN clv_acquisition_value_row.expected_spend_upper IS 'upper bound of expected_spend at level';
COMMENT ON COLUMN clv_acquisition_value_row.clv IS 'the new customer''s discounted revenue over the horizon, after the acquiring purchase: expected_spend x discounted expected purchases (margin 1)';
COMMENT ON COLUMN clv_acquisition_value_row.clv_lower IS 'lower bound of clv at level';
COMMENT ON COLUMN clv_acquisition_value_row.clv_upper IS 'upper bound of clv at level';
COMMENT ON COLUMN clv_acquisition_value_row.max_acquisition_cost IS 'the most to pay to acquire such a customer: clv x margin / ltv_cac_ratio';
COMMENT ON COLUMN clv_acquisition_value_row.max_acquisition_cost_lower IS 'clv_lower x margin / ltv_cac_ratio: the ceiling if the model is at the pessimistic end of its uncertainty';
COMMENT ON COLUMN clv_acquisition_value_row.max_acquisition_cost_upper IS 'clv_upper x margin / ltv_cac_ratio';

-- A new customer is one at frequency = recency = t = 0 (the acquiring
-- purchase just made, nothing learned yet) with the population mean spend
-- (monetary_value NULL): clv_predict's expectations there are the
-- unconditional ones of a new customer.
CREATE FUNCTION clv_acquisition_value(name text, horizon float8, discount_rate float8 DEFAULT 0,
									  margin float8 DEFAULT 1, ltv_cac_ratio float8 DEFAULT 3,
									  options jsonb DEFAULT '{}')
RETURNS clv_acquisition_value_row
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iopts jsonb;
	p @extschema@.clv_prediction;
	i @extschema@.clv_prediction_interval;
	r @extschema@.clv_acquisition_value_row;
BEGIN
	iopts := @extschema@.clv_decision_check(name, margin, ltv_cac_ratio, options,
		ARRAY['level', 'n_draws', 'seed', 'covariance', 'intervals']);
	p := @extschema@.clv_predict(name, 0::pg_catalog.float8, 0::pg_catalog.float8, 0::pg_catalog.float8,
								 NULL::pg_catalog.float8, horizon, discount_rate, 1::pg_catalog.float8);
	IF coalesce((options ->> 'intervals')::boolean, true) THEN
		i := @extschema@.clv_predict_interval(name, 0::pg_catalog.float8, 0::pg_catalog.float8,
											  0::pg_catalog.float8, NULL::pg_catalog.float8, horizon,
											  discount_rate, 1::pg_catalog.float8,
											  coalesce((options ->> 'level')::pg_catalog.float8, 0.9), iopts);
	END IF;
	r.expected_purchases := p.expected_purchases;
	r.expected_purchases_lower := i.expected_purchases_lower;
	r.expected_purchases_upper := i.expected_purchases_upper;
	r.expected_spend := p.expected_spend;
	r.expected_spend_lower := i.expected_spend_lower;
	r.expected_spend_upper := i.expected_spend_upper;
	r.clv := p.clv;
	r.clv_lower := i.clv_lower;
	r.clv_upper := i.clv_upper;
	r.max_acquisition_cost := p.clv * margin / ltv_cac_ratio;
	r.max_acquisition_cost_lower := i.clv_lower * margin / ltv_cac_ratio;
	r.max_acquisition_cost_upper := i.clv_upper * margin / ltv_cac_ratio;
	RETURN r;
END
$$;

COMMENT ON FUNCTION clv_acquisition_value(text, float8, float8, float8, float8, jsonb) IS
'the expected value of a newly acquired customer (frequency = recency = t = 0, the population mean spend) over horizon, discounted: expected repeat purchases, spend per purchase and CLV (revenue, margin 1), with intervals at option level (default 0.9; options n_draws, seed, covariance, intervals), and max_acquisition_cost = CLV x margin / ltv_cac_ratio';

-- ---------------------------------------------------------------------------
-- New in 0.2: sql/ext/80_offers.sql (offers and budgets)
-- ---------------------------------------------------------------------------
-- ---------------------------------------------------------------------------
-- Offers and budgets (src/offer.c, src/offer_fmgr.c; README "Offers",
-- "Budgets").
--
-- An offer (jsonb: cost, response_rate, purchase_lift, retention_lift,
-- spend_lift) changes a responding customer's purchase rate, dropout and
-- spend from the end of the observation on, in the model's own terms.
-- clv_offer_predict values it for one customer; clv_offer_roi and
-- clv_allocate_budget read a source (the *_with_path pattern of
-- 60_validation.sql) and rank, total and allocate.
-- ---------------------------------------------------------------------------
CREATE TYPE clv_offer_prediction AS (
	p_alive float8,
	baseline_purchases float8,
	offer_purchases float8,
	baseline_spend float8,
	offer_spend float8,
	baseline_clv float8,
	offer_clv float8,
	incremental_value float8,
	cost float8,
	net_gain float8,
	roi float8
);

COMMENT ON TYPE clv_offer_prediction IS
'Result of clv_offer_predict: one customer''s values without the offer (as clv_predict) and for a customer who responds to it, and what the offer adds net of its cost';
COMMENT ON COLUMN clv_offer_prediction.p_alive IS 'probability that the customer is still active (as clv_predict; the offer does not bring back a customer who has dropped out)';
COMMENT ON COLUMN clv_offer_prediction.baseline_purchases IS 'expected purchases in the next horizon without the offer (as clv_predict)';
COMMENT ON COLUMN clv_offer_prediction.offer_purchases IS 'expected purchases in the next horizon of a customer who responds to the offer';
COMMENT ON COLUMN clv_offer_prediction.baseline_spend IS 'expected spend per purchase without the offer (as clv_predict)';
COMMENT ON COLUMN clv_offer_prediction.offer_spend IS 'expected spend per purchase of a responder: baseline_spend * (1 + spend_lift)';
COMMENT ON COLUMN clv_offer_prediction.baseline_clv IS 'discounted margin value of the next horizon without the offer (as clv_predict)';
COMMENT ON COLUMN clv_offer_prediction.offer_clv IS 'discounted margin value of the next horizon of a responder';
COMMENT ON COLUMN clv_offer_prediction.incremental_value IS 'expected value the offer adds per targeted customer: response_rate * (offer_clv - baseline_clv)';
COMMENT ON COLUMN clv_offer_prediction.cost IS 'cost of targeting the customer (the offer''s cost)';
COMMENT ON COLUMN clv_offer_prediction.net_gain IS 'incremental_value - cost';
COMMENT ON COLUMN clv_offer_prediction.roi IS 'net_gain / cost; NULL when the cost is 0';

CREATE FUNCTION clv_offer_predict(params jsonb, frequency float8, recency float8, t float8,
								  monetary_value float8, horizon float8, discount_rate float8,
								  margin float8, offer jsonb)
RETURNS clv_offer_prediction
AS 'MODULE_PATHNAME', 'clv_offer_predict_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_offer_predict(jsonb, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'one customer''s value without and with an offer (jsonb: cost, response_rate, purchase_lift, retention_lift, spend_lift) under a BTYD + Gamma-Gamma model given as params; arguments as clv_predict; NULL monetary_value is the population mean spend';

-- The options of the offer and budget functions, checked in one place:
-- id_column, segment_column, cost_column, each a column name of the source.
CREATE FUNCTION clv_offer_options(options jsonb)
RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	IF jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'options must be a jsonb object, not %', jsonb_typeof(options)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"id_column": "customer_id", "segment_column": "segment"}.';
	END IF;
	FOR k IN SELECT jsonb_object_keys(options) LOOP
		IF k NOT IN ('id_column', 'segment_column', 'cost_column') THEN
			RAISE EXCEPTION 'unknown option "%"', k
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'The options are id_column, segment_column, cost_column.';
		END IF;
		IF jsonb_typeof(options -> k) <> 'string' THEN
			RAISE EXCEPTION 'option % must be a column name (a string), not %', k, options -> k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION clv_offer_options(jsonb) IS
'checks the options of clv_offer_roi and clv_allocate_budget (id_column, segment_column, cost_column: column names of the source); 22023 otherwise';

-- Per customer of the source: the offer's values.  The id column defaults
-- to customer_id when the source has one (else the id is NULL); a
-- cost_column replaces the offer's cost by the customer's own.
CREATE FUNCTION clv_offer_roi_with_path(name text, source text, offer jsonb, horizon float8,
										discount_rate float8, margin float8, options jsonb,
										caller_path text)
RETURNS TABLE (customer_id text, segment text, p_alive float8, baseline_purchases float8,
			   offer_purchases float8, baseline_clv float8, offer_clv float8,
			   incremental_value float8, cost float8, net_gain float8, roi float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	params jsonb := @extschema@.clv_model_params(name);
	id_col text := options ->> 'id_column';
	seg_col text := options ->> 'segment_column';
	cost_col text := options ->> 'cost_column';
	cols text[];
BEGIN
	PERFORM @extschema@.clv_offer_options(options);
	cols := ARRAY['s.frequency::pg_catalog.float8', 's.recency::pg_catalog.float8',
				  's.t::pg_catalog.float8', 's.monetary_value::pg_catalog.float8',
				  CASE WHEN seg_col IS NULL THEN 'NULL::pg_catalog.text'
					   ELSE 's.' || quote_ident(seg_col) || '::pg_catalog.text' END,
				  CASE WHEN cost_col IS NULL THEN 'NULL::pg_catalog.float8'
					   ELSE 's.' || quote_ident(cost_col) || '::pg_catalog.float8' END];
	FOR attempt IN 1..2 LOOP
		BEGIN
			RETURN QUERY
			SELECT s.id, s.seg, o.p_alive, o.baseline_purchases, o.offer_purchases,
				   o.baseline_clv, o.offer_clv, o.incremental_value, o.cost, o.net_gain, o.roi
			FROM @extschema@.clv_source_rows(source,
					cols || CASE WHEN attempt = 2 THEN 'NULL::pg_catalog.text'
								 ELSE 's.' || quote_ident(coalesce(id_col, 'customer_id'))
									  || '::pg_catalog.text' END,
					caller_path)
				 AS s(frequency float8, recency float8, t float8, monetary_value float8,
					  seg text, cost float8, id text)
				 CROSS JOIN LATERAL @extschema@.clv_offer_predict(params, s.frequency, s.recency,
					s.t, s.monetary_value, horizon, discount_rate, margin,
					CASE WHEN cost_col IS NULL THEN offer
						 ELSE offer || jsonb_build_object('cost', s.cost) END) AS o
			WHERE s.frequency IS NOT NULL;
			RETURN;
		EXCEPTION
			-- only a missing default id column is tolerated (the retry reads
			-- no id); any other missing column fails again, as it should
			WHEN undefined_column THEN
				IF attempt = 2 OR id_col IS NOT NULL THEN
					RAISE;
				END IF;
		END;
	END LOOP;
END
$$;

COMMENT ON FUNCTION clv_offer_roi_with_path(text, text, jsonb, float8, float8, float8, jsonb, text) IS
'clv_offer_roi with the source read in the given search_path';

CREATE FUNCTION clv_offer_roi(name text, source text, offer jsonb, horizon float8,
							  discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1,
							  options jsonb DEFAULT '{}')
RETURNS TABLE (customer_id text, segment text, p_alive float8, baseline_purchases float8,
			   offer_purchases float8, baseline_clv float8, offer_clv float8,
			   incremental_value float8, cost float8, net_gain float8, roi float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT r.* FROM @extschema@.clv_offer_roi_with_path(name, source, offer, horizon,
		discount_rate, margin, options, pg_catalog.current_setting('search_path')) r
	ORDER BY r.net_gain DESC, r.customer_id
$$;

COMMENT ON FUNCTION clv_offer_roi(text, text, jsonb, float8, float8, float8, jsonb) IS
'per customer of the source (frequency, recency, t, monetary_value; options id_column, default customer_id, segment_column, cost_column): baseline and offer CLV, incremental value = response_rate * (offer - baseline), cost, net gain and ROI = net gain / cost of an offer (jsonb: cost, response_rate, purchase_lift, retention_lift, spend_lift) under the named model; best net gain first';

CREATE FUNCTION clv_offer_roi_segments_with_path(name text, source text, offer jsonb,
												 segment_column text, horizon float8,
												 discount_rate float8, margin float8,
												 options jsonb, caller_path text)
RETURNS TABLE (segment text, customers bigint, p_alive float8, baseline_clv float8,
			   offer_clv float8, incremental_value float8, cost float8, net_gain float8,
			   net_gain_per_customer float8, roi float8, profitable_customers bigint)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT r.segment, count(*), avg(r.p_alive), sum(r.baseline_clv), sum(r.offer_clv),
		   sum(r.incremental_value), sum(r.cost), sum(r.net_gain), avg(r.net_gain),
		   CASE WHEN sum(r.cost) > 0 THEN sum(r.net_gain) / sum(r.cost) END,
		   count(*) FILTER (WHERE r.net_gain > 0)
	FROM @extschema@.clv_offer_roi_with_path(name, source, offer, horizon, discount_rate, margin,
			options || jsonb_build_object('segment_column', segment_column), caller_path) r
	GROUP BY r.segment
	ORDER BY sum(r.net_gain) DESC, r.segment;
END
$$;

COMMENT ON FUNCTION clv_offer_roi_segments_with_path(text, text, jsonb, text, float8, float8, float8, jsonb, text) IS
'clv_offer_roi_segments with the source read in the given search_path';

CREATE FUNCTION clv_offer_roi_segments(name text, source text, offer jsonb, segment_column text,
									   horizon float8, discount_rate float8 DEFAULT 0,
									   margin float8 DEFAULT 1, options jsonb DEFAULT '{}')
RETURNS TABLE (segment text, customers bigint, p_alive float8, baseline_clv float8,
			   offer_clv float8, incremental_value float8, cost float8, net_gain float8,
			   net_gain_per_customer float8, roi float8, profitable_customers bigint)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_offer_roi_segments_with_path(name, source, offer,
		segment_column, horizon, discount_rate, margin, options,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_offer_roi_segments(text, text, jsonb, text, float8, float8, float8, jsonb) IS
'clv_offer_roi summed per value of segment_column: customers, mean P(alive), total baseline and offer CLV, incremental value, cost and net gain, net gain per customer, ROI of targeting the whole segment and the customers with a positive net gain; best total net gain first';

-- The greedy allocation: customers by incremental value per unit cost
-- (a free offer with a positive net gain first), only those whose net gain
-- is positive, as long as the cumulative cost stays within the budget.
CREATE FUNCTION clv_allocate_budget_with_path(name text, source text, offer jsonb, budget float8,
											  horizon float8, discount_rate float8, margin float8,
											  options jsonb, caller_path text)
RETURNS TABLE (step bigint, customer_id text, segment text, cost float8,
			   incremental_value float8, net_gain float8, value_per_cost float8,
			   cumulative_cost float8, cumulative_value float8, cumulative_net_gain float8,
			   cumulative_roi float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT (budget >= 0 AND budget < 'Infinity'::float8) THEN
		RAISE EXCEPTION 'budget = % must be a finite number >= 0', budget
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The budget is money to spend on the offer''s cost, in the same currency as the spend.';
	END IF;
	RETURN QUERY
	SELECT a.step, a.customer_id, a.segment, a.cost, a.incremental_value, a.net_gain,
		   a.value_per_cost, a.cum_cost, a.cum_value, a.cum_value - a.cum_cost,
		   CASE WHEN a.cum_cost > 0 THEN (a.cum_value - a.cum_cost) / a.cum_cost END
	FROM (SELECT row_number() OVER w AS step, r.customer_id, r.segment, r.cost,
				 r.incremental_value, r.net_gain,
				 CASE WHEN r.cost > 0 THEN r.incremental_value / r.cost END AS value_per_cost,
				 sum(r.cost) OVER w AS cum_cost,
				 sum(r.incremental_value) OVER w AS cum_value
		  FROM @extschema@.clv_offer_roi_with_path(name, source, offer, horizon, discount_rate,
				margin, options, caller_path) r
		  WHERE r.net_gain > 0
		  WINDOW w AS (ORDER BY r.cost = 0 DESC,
							    CASE WHEN r.cost > 0 THEN r.incremental_value / r.cost END DESC,
							    r.incremental_value DESC, r.customer_id
					   ROWS UNBOUNDED PRECEDING)) a
	WHERE a.cum_cost <= budget
	ORDER BY a.step;
END
$$;

COMMENT ON FUNCTION clv_allocate_budget_with_path(text, text, jsonb, float8, float8, float8, float8, jsonb, text) IS
'clv_allocate_budget with the source read in the given search_path';

CREATE FUNCTION clv_allocate_budget(name text, source text, offer jsonb, budget float8,
									horizon float8, discount_rate float8 DEFAULT 0,
									margin float8 DEFAULT 1, options jsonb DEFAULT '{}')
RETURNS TABLE (step bigint, customer_id text, segment text, cost float8,
			   incremental_value float8, net_gain float8, value_per_cost float8,
			   cumulative_cost float8, cumulative_value float8, cumulative_net_gain float8,
			   cumulative_roi float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_allocate_budget_with_path(name, source, offer, budget, horizon,
		discount_rate, margin, options, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_allocate_budget(text, text, jsonb, float8, float8, float8, float8, jsonb) IS
'the customers an offer should target within a budget: ranked by incremental value per unit cost (clv_offer_roi), only those with a positive net gain, until the next one would exceed the budget; one row per step with the cumulative cost, value, net gain and ROI (options as clv_offer_roi, cost_column for per-customer costs)';

CREATE FUNCTION clv_allocate_budget_segments_with_path(name text, source text, offer jsonb,
													   budget float8, segment_column text,
													   horizon float8, discount_rate float8,
													   margin float8, options jsonb,
													   caller_path text)
RETURNS TABLE (segment text, targeted bigint, cost float8, incremental_value float8,
			   net_gain float8, roi float8, share_of_budget float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT a.segment, count(*), sum(a.cost), sum(a.incremental_value), sum(a.net_gain),
		   CASE WHEN sum(a.cost) > 0 THEN sum(a.net_gain) / sum(a.cost) END,
		   CASE WHEN budget > 0 THEN sum(a.cost) / budget END
	FROM @extschema@.clv_allocate_budget_with_path(name, source, offer, budget, horizon,
			discount_rate, margin,
			options || jsonb_build_object('segment_column', segment_column), caller_path) a
	GROUP BY a.segment
	ORDER BY sum(a.cost) DESC, a.segment;
END
$$;

COMMENT ON FUNCTION clv_allocate_budget_segments_with_path(text, text, jsonb, float8, text, float8, float8, float8, jsonb, text) IS
'clv_allocate_budget_segments with the source read in the given search_path';

CREATE FUNCTION clv_allocate_budget_segments(name text, source text, offer jsonb, budget float8,
											 segment_column text, horizon float8,
											 discount_rate float8 DEFAULT 0,
											 margin float8 DEFAULT 1,
											 options jsonb DEFAULT '{}')
RETURNS TABLE (segment text, targeted bigint, cost float8, incremental_value float8,
			   net_gain float8, roi float8, share_of_budget float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_allocate_budget_segments_with_path(name, source, offer, budget,
		segment_column, horizon, discount_rate, margin, options,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_allocate_budget_segments(text, text, jsonb, float8, text, float8, float8, float8, jsonb) IS
'clv_allocate_budget summed per value of segment_column: customers targeted, their cost, incremental value, net gain, ROI and share of the budget; segments without a targeted customer do not appear';

-- ---------------------------------------------------------------------------
-- The catalog holds regressors (kind regressor) and their boosters
-- (artifact, stored only by a training function: clv_catalog_storing).
-- ---------------------------------------------------------------------------
ALTER TABLE clv_model_names DROP CONSTRAINT clv_model_names_kind_check,
	ADD CONSTRAINT clv_model_names_kind_check CHECK (kind IN ('btyd', 'kmeans', 'regressor'));
ALTER TABLE clv_models DROP CONSTRAINT clv_models_kind_check,
	ADD CONSTRAINT clv_models_kind_check CHECK (kind IN ('btyd', 'kmeans', 'regressor'));
ALTER TABLE clv_models ADD COLUMN artifact bytea;
COMMENT ON COLUMN clv_model_names.kind IS 'kind of every version of the name: btyd, kmeans or regressor';
COMMENT ON COLUMN clv_models.kind IS 'btyd (transaction and spend models), kmeans (segmentation) or regressor (XGBoost trees, clv_regressor_train)';
COMMENT ON COLUMN clv_models.artifact IS 'binary model state of kinds that have one, NULL otherwise; regressor: the XGBoost booster in XGBoost''s UBJSON model format (loadable with xgboost.Booster().load_model(bytearray(artifact)))';

-- Whether the C code of a training function is storing the row (see
-- clv_models_stamp).
CREATE FUNCTION clv_catalog_storing()
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_storing'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_storing() IS
'true only while a clv training function stores its row in clv_models (the trigger accepts an artifact only then); not settable from SQL';

CREATE OR REPLACE FUNCTION clv_models_stamp()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
	restoring boolean := NEW.version IS NOT NULL AND NOT pg_catalog.row_security_active(TG_RELID);
BEGIN
	-- a training function's own INSERT (clv_catalog_store) has claimed,
	-- checked, numbered and stamped its row already
	IF @extschema@.clv_catalog_storing() THEN
		RETURN NEW;
	END IF;
	FOR attempt IN 1 .. 2 LOOP
		SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = NEW.name;
		EXIT WHEN FOUND;
		-- a new name: claim it (a concurrent claim of the same name wins or
		-- loses on the primary key; the loser reads the winner's row)
		INSERT INTO @extschema@.clv_model_names (name, kind, owner, last_version)
		VALUES (NEW.name, NEW.kind, CASE WHEN restoring THEN NEW.trained_by ELSE current_user END, 0)
		ON CONFLICT (name) DO NOTHING;
	END LOOP;
	IF n.name IS NULL THEN
		RAISE EXCEPTION 'could not claim the clv model name "%"', NEW.name
			USING ERRCODE = 'serialization_failure', HINT = 'Retry the transaction.';
	END IF;
	-- an artifact is parsed by a library when the model is used (an XGBoost
	-- booster: damaged bytes can crash its loader), so only a training
	-- function stores one; a restore (a role that bypasses row-level
	-- security) is trusted
	IF NEW.artifact IS NOT NULL AND NOT restoring AND NOT @extschema@.clv_catalog_storing() THEN
		RAISE EXCEPTION 'the artifact of clv model "%" can only be stored by its training function', NEW.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Train the model with clv_regressor_train().';
	END IF;
	-- a restore keeps its rows' owners: the kind check alone
	PERFORM @extschema@.clv_model_check(n, CASE WHEN NOT restoring THEN 'train new versions' END,
										NEW.kind);
	IF restoring THEN
		UPDATE @extschema@.clv_model_names c
		SET last_version = GREATEST(c.last_version, NEW.version)
		WHERE c.name = NEW.name;
		RETURN NEW;
	END IF;
	-- the row lock of the name serialises trainings of one name until commit
	UPDATE @extschema@.clv_model_names c
	SET last_version = c.last_version + 1
	WHERE c.name = NEW.name
	RETURNING c.last_version INTO NEW.version;
	IF NEW.version IS NULL THEN
		RAISE EXCEPTION 'permission denied for clv model "%"', NEW.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Training needs UPDATE (last_version) on clv_model_names.';
	END IF;
	NEW.trained_by := current_user;
	NEW.trained_at := pg_catalog.clock_timestamp();
	RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------
-- New in 0.2: sql/ext/82_regressor.sql (supervised models)
-- ---------------------------------------------------------------------------
-- ---------------------------------------------------------------------------
-- Supervised models: gradient-boosted trees and random forests on XGBoost's
-- C library (src/regressor.c, src/regressor_fmgr.c).  Models live in
-- clv_models with kind = 'regressor': the booster in the artifact column
-- (XGBoost's UBJSON model format), the feature names, the XGBoost parameters
-- as used, metrics and feature importance in params.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_regressor_train(name text, source text, target text,
		features text[] DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS clv_models
AS 'MODULE_PATHNAME', 'clv_regressor_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_regressor_train(text, text, text, text[], jsonb) IS
'XGBoost regression trees on source (a table, view or SELECT): target is the column to predict, features the numeric columns to predict it from (NULL: every numeric column but the target and id-like keys); NULL features are missing values, rows with a NULL target are skipped and counted; stores the next version of the model in clv_models (kind regressor) and returns that row. Options: objective (reg:squarederror | reg:tweedie | reg:pseudohubererror), mode (gradient_boosting | random_forest), n_rounds (100), n_trees (random_forest: 100), max_depth (6), eta (0.3), subsample, colsample_bytree, colsample_bynode, min_child_weight, lambda, alpha, tweedie_variance_power, huber_slope, tree_method (hist), seed (0), nthread (1), early_stopping_rounds with validation_fraction (0.2), cv_folds';

CREATE FUNCTION clv_regressor_predict(name text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_regressor_predict'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_regressor_predict(text, float8[]) IS
'Prediction of the newest version of a regressor for one row of features, in the model''s feature order (params->''features''); NULL or NaN elements are missing values; the booster is loaded once per query';

-- ---------------------------------------------------------------------------
-- The catalog shaped for Citus reference tables (clv_catalog_distribute):
-- policies without subqueries, versions numbered by the training functions.
-- ---------------------------------------------------------------------------
-- The questions the policies of clv_models ask (src/catalog.c).  They are
-- functions rather than subqueries so that the tables can become Citus
-- reference tables (clv_catalog_distribute), whose policies may hold no
-- subquery and run on every node.
CREATE FUNCTION clv_catalog_readable(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_readable'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_readable(text) IS
'true when the current role may read the versions of the named model (a member of its owner or of a role it was granted to, or granted to public)';

CREATE FUNCTION clv_catalog_owned(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_owned'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_owned(text) IS
'true when the current role is a member of the owner role of the named model';

CREATE FUNCTION clv_catalog_insertable(name text, kind text, version integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_insertable'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_insertable(text, text, integer) IS
'true when the current role may store version of the named model: the name holds models of kind, the role is a member of its owner, and version is the number last handed out for the name';

CREATE FUNCTION clv_catalog_artifact_ok()
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_artifact_ok'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_artifact_ok() IS
'true while a clv training function stores its row, or on a Citus worker (which never parses an artifact): the only places an artifact may be stored';

ALTER POLICY clv_models_read ON clv_models
	USING (@extschema@.clv_catalog_readable(name));
ALTER POLICY clv_models_train ON clv_models
	WITH CHECK (trained_by = current_user
				AND @extschema@.clv_catalog_insertable(name, kind, version)
				AND (artifact IS NULL OR @extschema@.clv_catalog_artifact_ok()));
ALTER POLICY clv_models_drop ON clv_models
	USING (@extschema@.clv_catalog_owned(name));

-- ---------------------------------------------------------------------------
-- Citus: the one set-up step.  By-name calls over a distributed table
-- (clv_predict('m', ...), clv_cluster('seg', ...)) run on the workers;
-- making both catalog tables reference tables gives every node all of the
-- catalog, under the same policies.  Writes keep working because every
-- catalog write is a statement Citus routes as it is (INSERT ... VALUES,
-- UPDATE and DELETE by name) and the training functions number versions
-- themselves.  Dropped: the stamping trigger, which would fire on every
-- node, and the foreign key from the versions to their names, which Citus
-- would turn into a conversion of its own (the INSERT policy checks the
-- name and kind of every new version instead).  Kept: the guard of
-- clv_model_names, which compares the old and new row only.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_catalog_distribute()
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unsafe_triggers text;
BEGIN
	IF pg_catalog.to_regproc('pg_catalog.create_reference_table') IS NULL THEN
		RAISE EXCEPTION 'clv_catalog_distribute() needs Citus'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'There is no function create_reference_table() in this database.',
				  HINT = 'Without Citus the catalog needs no set-up; with it, CREATE EXTENSION citus first.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
			   WHERE p.logicalrelid = '@extschema@.clv_models'::pg_catalog.regclass) THEN
		RETURN 'the clv catalog is distributed already';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node d WHERE d.groupid = 0) THEN
		RAISE EXCEPTION 'the Citus coordinator is not in the cluster''s metadata'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Training stores each version on every node, the coordinator included.',
				  HINT = 'SELECT citus_set_coordinator_host(''<coordinator host>'', <port>) first.';
	END IF;
	ALTER TABLE @extschema@.clv_models DROP CONSTRAINT clv_models_name_kind_fkey;
	DROP TRIGGER clv_models_stamp ON @extschema@.clv_models;
	unsafe_triggers := pg_catalog.current_setting('citus.enable_unsafe_triggers');
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
	PERFORM pg_catalog.create_reference_table('@extschema@.clv_model_names'::pg_catalog.regclass);
	PERFORM pg_catalog.create_reference_table('@extschema@.clv_models'::pg_catalog.regclass);
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
	RETURN 'clv_model_names and clv_models are reference tables';
END
$$;

COMMENT ON FUNCTION clv_catalog_distribute() IS
'on Citus, makes the model catalog (clv_model_names, clv_models) reference tables, so that by-name predictions and clustering work over distributed tables; run once, as the extension''s owner, on the coordinator';
