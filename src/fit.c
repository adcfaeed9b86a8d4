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
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "clv_json.h"
#include "fit.h"
#include "options.h"
#include "source.h"


PG_FUNCTION_INFO_V1(clv_fit_sql);

const ClvModelInfo *
clv_lookup_model(const char *name, bool want_spend)
{
	const ClvModelInfo *mi;
	char		names[CLV_NAME_LIST_LEN];

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
						 clv_model_names(want_spend, names, sizeof(names)))));
	return mi;
}

/* What clv_parse_fit_options fills: the fit options and the time unit. */
typedef struct FitOptionsDest
{
	ClvFitOptions opt;
	int			unit;			/* a ClvTimeUnit */
} FitOptionsDest;

StaticAssertDecl(sizeof(ClvTimeUnit) == sizeof(int),
				 "an options ENUM stores an int");

static const char *const nonpositive_spend_values[] = {"exclude", "error", NULL};

static void
set_nonpositive_spend(void *dest, const ClvOptionValue *v)
{
	((FitOptionsDest *) dest)->opt.nonpositive_spend_error = v->index == 1;
}

/* The options of clv_fit, clv_train and clv_compare_models. */
static const ClvOption fit_options[] = {
	{.key = "time_unit", .type = CLV_OPTION_ENUM, .values = clv_time_unit_names,
	.flags = CLV_OPTION_ICASE, .def = CLV_UNIT_WEEK,
	.offset = offsetof(FitOptionsDest, unit)},
	{.key = "penalizer", .type = CLV_OPTION_NUMBER, .min = 0, .max = INFINITY,
		.def = CLV_FIT_DEFAULT_PENALIZER,
	.offset = offsetof(FitOptionsDest, opt.penalizer)},
	{.key = "max_iterations", .type = CLV_OPTION_INT, .min = 1, .max = 1000000,
		.def = CLV_FIT_DEFAULT_MAX_ITERATIONS,
	.offset = offsetof(FitOptionsDest, opt.max_iterations)},
	{.key = "tolerance", .type = CLV_OPTION_NUMBER, .min = 0, .max = INFINITY,
		.flags = CLV_OPTION_MIN_OPEN, .def = CLV_FIT_DEFAULT_TOLERANCE,
	.offset = offsetof(FitOptionsDest, opt.tolerance)},
	{.key = "nonpositive_spend", .type = CLV_OPTION_ENUM,
		.values = nonpositive_spend_values, .def = 0,
	.set = set_nonpositive_spend},
	{.key = "verbose", .type = CLV_OPTION_BOOL, .def = false,
	.offset = offsetof(FitOptionsDest, opt.verbose)},
};

/*
 * The fit options (options.c checks keys, types and ranges); the progress
 * callback stays unset, fit_one sets it for a verbose fit.
 */
void
clv_parse_fit_options(Jsonb *options, ClvFitOptions *opt, ClvTimeUnit *unit)
{
	FitOptionsDest d;

	memset(&d, 0, sizeof(d));
	clv_parse_options(options, fit_options, lengthof(fit_options), &d);
	*opt = d.opt;
	*unit = (ClvTimeUnit) d.unit;
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

/*
 * A bad value in a source names the value, the source (DETAIL) and, when
 * the FROM-clause text of the source is known, the query that finds every
 * offending row (HINT): one odd customer among millions must be findable.
 */
#define FIND_ROWS_HINT(from, where) \
	((from) ? errhint("Find the rows with: SELECT * FROM %s s WHERE %s", (from), (where)) : 0)

#define BAD_VALUE(source, from, where, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), \
			 errmsg(__VA_ARGS__), \
			 (source) ? errdetail("In source \"%s\".", (source)) : 0, \
			 FIND_ROWS_HINT(from, where)))

/* The condition on the non-finite ones of the named columns (a, b, c) */
static char *
nonfinite_where(const char *const *cols, const double *vals, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		if (!isfinite(vals[i]))
			appendStringInfo(&buf, "%ss.%s::float8 IN ('NaN', 'Infinity', '-Infinity')",
							 buf.len > 0 ? " OR " : "", cols[i]);
	return buf.data;
}

