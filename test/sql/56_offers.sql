-- clv_offer_predict, clv_offer_roi(_segments), clv_allocate_budget(_segments):
-- the value of an offer stated in the model's terms, and where a budget goes.
CREATE TABLE of_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy of_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE of_cdnow AS
	SELECT cust AS customer_id, x AS frequency, t_x AS recency, t_cal AS t,
		   CASE WHEN x > 0 THEN m_x END AS monetary_value, (cust % 4)::text AS quarter,
		   1 + cust % 3 AS price
	FROM of_cbs;
SELECT name FROM clv_train('of_m', 'of_cdnow');
SELECT name FROM clv_train('of_tx', 'of_cdnow', 'bgnbd', NULL);

-- the baseline is clv_predict's, to the last bit, for every customer; an
-- offer without effect adds nothing
SELECT count(*) AS customers,
	   count(*) FILTER (WHERE r.baseline_clv = (clv_predict('of_m', c.frequency, c.recency, c.t,
				c.monetary_value, 39, 0.01, 0.3)).clv
			 AND r.p_alive = clv_p_alive('of_m', c.frequency, c.recency, c.t)) AS baseline_is_clv_predict,
	   count(*) FILTER (WHERE r.offer_clv = r.baseline_clv AND r.incremental_value = 0
			 AND r.net_gain = -2 AND r.roi = -1) AS no_effect_no_value
FROM clv_offer_roi('of_m', 'of_cdnow', '{"cost": 2, "response_rate": 0.5}', 39, 0.01, 0.3) r
JOIN of_cdnow c ON c.customer_id::text = r.customer_id;

-- every lift raises the value of every customer (weakly: a customer with
-- P(alive) = 0 gains nothing); the response rate scales the increment
SELECT l.lift,
	   bool_and(r.offer_clv >= r.baseline_clv) AS never_lower,
	   bool_and(abs(r.incremental_value - 0.25 * (r.offer_clv - r.baseline_clv))
				<= 1e-12 * r.offer_clv) AS increment_is_response_share,
	   bool_and(r.net_gain = r.incremental_value - 1) AS net_gain_is_increment_less_cost
FROM (VALUES ('purchase_lift'), ('retention_lift'), ('spend_lift')) l(lift),
	 LATERAL clv_offer_roi('of_m', 'of_cdnow',
			 jsonb_build_object('cost', 1, 'response_rate', 0.25, l.lift, 0.2), 52, 0.005, 0.4) r
GROUP BY l.lift ORDER BY l.lift;

-- one customer (FHL 2005's customer with x = 2): a cost of 0 has no ROI
SELECT round(p_alive::numeric, 4) AS p_alive, round(baseline_purchases::numeric, 4) AS base,
	   round(offer_purchases::numeric, 4) AS offer, round(baseline_clv::numeric, 2) AS base_clv,
	   round(offer_clv::numeric, 2) AS offer_clv, round(incremental_value::numeric, 2) AS inc,
	   cost, roi
FROM clv_offer_predict(clv_model_params('of_m'), 2, 30.43, 38.86, 22.35, 39, 0, 1,
					   '{"cost": 0, "response_rate": 1, "purchase_lift": 0.2, "retention_lift": 0.5}');

-- the segment summary is the per-customer result summed
SELECT s.segment, s.customers = c.n AS customers_ok,
	   abs(s.net_gain - c.net) <= 1e-9 * abs(c.net) AS net_gain_is_sum,
	   abs(s.roi - c.net / c.cost) <= 1e-9 AS roi_of_totals,
	   s.profitable_customers = c.prof AS profitable_ok
FROM clv_offer_roi_segments('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.2, "retention_lift": 0.4}',
							'quarter', 52, 0, 0.4) s
JOIN (SELECT r.segment, count(*) AS n, sum(r.net_gain) AS net, sum(r.cost) AS cost,
			 count(*) FILTER (WHERE r.net_gain > 0) AS prof
	  FROM clv_offer_roi('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.2, "retention_lift": 0.4}',
						 52, 0, 0.4, '{"segment_column": "quarter"}') r
	  GROUP BY r.segment) c ON c.segment = s.segment
ORDER BY s.segment;

-- equal costs: the allocation is the budget's worth of customers with the
-- highest incremental value (exactly optimal), each with a positive net gain
WITH a AS (SELECT * FROM clv_allocate_budget('of_m', 'of_cdnow',
			   '{"cost": 2, "response_rate": 0.3, "retention_lift": 0.3}', 41, 52, 0.01, 0.4)),
	 best AS (SELECT r.customer_id FROM clv_offer_roi('of_m', 'of_cdnow',
				  '{"cost": 2, "response_rate": 0.3, "retention_lift": 0.3}', 52, 0.01, 0.4) r
			  WHERE r.net_gain > 0 ORDER BY r.incremental_value DESC, r.customer_id LIMIT 20)
SELECT count(*) AS targeted, max(a.cumulative_cost) AS spent,
	   (SELECT count(*) FROM best) AS best_count,
	   count(*) FILTER (WHERE a.customer_id IN (SELECT customer_id FROM best)) AS among_best,
	   bool_and(a.net_gain > 0) AS all_profitable,
	   bool_and(a.cumulative_roi = a.cumulative_net_gain / a.cumulative_cost) AS roi_ok
FROM a;

-- a small budget ends at the first customer who does not fit; a zero
-- budget targets nobody but free offers
SELECT step, customer_id, cost, cumulative_cost
FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.3}',
						 7.5, 52, 0, 0.4, '{"cost_column": "price"}');
