-- K-Means segmentation: training, the catalog, assignment, scan, profile, errors.
-- Deterministic data: three well separated blobs of 60 points each.
CREATE TABLE km_blobs AS
SELECT i, g,
       (ARRAY[0, 10, 0])[g] + ((i * 37) % 17) / 17.0 AS x,
       (ARRAY[0, 0, 10])[g] + ((i * 53) % 19) / 19.0 AS y
FROM (SELECT i, 1 + i % 3 AS g FROM generate_series(1, 180) i) s;

-- errors come back as SQLSTATE: message (HINT)
CREATE FUNCTION km_err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	h text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN h <> '' THEN ' (HINT: ' || h || ')' ELSE '' END;
END $$;

-- training stores version 1 and returns the row
SELECT name, version, kind, transaction_model, spend_model, n_customers, converged,
       time_unit, source, options
FROM clv_kmeans_train('km_b', 'km_blobs', ARRAY['x', 'y'], 3, '{"seed": 7}');

-- params: k, features, scaling, centroids (original and scaled), sizes, inertia
SELECT params->'k' AS k, params->'features' AS features, params->'sizes' AS sizes,
       params->'scaling'->>'method' AS scaling,
       round((params->>'inertia')::numeric, 6) AS inertia,
       jsonb_array_length(params->'centroids_scaled') AS n_scaled
FROM clv_models WHERE name = 'km_b';
SELECT ord, round((c->>0)::numeric, 4) AS x, round((c->>1)::numeric, 4) AS y
FROM clv_models, jsonb_array_elements(params->'centroids') WITH ORDINALITY AS t(c, ord)
WHERE name = 'km_b' ORDER BY ord;
-- the original-unit centroids are the means of the blobs
SELECT g, round(avg(x), 4) AS x, round(avg(y), 4) AS y FROM km_blobs GROUP BY g ORDER BY g;
SELECT jsonb_array_length(diagnostics->'restart_inertia') AS restarts,
       diagnostics->'skipped_null_rows' AS skipped
FROM clv_models WHERE name = 'km_b';

-- every blob is one cluster; numbering 1..k (equal sizes: by centroid)
SELECT g, clv_cluster('km_b', ARRAY[x, y]) AS cluster, count(*)
FROM km_blobs GROUP BY 1, 2 ORDER BY 1, 2;
SELECT clv_cluster('km_b', ARRAY[10, 0.5]) AS near_10_0, clv_cluster('km_b', ARRAY[0, 10]) AS near_0_10;

-- the inline variant agrees
SELECT count(*) FILTER (WHERE clv_cluster(m.params, ARRAY[x, y]) = clv_cluster('km_b', ARRAY[x, y])) AS agree
FROM km_blobs, clv_models m WHERE m.name = 'km_b';

-- same seed, same model; the centroids are found whatever the seed
SELECT a.params = b.params AS same_params
FROM clv_kmeans_train('km_s', 'km_blobs', ARRAY['x', 'y'], 3, '{"seed": 42}') a,
     LATERAL (SELECT params FROM clv_kmeans_train('km_s', 'km_blobs', ARRAY['x', 'y'], 3, '{"seed": 42}')) b;
SELECT version, params->'sizes' AS sizes FROM clv_models WHERE name = 'km_s' ORDER BY version;

-- training again adds a version; the newest serves clv_cluster
SELECT version, params->'k' AS k
FROM clv_kmeans_train('km_b', 'SELECT x, y FROM km_blobs WHERE g <> 3', ARRAY['x', 'y'], 2, '{"seed": 7}');
SELECT max(clv_cluster('km_b', ARRAY[x, y])) AS max_cluster FROM km_blobs;
SELECT name, version, kind FROM clv_models WHERE name LIKE 'km\_%' ORDER BY 1, 2;

-- progress NOTICEs on request
SELECT version FROM clv_kmeans_train('km_v', 'km_blobs', ARRAY['x', 'y'], 3,
	'{"seed": 1, "n_init": 2, "verbose": true}');

-- scaling variants: none keeps the raw space; log_zscore back-transforms centroids
SELECT params->'scaling' AS scaling, round((params->>'inertia')::numeric, 4) AS inertia
FROM clv_kmeans_train('km_n', 'km_blobs', ARRAY['x', 'y'], 3, '{"scaling": "none", "seed": 3}');
SELECT params->'scaling'->>'method' AS method,
       (SELECT array_agg(round((c->>0)::numeric, 2) ORDER BY round((c->>0)::numeric, 2))
        FROM jsonb_array_elements(params->'centroids') c) AS x_centroids
FROM clv_kmeans_train('km_l', 'km_blobs', ARRAY['x', 'y'], 3, '{"scaling": "log_zscore", "seed": 3}');
SELECT clv_cluster('km_l', ARRAY[10.2, 0.3]) = clv_cluster('km_l', ARRAY[10.0, 0.6]) AS same_cluster;

