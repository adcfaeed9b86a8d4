-- clv demo, part 6: a supervised model of next period's spend (XGBoost).
-- Uses cdnow_customers (demo/10_summary.sql) and the BTYD model "cdnow"
-- (demo/20_models.sql).  The honest target: the features describe the
-- calibration period (to 1997-09-30), the target is the spend of the
-- holdout period (to 1998-06-30, 39 weeks) -- never a value computed from
-- the features themselves.
\pset footer off
\set VERBOSITY terse

\echo
\echo '=== Features (calibration) and target (holdout spend), plus the BTYD predictions ==='
CREATE TABLE cdnow_value AS
SELECT c.customer_id, c.frequency, c.recency, c.t, c.monetary_value, c.days_since_last,
       c.total_amount, p.expected_purchases, p.p_alive, p.clv AS btyd_value,
       coalesce(c.frequency_holdout * c.monetary_holdout, 0) AS holdout_value
FROM cdnow_customers c,
     LATERAL clv_predict('cdnow', c.frequency, c.recency, c.t, c.monetary_value, 39) p;
SELECT count(*) AS customers, round(avg(holdout_value)::numeric, 2) AS mean_holdout_spend,
       round(100.0 * avg((holdout_value = 0)::int), 1) AS pct_no_holdout_spend
FROM cdnow_value;

\echo
\echo '=== Gradient-boosted trees on the calibration features (5-fold cross-validation) ==='
SELECT name, version, n_customers, iterations, params->'features' AS features,
       round((params->'metrics'->'cv'->'r2'->>'mean')::numeric, 3) AS cv_r2,
       round((params->'metrics'->'cv'->'r2'->>'sd')::numeric, 3) AS cv_r2_sd,
       round((params->'metrics'->'cv'->'rmse'->>'mean')::numeric, 1) AS cv_rmse
FROM clv_regressor_train('cdnow_value_xgb', 'cdnow_value', 'holdout_value',
     ARRAY['frequency', 'recency', 't', 'monetary_value', 'days_since_last', 'total_amount'],
     '{"objective": "reg:tweedie", "max_depth": 3, "eta": 0.05, "n_rounds": 200, "cv_folds": 5}');

\echo
\echo '=== The hybrid: the same plus the BTYD predictions as features ==='
SELECT name, version, round((params->'metrics'->'cv'->'r2'->>'mean')::numeric, 3) AS cv_r2,
       round((params->'metrics'->'cv'->'rmse'->>'mean')::numeric, 1) AS cv_rmse,
       params->'importance'->'gain' AS importance_gain
FROM clv_regressor_train('cdnow_value_hybrid', 'cdnow_value', 'holdout_value', NULL,
     '{"objective": "reg:tweedie", "max_depth": 3, "eta": 0.05, "n_rounds": 200, "cv_folds": 5}');

\echo
\echo '=== Scoring: the ten customers with the highest predicted holdout spend ==='
SELECT customer_id, round(holdout_value::numeric, 2) AS actual,
       round(clv_regressor_predict('cdnow_value_xgb',
             ARRAY[frequency, recency, t, monetary_value, days_since_last, total_amount])::numeric, 2) AS xgboost,
       round(btyd_value::numeric, 2) AS btyd
FROM cdnow_value ORDER BY 3 DESC LIMIT 10;
