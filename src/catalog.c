/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  clv_train(): fit through the shared fit path and store a new version
 *	  in clv_models; and the name -> spec resolution (with its per-query
 *	  cache) behind the name-based prediction functions.
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
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "btyd_json.h"
#include "catalog.h"
#include "fit.h"
#include "name_cache.h"

PG_FUNCTION_INFO_V1(clv_train);

/*
 * First key of the transaction-level advisory lock that serialises the
 * version numbering of one model name ("clv" in ASCII); the second key is
 * hashtext(name).  A hash collision only serialises two unrelated names.
 */
#define CLV_TRAIN_LOCK_CLASS 0x636c76

/*
 * The catalog table lives in the extension's schema, which is also the
 * schema of every clv function; looking it up there keeps clv working
 * whatever the caller's search_path is.
 */
char *
clv_catalog_table(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *nspname = get_namespace_name(nsp);

	if (nspname == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	return quote_qualified_identifier(nspname, "clv_models");
}

/*
 * Machine-readable flags of a training, stored as diagnostics->'flags' next
 * to the fit messages, so that bad models can be found with a query such as
 * WHERE diagnostics->'flags' ? 'q_le_1'.  The fit path warns about models
 * that did not converge (stuck at the start values counts as that) and
 * about q <= 1; it does not warn about a singular information matrix, which
 * is what a source where nobody repeats produces (the optimiser "converges"
 * to a degenerate, unidentified point), so that warning is raised here.
 * Stuck estimates are recognised by the fit message of optim.c.
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
		const char *flags[5];
		int			nflags = 0;
		bool		singular = false;

		if (mi == NULL)
			continue;
		for (int i = 0; i < mi->nparams; i++)
			singular |= isnan(fr->std_errors[i]);
		if (!fr->converged)
			flags[nflags++] = "not_converged";
		if (strstr(fr->message, "stuck at their start values"))
			flags[nflags++] = "stuck_at_start";
		if (singular)
			flags[nflags++] = "singular_information";
		if ((mi->kind == CLV_MODEL_BGNBD || mi->kind == CLV_MODEL_MBGNBD) &&
			fr->params[2] <= 1.0)
			flags[nflags++] = "a_le_1";
		if (mi->kind == CLV_MODEL_GAMMA_GAMMA && fr->params[1] <= 1.0)
			flags[nflags++] = "q_le_1";

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

/*
 * clv_train(name, source, transaction_model, spend_model, options)
 *
 * Fitting is the shared path of fit.h (so clv_fit() and clv_train() can
 * never disagree); this function only validates what is specific to the
 * catalog, numbers the version under an advisory lock and stores the row.
 * A model that did not converge is stored all the same (converged = false)
 * and the caller is warned: hiding it would lose the evidence.
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
	TupleDesc	rettupdesc;
	MemoryContext callercxt = CurrentMemoryContext;
	Datum		result;
	char	   *table;
	char	   *sql;
	int			ret;
	Oid			lock_types[2] = {INT4OID, TEXTOID};
	Datum		lock_values[2];
	Oid			types[14] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
		JSONBOID, INT8OID, BOOLOID, INT4OID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	JSONBOID};
	Datum		values[14];
	char		nulls[14];

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
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (clv_name_is_json(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid model name \"%s\"", name),
				 errdetail("Model names cannot start with \"{\" or \"[\": such text is read as inline params by the prediction functions.")));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "clv_train must return the row type clv_models");

	tx_model = clv_lookup_model(clv_text_arg_or_null(fcinfo, 2), false);
	spend_model = clv_lookup_model(clv_text_arg_or_null(fcinfo, 3), true);
	clv_parse_fit_options(PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4),
						  &opt, &unit);

	clv_fit_source(source, tx_model, spend_model, &opt, unit, &res);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(name);
	if (res.tx_model)
		values[1] = CStringGetTextDatum(res.tx_model->name);
	else
		nulls[1] = 'n';
	if (res.spend_model)
		values[2] = CStringGetTextDatum(res.spend_model->name);
	else
		nulls[2] = 'n';
	values[3] = JsonbPGetDatum(clv_result_params_jsonb(&res));
	values[4] = JsonbPGetDatum(clv_result_std_errors_jsonb(&res));
	values[5] = JsonbPGetDatum(clv_result_loglik_jsonb(&res));
	values[6] = Int64GetDatum(res.n_customers);
	values[7] = BoolGetDatum(res.converged);
	values[8] = Int32GetDatum(clv_result_iterations(&res));
	values[9] = CStringGetTextDatum(clv_time_unit_name(res.unit));
	values[10] = CStringGetTextDatum(source);
	values[11] = JsonbPGetDatum(clv_result_options_jsonb(&res));
	values[12] = JsonbPGetDatum(clv_result_diagnostics_jsonb(&res));
	values[13] = JsonbPGetDatum(clv_train_flags(&res));

	table = clv_catalog_table(fcinfo);
	sql = psprintf("INSERT INTO %s (name, version, kind, transaction_model,"
				   " spend_model, params, std_errors, log_likelihood,"
				   " n_customers, converged, iterations, time_unit, source,"
				   " options, diagnostics)"
				   " SELECT $1, coalesce(max(version), 0) + 1, 'btyd',"
				   " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 || $14"
				   " FROM %s WHERE name = $1"
				   " RETURNING *", table, table);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The fit ran without the lock (it can take a while); numbering and
	 * inserting under it makes concurrent trainings of one name get
	 * consecutive versions instead of a primary-key violation.  The INSERT
	 * takes a new snapshot after the lock is granted, so it sees a version
	 * committed by the session that held the lock before us.
	 */
	lock_values[0] = Int32GetDatum(CLV_TRAIN_LOCK_CLASS);
	lock_values[1] = values[0];
	ret = SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock($1, pg_catalog.hashtext($2))",
								2, lock_types, lock_values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));

	ret = SPI_execute_with_args(sql, 14, types, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));

	/* Copy the stored row out of SPI memory as the declared row type. */
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		result = heap_copy_tuple_as_datum(SPI_tuptable->vals[0],
										  BlessTupleDesc(rettupdesc));
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	clv_train_result_warn(&res);

	PG_RETURN_DATUM(result);
}

