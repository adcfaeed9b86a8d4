-- ---------------------------------------------------------------------------
-- Simulation: customers drawn from the BTYD purchase processes and the
-- Gamma-Gamma spend process (src/simulate.c), for tests, benchmarks and
-- what-if questions.  One seed always gives the same rows.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_simulate(params jsonb, n_customers integer, horizon float8,
							 seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at float8, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate(jsonb, integer, float8, integer) IS
'simulated purchases of n_customers customers acquired at time 0 and observed for horizon time units: '
'purchased_at in time units since acquisition (the acquisition purchase at 0 included), '
'amount from the Gamma-Gamma spend model or NULL without one';

CREATE FUNCTION clv_simulate_transactions(params jsonb, n_customers integer,
										  start timestamptz, acquisition_days float8,
										  horizon float8, time_unit text DEFAULT 'week',
										  seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at timestamptz, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate_transactions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate_transactions(jsonb, integer, timestamptz, float8, float8, text, integer) IS
'simulated transactions with real timestamps, ready for clv_summary: each customer is acquired '
'uniformly within acquisition_days days after start and observed until start + horizon time units';
