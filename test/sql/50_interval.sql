-- clv_predict_interval and clv_predict_interval_total: intervals from
-- parameter uncertainty (seeded draws from the asymptotic normal of the
-- log-parameters with the stored covariance).
CREATE TABLE iv_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy iv_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE VIEW iv_cdnow AS
	SELECT cust, x AS frequency, t_x AS recency, t_cal AS t,
		   CASE WHEN x > 0 THEN m_x END AS monetary_value
	FROM iv_cbs;
SELECT name FROM clv_train('iv_m', 'iv_cdnow');
SELECT name FROM clv_train('iv_pnbd', 'iv_cdnow', 'pareto_nbd', NULL);

-- the point values are clv_predict's; the bounds bracket them
SELECT (i).expected_purchases = (p).expected_purchases AND (i).p_alive = (p).p_alive
	   AND (i).expected_spend = (p).expected_spend AND (i).clv = (p).clv AS point_is_clv_predict,
	   (i).expected_purchases_lower < (i).expected_purchases
	   AND (i).expected_purchases < (i).expected_purchases_upper AS ep_inside,
	   (i).p_alive_lower < (i).p_alive AND (i).p_alive < (i).p_alive_upper AS pa_inside,
	   (i).expected_spend_lower < (i).expected_spend
	   AND (i).expected_spend < (i).expected_spend_upper AS es_inside,
	   (i).clv_lower < (i).clv AND (i).clv < (i).clv_upper AS clv_inside
FROM (SELECT clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39, 0.01, 0.3) AS i,
			 clv_predict('iv_m', 2, 30.43, 38.86, 22.35, 39, 0.01, 0.3) AS p) s;

-- reproducible: the same seed gives the same interval, another seed another;
-- a wider level gives a wider interval; more draws still bracket the point
SELECT a = b AS same_seed_same, a <> c AS other_seed_differs,
	   (w).clv_lower < (a).clv_lower AND (w).clv_upper > (a).clv_upper AS wider_level_wider
FROM (SELECT clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39) AS a,
			 clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39, options => '{"seed": 1}') AS b,
			 clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39, options => '{"seed": 2}') AS c,
			 clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39, level => 0.99) AS w) s;

-- every row of a query uses the same draws: a customer's interval does not
-- depend on the rows before it
WITH fwd AS (SELECT cust, clv_predict_interval('iv_m', frequency, recency, t, monetary_value, 39) AS i
			 FROM (SELECT * FROM iv_cdnow WHERE cust <= 50 ORDER BY cust OFFSET 0) c),
	 bwd AS (SELECT cust, clv_predict_interval('iv_m', frequency, recency, t, monetary_value, 39) AS i
			 FROM (SELECT * FROM iv_cdnow WHERE cust <= 50 ORDER BY cust DESC OFFSET 0) c)
SELECT count(*) FILTER (WHERE f.i = b.i) AS same_in_any_order, count(*) AS rows
FROM fwd f JOIN bwd b USING (cust);
SELECT count(DISTINCT i) AS distinct_intervals
FROM (SELECT clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39) AS i
	  FROM generate_series(1, 20)) s;

-- inline params with options.covariance give the name's interval
SELECT clv_predict_interval(m.params, 2, 30.43, 38.86, 22.35, 39,
							options => jsonb_build_object('covariance', m.covariance))
	   = clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39) AS inline_equals_name
FROM clv_models m WHERE m.name = 'iv_m';

-- without a spend model the spend fields are NULL; P(alive) stays in [0, 1]
SELECT (i).expected_spend IS NULL AND (i).clv_lower IS NULL AS spend_null,
	   (i).p_alive_lower >= 0 AND (i).p_alive_upper <= 1 AS p_alive_bounded,
	   (i).expected_purchases_lower < (i).expected_purchases_upper AS ep_interval
FROM clv_predict_interval('iv_pnbd', 2, 30.43, 38.86, NULL, 39) AS i;

