-- clv_summary as Citus runs it, without Citus: per-node partial states
-- shipped as text, combined on the coordinator in any order, finalised;
-- and the date forms, whose days do not depend on any node's TimeZone.
SET TimeZone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE TABLE dist_elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy dist_elog FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
-- purchase times spread over the day, so that the zone a node cuts days in
-- matters: each purchase lands at a different hour
CREATE TABLE dist_tx AS
SELECT row_number() OVER (ORDER BY sampleid, date, sales) AS id,
       sampleid AS cust,
       (to_date(date::text, 'YYYYMMDD') + ((sampleid * 7 + cds * 5) % 24) * interval '1 hour')
         AT TIME ZONE 'UTC' AS at,
       sales
FROM dist_elog;

-- Two summaries agree when every count, day and duration is equal and the
-- money fields agree to 1e-12 relative: partial sums are added in another
-- order, as sum(float8) over the same nodes would be.
CREATE FUNCTION dist_same(a clv_summary, b clv_summary) RETURNS bool
LANGUAGE sql IMMUTABLE AS $$
  SELECT (a.frequency, a.recency, a.t, a.n_purchases, a.first_purchase, a.last_purchase,
          a.days_since_last, a.frequency_holdout, a.duration_holdout)
         IS NOT DISTINCT FROM
         (b.frequency, b.recency, b.t, b.n_purchases, b.first_purchase, b.last_purchase,
          b.days_since_last, b.frequency_holdout, b.duration_holdout)
     AND coalesce(abs(a.monetary_value - b.monetary_value) <= 1e-12 * abs(b.monetary_value),
                  a.monetary_value IS NULL AND b.monetary_value IS NULL)
     AND abs(a.total_amount - b.total_amount) <= 1e-12 * abs(b.total_amount)
     AND coalesce(abs(a.monetary_holdout - b.monetary_holdout) <= 1e-12 * abs(b.monetary_holdout),
                  a.monetary_holdout IS NULL AND b.monetary_holdout IS NULL)
$$;

-- The partial aggregate Citus's worker_partial_agg runs on each node: the
-- transition function without the final one.  The coordinator's
-- coord_combine_agg parses each state from text, combines, finalises.
CREATE AGGREGATE dist_partial(timestamptz, float8, timestamptz, timestamptz, text) (
	SFUNC = clv_summary_transfn, STYPE = clv_summary_state);
CREATE AGGREGATE dist_partial_date(date, float8, date, date, text) (
	SFUNC = clv_summary_date_transfn, STYPE = clv_summary_state);
CREATE AGGREGATE dist_combine(clv_summary_state) (
	SFUNC = clv_summary_combinefn, STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn);

-- Three "nodes": transactions are sharded by transaction id, not by
-- customer, so most customers' purchases are spread over several nodes.
CREATE TABLE dist_direct AS
SELECT cust, clv_summary(at, sales, '1997-09-30', '1998-06-30', 'week') AS s
FROM dist_tx GROUP BY cust;
CREATE TABLE dist_partials AS
SELECT id % 3 AS node, cust,
       dist_partial(at, sales, '1997-09-30', '1998-06-30', 'week')::text AS state
FROM dist_tx GROUP BY id % 3, cust;
SELECT count(DISTINCT cust) AS customers,
       count(*) FILTER (WHERE n > 1) AS spread_over_nodes
FROM (SELECT cust, count(*) AS n FROM dist_partials GROUP BY cust) s;

-- combined in node order and in the reverse order: both equal the direct result
CREATE TABLE dist_combined AS
SELECT cust, dist_combine(state::clv_summary_state ORDER BY node) AS s
FROM dist_partials GROUP BY cust;
CREATE TABLE dist_reversed AS
SELECT cust, dist_combine(state::clv_summary_state ORDER BY node DESC, md5(state)) AS s
FROM dist_partials GROUP BY cust;
SELECT (SELECT count(*) FROM dist_direct) AS customers,
       (SELECT count(*) FROM dist_direct d JOIN dist_combined c USING (cust)
        WHERE dist_same(d.s, c.s)) AS combined_equal,
       (SELECT count(*) FROM dist_direct d JOIN dist_reversed c USING (cust)
        WHERE dist_same(d.s, c.s)) AS reversed_equal;

-- The state through its binary form too (Citus 14 ships partial states by
-- send/recv): a round trip through COPY BINARY leaves every state's
-- summary exactly as it was (NULL for a node that saw only holdout days).
CREATE TABLE dist_binary (node bigint, cust int, state clv_summary_state);
\copy (SELECT node, cust, state::clv_summary_state FROM dist_partials) TO 'results/dist_states.bin' WITH (FORMAT binary)
\copy dist_binary FROM 'results/dist_states.bin' WITH (FORMAT binary)
SELECT count(*) AS states,
       count(*) FILTER (WHERE clv_summary_finalfn(b.state) IS NOT DISTINCT FROM
                              clv_summary_finalfn(p.state::clv_summary_state)) AS binary_round_trip
FROM dist_partials p JOIN dist_binary b USING (node, cust);

-- Time zones.  A node whose TimeZone differs cuts the days of a
-- timestamptz elsewhere, the end days included: a state made under
-- America/New_York does not combine with a UTC one (an error rather than
-- a silently different summary; the HINT names the date form).
SET TimeZone = 'America/New_York';
CREATE TABLE dist_partials_ny AS
SELECT id % 3 AS node, cust,
       dist_partial(at, sales, '1997-09-30 00:00+00', '1998-06-30 00:00+00', 'week')::text AS state
