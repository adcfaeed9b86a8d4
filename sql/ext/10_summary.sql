-- ---------------------------------------------------------------------------
-- Per-customer summary (RFM in the BTYD sense): the clv_summary aggregate.
-- ---------------------------------------------------------------------------

CREATE TYPE clv_summary AS (
	frequency integer,
	recency float8,
	t float8,
	monetary_value float8,
	n_purchases integer,
	total_amount float8,
	first_purchase date,
	last_purchase date,
	days_since_last integer,
	frequency_holdout integer,
	monetary_holdout float8,
	duration_holdout float8
);
COMMENT ON TYPE clv_summary IS
'per-customer summary: frequency (repeat purchase days), recency, t, monetary_value (mean repeat spend), RFM and holdout fields';

-- The transition state: one entry per distinct purchase day.  A real type
-- with text and binary I/O so that partial states travel between parallel
-- workers and Citus nodes.
CREATE TYPE clv_summary_state;

CREATE FUNCTION clv_summary_state_in(cstring) RETURNS clv_summary_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_out(clv_summary_state) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_recv(internal) RETURNS clv_summary_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_send(clv_summary_state) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE clv_summary_state (
	INPUT = clv_summary_state_in,
	OUTPUT = clv_summary_state_out,
	RECEIVE = clv_summary_state_recv,
	SEND = clv_summary_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE clv_summary_state IS
'transition state of clv_summary: the distinct purchase days of one customer with their net amounts';

COMMENT ON FUNCTION clv_summary_state_in(cstring) IS 'text input of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_out(clv_summary_state) IS 'text output of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_recv(internal) IS 'binary input of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_send(clv_summary_state) IS 'binary output of clv_summary_state';

-- Volatility: the timestamptz transitions cut days in the session's
-- TimeZone (STABLE); the date transitions, the combine and the final
-- function depend on their arguments only (IMMUTABLE).
CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, timestamptz, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, date, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_date_transfn'
	LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_combinefn(clv_summary_state, clv_summary_state)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_combinefn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_finalfn(clv_summary_state)
	RETURNS clv_summary AS 'MODULE_PATHNAME', 'clv_summary_finalfn'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz) IS 'transition function of clv_summary';
COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, text) IS 'transition function of clv_summary';
COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, timestamptz, text) IS 'transition function of clv_summary with a calibration/holdout split';
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date) IS 'transition function of clv_summary by purchase date';
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, text) IS 'transition function of clv_summary by purchase date';
COMMENT ON FUNCTION clv_summary_date_transfn(clv_summary_state, date, float8, date, date, text) IS 'transition function of clv_summary by purchase date with a calibration/holdout split';
COMMENT ON FUNCTION clv_summary_combinefn(clv_summary_state, clv_summary_state) IS 'combine function of clv_summary (parallel query, Citus)';
COMMENT ON FUNCTION clv_summary_finalfn(clv_summary_state) IS 'final function of clv_summary';

-- The final function never writes on the state (it sorts a copy when the
-- days need sorting): FINALFUNC_MODIFY = READ_ONLY, so the aggregate also
-- runs as a window function and may share its state with another aggregate.
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, observation_end timestamptz) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, observation_end timestamptz, time_unit text) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, calibration_end timestamptz, observation_end timestamptz, time_unit text) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);

-- The date forms: the caller cuts the purchase day (for example
-- (purchased_at AT TIME ZONE 'Europe/Berlin')::date), so the result does
-- not depend on the TimeZone of whichever node runs the aggregate.
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

COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz) IS
'per-customer summary (frequency, recency, t in weeks, monetary_value, RFM fields) of purchases up to observation_end';
COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz, text) IS
'per-customer summary of purchases up to observation_end, durations in time_unit (day, week, month, year)';
COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz, timestamptz, text) IS
'per-customer summary of the calibration period up to calibration_end plus holdout fields up to observation_end';

COMMENT ON AGGREGATE clv_summary(date, float8, date) IS
'per-customer summary of purchases by purchase date up to observation_end (days independent of TimeZone)';
COMMENT ON AGGREGATE clv_summary(date, float8, date, text) IS
'per-customer summary of purchases by purchase date up to observation_end, durations in time_unit';
COMMENT ON AGGREGATE clv_summary(date, float8, date, date, text) IS
'per-customer summary by purchase date of the calibration period up to calibration_end plus holdout fields up to observation_end';

-- ---------------------------------------------------------------------------
-- RFM segments
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_rfm_segment(r_score integer, f_score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clv_rfm_segment' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_rfm_segment(r_score integer, f_score integer, m_score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clv_rfm_segment' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv_rfm_segment(integer, integer) IS
'named RFM segment (Champions, Loyal Customers, ..., Lost) for recency and frequency scores 1-5';
COMMENT ON FUNCTION clv_rfm_segment(integer, integer, integer) IS
'named RFM segment for recency, frequency and monetary scores 1-5 (frequency and monetary averaged, half up)';
