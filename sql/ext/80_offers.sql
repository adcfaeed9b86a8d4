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
