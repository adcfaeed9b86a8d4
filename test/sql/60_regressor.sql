-- Supervised models (XGBoost): training, the catalog row, prediction, and
-- every bad input of issue 12 as a clean SQLSTATE error.
CREATE TABLE rg AS
SELECT i AS customer_id, (i % 7)::float8 AS a, (i % 13) AS b, ((i * 37) % 101) / 10.0 AS c,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'x' || i END AS label,
       (i % 7) * 2.0 + (i % 13) + ((i * 37) % 101) / 100.0 AS y
FROM generate_series(1, 300) i;

-- errors come back as SQLSTATE: message (HINT)
CREATE FUNCTION rg_err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	h text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN h <> '' THEN ' (HINT: ' || h || ')' ELSE '' END;
END $$;

-- features NULL: every numeric column but the target and id-like keys
SELECT name, version, kind, n_customers, iterations, source, converged, options,
       params->'features' AS features, params->>'target' AS target, params->>'format' AS format,
       params->'xgboost_params' AS xgboost_params, diagnostics,
       artifact IS NOT NULL AS has_booster,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(params->'importance') k) AS importance
FROM clv_regressor_train('rg1', 'rg', 'y');

-- predictions: a row, missing values (NULL and NaN), and one query over a table
SELECT round(clv_regressor_predict('rg1', ARRAY[3, 5, 2.5])::numeric, 3) AS p,
       clv_regressor_predict('rg1', ARRAY[NULL, 5, 'NaN'::float8]) = clv_regressor_predict('rg1', ARRAY['NaN'::float8, 5, NULL]) AS missing_same,
       clv_regressor_predict('rg1', ARRAY[NULL, 5, 'NaN'::float8]) <> clv_regressor_predict('rg1', ARRAY[3, 5, NULL]) AS missing_is_not_a;
SELECT count(*) AS scored, round(avg(abs(clv_regressor_predict('rg1', ARRAY[a, b, c]) - y))::numeric, 1) AS mean_abs_err
FROM rg;

-- a NULL target is skipped and counted (NOTICE, diagnostics); a NULL feature is a missing value
SELECT diagnostics->'skipped_null_target_rows' AS skipped, diagnostics->'missing_values' AS missing,
       n_customers
FROM clv_regressor_train('rg2', 'SELECT a, CASE WHEN customer_id % 5 = 0 THEN NULL ELSE b END AS b, '
                         'CASE WHEN customer_id % 3 = 0 THEN NULL ELSE y END AS y FROM rg', 'y', ARRAY['a', 'b']);

-- in parallel workers (each loads the booster): the same predictions as serially
CREATE TEMP TABLE rg_serial AS SELECT customer_id, clv_regressor_predict('rg1', ARRAY[a, b, c]) AS p FROM rg;
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*) AS rows, count(*) FILTER (WHERE s.p = clv_regressor_predict('rg1', ARRAY[r.a, r.b, r.c])) AS equal
FROM rg r JOIN rg_serial s USING (customer_id);
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE rg_serial;

-- cross-validation metrics with their spread, early stopping, random forest
SELECT params->'metrics'->'cv'->'folds' AS folds,
       jsonb_array_length(params->'metrics'->'cv'->'r2'->'folds') AS r2_folds,
       (params->'metrics'->'cv'->'r2'->>'mean')::float8 > 0.9 AS good_r2,
       params->'metrics' ? 'training' AS has_training
FROM clv_regressor_train('rg3', 'rg', 'y', ARRAY['a', 'b', 'c'], '{"cv_folds": 4, "n_rounds": 20}');
SELECT params->'metrics'->'early_stopping'->>'metric' AS metric,
       (params->'metrics'->'early_stopping'->>'rounds_run')::int < 1000 AS stopped_early,
       params->'n_rounds' = to_jsonb(iterations) AS rounds_stored,
       diagnostics->'validation_rows' AS validation_rows
