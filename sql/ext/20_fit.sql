-- ---------------------------------------------------------------------------
-- Fitting the BTYD models without storing them (models-math).
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_fit(source text,
						transaction_model text DEFAULT 'bgnbd',
						spend_model text DEFAULT 'gamma_gamma',
						options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'clv_fit_sql'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_fit(text, text, text, jsonb) IS
'Fits a BTYD transaction model (bgnbd, pareto_nbd, mbgnbd, bgbb) and/or the gamma_gamma spend model by maximum likelihood on source (a table, view or SELECT with columns frequency, recency, t[, monetary_value][, weight]) and returns params, std_errors, log_likelihood, n_customers, converged, iterations and diagnostics as jsonb, without storing anything';

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