/*
 * Validates one customer's (frequency, recency, t) for a transaction model
 * (tx may be NULL): the common checks, then the model's own row rule (BG/BB
 * works on whole opportunities with frequency <= recency <= t).  Recency >
 * t is rejected for every model: it cannot happen in a correct summary,
 * and the Pareto/NBD math would have to extrapolate (see pareto_nbd.c).
 */
void
clv_validate_customer(const ClvModelInfo *tx, double x, double rec, double T,
					  const char *source, const char *from)
{
	if (!isfinite(x) || !isfinite(rec) || !isfinite(T))
	{
		static const char *const cols[] = {"frequency", "recency", "t"};
		double		vals[] = {x, rec, T};

		BAD_VALUE(source, from, from ? nonfinite_where(cols, vals, 3) : NULL,
				  "non-finite value: frequency %g, recency %g, t %g", x, rec, T);
	}
	if (x < 0)
		BAD_VALUE(source, from, "s.frequency < 0", "negative frequency %g", x);
	if (rec < 0)
		BAD_VALUE(source, from, "s.recency < 0", "negative recency %g", rec);
	if (rec > T)
		BAD_VALUE(source, from, "s.recency > s.t",
				  "recency %g is greater than t %g", rec, T);
	if (tx && tx->row_ok && !tx->row_ok(x, rec, T))
		BAD_VALUE(source, from, tx->row_rule_sql,
				  "%s needs %s; got frequency %g, recency %g, t %g",
				  tx->name, tx->row_rule, x, rec, T);
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

/*
 * Gamma-Gamma needs a known, finite mean spend for every repeat buyer;
 * returns false for one whose mean spend is not positive, which the fit
 * leaves out (or, with "nonpositive_spend": "error", rejects).
 */
static bool
validate_spend(const char *source, const char *from, double x, bool m_null,
			   double m, bool nonpositive_error)
{
	if (!isfinite(x))
		BAD_VALUE(source, from, "s.frequency::float8 IN ('NaN', 'Infinity', '-Infinity')",
				  "non-finite frequency %g", x);
	if (x < 0)
		BAD_VALUE(source, from, "s.frequency < 0", "negative frequency %g", x);
	if (x > 0 && m_null)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("monetary_value is NULL for a customer with frequency %g", x),
				 errdetail("In source \"%s\".", source),
				 FIND_ROWS_HINT(from, "s.frequency > 0 AND s.monetary_value IS NULL")));
	if (x > 0 && !isfinite(m))
		BAD_VALUE(source, from,
				  "s.frequency > 0 AND s.monetary_value::float8 IN ('NaN', 'Infinity', '-Infinity')",
				  "monetary_value %g must be finite (frequency %g)", m, x);
	if (x > 0 && m <= 0 && nonpositive_error)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary_value %g must be positive (frequency %g)", m, x),
				 errdetail("In source \"%s\"; with \"nonpositive_spend\": \"exclude\" (the default) the spend fit leaves such customers out.",
						   source),
				 FIND_ROWS_HINT(from, "s.frequency > 0 AND s.monetary_value <= 0")));
	return !(x > 0 && m <= 0);
}

/*
 * The reduced rows arrive in a DestReceiver straight from the executor (as
 * K-Means reads its source): nothing is materialised in SPI, so memory is
 * the unique-row arrays themselves (32 bytes a row) instead of SPI's tuple
 * table (about 200 bytes a row, 609 MB at 3M unique rows).  The statement
 * still runs once to completion, so it keeps its parallel plan, which an SPI
 * cursor fetched in batches would lose.
 */
typedef struct FitReceiver
{
	DestReceiver pub;
	const char *source;
	const char *from;			/* FROM-clause text of source, for hints */
	const ClvModelInfo *tx_model;
	bool		nonpositive_error;	/* "nonpositive_spend": "error" */
	MemoryContext cxt;			/* where the arrays live */
	ClvObs	   *obs;			/* part 0: (frequency, recency, t) */
	ClvObs	   *sobs;			/* part 1: (frequency, mean spend) */
	size_t		nobs,
				nsobs,
				cap,
				scap;
	double		total,			/* customers (sum of weights) */
				stotal,			/* repeat buyers for the spend model */
				sexcluded;		/* repeat buyers left out: spend <= 0 */
	uint64		nrows;
} FitReceiver;

