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
'fits a BTYD transaction model (bgnbd, pareto_nbd, mbgnbd, bgbb or NULL) and a spend model (gamma_gamma or NULL) on source (a table, view or SELECT with columns frequency, recency, t[, monetary_value]) and stores them as a new version of the named model in clv_models; options: time_unit, penalizer, max_iterations, tolerance';

-- The newest version of a model, or an error naming the model.
CREATE FUNCTION clv_model(name text)
RETURNS clv_models
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	m @extschema@.clv_models;
BEGIN
	SELECT * INTO m FROM @extschema@.clv_models c
	WHERE c.name = clv_model.name
	ORDER BY c.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'clv model "%" does not exist', clv_model.name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Train it with clv_train() or list the models with SELECT DISTINCT name FROM clv_models.';
	END IF;
	RETURN m;
END
$$;

COMMENT ON FUNCTION clv_model(text) IS
'the newest version of the named model in clv_models (the one that serves predictions)';

CREATE FUNCTION clv_drop_model(name text, version integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
DECLARE
	n integer;
BEGIN
	IF clv_drop_model.name IS NULL THEN
		RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	DELETE FROM @extschema@.clv_models c
	WHERE c.name = clv_drop_model.name
	  AND (clv_drop_model.version IS NULL OR c.version = clv_drop_model.version);
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n = 0 AND clv_drop_model.version IS NULL THEN
		RAISE EXCEPTION 'clv model "%" does not exist', clv_drop_model.name
			USING ERRCODE = 'undefined_object';
	ELSIF n = 0 THEN
		RAISE EXCEPTION 'clv model "%" has no version %', clv_drop_model.name, clv_drop_model.version
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN n;
END
$$;

COMMENT ON FUNCTION clv_drop_model(text, integer) IS
'removes every version of the named model from clv_models (or only the given version; the newest remaining one then serves) and returns how many versions were removed; error 42704 if there is nothing to remove';
