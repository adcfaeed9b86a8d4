-- clv_segment_economics and clv_acquisition_value: every figure against an
-- independent computation in plain SQL over clv_predict (points, shares,
-- status, spend ceiling) and clv_predict_interval_total (the intervals of
-- one set of draws); bad input.  (tests/oracle/segment_economics.py checks
-- the intervals against draws made in Python.)
\set SHOW_CONTEXT never
CREATE TABLE seg_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy seg_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
-- a text segment with NULLs, an integer one with a mixed-case name
CREATE TABLE seg_cdnow AS
	SELECT cust, x AS frequency, t_x AS recency, t_cal AS t,
		   CASE WHEN x > 0 THEN m_x END AS monetary_value,
		   CASE WHEN cust % 11 = 0 THEN NULL WHEN cust % 3 = 0 THEN 'north'
				WHEN cust % 3 = 1 THEN 'south' ELSE 'west' END AS region,
		   least(x, 3) AS "Cluster"
	FROM seg_cbs;
SELECT name FROM clv_train('seg_m', 'seg_cdnow');
SELECT name FROM clv_train('seg_pnbd', 'seg_cdnow', 'pareto_nbd', 'gamma_gamma');
SELECT name FROM clv_train('seg_nospend', 'seg_cdnow', 'pareto_nbd', NULL);

-- the segment table of the README's example shape: 39 weeks, 1 %/week
-- discount, 40 % margin, 3:1
CREATE TEMP TABLE seg_out AS
	SELECT row_number() OVER () AS ord, e.*
	FROM clv_segment_economics('seg_pnbd', 'seg_cdnow', 'region', 39, 0.01, 0.4, 3,
							   '{"n_draws": 60, "seed": 3, "test_budget": 250}') e;
SELECT ord, segment, customers, status, spend_basis, test_budget FROM seg_out ORDER BY ord;

-- the independent figures: plain SQL over clv_predict (margin 1: revenue)
CREATE TEMP TABLE seg_ref AS
	SELECT c.region AS segment, count(*) AS n, sum((p).clv) AS clv, avg((p).p_alive) AS p_alive,
		   sum((p).expected_purchases) AS ep
	FROM seg_cdnow c,
		 LATERAL clv_predict('seg_pnbd', c.frequency, c.recency, c.t, c.monetary_value, 39, 0.01, 1) p
	GROUP BY c.region;
SELECT count(*) AS segments,
	   bool_and(o.customers = r.n) AS customers,
	   bool_and(abs(o.customer_share - r.n::float8 / (SELECT sum(n) FROM seg_ref)) < 1e-12) AS customer_share,
	   bool_and(abs(o.total_clv - r.clv) <= 1e-9 * r.clv) AS total_clv,
	   bool_and(abs(o.mean_clv - r.clv / r.n) <= 1e-9 * r.clv / r.n) AS mean_clv,
	   bool_and(abs(o.value_share - r.clv / (SELECT sum(clv) FROM seg_ref)) < 1e-12) AS value_share,
	   bool_and(abs(o.mean_p_alive - r.p_alive) < 1e-12) AS mean_p_alive,
	   bool_and(abs(o.expected_purchases - r.ep) <= 1e-9 * r.ep) AS expected_purchases,
	   bool_and(o.status = CASE WHEN r.p_alive >= 0.5 THEN 'active' WHEN r.p_alive < 0.2 THEN 'lapsed'
							   ELSE 'at risk' END) AS status,
	   bool_and(o.max_allowable_spend IS NOT DISTINCT FROM
				CASE WHEN r.p_alive >= 0.2 THEN r.clv / r.n * 0.4 / 3 END) AS max_allowable_spend,
	   abs(sum(o.value_share) - 1) < 1e-12 AS shares_add_up
FROM seg_out o JOIN seg_ref r ON o.segment IS NOT DISTINCT FROM r.segment;
-- by total value, highest first; the NULL segment is a row of its own
SELECT bool_and(o.total_clv >= n.total_clv) AS by_value_desc
FROM seg_out o JOIN seg_out n ON n.ord = o.ord + 1;
SELECT count(*) AS null_segment_rows FROM seg_out WHERE segment IS NULL;