-- choosing k: the elbow and the silhouette peak at the true k = 3
SELECT k, round(inertia::numeric, 4) AS inertia, round(silhouette::numeric, 4) AS silhouette
FROM clv_kmeans_scan('km_blobs', ARRAY['x', 'y'], 1, 5, '{"seed": 7}');
-- the scan fits as training does: same inertia for the same k and seed
SELECT round(s.inertia::numeric, 8) = round((m.params->>'inertia')::numeric, 8) AS same_inertia
FROM clv_kmeans_scan('km_blobs', ARRAY['x', 'y'], 3, 3, '{"seed": 42}') s,
     clv_models m WHERE m.name = 'km_s' AND m.version = 2;
-- a sampled silhouette (sample_size < rows) is close to the exact one
SELECT k, round(silhouette::numeric, 2) AS silhouette
FROM clv_kmeans_scan('km_blobs', ARRAY['x', 'y'], 3, 3, '{"seed": 7, "sample_size": 90}');

-- cluster profiles and names
CREATE TABLE km_rfm AS
SELECT i,
       (ARRAY[12, 1, 3, 1])[g] + (i % 3) AS frequency,
       (ARRAY[5, 300, 20, 280])[g] + (i % 5) AS days_since_last,
       (ARRAY[150, 20, 400, 60])[g] + (i % 7) * 2.0 AS monetary_value,
       ((ARRAY[12, 1, 3, 1])[g] + (i % 3) + 1) * ((ARRAY[150, 20, 400, 60])[g] + (i % 7) * 2.0) AS total_amount
FROM (SELECT i, 1 + (i % 10 > 2)::int + (i % 10 > 5)::int + (i % 10 > 7)::int AS g
      FROM generate_series(1, 200) i) s;
SELECT version FROM clv_kmeans_train('km_rfm', 'km_rfm', ARRAY['frequency', 'days_since_last', 'monetary_value'], 4, '{"seed": 5}');
SELECT cluster, size, round(share::numeric, 3) AS share,
       round((means->>'frequency')::numeric, 2) AS frequency,
       round((means->>'days_since_last')::numeric, 2) AS days_since_last,
       round((means->>'monetary_value')::numeric, 2) AS monetary_value,
       round(value_share::numeric, 3) AS value_share, label
FROM clv_kmeans_profile('km_rfm', 'km_rfm', 'total_amount');
SELECT cluster, size, value_share, label
FROM clv_kmeans_profile('km_b', 'SELECT x, y FROM km_blobs');
SELECT clv_kmeans_label(0.3, 1.5, 0.8) AS power, clv_kmeans_label(0.3, 0.2, 0.8) AS active_high,
       clv_kmeans_label(-0.9, -0.5, 0.1) AS inactive_mid, clv_kmeans_label(-0.2, NULL, -0.6) AS inactive_low,
       clv_kmeans_label(0.1, 0.7, NULL) AS active_frequent, clv_kmeans_label(NULL, NULL, NULL) AS none;

-- clv_cluster in parallel plans and GROUP BY
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT clv_cluster('km_s', ARRAY[x, y]) AS cluster, count(*) FROM km_blobs GROUP BY 1 ORDER BY 1;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- bad input
CREATE TABLE km_bad AS
SELECT i, i::float8 AS a, (i % 4)::float8 AS b, 5.0::numeric AS c, 'x' || i AS t,
       CASE WHEN i % 10 = 0 THEN NULL ELSE i * 2 END AS n
