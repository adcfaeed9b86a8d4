-- ---------------------------------------------------------------------------
-- Training BTYD models into the catalog (src/catalog.c).
--
-- clv_train reads the source once through the shared fit path
-- (clv_fit_source: one GROUP BY reduction, validation, maximum likelihood)
-- and stores the result as a new version of the named model.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_train(name text, source text,
						  transaction_model text DEFAULT 'bgnbd',
						  spend_model text DEFAULT 'gamma_gamma',
						  options jsonb DEFAULT '{}')
RETURNS clv_models
AS 'MODULE_PATHNAME', 'clv_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_train(text, text, text, text, jsonb) IS
'fits a BTYD transaction model (bgnbd, pareto_nbd, mbgnbd, bgbb or NULL) and a spend model (gamma_gamma or NULL) on source (a table, view or SELECT with columns frequency, recency, t[, monetary_value]) and stores them as a new version of the named model in clv_models; options: time_unit, penalizer, max_iterations, tolerance, nonpositive_spend (exclude | error), verbose';

-- The newest version of a model, or an error naming the model: 42704 when
-- there is no such model, 42501 when it exists but is not readable.
CREATE FUNCTION clv_model(name text)
RETURNS clv_models
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m @extschema@.clv_models;
BEGIN
	SELECT * INTO m FROM @extschema@.clv_models c
	WHERE c.name = clv_model.name
	ORDER BY c.version DESC LIMIT 1;
	IF NOT FOUND THEN
		PERFORM @extschema@.clv_model_missing(clv_model.name);
	END IF;
	RETURN m;
END
$$;

COMMENT ON FUNCTION clv_model(text) IS
'the newest version of the named model in clv_models (the one that serves predictions)';

