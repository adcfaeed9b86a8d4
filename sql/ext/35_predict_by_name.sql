-- ---------------------------------------------------------------------------
-- Predictions by model name (src/predict_by_name.c, src/catalog.c).
--
-- The same functions as sql/ext/30_predict.sql with the name of a model in
-- clv_models instead of the params jsonb.  The newest version of the name
-- serves; it is looked up once per query (and call site) per backend, so a
-- version trained later is used from the next query on.  STABLE: they read
-- the catalog.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_predict(name text, frequency float8, recency float8, t float8,
							monetary_value float8, horizon float8,
							discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS clv_prediction
AS 'MODULE_PATHNAME', 'clv_predict_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict(text, float8, float8, float8, float8, float8, float8, float8) IS
'expected purchases in the next horizon, P(alive), expected spend per purchase and discounted CLV (margin * expected spend * discounted expected purchases) of a customer, with the newest version of the named model; monetary_value may be NULL (no repeat purchase: population mean spend)';

CREATE FUNCTION clv_expected_purchases(name text, frequency float8, recency float8, t float8,
									   horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases(text, float8, float8, float8, float8) IS
'conditional expected number of purchases of a customer in the next horizon time units, with the newest version of the named model';

CREATE FUNCTION clv_p_alive(name text, frequency float8, recency float8, t float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_p_alive_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_p_alive(text, float8, float8, float8) IS
'probability that a customer is still active at t, with the newest version of the named model';

CREATE FUNCTION clv_expected_spend(name text, frequency float8, monetary_value float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_spend_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_spend(text, float8, float8) IS
'Gamma-Gamma conditional expected spend per purchase of a customer, with the newest version of the named model';

CREATE FUNCTION clv_value(name text, frequency float8, recency float8, t float8,
						  monetary_value float8, horizon float8,
						  discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_value_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_value(text, float8, float8, float8, float8, float8, float8, float8) IS
'discounted customer lifetime value over the next horizon (margin * expected spend * discounted expected purchases), with the newest version of the named model; monetary_value may be NULL';

CREATE FUNCTION clv_expected_purchases_new(name text, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_new_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases_new(text, float8) IS
'expected number of purchases E[X(t)] of a newly acquired customer in a period of length horizon, with the newest version of the named model';

CREATE FUNCTION clv_purchase_probability(name text, n integer, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_purchase_probability_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_purchase_probability(text, integer, float8) IS
'probability P(X(t) = n) that a randomly chosen customer makes exactly n purchases in a period of length horizon, with the newest version of the named model';