FROM generate_series(1, 40) i;
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 0)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 41)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['b'], 5)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 'c'], 2)$$);
SELECT params->'scaling'->'scale' AS scale
FROM clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 'c'], 2, '{"scaling": "none"}');
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 'nope'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'SELECT a FROM km_bad', ARRAY['a', 'nope'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_missing', ARRAY['a'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 't'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'SELECT a, ''NaN''::float8 AS z FROM km_bad', ARRAY['a', 'z'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'SELECT a, CASE WHEN a > 3 THEN ''Infinity''::float8 ELSE a END AS z FROM km_bad', ARRAY['a', 'z'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'SELECT -a AS a FROM km_bad', ARRAY['a'], 2, '{"scaling": "log_zscore"}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"scaling": "minmax"}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"n_inits": 3}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"n_init": 0}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"seed": -1}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"tol": "x"}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"tol": -1}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '{"sample_size": 10}')$$);
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['a'], 1, 2, '{"sample_size": 1}')$$);
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['a'], 1, 2, '{"sample_size": 10.5}')$$);
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['a'], 1, 2, '{"n_inits": 3}')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2, '[1]')$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 'a'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY[]::text[], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a', NULL], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('', 'km_bad', ARRAY['a'], 2)$$);
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'SELECT a FROM km_bad WHERE false', ARRAY['a'], 1)$$);
-- rows with a NULL feature are skipped and counted
SELECT n_customers, diagnostics->'skipped_null_rows' AS skipped
FROM clv_kmeans_train('km_e', 'km_bad', ARRAY['a', 'n'], 2);
-- past clv.kmeans_max_rows: an error with a hint
SET clv.kmeans_max_rows = 30;
SELECT km_err($$SELECT clv_kmeans_train('km_e', 'km_bad', ARRAY['a'], 2)$$);
RESET clv.kmeans_max_rows;
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['a'], 3, 2)$$);
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['a'], 0, 2)$$);
SELECT km_err($$SELECT * FROM clv_kmeans_scan('km_bad', ARRAY['b'], 2, 6)$$);
SELECT km_err($$SELECT clv_cluster('km_nope', ARRAY[1.0])$$);
SELECT km_err($$SELECT clv_cluster('km_b', ARRAY[1.0])$$);
SELECT km_err($$SELECT clv_cluster('km_b', ARRAY[1.0, NULL])$$);
SELECT km_err($$SELECT clv_cluster('km_b', ARRAY[1.0, 'NaN'])$$);
SELECT km_err($$SELECT clv_cluster('km_l', ARRAY[-2.0, 1.0])$$);
SELECT km_err($$SELECT clv_cluster('{"k": 2}'::jsonb, ARRAY[1.0])$$);
SELECT km_err($$SELECT * FROM clv_kmeans_profile('km_nope', 'km_bad')$$);
SELECT km_err($$SELECT * FROM clv_kmeans_profile('km_rfm', 'km_rfm', 'no_such_value')$$);
SELECT km_err($$SELECT * FROM clv_kmeans_profile('km_rfm', 'km_bad')$$);
-- a model of another kind
INSERT INTO clv_models (name, version, kind) VALUES ('km_btyd', 1, 'btyd');
SELECT km_err($$SELECT clv_cluster('km_btyd', ARRAY[1.0])$$);
SELECT km_err($$SELECT * FROM clv_kmeans_profile('km_btyd', 'km_bad')$$);
-- clv_drop_model removes every version; scoring then fails cleanly
SELECT clv_drop_model('km_b') AS dropped_versions;
SELECT km_err($$SELECT clv_cluster('km_b', ARRAY[1.0, 2.0])$$);

-- A version trained by an earlier statement of the same PL/pgSQL function
-- serves the next statement (the by-name cache follows the snapshot).
CREATE FUNCTION km_stale() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	seen text := '';
	ids int[];
	pt float8[];
BEGIN
	FOR k IN 2 .. 3 LOOP
		PERFORM clv_kmeans_train('km_stale', 'km_blobs', ARRAY['x', 'y'], k, '{"seed": 7}');
		ids := '{}';
		-- a simple expression: its FmgrInfo (and cache) lives for the transaction
		FOREACH pt SLICE 1 IN ARRAY ARRAY[[0.5, 0.5], [10.5, 0.5], [0.5, 10.5]]::float8[] LOOP
			ids := ids || clv_cluster('km_stale', pt);
		END LOOP;
		seen := seen || (SELECT count(DISTINCT i) FROM unnest(ids) i) || ' ';
	END LOOP;
	RETURN seen;
END
$$;
SELECT km_stale() AS clusters_seen;
DROP FUNCTION km_stale();

-- A failed lookup leaves nothing in the by-name cache: the same call site
-- finds the model once it has been trained.
CREATE FUNCTION km_retry() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	got text := '';
BEGIN
	FOR i IN 1 .. 2 LOOP
		BEGIN
			got := got || clv_cluster('km_retry', ARRAY[0.5, 0.5]::float8[]) || ' ';
		EXCEPTION WHEN undefined_object THEN
			got := got || 'missing ';
			PERFORM clv_kmeans_train('km_retry', 'km_blobs', ARRAY['x', 'y'], 3, '{"seed": 7}');
		END;
	END LOOP;
	RETURN got;
END
$$;
SELECT km_retry() AS lookups;
DROP FUNCTION km_retry();

-- Row order does not matter (issue 10): three orders of one multiset of rows
-- with ties and duplicates (every distinct row five times, many equal
-- coordinates) give byte-identical models and scans.  Each copy is written
-- in its order (random with a seed, reversed, by a hash), so a scan reads it
-- in that order.
CREATE TABLE km_ord AS
SELECT i, (j % 6) * 0.5 AS x, ((j * 7) % 5)::float8 + (j % 3) * 0.25 AS y,
       CASE WHEN j % 4 = 0 THEN -0.0::float8 ELSE ((j * 5) % 9)::float8 END AS z
