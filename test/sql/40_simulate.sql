-- clv_simulate / clv_simulate_transactions: shape of the output and bad input.
-- (The statistics are checked in test/oracle/validation_simulate.py.)
SELECT customer_id, round(purchased_at::numeric, 6) AS purchased_at, round(amount::numeric, 4) AS amount
FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":4,"gamma":15}', 4, 52, 1);
-- Fingerprints of larger outputs, recorded when every call was materialised:
-- the row-at-a-time functions must give the very same rows (float8 output
-- is shortest-exact, so md5 compares the values bit for bit).
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
SET extra_float_digits = 1;
SELECT m, count(*) AS n_rows, md5(string_agg(concat_ws(',', customer_id, purchased_at, amount), ';' ORDER BY ord)) AS fingerprint
FROM (VALUES
	('bgnbd', '{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":4,"gamma":15}'::jsonb),
	('mbgnbd', '{"transaction_model":"mbgnbd","r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":4,"gamma":15}'),
	('pareto_nbd', '{"r":0.5,"alpha":10,"s":0.6,"beta":12,"p":6,"q":4,"gamma":15}'),
	('bgbb', '{"alpha":1.2,"beta":0.75,"gamma":0.66,"delta":2.78}')) v(m, params),
	LATERAL (SELECT *, row_number() OVER () AS ord FROM clv_simulate(params, 3000, 52, 7)) s
GROUP BY m ORDER BY m;
SELECT count(*) AS n_rows, md5(string_agg(concat_ws(',', customer_id, purchased_at, amount), ';' ORDER BY ord)) AS fingerprint
FROM (SELECT *, row_number() OVER () AS ord
	  FROM clv_simulate_transactions('{"r":0.5,"alpha":4,"s":0.6,"beta":11,"p":6,"q":4,"gamma":15}', 3000, '2020-01-01', 30, 52, 'week', 11)) s;
RESET TimeZone;
RESET DateStyle;
RESET extra_float_digits;
-- Rows are drawn as they are asked for: a LIMIT stops the drawing, so the
-- largest n_customers returns its first rows at once (when every row was
-- made before the first was returned, this ran for hours; the timeout only
-- turns such a regression into a failure instead of a hang).  The plan
-- shows why: the SQL function is inlined and the C function runs in a
-- ProjectSet, not in a Function Scan that collects every row first.
EXPLAIN (COSTS OFF)
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 2147483647, 52, 1) LIMIT 5;
SET statement_timeout = '60s';
SELECT customer_id, round(purchased_at::numeric, 6) AS purchased_at, round(amount::numeric, 4) AS amount
FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":4,"gamma":15}', 2147483647, 52, 1) LIMIT 5;
SELECT count(*) FROM (SELECT * FROM clv_simulate_transactions('{"r":0.5,"alpha":4,"s":0.6,"beta":11}',
	2147483647, '2020-01-01', 30, 52) LIMIT 5) s;
RESET statement_timeout;
-- NULL arguments give no rows (the functions behave as STRICT ones)
SELECT count(*) FROM clv_simulate(NULL, 3, 52);
SELECT count(*) FROM clv_simulate_transactions('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, NULL, 10, 52);
-- transaction model named explicitly; no spend model: amount is NULL
SELECT count(*) > 0 AS has_rows, count(amount) AS amounts, bool_and(purchased_at <= 26) AS within_horizon
FROM clv_simulate('{"transaction_model":"mbgnbd","r":0.25,"alpha":4,"a":0.8,"b":2.5}', 100, 26);
-- the output of clv_fit ({"params": {...}}) is accepted as it is
SELECT count(*) FROM clv_simulate('{"params":{"r":0.5,"alpha":10,"s":0.6,"beta":12}}', 10, 10, 3)
WHERE purchased_at = 0;
-- BG/BB purchases at whole opportunities
SELECT bool_and(purchased_at = floor(purchased_at)) AS whole, max(purchased_at) <= 6 AS within
FROM clv_simulate('{"alpha":1.2,"beta":0.75,"gamma":0.66,"delta":2.78}', 200, 6);
-- n_customers = 0 is empty
SELECT count(*) FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 0, 52);
-- timestamps: acquisitions within 30 days of start, nothing after start + 52 weeks
SET TimeZone = 'UTC';
SELECT count(DISTINCT customer_id) AS customers,
       min(purchased_at) >= '2020-01-01' AS after_start,
       max(first) < '2020-01-31' AS acquired_in_30_days,
       max(purchased_at) <= '2020-01-01'::timestamptz + interval '364 days' AS before_end
FROM (SELECT *, min(purchased_at) OVER (PARTITION BY customer_id) AS first
      FROM clv_simulate_transactions('{"r":0.5,"alpha":4,"s":0.6,"beta":11}', 500, '2020-01-01', 30, 52)) s;
RESET TimeZone;
-- bad input
SELECT * FROM clv_simulate('{"r":0.25,"alpha":-4,"a":0.8,"b":2.5}', 3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":"x","b":2.5}', 3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8}', 3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', -3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, -52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, 'infinity');
SELECT * FROM clv_simulate('{"transaction_model":"foo","r":1}', 3, 52);
SELECT * FROM clv_simulate('{"x":1}', 3, 52);
SELECT * FROM clv_simulate('[1,2]', 3, 52);
SELECT * FROM clv_simulate('{"p":6,"q":4,"gamma":15}', 3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"spend_model":"lognormal"}', 3, 52);
SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":0,"gamma":15}', 3, 52);
SELECT * FROM clv_simulate('{"transaction_model":"bgbb","alpha":1,"beta":1,"gamma":1,"delta":1,"spend_model":"gamma_gamma"}', 3, 52);
SELECT * FROM clv_simulate_transactions('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, '2020-01-01', 400, 52);
SELECT * FROM clv_simulate_transactions('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, '2020-01-01', -1, 52);
SELECT * FROM clv_simulate_transactions('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, '2020-01-01', 10, 52, 'fortnight');
SELECT * FROM clv_simulate_transactions('{"r":0.25,"alpha":4,"a":0.8,"b":2.5}', 3, 'infinity', 10, 52);
-- a spend rate that underflows to 0 (q near 0) made every amount Infinity
SELECT * FROM clv_simulate('{"r":0.243,"alpha":4.414,"a":0.793,"b":2.426,"p":6.25,"q":3.7e-6,"gamma":15.44}', 10, 52);