FROM clv_regressor_train('rg4', 'rg', 'y', NULL, '{"early_stopping_rounds": 3, "n_rounds": 1000, "eta": 0.3}');
SELECT options->'n_trees' AS n_trees, params->'xgboost_params'->>'num_parallel_tree' AS trees, iterations
FROM clv_regressor_train('rg5', 'rg', 'y', NULL, '{"mode": "random_forest", "n_trees": 20}');

-- the same rows in any order give the same model, byte for byte
SELECT (SELECT artifact FROM clv_regressor_train('rg6', 'SELECT * FROM rg ORDER BY customer_id DESC', 'y',
                                                 NULL, '{"subsample": 0.5, "seed": 3}'))
     = (SELECT artifact FROM clv_regressor_train('rg6', 'SELECT * FROM rg ORDER BY random()', 'y',
                                                 NULL, '{"subsample": 0.5, "seed": 3}')) AS same_booster;

-- a wide model (300 features): the booster cache outlives the rows of a query
-- (each row's arrays are far larger than what the first row allocated)
DO $$
BEGIN
	EXECUTE 'CREATE TABLE rgw AS SELECT i AS customer_id, '
		|| (SELECT string_agg(format('((i * %s) %% 17)::float8 AS f%s', j, j), ', ' ORDER BY j)
			FROM generate_series(1, 300) j)
		|| ', (i % 17)::float8 AS y FROM generate_series(1, 60) i';
END $$;
SELECT n_customers, jsonb_array_length(params->'features') AS features
FROM clv_regressor_train('rgw', 'rgw', 'y', NULL, '{"n_rounds": 5}');
CREATE FUNCTION rgw_mismatches() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	arr text := (SELECT 'ARRAY[' || string_agg('f' || j, ', ' ORDER BY j) || ']' FROM generate_series(1, 300) j);
	r record;
	single float8;
	bad bigint := 0;
BEGIN
	-- all rows in one query, then each row in a query of its own
	FOR r IN EXECUTE format('SELECT customer_id, clv_regressor_predict(''rgw'', %s) AS p FROM rgw', arr) LOOP
		EXECUTE format('SELECT clv_regressor_predict(''rgw'', %s) FROM rgw WHERE customer_id = $1', arr)
			INTO single USING r.customer_id;
		IF single IS DISTINCT FROM r.p THEN
			bad := bad + 1;
		END IF;
	END LOOP;
	RETURN bad;
END $$;
SELECT rgw_mismatches() AS mismatches;
DROP FUNCTION rgw_mismatches();
DROP TABLE rgw;

-- bad input
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'nope')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y', ARRAY['a', 'nope'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT a, y FROM rg', 'y', ARRAY['nope'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y', ARRAY['a', 'label'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'label', ARRAY['a'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y', ARRAY['a', 'y'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y', ARRAY['a', 'a'])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y', ARRAY[]::text[])$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT label, y FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT * FROM rg WHERE false', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT a, NULL::float8 AS y FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT * FROM rg LIMIT 3', 'y', NULL, '{"cv_folds": 5}')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT * FROM rg LIMIT 2', 'y', NULL, '{"early_stopping_rounds": 2, "validation_fraction": 0.1}')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT a, ''Infinity''::float8 AS y FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT ''-Infinity''::float8 AS a, y FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT 1e300::float8 AS a, y FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'SELECT a, y - 100 AS y FROM rg', 'y', NULL, '{"objective": "reg:tweedie"}')$$);
SELECT rg_err($$SELECT clv_regressor_train(NULL, 'rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', NULL)$$);
SELECT rg_err($$SELECT clv_regressor_train('bad', 'DELETE FROM rg', 'y')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '[]')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"eta": 0}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"max_depth": 2.5}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"n_rounds": "10"}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"seed": 1e400}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"objective": "reg:linear"}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"n_round": 10}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"mode": "random_forest", "n_rounds": 10}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"n_trees": 10}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"huber_slope": 2}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"validation_fraction": 0.5}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"cv_folds": 3, "early_stopping_rounds": 3}')$$);
SELECT rg_err($$SELECT clv_regressor_train('rg1', 'rg', 'y', NULL, '{"nthread": 0}')$$);
SELECT rg_err($$SELECT clv_regressor_train('seg_rg', 'rg', 'y')$$) FROM clv_kmeans_train('seg_rg', 'rg', ARRAY['a', 'b'], 2);
-- the training matrix is bounded (TABLESAMPLE hint)
SET clv.regressor_max_values = 500;
SELECT rg_err($$SELECT clv_regressor_train('bad', 'rg', 'y')$$);
RESET clv.regressor_max_values;
SELECT count(*) AS no_bad_model FROM clv_models WHERE name = 'bad';

