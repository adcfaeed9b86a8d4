-- ---------------------------------------------------------------------------
-- The model catalog: one row per trained version of a named model.
-- Shared by the BTYD models (kind 'btyd') and K-Means segmentations
-- (kind 'kmeans').  Registered with pg_extension_config_dump so that pg_dump
-- keeps the trained models.
-- ---------------------------------------------------------------------------
CREATE TABLE clv_models (
	name text NOT NULL CHECK (name <> ''),
	version integer NOT NULL CHECK (version > 0),
	kind text NOT NULL CHECK (kind IN ('btyd', 'kmeans')),
	transaction_model text,
	spend_model text,
	params jsonb NOT NULL DEFAULT '{}',
	std_errors jsonb,
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
	PRIMARY KEY (name, version)
);

COMMENT ON TABLE clv_models IS
'clv model catalog: one row per trained version; the newest version of a name serves predictions';

SELECT pg_catalog.pg_extension_config_dump('clv_models', '');
