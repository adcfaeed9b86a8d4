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
-- - trained_by, trained_at and version are set by the training functions
--   (src/catalog.c) and, for a plain INSERT, by the trigger: they cannot be
--   forged.  Only a role that bypasses row-level security (a superuser or
--   the extension's owner, as pg_restore runs) may store a row with its own
--   version, trained_by and trained_at;
-- - on Citus (clv_catalog_distribute) both tables are reference tables,
--   which carry no stamping trigger: a plain INSERT must then bring the
--   number it took (UPDATE ... SET last_version = last_version + 1) and its
--   own role as trained_by, which the INSERT policy checks, and its
--   trained_at is its own;
-- - the artifact (bytes a library parses when the model is used, e.g. an
--   XGBoost booster) is stored only by a training function's own INSERT
--   (clv_catalog_storing) or by such a restoring role.
-- ---------------------------------------------------------------------------
CREATE TABLE clv_model_names (
	name text PRIMARY KEY CHECK (name <> ''),
	kind text NOT NULL CHECK (kind IN ('btyd', 'kmeans', 'regressor')),
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
	kind text NOT NULL CHECK (kind IN ('btyd', 'kmeans', 'regressor')),
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
	artifact bytea,
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

-- The questions the policies of clv_models ask (src/catalog.c).  They are
-- functions rather than subqueries so that the tables can become Citus
-- reference tables (clv_catalog_distribute), whose policies may hold no
-- subquery and run on every node.
CREATE FUNCTION clv_catalog_readable(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_readable'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_readable(text) IS
'true when the current role may read the versions of the named model (a member of its owner or of a role it was granted to, or granted to public)';

CREATE FUNCTION clv_catalog_owned(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_owned'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_owned(text) IS
'true when the current role is a member of the owner role of the named model';

CREATE FUNCTION clv_catalog_insertable(name text, kind text, version integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_insertable'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_insertable(text, text, integer) IS
'true when the current role may store version of the named model: the name holds models of kind, the role is a member of its owner, and version is the number last handed out for the name';

CREATE FUNCTION clv_catalog_artifact_ok()
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_artifact_ok'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_artifact_ok() IS
'true while a clv training function stores its row, or on a Citus worker (which never parses an artifact): the only places an artifact may be stored';

ALTER TABLE clv_model_names ENABLE ROW LEVEL SECURITY;
CREATE POLICY clv_names_visible ON clv_model_names FOR SELECT USING (true);
CREATE POLICY clv_names_claim ON clv_model_names FOR INSERT
	WITH CHECK (owner <> 'public' AND @extschema@.clv_role_includes_me(owner));
CREATE POLICY clv_names_owner ON clv_model_names FOR UPDATE
	USING (@extschema@.clv_role_includes_me(owner))
	WITH CHECK (owner <> 'public' AND @extschema@.clv_role_includes_me(owner));

ALTER TABLE clv_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY clv_models_read ON clv_models FOR SELECT
	USING (@extschema@.clv_catalog_readable(name));
-- What the trigger stamps, checked again (and, on Citus, where there is no
-- trigger, checked only here): the row is the inserting role's, under a
-- name it may train, with the number just handed out; an artifact only
-- from a training function.
CREATE POLICY clv_models_train ON clv_models FOR INSERT
	WITH CHECK (trained_by = current_user
				AND @extschema@.clv_catalog_insertable(name, kind, version)
				AND (artifact IS NULL OR @extschema@.clv_catalog_artifact_ok()));
CREATE POLICY clv_models_drop ON clv_models FOR DELETE
	USING (@extschema@.clv_catalog_owned(name));

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

-- Whether the C code of a training function is storing the row (see
-- clv_models_stamp).
CREATE FUNCTION clv_catalog_storing()
RETURNS boolean
AS 'MODULE_PATHNAME', 'clv_catalog_storing'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION clv_catalog_storing() IS
'true only while a clv training function stores its row in clv_models (the trigger accepts an artifact only then); not settable from SQL';

-- Numbers, owns and stamps every new version stored by a plain INSERT (see
-- the header; the training functions do the same in C).  Runs as the
-- inserting role, so row-level security applies to what it does.
CREATE FUNCTION clv_models_stamp()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n @extschema@.clv_model_names;
	restoring boolean := NEW.version IS NOT NULL AND NOT pg_catalog.row_security_active(TG_RELID);
BEGIN
	-- a training function's own INSERT (clv_catalog_store) has claimed,
	-- checked, numbered and stamped its row already
	IF @extschema@.clv_catalog_storing() THEN
		RETURN NEW;
	END IF;
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
	-- an artifact is parsed by a library when the model is used (an XGBoost
	-- booster: damaged bytes can crash its loader), so only a training
	-- function stores one; a restore (a role that bypasses row-level
	-- security) is trusted
	IF NEW.artifact IS NOT NULL AND NOT restoring AND NOT @extschema@.clv_catalog_storing() THEN
		RAISE EXCEPTION 'the artifact of clv model "%" can only be stored by its training function', NEW.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Train the model with clv_regressor_train().';
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
-- Citus: the one set-up step.  By-name calls over a distributed table
-- (clv_predict('m', ...), clv_cluster('seg', ...)) run on the workers;
-- making both catalog tables reference tables gives every node all of the
-- catalog, under the same policies.  Writes keep working because every
-- catalog write is a statement Citus routes as it is (INSERT ... VALUES,
-- UPDATE and DELETE by name) and the training functions number versions
-- themselves.  Dropped: the stamping trigger, which would fire on every
-- node, and the foreign key from the versions to their names, which Citus
-- would turn into a conversion of its own (the INSERT policy checks the
-- name and kind of every new version instead).  Kept: the guard of
-- clv_model_names, which compares the old and new row only.
-- ---------------------------------------------------------------------------
CREATE FUNCTION clv_catalog_distribute()
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unsafe_triggers text;
BEGIN
	IF pg_catalog.to_regproc('pg_catalog.create_reference_table') IS NULL THEN
		RAISE EXCEPTION 'clv_catalog_distribute() needs Citus'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'There is no function create_reference_table() in this database.',
				  HINT = 'Without Citus the catalog needs no set-up; with it, CREATE EXTENSION citus first.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
			   WHERE p.logicalrelid = '@extschema@.clv_models'::pg_catalog.regclass) THEN
		RETURN 'the clv catalog is distributed already';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node d WHERE d.groupid = 0) THEN
		RAISE EXCEPTION 'the Citus coordinator is not in the cluster''s metadata'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Training stores each version on every node, the coordinator included.',
				  HINT = 'SELECT citus_set_coordinator_host(''<coordinator host>'', <port>) first.';
	END IF;
	ALTER TABLE @extschema@.clv_models DROP CONSTRAINT clv_models_name_kind_fkey;
	DROP TRIGGER clv_models_stamp ON @extschema@.clv_models;
	unsafe_triggers := pg_catalog.current_setting('citus.enable_unsafe_triggers');
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
	PERFORM pg_catalog.create_reference_table('@extschema@.clv_model_names'::pg_catalog.regclass);
	PERFORM pg_catalog.create_reference_table('@extschema@.clv_models'::pg_catalog.regclass);
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
	RETURN 'clv_model_names and clv_models are reference tables';
END
$$;

COMMENT ON FUNCTION clv_catalog_distribute() IS
'on Citus, makes the model catalog (clv_model_names, clv_models) reference tables, so that by-name predictions and clustering work over distributed tables; run once, as the extension''s owner, on the coordinator';
