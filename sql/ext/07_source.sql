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
