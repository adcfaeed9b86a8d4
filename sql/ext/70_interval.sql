-- ---------------------------------------------------------------------------
-- Prediction intervals from parameter uncertainty (src/interval.c,
-- src/interval_fmgr.c).
--
-- Parameter vectors are drawn (seeded) from the asymptotic normal of the
-- log-parameters with the model's covariance (clv_models.covariance); a
-- prediction's interval is the spread of the prediction over the draws.
-- The draws of a (model, options) pair are made once per call site and
-- query, so every row of a query uses the same draws.
-- ---------------------------------------------------------------------------
CREATE TYPE clv_prediction_interval AS (
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	p_alive float8,
	p_alive_lower float8,
	p_alive_upper float8,
	expected_spend float8,
	expected_spend_lower float8,
	expected_spend_upper float8,
	clv float8,
	clv_lower float8,
	clv_upper float8
);

COMMENT ON TYPE clv_prediction_interval IS
'Result of clv_predict_interval: the point values of clv_predict, each with the lower and upper bound of its interval from parameter uncertainty';

COMMENT ON COLUMN clv_prediction_interval.expected_purchases IS 'conditional expected number of purchases in the next horizon (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.expected_purchases_lower IS 'lower bound of the interval of expected_purchases: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_purchases_upper IS 'upper bound of the interval of expected_purchases: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.p_alive IS 'probability that the customer is still active (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.p_alive_lower IS 'lower bound of the interval of p_alive: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.p_alive_upper IS 'upper bound of the interval of p_alive: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_spend IS 'expected spend per purchase (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.expected_spend_lower IS 'lower bound of the interval of expected_spend: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_spend_upper IS 'upper bound of the interval of expected_spend: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.clv IS 'discounted value of the next horizon (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.clv_lower IS 'lower bound of the interval of clv: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.clv_upper IS 'upper bound of the interval of clv: the (1 + level) / 2 quantile over the parameter draws';

CREATE FUNCTION clv_predict_interval(params jsonb, frequency float8, recency float8, t float8,
									 monetary_value float8, horizon float8,
									 discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1,
									 level float8 DEFAULT 0.9, options jsonb DEFAULT '{}')
RETURNS clv_prediction_interval
AS 'MODULE_PATHNAME', 'clv_predict_interval_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval(jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'clv_predict with an interval (level, default 0.9) for each value from parameter uncertainty: seeded draws from the asymptotic normal of the log-parameters; inline params need options {"covariance": <clv_models.covariance>}; options n_draws (default 1000), seed (default 1)';

CREATE FUNCTION clv_predict_interval(name text, frequency float8, recency float8, t float8,
									 monetary_value float8, horizon float8,
									 discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1,
									 level float8 DEFAULT 0.9, options jsonb DEFAULT '{}')
RETURNS clv_prediction_interval
AS 'MODULE_PATHNAME', 'clv_predict_interval_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval(text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'clv_predict with an interval (level, default 0.9) for each value from parameter uncertainty, with the newest version of the named model and its stored covariance; options n_draws (default 1000), seed (default 1)';

-- The interval of a group's total and mean: every customer's predictions
-- under the same draws are summed draw by draw (state: a header, then the
-- per-draw sums), and the quantiles are taken of the sums.
CREATE TYPE clv_prediction_interval_total AS (
	customers bigint,
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	clv float8,
	clv_lower float8,
	clv_upper float8,
	mean_expected_purchases float8,
	mean_expected_purchases_lower float8,
	mean_expected_purchases_upper float8,
	mean_clv float8,
	mean_clv_lower float8,
	mean_clv_upper float8
);

COMMENT ON TYPE clv_prediction_interval_total IS
'Result of clv_predict_interval_total: customers, the total and the mean over them of expected purchases and CLV, each with its interval from one set of parameter draws shared by all the customers';

COMMENT ON COLUMN clv_prediction_interval_total.customers IS 'customers aggregated (rows without a NULL argument)';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases IS 'total expected purchases of the customers in the next horizon (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases_lower IS 'lower bound of the interval of expected_purchases: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases_upper IS 'upper bound of the interval of expected_purchases: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.clv IS 'total discounted value of the customers (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.clv_lower IS 'lower bound of the interval of clv: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.clv_upper IS 'upper bound of the interval of clv: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases IS 'mean expected purchases per customer (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases_lower IS 'lower bound of the interval of mean_expected_purchases: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases_upper IS 'upper bound of the interval of mean_expected_purchases: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv IS 'mean discounted value per customer (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv_lower IS 'lower bound of the interval of mean_clv: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv_upper IS 'upper bound of the interval of mean_clv: the (1 + level) / 2 quantile over the shared parameter draws';

CREATE FUNCTION clv_predict_interval_total_trans(state float8[], params jsonb, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], params jsonb, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8, discount_rate float8,
												 margin float8, level float8, options jsonb)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], name text, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_by_name'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], name text, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8, discount_rate float8,
												 margin float8, level float8, options jsonb)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION clv_predict_interval_total_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION clv_predict_interval_total_final(float8[])
RETURNS clv_prediction_interval_total
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], jsonb, float8, float8, float8, float8, float8) IS
'transition function of clv_predict_interval_total (inline params)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'transition function of clv_predict_interval_total (inline params)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], text, float8, float8, float8, float8, float8) IS
'transition function of clv_predict_interval_total (model name)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'transition function of clv_predict_interval_total (model name)';
COMMENT ON FUNCTION clv_predict_interval_total_combine(float8[], float8[]) IS
'combine function of clv_predict_interval_total: adds the per-draw sums of two partial states';
COMMENT ON FUNCTION clv_predict_interval_total_final(float8[]) IS
'final function of clv_predict_interval_total: totals and means with the quantiles of the per-draw sums';

CREATE AGGREGATE clv_predict_interval_total(params jsonb, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(params jsonb, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8,
											discount_rate float8, margin float8, level float8,
											options jsonb) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(name text, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(name text, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8,
											discount_rate float8, margin float8, level float8,
											options jsonb) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE clv_predict_interval_total(jsonb, float8, float8, float8, float8, float8) IS
'total and mean expected purchases and CLV of the customers aggregated, with 90% intervals from one set of parameter draws shared by every customer (inline params; needs the 10-argument form to pass the covariance)';
COMMENT ON AGGREGATE clv_predict_interval_total(jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'total and mean expected purchases and CLV of the customers aggregated, with intervals at level from one set of parameter draws shared by every customer; options as clv_predict_interval (covariance, n_draws, seed)';
COMMENT ON AGGREGATE clv_predict_interval_total(text, float8, float8, float8, float8, float8) IS
'total and mean expected purchases and CLV of the customers aggregated, with 90% intervals from one set of parameter draws of the named model shared by every customer';
COMMENT ON AGGREGATE clv_predict_interval_total(text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'total and mean expected purchases and CLV of the customers aggregated, with intervals at level from one set of parameter draws of the named model shared by every customer; options n_draws, seed';
