-- The report's apparel example (make report-apparel): CLVTools' apparel
-- retailer, 600 customers all acquired in the first weeks of 2005, purchases
-- to 2010-12-20.  Also a template for an analyst's own --load file: load the
-- transactions, build the calibration/holdout summary, train the models the
-- report compares and the K-Means segments it names.
-- Run from the repository root (the \copy path is relative to it).
SET client_min_messages = warning;

CREATE TABLE apparel_transactions (customer_id int, purchased_at date, amount float8);
\copy apparel_transactions FROM 'data/CLVTools_apparelTrans.csv' WITH (FORMAT csv, HEADER true)

-- calibration 2005-01-01..2007-12-31 (3 years), holdout 2008-01-01..2010-12-31, weeks
CREATE TABLE apparel_customers AS
SELECT customer_id, (s).*
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '2007-12-31', '2010-12-31', 'week') AS s
	  FROM apparel_transactions GROUP BY customer_id) q;

-- the same customers seen up to 2010-12-31, for the forward-looking CLV
CREATE TABLE apparel_customers_all AS
SELECT customer_id, (s).*
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '2010-12-31', 'week') AS s
	  FROM apparel_transactions GROUP BY customer_id) q;

-- three purchase models on the calibration period, each with Gamma-Gamma
SELECT name, version, converged FROM clv_train('apparel', 'apparel_customers', 'bgnbd', 'gamma_gamma');
SELECT name, version, converged FROM clv_train('apparel_mbgnbd', 'apparel_customers', 'mbgnbd', 'gamma_gamma');
SELECT name, version, converged FROM clv_train('apparel_pnbd', 'apparel_customers', 'pareto_nbd', 'gamma_gamma');
-- the forward-looking model (Pareto/NBD: it lets one-time buyers drop out) on all six years
SELECT name, version, converged FROM clv_train('apparel_all', 'apparel_customers_all', 'pareto_nbd', 'gamma_gamma');

-- four K-Means segments on the six-year summary; the report names them with clv_kmeans_profile
SELECT name, version, params->'sizes' AS sizes
FROM clv_kmeans_train('apparel_segments', 'apparel_customers_all',
					  ARRAY['days_since_last', 'n_purchases', 'total_amount'], 4,
					  '{"scaling": "log_zscore", "seed": 1}');
