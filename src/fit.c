/*-------------------------------------------------------------------------
 *
 * fit.c
 *	  The shared fit path (SPI) and clv_fit(), the stateless fit function.
 *
 * The source is reduced in SQL first: one GROUP BY over the distinct
 * (frequency, recency, t[, monetary_value]) with the customer count as the
 * weight, so that PostgreSQL (parallel query; Citus) does the heavy scan and
 * the optimiser works over the unique rows in memory.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "btyd_json.h"
#include "fit.h"

#define CLV_VALID_TX_MODELS "bgnbd, pareto_nbd, mbgnbd, bgbb"
#define CLV_VALID_SPEND_MODELS "gamma_gamma"
#define CLV_VALID_FIT_OPTIONS "time_unit, penalizer, max_iterations, tolerance"

PG_FUNCTION_INFO_V1(clv_fit_sql);

const ClvModelInfo *
clv_lookup_model(const char *name, bool want_spend)
{
	const ClvModelInfo *mi;

	if (name == NULL)
		return NULL;
	mi = clv_model_info_by_name(name);
	if (mi == NULL || mi->is_spend != want_spend)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %s model \"%s\"",
						want_spend ? "spend" : "transaction", name),
				 errhint("Valid %s models are: %s (or NULL for none).",
						 want_spend ? "spend" : "transaction",
						 want_spend ? CLV_VALID_SPEND_MODELS : CLV_VALID_TX_MODELS)));
	return mi;
}

void
clv_parse_fit_options(Jsonb *options, ClvFitOptions *opt, ClvTimeUnit *unit)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	opt->penalizer = CLV_FIT_DEFAULT_PENALIZER;
	opt->max_iterations = CLV_FIT_DEFAULT_MAX_ITERATIONS;
	opt->tolerance = CLV_FIT_DEFAULT_TOLERANCE;
	*unit = CLV_UNIT_WEEK;
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a jsonb object"),
				 errhint("Valid options are: %s.", CLV_VALID_FIT_OPTIONS)));

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "time_unit") == 0)
			*unit = clv_parse_time_unit(clv_jsonb_string(&v, "option time_unit"));
		else if (strcmp(key, "penalizer") == 0)
		{
			opt->penalizer = clv_jsonb_number(&v, "option penalizer");
			if (opt->penalizer < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option penalizer must be >= 0, not %g", opt->penalizer)));
		}
		else if (strcmp(key, "max_iterations") == 0)
		{
			double		d = clv_jsonb_number(&v, "option max_iterations");

			if (d < 1 || d > 1000000 || d != floor(d))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option max_iterations must be an integer between 1 and 1000000, not %g", d)));
			opt->max_iterations = (int) d;
		}
		else if (strcmp(key, "tolerance") == 0)
		{
			opt->tolerance = clv_jsonb_number(&v, "option tolerance");
			if (!(opt->tolerance > 0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option tolerance must be > 0, not %g", opt->tolerance)));
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\"", key),
					 errhint("Valid options are: %s.", CLV_VALID_FIT_OPTIONS)));
	}
}

/* A SELECT (or WITH/VALUES/TABLE/parenthesised query) versus a relation name */
static bool
source_is_query(const char *source)
{
	static const char *const kw[] = {"select", "with", "values", "table"};
	const char *p = source;

	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p == '(')
		return true;
	for (int i = 0; i < lengthof(kw); i++)
	{
		size_t		len = strlen(kw[i]);

		if (pg_strncasecmp(p, kw[i], len) == 0 &&
			(p[len] == '\0' || !(isalnum((unsigned char) p[len]) || p[len] == '_')))
			return true;
	}
	return false;
}

static void
check_column(TupleDesc desc, const char *col, const char *source, const char *why)
{
	if (SPI_fnumber(desc, col) == SPI_ERROR_NOATTRIBUTE)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" does not exist in source \"%s\"", col, source),
				 errhint("The source needs columns frequency, recency and t%s; %s.",
						 why ? " and monetary_value" : "",
						 "rename columns with a SELECT ... AS if needed")));
}