-- NULL arguments give NULL (monetary_value NULL: the population mean)
SELECT clv_predict_interval('iv_m', NULL, 1, 2, 3, 4) IS NULL AS null_frequency,
	   clv_predict_interval('iv_m', 1, 1, 2, 3, 4, level => NULL) IS NULL AS null_level,
	   (clv_predict_interval('iv_m', 0, 0, 30, NULL, 39)).expected_spend_lower > 0 AS population_spend;

-- bad input: 22023 naming the value
CREATE FUNCTION iv_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT iv_err(q) FROM (VALUES
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, level => 0)$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, level => 1)$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, level => 'NaN')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"n_draws": 5}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"n_draws": 100.5}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"n_draws": 1000000}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"n_draws": "100"}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"covariance": [1]}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"seed": -1}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"seed": "a"}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '{"draws": 10}')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, options => '[]')$$),
	($$SELECT clv_predict_interval('iv_m', 2, 40, 38, 22, 39)$$),
	($$SELECT clv_predict_interval('iv_m', 2, 30, 38, 22, 39, discount_rate => -1)$$),
	($$SELECT clv_predict_interval('iv_nope', 2, 30, 38, 22, 39)$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39)$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39,
								   options => '{"covariance": 1}')$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39,
								   options => '{"covariance": {"transaction": null}}')$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39,
								   options => (SELECT jsonb_build_object('covariance', jsonb_set(covariance, '{transaction,names,0}', '"x"')) FROM clv_models WHERE name = 'iv_m'))$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39,
								   options => (SELECT jsonb_build_object('covariance', jsonb_set(covariance, '{spend,log_scale,0,0}', '-1')) FROM clv_models WHERE name = 'iv_m'))$$),
	($$SELECT clv_predict_interval((SELECT params FROM clv_models WHERE name = 'iv_m'), 2, 30, 38, 22, 39,
								   options => (SELECT jsonb_build_object('covariance', jsonb_set(covariance, '{spend,log_scale,0}', '[1, 2]')) FROM clv_models WHERE name = 'iv_m'))$$),
	($$SELECT clv_predict_interval('{"r": 0.24, "alpha": 4.4, "a": 0.8, "b": 2.4}'::jsonb, 2, 30, 38, 22, 39,
								   options => '{"covariance": {"transaction": {"names": ["r", "alpha", "a", "b"], "log_scale": [[1e6, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}}}')$$),
	($$SELECT clv_predict_interval_total_trans(NULL, 'iv_m', 1, 1, 2, 3, 4)$$),
	($$SELECT clv_predict_interval_total_final('{1, 2, 3}')$$),
	($$SELECT clv_predict_interval_total_final('{10, 0.9, 1, 1, 1, 1}')$$),
	($$SELECT clv_predict_interval_total_final('{10, 0.9, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Infinity}')$$),
	($$SELECT clv_predict_interval_total_combine('{10, 0.9, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e308}',
												 '{10, 0.9, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1e308}')$$),
	($$SELECT clv_predict_interval_total_combine('{10, 0.9, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}',
												 '{10, 0.5, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}')$$),
	($$SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39, 0, 1, 0.5 + (cust % 2) * 0.4, '{}') FROM iv_cdnow$$)
) AS v(q);

-- a model stored with a singular information matrix has no covariance
SELECT name FROM clv_train('iv_flat', 'SELECT 0 AS frequency, 0::float8 AS recency, g::float8 AS t FROM generate_series(1, 50) g', 'bgnbd', NULL);
SELECT iv_err($$SELECT clv_predict_interval('iv_flat', 0, 0, 30, NULL, 39)$$);

-- the group's total: the point is the sum of clv_predict, the mean the total
-- over the customers; the interval is of the total under shared draws
SELECT (g).customers, abs((g).expected_purchases - s.ep) < 1e-9 * s.ep AS total_ep_is_sum,
	   abs((g).clv - s.clv) < 1e-9 * s.clv AS total_clv_is_sum,
	   (g).expected_purchases_lower < (g).expected_purchases
	   AND (g).expected_purchases < (g).expected_purchases_upper AS ep_inside,
	   (g).clv_lower < (g).clv AND (g).clv < (g).clv_upper AS clv_inside,
	   abs((g).mean_clv * (g).customers - (g).clv) < 1e-9 * (g).clv
	   AND abs((g).mean_clv_upper * (g).customers - (g).clv_upper) < 1e-9 * (g).clv AS mean_is_total_over_n,
	   (g).expected_purchases_upper - (g).expected_purchases_lower
	   < s.ep_upper - s.ep_lower AS narrower_than_summed_bounds