-- prediction errors
SELECT rg_err($$SELECT clv_regressor_predict('rg1', ARRAY[1, 2])$$);
SELECT rg_err($$SELECT clv_regressor_predict('rg1', ARRAY[1, 2, 3, 4])$$);
SELECT rg_err($$SELECT clv_regressor_predict('rg1', ARRAY[[1, 2, 3]])$$);
SELECT rg_err($$SELECT clv_regressor_predict('rg1', ARRAY[1, 'Infinity'::float8, 3])$$);
SELECT rg_err($$SELECT clv_regressor_predict('rg1', ARRAY[1, 1e300, 3])$$);
SELECT rg_err($$SELECT clv_regressor_predict('no_such_model', ARRAY[1, 2, 3])$$);
SELECT rg_err($$SELECT clv_regressor_predict('seg_rg', ARRAY[1, 2])$$);
SELECT rg_err($$SELECT clv_cluster('rg1', ARRAY[1, 2, 3])$$);
-- an artifact is stored by clv_regressor_train only, not by a plain INSERT
-- (XGBoost's loader does not survive arbitrary bytes)
SELECT rg_err($$INSERT INTO clv_models (name, kind, params, artifact) VALUES ('forged', 'regressor', '{"features": ["a", "b", "c"]}', '\x7b00')$$);
SELECT rg_err($$INSERT INTO clv_models (name, kind, params, artifact) SELECT 'forged', kind, params, artifact FROM clv_models WHERE name = 'rg1' AND version = 1$$);
SELECT count(*) AS forged FROM clv_models WHERE name = 'forged';
-- XGBoost's own errors are ERRORs (38000) with its text in the detail: a
-- damaged booster (only a role that bypasses row-level security can write one)
UPDATE clv_models SET artifact = '\x7b00'::bytea WHERE name = 'rg5';
SELECT rg_err($$SELECT clv_regressor_predict('rg5', ARRAY[1, 2, 3])$$);
UPDATE clv_models SET artifact = NULL WHERE name = 'rg5';
SELECT rg_err($$SELECT clv_regressor_predict('rg5', ARRAY[1, 2, 3])$$);
SELECT clv_regressor_predict(NULL, ARRAY[1, 2, 3]) IS NULL AS strict_name,
       clv_regressor_predict('rg1', NULL) IS NULL AS strict_features;

-- a newer version is seen by the next query
SELECT round(clv_regressor_predict('rg1', ARRAY[3, 5, 2.5])::numeric, 3) AS before;
SELECT version FROM clv_regressor_train('rg1', 'SELECT a, b, c, y * 2 AS y FROM rg', 'y');
SELECT round(clv_regressor_predict('rg1', ARRAY[3, 5, 2.5])::numeric, 3) AS after;

SELECT clv_drop_model(name) FROM (SELECT DISTINCT name FROM clv_models WHERE name LIKE 'rg%' OR name = 'seg_rg' ORDER BY 1) n;
DROP FUNCTION rg_err(text);
DROP TABLE rg;