SELECT count(*) FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.3}', 0, 52);
SELECT count(*) > 0 AS free_offer_targets
FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 0, "response_rate": 0.3, "purchase_lift": 0.1}', 0, 52);

-- per-customer costs: ranked by value per unit cost, non-increasing
SELECT bool_and(v.ok) AS ranked_by_value_per_cost, max(v.step) AS targeted, max(v.cumulative_cost) <= 300 AS within
FROM (SELECT a.step, a.cumulative_cost,
			 a.value_per_cost <= lag(a.value_per_cost, 1, 'Infinity') OVER (ORDER BY a.step) AS ok
	  FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.5}',
							   300, 52, 0, 0.4, '{"cost_column": "price"}') a) v;

SELECT segment, targeted, cost, round(incremental_value::numeric, 2) AS incremental_value,
	   round(net_gain::numeric, 2) AS net_gain, round(roi::numeric, 3) AS roi, share_of_budget
FROM clv_allocate_budget_segments('of_m', 'of_cdnow',
			'{"cost": 2, "response_rate": 0.3, "retention_lift": 0.3}', 40, 'quarter', 52, 0.01, 0.4)
ORDER BY segment;

-- a source without customer_id: the id is NULL; an explicit id column must exist
SELECT count(*), count(customer_id)
FROM clv_offer_roi('of_m', 'SELECT frequency, recency, t, monetary_value FROM of_cdnow',
				   '{"cost": 1, "response_rate": 0.1}', 52);
SELECT count(*) FROM clv_offer_roi('of_m', 'SELECT frequency, recency, t, monetary_value FROM of_cdnow',
				   '{"cost": 1, "response_rate": 0.1}', 52, options => '{"id_column": "cust"}');
SELECT count(*) FROM clv_offer_roi('of_m', 'SELECT customer_id, frequency, recency, t FROM of_cdnow',
				   '{"cost": 1, "response_rate": 0.1}', 52);
-- an empty source
SELECT count(*) FROM clv_offer_roi('of_m', 'SELECT * FROM of_cdnow WHERE false', '{"cost": 1, "response_rate": 0.1}', 52);

-- bad input: 22023 naming the value
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": -1, "response_rate": 0.1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 1.5}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.2, "retention_lift": 1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.2, "purchase_lift": -1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.2, "spend_lift": 1e6}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.2, "purchase_lfit": 0.1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": "5", "response_rate": 0.1}');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '[5]');
SELECT clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.1, "value_per_purchase": 30}');
SELECT * FROM clv_offer_roi('of_tx', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', 52);
SELECT * FROM clv_offer_roi('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', 52, options => '{"segment": "quarter"}');
SELECT * FROM clv_offer_roi('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', 52, options => '{"segment_column": 3}');
SELECT * FROM clv_offer_roi('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', -1);
SELECT * FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', -10, 52);
SELECT * FROM clv_allocate_budget('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', 'NaN', 52);
SELECT * FROM clv_allocate_budget('of_m', 'SELECT customer_id, frequency, recency, t, monetary_value, -1 AS price FROM of_cdnow',
								  '{"cost": 1, "response_rate": 0.1}', 10, 52, options => '{"cost_column": "price"}');
SELECT * FROM clv_offer_roi_segments('of_m', 'of_cdnow', '{"cost": 1, "response_rate": 0.1}', 'region', 52);
\set VERBOSITY terse

-- a model without a spend part is valued with value_per_purchase (BG/BB)
SELECT round(baseline_clv::numeric, 4) AS base, round(offer_clv::numeric, 4) AS offer,
	   round(offer_purchases::numeric, 4) AS purchases
FROM clv_offer_predict('{"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}', 3, 5, 6, NULL, 5, 0, 1,
					   '{"cost": 1, "response_rate": 1, "value_per_purchase": 10, "retention_lift": 0.5}');

-- NULL arguments: NULL (monetary_value NULL is the population mean spend)
SELECT clv_offer_predict(NULL, 2, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.1}') IS NULL AS null_params,
	   clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, 20, 52, 0, 1, NULL) IS NULL AS null_offer,
	   clv_offer_predict(clv_model_params('of_m'), NULL, 30, 39, 20, 52, 0, 1, '{"cost": 1, "response_rate": 0.1}') IS NULL AS null_frequency,
	   (clv_offer_predict(clv_model_params('of_m'), 2, 30, 39, NULL, 52, 0, 1, '{"cost": 1, "response_rate": 0.1}')).baseline_spend
	   = clv_expected_spend('of_m', 0, 0) AS null_spend_is_mean;