#define BAD_VALUE(source, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), \
			 errmsg(__VA_ARGS__), \
			 (source) ? errdetail("In source \"%s\".", (source)) : 0))

/*
 * Validates one customer's (frequency, recency, t) for a transaction model
 * (tx may be NULL).  BG/BB works on whole opportunities with frequency <=
 * recency <= t.  Recency > t is rejected for every model: it cannot happen
 * in a correct summary, and the Pareto/NBD math would have to extrapolate
 * (see pareto_nbd.c).
 */
void
clv_validate_customer(const ClvModelInfo *tx, double x, double rec, double T,
					  const char *source)
{
	if (!isfinite(x) || !isfinite(rec) || !isfinite(T))
		BAD_VALUE(source, "non-finite value: frequency %g, recency %g, t %g", x, rec, T);
	if (x < 0)
		BAD_VALUE(source, "negative frequency %g", x);
	if (rec < 0)
		BAD_VALUE(source, "negative recency %g", rec);
	if (rec > T)
		BAD_VALUE(source, "recency %g is greater than t %g", rec, T);
	if (tx && tx->kind == CLV_MODEL_BGBB &&
		(x != floor(x) || rec != floor(rec) || T != floor(T) || x > rec ||
		 (x == 0 && rec != 0)))
		BAD_VALUE(source, "bgbb needs whole numbers with frequency <= recency <= t (recency 0 when frequency is 0); got frequency %g, recency %g, t %g",
				  x, rec, T);
}

/* Orders rows by frequency, then t, then recency (spend rows: mean spend) */
static int
cmp_obs(const void *a, const void *b)
{
	const ClvObs *x = a;
	const ClvObs *y = b;

	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	if (x->T != y->T)
		return x->T < y->T ? -1 : 1;
	if (x->tx != y->tx)
		return x->tx < y->tx ? -1 : 1;
	return 0;
}

/* Gamma-Gamma needs a positive, finite mean spend for every repeat buyer */
static void
validate_spend(const char *source, double x, bool m_null, double m)
{
	if (!isfinite(x))
		BAD_VALUE(source, "non-finite frequency %g", x);
	if (x < 0)
		BAD_VALUE(source, "negative frequency %g", x);
	if (x > 0 && m_null)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("monetary_value is NULL for a customer with frequency %g", x),
				 errdetail("In source \"%s\".", source)));
	if (x > 0 && (!isfinite(m) || m <= 0))
		BAD_VALUE(source, "monetary_value %g must be positive and finite (frequency %g)", m, x);
}

