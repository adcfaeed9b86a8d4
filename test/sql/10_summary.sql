-- clv_summary: the per-customer summary aggregate (API.md §1).
SET TimeZone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

-- The CDNOW sample and BTYD's reference customer-by-sufficient-statistic table.
CREATE TABLE summary_elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy summary_elog FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
CREATE TABLE summary_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy summary_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' CSV HEADER

CREATE TABLE summary_cdnow AS
SELECT sampleid AS cust,
       (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', 'week')).*
FROM summary_elog GROUP BY sampleid;

-- Every one of the 2,357 customers reproduces x, t.x, T.cal, x.star and m.x to 1e-9.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.frequency = c.x) AS x_equal,
       count(*) FILTER (WHERE abs(s.recency - c.t_x) < 1e-9) AS t_x_equal,
       count(*) FILTER (WHERE abs(s.t - c.t_cal) < 1e-9) AS t_cal_equal,
       count(*) FILTER (WHERE s.frequency_holdout = c.x_star) AS x_star_equal,
       count(*) FILTER (WHERE abs(coalesce(s.monetary_value, 0) - c.m_x) < 1e-9) AS m_x_equal,
       count(*) FILTER (WHERE (s.monetary_value IS NULL) = (c.x = 0)) AS m_x_null_iff_x0
FROM summary_cbs c JOIN summary_cdnow s USING (cust);

SELECT * FROM summary_cdnow WHERE cust IN (1, 2, 1000) ORDER BY cust;

-- The same without a split: observation_end only, the default unit (weeks).
SELECT (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30')).*
FROM summary_elog WHERE sampleid = 1;

-- Time units: the same customer in days, months and years.
SELECT unit, s.recency, s.t, s.duration_holdout
FROM unnest(ARRAY['day', 'week', 'month', 'year', 'WEEK']) AS unit,
LATERAL (SELECT (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', unit)).*
         FROM summary_elog WHERE sampleid = 1) s;

-- Input order does not matter: reversed and shuffled orders give the same
-- result (money up to the rounding of float8 addition within a day).
WITH a AS (
  SELECT sampleid, (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', 'week'
                                ORDER BY date DESC, sales)).*
  FROM summary_elog GROUP BY sampleid),
b AS (
  SELECT sampleid, (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', 'week'
                                ORDER BY md5(date::text || sales::text))).*
  FROM summary_elog GROUP BY sampleid)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE (a.frequency, a.recency, a.t, a.n_purchases, a.first_purchase, a.last_purchase,
                               a.days_since_last, a.frequency_holdout, a.duration_holdout)
                              = (b.frequency, b.recency, b.t, b.n_purchases, b.first_purchase, b.last_purchase,
                                 b.days_since_last, b.frequency_holdout, b.duration_holdout)
                          AND abs(a.total_amount - b.total_amount) < 1e-9
                          AND coalesce(abs(a.monetary_value - b.monetary_value), 0) < 1e-9
                          AND (a.monetary_value IS NULL) = (b.monetary_value IS NULL)
                          AND coalesce(abs(a.monetary_holdout - b.monetary_holdout), 0) < 1e-9) AS equal
FROM a JOIN b USING (sampleid);

-- Grocery data (no amounts) against an independent plain-SQL computation.
CREATE TABLE summary_grocery (cust int, date date);
\copy summary_grocery FROM 'data/BTYDplus_groceryElog.csv' CSV HEADER
WITH days AS (SELECT DISTINCT cust, date FROM summary_grocery WHERE date <= '2006-12-31'),
plain AS (
  SELECT cust, count(*) - 1 AS frequency, (max(date) - min(date)) / 7.0 AS recency,
         ('2006-12-31'::date - min(date)) / 7.0 AS t
  FROM days GROUP BY cust),
ours AS (
  SELECT cust, (clv_summary(date, NULL, '2006-12-31')).* FROM summary_grocery GROUP BY cust)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE o.frequency = p.frequency AND abs(o.recency - p.recency) < 1e-12
                          AND abs(o.t - p.t) < 1e-12) AS equal,
       count(*) FILTER (WHERE o.cust IS NULL) AS missing
FROM plain p LEFT JOIN ours o USING (cust);
-- customers acquired after the observation end yield NULL
SELECT count(*) AS after_end FROM (
  SELECT cust, clv_summary(date, NULL, '2006-12-31') AS s FROM summary_grocery GROUP BY cust) x
WHERE s IS NULL;

-- CLVTools apparel data, with a holdout, against plain SQL (money included).
CREATE TABLE summary_apparel (id int, date date, price float8);
\copy summary_apparel FROM 'data/CLVTools_apparelTrans.csv' CSV HEADER
WITH days AS (SELECT id, date, sum(price) AS amount FROM summary_apparel GROUP BY id, date),
firsts AS (SELECT id, min(date) AS first FROM days GROUP BY id),
plain AS (
  SELECT d.id,
         count(*) FILTER (WHERE d.date <= '2005-12-31') - 1 AS frequency,
         (max(d.date) FILTER (WHERE d.date <= '2005-12-31') - f.first) / 30.4375 AS recency,
         ('2005-12-31'::date - f.first) / 30.4375 AS t,
         avg(d.amount) FILTER (WHERE d.date <= '2005-12-31' AND d.date > f.first) AS monetary_value,
         sum(d.amount) FILTER (WHERE d.date <= '2005-12-31') AS total_amount,
         count(*) FILTER (WHERE d.date > '2005-12-31' AND d.date <= '2006-06-30') AS frequency_holdout,
         avg(d.amount) FILTER (WHERE d.date > '2005-12-31' AND d.date <= '2006-06-30') AS monetary_holdout
  FROM days d JOIN firsts f USING (id)
  WHERE f.first <= '2005-12-31'
  GROUP BY d.id, f.first),
