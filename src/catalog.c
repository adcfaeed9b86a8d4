/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  clv_train(): fit through the shared fit path and store a new version
 *	  in clv_models; and the name -> spec resolution (with its per-query
 *	  cache) behind the name-based prediction functions.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "clv_json.h"
#include "catalog.h"
#include "fit.h"
#include "name_cache.h"

PG_FUNCTION_INFO_V1(clv_train);
PG_FUNCTION_INFO_V1(clv_catalog_storing);

/*
 * True only while clv_catalog_store runs its INSERT: the catalog accepts
 * a model artifact (bytes a library parses, such as an XGBoost
 * booster, whose loader does not survive arbitrary input) only from a
 * training function, never from a plain INSERT of a role's own making.
 */
static bool clv_catalog_storing_now = false;

/* Citus's switch for queries run from inside a query on a shard */
#define CLV_CITUS_NESTED_GUC "citus.allow_nested_distributed_execution"

/*
 * clv_catalog_storing(): what the stamping trigger asks, to leave the rows
 * of clv_catalog_store alone (no SQL can set it).
 */
Datum
clv_catalog_storing(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clv_catalog_storing_now);
}

/*
 * The catalog table lives in the extension's schema, which is also the
 * schema of every clv function; looking it up there keeps clv working
 * whatever the caller's search_path is.
 */
char *
clv_catalog_relation(FunctionCallInfo fcinfo, const char *relname)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *nspname = get_namespace_name(nsp);

	if (nspname == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	return quote_qualified_identifier(nspname, relname);
}

char *
clv_catalog_table(FunctionCallInfo fcinfo)
{
	return clv_catalog_relation(fcinfo, "clv_models");
}

/*
 * The catalog's own queries run with search_path pinned to pg_catalog (and
 * pg_temp last, so temporary objects cannot shadow anything): the caller's
 * path may hold look-alike functions or operators planted by another role.
 * The setting is undone by clv_catalog_unpin, or by the (sub)transaction
 * abort on error, as for a function's SET clause.
 */
int
clv_catalog_pin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	/*
	 * On Citus, after clv_catalog_distribute(), the catalog tables are
	 * reference tables: every node holds all of their rows.  A by-name call
	 * over a distributed table runs on the workers, inside the query on a
	 * shard, and its lookup reads the catalog there; Citus refuses such a
	 * nested query unless told otherwise, because it cannot know that it
	 * reads replicated rows only.  The catalog's queries read nothing else,
	 * so they allow it, for themselves alone.
	 */
	if (GetConfigOption(CLV_CITUS_NESTED_GUC, true, false) != NULL)
		(void) set_config_option(CLV_CITUS_NESTED_GUC, "on",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
clv_catalog_unpin(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * The row-level security policies of clv_models ask these.  A policy may
 * not hold a subquery if the table is to become a Citus reference table
 * (clv_catalog_distribute), and Citus evaluates a reference table's
 * policies on every node, inside the query on its shard, where a nested
 * query needs the catalog's pinned settings (clv_catalog_pin); so each
 * question is a C function that asks it through SPI.
 */
PG_FUNCTION_INFO_V1(clv_catalog_readable);
PG_FUNCTION_INFO_V1(clv_catalog_owned);
PG_FUNCTION_INFO_V1(clv_catalog_insertable);
PG_FUNCTION_INFO_V1(clv_catalog_artifact_ok);

/*
 * Asks a boolean question of the name's row n of clv_model_names: the
 * query SELECT <func>(<func_args>) FROM clv_model_names n WHERE n.name = $1
 * <more>, with the caller's arguments as $1, $2, ... (text, text, int4);
 * false for no row or NULL.  read_only: in the calling statement's
 * snapshot (as a subquery of the policy would be), else in a new one that
 * also sees what the statement itself did so far (the INSERT check, after
 * the stamping trigger claimed and numbered the name within the same
 * INSERT).
 */
static bool
clv_catalog_ask(FunctionCallInfo fcinfo, const char *func, const char *func_args,
				const char *more, bool read_only)
{
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	int			nargs = PG_NARGS();
	char	   *sql;
	bool		answer = false;
	bool		isnull;
	int			nestlevel;
	int			ret;

	Assert(nargs <= 3);
	for (int i = 0; i < nargs; i++)
		values[i] = PG_GETARG_DATUM(i);
	sql = psprintf("SELECT %s(%s) FROM %s n WHERE n.name OPERATOR(pg_catalog.=) $1%s",
				   clv_catalog_relation(fcinfo, func), func_args,
				   clv_catalog_relation(fcinfo, "clv_model_names"), more);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = clv_catalog_pin();
	ret = SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull);

		answer = !isnull && DatumGetBool(d);
	}
	clv_catalog_unpin(nestlevel);
	SPI_finish();
	return answer;
}