FROM (SELECT i, i % 60 AS j FROM generate_series(1, 300) i) s;
SELECT setseed(0.25);
CREATE TABLE km_ord_random AS SELECT * FROM km_ord ORDER BY random();
CREATE TABLE km_ord_reversed AS SELECT * FROM km_ord ORDER BY i DESC;
CREATE TABLE km_ord_hash AS SELECT * FROM km_ord ORDER BY md5(i::text);
-- the copies really are in different orders
SELECT t, (SELECT array_agg(i) FROM (SELECT i FROM km_ord_random LIMIT 3) r) AS random_first,
       (SELECT array_agg(i) FROM (SELECT i FROM km_ord_reversed LIMIT 3) r) AS reversed_first,
       (SELECT array_agg(i) FROM (SELECT i FROM km_ord_hash LIMIT 3) r) AS hash_first
FROM (VALUES ('first rows')) v(t);
SELECT count(*) AS copies, count(DISTINCT m.params::text) AS distinct_params,
       count(DISTINCT (m.options, m.diagnostics, m.n_customers, m.converged, m.iterations)::text)
           AS distinct_rest,
       min((m.params->'sizes')::text) AS sizes
FROM unnest(ARRAY['km_ord_random', 'km_ord_reversed', 'km_ord_hash']) t,
     LATERAL clv_kmeans_train('km_o_' || t, t, ARRAY['x', 'y', 'z'], 4, '{"seed": 11, "n_init": 5}') m;
-- the same for every scaling and for the scan (exact and sampled silhouette),
-- compared as the float8 bytes
SELECT sc, count(DISTINCT m.params::text) AS distinct_params
FROM unnest(ARRAY['km_ord_random', 'km_ord_reversed', 'km_ord_hash']) t,
     unnest(ARRAY['zscore', 'log_zscore', 'none']) sc,
     LATERAL clv_kmeans_train('km_o_' || t, t, ARRAY['x', 'y'], 5,
                              pg_catalog.jsonb_build_object('scaling', sc, 'seed', 2)) m
GROUP BY sc ORDER BY sc;
SELECT sample_size, count(DISTINCT scan) AS distinct_scans
FROM (SELECT t, o.sample_size,
             string_agg(s.k || ' ' || float8send(s.inertia)::text || ' ' ||
                        coalesce(float8send(s.silhouette)::text, '-'), ', ' ORDER BY s.k) AS scan
      FROM unnest(ARRAY['km_ord_random', 'km_ord_reversed', 'km_ord_hash']) t,
           (VALUES (1000), (120)) o(sample_size),
           LATERAL clv_kmeans_scan(t, ARRAY['x', 'y', 'z'], 1, 6,
                                   pg_catalog.jsonb_build_object('seed', 4, 'sample_size', o.sample_size)) s
      GROUP BY t, o.sample_size) per_copy
GROUP BY sample_size ORDER BY sample_size;
-- The issue's reproduction: the CDNOW sample (2,357 customers) in three
-- orders, k = 4 as in the README's example; was 1456.6988 / 1456.6988 /
-- 1456.6399.
CREATE TEMP TABLE km_cdnow_raw (masterid int, sampleid int, date int, cds int, sales float8);
\copy km_cdnow_raw FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
CREATE TABLE km_cdnow AS
SELECT sampleid AS customer_id,
       (clv_summary(to_date(date::text, 'YYYYMMDD'), sales, '1997-09-30', '1998-06-30', 'week')).*
FROM km_cdnow_raw GROUP BY sampleid;
CREATE TABLE km_cdnow_by_id AS SELECT * FROM km_cdnow ORDER BY customer_id;
CREATE TABLE km_cdnow_random AS SELECT * FROM km_cdnow ORDER BY random();
CREATE TABLE km_cdnow_reversed AS SELECT * FROM km_cdnow ORDER BY customer_id DESC;
SELECT count(DISTINCT m.params::text) AS distinct_params,
       min(round((m.params->>'inertia')::numeric, 4)) AS inertia,
       min((m.params->'sizes')::text) AS sizes
FROM unnest(ARRAY['km_cdnow_by_id', 'km_cdnow_random', 'km_cdnow_reversed']) t,
     LATERAL clv_kmeans_train('km_o_' || t, t, ARRAY['frequency', 'recency', 'total_amount'], 4) m;
DROP TABLE km_ord, km_ord_random, km_ord_reversed, km_ord_hash,
           km_cdnow, km_cdnow_by_id, km_cdnow_random, km_cdnow_reversed;

DELETE FROM clv_models WHERE name LIKE 'km\_%';
DROP TABLE km_blobs, km_rfm, km_bad;
DROP FUNCTION km_err(text);
