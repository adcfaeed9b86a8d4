-- Validation functions: bad input gives clear errors.
-- (Values are checked against BTYD and an oracle in test/oracle/validation_cdnow.py.)
\set SHOW_CONTEXT never
CREATE TABLE val_cal (frequency float8, recency float8, t float8);
INSERT INTO val_cal VALUES (0, 0, 10), (2, 5, 10);
CREATE TABLE val_tx (customer_id int, purchased_at date);
INSERT INTO val_tx VALUES (1, '2024-01-01'), (1, '2024-01-01'), (1, '2024-01-20'), (2, '2024-01-03'), (3, '2024-03-01');
-- a summary without the holdout fields
SELECT * FROM clv_calibration_holdout('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'val_cal');
SELECT * FROM clv_holdout_metrics('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'SELECT frequency, recency, t FROM val_cal');
-- a missing source
SELECT * FROM clv_holdout_metrics('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'val_no_such_table');
SELECT * FROM clv_calibration_holdout('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'val_cal', -1);
-- unknown model names; a params literal without ::jsonb is taken as params
SELECT * FROM clv_calibration_holdout('val_no_such_model', 'val_cal');
SELECT * FROM clv_p_alive_matrix('val_no_such_model', 10);
SELECT * FROM clv_tracking('val_no_such_model', 'val_tx', '2024-01-31', '2024-03-31');
SELECT frequency, recency, round(value::numeric, 6) AS p_alive FROM clv_p_alive_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}', 10, 1, 1);
INSERT INTO clv_models (name, version, kind, params) VALUES ('val_segments', 1, 'kmeans', '{}');
SELECT * FROM clv_p_alive_matrix('val_segments', 10);
DELETE FROM clv_models WHERE name = 'val_segments';
-- tracking: bad time unit, end before calibration end, missing column
SELECT * FROM clv_tracking('{"r":0.55,"alpha":10.6,"s":0.61,"beta":11.7}'::jsonb, 'val_tx', '2024-01-31', '2024-03-31', 'fortnight');
SELECT * FROM clv_tracking('{"r":0.55,"alpha":10.6,"s":0.61,"beta":11.7}'::jsonb, 'val_tx', '2024-01-31', '2024-01-01');
SELECT * FROM clv_tracking('{"r":0.55,"alpha":10.6,"s":0.61,"beta":11.7}'::jsonb, 'SELECT customer_id FROM val_tx', '2024-01-31', '2024-03-31');
-- tracking of a tiny log: customer 3 is acquired after the calibration end
-- (not in the cohort); customer 1's two purchases on 2024-01-01 are one
SELECT period, period_start, calibration, actual, cumulative_actual,
	   round(cumulative_expected::numeric, 4) AS cumulative_expected
FROM clv_tracking('{"r":0.55,"alpha":10.6,"s":0.61,"beta":11.7}'::jsonb, 'val_tx', '2024-01-31', '2024-02-14');
-- matrices: bad grid, negative horizon
SELECT * FROM clv_p_alive_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 0);
SELECT * FROM clv_p_alive_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 10, -1);
SELECT * FROM clv_p_alive_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 10, 5, 0);
SELECT count(*) FROM clv_expected_purchases_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 10, -4);
SELECT frequency, recency, round(value::numeric, 6) AS p_alive
FROM clv_p_alive_matrix('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 10, 2, 2);
-- the functions with an EXCEPTION block (a subtransaction) are PARALLEL
-- UNSAFE, so they work under force_parallel_mode (25000 before)
CREATE TABLE val_hold AS
SELECT 2::float8 AS frequency, 5::float8 AS recency, 10::float8 AS t,
	   1::float8 AS frequency_holdout, 4::float8 AS duration_holdout;
SET force_parallel_mode = on;
SELECT n_customers, total_actual FROM clv_holdout_metrics('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'val_hold');
SELECT frequency, n_customers FROM clv_calibration_holdout('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'val_hold');
SELECT count(*) FROM clv_tracking('{"r":0.55,"alpha":10.6,"s":0.61,"beta":11.7}'::jsonb, 'val_tx', '2024-01-31', '2024-02-14');
SELECT count(*) FROM clv_holdout_predictions('{"r":0.24,"alpha":4.4,"a":0.79,"b":2.4}'::jsonb, 'SELECT * FROM val_hold');
RESET force_parallel_mode;
DROP TABLE val_cal, val_tx, val_hold;
