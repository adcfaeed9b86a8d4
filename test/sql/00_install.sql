-- The extension installs cleanly and its catalog is empty.
SELECT extname, extversion FROM pg_extension WHERE extname = 'clv';
SELECT count(*) FROM clv_models;
SELECT count(*) FROM clv_model_names;

-- The extension's functions.
CREATE TEMP VIEW ext_functions AS
SELECT p.oid, p.oid::regprocedure AS signature, l.lanname, p.proconfig, p.prosrc,
	   p.prosqlbody IS NOT NULL AS bound_at_creation, p.prosecdef, p.proparallel
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
JOIN pg_language l ON l.oid = p.prolang;

-- Every SQL and PL/pgSQL function pins its search_path; the only ones that
-- do not are the source-reading wrappers, which qualify every name and pass
-- the caller's path on, and the simulation wrappers, whose SQL-standard
-- bodies are bound when they are created and must stay inlinable (listed
-- here, so that a new unpinned function shows).
SELECT signature AS unpinned FROM ext_functions
WHERE lanname IN ('sql', 'plpgsql')
  AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
ORDER BY signature::text;
-- ... and those wrappers are bound at creation or pass the path on.
SELECT signature AS wrapper_without_current_setting FROM ext_functions
WHERE lanname = 'sql' AND proconfig IS NULL AND NOT bound_at_creation
  AND prosrc !~ 'pg_catalog\.current_setting\(''search_path''\)';

-- No SECURITY DEFINER function, and no function with an EXCEPTION block
-- (a subtransaction, impossible in parallel mode) is marked PARALLEL SAFE.
SELECT signature AS definer FROM ext_functions WHERE prosecdef;
SELECT signature AS parallel_safe_with_exception_block FROM ext_functions
WHERE proparallel = 's' AND prosrc ~* '\mEXCEPTION\s+WHEN\M';

-- The data dictionary: every column of the extension's tables and composite
-- types has a comment.
SELECT c.relname, a.attname AS column_without_comment
FROM pg_class c
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'c') AND col_description(c.oid, a.attnum) IS NULL
UNION ALL
SELECT t.typname, a.attname
FROM pg_type t
JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
WHERE t.typtype = 'c' AND col_description(t.typrelid, a.attnum) IS NULL;