/* clv_catalog_readable(name): the current role may read the name's versions. */
Datum
clv_catalog_readable(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clv_catalog_ask(fcinfo, "clv_model_readable", "n.owner, n.readers",
								   "", true));
}

/* clv_catalog_owned(name): the current role is a member of the name's owner. */
Datum
clv_catalog_owned(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clv_catalog_ask(fcinfo, "clv_role_includes_me", "n.owner", "", true));
}

/*
 * clv_catalog_insertable(name, kind, version): a new version row may be
 * stored by the current role: the name exists with this kind, the role is
 * a member of its owner, and version is the number last handed out for it
 * (taken by the UPDATE of last_version that precedes the INSERT, under the
 * name's row lock; the primary key refuses a number stored twice).
 */
Datum
clv_catalog_insertable(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clv_catalog_ask(fcinfo, "clv_role_includes_me", "n.owner",
								   " AND n.kind OPERATOR(pg_catalog.=) $2"
								   " AND n.last_version OPERATOR(pg_catalog.=) $3",
								   false));
}

/*
 * Whether this node is a Citus worker: Citus is installed and the node's
 * group is not the coordinator's (0).  A worker never parses an artifact
 * (clv_catalog_newest_row refuses to hand one out there), so it may hold
 * any bytes in its copy of the catalog.
 */
static bool
clv_catalog_on_citus_worker(void)
{
	bool		worker = false;
	bool		isnull;
	int			nestlevel;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = clv_catalog_pin();
	ret = SPI_execute("SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_local_group') IS NOT NULL",
					  true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
	{
		ret = SPI_execute("SELECT bool_or(groupid OPERATOR(pg_catalog.<>) 0) FROM pg_catalog.pg_dist_local_group",
						  true, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		worker = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		worker = worker && !isnull;
	}
	clv_catalog_unpin(nestlevel);
	SPI_finish();
	return worker;
}

/*
 * clv_catalog_artifact_ok(): a row with an artifact may be stored: by a
 * training function's own INSERT (which Citus runs on the coordinator's
 * copy in the training backend), or on a Citus worker, which never parses
 * an artifact.
 */
Datum
clv_catalog_artifact_ok(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clv_catalog_storing_now || clv_catalog_on_citus_worker());
}

static void clv_catalog_missing(FunctionCallInfo fcinfo, const char *name) pg_attribute_noreturn();

/*
 * Raises the catalog's error for a name without a readable version: the SQL
 * function clv_model_missing tells a name the caller may not read (42501)
 * from one that does not exist (42704), with the owner in the detail.
 * Called inside an SPI connection with the path pinned.
 */
static void
clv_catalog_missing(FunctionCallInfo fcinfo, const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(name);
	(void) SPI_execute_with_args(psprintf("SELECT %s($1)",
										  clv_catalog_relation(fcinfo, "clv_model_missing")),
								 1, types, values, NULL, true, 0);
	/* not reached: clv_model_missing always raises */
	elog(ERROR, "clv model \"%s\" does not exist", name);
}

/*
 * The params of the newest version of a model of the given kind, copied
 * into the caller's memory context.  Errors: 42704 unknown name, 42501 a
 * model the caller may not read, 42809 a model of another kind.
 */
Jsonb *
clv_catalog_newest_params(FunctionCallInfo fcinfo, const char *name,
						  const char *kind)
{
	return clv_catalog_newest_params_covariance(fcinfo, name, kind, NULL);
}

/*
 * The same, and (if covariance is not NULL) the covariance column of the
 * same row, NULL when the column is: one query, so that both come from one
 * version even while another session trains the name.
 */
Jsonb *
clv_catalog_newest_params_covariance(FunctionCallInfo fcinfo, const char *name,
									 const char *kind, Jsonb **covariance)
{
	return clv_catalog_newest_row(fcinfo, name, kind, covariance, NULL);
}

/* The hint of a 42809: how models of the kind found are used. */
static int
clv_catalog_kind_hint(const char *found_kind)
{
	if (found_kind && strcmp(found_kind, "kmeans") == 0)
		return errhint("K-Means models assign clusters with clv_cluster().");
	if (found_kind && strcmp(found_kind, "regressor") == 0)
		return errhint("Regressors predict with clv_regressor_predict().");
	return errhint("BTYD models predict with clv_predict() and its companions.");
}

/*
 * The params of the newest version and, where asked for, its covariance
 * and artifact columns (NULL when null), all from one row; copied into the
 * caller's memory context.
 */
Jsonb *
clv_catalog_newest_row(FunctionCallInfo fcinfo, const char *name, const char *kind,
					   Jsonb **covariance, bytea **artifact)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	char	   *found_kind;
	bool		isnull;
	bool		cov_null = true;
	bool		art_null = true;
	Datum		params;
	Datum		cov = (Datum) 0;
	Datum		art = (Datum) 0;
	Jsonb	   *result;
	int			nestlevel;
	int			ret;

	values[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = clv_catalog_pin();
	ret = SPI_execute_with_args(psprintf("SELECT kind, params, covariance, artifact FROM %s WHERE name = $1"
										 " ORDER BY version DESC LIMIT 1",
										 clv_catalog_table(fcinfo)),
								1, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		clv_catalog_missing(fcinfo, name);

	found_kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (found_kind == NULL || strcmp(found_kind, kind) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("clv model \"%s\" is a %s model, not a %s model",
						name, found_kind ? found_kind : "NULL", kind),
				 clv_catalog_kind_hint(found_kind)));

	params = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
						   &isnull);
	if (isnull)
		elog(ERROR, "clv model \"%s\" has NULL params", name);
	if (covariance)
		cov = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3,
							&cov_null);
	if (artifact)
	{
		if (clv_catalog_on_citus_worker())
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("clv model \"%s\" can only be used on the Citus coordinator", name),
					 errdetail("Its artifact is parsed only where its training function stored it; a worker's copy of the catalog is not trusted with it."),
					 errhint("Score a table that is not distributed, or distribute the scores after scoring on the coordinator.")));
		art = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4,
							&art_null);
	}
	clv_catalog_unpin(nestlevel);
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		result = DatumGetJsonbPCopy(params);
		if (covariance)
			*covariance = cov_null ? NULL : DatumGetJsonbPCopy(cov);
		if (artifact)
			*artifact = art_null ? NULL : DatumGetByteaPCopy(art);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	return result;
}