-- The error for a name without a visible version: 42501 when the name
-- exists but the current role may not read it, else 42704.
CREATE FUNCTION clv_model_missing(name text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
BEGIN
	SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = clv_model_missing.name;
	IF FOUND AND NOT @extschema@.clv_model_readable(n.owner, n.readers) THEN
		RAISE EXCEPTION 'permission denied for clv model "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('The model is owned by role "%s" and has not been granted to the current role.', n.owner),
				  HINT = pg_catalog.format('A member of "%s" can grant it: SELECT clv_grant_model(%L, %L).', n.owner, name, current_user);
	END IF;
	-- A Citus worker running its shard of a by-name call over a distributed
	-- table has an empty catalog of its own: say so, and how to pass the
	-- model from the coordinator instead.
	IF NOT FOUND AND EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus')
	   AND NOT EXISTS (SELECT FROM @extschema@.clv_model_names) THEN
		RAISE EXCEPTION 'clv model "%" does not exist on this node', name
			USING ERRCODE = 'undefined_object',
				  DETAIL = 'The model catalog of this node is empty: on Citus, a by-name call over a distributed table runs on the workers, and the catalog lives on the coordinator.',
				  HINT = pg_catalog.format('Make the catalog reference tables once, on the coordinator: SELECT clv_catalog_distribute(); or pass the model inline, evaluated once on the coordinator: clv_predict((SELECT params FROM clv_model(%L)), ...) or clv_cluster((SELECT params FROM clv_model(%L)), ...).', name, name);
	END IF;
	RAISE EXCEPTION 'clv model "%" does not exist', name
		USING ERRCODE = 'undefined_object',
			  HINT = 'Train it with clv_train() or clv_kmeans_train(); SELECT DISTINCT name FROM clv_models lists the models you can read.';
END
$$;

COMMENT ON FUNCTION clv_model_missing(text) IS
'raises the error for a model name without a readable version: 42501 (permission denied) when the name exists and is not granted to the current role, 42704 otherwise';

CREATE FUNCTION clv_drop_model(name text, version integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
	dropped integer;
BEGIN
	IF clv_drop_model.name IS NULL THEN
		RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = clv_drop_model.name;
	PERFORM @extschema@.clv_model_check(n, 'drop versions', NULL);
	DELETE FROM @extschema@.clv_models c
	WHERE c.name = clv_drop_model.name
	  AND (clv_drop_model.version IS NULL OR c.version = clv_drop_model.version);
	GET DIAGNOSTICS dropped = ROW_COUNT;
	IF dropped = 0 AND clv_drop_model.version IS NULL THEN
		RAISE EXCEPTION 'clv model "%" does not exist', clv_drop_model.name
			USING ERRCODE = 'undefined_object';
	ELSIF dropped = 0 THEN
		RAISE EXCEPTION 'clv model "%" has no version %', clv_drop_model.name, clv_drop_model.version
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN dropped;
END
$$;

COMMENT ON FUNCTION clv_drop_model(text, integer) IS
'removes every version of the named model from clv_models (or only the given version; the newest remaining one then serves) and returns how many versions were removed; the name stays owned and its version numbers are not reused; error 42704 if there is nothing to remove, 42501 for a model of another role';

-- Read access to a model for another role (or public): its members may
-- then use the model by name and see its rows in clv_models.
CREATE FUNCTION clv_grant_model(name text, role name)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.clv_model_owned(clv_grant_model.name, clv_grant_model.role);
	UPDATE @extschema@.clv_model_names c
	SET readers = c.readers || clv_grant_model.role
	WHERE c.name = clv_grant_model.name
	  AND NOT clv_grant_model.role = ANY (c.readers);
END
$$;

COMMENT ON FUNCTION clv_grant_model(text, name) IS
'lets the members of role (or everybody, with public) read the named model and predict with it; only members of the owner role may grant';

CREATE FUNCTION clv_revoke_model(name text, role name)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.clv_model_owned(clv_revoke_model.name, clv_revoke_model.role);
	UPDATE @extschema@.clv_model_names c
	SET readers = pg_catalog.array_remove(c.readers, clv_revoke_model.role)
	WHERE c.name = clv_revoke_model.name;
END
$$;

COMMENT ON FUNCTION clv_revoke_model(text, name) IS
'takes back a read grant made with clv_grant_model';

-- Shared check of clv_grant_model and clv_revoke_model: the model exists,
-- the role exists (or is public) and the current role may manage the name.
CREATE FUNCTION clv_model_owned(name text, role name)
RETURNS void
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
BEGIN
	SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = clv_model_owned.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'clv model "%" does not exist', clv_model_owned.name
			USING ERRCODE = 'undefined_object';
	END IF;
	IF role <> 'public' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role) THEN
		RAISE EXCEPTION 'role "%" does not exist', role USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM @extschema@.clv_model_check(n, 'grant or revoke it', NULL);
END
$$;

COMMENT ON FUNCTION clv_model_owned(text, name) IS
'raises an error unless the named model exists, role exists (or is public) and the current role may manage the model';

-- Version retention for scheduled retraining: keeps the newest keep
-- versions of a name and drops the rest (with the owner check of
-- clv_drop_model); returns how many were dropped.
CREATE FUNCTION clv_prune_models(name text, keep integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v integer;
	dropped integer := 0;
BEGIN
	IF keep < 1 THEN
		RAISE EXCEPTION 'keep = % must be at least 1', keep
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use clv_drop_model(name) to drop every version.';
	END IF;
	PERFORM @extschema@.clv_model(clv_prune_models.name);	-- 42704 / 42501
	FOR v IN
		SELECT c.version FROM @extschema@.clv_models c
		WHERE c.name = clv_prune_models.name
		ORDER BY c.version DESC OFFSET keep
	LOOP
		dropped := dropped + @extschema@.clv_drop_model(clv_prune_models.name, v);
	END LOOP;
	RETURN dropped;
END
$$;

COMMENT ON FUNCTION clv_prune_models(text, integer) IS
'keeps the newest keep versions of the named model and drops the older ones (only members of the owner role); returns how many versions were dropped';
