-- ---------------------------------------------------------------------------
-- Validation: does a fitted model predict data it has not seen?
-- Calibration vs holdout, customer-level error metrics, cohort tracking and
-- frequency x recency matrices.  Written in PL/pgSQL over the prediction
-- functions (30_predict.sql), each with a params-jsonb form and a form that
-- takes a model name from the catalog.
-- ---------------------------------------------------------------------------

-- The one reader of source arguments for the SQL-language functions: the
-- given columns (expressions over the alias s, every name in them
-- qualified) of the source, read with the caller's search_path, which the
-- pinned functions calling this pass on (the source is the caller's own
-- query and resolves as if typed at the caller's prompt).  STABLE, so the
-- source runs read-only.  The query text is built before the path is
-- switched and nothing after the switch uses an unqualified name.
CREATE FUNCTION clv_source_rows(source text, columns text[], caller_path text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	head text := 'SELECT ' || array_to_string(columns, ', ') || ' FROM ';
	q text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
	q := pg_catalog.concat(head, @extschema@.clv_source_sql(source), ' AS s');
	RETURN QUERY EXECUTE q;
END
$$;

COMMENT ON FUNCTION clv_source_rows(text, text[], text) IS
'rows of the given column expressions (over alias s) of a source argument, with the source resolved in the given search_path; call with a column definition list';

-- The params of the newest version of a BTYD model in the catalog.
CREATE FUNCTION clv_model_params(name text)
RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m @extschema@.clv_models;
BEGIN
	-- an untyped literal resolves to the text (name) form: text that is a
	-- JSON object is taken as inline params, as the name-based predictions do
	IF name ~ '^\s*[{[]' THEN
		RETURN name::jsonb;
	END IF;
	m := @extschema@.clv_model(name);
	IF m.kind <> 'btyd' THEN
		RAISE EXCEPTION 'clv model "%" is a % model, not a BTYD model', name, m.kind
			USING ERRCODE = 'wrong_object_type';
	END IF;
	RETURN m.params;
END
$$;

COMMENT ON FUNCTION clv_model_params(text) IS
'the params jsonb of the newest version of the named BTYD model (42704 if there is none, 42809 for a K-Means model); text starting with { is taken as inline params';

-- The functions that read a source come in two layers: the public one is
-- plain SQL without a pinned search_path (every name in it qualified) and
-- passes the caller's search_path on to a pinned "_with_path" function,
-- which reads the source through clv_source_rows in that path.

-- The error of every reader of a calibration/holdout summary (here and in
-- 65_compare.sql) when the source lacks one of its fields.
CREATE FUNCTION clv_holdout_field_missing(source text, message text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'source "%" lacks a calibration/holdout field: %', source, message
		USING ERRCODE = 'undefined_column',
			  HINT = 'The source needs frequency, recency, t, frequency_holdout and duration_holdout; '
				  || 'build it with the 5-argument clv_summary(purchased_at, amount, calibration_end, observation_end, time_unit).';
END
$$;

COMMENT ON FUNCTION clv_holdout_field_missing(text, text) IS
'raises 42703 for a source without the calibration/holdout fields (message: the parser''s), with a HINT naming the 5-argument clv_summary';

-- Shared by the holdout functions: the per-customer actual and predicted
-- holdout purchases, with a HINT when the source lacks the holdout fields.
CREATE FUNCTION clv_holdout_predictions_with_path(params jsonb, source text, caller_path text)
RETURNS TABLE (frequency float8, actual float8, predicted float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	msg text;
BEGIN
	RETURN QUERY
	SELECT s.frequency, s.frequency_holdout,
		   @extschema@.clv_expected_purchases(params, s.frequency, s.recency, s.t, s.duration_holdout)
	FROM @extschema@.clv_source_rows(source,
			ARRAY['s.frequency::pg_catalog.float8', 's.recency::pg_catalog.float8',
				  's.t::pg_catalog.float8', 's.frequency_holdout::pg_catalog.float8',
				  's.duration_holdout::pg_catalog.float8'], caller_path)
		 AS s(frequency float8, recency float8, t float8, frequency_holdout float8,
			  duration_holdout float8)
	WHERE s.frequency IS NOT NULL;
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		PERFORM @extschema@.clv_holdout_field_missing(source, msg);
END
$$;

COMMENT ON FUNCTION clv_holdout_predictions_with_path(jsonb, text, text) IS
'clv_holdout_predictions with the source read in the given search_path';

CREATE FUNCTION clv_holdout_predictions(params jsonb, source text)
RETURNS TABLE (frequency float8, actual float8, predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_predictions_with_path(params, source,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_predictions(jsonb, text) IS
'per customer of a calibration/holdout summary: calibration frequency, actual holdout purchases (frequency_holdout) and the model''s expected purchases over duration_holdout';

CREATE FUNCTION clv_calibration_holdout_with_path(params jsonb, source text, max_frequency integer,
												  caller_path text)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF max_frequency < 0 THEN
		RAISE EXCEPTION 'max_frequency = % must not be negative', max_frequency
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT b.f, CASE WHEN b.f = max_frequency THEN b.f || '+' ELSE b.f::text END,
		   count(*), avg(b.actual), avg(b.predicted)
	FROM (SELECT least(floor(h.frequency), max_frequency)::integer AS f, h.actual, h.predicted
		  FROM @extschema@.clv_holdout_predictions_with_path(params, source, caller_path) h) b
	GROUP BY b.f
	ORDER BY b.f;
END
$$;

COMMENT ON FUNCTION clv_calibration_holdout_with_path(jsonb, text, integer, text) IS
'clv_calibration_holdout with the source read in the given search_path';

CREATE FUNCTION clv_calibration_holdout(params jsonb, source text, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_calibration_holdout_with_path(params, source, max_frequency,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_calibration_holdout(jsonb, text, integer) IS
'calibration vs holdout: per calibration frequency (0 .. max_frequency, the last bucket "N+"), the number of customers and their mean actual and mean predicted holdout purchases; source needs frequency, recency, t, frequency_holdout, duration_holdout';

CREATE FUNCTION clv_calibration_holdout(name text, source text, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_calibration_holdout_with_path(@extschema@.clv_model_params(name),
		source, max_frequency, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_calibration_holdout(text, text, integer) IS
'calibration vs holdout for the newest version of the named model (see the params jsonb form)';

CREATE FUNCTION clv_holdout_metrics_with_path(params jsonb, source text, caller_path text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT count(*), sum(h.actual), sum(h.predicted),
		   avg(abs(h.predicted - h.actual)),
		   sqrt(avg((h.predicted - h.actual) ^ 2)),
		   corr(h.predicted, h.actual)
	FROM @extschema@.clv_holdout_predictions_with_path(params, source, caller_path) h;
END
$$;

COMMENT ON FUNCTION clv_holdout_metrics_with_path(jsonb, text, text) IS
'clv_holdout_metrics with the source read in the given search_path';

CREATE FUNCTION clv_holdout_metrics(params jsonb, source text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_metrics_with_path(params, source,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_metrics(jsonb, text) IS
'customer-level accuracy of the holdout prediction: customers, total actual vs total predicted holdout purchases, mean absolute error, root mean squared error, Pearson correlation';

CREATE FUNCTION clv_holdout_metrics(name text, source text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_metrics_with_path(@extschema@.clv_model_params(name),
		source, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_metrics(text, text) IS
'holdout accuracy metrics for the newest version of the named model (see the params jsonb form)';

-- Tracking follows BTYD's elog2cum/ExpectedCumulativeTransactions: time runs
-- from the cohort's first purchase day (the origin); a customer born b units
-- after the origin is expected to have made E[X(k - b)] repeat purchases by
-- the end of period k; the actual count is the repeat purchase days (same-day
-- purchases merged, the first day excluded) falling in periods 1..k.
CREATE FUNCTION clv_tracking_with_path(params jsonb, transactions text,
									   calibration_end timestamptz, observation_end timestamptz,
									   time_unit text, caller_path text)
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unit_days float8;
	cal_day date := calibration_end::date;
	end_day date := observation_end::date;
	msg text;
BEGIN
	unit_days := CASE lower(time_unit)
		WHEN 'day' THEN 1 WHEN 'week' THEN 7 WHEN 'month' THEN 30.4375 WHEN 'year' THEN 365.25 END;
	IF unit_days IS NULL THEN
		RAISE EXCEPTION 'invalid time unit "%"', time_unit
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Valid time units are: day, week, month, year.';
	END IF;
	IF end_day < cal_day THEN
		RAISE EXCEPTION 'observation_end % is before calibration_end %',
			to_char(end_day, 'YYYY-MM-DD'), to_char(cal_day, 'YYYY-MM-DD')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- $1 params, $2 last day, $3 calibration end day, $4 days per time unit,
	-- $5 the transactions source, $6 the caller's search_path
	RETURN QUERY EXECUTE $q$
		WITH days AS (
			SELECT d.customer_id, d.day, min(d.day) OVER (PARTITION BY d.customer_id) AS first_day
			FROM (SELECT DISTINCT s.customer_id, s.day
				  FROM @extschema@.clv_source_rows($5,
						   ARRAY['pg_catalog.dense_rank() OVER (ORDER BY s.customer_id)',
								 's.purchased_at::pg_catalog.date'], $6)
					   AS s(customer_id bigint, day date)
				  WHERE s.day IS NOT NULL AND s.day <= $2) d
		), cohort AS (
			SELECT * FROM days WHERE first_day <= $3
		), origin AS (
			SELECT min(first_day) AS o FROM cohort
		), periods AS (
			SELECT k, least(k * $4, ($2 - o + 1)::float8) / $4 AS at
			FROM origin, generate_series(1, ceil(($2 - o + 1) / $4)::integer) k
		), births AS (
			SELECT (c.first_day - o) / $4 AS birth, count(*) AS n
			FROM cohort c, origin WHERE c.day = c.first_day GROUP BY c.first_day, o
		), expected_cum AS (
			SELECT p.k, COALESCE(sum(b.n * @extschema@.clv_expected_purchases_new($1, p.at - b.birth))
								 FILTER (WHERE b.birth < p.at), 0) AS cum
			FROM periods p CROSS JOIN births b
			GROUP BY p.k
		), actual AS (
			SELECT floor((c.day - o) / $4)::integer + 1 AS k, count(*)::float8 AS n
			FROM cohort c, origin WHERE c.day > c.first_day GROUP BY 1
		), joined AS (
			SELECT e.k, COALESCE(a.n, 0) AS n, e.cum,
				   sum(COALESCE(a.n, 0)) OVER (ORDER BY e.k) AS cum_actual
			FROM expected_cum e LEFT JOIN actual a USING (k)
		)
		SELECT j.k, o + floor((j.k - 1) * $4)::integer,
			   o + floor(j.k * $4)::integer - 1 <= $3,
			   j.n, j.cum - COALESCE(lag(j.cum) OVER (ORDER BY j.k), 0),
			   j.cum_actual, j.cum
		FROM joined j, origin
		ORDER BY j.k$q$
		USING params, end_day, cal_day, unit_days, transactions, caller_path;
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RAISE EXCEPTION 'transactions "%" lack a column: %', transactions, msg
			USING ERRCODE = 'undefined_column',
				  HINT = 'Tracking needs one row per purchase with customer_id and purchased_at.';
END
$$;

COMMENT ON FUNCTION clv_tracking_with_path(jsonb, text, timestamptz, timestamptz, text, text) IS
'clv_tracking with the transactions read in the given search_path';

CREATE FUNCTION clv_tracking(params jsonb, transactions text,
							 calibration_end timestamptz, observation_end timestamptz,
							 time_unit text DEFAULT 'week')
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_tracking_with_path(params, transactions, calibration_end,
		observation_end, time_unit, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_tracking(jsonb, text, timestamptz, timestamptz, text) IS
'cohort tracking: per time unit since the cohort''s first purchase day, the actual and expected repeat transactions (and cumulative sums) of the customers acquired on or before calibration_end, each from their own first purchase day; transactions needs customer_id and purchased_at; calibration is true for periods ending on or before calibration_end';

CREATE FUNCTION clv_tracking(name text, transactions text,
							 calibration_end timestamptz, observation_end timestamptz,
							 time_unit text DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE sql STABLE PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_tracking_with_path(@extschema@.clv_model_params(name),
		transactions, calibration_end, observation_end,
		COALESCE(time_unit, (@extschema@.clv_model(name)).time_unit, 'week'),
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_tracking(text, text, timestamptz, timestamptz, text) IS
'cohort tracking for the newest version of the named model, in the model''s time unit unless one is given (see the params jsonb form)';

-- The grid behind a heatmap: frequency 0..max_frequency by recency 0..t in
-- recency_steps steps.  A customer without repeat purchases has recency 0,
-- so the frequency-0 row repeats that value across the grid (as lifetimes'
-- plots do) rather than leaving holes.
CREATE FUNCTION clv_matrix_grid(t float8, max_frequency integer, recency_steps integer)
RETURNS TABLE (frequency integer, recency float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT (t > 0 AND t < 'infinity'::float8) THEN
		RAISE EXCEPTION 't = % must be positive and finite', t USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_frequency < 0 OR max_frequency > 10000 THEN
		RAISE EXCEPTION 'max_frequency = % must be between 0 and 10000', max_frequency
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF recency_steps < 1 OR recency_steps > 10000 THEN
		RAISE EXCEPTION 'recency_steps = % must be between 1 and 10000', recency_steps
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT f, t * i / recency_steps
	FROM generate_series(0, max_frequency) f, generate_series(0, recency_steps) i
	ORDER BY f, i;
END
$$;

COMMENT ON FUNCTION clv_matrix_grid(float8, integer, integer) IS
'the frequency x recency grid of the matrix functions: frequency 0..max_frequency, recency 0..t in recency_steps equal steps';

CREATE FUNCTION clv_p_alive_matrix(params jsonb, t float8, max_frequency integer DEFAULT 20,
								   recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT g.frequency, g.recency,
		   @extschema@.clv_p_alive(params, g.frequency::float8,
								   CASE WHEN g.frequency = 0 THEN 0 ELSE g.recency END, t)
	FROM @extschema@.clv_matrix_grid(t, max_frequency, recency_steps) g;
END
$$;

COMMENT ON FUNCTION clv_p_alive_matrix(jsonb, float8, integer, integer) IS
'P(alive) on a frequency x recency grid for customers of age t, as rows (frequency, recency, value) for a heatmap (the frequency-0 row is the recency-0 value)';

CREATE FUNCTION clv_p_alive_matrix(name text, t float8, max_frequency integer DEFAULT 20,
								   recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.clv_p_alive_matrix(@extschema@.clv_model_params(name), t, max_frequency, recency_steps)
$$;

COMMENT ON FUNCTION clv_p_alive_matrix(text, float8, integer, integer) IS
'P(alive) matrix for the newest version of the named model (see the params jsonb form)';

CREATE FUNCTION clv_expected_purchases_matrix(params jsonb, t float8, horizon float8,
											  max_frequency integer DEFAULT 20,
											  recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT g.frequency, g.recency,
		   @extschema@.clv_expected_purchases(params, g.frequency::float8,
											  CASE WHEN g.frequency = 0 THEN 0 ELSE g.recency END,
											  t, horizon)
	FROM @extschema@.clv_matrix_grid(t, max_frequency, recency_steps) g;
END
$$;

COMMENT ON FUNCTION clv_expected_purchases_matrix(jsonb, float8, float8, integer, integer) IS
'expected purchases in the next horizon time units on a frequency x recency grid for customers of age t, as rows (frequency, recency, value) for a heatmap';

CREATE FUNCTION clv_expected_purchases_matrix(name text, t float8, horizon float8,
											  max_frequency integer DEFAULT 20,
											  recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.clv_expected_purchases_matrix(@extschema@.clv_model_params(name), t, horizon,
															max_frequency, recency_steps)
$$;

COMMENT ON FUNCTION clv_expected_purchases_matrix(text, float8, float8, integer, integer) IS
'expected-purchases matrix for the newest version of the named model (see the params jsonb form)';
