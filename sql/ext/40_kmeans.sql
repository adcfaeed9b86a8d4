-- ---------------------------------------------------------------------------
-- K-Means segmentation (src/kmeans.c, src/kmeans_fmgr.c).
-- Models live in clv_models with kind = 'kmeans'; params holds k, features,
-- the scaling, centroids (original and scaled units), sizes and inertia.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_kmeans_train(name text, source text, features text[], k int,
		options jsonb DEFAULT '{}')
RETURNS clv_models
AS 'MODULE_PATHNAME', 'clv_kmeans_train'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_kmeans_train(text, text, text[], int, jsonb) IS
'K-Means (greedy k-means++ seeding, Hamerly-accelerated Lloyd, n_init restarts) on the named columns of source; stores the next version of the model in clv_models and returns that row. Options: n_init (10), max_iter (300), tol (1e-4), seed (0), scaling (zscore | log_zscore | none), verbose (false)';

CREATE FUNCTION clv_cluster(name text, features float8[])
RETURNS int
AS 'MODULE_PATHNAME', 'clv_cluster'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_cluster(text, float8[]) IS
'Cluster number (1..k, largest cluster first) of one customer under the newest version of a K-Means model; features in the model''s order and original units';

CREATE FUNCTION clv_cluster(params jsonb, features float8[])
RETURNS int
AS 'MODULE_PATHNAME', 'clv_cluster_params'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_cluster(jsonb, float8[]) IS
'Cluster number (1..k) of one customer under K-Means model parameters given inline (the params of a clv_models row of kind kmeans)';

CREATE FUNCTION clv_kmeans_scan(source text, features text[], k_min int, k_max int,
		options jsonb DEFAULT '{}')
RETURNS TABLE (k int, inertia float8, silhouette float8)
AS 'MODULE_PATHNAME', 'clv_kmeans_scan'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_kmeans_scan(text, text[], int, int, jsonb) IS
'Inertia and mean silhouette for each k from k_min to k_max (elbow and silhouette methods); silhouette exact up to sample_size (10000) rows, else on a seeded sample of that size; NULL for k = 1';