-- the intervals: the aggregate over each segment's customers with the same
-- options (one set of draws for every segment), bracketing the point values
SELECT bool_and(abs((g).clv_lower - o.total_clv_lower) <= 1e-9 * o.total_clv
				AND abs((g).clv_upper - o.total_clv_upper) <= 1e-9 * o.total_clv
				AND abs((g).mean_clv_lower - o.mean_clv_lower) <= 1e-9 * o.mean_clv
				AND abs((g).mean_clv_upper - o.mean_clv_upper) <= 1e-9 * o.mean_clv
				AND abs((g).expected_purchases_lower - o.expected_purchases_lower) <= 1e-9 * o.expected_purchases
				AND abs((g).expected_purchases_upper - o.expected_purchases_upper) <= 1e-9 * o.expected_purchases)
		   AS same_as_aggregate,
	   bool_and(o.total_clv_lower < o.total_clv AND o.total_clv < o.total_clv_upper
				AND o.mean_clv_lower < o.mean_clv AND o.mean_clv < o.mean_clv_upper
				AND o.expected_purchases_lower < o.expected_purchases
				AND o.expected_purchases < o.expected_purchases_upper) AS bounds_bracket
FROM seg_out o,
	 LATERAL (SELECT clv_predict_interval_total('seg_pnbd', c.frequency, c.recency, c.t, c.monetary_value,
												39, 0.01, 1, 0.9, '{"n_draws": 60, "seed": 3}') AS g
			  FROM seg_cdnow c WHERE c.region IS NOT DISTINCT FROM o.segment) a;

-- level: a wider level gives wider intervals, the same points
SELECT bool_and(w.total_clv = o.total_clv AND w.total_clv_lower < o.total_clv_lower
				AND w.total_clv_upper > o.total_clv_upper) AS wider_level_wider
FROM seg_out o
JOIN clv_segment_economics('seg_pnbd', 'seg_cdnow', 'region', 39, 0.01, 0.4, 3,
						   '{"n_draws": 60, "seed": 3, "level": 0.99}') w
  ON w.segment IS NOT DISTINCT FROM o.segment;

-- intervals false: the same points, no bounds
SELECT bool_and(f.total_clv = o.total_clv AND f.max_allowable_spend IS NOT DISTINCT FROM o.max_allowable_spend)
		   AS same_points,
	   bool_and(f.total_clv_lower IS NULL AND f.mean_clv_upper IS NULL
				AND f.expected_purchases_lower IS NULL) AS no_bounds
FROM seg_out o
JOIN clv_segment_economics('seg_pnbd', 'seg_cdnow', 'region', 39, 0.01, 0.4, 3, '{"intervals": false}') f
  ON f.segment IS NOT DISTINCT FROM o.segment;

-- margin enters once, in the spend ceiling: the CLV columns do not move
SELECT bool_and(h.total_clv = f.total_clv
				AND abs(h.max_allowable_spend - f.mean_clv * 1.0 / 2) <= 1e-12 * f.mean_clv
				AND abs(f.max_allowable_spend - f.mean_clv * 0.3 / 3) <= 1e-12 * f.mean_clv) AS margin_once
FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 1, 2, '{"intervals": false}') h
JOIN clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 0.3, 3, '{"intervals": false}') f
  ON f.segment IS NOT DISTINCT FROM h.segment;

-- the status thresholds are options; a lapsed segment gets no LTV-based
-- spend; any column type, a mixed-case name; a query as the source
SELECT segment, customers, round(mean_p_alive::numeric, 3) AS mean_p_alive, status,
	   max_allowable_spend IS NULL AS no_ltv_spend, spend_basis, test_budget
FROM clv_segment_economics('seg_pnbd', 'seg_cdnow', 'Cluster', 39, 0, 0.4, 3,
						   '{"intervals": false, "active_threshold": 0.6, "lapsed_threshold": 0.4,
							 "test_budget": 1000}')
ORDER BY segment;
SELECT segment, customers, status
FROM clv_segment_economics('seg_pnbd', 'SELECT *, frequency > 0 AS repeat FROM seg_cdnow WHERE cust <= 500',
						   'repeat', 39, options => '{"intervals": false, "lapsed_threshold": 0}');
-- an empty source: no rows
SELECT count(*) AS rows_of_empty_source
FROM clv_segment_economics('seg_m', 'SELECT * FROM seg_cdnow WHERE false', 'region', 39);
-- NULL arguments: no rows (STRICT)
SELECT count(*) AS rows_of_null_horizon
FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', NULL);

-- a source in another schema resolves in the caller's search_path
CREATE SCHEMA seg_other;
CREATE TABLE seg_other.seg_mine AS SELECT * FROM seg_cdnow WHERE cust <= 100;
SET search_path = seg_other, public;
SELECT sum(customers) AS customers_from_caller_path
FROM clv_segment_economics('seg_m', 'seg_mine', 'region', 39, options => '{"intervals": false}');
RESET search_path;

