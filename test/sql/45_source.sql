-- The source reader contract (src/source.c): a source is a table or view
-- name, or exactly one read-only query, checked before anything runs.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- errors come back as SQLSTATE: message
CREATE FUNCTION src_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE src_rows AS
SELECT g AS customer_id, (g % 4)::float8 AS frequency, (g % 4)::float8 * 2 AS recency,
	   10::float8 AS t, CASE WHEN g % 4 > 0 THEN 10 + g % 7 END::float8 AS monetary_value,
	   g::float8 AS a, (g * g % 17)::float8 AS b, (g % 5)::float8 AS c,
	   (g % 3)::float8 AS frequency_holdout, 5::float8 AS duration_holdout
FROM generate_series(1, 100) g;
CREATE SEQUENCE src_seq;
CREATE SCHEMA src_other;
CREATE TABLE src_other.src_rows (x int);
CREATE TABLE "Src Quoted" (x int);

-- names resolve under search_path and come back schema-qualified and quoted
SELECT clv_source_sql('src_rows') AS plain, clv_source_sql(' public . "src_rows" ') AS spaced,
	   clv_source_sql('"Src Quoted"') AS quoted, clv_source_sql('SRC_ROWS') AS folded;
SET search_path = src_other, public;
SELECT clv_source_sql('src_rows') AS first_in_path;
RESET search_path;

-- a query comes back parenthesised, without what follows its last token;
-- a trailing "--" comment cannot swallow the closing parenthesis
SELECT clv_source_sql('SELECT 1 AS x') AS q1,
	   clv_source_sql(E'  select 1 ;; \n ') AS q2,
	   clv_source_sql('SELECT 1 -- no newline') AS q3,
	   clv_source_sql('(SELECT 1) UNION ALL (SELECT 2)') AS q4;
SELECT clv_source_sql('VALUES (1), (2)') AS q5, clv_source_sql('TABLE src_rows') AS q6,
	   clv_source_sql('WITH w AS (SELECT 1 AS x) SELECT x FROM w;') AS q7;
SELECT count(*) AS n FROM clv_kmeans_scan('SELECT a, b FROM src_rows -- all rows',
										  ARRAY['a', 'b'], 2, 2);

-- what a source may not be: 42601 naming the problem
SELECT src_err($$SELECT clv_source_sql('SELECT 1; SELECT 2')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT 1;;SELECT 2;')$$);
SELECT src_err($$SELECT clv_source_sql('DELETE FROM src_rows')$$);
SELECT src_err($$SELECT clv_source_sql('INSERT INTO src_rows DEFAULT VALUES RETURNING *')$$);
SELECT src_err($$SELECT clv_source_sql('UPDATE src_rows SET a = 0 RETURNING *')$$);
SELECT src_err($$SELECT clv_source_sql('CREATE TABLE src_new (x int)')$$);
SELECT src_err($$SELECT clv_source_sql('COPY src_rows TO STDOUT')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT * INTO src_new FROM src_rows')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT * FROM src_rows FOR UPDATE')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT * FROM (SELECT * FROM src_rows FOR SHARE) s')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT (SELECT a FROM src_rows LIMIT 1 FOR NO KEY UPDATE)')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT 1 UNION SELECT * FROM (SELECT 2 FROM src_rows FOR KEY SHARE) s')$$);
SELECT src_err($$SELECT clv_source_sql('WITH d AS (DELETE FROM src_rows RETURNING *) SELECT * FROM d')$$);
SELECT src_err($$SELECT clv_source_sql('SELECT 1) AS s; SELECT (1')$$);
SELECT src_err($$SELECT clv_source_sql('')$$);
SELECT src_err($$SELECT clv_source_sql(' ; -- nothing')$$);
-- and what a name may not be
SELECT src_err($$SELECT clv_source_sql('src_missing')$$);
SELECT src_err($$SELECT clv_source_sql('src_seq_missing.x')$$);
SELECT src_err($$SELECT clv_source_sql('pg_class_oid_index')$$);