void
clv_fit_source(const char *source, const ClvModelInfo *tx_model,
			   const ClvModelInfo *spend_model, const ClvFitOptions *opt,
			   ClvTimeUnit unit, ClvTrainResult *out)
{
	MemoryContext callercxt = CurrentMemoryContext;
	StringInfoData q;
	char	   *from;
	bool		has_weight;
	ClvObs	   *obs = NULL,
			   *sobs = NULL;
	size_t		nobs = 0,
				nsobs = 0;
	double		total = 0,
				stotal = 0;

	if (source == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL")));
	if (tx_model == NULL && spend_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("both transaction_model and spend_model are NULL"),
				 errhint("Give at least one model.")));
	if (tx_model && tx_model->kind == CLV_MODEL_BGBB && spend_model)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a bgbb model cannot be combined with spend model \"%s\"",
						spend_model->name),
				 errhint("Fit bgbb with spend_model => NULL.")));

	memset(out, 0, sizeof(*out));
	out->tx_model = tx_model;
	out->spend_model = spend_model;
	out->unit = unit;
	out->options = *opt;

	from = source_is_query(source) ? psprintf("(%s) clv_src", source)
		: psprintf("(SELECT * FROM %s) clv_src", source);

	SPI_connect();
	PG_TRY();
	{
		TupleDesc	desc;
		uint64		nrows;

		/* columns first, so that a missing one is a clear 42703 */
		if (SPI_execute(psprintf("SELECT * FROM %s LIMIT 0", from), true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read source \"%s\"", source);
		desc = SPI_tuptable->tupdesc;
		check_column(desc, "frequency", source, spend_model ? "m" : NULL);
		if (tx_model)
		{
			check_column(desc, "recency", source, spend_model ? "m" : NULL);
			check_column(desc, "t", source, spend_model ? "m" : NULL);
		}
		if (spend_model)
			check_column(desc, "monetary_value", source, "m");
		has_weight = SPI_fnumber(desc, "weight") != SPI_ERROR_NOATTRIBUTE;
		SPI_freetuptable(SPI_tuptable);

		/*
		 * One statement, two reductions: part 0 groups (frequency, recency,
		 * t) for the transaction model, part 1 groups (frequency,
		 * monetary_value) for the spend model -- grouping all four columns
		 * together would multiply the unique rows.  Grouping on the raw
		 * columns casts once per group, not per row; with a transaction
		 * model the spend part only needs the repeat buyers (part 0 counts
		 * and validates everybody).  Each part is a plain
		 * GROUP BY, so each can use parallel aggregation.  No ORDER BY: sorting
		 * the unique rows in C is several times cheaper than in SQL.
		 */
		initStringInfo(&q);
		if (tx_model)
			appendStringInfo(&q,
							 "SELECT 0, frequency::pg_catalog.float8, recency::pg_catalog.float8, "
							 "t::pg_catalog.float8, NULL::pg_catalog.float8, %s "
							 "FROM %s GROUP BY frequency, recency, t",
							 has_weight ? "pg_catalog.sum(weight)::pg_catalog.float8" :
							 "pg_catalog.count(*)::pg_catalog.float8", from);
		if (tx_model && spend_model)
			appendStringInfoString(&q, " UNION ALL ");
		if (spend_model)
			appendStringInfo(&q,
							 "SELECT 1, frequency::pg_catalog.float8, NULL::pg_catalog.float8, "
							 "NULL::pg_catalog.float8, monetary_value::pg_catalog.float8, %s "
							 "FROM %s %s GROUP BY frequency, monetary_value",
							 has_weight ? "pg_catalog.sum(weight)::pg_catalog.float8" :
							 "pg_catalog.count(*)::pg_catalog.float8", from,
							 tx_model ? "WHERE frequency OPERATOR(pg_catalog.>) 0" : "");
		if (SPI_execute(q.data, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not aggregate source \"%s\"", source);
		nrows = SPI_processed;
		if (nrows == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("source \"%s\" is empty", source)));

		if (tx_model)
			obs = MemoryContextAllocHuge(callercxt, mul_size(nrows, sizeof(ClvObs)));
		if (spend_model)
			sobs = MemoryContextAllocHuge(callercxt, mul_size(nrows, sizeof(ClvObs)));
		for (uint64 i = 0; i < nrows; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull[6];
			double		v[6];

			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			for (int c = 0; c < 6; c++)
			{
				Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, c + 1, &isnull[c]);

				v[c] = isnull[c] ? NAN : (c == 0 ? DatumGetInt32(d) : DatumGetFloat8(d));
			}
			if (isnull[1] || (v[0] == 0 && (isnull[2] || isnull[3])))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("NULL %s in source \"%s\"",
								isnull[1] ? "frequency" : isnull[2] ? "recency" : "t",
								source),
						 errhint("Filter the rows out, e.g. WHERE frequency IS NOT NULL.")));
			if (isnull[5] || !(v[5] > 0) || !isfinite(v[5]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("weight must be positive and finite, not %g", v[5])));
			if (v[0] == 0)
			{
				clv_validate_customer(tx_model, v[1], v[2], v[3], source);
				obs[nobs++] = (ClvObs) {v[1], v[2], v[3], v[5]};
				total += v[5];
			}
			else
			{
				validate_spend(source, v[1], isnull[4], v[4]);
				if (!tx_model)
					total += v[5];
				if (v[1] > 0)
				{
					sobs[nsobs++] = (ClvObs) {v[1], v[4], 0.0, v[5]};
					stotal += v[5];
				}
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	PG_FINALLY();
	{
		SPI_finish();
	}
	PG_END_TRY();

	/* the likelihood loops reuse terms across rows of equal frequency, t */
	if (nobs > 0)
		qsort(obs, nobs, sizeof(ClvObs), cmp_obs);
	if (nsobs > 0)
		qsort(sobs, nsobs, sizeof(ClvObs), cmp_obs);

	out->n_customers = (int64) total;
	out->n_spend_customers = (int64) stotal;
	out->n_unique = nobs;
	if (spend_model && nsobs == 0 && !tx_model && total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is empty", source)));
	if (spend_model && nsobs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nobody in source \"%s\" has a repeat purchase", source),
				 errdetail("The %s spend model is fitted on customers with frequency > 0.",
						   spend_model->name)));

	out->converged = true;
	if (tx_model)
	{
		if (!clv_fit(tx_model->kind, obs, nobs, opt, &out->tx))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("could not fit %s: %s", tx_model->name, out->tx.message),
					 errhint("Check the data (time unit, outliers) or try a penalizer.")));
		out->converged &= out->tx.converged;
	}
	if (spend_model)
	{
		if (!clv_fit(spend_model->kind, sobs, nsobs, opt, &out->spend))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("could not fit %s: %s", spend_model->name, out->spend.message),
					 errhint("Check monetary_value for outliers or try a penalizer.")));
		out->converged &= out->spend.converged;
	}
	if (obs)
		pfree(obs);
	if (sobs)
		pfree(sobs);
}

