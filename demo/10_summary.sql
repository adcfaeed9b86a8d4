-- clv demo, part 1: from raw CDNOW orders to customer summaries and RFM segments.
\pset footer off
\echo
\echo '=== Loading the CDNOW sample (2,357 customers who first bought in Q1 1997) ==='
CREATE TABLE cdnow_transactions (customer_id int, purchased_at date, cds int, amount float8);
CREATE TEMP TABLE cdnow_raw (masterid int, sampleid int, date int, cds int, sales float8);
\copy cdnow_raw FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
INSERT INTO cdnow_transactions
SELECT sampleid, to_date(date::text, 'YYYYMMDD'), cds, sales FROM cdnow_raw;
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers,
       min(purchased_at) AS first_order, max(purchased_at) AS last_order
FROM cdnow_transactions;

\echo
\echo '=== clv_summary: one row per customer (calibration to 1997-09-30, holdout to 1998-06-30, weeks) ==='
CREATE TABLE cdnow_customers AS
SELECT customer_id,
       (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).*
FROM cdnow_transactions
GROUP BY customer_id;
SELECT customer_id, frequency, round(recency::numeric, 2) AS recency, round(t::numeric, 2) AS t,
       round(monetary_value::numeric, 2) AS monetary_value, days_since_last, frequency_holdout
FROM cdnow_customers ORDER BY customer_id LIMIT 5;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE frequency > 0) AS repeat_buyers,
       round(avg(frequency), 3) AS mean_frequency,
       sum(frequency_holdout) AS holdout_purchases
FROM cdnow_customers;

\echo
\echo '=== RFM segments (quintile scores with ntile(5), named by clv_rfm_segment) ==='
SELECT clv_rfm_segment(r, f, m) AS segment, count(*) AS customers,
       round(avg(total_amount)::numeric, 2) AS avg_spend,
       round(avg(days_since_last)) AS avg_days_since_last
FROM (SELECT total_amount, days_since_last,
             ntile(5) OVER (ORDER BY days_since_last DESC, customer_id) AS r,
             ntile(5) OVER (ORDER BY n_purchases, customer_id) AS f,
             ntile(5) OVER (ORDER BY total_amount, customer_id) AS m
      FROM cdnow_customers) scored
GROUP BY 1 ORDER BY 2 DESC;