/* Room for one more row in *arr (capacity *cap, n used): doubles */
static ClvObs *
fit_grow(MemoryContext cxt, ClvObs *arr, size_t n, size_t *cap)
{
	if (n < *cap)
		return arr;
	*cap = *cap == 0 ? 1024 : mul_size(*cap, 2);
	if (arr == NULL)
		return MemoryContextAllocHuge(cxt, mul_size(*cap, sizeof(ClvObs)));
	return repalloc_huge(arr, mul_size(*cap, sizeof(ClvObs)));
}

/*
 * One reduced row: (part, frequency, recency, t, monetary_value, weight),
 * validated as it arrives so that a bad value is reported before the whole
 * source has been read.
 */
static bool
fit_receive_slot(TupleTableSlot *slot, DestReceiver *self)
{
	FitReceiver *r = (FitReceiver *) self;
	const char *source = r->source;
	bool	   *isnull = slot->tts_isnull;
	double		v[6];

	slot_getallattrs(slot);
	for (int c = 0; c < 6; c++)
		v[c] = isnull[c] ? NAN :
			(c == 0 ? DatumGetInt32(slot->tts_values[c]) : DatumGetFloat8(slot->tts_values[c]));
	if (isnull[1] || (v[0] == 0 && (isnull[2] || isnull[3])))
	{
		const char *col = isnull[1] ? "frequency" : isnull[2] ? "recency" : "t";

		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("NULL %s in source \"%s\"", col, source),
				 FIND_ROWS_HINT(r->from, psprintf("s.%s IS NULL", col))));
	}
	if (isnull[5] || !(v[5] > 0) || !isfinite(v[5]))
		ereport(ERROR,
				(errcode(isnull[5] ? ERRCODE_NULL_VALUE_NOT_ALLOWED : ERRCODE_INVALID_PARAMETER_VALUE),
				 isnull[5] ? errmsg("NULL weight in source \"%s\"", source) :
				 errmsg("weight must be positive and finite, not %g", v[5]),
				 errdetail("In source \"%s\".", source),
				 FIND_ROWS_HINT(r->from, "s.weight IS NULL OR NOT (s.weight::float8 > 0 AND s.weight::float8 < 'Infinity')")));
	if (v[0] == 0)
	{
		clv_validate_customer(r->tx_model, v[1], v[2], v[3], source, r->from);
		r->obs = fit_grow(r->cxt, r->obs, r->nobs, &r->cap);
		r->obs[r->nobs++] = (ClvObs) {v[1], v[2], v[3], v[5]};
		r->total += v[5];
	}
	else
	{
		bool		usable = validate_spend(source, r->from, v[1], isnull[4], v[4],
											r->nonpositive_error);

		if (!r->tx_model)
			r->total += v[5];
		if (!usable)
			r->sexcluded += v[5];
		else if (v[1] > 0)
		{
			r->sobs = fit_grow(r->cxt, r->sobs, r->nsobs, &r->scap);
			r->sobs[r->nsobs++] = (ClvObs) {v[1], v[4], 0.0, v[5]};
			r->stotal += v[5];
		}
	}
	if ((++r->nrows & 1023) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

/*
 * Every statement's rows come here, so a source that smuggles in a second
 * statement (a ";" inside it) could hand over rows of another shape: only
 * the reducing statement's own (int4, then five float8) is read.
 */
static void
fit_receive_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	FitReceiver *r = (FitReceiver *) self;
	bool		ok = desc->natts == 6;

	for (int c = 0; ok && c < 6; c++)
		ok = TupleDescAttr(desc, c)->atttypid == (c == 0 ? INT4OID : FLOAT8OID);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("source \"%s\" is not a single query", r->source),
				 errhint("Give a table or view name or one SELECT, without \";\".")));
}

static void
fit_receive_noop(DestReceiver *self)
{
}

/* Progress NOTICE of the optimiser ("verbose": true); arg is the model */
static void
fit_progress(void *arg, int start, int nstarts, const char *phase,
			 const char *sample, int iteration, double objective)
{
	const ClvModelInfo *mi = arg;

	ereport(NOTICE,
			(errmsg("%s: start %d of %d (%s): %s, iteration %d, objective %.6g",
					mi->name, start, nstarts, sample, phase, iteration, objective)));
}

