-- ---------------------------------------------------------------------------
-- The data dictionary: a comment on every column of the catalog tables and
-- every field of the composite types, for psql's \d+ and for BI tools that
-- read pg_description (test/sql/00_install.sql checks that none is missing).
-- ---------------------------------------------------------------------------
COMMENT ON COLUMN clv_model_names.name IS 'model name (unique; cannot start with { or [)';
COMMENT ON COLUMN clv_model_names.kind IS 'kind of every version of the name: btyd, kmeans or regressor';
COMMENT ON COLUMN clv_model_names.owner IS 'role that owns the name (the first trainer); its members train, drop and grant it';
COMMENT ON COLUMN clv_model_names.readers IS 'roles the owner granted read access to (clv_grant_model); public for everybody';
COMMENT ON COLUMN clv_model_names.last_version IS 'last version number handed out for the name (never reused)';
COMMENT ON COLUMN clv_model_names.created_at IS 'when the name was first trained';

COMMENT ON COLUMN clv_models.name IS 'model name (see clv_model_names)';
COMMENT ON COLUMN clv_models.version IS 'version of the name, 1, 2, ... in commit order; the newest serves predictions';
COMMENT ON COLUMN clv_models.kind IS 'btyd (transaction and spend models), kmeans (segmentation) or regressor (XGBoost trees, clv_regressor_train)';
COMMENT ON COLUMN clv_models.transaction_model IS 'bgnbd, pareto_nbd, mbgnbd or bgbb; NULL when not fitted';
COMMENT ON COLUMN clv_models.spend_model IS 'gamma_gamma; NULL when not fitted';
COMMENT ON COLUMN clv_models.params IS 'the self-describing parameters, the object the params jsonb functions take';
COMMENT ON COLUMN clv_models.std_errors IS 'standard error of each parameter; null where the information matrix is singular';
COMMENT ON COLUMN clv_models.covariance IS 'asymptotic covariance of the estimates, per fit: {"transaction": {"names": [...], "log_scale": [[...]], "natural": [[...]]}, "spend": {...}}; log_scale is the inverse observed information of the log-parameters, natural its delta-method image; a fit is null where the information matrix is singular (as std_errors); read by clv_predict_interval';
COMMENT ON COLUMN clv_models.log_likelihood IS 'log-likelihood of each fit at the optimum: {"transaction": ..., "spend": ...}';
COMMENT ON COLUMN clv_models.n_customers IS 'customers (rows, or summed weights) in the source';
COMMENT ON COLUMN clv_models.converged IS 'whether every fit converged';
COMMENT ON COLUMN clv_models.iterations IS 'optimiser iterations, summed over the fits';
COMMENT ON COLUMN clv_models.time_unit IS 'unit of recency, t and horizons for this model: day, week, month or year';
COMMENT ON COLUMN clv_models.source IS 'the source text the model was trained on';
COMMENT ON COLUMN clv_models.options IS 'the options as used, defaults filled in';
COMMENT ON COLUMN clv_models.diagnostics IS 'per fit: model, converged, iterations, message; row counts; flags such as q_le_1';
COMMENT ON COLUMN clv_models.trained_at IS 'when the version was stored (after the name''s lock: follows the version order)';
COMMENT ON COLUMN clv_models.trained_by IS 'role that trained the version (set by the catalog, cannot be forged)';
COMMENT ON COLUMN clv_models.artifact IS 'binary model state of kinds that have one, NULL otherwise; regressor: the XGBoost booster in XGBoost''s UBJSON model format (loadable with xgboost.Booster().load_model(bytearray(artifact)))';

COMMENT ON COLUMN clv_summary.frequency IS 'repeat purchases: distinct purchase days - 1';
COMMENT ON COLUMN clv_summary.recency IS 'time from the first to the last purchase day, in the time unit (BTYD t.x)';
COMMENT ON COLUMN clv_summary.t IS 'time from the first purchase day to the (calibration) end, in the time unit (BTYD T.cal)';
COMMENT ON COLUMN clv_summary.monetary_value IS 'mean day-summed repeat purchase amount (first day excluded); NULL when frequency = 0';
COMMENT ON COLUMN clv_summary.n_purchases IS 'purchase days up to the (calibration) end';
COMMENT ON COLUMN clv_summary.total_amount IS 'all money up to the (calibration) end, refunds netted';
COMMENT ON COLUMN clv_summary.first_purchase IS 'the first purchase day';
COMMENT ON COLUMN clv_summary.last_purchase IS 'the last purchase day up to the (calibration) end';
COMMENT ON COLUMN clv_summary.days_since_last IS 'days from the last purchase to the (calibration) end (classic RFM recency)';
COMMENT ON COLUMN clv_summary.frequency_holdout IS 'purchase days after calibration_end up to observation_end; NULL without a split';
COMMENT ON COLUMN clv_summary.monetary_holdout IS 'mean day-summed spend in the holdout; NULL without holdout purchases';
COMMENT ON COLUMN clv_summary.duration_holdout IS 'length of the holdout period in the time unit; NULL without a split';

COMMENT ON COLUMN clv_prediction.expected_purchases IS 'conditional expected number of purchases in the next horizon';
COMMENT ON COLUMN clv_prediction.p_alive IS 'probability that the customer is still active';
COMMENT ON COLUMN clv_prediction.expected_spend IS 'expected spend per purchase (population mean without a repeat purchase)';
COMMENT ON COLUMN clv_prediction.clv IS 'discounted value of the next horizon: margin * expected spend * discounted expected purchases';