/*
 * What a catalog lookup saw: the identity of the active snapshot.  It is
 * constant for the whole of an ordinary query (and in its parallel
 * workers), but changes between the statements of a PL/pgSQL function,
 * which keeps the FmgrInfo of a simple expression for a whole transaction:
 * a model trained by an earlier statement of the same loop must be seen.
 */
typedef struct ClvSnapshotKey
{
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint64		completions;
} ClvSnapshotKey;

/* One resolved model name, kept for the rest of the query. */
typedef struct ClvCachedModel
{
	ClvNameCacheKey key;		/* the name */
	ClvSnapshotKey seen;
	ClvModelSpec spec;
} ClvCachedModel;

/*
 * fn_extra of a name-based function: the names resolved so far, and the
 * inline params seen last (one slot: params that change per row must not
 * make the cache grow per row).
 */
typedef struct ClvSpecCache
{
	HTAB	   *names;
	char	   *json;			/* text of the last inline params, or NULL */
	ClvModelSpec json_spec;
} ClvSpecCache;

/*
 * Reads the newest version of a model.  STABLE functions see the snapshot
 * of their query, so a version committed later is picked up by the next
 * query (which also gets a fresh FmgrInfo, hence an empty cache).
 */
static void
clv_catalog_load_spec(FunctionCallInfo fcinfo, const char *name,
					  ClvModelSpec *spec)
{
	char	   *sql;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	char	   *kind;
	bool		isnull;
	Datum		params;
	int			ret;

	sql = psprintf("SELECT kind, params FROM %s WHERE name = $1"
				   " ORDER BY version DESC LIMIT 1",
				   clv_catalog_table(fcinfo));
	values[0] = CStringGetTextDatum(name);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, 1, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("clv model \"%s\" does not exist", name),
				 errhint("Train it with clv_train(); SELECT DISTINCT name FROM clv_models lists the trained models.")));

	kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (kind == NULL || strcmp(kind, "btyd") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("clv model \"%s\" is a %s model, not a BTYD prediction model",
						name, kind ? kind : "NULL"),
				 errhint("K-Means models assign clusters with clv_cluster().")));

	params = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
						   &isnull);
	if (isnull)
		elog(ERROR, "clv model \"%s\" has NULL params", name);
	clv_spec_from_jsonb(DatumGetJsonbP(params), spec);

	SPI_finish();
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

/* Zero-filled first so that the keys compare with memcmp, padding included. */
static void
clv_snapshot_key(ClvSnapshotKey *key)
{
	memset(key, 0, sizeof(*key));
	if (ActiveSnapshotSet())
	{
		Snapshot	snap = GetActiveSnapshot();

		key->xmin = snap->xmin;
		key->xmax = snap->xmax;
		key->curcid = snap->curcid;
		key->completions = snap->snapXactCompletionCount;
	}
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
	ClvSnapshotKey now;
	ClvCachedModel *entry;
	ClvModelSpec spec;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(mcxt, sizeof(ClvSpecCache));
		cache->names = clv_name_cache_create(mcxt, "clv model names",
											 sizeof(ClvCachedModel));
		fcinfo->flinfo->fn_extra = cache;
	}

	if (clv_name_is_json(name))
	{
		if (cache->json == NULL || strcmp(cache->json, name) != 0)
		{
			clv_spec_from_jsonb(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																   CStringGetDatum(name))),
								&spec);
			if (cache->json)
				pfree(cache->json);
			cache->json = MemoryContextStrdup(mcxt, name);
			cache->json_spec = spec;
		}
		pfree(name);
		return &cache->json_spec;
	}

	clv_snapshot_key(&now);
	entry = clv_name_cache_find(cache->names, name);
	if (entry == NULL || memcmp(&entry->seen, &now, sizeof(now)) != 0)
	{
		/* into a local first: an error must not leave a half-made entry */
		clv_catalog_load_spec(fcinfo, name, &spec);
		if (entry == NULL)
			entry = clv_name_cache_insert(cache->names, mcxt, name);
		entry->spec = spec;
		entry->seen = now;
	}
	pfree(name);
	return &entry->spec;
}