-- acquisition value: a new customer (x = tx = T = 0, population mean spend)
SELECT abs(a.expected_purchases - clv_expected_purchases_new('seg_pnbd', 52)) < 1e-12 AS purchases_new,
	   abs(a.expected_spend - (m.params->>'p')::float8 * (m.params->>'gamma')::float8
							  / ((m.params->>'q')::float8 - 1)) < 1e-9 AS population_mean_spend,
	   abs(a.clv - a.expected_spend * a.expected_purchases) < 1e-9 * a.clv AS clv_undiscounted,
	   abs(a.max_acquisition_cost - a.clv * 0.4 / 3) < 1e-12 * a.clv AS max_cost,
	   abs(a.max_acquisition_cost_lower - a.clv_lower * 0.4 / 3) < 1e-12 * a.clv
	   AND abs(a.max_acquisition_cost_upper - a.clv_upper * 0.4 / 3) < 1e-12 * a.clv AS max_cost_bounds,
	   a.clv_lower < a.clv AND a.clv < a.clv_upper
	   AND a.expected_purchases_lower < a.expected_purchases
	   AND a.expected_purchases < a.expected_purchases_upper
	   AND a.expected_spend_lower < a.expected_spend AND a.expected_spend < a.expected_spend_upper
		   AS bounds_bracket
FROM clv_acquisition_value('seg_pnbd', 52, 0, 0.4, 3, '{"n_draws": 200}') a, clv_model('seg_pnbd') m;
-- the bounds are clv_predict_interval's for that customer, the same draws
SELECT (a.clv_lower, a.clv_upper) = ((i).clv_lower, (i).clv_upper) AS same_as_predict_interval
FROM clv_acquisition_value('seg_m', 52, 0.002, 0.5, 2, '{"n_draws": 200, "seed": 9, "level": 0.8}') a,
	 clv_predict_interval('seg_m', 0, 0, 0, NULL, 52, 0.002, 1, 0.8, '{"n_draws": 200, "seed": 9}') i;
-- discounting lowers the value; intervals false leaves the bounds NULL
SELECT d.clv < a.clv AS discount_lowers,
	   abs(d.clv - clv_value('seg_m', 0, 0, 0, NULL, 52, 0.002, 1)) < 1e-12 * d.clv AS discounted_value,
	   d.clv_lower IS NULL AND d.max_acquisition_cost_upper IS NULL AS no_bounds
FROM clv_acquisition_value('seg_m', 52, 0.002, options => '{"intervals": false}') d,
	 clv_acquisition_value('seg_m', 52, options => '{"intervals": false}') a;

-- bad input: 22023 naming the value (42703 for a missing column)
\set VERBOSITY default
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 0.4, 0);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 0.4, -3);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 0.4, 'infinity');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 0, 3);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 1.5, 3);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, 0, 'NaN', 3);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"level": 0}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"level": 1}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"level": "90%"}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"draws": 10}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '[]');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39,
									options => '{"active_threshold": 0.3, "lapsed_threshold": 0.3}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"active_threshold": 0.1}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"lapsed_threshold": -0.1}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"test_budget": -5}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"intervals": "no"}');
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', 39, options => '{"n_draws": 5}');
SELECT * FROM clv_segment_economics('seg_nospend', 'seg_cdnow', 'region', 39);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'Region', 39);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', '', 39);
SELECT * FROM clv_segment_economics('seg_m', 'SELECT cust, region FROM seg_cdnow', 'region', 39);
SELECT * FROM clv_segment_economics('seg_m', 'seg_missing', 'region', 39);
SELECT * FROM clv_segment_economics('seg_missing', 'seg_cdnow', 'region', 39);
SELECT * FROM clv_segment_economics('seg_m', 'seg_cdnow', 'region', -1);
SELECT * FROM clv_acquisition_value('seg_m', 52, 0, 1.01, 3);
SELECT * FROM clv_acquisition_value('seg_m', 52, 0, 0.4, 0);
SELECT * FROM clv_acquisition_value('seg_m', 52, options => '{"level": 1.5}');
SELECT * FROM clv_acquisition_value('seg_m', 52, options => '{"test_budget": 100}');
SELECT * FROM clv_acquisition_value('seg_nospend', 52);
SELECT * FROM clv_acquisition_value('seg_m', 52, -1);
\set VERBOSITY terse

-- cancellable: a statement_timeout stops a long call
SET statement_timeout = '300ms';
SELECT count(*) FROM clv_segment_economics('seg_pnbd', 'seg_cdnow', 'region', 39, 0.01, 0.4, 3,
										   '{"n_draws": 100000}');
RESET statement_timeout;

DROP SCHEMA seg_other CASCADE;
DROP TABLE seg_cdnow, seg_cbs;
SELECT clv_drop_model('seg_m'), clv_drop_model('seg_pnbd'), clv_drop_model('seg_nospend');
