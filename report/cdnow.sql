-- The report's default data (make report): BTYD's CDNOW sample, 2,357
-- customers of the first quarter of 1997, orders to 1998-06-30.  Run from the
-- repository root (the \copy path is relative to it).
SET client_min_messages = warning;

CREATE TEMP TABLE cdnow_elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy cdnow_elog FROM 'data/BTYD_cdnowElog.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE cdnow_transactions AS
SELECT masterid AS customer_id, to_date(date::text, 'YYYYMMDD') AS purchased_at, sales AS amount
FROM cdnow_elog;

-- calibration 1997-01-01..1997-09-30, holdout to 1998-06-30 (39 + 39 weeks)
CREATE TABLE cdnow_customers AS
SELECT customer_id, (s).*
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week') AS s
	  FROM cdnow_transactions GROUP BY customer_id) q;

-- everything up to 1998-06-30, for the forward-looking CLV
CREATE TABLE cdnow_customers_all AS
SELECT customer_id, (s).*
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '1998-06-30', 'week') AS s
	  FROM cdnow_transactions GROUP BY customer_id) q;

SELECT name, version, converged FROM clv_train('cdnow', 'cdnow_customers', 'bgnbd', 'gamma_gamma');
SELECT name, version, converged FROM clv_train('cdnow_pnbd', 'cdnow_customers', 'pareto_nbd', 'gamma_gamma');
SELECT name, version, converged FROM clv_train('cdnow_all', 'cdnow_customers_all', 'bgnbd', 'gamma_gamma');

-- four K-Means segments as in demo/30_kmeans.sql, on the 78-week summary
SELECT name, version, params->'sizes' AS sizes
FROM clv_kmeans_train('cdnow_segments', 'cdnow_customers_all',
					  ARRAY['days_since_last', 'n_purchases', 'total_amount'], 4,
					  '{"scaling": "log_zscore", "seed": 1}');