/*
 * The query that raises clv_model_check's errors for the name $1 and the
 * kind $2.  The row is rebuilt from its columns rather than passed whole:
 * on a Citus reference table the query runs on a shard, whose row type is
 * not clv_model_names.
 */
static char *
clv_catalog_check_sql(FunctionCallInfo fcinfo)
{
	char	   *names = clv_catalog_relation(fcinfo, "clv_model_names");

	return psprintf("SELECT %s(ROW(n.*)::%s, 'train new versions', $2) FROM %s n"
					" WHERE n.name OPERATOR(pg_catalog.=) $1",
					clv_catalog_relation(fcinfo, "clv_model_check"), names, names);
}

/*
 * Checks, before any training work, that a name may receive a new version
 * of this kind from the current role: a valid name (not empty, not JSON,
 * which the prediction functions read as inline params), of the same kind
 * if it exists, and owned by a role the caller is a member of.  The
 * catalog checks the same again when the version is stored
 * (clv_catalog_store).
 */
void
clv_catalog_check_trainable(FunctionCallInfo fcinfo, const char *name,
							const char *kind)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *sql;
	int			nestlevel;
	int			ret;

	clv_check_model_name(name);

	/* clv_model_check raises the errors, as clv_catalog_store does */
	sql = clv_catalog_check_sql(fcinfo);
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(kind);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = clv_catalog_pin();
	ret = SPI_execute_with_args(sql, 2, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	clv_catalog_unpin(nestlevel);
	SPI_finish();
}

/*
 * Stores a new version of a name: claims the name if it is new, checks its
 * kind and that the current role may train it (clv_model_check), takes the
 * next version number under the name's row lock (which serialises the
 * trainings of one name until commit, so numbers follow commit order and
 * are never reused), then INSERT ... VALUES ... RETURNING * of the row with
 * that number, trained_by and trained_at (the clock after the lock).
 *
 * The numbering is done here, not by the catalog's trigger, so that the
 * same statements work when the catalog is a pair of Citus reference tables
 * (clv_catalog_distribute): Citus runs a modification of a reference table
 * on every node, where a trigger that modifies another table cannot run;
 * each statement here is one that Citus routes as it is.  The trigger,
 * where it exists, stamps only the rows that other INSERTs store.
 *
 * Returns the stored row as a datum of the caller's result type, in the
 * caller's memory context.
 */
