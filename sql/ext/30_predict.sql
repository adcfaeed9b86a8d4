-- ---------------------------------------------------------------------------
-- Predictions with the parameters inline (params jsonb) (models-math).
-- The params object is self-describing, e.g.
--   {"transaction_model": "bgnbd", "r": 0.243, "alpha": 4.414, "a": 0.793,
--    "b": 2.426, "spend_model": "gamma_gamma", "p": 6.25, "q": 3.74,
--    "gamma": 15.44}
-- exactly as stored in clv_models.params.
-- ---------------------------------------------------------------------------
CREATE TYPE clv_prediction AS (
	expected_purchases float8,
	p_alive float8,
	expected_spend float8,
	clv float8
);

COMMENT ON TYPE clv_prediction IS
'Result of clv_predict: expected purchases over the horizon, P(alive), expected spend per purchase, and the discounted value margin * expected_spend * discounted expected purchases';

CREATE FUNCTION clv_predict(params jsonb, frequency float8, recency float8, t float8,
							monetary_value float8, horizon float8,
							discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS clv_prediction
AS 'MODULE_PATHNAME', 'clv_predict_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict(jsonb, float8, float8, float8, float8, float8, float8, float8) IS
'Predicts (expected_purchases, p_alive, expected_spend, clv) for one customer over horizon time units from inline model parameters; monetary_value may be NULL (population mean spend); expected_spend and clv are NULL without a spend model';

CREATE FUNCTION clv_expected_purchases(params jsonb, frequency float8, recency float8,
									   t float8, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases(jsonb, float8, float8, float8, float8) IS
'Conditional expected number of purchases in the next horizon time units (BG/BB: periods) for a customer with this frequency, recency and t, from inline model parameters';

CREATE FUNCTION clv_p_alive(params jsonb, frequency float8, recency float8, t float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_p_alive_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_p_alive(jsonb, float8, float8, float8) IS
'Probability that a customer with this frequency, recency and t is still active (BG/BB: active in the next period), from inline model parameters';

CREATE FUNCTION clv_expected_spend(params jsonb, frequency float8, monetary_value float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_spend_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_spend(jsonb, float8, float8) IS
'Gamma-Gamma conditional expected spend per purchase given frequency repeat purchases of mean monetary_value (the population mean p*gamma/(q-1) for frequency 0)';

CREATE FUNCTION clv_value(params jsonb, frequency float8, recency float8, t float8,
						  monetary_value float8, horizon float8,
						  discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_value_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_value(jsonb, float8, float8, float8, float8, float8, float8, float8) IS
'Discounted customer value over horizon: margin * expected spend * sum over unit periods i of the purchases expected in period i / (1 + discount_rate)^i; monetary_value may be NULL';

CREATE FUNCTION clv_expected_purchases_new(params jsonb, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_new_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases_new(jsonb, float8) IS
'E[X(t)]: expected number of repeat purchases of a newly acquired customer within horizon time units, from inline model parameters';

CREATE FUNCTION clv_purchase_probability(params jsonb, n integer, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_purchase_probability_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_purchase_probability(jsonb, integer, float8) IS
'P(X(t) = n): probability that a newly acquired customer makes exactly n repeat purchases within horizon time units (BG/BB: horizon rounded to whole periods)';
