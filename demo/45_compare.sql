-- clv demo, part 5: which model?  clv_compare_models fits BG/NBD, MBG/NBD and
-- Pareto/NBD on the calibration fields and scores them on the holdout.
-- Uses cdnow_customers (demo/10_summary.sql: calibration to 1997-09-30,
-- holdout to 1998-06-30, weeks) and loads the CLVTools apparel orders.
\pset footer off
\set VERBOSITY terse

\echo
\echo '== CDNOW: the three models on 39 weeks of calibration and 39 of holdout (1,882 actual purchases) =='
\echo '   recommended: the lowest BIC among the converged models whose holdout total error is'
\echo '   within 0.10 of the best one'
SELECT model, round(log_likelihood::numeric, 2) AS log_likelihood, round(bic::numeric, 1) AS bic,
	   round(total_predicted::numeric, 1) AS holdout_predicted, round(total_error::numeric, 3) AS holdout_error,
	   round(mae::numeric, 3) AS mae, round(correlation::numeric, 3) AS correlation,
	   worst_bucket, recommended
FROM clv_compare_models('cdnow_customers');

\echo
\echo '=== Loading the CLVTools apparel orders (600 customers, all first bought on 2005-01-02) ==='
CREATE TABLE apparel_transactions (customer_id int, purchased_at date, amount float8);
\copy apparel_transactions FROM 'data/CLVTools_apparelTrans.csv' CSV HEADER
CREATE TABLE apparel_customers AS
SELECT customer_id, (clv_summary(purchased_at, amount, '2005-12-31', '2010-12-31', 'week')).*
FROM apparel_transactions GROUP BY customer_id;

\echo
\echo '== Apparel: calibration 2005, holdout 2006-2010; the worst calibration-frequency bucket of each model =='
SELECT model, round(bic::numeric, 1) AS bic, total_actual AS holdout_actual,
	   round(total_predicted::numeric, 1) AS holdout_predicted, round(total_error::numeric, 3) AS holdout_error,
	   worst_bucket, worst_bucket_customers AS customers,
	   round(worst_bucket_actual::numeric, 2) AS bucket_actual,
	   round(worst_bucket_predicted::numeric, 2) AS bucket_predicted, recommended
FROM clv_compare_models('apparel_customers');
\echo '   BG/NBD lets a customer drop out only right after a purchase, so the customers without a'
\echo '   repeat purchase in 2005 (bucket 0) keep P(alive) = 1 and are over-predicted;'
\echo '   MBG/NBD and Pareto/NBD let them drop out.'
SELECT m.model, round(avg(clv_p_alive(m.params, c.frequency, c.recency, c.t))::numeric, 3) AS mean_p_alive_of_bucket_0
FROM clv_compare_models('apparel_customers') m, apparel_customers c
WHERE c.frequency = 0
GROUP BY m.model ORDER BY m.model;
