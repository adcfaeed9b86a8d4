-- ---------------------------------------------------------------------------
-- Simulation: customers drawn from the BTYD purchase processes and the
-- Gamma-Gamma spend process (src/simulate.c), for tests, benchmarks and
-- what-if questions.  One seed always gives the same rows.
--
-- The C functions return a row per call, drawn as it is asked for.  In FROM
-- PostgreSQL collects all rows of a C set-returning function before the
-- first one reaches a LIMIT, so clv_simulate and clv_simulate_transactions
-- are SQL functions that the planner inlines into the calling query, where
-- they call the C function in a select list (a ProjectSet node, which pulls
-- one row at a time): SELECT * FROM clv_simulate(..., 2147483647, ...)
-- LIMIT 5 draws 5 rows.  Inlining needs a LANGUAGE sql function that is not
-- STRICT (the C functions are: NULL arguments give no rows), not VOLATILE,
-- not SECURITY DEFINER and without a SET clause (a SET search_path would
-- stop it); the SQL-standard body binds its references when the function is
-- created, so the caller's search_path cannot redirect them.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_simulate_rows(params jsonb, n_customers integer, horizon float8,
								  seed integer)
RETURNS TABLE (customer_id bigint, purchased_at float8, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate_rows(jsonb, integer, float8, integer) IS
'the rows of clv_simulate, one per call (clv_simulate calls it in a select list; use clv_simulate)';

CREATE FUNCTION clv_simulate(params jsonb, n_customers integer, horizon float8,
							 seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at float8, amount float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1000
BEGIN ATOMIC
	SELECT (s.r).customer_id, (s.r).purchased_at, (s.r).amount
	FROM (SELECT clv_simulate_rows(params, n_customers, horizon, seed) AS r) s;
END;

COMMENT ON FUNCTION clv_simulate(jsonb, integer, float8, integer) IS
'simulated purchases of n_customers customers acquired at time 0 and observed for horizon time units: '
'purchased_at in time units since acquisition (the acquisition purchase at 0 included), '
'amount from the Gamma-Gamma spend model or NULL without one';

CREATE FUNCTION clv_simulate_transactions_rows(params jsonb, n_customers integer,
											   start timestamptz, acquisition_days float8,
											   horizon float8, time_unit text, seed integer)
RETURNS TABLE (customer_id bigint, purchased_at timestamptz, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate_transactions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate_transactions_rows(jsonb, integer, timestamptz, float8, float8, text, integer) IS
'the rows of clv_simulate_transactions, one per call (use clv_simulate_transactions)';

CREATE FUNCTION clv_simulate_transactions(params jsonb, n_customers integer,
										  start timestamptz, acquisition_days float8,
										  horizon float8, time_unit text DEFAULT 'week',
										  seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at timestamptz, amount float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1000
BEGIN ATOMIC
	SELECT (s.r).customer_id, (s.r).purchased_at, (s.r).amount
	FROM (SELECT clv_simulate_transactions_rows(params, n_customers, start, acquisition_days,
												horizon, time_unit, seed) AS r) s;
END;

COMMENT ON FUNCTION clv_simulate_transactions(jsonb, integer, timestamptz, float8, float8, text, integer) IS
'simulated transactions with real timestamps, ready for clv_summary: each customer is acquired '
'uniformly within acquisition_days days after start and observed until start + horizon time units';