/*
 * Fits one model on its unique rows (what says which rows, for the
 * NOTICEs of a verbose fit): 22000 with hint if the fit cannot be done.
 */
static void
fit_one(const ClvModelInfo *mi, const ClvObs *obs, size_t nobs, double customers,
		const char *what, const ClvFitOptions *opt, ClvFitResult *res,
		const char *hint)
{
	ClvFitOptions o = *opt;

	if (opt->verbose)
	{
		ereport(NOTICE,
				(errmsg("%s: fitting on %zu unique rows (%.0f %s)",
						mi->name, nobs, customers, what)));
		o.progress = fit_progress;
		o.progress_arg = (void *) mi;
	}
	if (!clv_fit(mi->kind, obs, nobs, &o, res))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("could not fit %s: %s", mi->name, res->message),
				 errhint("%s", hint)));
	if (opt->verbose)
		ereport(NOTICE,
				(errmsg("%s: %s after %d iterations, log-likelihood %.6f",
						mi->name, res->converged ? "converged" : "not converged",
						res->iterations, res->loglik)));
}

/*
 * The statement that reduces the source: one statement, two reductions.
 * Part 0 groups (frequency, recency, t) for the transaction model, part 1
 * groups (frequency, monetary_value) for the spend model -- grouping all
 * four columns together would multiply the unique rows.  Grouping on the
 * raw columns casts once per group, not per row; with a transaction model
 * the spend part only needs the repeat buyers (part 0 counts and validates
 * everybody).  Each part is a plain GROUP BY, so each can use parallel
 * aggregation.  No ORDER BY: sorting the unique rows in C is several times
 * cheaper than in SQL.  Everything added around the source is
 * schema-qualified, so that objects on the caller's search_path cannot
 * stand in for it.
 */
static char *
fit_reduce_sql(const char *from, bool tx, bool spend, bool has_weight)
{
	StringInfoData q;
	const char *wsum = has_weight ? "pg_catalog.sum(weight)::pg_catalog.float8"
		: "pg_catalog.count(*)::pg_catalog.float8";

	initStringInfo(&q);
	if (tx)
		appendStringInfo(&q,
						 "SELECT 0, frequency::pg_catalog.float8, recency::pg_catalog.float8, "
						 "t::pg_catalog.float8, NULL::pg_catalog.float8, %s "
						 "FROM %s GROUP BY frequency, recency, t",
						 wsum, from);
	if (tx && spend)
		appendStringInfoString(&q, " UNION ALL ");
	if (spend)
		appendStringInfo(&q,
						 "SELECT 1, frequency::pg_catalog.float8, NULL::pg_catalog.float8, "
						 "NULL::pg_catalog.float8, monetary_value::pg_catalog.float8, %s "
						 "FROM %s %s GROUP BY frequency, monetary_value",
						 wsum, from,
						 tx ? "WHERE frequency OPERATOR(pg_catalog.>) 0" : "");
	return q.data;
}

/*
 * Runs the reducing statement of r's source with r as its receiver, which
 * validates and collects the unique rows.  The columns are checked first,
 * so that a missing one is a clear 42703; an empty source is 22023.
 */
static void
fit_read(FitReceiver *r, const ClvModelInfo *tx_model,
		 const ClvModelInfo *spend_model)
{
	const char *source = r->source;
	char	   *from = psprintf("%s clv_src", r->from);

	SPI_connect();
	PG_TRY();
	{
		TupleDesc	desc;
		SPIExecuteOptions eo;
		bool		has_weight;
		int			rc;

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

		memset(&eo, 0, sizeof(eo));
		eo.read_only = true;
		eo.dest = &r->pub;
		/* with a DestNone receiver a SELECT reports SPI_OK_UTILITY */
		rc = SPI_execute_extended(fit_reduce_sql(from, tx_model != NULL,
												 spend_model != NULL, has_weight),
								  &eo);
		if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
			elog(ERROR, "could not aggregate source \"%s\"", source);
		if (r->nrows == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("source \"%s\" is empty", source)));
	}
	PG_FINALLY();
	{
		SPI_finish();
	}
	PG_END_TRY();

	/* the likelihood loops reuse terms across rows of equal frequency, t */
	if (r->nobs > 0)
		qsort(r->obs, r->nobs, sizeof(ClvObs), cmp_obs);
	if (r->nsobs > 0)
		qsort(r->sobs, r->nsobs, sizeof(ClvObs), cmp_obs);
}