Datum
clv_catalog_store(FunctionCallInfo fcinfo, const char *name, const char *kind,
				  int ncols, const char *const *columns, const Oid *types,
				  const Datum *values, const char *nulls)
{
	MemoryContext callercxt = CurrentMemoryContext;
	TupleDesc	rettupdesc;
	StringInfoData sql;
	int			nargs = ncols + 3;
	Oid		   *argtypes = palloc(sizeof(Oid) * nargs);
	Datum	   *args = palloc(sizeof(Datum) * nargs);
	char	   *argnulls = palloc(nargs);
	char	   *names = clv_catalog_relation(fcinfo, "clv_model_names");
	Datum		result;
	bool		isnull;
	int			nestlevel;
	int			ret;

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "a training function must return the row type clv_models");

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (name, kind, version, trained_by, trained_at",
					 clv_catalog_table(fcinfo));
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&sql, ", %s", columns[i]);
	appendStringInfoString(&sql, ") VALUES ($1, $2, $3, CURRENT_USER, pg_catalog.clock_timestamp()");
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&sql, ", $%d", i + 4);
	appendStringInfoString(&sql, ") RETURNING *");

	argtypes[0] = TEXTOID;
	argtypes[1] = TEXTOID;
	argtypes[2] = INT4OID;
	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(kind);
	args[2] = Int32GetDatum(0);
	argnulls[0] = argnulls[1] = argnulls[2] = ' ';
	memcpy(argtypes + 3, types, sizeof(Oid) * ncols);
	memcpy(args + 3, values, sizeof(Datum) * ncols);
	memcpy(argnulls + 3, nulls, ncols);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = clv_catalog_pin();

	/*
	 * Claim a new name in a statement of its own, so that the row-level
	 * security policies of the INSERT below (RETURNING is checked against
	 * the read policy) see it; a concurrent claim waits on the primary key.
	 */
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (name, kind) VALUES ($1, $2)"
										 " ON CONFLICT (name) DO NOTHING", names),
								2, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));

	/* the kind and the right to train, as before the training (42809, 42501) */
	ret = SPI_execute_with_args(clv_catalog_check_sql(fcinfo),
								2, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));

	/*
	 * The next number, under the row lock of the name: row-level security
	 * lets only members of the owner role update the row, so no row here
	 * (after the check above passed) means a privilege was revoked.
	 */
	ret = SPI_execute_with_args(psprintf("UPDATE %s c SET last_version = c.last_version OPERATOR(pg_catalog.+) 1"
										 " WHERE c.name OPERATOR(pg_catalog.=) $1 RETURNING c.last_version",
										 names),
								1, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for clv model \"%s\"", name),
				 errhint("Training needs UPDATE (last_version) on clv_model_names.")));
	args[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "clv model \"%s\" has a NULL last_version", name);

	clv_catalog_storing_now = true;
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql.data, nargs, argtypes, args, argnulls,
									false, 0);
	}
	PG_FINALLY();
	{
		clv_catalog_storing_now = false;
	}
	PG_END_TRY();
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	clv_catalog_unpin(nestlevel);

	/* Copy the stored row out of SPI memory as the declared row type. */
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		result = heap_copy_tuple_as_datum(SPI_tuptable->vals[0],
										  BlessTupleDesc(rettupdesc));
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	return result;
}

/*
 * Machine-readable flags of a training, stored as diagnostics->'flags' next
 * to the fit messages, so that bad models can be found with a query such as
 * WHERE diagnostics->'flags' ? 'q_le_1'.  The fit path warns about models
 * that did not converge (stuck at the start values counts as that) and
 * about q <= 1; it does not warn about a singular information matrix, which
 * is what a source where nobody repeats produces (the optimiser "converges"
 * to a degenerate, unidentified point), so that warning is raised here.
 * The flags come from the optimiser's (ClvFitResult) and the model's
 * caveats (ClvModelType).
 */