FROM dist_tx WHERE id % 3 = 1 GROUP BY id % 3, cust;
SET TimeZone = 'UTC';
SELECT count(s)
FROM (SELECT cust, dist_combine(state::clv_summary_state ORDER BY node) AS s
      FROM (SELECT node, cust, state FROM dist_partials WHERE node <> 1
            UNION ALL SELECT node, cust, state FROM dist_partials_ny) p
      GROUP BY cust) c;
-- and the days a New York node cuts differ from a UTC node's for most
-- customers: the reason the date form exists
SELECT count(*) AS customers,
       count(*) FILTER (WHERE clv_summary_finalfn(u.state::clv_summary_state) IS DISTINCT FROM
                              clv_summary_finalfn(n.state::clv_summary_state)) AS differ_from_utc
FROM dist_partials u JOIN dist_partials_ny n USING (node, cust);

-- The date form: the caller cuts the day in the zone it chooses, so every
-- node computes the same states under any TimeZone.
CREATE TABLE dist_direct_date AS
SELECT cust, clv_summary((at AT TIME ZONE 'Europe/Berlin')::date, sales,
                         '1997-09-30'::date, '1998-06-30'::date, 'week') AS s
FROM dist_tx GROUP BY cust;
SET TimeZone = 'America/New_York';
CREATE TABLE dist_partials_date AS
SELECT id % 3 AS node, cust,
       dist_partial_date((at AT TIME ZONE 'Europe/Berlin')::date, sales,
                         '1997-09-30', '1998-06-30', 'week')::text AS state
FROM dist_tx WHERE id % 3 = 1 GROUP BY id % 3, cust;
SET TimeZone = 'Asia/Tokyo';
INSERT INTO dist_partials_date
SELECT id % 3 AS node, cust,
       dist_partial_date((at AT TIME ZONE 'Europe/Berlin')::date, sales,
                         '1997-09-30', '1998-06-30', 'week')::text
FROM dist_tx WHERE id % 3 <> 1 GROUP BY id % 3, cust;
SET TimeZone = 'UTC';
SELECT (SELECT count(*) FROM dist_direct_date) AS customers,
       count(*) FILTER (WHERE dist_same(d.s, c.s)) AS equal_under_any_zone
FROM (SELECT cust, dist_combine(state::clv_summary_state ORDER BY node) AS s
      FROM dist_partials_date GROUP BY cust) c
JOIN dist_direct_date d USING (cust);
-- and equal to the timestamptz form run in Europe/Berlin
SET TimeZone = 'Europe/Berlin';
SELECT count(*) AS customers,
       count(*) FILTER (WHERE dist_same(d.s, t.s)) AS date_form_equals_timestamptz_form
FROM dist_direct_date d
JOIN (SELECT cust, clv_summary(at, sales, '1997-09-30', '1998-06-30', 'week') AS s
      FROM dist_tx GROUP BY cust) t USING (cust);
SET TimeZone = 'UTC';

-- The date forms without a split, and with a unit; the same as the
-- timestamptz forms on midnight timestamps.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE a = b) AS two_argument_form_equal,
       count(*) FILTER (WHERE c = e) AS unit_form_equal
FROM (SELECT cust,
             clv_summary(at::date, sales, '1998-06-30'::date)::text AS a,
             clv_summary(at::date::timestamptz, sales, '1998-06-30'::timestamptz)::text AS b,
             clv_summary(at::date, sales, '1998-06-30'::date, 'day')::text AS c,
             clv_summary(at::date::timestamptz, sales, '1998-06-30'::timestamptz, 'day')::text AS e
      FROM dist_tx GROUP BY cust) s;

-- Volatility as declared: a timestamptz transition depends on TimeZone,
-- the date transitions, the combine and the final function do not.
SELECT p.oid::regprocedure AS function, p.provolatile
FROM pg_proc p
WHERE p.proname IN ('clv_summary_transfn', 'clv_summary_date_transfn',
                    'clv_summary_combinefn', 'clv_summary_finalfn')
ORDER BY p.oid::regprocedure::text;
-- so an expression index may use the date form's result
CREATE TABLE dist_days (cust int, d date, amount float8);
INSERT INTO dist_days VALUES (1, '2024-01-01', 10), (1, '2024-02-01', 20);
SELECT (clv_summary(d, amount, '2024-03-01')).frequency FROM dist_days;

-- Bad input in the date form names the value.
SELECT clv_summary(d, amount, 'infinity'::date) FROM dist_days;
SELECT clv_summary(d, amount, NULL::date) FROM dist_days;
SELECT clv_summary('-infinity'::date, 1, '2024-03-01'::date) FROM dist_days;
SELECT clv_summary(d, amount, '2024-03-01'::date + cust * (d - '2024-01-01')) FROM dist_days;
SELECT clv_summary(d, amount, '2024-03-01'::date, '2024-02-01'::date, 'week') FROM dist_days;
SELECT clv_summary(d, 'NaN', '2024-03-01'::date) FROM dist_days;
SELECT clv_summary_date_transfn(NULL, '2024-01-01', 1.5, '2024-01-31');

DROP TABLE dist_binary, dist_elog, dist_tx, dist_direct, dist_partials, dist_combined, dist_reversed,
  dist_partials_ny, dist_direct_date, dist_partials_date, dist_days;
DROP AGGREGATE dist_partial(timestamptz, float8, timestamptz, timestamptz, text);
DROP AGGREGATE dist_partial_date(date, float8, date, date, text);
DROP AGGREGATE dist_combine(clv_summary_state);
DROP FUNCTION dist_same(clv_summary, clv_summary);
