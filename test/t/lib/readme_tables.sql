-- The tables README.md's examples name, built from the bundled data (@ROOT@ is
-- the checkout): orders (raw CDNOW orders), cdnow_elog (BTYD's event log as
-- is), rf_matrix (the donations recency/frequency matrix), apparel_orders
-- (CLVTools' apparel orders) and apparel_customers (their static covariates).
-- Read by test/t/070_readme_sql.pl and test/bench/regressor.sh.
CREATE TABLE cdnow_elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy cdnow_elog FROM '@ROOT@/data/BTYD_cdnowElog.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE orders AS
SELECT sampleid AS customer_id, to_date(date::text, 'YYYYMMDD')::timestamptz AS purchased_at,
	   sales AS amount
FROM cdnow_elog;
CREATE TABLE rf_matrix (x int, t_x int, n_cal int, custs int, x_star int);
\copy rf_matrix FROM '@ROOT@/data/BTYD_donationsSummary_rf_matrix.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE apparel_orders (customer_id int, purchased_at date, amount float8);
\copy apparel_orders FROM '@ROOT@/data/CLVTools_apparelTrans.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE apparel_customers (customer_id int, gender int, channel int);
\copy apparel_customers FROM '@ROOT@/data/CLVTools_apparelStaticCov.csv' WITH (FORMAT csv, HEADER true)