void
clv_train_result_warn(const ClvTrainResult *res)
{
	for (int m = 0; m < 2; m++)
	{
		const ClvModelInfo *mi = m == 0 ? res->tx_model : res->spend_model;
		const ClvFitResult *fr = m == 0 ? &res->tx : &res->spend;

		if (mi == NULL)
			continue;
		if (!fr->converged)
			ereport(WARNING,
					(errmsg("%s fit did not converge: %s", mi->name, fr->message),
					 errhint("Try a small penalizer (options {\"penalizer\": 0.001}), more "
							 "max_iterations, a coarser time_unit, or look for outliers in the data.")));
		else if (mi->kind == CLV_MODEL_GAMMA_GAMMA && fr->params[1] <= 1.0)
			ereport(WARNING,
					(errmsg("gamma_gamma estimate q = %g <= 1: expected spend is undefined "
							"for customers without repeat purchases", fr->params[1]),
					 errhint("Check monetary_value for extreme values or try a penalizer.")));
	}
}

/* "name": value pairs for the parameters (or standard errors) of one model */
static void
append_params(StringInfo buf, const ClvModelInfo *mi, const double *v)
{
	for (int i = 0; i < mi->nparams; i++)
		clv_json_num(buf, mi->param_names[i], v[i]);
}

static Jsonb *
result_object(const ClvTrainResult *res, bool std_errors)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (res->tx_model)
	{
		if (!std_errors)
			clv_json_str(&buf, "transaction_model", res->tx_model->name);
		append_params(&buf, res->tx_model, std_errors ? res->tx.std_errors : res->tx.params);
	}
	if (res->spend_model)
	{
		if (!std_errors)
			clv_json_str(&buf, "spend_model", res->spend_model->name);
		append_params(&buf, res->spend_model,
					  std_errors ? res->spend.std_errors : res->spend.params);
	}
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

Jsonb *
clv_result_params_jsonb(const ClvTrainResult *res)
{
	return result_object(res, false);
}

