-- clv demo, part 3: customer segmentation with K-Means.
-- Uses cdnow_customers (demo/10_summary.sql: one row per customer, calibration
-- period to 1997-09-30).  Features: days since the last purchase, number of
-- purchase days and total spend; all three are skewed, so they are scaled by
-- log_zscore (z-scores of ln(1 + x)).
\pset footer off
\set VERBOSITY terse

\echo
\echo '=== Choosing k: inertia (elbow) and mean silhouette per k (clv_kmeans_scan) ==='
SELECT k, round(inertia::numeric, 1) AS inertia, round(silhouette::numeric, 3) AS silhouette
FROM clv_kmeans_scan('cdnow_customers', ARRAY['days_since_last', 'n_purchases', 'total_amount'],
					 2, 7, '{"scaling": "log_zscore", "seed": 1}');

\echo
\echo '=== Training 4 segments (10 restarts, seed 1); the model is stored in clv_models ==='
SELECT name, version, kind, n_customers, converged, iterations,
	   params->'sizes' AS sizes, round((params->>'inertia')::numeric, 1) AS inertia
FROM clv_kmeans_train('cdnow_segments', 'cdnow_customers',
					  ARRAY['days_since_last', 'n_purchases', 'total_amount'], 4,
					  '{"scaling": "log_zscore", "seed": 1}');

\echo
\echo '=== Segment profiles: size, mean features (original units), share of revenue, name ==='
SELECT cluster, label AS segment, size AS customers,
	   round(100 * share::numeric, 1) AS "% customers",
	   round(100 * value_share::numeric, 1) AS "% revenue",
	   round((means->>'days_since_last')::numeric) AS days_since_last,
	   round((means->>'n_purchases')::numeric, 2) AS purchases,
	   round((means->>'total_amount')::numeric, 2) AS spend
FROM clv_kmeans_profile('cdnow_segments', 'cdnow_customers', 'total_amount');

\echo
\echo '=== Scoring in a view: each customer''s segment, and what it did in the holdout period ==='
CREATE VIEW cdnow_customer_segments AS
SELECT c.*, clv_cluster('cdnow_segments', ARRAY[days_since_last, n_purchases, total_amount]) AS segment
FROM cdnow_customers c;
SELECT segment, count(*) AS customers,
	   round(avg(frequency_holdout), 2) AS holdout_purchases_per_customer,
	   round(100.0 * count(*) FILTER (WHERE frequency_holdout > 0) / count(*), 1) AS "% active in holdout"
FROM cdnow_customer_segments GROUP BY segment ORDER BY segment;