ours AS (
  SELECT id, (clv_summary(date, price, '2005-12-31', '2006-06-30', 'month')).*
  FROM summary_apparel GROUP BY id)
SELECT count(*) AS customers,
       count(*) FILTER (WHERE o.frequency = p.frequency
                          AND abs(o.recency - p.recency) < 1e-12
                          AND abs(o.t - p.t) < 1e-12
                          AND o.monetary_value IS NOT DISTINCT FROM p.monetary_value
                             OR abs(o.monetary_value - p.monetary_value) < 1e-9) AS rfm_equal,
       count(*) FILTER (WHERE abs(o.total_amount - p.total_amount) < 1e-9) AS total_equal,
       count(*) FILTER (WHERE o.frequency_holdout = p.frequency_holdout
                          AND (o.monetary_holdout IS NOT DISTINCT FROM p.monetary_holdout
                               OR abs(o.monetary_holdout - p.monetary_holdout) < 1e-9)) AS holdout_equal
FROM plain p LEFT JOIN ours o USING (id);

-- Input rules, on a small hand-made history.
CREATE TABLE summary_rules (cust int, at timestamptz, amount float8);
INSERT INTO summary_rules VALUES
  (1, '2020-01-01 09:00+00', 10), (1, '2020-01-01 18:00+00', 5),    -- same day: one purchase of 15
  (1, '2020-01-08 10:00+00', 20),
  (1, '2020-01-15 10:00+00', -20),                                    -- refund-only day: not a purchase
  (1, '2020-01-22 10:00+00', 30), (1, '2020-01-22 11:00+00', -10),   -- netted: a purchase of 20
  (1, NULL, 99),                                                      -- no time: ignored
  (1, '2020-01-29 10:00+00', NULL),                                   -- no amount: a purchase of 0
  (1, '2020-03-01 10:00+00', 1000),                                   -- after observation_end: ignored
  (2, '2020-02-15 10:00+00', 50);                                     -- acquired after the end: NULL
SELECT cust, (clv_summary(at, amount, '2020-01-31', 'day')).* FROM summary_rules GROUP BY cust ORDER BY cust;

