-- ---------------------------------------------------------------------------
-- Supervised models: gradient-boosted trees and random forests on XGBoost's
-- C library (src/regressor.c, src/regressor_fmgr.c).  Models live in
-- clv_models with kind = 'regressor': the booster in the artifact column
-- (XGBoost's UBJSON model format), the feature names, the XGBoost parameters
-- as used, metrics and feature importance in params.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_regressor_train(name text, source text, target text,
		features text[] DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS clv_models
AS 'MODULE_PATHNAME', 'clv_regressor_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_regressor_train(text, text, text, text[], jsonb) IS
'XGBoost regression trees on source (a table, view or SELECT): target is the column to predict, features the numeric columns to predict it from (NULL: every numeric column but the target and id-like keys); NULL features are missing values, rows with a NULL target are skipped and counted; stores the next version of the model in clv_models (kind regressor) and returns that row. Options: objective (reg:squarederror | reg:tweedie | reg:pseudohubererror), mode (gradient_boosting | random_forest), n_rounds (100), n_trees (random_forest: 100), max_depth (6), eta (0.3), subsample, colsample_bytree, colsample_bynode, min_child_weight, lambda, alpha, tweedie_variance_power, huber_slope, tree_method (hist), seed (0), nthread (1), early_stopping_rounds with validation_fraction (0.2), cv_folds';

CREATE FUNCTION clv_regressor_predict(name text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_regressor_predict'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_regressor_predict(text, float8[]) IS
'Prediction of the newest version of a regressor for one row of features, in the model''s feature order (params->''features''); NULL or NaN elements are missing values; the booster is loaded once per query';
