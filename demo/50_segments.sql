-- clv demo, part 6: segment economics and the value of a new customer.
-- Uses cdnow_customers (demo/10_summary.sql) and the Pareto/NBD + Gamma-Gamma
-- model cdnow_pnbd (demo/20_models.sql): under BG/NBD every one-time buyer has
-- P(alive) = 1, which would call every segment of them active.
\pset footer off
\set VERBOSITY terse

\echo
\echo '=== Segment economics: RFM segments, next 52 weeks, discount 10 %/year, 40 % margin, LTV:CAC 3:1 ==='
\echo '    CLV is revenue (margin 1); max allowable spend per customer = mean CLV x 0.4 / 3.'
\echo '    Status by mean P(alive): active >= 0.5, lapsed < 0.2 (a fixed test budget, not an LTV-based spend).'
\echo '    Intervals: 90 % from 200 parameter draws shared by every segment.'
CREATE VIEW cdnow_rfm AS
SELECT c.*,
       clv_rfm_segment(ntile(5) OVER (ORDER BY days_since_last DESC, customer_id),
                       ntile(5) OVER (ORDER BY n_purchases, customer_id),
                       ntile(5) OVER (ORDER BY total_amount, customer_id)) AS rfm_segment
FROM cdnow_customers c;
SELECT segment, customers, round(100 * customer_share::numeric, 1) AS "% customers",
       round(total_clv::numeric) AS total_clv,
       format('%s .. %s', round(total_clv_lower::numeric), round(total_clv_upper::numeric)) AS "90 % interval",
       round(mean_clv::numeric, 2) AS mean_clv,
       round(100 * value_share::numeric, 1) AS "% value",
       round(mean_p_alive::numeric, 3) AS mean_p_alive,
       status,
       round(max_allowable_spend::numeric, 2) AS max_allowable_spend,
       test_budget AS "test budget (segment)"
FROM clv_segment_economics('cdnow_pnbd', 'cdnow_rfm', 'rfm_segment', 52, 0.00183, 0.4, 3,
                           '{"n_draws": 200, "test_budget": 500}');

\echo
\echo '=== A newly acquired customer: value over the next 52 weeks and the acquisition cost it justifies (40 %, 3:1) ==='
SELECT round(expected_purchases::numeric, 3) AS repeat_purchases,
       round(expected_spend::numeric, 2) AS spend_per_purchase,
       round(clv::numeric, 2) AS clv,
       format('%s .. %s', round(clv_lower::numeric, 2), round(clv_upper::numeric, 2)) AS "90 % interval",
       round(max_acquisition_cost::numeric, 2) AS max_acquisition_cost,
       round(max_acquisition_cost_lower::numeric, 2) AS "at the lower bound"
FROM clv_acquisition_value('cdnow_pnbd', 52, 0.00183, 0.4, 3, '{"n_draws": 200}');