-- A purchase day needs a net amount >= 0: a day whose refunds exceed its
-- purchases is a net refund (not a purchase day, its money still in
-- total_amount), so monetary_value is never negative; a $0 day is a
-- purchase day (monetary_value 0, as BTYD's CDNOW summary has it).  The
-- same holds in the holdout.
CREATE TABLE summary_net (cust int, at timestamptz, amount float8);
INSERT INTO summary_net VALUES
  (3, '2020-01-02 10:00+00', 40),
  (3, '2020-01-10 10:00+00', 10), (3, '2020-01-10 12:00+00', -15),  -- net -5: not a purchase
  (3, '2020-01-20 10:00+00', 0),                                      -- $0: a purchase of 0
  (4, '2020-01-02 10:00+00', 40),
  (4, '2020-01-10 10:00+00', -15), (4, '2020-01-10 12:00+00', 10);  -- the same, rows reversed
SELECT cust, (clv_summary(at, amount, '2020-01-31', 'day')).* FROM summary_net GROUP BY cust ORDER BY cust;
SELECT cust, (clv_summary(at, amount, '2020-01-05', '2020-01-31', 'day')).* FROM summary_net GROUP BY cust ORDER BY cust;
DROP TABLE summary_net;

-- Days follow the session's time zone: 23:30 UTC is the next day in Berlin.
SET TimeZone = 'Europe/Berlin';
SELECT (clv_summary(at, amount, '2020-01-31', 'day')).first_purchase
FROM (VALUES ('2019-12-31 23:30+00'::timestamptz, 1.0)) v(at, amount);
SET TimeZone = 'UTC';

-- As a window function: a running summary per order (the final function runs
-- on a state that keeps growing; same-day rows merge as they arrive).
SELECT d, (clv_summary(d, a, '2020-12-31', 'day') OVER w).frequency,
       (clv_summary(d, a, '2020-12-31', 'day') OVER w).monetary_value
FROM (VALUES ('2020-01-05'::date, 5.0), ('2020-01-01', 1), ('2020-01-03', 3),
             ('2020-01-03', 4), ('2020-01-02', 2)) v(d, a)
WINDOW w AS (ORDER BY d, a ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

-- Bad input: each a clear error naming the value.
SELECT clv_summary(at, amount, '2020-01-31', 'fortnight') FROM summary_rules;
SELECT clv_summary(at, 'NaN', '2020-01-31') FROM summary_rules;
SELECT clv_summary(at, '-Infinity', '2020-01-31') FROM summary_rules;
SELECT clv_summary(at, amount, '2020-06-30', '2020-01-31', 'day') FROM summary_rules;
SELECT clv_summary(at, amount, NULL) FROM summary_rules;
SELECT clv_summary(at, amount, 'infinity') FROM summary_rules;
SELECT clv_summary('infinity', 1, '2020-01-31') FROM summary_rules;
SELECT clv_summary(at, amount, '2020-01-01'::timestamptz + cust * interval '1 day') FROM summary_rules;
SELECT clv_summary(at, 1e308, '2020-01-31') FROM summary_rules WHERE cust = 1;

-- The state type round-trips through its text form (Citus ships it as text).
SELECT clv_summary_transfn(NULL, '2020-01-01', 1.5, '2020-01-31')::text;
SELECT 'v1 week 0 259200000000 259200000000 3 3 2 3:1:2.5 1:0:-1'::clv_summary_state::text;
SELECT 'v1 week 0 100 200 0 0 2 3:1:2.5'::clv_summary_state;
SELECT 'v2 week 0 100 200 0 0 0'::clv_summary_state;
SELECT (clv_summary_finalfn('v1 day 0 864000000000 864000000000 10 10 2 3:1:2.5 1:1:4'::clv_summary_state)).*;

-- The final function never writes on its argument.  A stored state of more
-- than 126 bytes is read straight from the shared buffer page: finalising
-- its unsorted days in a READ ONLY transaction must leave the row as it was.
CREATE AGGREGATE summary_state_only(timestamptz, float8, timestamptz) (
	SFUNC = clv_summary_transfn, STYPE = clv_summary_state);
CREATE TABLE summary_stored AS
SELECT summary_state_only('2024-01-01'::timestamptz + ((g * 37) % 100) * interval '1 day', g, '2024-12-31') AS s
FROM generate_series(1, 20) g;
SELECT pg_column_size(s) > 126 AS big, md5(s::text) AS before FROM summary_stored \gset
SELECT :'big';
BEGIN READ ONLY;
SELECT (clv_summary_finalfn(s)).frequency, (clv_summary_finalfn(s)).first_purchase FROM summary_stored;
COMMIT;
SELECT md5(s::text) = :'before' AS unchanged FROM summary_stored;
-- declared as such, which also keeps the aggregate usable as a window function
SELECT aggfnoid::regprocedure, aggfinalmodify FROM pg_aggregate
WHERE aggfinalfn = 'clv_summary_finalfn'::regproc ORDER BY 1::text;
DROP TABLE summary_stored;
DROP AGGREGATE summary_state_only(timestamptz, float8, timestamptz);

-- State input is parsed and range-checked before anything is allocated:
-- a 26-byte literal claiming 67 million days is refused at once (it used to
-- allocate 1 GB first), as is one claiming more than any state can hold.
SELECT 'v1 week 0 0 0 0 0 67108000'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 2000000000'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 -1'::clv_summary_state;
-- every field is range-checked, naming the field and the value
SELECT 'v1 fortnight 0 0 0 0 0 0'::clv_summary_state;
SELECT 'v1 week 2 0 0 0 0 0'::clv_summary_state;
SELECT 'v1 week 0 9223372036854775807 9223372036854775807 0 0 0'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 99999999999999999999'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 2147483647 0'::clv_summary_state;
SELECT 'v1 week 1 86400000000 0 1 0 0'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 1 1:1:5'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 1 0:2:5'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 1 0:1:nan'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 1 0:1:1e400'::clv_summary_state;
SELECT 'v1 week 0 0 0 0 0 1 0:1:5 extra'::clv_summary_state;
-- crafted days used to overflow int32 day arithmetic: a '-infinity' first
-- purchase (day -2^31) or an end day near 2^31 gave a negative t
SELECT (clv_summary_finalfn('v1 day 0 0 0 0 0 1 -2147483648:1:1'::clv_summary_state)).t;
SELECT (clv_summary_finalfn('v1 day 0 9223371331199999999 9223371331199999999 2147483647 2147483647 1 -2000000:1:1'::clv_summary_state)).t;
-- the widest valid span: first purchase in 4714 BC, end in 294276 AD
SELECT (clv_summary_finalfn('v1 day 0 9223371331199999999 9223371331199999999 106751982 106751982 2 -2451545:1:1 106751982:1:1'::clv_summary_state)).*;
-- sums of finite amounts that overflow float8 are 22003, not Infinity
SELECT (clv_summary_finalfn('v1 day 0 86400000000 86400000000 1 1 2 0:1:1e308 1:1:1e308'::clv_summary_state)).total_amount;
-- (a refund day between the purchases keeps total_amount finite)
SELECT (clv_summary_finalfn('v1 day 0 86400000000 86400000000 1 1 4 -3:1:1 -2:1:1e308 -1:0:-1e308 0:1:1e308'::clv_summary_state)).monetary_value;

DROP TABLE summary_elog, summary_cbs, summary_cdnow, summary_grocery, summary_apparel, summary_rules;
