-- The extension installs cleanly and its catalog is empty.
SELECT extname, extversion FROM pg_extension WHERE extname = 'clv';
SELECT count(*) FROM clv_models;