-- Every function that reads a source refuses a second statement and DML
-- with 42601 before running anything: the sequence does not move and
-- src_rows keeps its rows.  The first form once ended the subquery clv
-- builds around the source and ran a statement of its own.
SELECT version FROM clv_kmeans_train('src_profile', 'src_rows', ARRAY['a', 'b'], 2);
CREATE TABLE src_bad (label text, source text);
INSERT INTO src_bad VALUES
	('two statements', 'SELECT * FROM src_rows) AS s; SELECT nextval(''src_seq'') FROM (SELECT 1'),
	('two statements, plain', 'SELECT * FROM src_rows; SELECT nextval(''src_seq'')'),
	('DML', 'DELETE FROM src_rows RETURNING *'),
	('DML in WITH', 'WITH d AS (DELETE FROM src_rows RETURNING *) SELECT * FROM d');
SELECT b.label, f.fn, src_err(format(f.call, b.source)) AS error
FROM src_bad b,
	 (VALUES ('clv_fit', $$SELECT clv_fit(%L)$$),
			 ('clv_train', $$SELECT clv_train('src_m', %L)$$),
			 ('clv_kmeans_train', $$SELECT clv_kmeans_train('src_k', %L, ARRAY['a', 'b'], 2)$$),
			 ('clv_kmeans_scan', $$SELECT clv_kmeans_scan(%L, ARRAY['a', 'b'], 1, 2)$$),
			 ('clv_holdout_metrics', $$SELECT clv_holdout_metrics('{"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}'::jsonb, %L)$$),
			 ('clv_kmeans_profile', $$SELECT clv_kmeans_profile('src_profile', %L)$$),
			 ('clv_tracking', $$SELECT clv_tracking('{"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}'::jsonb, %L, '2020-01-01', '2020-06-01')$$))
	 AS f(fn, call)
ORDER BY b.label, f.fn;
SELECT last_value, is_called FROM src_seq;
SELECT count(*) AS rows_kept FROM src_rows;
SELECT count(*) AS models FROM clv_models WHERE name IN ('src_m', 'src_k');

-- The reproduction of the out-of-bounds read in K-Means (it read past the
-- tuple descriptor of the second statement): now a 42601 before running.
SELECT src_err($$SELECT clv_kmeans_train('oob', 'SELECT g::float8 AS a, g::float8 AS b, g::float8 AS c FROM generate_series(1,100) g) AS s; SELECT 1::float8 FROM (SELECT 1', ARRAY['a','b','c'], 2)$$);
SELECT src_err($$SELECT clv_kmeans_scan('SELECT g::float8 AS a, g::float8 AS b, g::float8 AS c FROM generate_series(1,100) g) AS s; SELECT 1::float8 FROM (SELECT 1', ARRAY['a','b','c'], 1, 2)$$);

-- the good forms still read: a name, a query with a semicolon
CREATE TABLE src_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\copy src_cbs FROM 'data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE VIEW src_cdnow AS SELECT x AS frequency, t_x AS recency, t_cal AS t FROM src_cbs;
SELECT clv_fit('src_cdnow', 'bgnbd', NULL)->'params'
	   = clv_fit('SELECT * FROM src_cdnow; -- the same rows', 'bgnbd', NULL)->'params' AS same_fit;
SELECT n_customers FROM clv_holdout_metrics('{"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}'::jsonb,
											'SELECT * FROM src_rows;');
SELECT n_customers FROM clv_kmeans_train('src_k', 'src_rows', ARRAY['a', 'b'], 2);
SELECT n_customers FROM clv_kmeans_train('src_k', 'TABLE src_rows;', ARRAY['a', 'b'], 2);
SELECT sum(clv_drop_model(name)) AS dropped FROM (SELECT DISTINCT name FROM clv_models WHERE name LIKE 'src\_%') s;
