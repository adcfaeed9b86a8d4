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

-- Cluster names from a cluster's standing in the population.  Arguments are
-- standardized deviations (cluster mean - population mean) / population sd
-- of an activity measure (higher = more recently active), of purchase
-- frequency and of spend; NULL when the model has no such feature.
CREATE FUNCTION clv_kmeans_label(activity float8, frequency float8, spend float8)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
	act text;
	tier text;
	freq text;
BEGIN
	IF frequency > 1 AND coalesce(activity, 0) >= 0 AND coalesce(spend, 0) >= -0.25 THEN
		RETURN 'Loyal power users';
	END IF;
	act := CASE WHEN activity IS NULL THEN NULL
				WHEN activity >= 0 THEN 'Active' ELSE 'Inactive' END;
	tier := CASE WHEN spend IS NULL THEN NULL
				 WHEN spend > 0.5 THEN 'high-value'
				 WHEN spend < -0.25 THEN 'low-value' ELSE 'mid-tier' END;
	freq := CASE WHEN frequency IS NULL THEN NULL
				 WHEN frequency > 0.5 THEN 'frequent'
				 WHEN frequency < -0.25 THEN 'rare' ELSE 'regular' END;
	IF act IS NOT NULL AND tier IS NOT NULL THEN
		RETURN act || ' ' || tier;
	ELSIF act IS NOT NULL THEN
		RETURN act || ' ' || coalesce(freq || ' ', '') || 'buyers';
	ELSIF tier IS NOT NULL THEN
		RETURN initcap(coalesce(freq, 'regular')) || ' ' || tier || ' buyers';
	ELSIF freq IS NOT NULL THEN
		RETURN initcap(freq) || ' buyers';
	END IF;
	RETURN NULL;
END;
$$;

COMMENT ON FUNCTION clv_kmeans_label(float8, float8, float8) IS
'Segment name from standardized deviations (cluster mean - population mean) / population sd of activity, frequency and spend: "Loyal power users" if frequency > 1, activity >= 0 and spend >= -0.25; else Active/Inactive (activity >= 0 or < 0) + high-value (spend > 0.5) / mid-tier / low-value (spend < -0.25); see the README for the cases with missing measures';

-- The feature semantics behind the labels: which feature measures activity,
-- frequency and spend, by name (the first listed name the model has wins).
CREATE FUNCTION clv_kmeans_profile(name text, source text, value_column text DEFAULT NULL)
RETURNS TABLE (cluster int, size bigint, share float8, means jsonb, value_share float8, label text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	params jsonb;
	kind text;
	feats text[];
	src text;
	fx text[] := '{}';
	nn text[] := '{}';
	agg text[] := '{}';
	pagg text[] := '{}';
	mean_pairs text[] := '{}';
	act_expr text := 'NULL::float8';
	freq_expr text := 'NULL::float8';
	spend_expr text := 'NULL::float8';
	f text;
	i int;
	pos int;
BEGIN
	IF name IS NULL OR source IS NULL THEN
		RAISE EXCEPTION 'name and source must not be NULL' USING ERRCODE = '22004';
	END IF;
	SELECT m.params, m.kind INTO params, kind
	FROM @extschema@.clv_models m
	WHERE m.name = clv_kmeans_profile.name
	ORDER BY m.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'K-Means model "%" does not exist', name
			USING ERRCODE = '42704', HINT = 'Train it with clv_kmeans_train().';
	ELSIF kind <> 'kmeans' THEN
		RAISE EXCEPTION 'model "%" is not a K-Means model', name USING ERRCODE = '42809';
	END IF;
	feats := ARRAY(SELECT jsonb_array_elements_text(params -> 'features'));
	-- one read-only query or a relation, checked before anything runs
	src := @extschema@.clv_source_sql(source);

	FOR i IN 1 .. array_length(feats, 1) LOOP
		f := format('f%s', i);
		fx := fx || format('s.%I::float8 AS %s', feats[i], f);
		nn := nn || format('s.%I IS NOT NULL', feats[i]);
		agg := agg || format('avg(%s) AS %s', f, f);
		pagg := pagg || format('avg(%s) AS m%s, nullif(stddev_pop(%s), 0) AS s%s', f, i, f, i);
		mean_pairs := mean_pairs || format('%L, c.%s', feats[i], f);
	END LOOP;

	-- activity: days_since_last counts against, BTYD recency for
	pos := array_position(feats, 'days_since_last');
	IF pos IS NOT NULL THEN
		act_expr := format('-(c.f%s - p.m%s) / p.s%s', pos, pos, pos);
	ELSE
		pos := array_position(feats, 'recency');
		IF pos IS NOT NULL THEN
			act_expr := format('(c.f%s - p.m%s) / p.s%s', pos, pos, pos);
		END IF;
	END IF;
	pos := coalesce(array_position(feats, 'frequency'), array_position(feats, 'n_purchases'));
	IF pos IS NOT NULL THEN
		freq_expr := format('(c.f%s - p.m%s) / p.s%s', pos, pos, pos);
	END IF;
	pos := coalesce(array_position(feats, 'monetary_value'), array_position(feats, 'total_amount'));
	IF pos IS NOT NULL THEN
		spend_expr := format('(c.f%s - p.m%s) / p.s%s', pos, pos, pos);
	END IF;

	RETURN QUERY EXECUTE format(
		'WITH d AS MATERIALIZED ('
		'  SELECT @extschema@.clv_cluster($1, ARRAY[%1$s]::float8[]) AS cluster, %2$s, %3$s AS v'
		'  FROM %4$s AS s WHERE %5$s),'
		' c AS (SELECT cluster, count(*) AS n, sum(v) AS sv, %6$s FROM d GROUP BY cluster),'
		' p AS (SELECT count(*) AS n, sum(v) AS sv, %7$s FROM d)'
		' SELECT c.cluster, c.n, c.n::float8 / p.n, jsonb_build_object(%8$s),'
		'        c.sv / nullif(p.sv, 0),'
		'        coalesce(@extschema@.clv_kmeans_label(%9$s, %10$s, %11$s), ''Cluster '' || c.cluster)'
		' FROM c, p ORDER BY c.cluster',
		array_to_string(ARRAY(SELECT format('s.%I', x) FROM unnest(feats) x), ', '),
		array_to_string(fx, ', '),
		CASE WHEN value_column IS NULL THEN 'NULL::float8' ELSE format('s.%I::float8', value_column) END,
		src,
		array_to_string(nn, ' AND '),
		array_to_string(agg, ', '),
		array_to_string(pagg, ', '),
		array_to_string(mean_pairs, ', '),
		act_expr, freq_expr, spend_expr)
	USING name;
END;
$$;

COMMENT ON FUNCTION clv_kmeans_profile(text, text, text) IS
'Per cluster of the newest version of a K-Means model over source: size, share of customers, mean features in original units, share of the total of value_column, and a name from clv_kmeans_label (activity from days_since_last or recency, frequency from frequency or n_purchases, spend from monetary_value or total_amount)';