static Jsonb *
clv_train_flags(const ClvTrainResult *res)
{
	StringInfoData arr;
	StringInfoData obj;
	bool		first = true;

	initStringInfo(&arr);
	appendStringInfoChar(&arr, '[');
	for (int m = 0; m < 2; m++)
	{
		const ClvModelInfo *mi = m == 0 ? res->tx_model : res->spend_model;
		const ClvFitResult *fr = m == 0 ? &res->tx : &res->spend;
		const char *flags[3 + 32];	/* the optimiser's 3, the caveats' bits */
		int			nflags = 0;
		bool		singular;

		if (mi == NULL)
			continue;
		singular = fr->singular;
		if (!fr->converged)
			flags[nflags++] = "not_converged";
		if (fr->stuck_at_start)
			flags[nflags++] = "stuck_at_start";
		if (singular)
			flags[nflags++] = "singular_information";
		for (int c = 0; c < mi->ncaveats; c++)
			if (fr->caveats & (1u << c))
				flags[nflags++] = mi->caveats[c].flag;

		for (int i = 0; i < nflags; i++)
		{
			appendStringInfo(&arr, "%s\"%s\"", first ? "" : ", ", flags[i]);
			first = false;
		}
		if (singular && fr->converged)
			ereport(WARNING,
					(errmsg("the %s parameters are not identified by the data (singular information matrix)",
							mi->name),
					 errdetail("The fit reports: %s.", fr->message),
					 errhint("Check that some customers in the source repeat and that the "
							 "time_unit fits the data, or try a penalizer (options {\"penalizer\": 0.001}).")));
	}
	appendStringInfoChar(&arr, ']');

	initStringInfo(&obj);
	appendStringInfoChar(&obj, '{');
	clv_json_raw(&obj, "flags", arr.data);
	appendStringInfoChar(&obj, '}');
	return clv_json_finish(&obj);
}

/* Text argument as a C string, or NULL for an SQL NULL. */
static char *
clv_text_arg_or_null(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* The columns clv_train stores besides name and kind, and their types. */
#define TRAIN_NCOLS 13
static const char *const train_columns[TRAIN_NCOLS] = {"transaction_model",
	"spend_model", "params", "std_errors", "log_likelihood", "n_customers",
	"converged", "iterations", "time_unit", "source", "options", "diagnostics",
"covariance"};
static const Oid train_types[TRAIN_NCOLS] = {TEXTOID, TEXTOID, JSONBOID,
	JSONBOID, JSONBOID, INT8OID, BOOLOID, INT4OID, TEXTOID, TEXTOID, JSONBOID,
JSONBOID, JSONBOID};

/*
 * The values of train_columns for a fit of source: the pieces of the
 * result as clv_fit returns them, the diagnostics with the flags.
 */
static void
train_row(const ClvTrainResult *res, const char *source, Datum *values,
		  char *nulls)
{
	memset(nulls, ' ', TRAIN_NCOLS);
	if (res->tx_model)
		values[0] = CStringGetTextDatum(res->tx_model->name);
	else
		nulls[0] = 'n';
	if (res->spend_model)
		values[1] = CStringGetTextDatum(res->spend_model->name);
	else
		nulls[1] = 'n';
	values[2] = JsonbPGetDatum(clv_result_params_jsonb(res));
	values[3] = JsonbPGetDatum(clv_result_std_errors_jsonb(res));
	values[4] = JsonbPGetDatum(clv_result_loglik_jsonb(res));
	values[5] = Int64GetDatum(res->n_customers);
	values[6] = BoolGetDatum(res->converged);
	values[7] = Int32GetDatum(clv_result_iterations(res));
	values[8] = CStringGetTextDatum(clv_time_unit_name(res->unit));
	values[9] = CStringGetTextDatum(source);
	values[10] = JsonbPGetDatum(clv_result_options_jsonb(res));
	values[11] = DirectFunctionCall2(jsonb_concat,
									 JsonbPGetDatum(clv_result_diagnostics_jsonb(res)),
									 JsonbPGetDatum(clv_train_flags(res)));
	values[12] = JsonbPGetDatum(clv_result_covariance_jsonb(res));
}

/*
 * clv_train(name, source, transaction_model, spend_model, options)
 *
 * Fitting is the shared path of fit.h (so clv_fit() and clv_train() can
 * never disagree); this function only validates what is specific to the
 * catalog and stores the row (clv_catalog_store numbers the version).
 * The steps: check the arguments and that the name may be trained, before
 * any work; fit; store; warn.  A model that did not converge is stored all
 * the same (converged = false) and the caller is warned: hiding it would
 * lose the evidence.
 */
Datum
clv_train(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *source;
	const ClvModelInfo *tx_model;
	const ClvModelInfo *spend_model;
	ClvFitOptions opt;
	ClvTimeUnit unit;
	ClvTrainResult res;
	Datum		result;
	Datum		values[TRAIN_NCOLS];
	char		nulls[TRAIN_NCOLS];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL"),
				 errhint("Give a table or view name, or a SELECT returning frequency, recency, t[, monetary_value].")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	clv_catalog_check_trainable(fcinfo, name, "btyd");
	tx_model = clv_lookup_model(clv_text_arg_or_null(fcinfo, 2), false);
	spend_model = clv_lookup_model(clv_text_arg_or_null(fcinfo, 3), true);
	clv_parse_fit_options(PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4),
						  &opt, &unit);

	clv_fit_source(source, tx_model, spend_model, &opt, unit, &res);

	train_row(&res, source, values, nulls);
	result = clv_catalog_store(fcinfo, name, "btyd", TRAIN_NCOLS, train_columns,
							   train_types, values, nulls);
	clv_train_result_warn(&res);
	PG_RETURN_DATUM(result);
}


