-- clv extension script, assembled from sql/ext/*.sql in name order.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION clv" to load this file. \quit
-- ---------------------------------------------------------------------------
-- The model catalog.
--
-- clv_model_names: one row per model name: its kind, its owner (the role
-- that first trained it), the roles that may read it and the last version
-- number handed out.  clv_models: one row per trained version.  Both are
-- registered with pg_extension_config_dump so that pg_dump keeps them (the
-- foreign key makes pg_dump load the names first).
--
-- The privilege model (README, "Security") is enforced with row-level
-- security and one trigger, without SECURITY DEFINER:
-- - a name is owned by the role that first trained it; only members of the
--   owner role train new versions of it, drop its versions or grant it;
-- - a version row is readable by members of the owner role and of the roles
--   the owner granted it to (clv_grant_model), or by everybody after a
--   grant to public;
-- - version numbers come from clv_model_names.last_version under the row
--   lock of the name, so they are never reused for a name (dropping the
--   newest version does not give its number back), they increase with
--   commit order, and trained_at (taken after the lock) follows them;
-- - trained_by, trained_at and version are set by the trigger: they cannot
--   be forged by an INSERT.  Only a role that bypasses row-level security
--   (a superuser or the extension's owner, as pg_restore runs) may store a
--   row with its own version, trained_by and trained_at.
-- ---------------------------------------------------------------------------
CREATE TABLE clv_model_names (
	name text PRIMARY KEY CHECK (name <> ''),
	kind text NOT NULL CHECK (kind IN ('btyd', 'kmeans')),
	owner name NOT NULL DEFAULT current_user,
	readers name[] NOT NULL DEFAULT '{}',
	last_version integer NOT NULL DEFAULT 0 CHECK (last_version >= 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (name, kind)
);

COMMENT ON TABLE clv_model_names IS
'clv model names: kind, owner (the role that first trained the name), readers granted by the owner, and the last version number handed out (never reused)';

CREATE TABLE clv_models (
	name text NOT NULL CHECK (name <> ''),
	version integer NOT NULL CHECK (version > 0),
	kind text NOT NULL CHECK (kind IN ('btyd', 'kmeans')),
	transaction_model text,
	spend_model text,
	params jsonb NOT NULL DEFAULT '{}',
	std_errors jsonb,
	covariance jsonb,
	log_likelihood jsonb,
	n_customers bigint,
	converged boolean,
	iterations integer,
	time_unit text,
	source text,
	options jsonb NOT NULL DEFAULT '{}',
	diagnostics jsonb,
	trained_at timestamptz NOT NULL DEFAULT now(),
	trained_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (name, version),
	FOREIGN KEY (name, kind) REFERENCES clv_model_names (name, kind)
);

COMMENT ON TABLE clv_models IS
'clv model catalog: one row per trained version; the newest version of a name serves predictions';

SELECT pg_catalog.pg_extension_config_dump('clv_model_names', '');
SELECT pg_catalog.pg_extension_config_dump('clv_models', '');

-- Whether the current role is a member of the named role (false, not an
-- error, for a role that no longer exists), or the name is 'public'.
CREATE FUNCTION clv_role_includes_me(role name)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT role = 'public'
		OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname = role
					 AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))
$$;

COMMENT ON FUNCTION clv_role_includes_me(name) IS
'true when the current role is a member of the named role (or the name is public); false for a role that does not exist';

-- Whether the current role may read the versions of a name with this owner
-- and these readers.
CREATE FUNCTION clv_model_readable(owner name, readers name[])
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@.clv_role_includes_me(owner)
		OR EXISTS (SELECT 1 FROM pg_catalog.unnest(readers) r(role)
				   WHERE @extschema@.clv_role_includes_me(r.role))
$$;

COMMENT ON FUNCTION clv_model_readable(name, name[]) IS
'true when the current role is a member of owner or of one of readers (public: everybody)';

ALTER TABLE clv_model_names ENABLE ROW LEVEL SECURITY;
CREATE POLICY clv_names_visible ON clv_model_names FOR SELECT USING (true);
CREATE POLICY clv_names_claim ON clv_model_names FOR INSERT
	WITH CHECK (owner <> 'public' AND @extschema@.clv_role_includes_me(owner));
CREATE POLICY clv_names_owner ON clv_model_names FOR UPDATE
	USING (@extschema@.clv_role_includes_me(owner))
	WITH CHECK (owner <> 'public' AND @extschema@.clv_role_includes_me(owner));

ALTER TABLE clv_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY clv_models_read ON clv_models FOR SELECT
	USING (EXISTS (SELECT 1 FROM @extschema@.clv_model_names n
				   WHERE n.name = clv_models.name
					 AND @extschema@.clv_model_readable(n.owner, n.readers)));
-- Ownership of the name is checked by the trigger (the policy would not
-- see a name claimed by the same statement).
CREATE POLICY clv_models_train ON clv_models FOR INSERT
	WITH CHECK (trained_by = current_user);
CREATE POLICY clv_models_drop ON clv_models FOR DELETE
	USING (EXISTS (SELECT 1 FROM @extschema@.clv_model_names n
				   WHERE n.name = clv_models.name
					 AND @extschema@.clv_role_includes_me(n.owner)));

-- Out of the box every role may train models of its own and read what is
-- granted to it; REVOKE these from PUBLIC to restrict who trains.  No role
-- but the extension's owner may UPDATE a version or change a name's kind
-- or owner.
GRANT SELECT, INSERT, DELETE ON clv_models TO PUBLIC;
GRANT SELECT, INSERT, UPDATE (last_version, readers) ON clv_model_names TO PUBLIC;

-- The one check of who may change a name: n's kind must be kind (unless
-- kind is NULL), and the current role a member of n's owner (unless action,
-- what members may do, is NULL: the kind check alone).  Nothing to check
-- for a name that does not exist yet (n NULL).
CREATE FUNCTION clv_model_check(n clv_model_names, action text, kind text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF n.name IS NULL THEN
		RETURN;
	END IF;
	IF kind IS NOT NULL AND n.kind <> kind THEN
		RAISE EXCEPTION 'clv model "%" is a % model, not a % model', n.name, n.kind, kind
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'One name holds models of one kind.',
				  HINT = 'Choose another name.';
	END IF;
	IF action IS NOT NULL AND NOT @extschema@.clv_role_includes_me(n.owner) THEN
		RAISE EXCEPTION 'permission denied for clv model "%"', n.name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = pg_catalog.format('The model is owned by role "%s"; only its members %s.', n.owner, action),
				  HINT = 'Use a name of your own, or ask a member of the owner role.';
	END IF;
END
$$;

COMMENT ON FUNCTION clv_model_check(clv_model_names, text, text) IS
'raises 42809 unless the name holds models of kind (when given) and 42501 unless the current role is a member of the owner (when action is given); nothing for a NULL row';

-- Numbers, owns and stamps every new version (see the header).  Runs as
-- the inserting role, so row-level security applies to what it does.
CREATE FUNCTION clv_models_stamp()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
	restoring boolean := NEW.version IS NOT NULL AND NOT pg_catalog.row_security_active(TG_RELID);
BEGIN
	FOR attempt IN 1 .. 2 LOOP
		SELECT * INTO n FROM @extschema@.clv_model_names c WHERE c.name = NEW.name;
		EXIT WHEN FOUND;
		-- a new name: claim it (a concurrent claim of the same name wins or
		-- loses on the primary key; the loser reads the winner's row)
		INSERT INTO @extschema@.clv_model_names (name, kind, owner, last_version)
		VALUES (NEW.name, NEW.kind, CASE WHEN restoring THEN NEW.trained_by ELSE current_user END, 0)
		ON CONFLICT (name) DO NOTHING;
	END LOOP;
	IF n.name IS NULL THEN
		RAISE EXCEPTION 'could not claim the clv model name "%"', NEW.name
			USING ERRCODE = 'serialization_failure', HINT = 'Retry the transaction.';
	END IF;
	-- a restore keeps its rows' owners: the kind check alone
	PERFORM @extschema@.clv_model_check(n, CASE WHEN NOT restoring THEN 'train new versions' END,
										NEW.kind);
	IF restoring THEN
		UPDATE @extschema@.clv_model_names c
		SET last_version = GREATEST(c.last_version, NEW.version)
		WHERE c.name = NEW.name;
		RETURN NEW;
	END IF;
	-- the row lock of the name serialises trainings of one name until commit
	UPDATE @extschema@.clv_model_names c
	SET last_version = c.last_version + 1
	WHERE c.name = NEW.name
	RETURNING c.last_version INTO NEW.version;
	IF NEW.version IS NULL THEN
		RAISE EXCEPTION 'permission denied for clv model "%"', NEW.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Training needs UPDATE (last_version) on clv_model_names.';
	END IF;
	NEW.trained_by := current_user;
	NEW.trained_at := pg_catalog.clock_timestamp();
	RETURN NEW;
END
$$;

CREATE TRIGGER clv_models_stamp BEFORE INSERT ON clv_models
	FOR EACH ROW EXECUTE FUNCTION clv_models_stamp();

-- Version numbers only grow, and a name keeps its kind and owner unless a
-- role that bypasses row-level security changes them.
CREATE FUNCTION clv_model_names_guard()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.last_version < OLD.last_version THEN
		RAISE EXCEPTION 'the last version of clv model "%" cannot go back from % to %',
			OLD.name, OLD.last_version, NEW.last_version
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'Version numbers are never reused.';
	END IF;
	IF pg_catalog.row_security_active(TG_RELID)
	   AND (NEW.name IS DISTINCT FROM OLD.name OR NEW.kind IS DISTINCT FROM OLD.kind
			OR NEW.owner IS DISTINCT FROM OLD.owner) THEN
		RAISE EXCEPTION 'the name, kind and owner of clv model "%" cannot be changed', OLD.name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER clv_model_names_guard BEFORE UPDATE ON clv_model_names
	FOR EACH ROW EXECUTE FUNCTION clv_model_names_guard();
-- ---------------------------------------------------------------------------
-- The source reader contract (src/source.c): a source argument is a table or
-- view name, or exactly one read-only query, checked before anything runs.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_source_sql(source text)
RETURNS text
AS 'MODULE_PATHNAME', 'clv_source_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_source_sql(text) IS
'the FROM-clause text for a source argument: a table or view name resolved under search_path and schema-qualified (42P01 if missing), or one read-only query (SELECT, VALUES, TABLE, WITH ... SELECT) parenthesised; several statements, DML, utility commands, SELECT INTO and FOR UPDATE/SHARE are 42601';
-- ---------------------------------------------------------------------------
-- Per-customer summary (RFM in the BTYD sense): the clv_summary aggregate.
-- ---------------------------------------------------------------------------

CREATE TYPE clv_summary AS (
	frequency integer,
	recency float8,
	t float8,
	monetary_value float8,
	n_purchases integer,
	total_amount float8,
	first_purchase date,
	last_purchase date,
	days_since_last integer,
	frequency_holdout integer,
	monetary_holdout float8,
	duration_holdout float8
);
COMMENT ON TYPE clv_summary IS
'per-customer summary: frequency (repeat purchase days), recency, t, monetary_value (mean repeat spend), RFM and holdout fields';

-- The transition state: one entry per distinct purchase day.  A real type
-- with text and binary I/O so that partial states travel between parallel
-- workers and Citus nodes.
CREATE TYPE clv_summary_state;

CREATE FUNCTION clv_summary_state_in(cstring) RETURNS clv_summary_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_out(clv_summary_state) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_recv(internal) RETURNS clv_summary_state
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_state_send(clv_summary_state) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE clv_summary_state (
	INPUT = clv_summary_state_in,
	OUTPUT = clv_summary_state_out,
	RECEIVE = clv_summary_state_recv,
	SEND = clv_summary_state_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE clv_summary_state IS
'transition state of clv_summary: the distinct purchase days of one customer with their net amounts';

COMMENT ON FUNCTION clv_summary_state_in(cstring) IS 'text input of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_out(clv_summary_state) IS 'text output of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_recv(internal) IS 'binary input of clv_summary_state';
COMMENT ON FUNCTION clv_summary_state_send(clv_summary_state) IS 'binary output of clv_summary_state';

CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, timestamptz, text)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_transfn'
	LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION clv_summary_combinefn(clv_summary_state, clv_summary_state)
	RETURNS clv_summary_state AS 'MODULE_PATHNAME', 'clv_summary_combinefn'
	LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION clv_summary_finalfn(clv_summary_state)
	RETURNS clv_summary AS 'MODULE_PATHNAME', 'clv_summary_finalfn'
	LANGUAGE C STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz) IS 'transition function of clv_summary';
COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, text) IS 'transition function of clv_summary';
COMMENT ON FUNCTION clv_summary_transfn(clv_summary_state, timestamptz, float8, timestamptz, timestamptz, text) IS 'transition function of clv_summary with a calibration/holdout split';
COMMENT ON FUNCTION clv_summary_combinefn(clv_summary_state, clv_summary_state) IS 'combine function of clv_summary (parallel query, Citus)';
COMMENT ON FUNCTION clv_summary_finalfn(clv_summary_state) IS 'final function of clv_summary';

-- The final function never writes on the state (it sorts a copy when the
-- days need sorting): FINALFUNC_MODIFY = READ_ONLY, so the aggregate also
-- runs as a window function and may share its state with another aggregate.
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, observation_end timestamptz) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, observation_end timestamptz, time_unit text) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_summary(purchased_at timestamptz, amount float8, calibration_end timestamptz, observation_end timestamptz, time_unit text) (
	SFUNC = clv_summary_transfn,
	STYPE = clv_summary_state,
	FINALFUNC = clv_summary_finalfn,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_summary_combinefn,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz) IS
'per-customer summary (frequency, recency, t in weeks, monetary_value, RFM fields) of purchases up to observation_end';
COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz, text) IS
'per-customer summary of purchases up to observation_end, durations in time_unit (day, week, month, year)';
COMMENT ON AGGREGATE clv_summary(timestamptz, float8, timestamptz, timestamptz, text) IS
'per-customer summary of the calibration period up to calibration_end plus holdout fields up to observation_end';

-- ---------------------------------------------------------------------------
-- RFM segments
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_rfm_segment(r_score integer, f_score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clv_rfm_segment' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION clv_rfm_segment(r_score integer, f_score integer, m_score integer) RETURNS text
	AS 'MODULE_PATHNAME', 'clv_rfm_segment' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION clv_rfm_segment(integer, integer) IS
'named RFM segment (Champions, Loyal Customers, ..., Lost) for recency and frequency scores 1-5';
COMMENT ON FUNCTION clv_rfm_segment(integer, integer, integer) IS
'named RFM segment for recency, frequency and monetary scores 1-5 (frequency and monetary averaged, half up)';
-- ---------------------------------------------------------------------------
-- Fitting the BTYD models without storing them (models-math).
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_fit(source text,
						transaction_model text DEFAULT 'bgnbd',
						spend_model text DEFAULT 'gamma_gamma',
						options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'clv_fit_sql'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION clv_fit(text, text, text, jsonb) IS
'Fits a BTYD transaction model (bgnbd, pareto_nbd, mbgnbd, bgbb) and/or the gamma_gamma spend model by maximum likelihood on source (a table, view or SELECT with columns frequency, recency, t[, monetary_value][, weight]) and returns params, std_errors, log_likelihood, n_customers, converged, iterations and diagnostics as jsonb, without storing anything';
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
-- ---------------------------------------------------------------------------
-- Predictions with the parameters inline (params jsonb) (models-math).
-- The params object is self-describing, e.g.
--   {"transaction_model": "bgnbd", "r": 0.243, "alpha": 4.414, "a": 0.793,
--    "b": 2.426, "spend_model": "gamma_gamma", "p": 6.25, "q": 3.74,
--    "gamma": 15.44}
-- exactly as stored in clv_models.params.
-- ---------------------------------------------------------------------------
CREATE TYPE clv_prediction AS (
	expected_purchases float8,
	p_alive float8,
	expected_spend float8,
	clv float8
);

COMMENT ON TYPE clv_prediction IS
'Result of clv_predict: expected purchases over the horizon, P(alive), expected spend per purchase, and the discounted value margin * expected_spend * discounted expected purchases';

CREATE FUNCTION clv_predict(params jsonb, frequency float8, recency float8, t float8,
							monetary_value float8, horizon float8,
							discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS clv_prediction
AS 'MODULE_PATHNAME', 'clv_predict_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict(jsonb, float8, float8, float8, float8, float8, float8, float8) IS
'Predicts (expected_purchases, p_alive, expected_spend, clv) for one customer over horizon time units from inline model parameters; monetary_value may be NULL (population mean spend); expected_spend and clv are NULL without a spend model';

CREATE FUNCTION clv_expected_purchases(params jsonb, frequency float8, recency float8,
									   t float8, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases(jsonb, float8, float8, float8, float8) IS
'Conditional expected number of purchases in the next horizon time units (BG/BB: periods) for a customer with this frequency, recency and t, from inline model parameters';

CREATE FUNCTION clv_p_alive(params jsonb, frequency float8, recency float8, t float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_p_alive_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_p_alive(jsonb, float8, float8, float8) IS
'Probability that a customer with this frequency, recency and t is still active (BG/BB: active in the next period), from inline model parameters';

CREATE FUNCTION clv_expected_spend(params jsonb, frequency float8, monetary_value float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_spend_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_spend(jsonb, float8, float8) IS
'Gamma-Gamma conditional expected spend per purchase given frequency repeat purchases of mean monetary_value (the population mean p*gamma/(q-1) for frequency 0)';

CREATE FUNCTION clv_value(params jsonb, frequency float8, recency float8, t float8,
						  monetary_value float8, horizon float8,
						  discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_value_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_value(jsonb, float8, float8, float8, float8, float8, float8, float8) IS
'Discounted customer value over horizon: margin * expected spend * sum over unit periods i of the purchases expected in period i / (1 + discount_rate)^i; monetary_value may be NULL';

CREATE FUNCTION clv_expected_purchases_new(params jsonb, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_new_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases_new(jsonb, float8) IS
'E[X(t)]: expected number of repeat purchases of a newly acquired customer within horizon time units, from inline model parameters';

CREATE FUNCTION clv_purchase_probability(params jsonb, n integer, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_purchase_probability_params'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_purchase_probability(jsonb, integer, float8) IS
'P(X(t) = n): probability that a newly acquired customer makes exactly n repeat purchases within horizon time units (BG/BB: horizon rounded to whole periods)';
-- ---------------------------------------------------------------------------
-- Predictions by model name (src/predict_by_name.c, src/catalog.c).
--
-- The same functions as sql/ext/30_predict.sql with the name of a model in
-- clv_models instead of the params jsonb.  The newest version of the name
-- serves; it is looked up once per query (and call site) per backend, so a
-- version trained later is used from the next query on.  STABLE: they read
-- the catalog.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_predict(name text, frequency float8, recency float8, t float8,
							monetary_value float8, horizon float8,
							discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS clv_prediction
AS 'MODULE_PATHNAME', 'clv_predict_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict(text, float8, float8, float8, float8, float8, float8, float8) IS
'expected purchases in the next horizon, P(alive), expected spend per purchase and discounted CLV (margin * expected spend * discounted expected purchases) of a customer, with the newest version of the named model; monetary_value may be NULL (no repeat purchase: population mean spend)';

CREATE FUNCTION clv_expected_purchases(name text, frequency float8, recency float8, t float8,
									   horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases(text, float8, float8, float8, float8) IS
'conditional expected number of purchases of a customer in the next horizon time units, with the newest version of the named model';

CREATE FUNCTION clv_p_alive(name text, frequency float8, recency float8, t float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_p_alive_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_p_alive(text, float8, float8, float8) IS
'probability that a customer is still active at t, with the newest version of the named model';

CREATE FUNCTION clv_expected_spend(name text, frequency float8, monetary_value float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_spend_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_spend(text, float8, float8) IS
'Gamma-Gamma conditional expected spend per purchase of a customer, with the newest version of the named model';

CREATE FUNCTION clv_value(name text, frequency float8, recency float8, t float8,
						  monetary_value float8, horizon float8,
						  discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_value_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_value(text, float8, float8, float8, float8, float8, float8, float8) IS
'discounted customer lifetime value over the next horizon (margin * expected spend * discounted expected purchases), with the newest version of the named model; monetary_value may be NULL';

CREATE FUNCTION clv_expected_purchases_new(name text, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_expected_purchases_new_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_expected_purchases_new(text, float8) IS
'expected number of purchases E[X(t)] of a newly acquired customer in a period of length horizon, with the newest version of the named model';

CREATE FUNCTION clv_purchase_probability(name text, n integer, horizon float8)
RETURNS float8
AS 'MODULE_PATHNAME', 'clv_purchase_probability_by_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_purchase_probability(text, integer, float8) IS
'probability P(X(t) = n) that a randomly chosen customer makes exactly n purchases in a period of length horizon, with the newest version of the named model';
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
SET search_path = pg_catalog, pg_temp
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
CREATE FUNCTION clv_kmeans_profile_with_path(name text, source text, value_column text,
											 caller_path text)
RETURNS TABLE (cluster int, size bigint, share float8, means jsonb, value_share float8, label text)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	params jsonb;
	kind text;
	feats text[];
	cols text[] := '{}';
	coldefs text[] := '{}';
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
	IF name IS NULL OR source IS NULL OR caller_path IS NULL THEN
		RAISE EXCEPTION 'name and source must not be NULL' USING ERRCODE = '22004';
	END IF;
	SELECT m.params, m.kind INTO params, kind FROM @extschema@.clv_model(name) m;
	IF kind <> 'kmeans' THEN
		RAISE EXCEPTION 'model "%" is not a K-Means model', name USING ERRCODE = '42809';
	END IF;
	feats := ARRAY(SELECT jsonb_array_elements_text(params -> 'features'));

	FOR i IN 1 .. array_length(feats, 1) LOOP
		f := format('f%s', i);
		cols := cols || format('s.%I::pg_catalog.float8', feats[i]);
		coldefs := coldefs || format('%s float8', f);
		fx := fx || format('s.%s', f);
		nn := nn || format('s.%s IS NOT NULL', f);
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

	cols := cols || CASE WHEN value_column IS NULL THEN 'NULL::pg_catalog.float8'
						 ELSE format('s.%I::pg_catalog.float8', value_column) END;
	coldefs := coldefs || 'v float8'::text;

	RETURN QUERY EXECUTE format(
		'WITH d AS MATERIALIZED ('
		'  SELECT @extschema@.clv_cluster($1, ARRAY[%1$s]::float8[]) AS cluster, %2$s, s.v'
		'  FROM @extschema@.clv_source_rows($2, $3, $4) AS s(%3$s) WHERE %4$s),'
		' c AS (SELECT cluster, count(*) AS n, sum(v) AS sv, %5$s FROM d GROUP BY cluster),'
		' p AS (SELECT count(*) AS n, sum(v) AS sv, %6$s FROM d)'
		' SELECT c.cluster, c.n, c.n::float8 / p.n, jsonb_build_object(%7$s),'
		'        c.sv / nullif(p.sv, 0),'
		'        coalesce(@extschema@.clv_kmeans_label(%8$s, %9$s, %10$s), ''Cluster '' || c.cluster)'
		' FROM c, p ORDER BY c.cluster',
		array_to_string(fx, ', '),
		array_to_string(fx, ', '),
		array_to_string(coldefs, ', '),
		array_to_string(nn, ' AND '),
		array_to_string(agg, ', '),
		array_to_string(pagg, ', '),
		array_to_string(mean_pairs, ', '),
		act_expr, freq_expr, spend_expr)
	USING name, source, cols, caller_path;
END;
$$;

COMMENT ON FUNCTION clv_kmeans_profile_with_path(text, text, text, text) IS
'clv_kmeans_profile with the source read in the given search_path';

CREATE FUNCTION clv_kmeans_profile(name text, source text, value_column text DEFAULT NULL)
RETURNS TABLE (cluster int, size bigint, share float8, means jsonb, value_share float8, label text)
LANGUAGE sql STABLE PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_kmeans_profile_with_path(name, source, value_column,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_kmeans_profile(text, text, text) IS
'Per cluster of the newest version of a K-Means model over source: size, share of customers, mean features in original units, share of the total of value_column, and a name from clv_kmeans_label (activity from days_since_last or recency, frequency from frequency or n_purchases, spend from monetary_value or total_amount)';
-- ---------------------------------------------------------------------------
-- Simulation: customers drawn from the BTYD purchase processes and the
-- Gamma-Gamma spend process (src/simulate.c), for tests, benchmarks and
-- what-if questions.  One seed always gives the same rows.
--
-- The C functions return a row per call, drawn as it is asked for.  In FROM
-- PostgreSQL collects all rows of a C set-returning function before the
-- first one reaches a LIMIT, so clv_simulate and clv_simulate_transactions
-- are SQL functions that the planner inlines into the calling query, where
-- they call the C function in a select list (a ProjectSet node, which pulls
-- one row at a time): SELECT * FROM clv_simulate(..., 2147483647, ...)
-- LIMIT 5 draws 5 rows.  Inlining needs a LANGUAGE sql function that is not
-- STRICT (the C functions are: NULL arguments give no rows), not VOLATILE,
-- not SECURITY DEFINER and without a SET clause (a SET search_path would
-- stop it); the SQL-standard body binds its references when the function is
-- created, so the caller's search_path cannot redirect them.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_simulate_rows(params jsonb, n_customers integer, horizon float8,
								  seed integer)
RETURNS TABLE (customer_id bigint, purchased_at float8, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate_rows(jsonb, integer, float8, integer) IS
'the rows of clv_simulate, one per call (clv_simulate calls it in a select list; use clv_simulate)';

CREATE FUNCTION clv_simulate(params jsonb, n_customers integer, horizon float8,
							 seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at float8, amount float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1000
BEGIN ATOMIC
	SELECT (s.r).customer_id, (s.r).purchased_at, (s.r).amount
	FROM (SELECT clv_simulate_rows(params, n_customers, horizon, seed) AS r) s;
END;

COMMENT ON FUNCTION clv_simulate(jsonb, integer, float8, integer) IS
'simulated purchases of n_customers customers acquired at time 0 and observed for horizon time units: '
'purchased_at in time units since acquisition (the acquisition purchase at 0 included), '
'amount from the Gamma-Gamma spend model or NULL without one';

CREATE FUNCTION clv_simulate_transactions_rows(params jsonb, n_customers integer,
											   start timestamptz, acquisition_days float8,
											   horizon float8, time_unit text, seed integer)
RETURNS TABLE (customer_id bigint, purchased_at timestamptz, amount float8)
AS 'MODULE_PATHNAME', 'clv_simulate_transactions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION clv_simulate_transactions_rows(jsonb, integer, timestamptz, float8, float8, text, integer) IS
'the rows of clv_simulate_transactions, one per call (use clv_simulate_transactions)';

CREATE FUNCTION clv_simulate_transactions(params jsonb, n_customers integer,
										  start timestamptz, acquisition_days float8,
										  horizon float8, time_unit text DEFAULT 'week',
										  seed integer DEFAULT 42)
RETURNS TABLE (customer_id bigint, purchased_at timestamptz, amount float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1000
BEGIN ATOMIC
	SELECT (s.r).customer_id, (s.r).purchased_at, (s.r).amount
	FROM (SELECT clv_simulate_transactions_rows(params, n_customers, start, acquisition_days,
												horizon, time_unit, seed) AS r) s;
END;

COMMENT ON FUNCTION clv_simulate_transactions(jsonb, integer, timestamptz, float8, float8, text, integer) IS
'simulated transactions with real timestamps, ready for clv_summary: each customer is acquired '
'uniformly within acquisition_days days after start and observed until start + horizon time units';
-- ---------------------------------------------------------------------------
-- Validation: does a fitted model predict data it has not seen?
-- Calibration vs holdout, customer-level error metrics, cohort tracking and
-- frequency x recency matrices.  Written in PL/pgSQL over the prediction
-- functions (30_predict.sql), each with a params-jsonb form and a form that
-- takes a model name from the catalog.
-- ---------------------------------------------------------------------------

-- The one reader of source arguments for the SQL-language functions: the
-- given columns (expressions over the alias s, every name in them
-- qualified) of the source, read with the caller's search_path, which the
-- pinned functions calling this pass on (the source is the caller's own
-- query and resolves as if typed at the caller's prompt).  STABLE, so the
-- source runs read-only.  The query text is built before the path is
-- switched and nothing after the switch uses an unqualified name.
CREATE FUNCTION clv_source_rows(source text, columns text[], caller_path text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	head text := 'SELECT ' || array_to_string(columns, ', ') || ' FROM ';
	q text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
	q := pg_catalog.concat(head, @extschema@.clv_source_sql(source), ' AS s');
	RETURN QUERY EXECUTE q;
END
$$;

COMMENT ON FUNCTION clv_source_rows(text, text[], text) IS
'rows of the given column expressions (over alias s) of a source argument, with the source resolved in the given search_path; call with a column definition list';

-- The params of the newest version of a BTYD model in the catalog.
CREATE FUNCTION clv_model_params(name text)
RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m @extschema@.clv_models;
BEGIN
	-- an untyped literal resolves to the text (name) form: text that is a
	-- JSON object is taken as inline params, as the name-based predictions do
	IF name ~ '^\s*[{[]' THEN
		RETURN name::jsonb;
	END IF;
	m := @extschema@.clv_model(name);
	IF m.kind <> 'btyd' THEN
		RAISE EXCEPTION 'clv model "%" is a % model, not a BTYD model', name, m.kind
			USING ERRCODE = 'wrong_object_type';
	END IF;
	RETURN m.params;
END
$$;

COMMENT ON FUNCTION clv_model_params(text) IS
'the params jsonb of the newest version of the named BTYD model (42704 if there is none, 42809 for a K-Means model); text starting with { is taken as inline params';

-- The functions that read a source come in two layers: the public one is
-- plain SQL without a pinned search_path (every name in it qualified) and
-- passes the caller's search_path on to a pinned "_with_path" function,
-- which reads the source through clv_source_rows in that path.

-- The error of every reader of a calibration/holdout summary (here and in
-- 65_compare.sql) when the source lacks one of its fields.
CREATE FUNCTION clv_holdout_field_missing(source text, message text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'source "%" lacks a calibration/holdout field: %', source, message
		USING ERRCODE = 'undefined_column',
			  HINT = 'The source needs frequency, recency, t, frequency_holdout and duration_holdout; '
				  || 'build it with the 5-argument clv_summary(purchased_at, amount, calibration_end, observation_end, time_unit).';
END
$$;

COMMENT ON FUNCTION clv_holdout_field_missing(text, text) IS
'raises 42703 for a source without the calibration/holdout fields (message: the parser''s), with a HINT naming the 5-argument clv_summary';

-- Shared by the holdout functions: the per-customer actual and predicted
-- holdout purchases, with a HINT when the source lacks the holdout fields.
CREATE FUNCTION clv_holdout_predictions_with_path(params jsonb, source text, caller_path text)
RETURNS TABLE (frequency float8, actual float8, predicted float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	msg text;
BEGIN
	RETURN QUERY
	SELECT s.frequency, s.frequency_holdout,
		   @extschema@.clv_expected_purchases(params, s.frequency, s.recency, s.t, s.duration_holdout)
	FROM @extschema@.clv_source_rows(source,
			ARRAY['s.frequency::pg_catalog.float8', 's.recency::pg_catalog.float8',
				  's.t::pg_catalog.float8', 's.frequency_holdout::pg_catalog.float8',
				  's.duration_holdout::pg_catalog.float8'], caller_path)
		 AS s(frequency float8, recency float8, t float8, frequency_holdout float8,
			  duration_holdout float8)
	WHERE s.frequency IS NOT NULL;
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		PERFORM @extschema@.clv_holdout_field_missing(source, msg);
END
$$;

COMMENT ON FUNCTION clv_holdout_predictions_with_path(jsonb, text, text) IS
'clv_holdout_predictions with the source read in the given search_path';

CREATE FUNCTION clv_holdout_predictions(params jsonb, source text)
RETURNS TABLE (frequency float8, actual float8, predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_predictions_with_path(params, source,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_predictions(jsonb, text) IS
'per customer of a calibration/holdout summary: calibration frequency, actual holdout purchases (frequency_holdout) and the model''s expected purchases over duration_holdout';

CREATE FUNCTION clv_calibration_holdout_with_path(params jsonb, source text, max_frequency integer,
												  caller_path text)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF max_frequency < 0 THEN
		RAISE EXCEPTION 'max_frequency = % must not be negative', max_frequency
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT b.f, CASE WHEN b.f = max_frequency THEN b.f || '+' ELSE b.f::text END,
		   count(*), avg(b.actual), avg(b.predicted)
	FROM (SELECT least(floor(h.frequency), max_frequency)::integer AS f, h.actual, h.predicted
		  FROM @extschema@.clv_holdout_predictions_with_path(params, source, caller_path) h) b
	GROUP BY b.f
	ORDER BY b.f;
END
$$;

COMMENT ON FUNCTION clv_calibration_holdout_with_path(jsonb, text, integer, text) IS
'clv_calibration_holdout with the source read in the given search_path';

CREATE FUNCTION clv_calibration_holdout(params jsonb, source text, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_calibration_holdout_with_path(params, source, max_frequency,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_calibration_holdout(jsonb, text, integer) IS
'calibration vs holdout: per calibration frequency (0 .. max_frequency, the last bucket "N+"), the number of customers and their mean actual and mean predicted holdout purchases; source needs frequency, recency, t, frequency_holdout, duration_holdout';

CREATE FUNCTION clv_calibration_holdout(name text, source text, max_frequency integer DEFAULT 7)
RETURNS TABLE (frequency integer, bucket text, n_customers bigint,
			   mean_actual float8, mean_predicted float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_calibration_holdout_with_path(@extschema@.clv_model_params(name),
		source, max_frequency, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_calibration_holdout(text, text, integer) IS
'calibration vs holdout for the newest version of the named model (see the params jsonb form)';

CREATE FUNCTION clv_holdout_metrics_with_path(params jsonb, source text, caller_path text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT count(*), sum(h.actual), sum(h.predicted),
		   avg(abs(h.predicted - h.actual)),
		   sqrt(avg((h.predicted - h.actual) ^ 2)),
		   corr(h.predicted, h.actual)
	FROM @extschema@.clv_holdout_predictions_with_path(params, source, caller_path) h;
END
$$;

COMMENT ON FUNCTION clv_holdout_metrics_with_path(jsonb, text, text) IS
'clv_holdout_metrics with the source read in the given search_path';

CREATE FUNCTION clv_holdout_metrics(params jsonb, source text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_metrics_with_path(params, source,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_metrics(jsonb, text) IS
'customer-level accuracy of the holdout prediction: customers, total actual vs total predicted holdout purchases, mean absolute error, root mean squared error, Pearson correlation';

CREATE FUNCTION clv_holdout_metrics(name text, source text)
RETURNS TABLE (n_customers bigint, total_actual float8, total_predicted float8,
			   mae float8, rmse float8, correlation float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_holdout_metrics_with_path(@extschema@.clv_model_params(name),
		source, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_holdout_metrics(text, text) IS
'holdout accuracy metrics for the newest version of the named model (see the params jsonb form)';

-- Tracking follows BTYD's elog2cum/ExpectedCumulativeTransactions: time runs
-- from the cohort's first purchase day (the origin); a customer born b units
-- after the origin is expected to have made E[X(k - b)] repeat purchases by
-- the end of period k; the actual count is the repeat purchase days (same-day
-- purchases merged, the first day excluded) falling in periods 1..k.
CREATE FUNCTION clv_tracking_with_path(params jsonb, transactions text,
									   calibration_end timestamptz, observation_end timestamptz,
									   time_unit text, caller_path text)
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unit_days float8;
	cal_day date := calibration_end::date;
	end_day date := observation_end::date;
	msg text;
BEGIN
	unit_days := CASE lower(time_unit)
		WHEN 'day' THEN 1 WHEN 'week' THEN 7 WHEN 'month' THEN 30.4375 WHEN 'year' THEN 365.25 END;
	IF unit_days IS NULL THEN
		RAISE EXCEPTION 'invalid time unit "%"', time_unit
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Valid time units are: day, week, month, year.';
	END IF;
	IF end_day < cal_day THEN
		RAISE EXCEPTION 'observation_end % is before calibration_end %',
			to_char(end_day, 'YYYY-MM-DD'), to_char(cal_day, 'YYYY-MM-DD')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- $1 params, $2 last day, $3 calibration end day, $4 days per time unit,
	-- $5 the transactions source, $6 the caller's search_path
	RETURN QUERY EXECUTE $q$
		WITH days AS (
			SELECT d.customer_id, d.day, min(d.day) OVER (PARTITION BY d.customer_id) AS first_day
			FROM (SELECT DISTINCT s.customer_id, s.day
				  FROM @extschema@.clv_source_rows($5,
						   ARRAY['pg_catalog.dense_rank() OVER (ORDER BY s.customer_id)',
								 's.purchased_at::pg_catalog.date'], $6)
					   AS s(customer_id bigint, day date)
				  WHERE s.day IS NOT NULL AND s.day <= $2) d
		), cohort AS (
			SELECT * FROM days WHERE first_day <= $3
		), origin AS (
			SELECT min(first_day) AS o FROM cohort
		), periods AS (
			SELECT k, least(k * $4, ($2 - o + 1)::float8) / $4 AS at
			FROM origin, generate_series(1, ceil(($2 - o + 1) / $4)::integer) k
		), births AS (
			SELECT (c.first_day - o) / $4 AS birth, count(*) AS n
			FROM cohort c, origin WHERE c.day = c.first_day GROUP BY c.first_day, o
		), expected_cum AS (
			SELECT p.k, COALESCE(sum(b.n * @extschema@.clv_expected_purchases_new($1, p.at - b.birth))
								 FILTER (WHERE b.birth < p.at), 0) AS cum
			FROM periods p CROSS JOIN births b
			GROUP BY p.k
		), actual AS (
			SELECT floor((c.day - o) / $4)::integer + 1 AS k, count(*)::float8 AS n
			FROM cohort c, origin WHERE c.day > c.first_day GROUP BY 1
		), joined AS (
			SELECT e.k, COALESCE(a.n, 0) AS n, e.cum,
				   sum(COALESCE(a.n, 0)) OVER (ORDER BY e.k) AS cum_actual
			FROM expected_cum e LEFT JOIN actual a USING (k)
		)
		SELECT j.k, o + floor((j.k - 1) * $4)::integer,
			   o + floor(j.k * $4)::integer - 1 <= $3,
			   j.n, j.cum - COALESCE(lag(j.cum) OVER (ORDER BY j.k), 0),
			   j.cum_actual, j.cum
		FROM joined j, origin
		ORDER BY j.k$q$
		USING params, end_day, cal_day, unit_days, transactions, caller_path;
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RAISE EXCEPTION 'transactions "%" lack a column: %', transactions, msg
			USING ERRCODE = 'undefined_column',
				  HINT = 'Tracking needs one row per purchase with customer_id and purchased_at.';
END
$$;

COMMENT ON FUNCTION clv_tracking_with_path(jsonb, text, timestamptz, timestamptz, text, text) IS
'clv_tracking with the transactions read in the given search_path';

CREATE FUNCTION clv_tracking(params jsonb, transactions text,
							 calibration_end timestamptz, observation_end timestamptz,
							 time_unit text DEFAULT 'week')
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_tracking_with_path(params, transactions, calibration_end,
		observation_end, time_unit, pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_tracking(jsonb, text, timestamptz, timestamptz, text) IS
'cohort tracking: per time unit since the cohort''s first purchase day, the actual and expected repeat transactions (and cumulative sums) of the customers acquired on or before calibration_end, each from their own first purchase day; transactions needs customer_id and purchased_at; calibration is true for periods ending on or before calibration_end';

CREATE FUNCTION clv_tracking(name text, transactions text,
							 calibration_end timestamptz, observation_end timestamptz,
							 time_unit text DEFAULT NULL)
RETURNS TABLE (period integer, period_start date, calibration boolean,
			   actual float8, expected float8,
			   cumulative_actual float8, cumulative_expected float8)
LANGUAGE sql STABLE PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_tracking_with_path(@extschema@.clv_model_params(name),
		transactions, calibration_end, observation_end,
		COALESCE(time_unit, (@extschema@.clv_model(name)).time_unit, 'week'),
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_tracking(text, text, timestamptz, timestamptz, text) IS
'cohort tracking for the newest version of the named model, in the model''s time unit unless one is given (see the params jsonb form)';

-- The grid behind a heatmap: frequency 0..max_frequency by recency 0..t in
-- recency_steps steps.  A customer without repeat purchases has recency 0,
-- so the frequency-0 row repeats that value across the grid (as lifetimes'
-- plots do) rather than leaving holes.
CREATE FUNCTION clv_matrix_grid(t float8, max_frequency integer, recency_steps integer)
RETURNS TABLE (frequency integer, recency float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT (t > 0 AND t < 'infinity'::float8) THEN
		RAISE EXCEPTION 't = % must be positive and finite', t USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_frequency < 0 OR max_frequency > 10000 THEN
		RAISE EXCEPTION 'max_frequency = % must be between 0 and 10000', max_frequency
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF recency_steps < 1 OR recency_steps > 10000 THEN
		RAISE EXCEPTION 'recency_steps = % must be between 1 and 10000', recency_steps
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	SELECT f, t * i / recency_steps
	FROM generate_series(0, max_frequency) f, generate_series(0, recency_steps) i
	ORDER BY f, i;
END
$$;

COMMENT ON FUNCTION clv_matrix_grid(float8, integer, integer) IS
'the frequency x recency grid of the matrix functions: frequency 0..max_frequency, recency 0..t in recency_steps equal steps';

CREATE FUNCTION clv_p_alive_matrix(params jsonb, t float8, max_frequency integer DEFAULT 20,
								   recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT g.frequency, g.recency,
		   @extschema@.clv_p_alive(params, g.frequency::float8,
								   CASE WHEN g.frequency = 0 THEN 0 ELSE g.recency END, t)
	FROM @extschema@.clv_matrix_grid(t, max_frequency, recency_steps) g;
END
$$;

COMMENT ON FUNCTION clv_p_alive_matrix(jsonb, float8, integer, integer) IS
'P(alive) on a frequency x recency grid for customers of age t, as rows (frequency, recency, value) for a heatmap (the frequency-0 row is the recency-0 value)';

CREATE FUNCTION clv_p_alive_matrix(name text, t float8, max_frequency integer DEFAULT 20,
								   recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.clv_p_alive_matrix(@extschema@.clv_model_params(name), t, max_frequency, recency_steps)
$$;

COMMENT ON FUNCTION clv_p_alive_matrix(text, float8, integer, integer) IS
'P(alive) matrix for the newest version of the named model (see the params jsonb form)';

CREATE FUNCTION clv_expected_purchases_matrix(params jsonb, t float8, horizon float8,
											  max_frequency integer DEFAULT 20,
											  recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT g.frequency, g.recency,
		   @extschema@.clv_expected_purchases(params, g.frequency::float8,
											  CASE WHEN g.frequency = 0 THEN 0 ELSE g.recency END,
											  t, horizon)
	FROM @extschema@.clv_matrix_grid(t, max_frequency, recency_steps) g;
END
$$;

COMMENT ON FUNCTION clv_expected_purchases_matrix(jsonb, float8, float8, integer, integer) IS
'expected purchases in the next horizon time units on a frequency x recency grid for customers of age t, as rows (frequency, recency, value) for a heatmap';

CREATE FUNCTION clv_expected_purchases_matrix(name text, t float8, horizon float8,
											  max_frequency integer DEFAULT 20,
											  recency_steps integer DEFAULT 20)
RETURNS TABLE (frequency integer, recency float8, value float8)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.clv_expected_purchases_matrix(@extschema@.clv_model_params(name), t, horizon,
															max_frequency, recency_steps)
$$;

COMMENT ON FUNCTION clv_expected_purchases_matrix(text, float8, float8, integer, integer) IS
'expected-purchases matrix for the newest version of the named model (see the params jsonb form)';
-- ---------------------------------------------------------------------------
-- Model choice: fit several transaction models on the calibration fields of
-- a calibration/holdout summary and compare them on the likelihood (AIC,
-- BIC) and on the holdout they have not seen, with one recommendation.
-- Written over clv_fit (20_fit.sql) and the holdout predictions
-- (60_validation.sql), in the two layers of every source reader: a public
-- SQL wrapper passing the caller's search_path to pinned functions.
-- ---------------------------------------------------------------------------

-- The row of the comparison, one per model (a type, so that both layers
-- return it and every field has its comment in the data dictionary).
CREATE TYPE clv_model_comparison AS (
	model text,
	log_likelihood float8,
	n_params integer,
	aic float8,
	bic float8,
	n_customers bigint,
	total_actual float8,
	total_predicted float8,
	total_error float8,
	mae float8,
	rmse float8,
	correlation float8,
	worst_bucket text,
	worst_bucket_customers bigint,
	worst_bucket_actual float8,
	worst_bucket_predicted float8,
	converged boolean,
	recommended boolean,
	params jsonb
);

COMMENT ON TYPE clv_model_comparison IS
'one row of clv_compare_models: a transaction model fitted on the calibration fields of a calibration/holdout summary, its likelihood criteria and its holdout accuracy';
COMMENT ON COLUMN clv_model_comparison.model IS 'the transaction model (bgnbd, mbgnbd, pareto_nbd, bgbb)';
COMMENT ON COLUMN clv_model_comparison.log_likelihood IS 'maximised log-likelihood LL on the calibration fields, as clv_fit reports it (unpenalised)';
COMMENT ON COLUMN clv_model_comparison.n_params IS 'number of parameters k (4 for every model)';
COMMENT ON COLUMN clv_model_comparison.aic IS 'Akaike information criterion 2k - 2LL (lower is better)';
COMMENT ON COLUMN clv_model_comparison.bic IS 'Bayesian information criterion k ln(n) - 2LL, n = n_customers (lower is better)';
COMMENT ON COLUMN clv_model_comparison.n_customers IS 'customers with a calibration row (frequency not NULL): those fitted and scored';
COMMENT ON COLUMN clv_model_comparison.total_actual IS 'sum of frequency_holdout: the actual holdout purchases';
COMMENT ON COLUMN clv_model_comparison.total_predicted IS 'sum of the expected purchases over duration_holdout given the calibration fields';
COMMENT ON COLUMN clv_model_comparison.total_error IS '(total_predicted - total_actual) / total_actual; NULL when total_actual is 0';
COMMENT ON COLUMN clv_model_comparison.mae IS 'mean absolute error of the per-customer holdout prediction';
COMMENT ON COLUMN clv_model_comparison.rmse IS 'root mean squared error of the per-customer holdout prediction';
COMMENT ON COLUMN clv_model_comparison.correlation IS 'Pearson correlation of predicted and actual holdout purchases';
COMMENT ON COLUMN clv_model_comparison.worst_bucket IS 'the calibration-frequency bucket (0 .. 6, 7+) of clv_calibration_holdout with the largest |sum predicted - sum actual| (ties: the lower frequency)';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_customers IS 'customers in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_actual IS 'mean actual holdout purchases in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.worst_bucket_predicted IS 'mean predicted holdout purchases in the worst bucket';
COMMENT ON COLUMN clv_model_comparison.converged IS 'whether the fit converged (clv_fit''s converged)';
COMMENT ON COLUMN clv_model_comparison.recommended IS 'true on exactly one row: among the converged models (all if none converged) whose |total_error| is at most 0.10 above the smallest |total_error|, the lowest BIC (ties: the first in models)';
COMMENT ON COLUMN clv_model_comparison.params IS 'the fitted params, as clv_fit returns them (for the params jsonb functions)';

-- One fit of the comparison: the calibration fields of the customers with a
-- calibration row (frequency not NULL, the rows the holdout predictions
-- use), read by clv_fit under the caller's search_path.  The wrapping query
-- names the holdout fields too, so that a source without them fails here,
-- before any fit, with the HINT of the holdout functions (clv_fit reads
-- only frequency, recency and t).  As in clv_source_rows, the path is
-- switched for the rest of this function only (its SET clause restores it
-- on exit) and nothing after the switch uses an unqualified name.
CREATE FUNCTION clv_compare_fit_with_path(source text, transaction_model text, options jsonb,
										  caller_path text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	msg text;
	q text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
	q := pg_catalog.concat(
		'SELECT s.frequency, s.recency, s.t, s.frequency_holdout, s.duration_holdout FROM ',
		@extschema@.clv_source_sql(source), ' AS s WHERE s.frequency IS NOT NULL');
	RETURN @extschema@.clv_fit(q, transaction_model, NULL, options);
EXCEPTION
	WHEN undefined_column THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		PERFORM @extschema@.clv_holdout_field_missing(source, msg);
END
$$;

COMMENT ON FUNCTION clv_compare_fit_with_path(text, text, jsonb, text) IS
'clv_fit of one transaction model on the calibration fields (frequency not NULL) of a calibration/holdout summary, the source read in the given search_path';

-- The comparison itself.  Each model is fitted (clv_fit, the options as
-- given) and scored on the holdout in one pass over its per-customer
-- predictions (clv_holdout_predictions_with_path): the totals, errors and
-- correlation of clv_holdout_metrics and the buckets of
-- clv_calibration_holdout (frequency 0 .. 7+).  The rows are collected
-- first, because the recommendation compares them:
--   candidates: the converged models (all of them if none converged);
--   eligible:   the candidates whose |total_error| is at most 0.10 above the
--               smallest |total_error| among the candidates (all when the
--               holdout has no purchase, total_error then being NULL);
--   recommended: the eligible model with the lowest BIC (ties: the first in
--               models).
CREATE FUNCTION clv_compare_models_with_path(source text, models text[], options jsonb,
											 caller_path text)
RETURNS SETOF clv_model_comparison
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	valid constant text[] := ARRAY['bgnbd', 'mbgnbd', 'pareto_nbd', 'bgbb'];
	acc jsonb := '[]';
	i integer;
	m text;
	fit jsonb;
	p jsonb;
	ll float8;
	k integer;
	n float8;
	h record;
BEGIN
	IF source IS NULL OR models IS NULL THEN
		RAISE EXCEPTION 'source and models must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	models := ARRAY(SELECT u.m FROM unnest(models) WITH ORDINALITY AS u(m, o) ORDER BY u.o);
	IF cardinality(models) = 0 THEN
		RAISE EXCEPTION 'models must name at least one transaction model'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Valid models are: bgnbd, mbgnbd, pareto_nbd, bgbb.';
	END IF;
	FOR i IN 1 .. cardinality(models) LOOP
		m := models[i];
		IF m IS NULL OR NOT m = ANY (valid) THEN
			RAISE EXCEPTION 'unknown transaction model "%" in models', coalesce(m, 'NULL')
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Valid models are: bgnbd, mbgnbd, pareto_nbd, bgbb.';
		END IF;
		IF m = ANY (models[1:i - 1]) THEN
			RAISE EXCEPTION 'model "%" is named twice in models', m
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	IF 'bgbb' = ANY (models) AND cardinality(models) > 1 THEN
		RAISE EXCEPTION 'bgbb cannot be compared with %', array_to_string(array_remove(models, 'bgbb'), ', ')
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'BG/BB''s likelihood is over discrete opportunities, the others'' over continuous time: their likelihoods, AIC and BIC are not comparable.',
				  HINT = 'Compare bgnbd, mbgnbd and pareto_nbd on continuous-time data, or run bgbb alone.';
	END IF;

	FOR i IN 1 .. cardinality(models) LOOP
		m := models[i];
		fit := @extschema@.clv_compare_fit_with_path(source, m, options, caller_path);
		p := fit -> 'params';
		ll := (fit -> 'log_likelihood' ->> 'transaction')::float8;
		n := (fit ->> 'n_customers')::float8;
		SELECT count(*)::integer INTO k FROM jsonb_each(p) e WHERE jsonb_typeof(e.value) = 'number';

		-- one pass over the holdout predictions: the metrics and the worst
		-- bucket (the largest |sum predicted - sum actual|, ties: the lower
		-- frequency)
		WITH hp AS MATERIALIZED (
			SELECT hp.frequency, hp.actual, hp.predicted
			FROM @extschema@.clv_holdout_predictions_with_path(p, source, caller_path) hp
		), metrics AS (
			SELECT count(*) AS n, sum(hp.actual) AS actual, sum(hp.predicted) AS predicted,
				   avg(abs(hp.predicted - hp.actual)) AS mae,
				   sqrt(avg((hp.predicted - hp.actual) ^ 2)) AS rmse,
				   corr(hp.predicted, hp.actual) AS correlation
			FROM hp
		), buckets AS (
			SELECT least(floor(hp.frequency), 7)::integer AS f, count(*) AS n,
				   avg(hp.actual) AS mean_actual, avg(hp.predicted) AS mean_predicted,
				   abs(sum(hp.predicted) - sum(hp.actual)) AS gap
			FROM hp GROUP BY 1
		), worst AS (
			SELECT CASE WHEN b.f = 7 THEN '7+' ELSE b.f::text END AS bucket, b.n,
				   b.mean_actual, b.mean_predicted
			FROM buckets b ORDER BY b.gap DESC, b.f LIMIT 1
		)
		SELECT mt.n, mt.actual, mt.predicted, mt.mae, mt.rmse, mt.correlation,
			   wb.bucket, wb.n AS n_bucket, wb.mean_actual, wb.mean_predicted
		INTO h
		FROM metrics mt LEFT JOIN worst wb ON true;
		acc := acc || jsonb_build_object(
			'ord', i, 'model', m, 'log_likelihood', ll, 'n_params', k,
			'aic', 2 * k - 2 * ll, 'bic', k * ln(n) - 2 * ll,
			'n_customers', h.n, 'total_actual', h.actual, 'total_predicted', h.predicted,
			'mae', h.mae, 'rmse', h.rmse, 'correlation', h.correlation,
			'worst_bucket', h.bucket, 'worst_bucket_customers', h.n_bucket,
			'worst_bucket_actual', h.mean_actual, 'worst_bucket_predicted', h.mean_predicted,
			'converged', (fit ->> 'converged')::boolean, 'params', p);
	END LOOP;

	RETURN QUERY
	WITH e AS (
		SELECT x.*, (x.total_predicted - x.total_actual) / nullif(x.total_actual, 0) AS total_error
		FROM jsonb_to_recordset(acc)
			 AS x(ord integer, model text, log_likelihood float8, n_params integer,
				  aic float8, bic float8, n_customers bigint, total_actual float8,
				  total_predicted float8, mae float8, rmse float8, correlation float8,
				  worst_bucket text, worst_bucket_customers bigint, worst_bucket_actual float8,
				  worst_bucket_predicted float8, converged boolean, params jsonb)
	), candidates AS (
		SELECT e.* FROM e
		WHERE e.converged OR NOT EXISTS (SELECT 1 FROM e e2 WHERE e2.converged)
	), pick AS (
		SELECT c.ord FROM candidates c
		WHERE c.total_error IS NULL
		   OR abs(c.total_error) <= (SELECT min(abs(c2.total_error)) FROM candidates c2) + 0.10
		ORDER BY c.bic, c.ord
		LIMIT 1
	)
	SELECT e.model, e.log_likelihood, e.n_params, e.aic, e.bic, e.n_customers,
		   e.total_actual, e.total_predicted, e.total_error, e.mae, e.rmse, e.correlation,
		   e.worst_bucket, e.worst_bucket_customers, e.worst_bucket_actual,
		   e.worst_bucket_predicted, e.converged, e.ord = (SELECT pick.ord FROM pick), e.params
	FROM e
	ORDER BY e.ord;
END
$$;

COMMENT ON FUNCTION clv_compare_models_with_path(text, text[], jsonb, text) IS
'clv_compare_models with the source read in the given search_path';

CREATE FUNCTION clv_compare_models(source text,
								   models text[] DEFAULT ARRAY['bgnbd', 'mbgnbd', 'pareto_nbd'],
								   options jsonb DEFAULT '{}')
RETURNS SETOF clv_model_comparison
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT * FROM @extschema@.clv_compare_models_with_path(source, models, options,
		pg_catalog.current_setting('search_path'))
$$;

COMMENT ON FUNCTION clv_compare_models(text, text[], jsonb) IS
'fits each transaction model on the calibration fields (frequency, recency, t) of a calibration/holdout summary (frequency_holdout, duration_holdout) with the options of clv_fit, and returns per model: log-likelihood, parameters k, AIC = 2k - 2LL, BIC = k ln(n) - 2LL, holdout customers, total actual and predicted holdout purchases, total_error = (predicted - actual) / actual, MAE, RMSE, correlation, the worst calibration-frequency bucket (0 .. 7+, largest |sum predicted - sum actual|) with its customers and mean actual and predicted, converged, recommended and the params; recommended (one row): among the converged models (all if none converged) whose |total_error| is at most 0.10 above the smallest, the lowest BIC (ties: the first in models)';
-- ---------------------------------------------------------------------------
-- Prediction intervals from parameter uncertainty (src/interval.c,
-- src/interval_fmgr.c).
--
-- Parameter vectors are drawn (seeded) from the asymptotic normal of the
-- log-parameters with the model's covariance (clv_models.covariance); a
-- prediction's interval is the spread of the prediction over the draws.
-- The draws of a (model, options) pair are made once per call site and
-- query, so every row of a query uses the same draws.
-- ---------------------------------------------------------------------------
CREATE TYPE clv_prediction_interval AS (
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	p_alive float8,
	p_alive_lower float8,
	p_alive_upper float8,
	expected_spend float8,
	expected_spend_lower float8,
	expected_spend_upper float8,
	clv float8,
	clv_lower float8,
	clv_upper float8
);

COMMENT ON TYPE clv_prediction_interval IS
'Result of clv_predict_interval: the point values of clv_predict, each with the lower and upper bound of its interval from parameter uncertainty';

COMMENT ON COLUMN clv_prediction_interval.expected_purchases IS 'conditional expected number of purchases in the next horizon (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.expected_purchases_lower IS 'lower bound of the interval of expected_purchases: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_purchases_upper IS 'upper bound of the interval of expected_purchases: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.p_alive IS 'probability that the customer is still active (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.p_alive_lower IS 'lower bound of the interval of p_alive: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.p_alive_upper IS 'upper bound of the interval of p_alive: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_spend IS 'expected spend per purchase (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.expected_spend_lower IS 'lower bound of the interval of expected_spend: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.expected_spend_upper IS 'upper bound of the interval of expected_spend: the (1 + level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.clv IS 'discounted value of the next horizon (point value, as clv_predict)';
COMMENT ON COLUMN clv_prediction_interval.clv_lower IS 'lower bound of the interval of clv: the (1 - level) / 2 quantile over the parameter draws';
COMMENT ON COLUMN clv_prediction_interval.clv_upper IS 'upper bound of the interval of clv: the (1 + level) / 2 quantile over the parameter draws';

CREATE FUNCTION clv_predict_interval(params jsonb, frequency float8, recency float8, t float8,
									 monetary_value float8, horizon float8,
									 discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1,
									 level float8 DEFAULT 0.9, options jsonb DEFAULT '{}')
RETURNS clv_prediction_interval
AS 'MODULE_PATHNAME', 'clv_predict_interval_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval(jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'clv_predict with an interval (level, default 0.9) for each value from parameter uncertainty: seeded draws from the asymptotic normal of the log-parameters; inline params need options {"covariance": <clv_models.covariance>}; options n_draws (default 1000), seed (default 1)';

CREATE FUNCTION clv_predict_interval(name text, frequency float8, recency float8, t float8,
									 monetary_value float8, horizon float8,
									 discount_rate float8 DEFAULT 0, margin float8 DEFAULT 1,
									 level float8 DEFAULT 0.9, options jsonb DEFAULT '{}')
RETURNS clv_prediction_interval
AS 'MODULE_PATHNAME', 'clv_predict_interval_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval(text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'clv_predict with an interval (level, default 0.9) for each value from parameter uncertainty, with the newest version of the named model and its stored covariance; options n_draws (default 1000), seed (default 1)';

-- The interval of a group's total and mean: every customer's predictions
-- under the same draws are summed draw by draw (state: a header, then the
-- per-draw sums), and the quantiles are taken of the sums.
CREATE TYPE clv_prediction_interval_total AS (
	customers bigint,
	expected_purchases float8,
	expected_purchases_lower float8,
	expected_purchases_upper float8,
	clv float8,
	clv_lower float8,
	clv_upper float8,
	mean_expected_purchases float8,
	mean_expected_purchases_lower float8,
	mean_expected_purchases_upper float8,
	mean_clv float8,
	mean_clv_lower float8,
	mean_clv_upper float8
);

COMMENT ON TYPE clv_prediction_interval_total IS
'Result of clv_predict_interval_total: customers, the total and the mean over them of expected purchases and CLV, each with its interval from one set of parameter draws shared by all the customers';

COMMENT ON COLUMN clv_prediction_interval_total.customers IS 'customers aggregated (rows without a NULL argument)';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases IS 'total expected purchases of the customers in the next horizon (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases_lower IS 'lower bound of the interval of expected_purchases: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.expected_purchases_upper IS 'upper bound of the interval of expected_purchases: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.clv IS 'total discounted value of the customers (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.clv_lower IS 'lower bound of the interval of clv: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.clv_upper IS 'upper bound of the interval of clv: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases IS 'mean expected purchases per customer (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases_lower IS 'lower bound of the interval of mean_expected_purchases: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_expected_purchases_upper IS 'upper bound of the interval of mean_expected_purchases: the (1 + level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv IS 'mean discounted value per customer (point value, the sum or mean of clv_predict)';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv_lower IS 'lower bound of the interval of mean_clv: the (1 - level) / 2 quantile over the shared parameter draws';
COMMENT ON COLUMN clv_prediction_interval_total.mean_clv_upper IS 'upper bound of the interval of mean_clv: the (1 + level) / 2 quantile over the shared parameter draws';

CREATE FUNCTION clv_predict_interval_total_trans(state float8[], params jsonb, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], params jsonb, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8, discount_rate float8,
												 margin float8, level float8, options jsonb)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_params'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], name text, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_by_name'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION clv_predict_interval_total_trans(state float8[], name text, frequency float8,
												 recency float8, t float8, monetary_value float8,
												 horizon float8, discount_rate float8,
												 margin float8, level float8, options jsonb)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_trans_by_name'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION clv_predict_interval_total_combine(float8[], float8[])
RETURNS float8[]
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION clv_predict_interval_total_final(float8[])
RETURNS clv_prediction_interval_total
AS 'MODULE_PATHNAME', 'clv_predict_interval_total_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], jsonb, float8, float8, float8, float8, float8) IS
'transition function of clv_predict_interval_total (inline params)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'transition function of clv_predict_interval_total (inline params)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], text, float8, float8, float8, float8, float8) IS
'transition function of clv_predict_interval_total (model name)';
COMMENT ON FUNCTION clv_predict_interval_total_trans(float8[], text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'transition function of clv_predict_interval_total (model name)';
COMMENT ON FUNCTION clv_predict_interval_total_combine(float8[], float8[]) IS
'combine function of clv_predict_interval_total: adds the per-draw sums of two partial states';
COMMENT ON FUNCTION clv_predict_interval_total_final(float8[]) IS
'final function of clv_predict_interval_total: totals and means with the quantiles of the per-draw sums';

CREATE AGGREGATE clv_predict_interval_total(params jsonb, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(params jsonb, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8,
											discount_rate float8, margin float8, level float8,
											options jsonb) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(name text, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);
CREATE AGGREGATE clv_predict_interval_total(name text, frequency float8, recency float8,
											t float8, monetary_value float8, horizon float8,
											discount_rate float8, margin float8, level float8,
											options jsonb) (
	SFUNC = clv_predict_interval_total_trans,
	STYPE = float8[],
	FINALFUNC = clv_predict_interval_total_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = clv_predict_interval_total_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE clv_predict_interval_total(jsonb, float8, float8, float8, float8, float8) IS
'total and mean expected purchases and CLV of the customers aggregated, with 90% intervals from one set of parameter draws shared by every customer (inline params; needs the 10-argument form to pass the covariance)';
COMMENT ON AGGREGATE clv_predict_interval_total(jsonb, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'total and mean expected purchases and CLV of the customers aggregated, with intervals at level from one set of parameter draws shared by every customer; options as clv_predict_interval (covariance, n_draws, seed)';
COMMENT ON AGGREGATE clv_predict_interval_total(text, float8, float8, float8, float8, float8) IS
'total and mean expected purchases and CLV of the customers aggregated, with 90% intervals from one set of parameter draws of the named model shared by every customer';
COMMENT ON AGGREGATE clv_predict_interval_total(text, float8, float8, float8, float8, float8, float8, float8, float8, jsonb) IS
'total and mean expected purchases and CLV of the customers aggregated, with intervals at level from one set of parameter draws of the named model shared by every customer; options n_draws, seed';
-- ---------------------------------------------------------------------------
-- The data dictionary: a comment on every column of the catalog tables and
-- every field of the composite types, for psql's \d+ and for BI tools that
-- read pg_description (sql/00_install.sql checks that none is missing).
-- ---------------------------------------------------------------------------
COMMENT ON COLUMN clv_model_names.name IS 'model name (unique; cannot start with { or [)';
COMMENT ON COLUMN clv_model_names.kind IS 'kind of every version of the name: btyd or kmeans';
COMMENT ON COLUMN clv_model_names.owner IS 'role that owns the name (the first trainer); its members train, drop and grant it';
COMMENT ON COLUMN clv_model_names.readers IS 'roles the owner granted read access to (clv_grant_model); public for everybody';
COMMENT ON COLUMN clv_model_names.last_version IS 'last version number handed out for the name (never reused)';
COMMENT ON COLUMN clv_model_names.created_at IS 'when the name was first trained';

COMMENT ON COLUMN clv_models.name IS 'model name (see clv_model_names)';
COMMENT ON COLUMN clv_models.version IS 'version of the name, 1, 2, ... in commit order; the newest serves predictions';
COMMENT ON COLUMN clv_models.kind IS 'btyd (transaction and spend models) or kmeans (segmentation)';
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
