-- What K-Means checks before reading a source, who may raise its row limit,
-- and the memory of the per-query model caches of the name-based and
-- inline-params functions when the model changes from row to row.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- How much the backend grows (all memory contexts, the open cursor's
-- included) while `query` returns `n` rows after a warm-up of `warmup` rows.
CREATE FUNCTION cl_growth(query text, warmup int, n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	c refcursor;
	before bigint;
BEGIN
	OPEN c NO SCROLL FOR EXECUTE query;
	MOVE FORWARD warmup IN c;
	SELECT sum(total_bytes) INTO before FROM pg_backend_memory_contexts;
	MOVE FORWARD n IN c;
	RETURN (SELECT sum(total_bytes) FROM pg_backend_memory_contexts) - before;
END $$;

CREATE TABLE cl_rows AS
SELECT g::float8 AS a, (g * g % 17)::float8 AS b, (g % 5)::float8 AS c
FROM generate_series(1, 100) g;

-- names the prediction functions would read as inline params are refused,
-- with clv_train's message
SELECT clv_kmeans_train('{"k": 2}', 'cl_rows', ARRAY['a', 'b'], 2);
SELECT clv_kmeans_train(' [1]', 'cl_rows', ARRAY['a', 'b'], 2);
SELECT clv_train('{"k": 2}', 'cl_rows');
SELECT clv_kmeans_train('', 'cl_rows', ARRAY['a', 'b'], 2);

-- the arguments are checked before the source is read: with a missing
-- source, the error is about the argument
SELECT clv_kmeans_train('cl', 'cl_missing', ARRAY['a'], 10001);
SELECT clv_kmeans_train('cl', 'cl_missing', ARRAY['a'], 0);
SELECT clv_kmeans_train('{', 'cl_missing', ARRAY['a'], 2);
SELECT * FROM clv_kmeans_scan('cl_missing', ARRAY['a'], 2, 10001);
SELECT * FROM clv_kmeans_scan('cl_missing', ARRAY['a'], 0, 2);
SELECT * FROM clv_kmeans_scan('cl_missing', ARRAY['a'], 3, 2);

-- clv.kmeans_max_rows bounds what any role can make the backend allocate:
-- only a superuser may change it
CREATE ROLE regress_clv_cl_user;
SET ROLE regress_clv_cl_user;
SET clv.kmeans_max_rows = 100000000;
SET clv.kmeans_max_rows = 10;
SHOW clv.kmeans_max_rows;
RESET ROLE;
SET clv.kmeans_max_rows = 50;
SELECT clv_kmeans_train('cl', 'cl_rows', ARRAY['a', 'b'], 2);
RESET clv.kmeans_max_rows;
DROP ROLE regress_clv_cl_user;

-- the clv. prefix is reserved once the library is loaded: a misspelt
-- setting is an error instead of a silently ignored placeholder
SET clv.kmeans_max_row = 50;

-- 200 K-Means models; a name taken from a column resolves each model once
-- and scores like the inline params
SELECT count(*) AS trained
FROM (SELECT clv_kmeans_train('cl_k' || i, format('SELECT * FROM cl_rows WHERE a <> %s', i),
							  ARRAY['a', 'b', 'c'], 1 + i % 4, '{"n_init": 1}')
	  FROM generate_series(1, 200) i) s;
SELECT count(*) FILTER (WHERE clv_cluster('cl_k' || (1 + g % 200), ARRAY[r.a, r.b, r.c])
							  = clv_cluster(m.params, ARRAY[r.a, r.b, r.c])) AS agree,
	   count(*) AS n
FROM generate_series(1, 2000) g
JOIN cl_rows r ON r.a = 1 + g % 100
JOIN clv_models m ON m.name = 'cl_k' || (1 + g % 200);

-- Memory stays bounded when the model changes on every row: 20000 rows
-- grow the backend by less than 1 MB (it was about 2 KB per row, 40 MB
-- here, for inline params and for names).
SELECT cl_growth($$SELECT clv_cluster(jsonb_set(m.params, '{inertia}', to_jsonb(g)), ARRAY[1, 2, 3]::float8[])
				   FROM generate_series(1, 50000) g, clv_models m WHERE m.name = 'cl_k1'$$,
				 1000, 20000) < 1000000 AS kmeans_params_bounded;
SELECT cl_growth($$SELECT clv_cluster('cl_k' || (1 + g % 200), ARRAY[1, 2, 3]::float8[])
				   FROM generate_series(1, 50000) g$$,
				 1000, 20000) < 1000000 AS kmeans_names_bounded;

-- The same for the BTYD name-based predictions: 40 models, each on the
-- CDNOW customers but one fortieth, resolved by a name from a column.
CREATE TABLE cl_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy cl_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE VIEW cl_cdnow AS SELECT cust, x AS frequency, t_x AS recency, t_cal AS t FROM cl_cbs;
SET client_min_messages = error;
SELECT count(*) AS trained
FROM (SELECT clv_train('cl_b' || i, format('SELECT * FROM cl_cdnow WHERE cust %% 40 <> %s', i),
					   'bgnbd', NULL)
	  FROM generate_series(0, 39) i) s;
RESET client_min_messages;
SELECT count(*) FILTER (WHERE clv_p_alive('cl_b' || (g % 40), 2, 30, 38)
							  = clv_p_alive(m.params, 2, 30, 38)) AS agree,
	   count(DISTINCT clv_p_alive('cl_b' || (g % 40), 2, 30, 38)) AS distinct_values,
	   count(*) AS n
FROM generate_series(1, 4000) g JOIN clv_models m ON m.name = 'cl_b' || (g % 40);
-- inline params as text, a different text on every row: each text used to
-- be kept for the rest of the query (about 400 bytes a row here)
SELECT cl_growth($$SELECT clv_p_alive(jsonb_set(m.params, '{r}',
												 to_jsonb((m.params->>'r')::float8 + g * 1e-9))::text, 2, 30, 38)
				   FROM generate_series(1, 50000) g, clv_models m WHERE m.name = 'cl_b1'$$,
				 1000, 10000) < 1000000 AS btyd_json_bounded;

SELECT sum(clv_drop_model(name)) AS dropped
FROM (SELECT DISTINCT name FROM clv_models WHERE name LIKE 'cl\_%') s;
DROP VIEW cl_cdnow;
DROP TABLE cl_cbs, cl_rows;
