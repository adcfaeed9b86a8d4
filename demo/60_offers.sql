-- clv demo, part 6: offers and budgets.  Uses cdnow_customers (demo/10_summary.sql:
-- calibration to 1997-09-30, weeks) and the model 'cdnow' (BG/NBD + Gamma-Gamma,
-- demo/20_models.sql); segments are the RFM segments of demo/10_summary.sql.
\pset footer off
\set VERBOSITY terse

-- the source: the customers with their RFM segment (the README's scoring query)
CREATE VIEW cdnow_offer_segments AS
SELECT s.customer_id, s.frequency, s.recency, s.t, s.monetary_value,
	   clv_rfm_segment(s.r, s.f, s.m) AS rfm_segment
FROM (SELECT c.*,
			 ntile(5) OVER (ORDER BY c.days_since_last DESC, c.customer_id) AS r,
			 ntile(5) OVER (ORDER BY c.n_purchases, c.customer_id) AS f,
			 ntile(5) OVER (ORDER BY c.total_amount, c.customer_id) AS m
	  FROM cdnow_customers c) s;

\echo
\echo '== Offer ROI over the next two years (104 weeks, 30 % margin, 0.2 % discount a week) =='
\echo '   retention:    $1 per customer, 30 % respond, dropout 50 % lower -> the best segment (Champions)'
\echo '   reactivation: $1 per customer, 15 % respond, purchase rate doubled, dropout 30 % lower -> At Risk'
SELECT o.offer, s.segment, s.customers, round(s.p_alive::numeric, 3) AS mean_p_alive,
	   round(s.baseline_clv::numeric) AS baseline_clv, round(s.incremental_value::numeric) AS incremental,
	   round(s.cost::numeric) AS cost, round(s.net_gain::numeric) AS net_gain,
	   round(s.net_gain_per_customer::numeric, 2) AS net_per_customer, round(s.roi::numeric, 2) AS roi,
	   s.profitable_customers AS profitable
FROM (VALUES ('retention', 'Champions', '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.5}'::jsonb),
			 ('reactivation', 'At Risk',
			  '{"cost": 1, "response_rate": 0.15, "purchase_lift": 1.0, "retention_lift": 0.3}'::jsonb))
	 AS o(offer, segment, spec),
	 LATERAL clv_offer_roi_segments('cdnow', 'cdnow_offer_segments', o.spec, 'rfm_segment',
									104, 0.002, 0.3) s
WHERE s.segment = o.segment;
\echo '   An offer changes the behaviour of customers who are still alive: most of At Risk has'
\echo '   little left to reactivate, so even a doubled purchase rate does not pay for the mailing.'

\echo
\echo '== $10,000 for the retention offer: ranked by incremental value per dollar, while it pays =='
\echo '   (and two smaller budgets beside it: the marginal ROI falls as the budget grows)'
SELECT b.budget, count(a.step) AS targeted, max(a.cumulative_cost) AS spent,
	   round(max(a.cumulative_value)::numeric) AS incremental_value,
	   round(max(a.cumulative_net_gain)::numeric) AS net_gain,
	   round((max(a.cumulative_net_gain) / nullif(max(a.cumulative_cost), 0))::numeric, 2) AS roi
FROM (VALUES (100), (250), (10000)) b(budget),
	 LATERAL clv_allocate_budget('cdnow', 'cdnow_offer_segments',
								 '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.5}', b.budget,
								 104, 0.002, 0.3) a
GROUP BY b.budget ORDER BY b.budget;
\echo '   The first steps and the last:'
SELECT step, customer_id, segment, round(incremental_value::numeric, 2) AS incremental,
	   cumulative_cost, round(cumulative_net_gain::numeric, 2) AS cumulative_net_gain,
	   round(cumulative_roi::numeric, 2) AS cumulative_roi
FROM (SELECT a.*, max(a.step) OVER () AS last
	  FROM clv_allocate_budget('cdnow', 'cdnow_offer_segments',
							   '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.5}', 10000, 104, 0.002, 0.3,
							   '{"segment_column": "rfm_segment"}') a) q
WHERE step <= 5 OR step = last ORDER BY step;
\echo '   Where the money goes, per RFM segment:'
SELECT segment, targeted, cost, round(incremental_value::numeric) AS incremental,
	   round(net_gain::numeric) AS net_gain, round(roi::numeric, 2) AS roi,
	   round((100 * share_of_budget)::numeric, 2) AS pct_of_budget
FROM clv_allocate_budget_segments('cdnow', 'cdnow_offer_segments',
								  '{"cost": 1, "response_rate": 0.3, "retention_lift": 0.5}', 10000,
								  'rfm_segment', 104, 0.002, 0.3);
\echo '   On this 2,357-customer sample the allocation stops where the next customer''s offer would'
\echo '   lose money, long before $10,000; with one cost per customer the ranked choice is the best'
\echo '   possible for any budget (README "Budgets").'
