# search_path trojans (issue 8, item 1).  A role with CREATE on a schema in
# a superuser's search_path plants look-alikes of every function, aggregate,
# window function, operator, relation and type of pg_catalog in public (the
# schema clv is installed in), plus better matches for the calls pg_catalog
# answers only through polymorphic, "any", variadic or implicitly cast
# parameters (format(text, text), concat(text, text), array_to_string(text[],
# text), ...; these escalate: a superuser caller runs ALTER ROLE mallory
# SUPERUSER and gets the right answer).  A superuser then calls every clv
# function -- with public before pg_catalog, with the default path and with
# pg_catalog first --
# and each call must return exactly what it returns in a clean database,
# with no trojan firing, and mallory must end up without SUPERUSER.
#
# The calls are keyed by the extension's own pg_proc entries: a function of
# the extension without a call here fails the test, and with
# track_functions = all every function must have been reached.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT is not set";
my $node = PostgreSQL::Test::Cluster->new('trojan');
$node->init;
$node->append_conf('postgresql.conf', "track_functions = all\n");
$node->start;
my $dir = $node->basedir;

$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE ROLE alice LOGIN;
	CREATE DATABASE clean;
	CREATE DATABASE trap;
});

# Identical data and models in both databases, before any trojan exists.
my $setup = qq{
CREATE EXTENSION clv;
CREATE TABLE elog_raw (masterid int, sampleid int, date text, cds int, sales float8);
\\copy elog_raw FROM '$root/data/BTYD_cdnowElog.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE tx AS
SELECT sampleid::bigint AS customer_id, to_date(date, 'YYYYMMDD')::timestamptz AS purchased_at,
	   sales AS amount
FROM elog_raw ORDER BY sampleid, date;
-- calibration up to 1997-09-30, holdout up to 1998-06-30
CREATE TABLE cal AS
SELECT customer_id, (s).*
FROM (SELECT customer_id, clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week') s
	  FROM tx GROUP BY customer_id) q
ORDER BY customer_id;
CREATE TABLE customers AS
SELECT customer_id, frequency::float8 AS frequency, recency, t, monetary_value FROM cal;
CREATE TABLE don_raw (x int, t_x int, n_cal int, custs int, x_star int);
\\copy don_raw FROM '$root/data/BTYD_donationsSummary_rf_matrix.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE donations AS
SELECT x AS frequency, t_x AS recency, n_cal AS t, custs AS weight FROM don_raw ORDER BY x, t_x;
-- stored transition states (the state type's I/O and the support functions)
CREATE AGGREGATE summary_state(timestamptz, float8, timestamptz) (
	SFUNC = clv_summary_transfn, STYPE = clv_summary_state);
CREATE TABLE st AS
SELECT customer_id, summary_state(purchased_at, amount, '1998-06-30') AS s
FROM tx WHERE customer_id <= 40 GROUP BY customer_id ORDER BY customer_id;
CREATE TABLE st_copy (LIKE st);
};
for my $db (qw(clean trap))
{
	$node->safe_psql($db, $setup);
}

# ---------------------------------------------------------------------------
# mallory plants the trojans in trap.public.
# ---------------------------------------------------------------------------
$node->safe_psql('trap', 'GRANT CREATE ON SCHEMA public TO mallory');
my $plant = <<'SQL';
SET search_path = pg_catalog;
SET client_min_messages = warning;

-- the loud trojan: an error naming what was called
CREATE FUNCTION public.clv_trojan_fire(what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
	RAISE EXCEPTION 'TROJAN %', what;
END
$f$;

-- the quiet trojan, as the real attack: a superuser caller makes mallory a
-- superuser; the call returns the right value and only a NOTICE tells
CREATE FUNCTION public.clv_trojan_quiet(what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		EXECUTE 'ALTER ROLE mallory SUPERUSER';
	END IF;
	RAISE NOTICE 'TROJAN %', what;
END
$f$;

-- the CHECK of the look-alike domains
CREATE FUNCTION public.clv_trojan_check(what text, v anyelement) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
	PERFORM public.clv_trojan_fire(what);
	RETURN true;
END
$f$;

CREATE TABLE public.clv_trojan_log (kind text, name text, ok boolean);

-- Plants one object (the DDL in ddl) and logs it; an object whose types
-- PL/pgSQL cannot declare is logged as skipped.
CREATE FUNCTION public.clv_trojan_plant(kind text, what text, VARIADIC ddl text[]) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
DECLARE
	d text;
BEGIN
	FOREACH d IN ARRAY ddl LOOP
		EXECUTE d;
	END LOOP;
	INSERT INTO public.clv_trojan_log VALUES (kind, what, true);
	RETURN true;
EXCEPTION WHEN others THEN
	INSERT INTO public.clv_trojan_log VALUES (kind, what || ': ' || SQLERRM, false);
	RETURN false;
END
$f$;

DO $do$
DECLARE
	p record;
	st text;
	argl text;
BEGIN
	-- 1. a same-signature duplicate of every function, aggregate and window
	-- function of pg_catalog whose types can be declared
	FOR p IN
		SELECT f.oid, f.proname, f.prokind, f.proretset,
			   pg_get_function_arguments(f.oid) AS args,
			   pg_get_function_result(f.oid) AS res,
			   f.oid::regprocedure::text AS sig,
			   format_type(f.prorettype, NULL) AS rettype,
			   ARRAY(SELECT format_type(t, NULL) FROM unnest(f.proargtypes) t) AS argtypes,
			   a.aggkind, a.aggnumdirectargs
		FROM pg_proc f LEFT JOIN pg_aggregate a ON a.aggfnoid = f.oid
		WHERE f.pronamespace = 'pg_catalog'::regnamespace
		ORDER BY f.oid
	LOOP
		BEGIN
			IF p.prokind = 'f' THEN
				EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
							   p.proname, p.args, p.res,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
			ELSIF p.prokind IN ('a', 'w') AND coalesce(p.aggkind, 'n') = 'n' THEN
				st := format('public.%I', 'clv_trojan_agg_' || p.oid);
				EXECUTE format('CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
							   st, array_to_string(p.rettype || p.argtypes, ', '), p.rettype,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
				EXECUTE format('CREATE FUNCTION %s_final(%s) RETURNS %s LANGUAGE plpgsql AS %L',
							   st, p.rettype, p.rettype,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
				EXECUTE format('CREATE AGGREGATE public.%I(%s) (SFUNC = %s, STYPE = %s, FINALFUNC = %s_final)',
							   p.proname,
							   CASE WHEN cardinality(p.argtypes) = 0 THEN '*' ELSE array_to_string(p.argtypes, ', ') END,
							   st, p.rettype, st);
			ELSIF p.prokind = 'a' AND p.aggkind = 'o' THEN
				-- ordered-set: direct arguments ORDER BY aggregated arguments
				st := format('public.%I', 'clv_trojan_agg_' || p.oid);
				EXECUTE format('CREATE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
							   st, array_to_string(p.rettype || p.argtypes[p.aggnumdirectargs + 1:], ', '), p.rettype,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
				EXECUTE format('CREATE FUNCTION %s_final(%s) RETURNS %s LANGUAGE plpgsql AS %L',
							   st, array_to_string(p.rettype || p.argtypes[:p.aggnumdirectargs], ', '), p.rettype,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
				EXECUTE format('CREATE AGGREGATE public.%I(%s ORDER BY %s) (SFUNC = %s, STYPE = %s, FINALFUNC = %s_final)',
							   p.proname, array_to_string(p.argtypes[:p.aggnumdirectargs], ', '),
							   array_to_string(p.argtypes[p.aggnumdirectargs + 1:], ', '), st, p.rettype, st);
			ELSE
				RAISE EXCEPTION 'skip';
			END IF;
			INSERT INTO public.clv_trojan_log VALUES ('function', p.sig, true);
		EXCEPTION WHEN others THEN
			IF SQLERRM LIKE 'parameter name % used more than once' THEN
				-- the same name for an IN and an OUT parameter: unnamed ones
				SELECT string_agg(CASE m WHEN 'o' THEN 'OUT ' WHEN 't' THEN 'OUT ' WHEN 'b' THEN 'INOUT '
										 WHEN 'v' THEN 'VARIADIC ' ELSE '' END || format_type(t, NULL), ', ' ORDER BY i)
				INTO argl
				FROM pg_proc f, unnest(f.proallargtypes, f.proargmodes) WITH ORDINALITY AS a(t, m, i)
				WHERE f.oid = p.oid;
				EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS %s%s LANGUAGE plpgsql AS %L',
							   p.proname, argl, CASE WHEN p.proretset THEN 'SETOF ' ELSE '' END, p.rettype,
							   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', p.sig));
				INSERT INTO public.clv_trojan_log VALUES ('function', p.sig, true);
				CONTINUE;
			END IF;
			INSERT INTO public.clv_trojan_log VALUES ('function', p.sig || ': ' || SQLERRM, false);
		END;
	END LOOP;
END
$do$;

-- 2. a same-named, same-typed operator for every operator of pg_catalog
SELECT count(*) FILTER (WHERE public.clv_trojan_plant('operator', o.oid::regoperator::text,
		format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
			   'clv_trojan_op_' || o.oid,
			   concat_ws(', ', CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END,
						 format_type(o.oprright, NULL)),
			   format_type(o.oprresult, NULL),
			   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', 'operator ' || o.oid::regoperator::text)),
		format('CREATE OPERATOR public.%s (%s RIGHTARG = %s, FUNCTION = public.%I)',
			   o.oprname, CASE WHEN o.oprleft <> 0 THEN format('LEFTARG = %s,', format_type(o.oprleft, NULL)) END,
			   format_type(o.oprright, NULL), 'clv_trojan_op_' || o.oid))) AS operators
FROM pg_operator o WHERE o.oprnamespace = 'pg_catalog'::regnamespace;

-- 3. better matches than what pg_catalog has, for calls whose argument
-- types pg_catalog matches only through a polymorphic, "any", variadic or
-- implicitly cast parameter: with these, even a path with pg_catalog
-- first (the default) is hijacked.  Quiet ones (the real attack's kind)
-- return the right value and escalate; loud ones raise.
CREATE TEMP TABLE common_types (t regtype, small boolean);
INSERT INTO common_types VALUES
	('int2', false), ('int4', true), ('int8', true), ('float4', false), ('float8', true),
	('numeric', true), ('text', true), ('name', true), ('varchar', false), ('bpchar', false),
	('bool', false), ('date', false), ('timestamp', false), ('timestamptz', false),
	('interval', false), ('jsonb', false), ('json', false), ('oid', false), ('regclass', false);

-- 3a. polymorphic and "any" parameters instantiated with common types;
-- VARIADIC "any" with 1 to 3 (text only: 4 and 5) arguments
CREATE TEMP TABLE better (proname name, args regtype[], variadic_last boolean, res text, retset boolean);
WITH poly AS (
	SELECT f.oid, f.proname, ARRAY(SELECT x FROM unnest(f.proargtypes) WITH ORDINALITY u(x, i) ORDER BY i) AS at,
		   f.prorettype, f.proretset, f.provariadic
	FROM pg_proc f
	WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.prokind = 'f'
	  AND NOT coalesce(f.proargmodes::text[] && ARRAY['o', 'b', 't'], false)
	  AND f.proargtypes::oid[] && ARRAY['anyelement', 'anyarray', 'anynonarray', 'anycompatible',
										'anycompatiblearray', 'anycompatiblenonarray']::regtype[]::oid[]
	  AND NOT f.proargtypes::oid[] && ARRAY['internal', '"any"', 'cstring', 'anyrange', 'anyenum',
											'anymultirange', 'anycompatiblerange', 'anycompatiblemultirange']::regtype[]::oid[]
	  AND f.prorettype NOT IN ('internal'::regtype, 'cstring'::regtype, 'anyrange'::regtype, 'anymultirange'::regtype)
), inst AS (
	SELECT p.*, c.t,
		   ARRAY(SELECT CASE WHEN a IN ('anyelement'::regtype, 'anynonarray'::regtype, 'anycompatible'::regtype,
										 'anycompatiblenonarray'::regtype) THEN c.t::oid
							 WHEN a IN ('anyarray'::regtype, 'anycompatiblearray'::regtype)
								  THEN (SELECT typarray FROM pg_type WHERE oid = c.t)
							 ELSE a END
				 FROM unnest(p.at) WITH ORDINALITY AS u(a, i) ORDER BY i) AS args
	FROM poly p, common_types c
)
INSERT INTO better
SELECT proname, args::regtype[], provariadic <> 0,
	   CASE WHEN prorettype IN ('anyelement'::regtype, 'anynonarray'::regtype, 'anycompatible'::regtype)
			THEN format_type(t, NULL)
			WHEN prorettype IN ('anyarray'::regtype, 'anycompatiblearray'::regtype)
			THEN format_type(t, NULL) || '[]'
			ELSE format_type(prorettype, NULL) END,
	   proretset
FROM inst;
WITH anyf AS (
	SELECT f.proname, ARRAY(SELECT x FROM unnest(f.proargtypes) WITH ORDINALITY u(x, i) ORDER BY i) AS at,
		   f.prorettype, f.proretset, f.provariadic
	FROM pg_proc f
	WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.prokind = 'f'
	  AND NOT coalesce(f.proargmodes::text[] && ARRAY['o', 'b', 't'], false)
	  AND '"any"'::regtype = ANY (f.proargtypes::oid[])
	  AND NOT f.proargtypes::oid[] && ARRAY['internal', 'cstring']::regtype[]::oid[]
	  AND f.prorettype NOT IN ('internal'::regtype, 'cstring'::regtype)
), fills AS (
	SELECT ARRAY[a.t] AS f FROM common_types a
	UNION ALL SELECT ARRAY[a.t, b.t] FROM common_types a, common_types b WHERE a.small AND b.small
	UNION ALL SELECT ARRAY[a.t, b.t, c.t] FROM common_types a, common_types b, common_types c
			  WHERE a.t IN ('text', 'int4') AND b.t IN ('text', 'int4') AND c.t IN ('text', 'int4')
	UNION ALL SELECT ARRAY['text', 'text', 'text', 'text']::regtype[]
	UNION ALL SELECT ARRAY['text', 'text', 'text', 'text', 'text']::regtype[]
)
INSERT INTO better
SELECT DISTINCT a.proname,
	   (CASE WHEN a.provariadic = '"any"'::regtype THEN
			 ARRAY(SELECT CASE WHEN x = '"any"'::regtype THEN (f.f)[1]::oid ELSE x END
				   FROM unnest(a.at[:cardinality(a.at) - 1]) WITH ORDINALITY u(x, i) ORDER BY i) || f.f::oid[]
			 ELSE ARRAY(SELECT CASE WHEN x = '"any"'::regtype THEN (f.f)[1]::oid ELSE x END
						FROM unnest(a.at) WITH ORDINALITY u(x, i) ORDER BY i) END)::regtype[],
	   false, format_type(a.prorettype, NULL), a.proretset
FROM anyf a, fills f
WHERE a.provariadic = '"any"'::regtype OR cardinality(f.f) = 1;

-- 3b. implicitly cast arguments: f(S) for a pg_catalog f(T) with an
-- implicit cast S -> T (one or two arguments, one of them changed)
INSERT INTO better
SELECT DISTINCT f.proname,
	   ARRAY(SELECT CASE WHEN i = pos THEN c.castsource ELSE x END
			 FROM unnest(f.proargtypes::oid[]) WITH ORDINALITY u(x, i) ORDER BY i)::regtype[],
	   NULL::boolean, format_type(f.prorettype, NULL), f.proretset
FROM pg_proc f, generate_series(1, f.pronargs) pos, pg_cast c, common_types ct
WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.prokind = 'f' AND f.pronargs IN (1, 2)
  AND f.proallargtypes IS NULL AND f.provariadic = 0
  AND c.casttarget = f.proargtypes[pos - 1] AND c.castcontext = 'i' AND c.castsource = ct.t;

DELETE FROM better b
WHERE EXISTS (SELECT 1 FROM pg_proc f
			  WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.proname = b.proname
				AND f.proargtypes::text = array_to_string(b.args::oid[], ' '));

SELECT count(*) FILTER (WHERE public.clv_trojan_plant('better', format('%s(%s)', b.proname, array_to_string(b.args, ',')),
		format('CREATE FUNCTION public.%I(%s) RETURNS %s%s LANGUAGE plpgsql AS %L',
			   b.proname,
			   (SELECT string_agg(CASE WHEN b.variadic_last AND i = cardinality(b.args) THEN 'VARIADIC ' ELSE '' END
								  || format_type(a, NULL), ', ' ORDER BY i)
				FROM unnest(b.args) WITH ORDINALITY u(a, i)),
			   CASE WHEN b.retset THEN 'SETOF ' ELSE '' END, b.res,
			   CASE WHEN b.variadic_last IS NULL THEN
					format('BEGIN PERFORM public.clv_trojan_fire(%L); END', format('%s(%s)', b.proname, array_to_string(b.args, ',')))
			   ELSE
					format('BEGIN PERFORM public.clv_trojan_quiet(%L); %s pg_catalog.%I(%s); %s END',
						   format('%s(%s)', b.proname, array_to_string(b.args, ',')),
						   CASE WHEN b.retset THEN 'RETURN QUERY SELECT * FROM' WHEN b.res = 'void' THEN 'PERFORM' ELSE 'RETURN' END,
						   b.proname,
						   (SELECT string_agg(CASE WHEN b.variadic_last AND i = cardinality(b.args) THEN 'VARIADIC ' ELSE '' END
											  || '$' || i, ', ' ORDER BY i)
							FROM generate_series(1, cardinality(b.args)) i),
						   CASE WHEN b.retset OR b.res = 'void' THEN 'RETURN;' ELSE '' END)
			   END))) AS better_matches
FROM (SELECT DISTINCT ON (proname, args) * FROM better ORDER BY proname, args, variadic_last NULLS LAST) b;

-- 3c. operators with implicitly cast operands: N(S1, S2) for a pg_catalog
-- operator N(T1, T2), S1 = T1 or S1 -> T1 implicit, the same for S2
SELECT count(*) FILTER (WHERE public.clv_trojan_plant('better operator', x.sig,
		format('CREATE FUNCTION public.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
			   'clv_trojan_bop_' || x.n, format_type(x.l, NULL), format_type(x.r, NULL), format_type(x.res, NULL),
			   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', 'operator ' || x.sig)),
		format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.%I)',
			   x.oprname, format_type(x.l, NULL), format_type(x.r, NULL), 'clv_trojan_bop_' || x.n))) AS better_operators
FROM (SELECT DISTINCT ON (o.oprname, l.t, r.t) o.oprname, l.t::oid AS l, r.t::oid AS r, o.oprresult AS res,
			 format('%s(%s,%s)', o.oprname, l.t, r.t) AS sig,
			 row_number() OVER () AS n
	  FROM pg_operator o, common_types l, common_types r
	  WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprleft <> 0
		AND (l.t = o.oprleft OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = l.t AND c.casttarget = o.oprleft AND c.castcontext = 'i'))
		AND (r.t = o.oprright OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = r.t AND c.casttarget = o.oprright AND c.castcontext = 'i'))
		AND NOT EXISTS (SELECT 1 FROM pg_operator e WHERE e.oprnamespace = 'pg_catalog'::regnamespace
						AND e.oprname = o.oprname AND e.oprleft = l.t AND e.oprright = r.t)
	  ORDER BY o.oprname, l.t, r.t, o.oid) x;

-- 3d. the extension lives in public too: overloads of its own functions
-- that a call with an implicitly cast argument would prefer
SELECT count(*) FILTER (WHERE public.clv_trojan_plant('better clv', x.sig,
		format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
			   x.proname, x.args, x.res,
			   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', x.sig)))) AS better_clv
FROM (SELECT DISTINCT f.proname,
			 (SELECT string_agg(format_type(CASE WHEN i = pos THEN c.castsource ELSE a END, NULL), ', ' ORDER BY i)
			  FROM unnest(f.proargtypes) WITH ORDINALITY u(a, i)) AS args,
			 format('%s(%s)', f.proname,
					(SELECT string_agg(format_type(CASE WHEN i = pos THEN c.castsource ELSE a END, NULL), ',' ORDER BY i)
					 FROM unnest(f.proargtypes) WITH ORDINALITY u(a, i))) AS sig,
			 CASE WHEN f.proretset THEN 'SETOF ' ELSE '' END || format_type(f.prorettype, NULL) AS res
	  FROM pg_proc f
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
	  CROSS JOIN generate_series(1, f.pronargs) pos
	  JOIN pg_cast c ON c.casttarget = f.proargtypes[pos - 1] AND c.castcontext = 'i'
	  JOIN common_types ct ON ct.t = c.castsource AND ct.small
	  WHERE f.prokind = 'f' AND f.proallargtypes IS NULL AND f.prorettype <> 'trigger'::regtype) x;

-- 4. a view in public for every relation of pg_catalog, reading a trojan
SELECT count(*) FILTER (WHERE public.clv_trojan_plant('relation', c.relname,
		format('CREATE FUNCTION public.%I() RETURNS SETOF pg_catalog.%I LANGUAGE plpgsql AS %L',
			   'clv_trojan_rel_' || c.oid, c.relname,
			   format('BEGIN PERFORM public.clv_trojan_fire(%L); END', 'relation ' || c.relname)),
		format('CREATE VIEW public.%I AS SELECT * FROM public.%I()', c.relname, 'clv_trojan_rel_' || c.oid),
		format('GRANT SELECT ON public.%I TO PUBLIC', c.relname))) AS relations
FROM pg_class c WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind IN ('r', 'v');

-- 5. last (the DDL above names pg_catalog types unqualified): a domain in
-- public named like every type of pg_catalog, with a CHECK that fires
SELECT count(*) FILTER (WHERE public.clv_trojan_plant('domain', t.typname,
		format('CREATE DOMAIN public.%I AS pg_catalog.%I CHECK (public.clv_trojan_check(%L, VALUE))',
			   t.typname, t.typname, 'domain ' || t.typname))) AS domains
FROM pg_type t
WHERE t.typnamespace = 'pg_catalog'::regnamespace AND t.typtype IN ('b', 'r', 'm') AND t.typisdefined
  AND NOT (t.typcategory = 'A' AND t.typelem <> 0) AND t.typrelid = 0;
SQL
my ($rc, $out, $err) = $node->psql('trap', $plant, extra_params => [ '-U', 'mallory' ]);
is($rc, 0, 'mallory planted the trojans') or diag($err);
my %planted = map { split /\|/ } split /\n/, $node->safe_psql('trap',
	q{SELECT kind || '|' || count(*) FROM public.clv_trojan_log WHERE ok GROUP BY kind});
diag(join(', ', map { "$planted{$_} ${_}s" } sort keys %planted));
cmp_ok($planted{function} // 0, '>', 2400, 'a look-alike of every declarable pg_catalog function, aggregate and window function');
cmp_ok($planted{operator} // 0, '>', 750, 'a look-alike of every pg_catalog operator');
cmp_ok($planted{better} // 0, '>', 1000, 'better matches for polymorphic, "any", variadic and implicitly cast parameters');
cmp_ok($planted{'better operator'} // 0, '>', 300, 'better-matching operators');
cmp_ok($planted{'better clv'} // 0, '>', 50, 'better-matching overloads of the extension\'s own functions');
cmp_ok($planted{domain} // 0, '>', 60, 'domains named like the pg_catalog types');
cmp_ok($planted{relation} // 0, '>', 100, 'views named like the pg_catalog relations');
is($node->safe_psql('trap', q{
	SET search_path = pg_catalog;
	SELECT count(*) FROM pg_proc p
	WHERE p.pronamespace = 'public'::regnamespace
	  AND format('%s(%s)', p.proname, oidvectortypes(p.proargtypes)) IN
		  ('format(text, text)', 'format(text, text, text)', 'concat(text, text)', 'concat(text, text, text)',
		   'array_to_string(text[], text)', 'array_position(text[], text)', 'count()', 'sum(double precision)',
		   'lower(text)', 'dense_rank()', 'array_length(text[], integer)', 'concat_ws(text, text, text)')}),
	'12', 'the trojans of the original report are among them');

# The trap is armed: a non-superuser with public first trips the look-alikes
# (and the quiet ones, in any path, only notice).
for my $probe ([ 'SELECT 1::float8', 'domain float8' ],
	[ q{SELECT lower('x')}, 'lower(text)' ],
	[ 'SELECT count(*) FROM pg_catalog.pg_class', 'count()' ],
	[ 'SELECT 1 + 1', 'operator +(integer,integer)' ],
	[ 'SELECT 1 FROM pg_roles', 'relation pg_roles' ])
{
	my ($r, $o, $e) = $node->psql('trap', "SET search_path = public, pg_catalog; $probe->[0]",
		extra_params => [ '-U', 'alice' ]);
	like($e, qr/TROJAN \Q$probe->[1]\E/, "armed: $probe->[0] fires $probe->[1]");
}
($rc, $out, $err) = $node->psql('trap', q{SELECT format('%s', 'x'::text)}, extra_params => [ '-U', 'alice' ]);
like($err, qr/NOTICE:  TROJAN format\(text,text\)/, 'armed: format(text, text) beats format(text, VARIADIC "any") in the default path');
is($out, 'x', 'and returns the right value');

# ---------------------------------------------------------------------------
# The victim: a superuser calls every clv function.  Types of literals and
# the clv functions are qualified in the calls themselves, so that only the
# extension's internals are under test.  Each call is
# [ [ signatures it covers ], SQL, expect an error ].
# ---------------------------------------------------------------------------
my $T = '::pg_catalog.text';
my $F = '::pg_catalog.float8';
my $I = '::pg_catalog.int4';
my $J = '::pg_catalog.jsonb';
my $TZ = '::pg_catalog.timestamptz';
my $P = q|'{"transaction_model": "bgnbd", "r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259, |
  . q|"spend_model": "gamma_gamma", "p": 6.2498, "q": 3.7442, "gamma": 15.4428}'| . $J;
my $PP = q|'{"transaction_model": "pareto_nbd", "r": 0.5533, "alpha": 10.5779, "s": 0.6061, "beta": 11.6628}'| . $J;
my $M = join(', ', map { "m.$_" } qw(name version kind transaction_model spend_model params std_errors covariance
	  log_likelihood n_customers converged iterations time_unit source options diagnostics trained_by));
my $CUST = 'FROM public.customers c ORDER BY c.customer_id LIMIT 25';
my $FEAT = q{ARRAY['frequency', 'recency', 'total_amount']::pg_catalog.text[]};
my $RFEAT = q{ARRAY['frequency', 'recency', 'monetary_value']::pg_catalog.text[]};
my $CALQ = "'SELECT c.frequency, c.recency, c.t, c.frequency_holdout, c.duration_holdout FROM public.cal c'$T";
my $CE = "'1997-09-30'$TZ";
my $OE = "'1998-06-30'$TZ";
my $CED = "'1997-09-30'::pg_catalog.date";
my $OED = "'1998-06-30'::pg_catalog.date";
my $CP = "pg_catalog.current_setting('search_path'$T)";
my $OFFER = q|'{"cost": 0.5, "response_rate": 0.3, "retention_lift": 0.3, "purchase_lift": 0.1}'| . $J;
my $SEGQ = "'SELECT c.customer_id, c.frequency, c.recency, c.t, c.monetary_value, "
  . "c.customer_id OPERATOR(pg_catalog.%) 3 AS seg, 0.4 AS price FROM public.customers c'$T";
my $SEGO = q|'{"segment_column": "seg", "cost_column": "price"}'| . $J;

my @calls = (
	# training (and the catalog's triggers)
	[ [ 'clv_train(text,text,text,text,jsonb)', 'clv_models_stamp()', 'clv_model_names_guard()' ],
	  "SELECT $M FROM public.clv_train('cdnow'$T, 'customers'$T, 'bgnbd'$T, 'gamma_gamma'$T, '{}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_train('cdnow_pnbd'$T, 'SELECT c.frequency, c.recency, c.t FROM public.customers c'$T, 'pareto_nbd'$T, NULL$T, '{}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_train('cdnow_mbg'$T, 'cal'$T, 'mbgnbd'$T, NULL$T, '{\"time_unit\": \"week\"}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_train('don'$T, 'donations'$T, 'bgbb'$T, NULL$T, '{\"time_unit\": \"year\"}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_train('cdnow_gg'$T, 'SELECT c.frequency, c.monetary_value FROM public.customers c WHERE c.frequency OPERATOR(pg_catalog.>) 0'$T, NULL$T, 'gamma_gamma'$T, '{}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_train('cdnow'$T, 'SELECT * FROM public.customers'$T, 'bgnbd'$T, 'gamma_gamma'$T, '{\"penalizer\": 0.001}'$J) m" ],
	[ [ 'clv_fit(text,text,text,jsonb)' ], "SELECT public.clv_fit('donations'$T, 'bgbb'$T, NULL$T, '{}'$J)" ],
	[ [], "SELECT public.clv_fit('SELECT c.frequency, c.recency, c.t, c.monetary_value FROM public.customers c'$T, 'bgnbd'$T, 'gamma_gamma'$T, '{}'$J)" ],
	[ [], "SELECT public.clv_fit('customers'$T, 'pareto_nbd'$T, NULL$T, '{\"time_unit\": \"week\"}'$J)" ],
	# the catalog
	[ [ 'clv_model(text)' ], "SELECT $M FROM public.clv_model('cdnow'$T) m" ],
	[ [ 'clv_model_missing(text)' ], "SELECT public.clv_model_missing('no_such_model'$T)", 1 ],
	[ [ 'clv_model_params(text)' ], "SELECT public.clv_model_params('cdnow'$T)" ],
	[ [ 'clv_grant_model(text,name)', 'clv_model_owned(text,name)' ],
	  "SELECT public.clv_grant_model('cdnow'$T, 'alice'::pg_catalog.name); "
	  . 'SELECT n.name, n.kind, n.owner, n.readers, n.last_version FROM public.clv_model_names n ORDER BY n.name' ],
	[ [ 'clv_revoke_model(text,name)' ],
	  "SELECT public.clv_revoke_model('cdnow'$T, 'alice'::pg_catalog.name); "
	  . 'SELECT n.name, n.readers FROM public.clv_model_names n ORDER BY n.name' ],
	[ [ 'clv_model_check(clv_model_names,text,text)' ],
	  "SELECT public.clv_model_check(n, 'train new versions'$T, n.kind) FROM public.clv_model_names n ORDER BY n.name" ],
	[ [], "SELECT public.clv_model_check(n, NULL$T, 'kmeans'$T) FROM public.clv_model_names n WHERE n.kind OPERATOR(pg_catalog.=) 'btyd'$T", 1 ],
	[ [ 'clv_role_includes_me(name)' ], "SELECT public.clv_role_includes_me('postgres'::pg_catalog.name), public.clv_role_includes_me('alice'::pg_catalog.name)" ],
	[ [ 'clv_model_readable(name,name[])' ], "SELECT public.clv_model_readable('alice'::pg_catalog.name, ARRAY['public'::pg_catalog.name])" ],
	[ [ 'clv_drop_model(text,int4)' ],
	  "SELECT m.version FROM public.clv_train('tmp'$T, 'donations'$T, 'bgbb'$T, NULL$T) m; "
	  . "SELECT m.version FROM public.clv_train('tmp'$T, 'donations'$T, 'bgbb'$T, NULL$T) m; "
	  . "SELECT public.clv_drop_model('tmp'$T, (public.clv_model('tmp'$T)).version); "
	  . "SELECT public.clv_drop_model('tmp'$T); "
	  . 'SELECT n.name, n.last_version FROM public.clv_model_names n ORDER BY n.name' ],
	[ [], "SELECT public.clv_drop_model('no_such_model'$T)", 1 ],
	[ [ 'clv_prune_models(text,int4)' ],
	  "SELECT m.version FROM public.clv_train('tmp_prune'$T, 'donations'$T, 'bgbb'$T, NULL$T) m; "
	  . "SELECT m.version FROM public.clv_train('tmp_prune'$T, 'donations'$T, 'bgbb'$T, NULL$T) m; "
	  . "SELECT public.clv_prune_models('tmp_prune'$T, 1$I); "
	  . "SELECT m.version FROM public.clv_models m WHERE m.name OPERATOR(pg_catalog.=) 'tmp_prune'$T" ],
	# predictions with inline params
	[ [ 'clv_predict(jsonb,float8,float8,float8,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_predict($P, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F) $CUST" ],
	[ [ 'clv_expected_purchases(jsonb,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_expected_purchases($PP, c.frequency, c.recency, c.t, 26$F) $CUST" ],
	[ [ 'clv_p_alive(jsonb,float8,float8,float8)' ], "SELECT c.customer_id, public.clv_p_alive($P, c.frequency, c.recency, c.t) $CUST" ],
	[ [ 'clv_expected_spend(jsonb,float8,float8)' ], "SELECT c.customer_id, public.clv_expected_spend($P, c.frequency, c.monetary_value) $CUST" ],
	[ [ 'clv_value(jsonb,float8,float8,float8,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_value($P, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F) $CUST" ],
	[ [ 'clv_expected_purchases_new(jsonb,float8)' ], "SELECT public.clv_expected_purchases_new($P, 26$F), public.clv_expected_purchases_new($PP, 26$F)" ],
	[ [ 'clv_purchase_probability(jsonb,int4,float8)' ], "SELECT public.clv_purchase_probability($P, 2$I, 26$F), public.clv_purchase_probability($PP, 0$I, 26$F)" ],
	# predictions by name
	[ [ 'clv_predict(text,float8,float8,float8,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_predict('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F) $CUST" ],
	[ [ 'clv_expected_purchases(text,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_expected_purchases('cdnow_pnbd'$T, c.frequency, c.recency, c.t, 26$F), "
	  . "public.clv_expected_purchases('cdnow_mbg'$T, c.frequency, c.recency, c.t, 26$F) $CUST" ],
	[ [ 'clv_p_alive(text,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_p_alive('cdnow'$T, c.frequency, c.recency, c.t) $CUST; "
	  . "SELECT d.frequency, d.recency, public.clv_p_alive('don'$T, d.frequency$F, d.recency$F, d.t$F) FROM public.donations d ORDER BY d.frequency, d.recency" ],
	[ [ 'clv_expected_spend(text,float8,float8)' ], "SELECT c.customer_id, public.clv_expected_spend('cdnow_gg'$T, c.frequency, c.monetary_value) $CUST" ],
	[ [ 'clv_value(text,float8,float8,float8,float8,float8,float8,float8)' ],
	  "SELECT c.customer_id, public.clv_value('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F) $CUST" ],
	[ [ 'clv_expected_purchases_new(text,float8)' ], "SELECT public.clv_expected_purchases_new('cdnow'$T, 26$F), public.clv_expected_purchases_new('don'$T, 3$F)" ],
	[ [ 'clv_purchase_probability(text,int4,float8)' ], "SELECT public.clv_purchase_probability('cdnow'$T, 1$I, 26$F), public.clv_purchase_probability('don'$T, 1$I, 3$F)" ],
	# K-Means
	[ [ 'clv_kmeans_train(text,text,text[],int4,jsonb)' ],
	  "SELECT $M FROM public.clv_kmeans_train('seg'$T, 'cal'$T, $FEAT, 3$I, '{\"seed\": 1}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_kmeans_train('seg'$T, 'SELECT c.frequency, c.recency, c.total_amount FROM public.cal c'$T, $FEAT, 3$I, '{\"seed\": 2, \"scaling\": \"log_zscore\"}'$J) m" ],
	[ [ 'clv_cluster(text,float8[])' ],
	  "SELECT c.customer_id, public.clv_cluster('seg'$T, ARRAY[c.frequency$F, c.recency, c.total_amount]) FROM public.cal c ORDER BY c.customer_id LIMIT 25" ],
	[ [ 'clv_cluster(jsonb,float8[])' ],
	  "SELECT c.customer_id, public.clv_cluster((public.clv_model('seg'$T)).params, ARRAY[c.frequency$F, c.recency, c.total_amount]) FROM public.cal c ORDER BY c.customer_id LIMIT 25" ],
	[ [ 'clv_kmeans_scan(text,text[],int4,int4,jsonb)' ], "SELECT * FROM public.clv_kmeans_scan('cal'$T, $FEAT, 1$I, 4$I, '{\"seed\": 1}'$J)" ],
	[ [], "SELECT * FROM public.clv_kmeans_scan('SELECT c.frequency, c.recency, c.total_amount FROM public.cal c'$T, $FEAT, 2$I, 3$I, '{\"seed\": 3}'$J)" ],
	[ [ 'clv_kmeans_profile(text,text,text)' ], "SELECT * FROM public.clv_kmeans_profile('seg'$T, 'cal'$T, 'total_amount'$T)" ],
	[ [], "SELECT * FROM public.clv_kmeans_profile('seg'$T, 'SELECT c.frequency, c.recency, c.total_amount FROM public.cal c'$T, NULL$T)" ],
	[ [ 'clv_kmeans_profile_with_path(text,text,text,text)' ],
	  "SELECT * FROM public.clv_kmeans_profile_with_path('seg'$T, 'cal'$T, 'total_amount'$T, $CP)" ],
	[ [ 'clv_kmeans_label(float8,float8,float8)' ],
	  "SELECT public.clv_kmeans_label(0.5$F, 1.5$F, 0$F), public.clv_kmeans_label('-1'$F, NULL$F, 1$F), public.clv_kmeans_label(NULL$F, 0.7$F, NULL$F)" ],
	# supervised models (XGBoost)
	[ [ 'clv_regressor_train(text,text,text,text[],jsonb)' ],
	  "SELECT $M FROM public.clv_regressor_train('xgb'$T, 'cal'$T, 'total_amount'$T, $RFEAT, '{\"n_rounds\": 20, \"cv_folds\": 3}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_regressor_train('xgb_q'$T, 'SELECT c.customer_id, c.frequency, c.recency, c.monetary_value, c.total_amount FROM public.cal c'$T, 'total_amount'$T, NULL::pg_catalog.text[], '{\"mode\": \"random_forest\", \"n_trees\": 10}'$J) m" ],
	[ [], "SELECT $M FROM public.clv_regressor_train('xgb_es'$T, 'cal'$T, 'total_amount'$T, $RFEAT, '{\"early_stopping_rounds\": 2, \"n_rounds\": 50}'$J) m" ],
	[ [ 'clv_catalog_storing()' ], "SELECT public.clv_catalog_storing()" ],
	[ [ 'clv_catalog_readable(text)', 'clv_catalog_owned(text)', 'clv_catalog_insertable(text,text,int4)' ],
	  "SELECT public.clv_catalog_readable('xgb'$T), public.clv_catalog_owned('xgb'$T), public.clv_catalog_insertable('xgb'$T, 'regressor'$T, 1$I), public.clv_catalog_readable('no_such_model'$T)" ],
	[ [ 'clv_catalog_artifact_ok()' ], "SELECT public.clv_catalog_artifact_ok()" ],
	[ [ 'clv_catalog_distribute()' ], "SELECT public.clv_catalog_distribute()", 1 ],
	[ [ 'clv_regressor_predict(text,float8[])' ],
	  "SELECT c.customer_id, public.clv_regressor_predict('xgb'$T, ARRAY[c.frequency$F, c.recency, c.monetary_value]), "
	  . "public.clv_regressor_predict('xgb_q'$T, ARRAY[c.frequency$F, c.recency, c.monetary_value]) FROM public.cal c ORDER BY c.customer_id LIMIT 25" ],
	# simulation
	[ [ 'clv_simulate(jsonb,int4,float8,int4)', 'clv_simulate_rows(jsonb,int4,float8,int4)' ], "SELECT * FROM public.clv_simulate($P, 5$I, 52$F, 7$I)" ],
	[ [ 'clv_simulate_transactions(jsonb,int4,timestamptz,float8,float8,text,int4)',
		'clv_simulate_transactions_rows(jsonb,int4,timestamptz,float8,float8,text,int4)' ],
	  "SELECT * FROM public.clv_simulate_transactions($P, 5$I, '2020-01-01'$TZ, 30$F, 52$F, 'week'$T, 7$I)" ],
	# validation: table-name and query sources
	[ [ 'clv_source_sql(text)' ], "SELECT public.clv_source_sql('cal'$T), public.clv_source_sql('SELECT 1'$T)" ],
	[ [ 'clv_source_rows(text,text[],text)' ],
	  "SELECT * FROM public.clv_source_rows('cal'$T, ARRAY['s.customer_id'$T, 's.frequency'$T], $CP) "
	  . 'AS s(customer_id pg_catalog.int8, frequency pg_catalog.int4) ORDER BY 1 LIMIT 10' ],
	[ [ 'clv_holdout_predictions(jsonb,text)' ], "SELECT * FROM public.clv_holdout_predictions($P, 'cal'$T) h ORDER BY 1, 2, 3 LIMIT 40" ],
	[ [], "SELECT * FROM public.clv_holdout_predictions($P, $CALQ) h ORDER BY 1, 2, 3 LIMIT 40" ],
	[ [ 'clv_holdout_predictions_with_path(jsonb,text,text)' ],
	  "SELECT * FROM public.clv_holdout_predictions_with_path($P, 'cal'$T, $CP) h ORDER BY 1, 2, 3 LIMIT 40" ],
	[ [ 'clv_calibration_holdout(jsonb,text,int4)' ], "SELECT * FROM public.clv_calibration_holdout($P, 'cal'$T, 7$I)" ],
	[ [], "SELECT * FROM public.clv_calibration_holdout($PP, $CALQ, 5$I)" ],
	[ [], "SELECT * FROM public.clv_calibration_holdout($P, 'cal'$T, '-1'$I)", 1 ],
	[ [ 'clv_calibration_holdout(text,text,int4)' ], "SELECT * FROM public.clv_calibration_holdout('cdnow'$T, 'cal'$T, 7$I)" ],
	[ [ 'clv_calibration_holdout_with_path(jsonb,text,int4,text)' ],
	  "SELECT * FROM public.clv_calibration_holdout_with_path($P, $CALQ, 4$I, $CP)" ],
	[ [ 'clv_holdout_metrics(jsonb,text)' ], "SELECT * FROM public.clv_holdout_metrics($P, 'cal'$T)" ],
	[ [], "SELECT * FROM public.clv_holdout_metrics($PP, $CALQ)" ],
	[ [ 'clv_holdout_metrics(text,text)' ], "SELECT * FROM public.clv_holdout_metrics('cdnow_pnbd'$T, 'cal'$T)" ],
	[ [ 'clv_holdout_metrics_with_path(jsonb,text,text)' ],
	  "SELECT * FROM public.clv_holdout_metrics_with_path($P, 'cal'$T, $CP)" ],
	[ [], "SELECT * FROM public.clv_holdout_metrics($P, 'SELECT c.frequency, c.recency, c.t FROM public.cal c'$T)", 1 ],
	[ [ 'clv_holdout_field_missing(text,text)' ], "SELECT public.clv_holdout_field_missing('cal'$T, 'no such column'$T)", 1 ],
	[ [ 'clv_compare_models(text,text[],jsonb)', 'clv_compare_models_with_path(text,text[],jsonb,text)',
		'clv_compare_fit_with_path(text,text,jsonb,text)' ],
	  "SELECT m.model, m.log_likelihood, m.bic, m.total_predicted, m.recommended FROM public.clv_compare_models('cal'$T, ARRAY['bgnbd', 'pareto_nbd']::pg_catalog.text[], '{}'$J) m" ],
	[ [], "SELECT m.model, m.recommended FROM public.clv_compare_models($CALQ, ARRAY['mbgnbd']::pg_catalog.text[], '{}'$J) m" ],
	[ [], "SELECT m.model, m.recommended FROM public.clv_compare_models_with_path('cal'$T, ARRAY['bgnbd']::pg_catalog.text[], '{}'$J, $CP) m" ],
	[ [ 'clv_tracking(jsonb,text,timestamptz,timestamptz,text)' ], "SELECT * FROM public.clv_tracking($PP, 'tx'$T, $CE, $OE, 'week'$T)" ],
	[ [], "SELECT * FROM public.clv_tracking($P, 'SELECT x.customer_id, x.purchased_at FROM public.tx x'$T, $CE, $OE, 'month'$T)" ],
	[ [], "SELECT * FROM public.clv_tracking($P, 'tx'$T, $CE, $OE, 'fortnight'$T)", 1 ],
	[ [ 'clv_tracking(text,text,timestamptz,timestamptz,text)' ], "SELECT * FROM public.clv_tracking('cdnow'$T, 'tx'$T, $CE, $OE, NULL$T)" ],
	[ [ 'clv_tracking_with_path(jsonb,text,timestamptz,timestamptz,text,text)' ],
	  "SELECT * FROM public.clv_tracking_with_path($P, 'tx'$T, $CE, $OE, 'week'$T, $CP)" ],
	# matrices
	[ [ 'clv_matrix_grid(float8,int4,int4)' ], "SELECT * FROM public.clv_matrix_grid(10$F, 2$I, 2$I)" ],
	[ [ 'clv_p_alive_matrix(jsonb,float8,int4,int4)' ], "SELECT * FROM public.clv_p_alive_matrix($P, 10$F, 3$I, 3$I)" ],
	[ [ 'clv_p_alive_matrix(text,float8,int4,int4)' ], "SELECT * FROM public.clv_p_alive_matrix('cdnow'$T, 10$F, 3$I, 3$I)" ],
	[ [ 'clv_expected_purchases_matrix(jsonb,float8,float8,int4,int4)' ],
	  "SELECT * FROM public.clv_expected_purchases_matrix($P, 10$F, 5$F, 3$I, 3$I)" ],
	[ [ 'clv_expected_purchases_matrix(text,float8,float8,int4,int4)' ],
	  "SELECT * FROM public.clv_expected_purchases_matrix('cdnow_mbg'$T, 10$F, 5$F, 3$I, 3$I)" ],
	# prediction intervals and their aggregate
	[ [ 'clv_predict_interval(text,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)' ],
	  "SELECT c.customer_id, public.clv_predict_interval('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F, 0.8$F, '{\"n_draws\": 50, \"seed\": 3}'$J) $CUST" ],
	[ [ 'clv_predict_interval(jsonb,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)' ],
	  "SELECT c.customer_id, public.clv_predict_interval(m.params, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0$F, 1$F, 0.9$F, "
	  . "pg_catalog.jsonb_build_object('covariance'$T, m.covariance, 'n_draws'$T, 50$I)) "
	  . "FROM public.customers c, public.clv_models m WHERE m.name OPERATOR(pg_catalog.=) 'cdnow'$T ORDER BY c.customer_id, m.version LIMIT 25" ],
	[ [ 'clv_predict_interval_total(text,float8,float8,float8,float8,float8)',
		'clv_predict_interval_total_trans(float8[],text,float8,float8,float8,float8,float8)',
		'clv_predict_interval_total_final(float8[])' ],
	  "SELECT public.clv_predict_interval_total('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F) FROM public.customers c" ],
	[ [ 'clv_predict_interval_total(text,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)',
		'clv_predict_interval_total_trans(float8[],text,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)' ],
	  "SELECT public.clv_predict_interval_total('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F, 0.8$F, '{\"n_draws\": 50}'$J) FROM public.customers c" ],
	[ [ 'clv_predict_interval_total(jsonb,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)',
		'clv_predict_interval_total_trans(float8[],jsonb,float8,float8,float8,float8,float8,float8,float8,float8,jsonb)' ],
	  "SELECT public.clv_predict_interval_total(m.params, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0$F, 1$F, 0.9$F, "
	  . "pg_catalog.jsonb_build_object('covariance'$T, m.covariance, 'n_draws'$T, 50$I)) "
	  . "FROM public.customers c, public.clv_models m WHERE m.name OPERATOR(pg_catalog.=) 'cdnow'$T AND m.version OPERATOR(pg_catalog.=) 1$I" ],
	[ [ 'clv_predict_interval_total(jsonb,float8,float8,float8,float8,float8)',
		'clv_predict_interval_total_trans(float8[],jsonb,float8,float8,float8,float8,float8)' ],
	  "SELECT public.clv_predict_interval_total($P, c.frequency, c.recency, c.t, c.monetary_value, 52$F) FROM public.customers c", 1 ],
	[ [ 'clv_predict_interval_total_combine(float8[],float8[])' ],
	  'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; '
	  . 'SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off; '
	  . "SELECT (g).customers FROM (SELECT public.clv_predict_interval_total('cdnow'$T, c.frequency, c.recency, c.t, c.monetary_value, 52$F) AS g FROM public.customers c) q" ],
	# segment economics and acquisition value
	[ [ 'clv_segment_economics(text,text,text,float8,float8,float8,float8,jsonb)',
		'clv_segment_economics_with_path(text,text,text,float8,float8,float8,float8,jsonb,text)',
		'clv_decision_check(text,float8,float8,jsonb,text[])' ],
	  "SELECT * FROM public.clv_segment_economics('cdnow'$T, 'SELECT c.*, c.frequency OPERATOR(pg_catalog.>) 1$I AS repeat FROM public.cal c'$T, "
	  . "'repeat'$T, 52$F, 0.01$F, 0.4$F, 3$F, '{\"n_draws\": 20, \"seed\": 2, \"test_budget\": 100}'$J)" ],
	[ [], "SELECT * FROM public.clv_segment_economics_with_path('cdnow'$T, 'cal'$T, 'n_purchases'$T, 26$F, 0$F, 1$F, 2$F, "
	  . "'{\"intervals\": false, \"active_threshold\": 0.9}'$J, $CP)" ],
	[ [], "SELECT * FROM public.clv_segment_economics('cdnow'$T, 'cal'$T, 'no_such_column'$T, 52$F)", 1 ],
	[ [], "SELECT public.clv_decision_check('cdnow'$T, 0.4$F, 0$F, '{}'$J, ARRAY['level']::pg_catalog.text[])", 1 ],
	[ [ 'clv_acquisition_value(text,float8,float8,float8,float8,jsonb)' ],
	  "SELECT * FROM public.clv_acquisition_value('cdnow'$T, 52$F, 0.01$F, 0.4$F, 3$F, '{\"n_draws\": 50, \"level\": 0.8}'$J)" ],
	[ [], "SELECT * FROM public.clv_acquisition_value('cdnow_pnbd'$T, 52$F)", 1 ],
	# offers and budgets
	[ [ 'clv_offer_predict(jsonb,float8,float8,float8,float8,float8,float8,float8,jsonb)' ],
	  "SELECT c.customer_id, public.clv_offer_predict($P, c.frequency, c.recency, c.t, c.monetary_value, 52$F, 0.01$F, 0.3$F, $OFFER) $CUST" ],
	[ [ 'clv_offer_options(jsonb)' ], "SELECT public.clv_offer_options('{\"id_column\": \"customer_id\"}'$J)" ],
	[ [ 'clv_offer_roi(text,text,jsonb,float8,float8,float8,jsonb)', 'clv_offer_roi_with_path(text,text,jsonb,float8,float8,float8,jsonb,text)' ],
	  "SELECT * FROM public.clv_offer_roi('cdnow'$T, 'customers'$T, $OFFER, 52$F, 0.01$F, 0.3$F, '{}'$J) LIMIT 25" ],
	[ [], "SELECT * FROM public.clv_offer_roi('cdnow'$T, $SEGQ, $OFFER, 52$F, 0$F, 1$F, $SEGO) LIMIT 25" ],
	[ [], "SELECT r.p_alive, r.net_gain FROM public.clv_offer_roi('cdnow'$T, 'SELECT c.frequency, c.recency, c.t, c.monetary_value FROM public.customers c'$T, $OFFER, 52$F) r LIMIT 5" ],
	[ [], "SELECT * FROM public.clv_offer_roi_with_path('cdnow'$T, 'customers'$T, $OFFER, 52$F, 0$F, 1$F, '{}'$J, $CP) r "
	  . "ORDER BY r.customer_id LIMIT 25" ],
	[ [], "SELECT * FROM public.clv_offer_roi('cdnow'$T, 'customers'$T, $OFFER, 52$F, 0$F, 1$F, '{\"colour\": \"x\"}'$J)", 1 ],
	[ [ 'clv_offer_roi_segments(text,text,jsonb,text,float8,float8,float8,jsonb)',
		'clv_offer_roi_segments_with_path(text,text,jsonb,text,float8,float8,float8,jsonb,text)' ],
	  "SELECT * FROM public.clv_offer_roi_segments('cdnow'$T, $SEGQ, $OFFER, 'seg'$T, 52$F, 0.01$F, 0.3$F, '{}'$J)" ],
	[ [], "SELECT * FROM public.clv_offer_roi_segments_with_path('cdnow'$T, $SEGQ, $OFFER, 'seg'$T, 52$F, 0$F, 1$F, $SEGO, $CP)" ],
	[ [ 'clv_allocate_budget(text,text,jsonb,float8,float8,float8,float8,jsonb)',
		'clv_allocate_budget_with_path(text,text,jsonb,float8,float8,float8,float8,jsonb,text)' ],
	  "SELECT * FROM public.clv_allocate_budget('cdnow'$T, 'customers'$T, $OFFER, 10$F, 52$F, 0.01$F, 0.3$F, '{}'$J)" ],
	[ [], "SELECT * FROM public.clv_allocate_budget_with_path('cdnow'$T, $SEGQ, $OFFER, 5$F, 52$F, 0$F, 1$F, $SEGO, $CP)" ],
	[ [], "SELECT * FROM public.clv_allocate_budget('cdnow'$T, 'customers'$T, $OFFER, '-1'$F, 52$F)", 1 ],
	[ [ 'clv_allocate_budget_segments(text,text,jsonb,float8,text,float8,float8,float8,jsonb)',
		'clv_allocate_budget_segments_with_path(text,text,jsonb,float8,text,float8,float8,float8,jsonb,text)' ],
	  "SELECT * FROM public.clv_allocate_budget_segments('cdnow'$T, $SEGQ, $OFFER, 20$F, 'seg'$T, 52$F, 0.01$F, 0.3$F, '{}'$J)" ],
	[ [], "SELECT * FROM public.clv_allocate_budget_segments_with_path('cdnow'$T, $SEGQ, $OFFER, 20$F, 'seg'$T, 52$F, 0$F, 1$F, $SEGO, $CP)" ],
	[ [ 'clv_model_types()' ], 'SELECT * FROM public.clv_model_types()' ],
	# the summary aggregate and its state type
	[ [ 'clv_summary(timestamptz,float8,timestamptz)', 'clv_summary_transfn(clv_summary_state,timestamptz,float8,timestamptz)',
		'clv_summary_finalfn(clv_summary_state)' ],
	  "SELECT x.customer_id, public.clv_summary(x.purchased_at, x.amount, $OE) FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary(timestamptz,float8,timestamptz,text)', 'clv_summary_transfn(clv_summary_state,timestamptz,float8,timestamptz,text)' ],
	  "SELECT x.customer_id, public.clv_summary(x.purchased_at, x.amount, $OE, 'month'$T) FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary(timestamptz,float8,timestamptz,timestamptz,text)',
		'clv_summary_transfn(clv_summary_state,timestamptz,float8,timestamptz,timestamptz,text)' ],
	  "SELECT x.customer_id, public.clv_summary(x.purchased_at, x.amount, $CE, $OE, 'day'$T) FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary(date,float8,date)', 'clv_summary_date_transfn(clv_summary_state,date,float8,date)' ],
	  "SELECT x.customer_id, public.clv_summary(pg_catalog.timezone('UTC'$T, x.purchased_at)::pg_catalog.date, x.amount, $OED) "
	  . "FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary(date,float8,date,text)', 'clv_summary_date_transfn(clv_summary_state,date,float8,date,text)' ],
	  "SELECT x.customer_id, public.clv_summary(x.purchased_at::pg_catalog.date, x.amount, $OED, 'month'$T) "
	  . "FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary(date,float8,date,date,text)',
		'clv_summary_date_transfn(clv_summary_state,date,float8,date,date,text)' ],
	  "SELECT x.customer_id, public.clv_summary(x.purchased_at::pg_catalog.date, x.amount, $CED, $OED, 'day'$T) "
	  . "FROM public.tx x GROUP BY x.customer_id ORDER BY x.customer_id LIMIT 25" ],
	[ [ 'clv_summary_combinefn(clv_summary_state,clv_summary_state)' ],
	  'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; '
	  . 'SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off; '
	  # (a parallel sum of amounts may round differently: integer fields only)
	  . "SELECT (s).frequency, (s).n_purchases, (s).first_purchase, (s).last_purchase "
	  . "FROM (SELECT public.clv_summary(x.purchased_at, x.amount, $OE) AS s FROM public.tx x) q" ],
	[ [], 'SELECT x.customer_id, public.clv_summary_finalfn(public.clv_summary_state_in(public.clv_summary_state_out(x.s))) '
	  . 'FROM public.st x ORDER BY x.customer_id' ],
	[ [ 'clv_summary_state_out(clv_summary_state)' ], 'SELECT x.customer_id, public.clv_summary_state_out(x.s) FROM public.st x ORDER BY x.customer_id' ],
	[ [ 'clv_summary_state_in(cstring)' ],
	  'SELECT x.customer_id, public.clv_summary_state_in(public.clv_summary_state_out(x.s)) FROM public.st x ORDER BY x.customer_id' ],
	[ [ 'clv_summary_state_send(clv_summary_state)' ], 'SELECT x.customer_id, public.clv_summary_state_send(x.s) FROM public.st x ORDER BY x.customer_id' ],
	[ [ 'clv_summary_state_recv(internal)' ],
	  "COPY public.st TO '__FILE__' WITH (FORMAT binary); TRUNCATE public.st_copy; "
	  . "COPY public.st_copy FROM '__FILE__' WITH (FORMAT binary); "
	  . 'SELECT x.customer_id, x.s FROM public.st_copy x ORDER BY x.customer_id' ],
	# RFM
	[ [ 'clv_rfm_segment(int4,int4)' ], "SELECT public.clv_rfm_segment(5$I, 4$I), public.clv_rfm_segment(1$I, 1$I)" ],
	[ [ 'clv_rfm_segment(int4,int4,int4)' ], "SELECT public.clv_rfm_segment(5$I, 4$I, 3$I), public.clv_rfm_segment(2$I, 5$I, 1$I)" ],
);

# Every function of the extension has a call above.
sub short_sig
{
	my ($s) = @_;
	$s =~ s/double precision/float8/g;
	$s =~ s/timestamp with time zone/timestamptz/g;
	$s =~ s/\binteger\b/int4/g;
	$s =~ s/, /,/g;
	return $s;
}
my %covered = map { $_ => 1 } map { @{ $_->[0] } } @calls;
my @ext_functions = map { short_sig($_) } split /\n/, $node->safe_psql('clean', q{
	SELECT p.oid::regprocedure FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
	ORDER BY 1});
cmp_ok(scalar(@ext_functions), '>=', 68, 'the extension\'s functions are listed from pg_depend');
ok($covered{$_}, "a call of $_ is in the test") for @ext_functions;
my %ext = map { $_ => 1 } @ext_functions;
ok($ext{$_}, "$_ (named by a call) is a function of the extension") for sort keys %covered;

# The victim's passes: public before pg_catalog, the default path (pg_catalog
# implicitly first) and pg_catalog explicitly first (hijacked once in the audit).
my %hits;
for my $pass ([ 'public first', "SET search_path = public, pg_catalog;\n" ], [ 'default path', '' ],
	[ 'pg_catalog first', "SET search_path = pg_catalog, public;\n" ])
{
	my ($pname, $path) = @$pass;
	for my $i (0 .. $#calls)
	{
		my ($sigs, $sql, $expect_error) = @{ $calls[$i] };
		my $label = sprintf('%s, call %d (%s)', $pname, $i + 1,
			@$sigs ? $sigs->[0] : ($sql =~ /public\.(clv_\w+)/)[0]);
		my %res;
		for my $db (qw(clean trap))
		{
			(my $q = $sql) =~ s/__FILE__/$dir\/st_$db.bin/g;
			my ($r, $o, $e) = $node->psql($db, "${path}SET extra_float_digits = 1;\n$q");
			$res{$db} = { rc => $r, out => $o, err => $e };
		}
		my ($c, $t) = ($res{clean}, $res{trap});
		if ($expect_error)
		{
			isnt($c->{rc}, 0, "$label: fails in clean as intended");
		}
		else
		{
			ok($c->{rc} == 0 && $c->{err} eq '', "$label: succeeds in clean") or diag($c->{err});
		}
		my @trojans = ("$t->{out}\n$t->{err}" =~ /TROJAN ([^\n]*)/g);
		ok(!@trojans, "$label: no trojan fires") or diag("trojans: @trojans\nSQL: $sql");
		push @{ $hits{$label} }, @trojans if @trojans;
		is("$t->{out}\n--\n$t->{err}", "$c->{out}\n--\n$c->{err}", "$label: the same result as in clean");
	}
}
diag("trojan hits:\n" . join("\n", map { "  $_: " . join('; ', @{ $hits{$_} }) } sort keys %hits)) if %hits;

# Every function of the extension was reached in trap (track_functions
# counts neither aggregates and their support functions, nor a type's I/O
# functions, nor inlined SQL functions: those are covered by the calls of
# the aggregates, by output and COPY BINARY, and by the calls above).
my $uncalled = q{
	SET search_path = pg_catalog;
	SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid)
	FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'clv'
	LEFT JOIN pg_stat_user_functions f ON f.funcid = p.oid
	WHERE p.prokind = 'f' AND p.prolang <> (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
	  AND NOT EXISTS (SELECT 1 FROM pg_aggregate a WHERE p.oid IN (a.aggtransfn, a.aggcombinefn, a.aggfinalfn))
	  AND NOT EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
	  AND COALESCE(f.calls, 0) = 0};
# a function that always raises (clv_model_missing) never returns to be counted
my %error_only;
for my $c (@calls)
{
	$error_only{$_} //= 1 for @{ $c->[0] };
	$error_only{$_} = 0 for $c->[2] ? () : @{ $c->[0] };
}
my @exempt = grep { $error_only{$_} } sort keys %error_only;
$uncalled .= "\n\t  AND p.proname NOT IN (" . join(', ', map { my $n = $_; $n =~ s/\(.*//; "'$n'" } @exempt) . ')'
  if @exempt;
# (a session's counts reach the shared statistics when it exits: poll)
my $not_reached;
for (1 .. 100)
{
	$not_reached = $node->safe_psql('trap', $uncalled);
	last if $not_reached eq '';
	usleep(100_000);
}
is($not_reached, '', 'every clv function was reached in trap');

is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f',
	'mallory is not a superuser');

$node->stop;
done_testing();