Jsonb *
clv_result_std_errors_jsonb(const ClvTrainResult *res)
{
	return result_object(res, true);
}

Jsonb *
clv_result_loglik_jsonb(const ClvTrainResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_num(&buf, "transaction", res->tx_model ? res->tx.loglik : NAN);
	clv_json_num(&buf, "spend", res->spend_model ? res->spend.loglik : NAN);
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

static void
append_fit_diag(StringInfo buf, const char *key, const ClvModelInfo *mi,
				const ClvFitResult *fr)
{
	StringInfoData sub;

	initStringInfo(&sub);
	appendStringInfoChar(&sub, '{');
	if (mi)
	{
		clv_json_str(&sub, "model", mi->name);
		clv_json_bool(&sub, "converged", fr->converged);
		clv_json_num(&sub, "iterations", fr->iterations);
		clv_json_num(&sub, "evaluations", fr->evaluations);
		clv_json_str(&sub, "message", fr->message);
	}
	appendStringInfoChar(&sub, '}');
	clv_json_raw(buf, key, mi ? sub.data : "null");
}

Jsonb *
clv_result_diagnostics_jsonb(const ClvTrainResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	append_fit_diag(&buf, "transaction", res->tx_model, &res->tx);
	append_fit_diag(&buf, "spend", res->spend_model, &res->spend);
	clv_json_num(&buf, "n_unique_rows", (double) res->n_unique);
	clv_json_num(&buf, "n_spend_customers", (double) res->n_spend_customers);
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

Jsonb *
clv_result_options_jsonb(const ClvTrainResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_str(&buf, "time_unit", clv_time_unit_name(res->unit));
	clv_json_num(&buf, "penalizer", res->options.penalizer);
	clv_json_num(&buf, "max_iterations", res->options.max_iterations);
	clv_json_num(&buf, "tolerance", res->options.tolerance);
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

int
clv_result_iterations(const ClvTrainResult *res)
{
	return (res->tx_model ? res->tx.iterations : 0) +
		(res->spend_model ? res->spend.iterations : 0);
}

static char *
jsonb_text(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

Jsonb *
clv_result_jsonb(const ClvTrainResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_str(&buf, "transaction_model", res->tx_model ? res->tx_model->name : NULL);
	clv_json_str(&buf, "spend_model", res->spend_model ? res->spend_model->name : NULL);
	clv_json_raw(&buf, "params", jsonb_text(clv_result_params_jsonb(res)));
	clv_json_raw(&buf, "std_errors", jsonb_text(clv_result_std_errors_jsonb(res)));
	clv_json_raw(&buf, "log_likelihood", jsonb_text(clv_result_loglik_jsonb(res)));
	clv_json_num(&buf, "n_customers", (double) res->n_customers);
	clv_json_bool(&buf, "converged", res->converged);
	clv_json_num(&buf, "iterations", clv_result_iterations(res));
	clv_json_str(&buf, "time_unit", clv_time_unit_name(res->unit));
	clv_json_raw(&buf, "options", jsonb_text(clv_result_options_jsonb(res)));
	clv_json_raw(&buf, "diagnostics", jsonb_text(clv_result_diagnostics_jsonb(res)));
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

/*
 * clv_fit(source, transaction_model, spend_model, options) -> jsonb
 * Fits without storing; NULL model names mean "no such model".
 */
Datum
clv_fit_sql(PG_FUNCTION_ARGS)
{
	const ClvModelInfo *tx,
			   *sp;
	ClvFitOptions opt;
	ClvTimeUnit unit;
	ClvTrainResult res;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL")));
	tx = clv_lookup_model(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), false);
	sp = clv_lookup_model(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)), true);
	clv_parse_fit_options(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &opt, &unit);
	clv_fit_source(text_to_cstring(PG_GETARG_TEXT_PP(0)), tx, sp, &opt, unit, &res);
	clv_train_result_warn(&res);
	PG_RETURN_JSONB_P(clv_result_jsonb(&res));
}