/*
 * What was read, counted into out (and said with a NOTICE for a verbose
 * fit); a spend model without a usable repeat buyer is an error, and the
 * repeat buyers left out for a mean spend <= 0 are said with a NOTICE.
 */
static void
fit_check_counts(const FitReceiver *r, const ClvModelInfo *tx_model,
				 const ClvModelInfo *spend_model, const ClvFitOptions *opt,
				 ClvTrainResult *out)
{
	const char *source = r->source;

	out->n_customers = (int64) r->total;
	out->n_spend_customers = (int64) r->stotal;
	out->n_spend_excluded = (int64) r->sexcluded;
	out->n_unique = r->nobs;
	if (opt->verbose)
	{
		StringInfoData msg;

		initStringInfo(&msg);
		appendStringInfo(&msg, "read %.0f customers", r->total);
		if (tx_model)
			appendStringInfo(&msg, ": %zu unique (frequency, recency, t) rows", r->nobs);
		if (spend_model)
			appendStringInfo(&msg, "%s %.0f repeat buyers in %zu unique (frequency, monetary_value) rows",
							 tx_model ? "," : ":", r->stotal, r->nsobs);
		ereport(NOTICE, (errmsg("%s", msg.data)));
	}
	if (!spend_model)
		return;
	if (r->nsobs == 0 && !tx_model && r->total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is empty", source)));
	if (r->nsobs == 0 && r->sexcluded > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no repeat buyer in source \"%s\" has a positive monetary_value", source),
				 errdetail("The %s spend model is fitted on customers with frequency > 0 and monetary_value > 0; %.0f have monetary_value <= 0.",
						   spend_model->name, r->sexcluded),
				 FIND_ROWS_HINT(r->from, "s.frequency > 0 AND s.monetary_value <= 0")));
	if (r->nsobs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nobody in source \"%s\" has a repeat purchase", source),
				 errdetail("The %s spend model is fitted on customers with frequency > 0.",
						   spend_model->name)));

	/*
	 * A $0 repeat purchase (a free item, a voucher) is real data, but the
	 * Gamma-Gamma density is 0 at a mean spend of 0: those customers are
	 * left out of the spend fit, and said so (their predictions are still
	 * defined, see clv_expected_spend).
	 */
	if (r->sexcluded > 0)
		ereport(NOTICE,
				(errmsg_plural("%s: left out %.0f repeat buyer with monetary_value <= 0 of %.0f",
							   "%s: left out %.0f repeat buyers with monetary_value <= 0 of %.0f",
							   (unsigned long) Min(r->sexcluded, (double) ULONG_MAX),
							   spend_model->name, r->sexcluded, r->sexcluded + r->stotal),
				 errdetail("The Gamma-Gamma spend model needs a positive mean spend; the diagnostics count them in n_spend_excluded. Option \"nonpositive_spend\": \"error\" rejects them instead."),
				 FIND_ROWS_HINT(r->from, "s.frequency > 0 AND s.monetary_value <= 0")));
}

/*
 * The shared fit path of clv_fit and clv_train, in steps: check the models
 * asked for; read the source through one reducing statement into the
 * unique-row arrays of the transaction and spend models (fit_read, with
 * the receiver validating each row); count what was read and reject a
 * spend fit without data (fit_check_counts); fit each model (fit_one).
 */