FROM (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39) AS g
	  FROM iv_cdnow) a,
	 (SELECT sum((p).expected_purchases) AS ep, sum((p).clv) AS clv,
			 sum((i).expected_purchases_lower) AS ep_lower, sum((i).expected_purchases_upper) AS ep_upper
	  FROM (SELECT clv_predict('iv_m', frequency, recency, t, monetary_value, 39) AS p,
				   clv_predict_interval('iv_m', frequency, recency, t, monetary_value, 39) AS i
			FROM iv_cdnow) q) s;

-- shared draws: the total of one customer is its own interval, and of the
-- same customer twice exactly twice that
SELECT (g1).expected_purchases_lower = (i).expected_purchases_lower
	   AND (g1).clv_upper = (i).clv_upper AS one_row_is_its_interval,
	   (g2).customers AS n2, (g2).clv_lower = 2 * (i).clv_lower
	   AND (g2).expected_purchases_upper = 2 * (i).expected_purchases_upper AS two_rows_twice
FROM (SELECT clv_predict_interval_total('iv_m', 2, 30.43, 38.86, 22.35, 39) AS g1
	  FROM generate_series(1, 1)) a,
	 (SELECT clv_predict_interval_total('iv_m', 2, 30.43, 38.86, 22.35, 39) AS g2
	  FROM generate_series(1, 2)) b,
	 clv_predict_interval('iv_m', 2, 30.43, 38.86, 22.35, 39) AS i;

-- the short form is the long one with the defaults; inline params with the
-- covariance give the name's total; NULL rows are skipped; no rows: NULL
SELECT (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39) FROM iv_cdnow)
	   = (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39, 0, 1, 0.9, '{}') FROM iv_cdnow)
	   AS short_is_long,
	   (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39) FROM iv_cdnow)
	   = (SELECT clv_predict_interval_total(m.params, c.frequency, c.recency, c.t, c.monetary_value, 39, 0, 1, 0.9,
											jsonb_build_object('covariance', m.covariance))
		  FROM iv_cdnow c, clv_models m WHERE m.name = 'iv_m') AS inline_is_name,
	   (SELECT (clv_predict_interval_total('iv_m', CASE WHEN cust > 10 THEN frequency END, recency, t, monetary_value, 39)).customers
		FROM iv_cdnow) AS non_null_rows,
	   (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39) FROM iv_cdnow WHERE false) IS NULL
	   AS empty_is_null;

-- parallel aggregation (partial states combined) gives the serial total
CREATE TABLE iv_big AS SELECT c.* FROM iv_cdnow c, generate_series(1, 4);
ANALYZE iv_big;
CREATE TEMP TABLE iv_serial AS
	SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39, 0, 1, 0.9, '{"n_draws": 100}') AS g
	FROM iv_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
	SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39, 0, 1, 0.9, '{"n_draws": 100}')
	FROM iv_big;
SELECT (p.g).customers = (s.g).customers AS same_n,
	   abs((p.g).clv_lower - (s.g).clv_lower) < 1e-9 * (s.g).clv_lower
	   AND abs((p.g).expected_purchases_upper - (s.g).expected_purchases_upper)
		   < 1e-9 * (s.g).expected_purchases_upper AS same_bounds
FROM (SELECT clv_predict_interval_total('iv_m', frequency, recency, t, monetary_value, 39, 0, 1, 0.9, '{"n_draws": 100}') AS g
	  FROM iv_big) p, iv_serial s;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- cancellable: a statement_timeout stops a long interval
SET statement_timeout = '200ms';
SELECT count(clv_predict_interval('iv_pnbd', frequency, recency, t, NULL, 39, options => '{"n_draws": 100000}')) FROM iv_cdnow;
RESET statement_timeout;