/*
 * fn_extra of a name-based function: the names resolved so far, and the
 * inline params seen last (one slot: params that change per row must not
 * make the cache grow per row).
 */
typedef struct ClvSpecCache
{
	HTAB	   *names;
	ClvCacheSlot json;			/* keyed on the text of the params */
} ClvSpecCache;

/* What the builds below need: the call (for the catalog) and the text. */
typedef struct SpecBuild
{
	FunctionCallInfo fcinfo;
	const char *name;
} SpecBuild;

/*
 * Reads the newest version of a model.  STABLE functions see the snapshot
 * of their query, so a version committed later is picked up by the next
 * query, or by the next statement of a PL/pgSQL loop (a new snapshot).
 */
static void *
build_catalog_spec(void *arg, MemoryContext cxt)
{
	SpecBuild  *b = arg;
	ClvModelSpec *spec = MemoryContextAlloc(cxt, sizeof(ClvModelSpec));

	clv_spec_from_jsonb(clv_catalog_newest_params(b->fcinfo, b->name, "btyd"), spec);
	return spec;
}

/* Parses inline params given where a name was expected. */
static void *
build_json_spec(void *arg, MemoryContext cxt)
{
	SpecBuild  *b = arg;
	ClvModelSpec *spec = MemoryContextAlloc(cxt, sizeof(ClvModelSpec));

	clv_spec_from_jsonb(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														   CStringGetDatum(b->name))),
						spec);
	return spec;
}

/*
 * An untyped literal such as '{"r": 0.24, ...}' resolves to the name-based
 * overload (PostgreSQL prefers text for unknown literals), so text that is
 * a JSON object or array is taken as inline params instead of a name; model
 * names cannot start with '{' or '[' (clv_train refuses them).
 */
bool
clv_name_is_json(const char *name)
{
	while (*name == ' ' || *name == '\t' || *name == '\n' || *name == '\r')
		name++;
	return *name == '{' || *name == '[';
}

/*
 * What every training checks of a name before reading its source: not
 * empty, not text the prediction functions would read as inline params.
 */
void
clv_check_model_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (clv_name_is_json(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid model name \"%s\"", name),
				 errdetail("Model names cannot start with \"{\" or \"[\": such text is read as inline params by the prediction functions.")));
}

/*
 * Resolving a name costs a catalog query; doing it once per FmgrInfo (that
 * is, per call site and query) instead of once per row is what makes the
 * name-based functions as fast as the params-jsonb ones; a new snapshot
 * (see ClvSnapshotKey) resolves again.  The cache is a hash table keyed on
 * the name, so that a name taken from a column resolves each distinct
 * model only once, in constant time per row however many names there are.
 */
const ClvModelSpec *
clv_catalog_spec(FunctionCallInfo fcinfo)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	ClvSpecCache *cache = fcinfo->flinfo->fn_extra;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	SpecBuild	b = {fcinfo, name};
	const ClvModelSpec *spec;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(mcxt, sizeof(ClvSpecCache));
		cache->names = clv_name_cache_create(mcxt, "clv model names");
		fcinfo->flinfo->fn_extra = cache;
	}
	if (clv_name_is_json(name))
		spec = clv_cache_slot_get(&cache->json, mcxt, name, strlen(name), false,
								  build_json_spec, &b);
	else
		spec = clv_name_cache_get(cache->names, mcxt, name, build_catalog_spec, &b);
	pfree(name);
	return spec;
}