void
clv_fit_source(const char *source, const ClvModelInfo *tx_model,
			   const ClvModelInfo *spend_model, const ClvFitOptions *opt,
			   ClvTimeUnit unit, ClvTrainResult *out)
{
	FitReceiver r;

	if (source == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be NULL")));
	if (tx_model == NULL && spend_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("both transaction_model and spend_model are NULL"),
				 errhint("Give at least one model.")));
	if (tx_model && !tx_model->takes_spend_model && spend_model)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s model cannot be combined with spend model \"%s\"",
						tx_model->name, spend_model->name),
				 errhint("Fit %s with spend_model => NULL.", tx_model->name)));

	memset(out, 0, sizeof(*out));
	out->tx_model = tx_model;
	out->spend_model = spend_model;
	out->unit = unit;
	out->options = *opt;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = fit_receive_slot;
	r.pub.rStartup = fit_receive_startup;
	r.pub.rShutdown = fit_receive_noop;
	r.pub.rDestroy = fit_receive_noop;
	r.pub.mydest = DestNone;
	r.source = source;
	r.from = clv_source_from_clause(source, NULL);
	r.nonpositive_error = opt->nonpositive_spend_error;
	r.tx_model = tx_model;
	r.cxt = CurrentMemoryContext;
	if (opt->verbose)
		ereport(NOTICE,
				(errmsg("reading source \"%s\"", source)));
	fit_read(&r, tx_model, spend_model);
	fit_check_counts(&r, tx_model, spend_model, opt, out);

	out->converged = true;
	if (tx_model)
	{
		fit_one(tx_model, r.obs, r.nobs, r.total, "customers", opt, &out->tx,
				"Check the data (time unit, outliers) or try a penalizer.");
		out->converged &= out->tx.converged;
	}
	if (spend_model)
	{
		fit_one(spend_model, r.sobs, r.nsobs, r.stotal, "repeat buyers", opt, &out->spend,
				"Check monetary_value for outliers or try a penalizer.");
		out->converged &= out->spend.converged;
	}
	if (r.obs)
		pfree(r.obs);
	if (r.sobs)
		pfree(r.sobs);
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
		else
			for (int c = 0; c < mi->ncaveats; c++)
			{
				const ClvCaveat *cv = &mi->caveats[c];

				if ((fr->caveats & (1u << c)) && cv->warning)
					ereport(WARNING,
							(errmsg("%s estimate %s = %g <= %g: %s", mi->name,
									mi->param_names[cv->param],
									fr->params[cv->param], cv->at_most,
									cv->warning),
							 errhint("%s", cv->warn_hint)));
			}
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

/* A JSON array of an np x np row-major matrix, scaled by d_i d_j. */
static void
append_matrix(StringInfo buf, const char *key, const double *m, int np,
			  const double *d)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	clv_json_key(buf, key);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < np; i++)
	{
		appendStringInfoString(buf, i > 0 ? ",[" : "[");
		for (int j = 0; j < np; j++)
		{
			double		v = m[i * np + j] * (d ? d[i] * d[j] : 1.0);

			if (j > 0)
				appendStringInfoChar(buf, ',');
			double_to_shortest_decimal_buf(v, num);
			appendStringInfoString(buf, num);
		}
		appendStringInfoChar(buf, ']');
	}
	appendStringInfoChar(buf, ']');
}

/*
 * One model's covariance: the parameter names, the covariance of the
 * log-parameters as fitted, and the natural-scale covariance by the delta
 * method, Cov(p_i, p_j) = p_i p_j Cov(log p_i, log p_j).  null without a
 * model or where the information matrix is singular (as std_errors).
 */
static void
append_covariance(StringInfo buf, const char *key, const ClvModelInfo *mi,
				  const ClvFitResult *fr)
{
	StringInfoData sub;

	if (mi == NULL || !fr->has_covariance)
	{
		clv_json_raw(buf, key, "null");
		return;
	}
	initStringInfo(&sub);
	appendStringInfoString(&sub, "{\"names\":[");
	for (int i = 0; i < mi->nparams; i++)
	{
		if (i > 0)
			appendStringInfoChar(&sub, ',');
		escape_json(&sub, mi->param_names[i]);
	}
	appendStringInfoChar(&sub, ']');
	append_matrix(&sub, "log_scale", fr->covariance, mi->nparams, NULL);
	append_matrix(&sub, "natural", fr->covariance, mi->nparams, fr->params);
	appendStringInfoChar(&sub, '}');
	clv_json_raw(buf, key, sub.data);
}

Jsonb *
clv_result_covariance_jsonb(const ClvTrainResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	append_covariance(&buf, "transaction", res->tx_model, &res->tx);
	append_covariance(&buf, "spend", res->spend_model, &res->spend);
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
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
	clv_json_num(&buf, "n_spend_excluded", (double) res->n_spend_excluded);
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
	clv_json_str(&buf, "nonpositive_spend",
				 res->options.nonpositive_spend_error ? "error" : "exclude");
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
	clv_json_raw(&buf, "covariance", jsonb_text(clv_result_covariance_jsonb(res)));
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
