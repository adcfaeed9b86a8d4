/*-------------------------------------------------------------------------
 *
 * predict.c
 *	  Prediction functions taking the model parameters inline (params
 *	  jsonb), and the ClvModelSpec core shared with the name-based ones.
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
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "clv_json.h"
#include "fit.h"
#include "predict.h"

#define CLV_MAX_SPEC_KEYS 16

PG_FUNCTION_INFO_V1(clv_predict_params);
PG_FUNCTION_INFO_V1(clv_expected_purchases_params);
PG_FUNCTION_INFO_V1(clv_p_alive_params);
PG_FUNCTION_INFO_V1(clv_expected_spend_params);
PG_FUNCTION_INFO_V1(clv_value_params);
PG_FUNCTION_INFO_V1(clv_expected_purchases_new_params);
PG_FUNCTION_INFO_V1(clv_purchase_probability_params);

typedef struct SpecKey
{
	char	   *key;
	JsonbValue	val;
	bool		used;
} SpecKey;

static SpecKey *
find_key(SpecKey *keys, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Whether the keys name a model's parameters by its infer_keys rule */
static bool
describes(SpecKey *keys, int n, const ClvModelInfo *mi)
{
	for (int i = 0; mi->infer_keys[i]; i++)
		if (!find_key(keys, n, mi->infer_keys[i]))
			return false;
	return !(mi->infer_unless && find_key(keys, n, mi->infer_unless));
}

/*
 * Which model (of the sort is_spend) a key set describes when the model is
 * not named: the described model of lowest infer_rank.
 */
static const ClvModelInfo *
infer_model(SpecKey *keys, int n, bool is_spend)
{
	const ClvModelInfo *best = NULL;

	for (int k = 0; k < CLV_N_MODELS; k++)
	{
		const ClvModelInfo *mi = clv_model_info(k);

		if (mi->is_spend == is_spend && mi->infer_rank > 0 &&
			(best == NULL || mi->infer_rank < best->infer_rank) &&
			describes(keys, n, mi))
			best = mi;
	}
	return best;
}

static void
take_params(SpecKey *keys, int n, const ClvModelInfo *mi, double *out)
{
	for (int i = 0; i < mi->nparams; i++)
	{
		SpecKey    *k = find_key(keys, n, mi->param_names[i]);
		char	   *what;

		if (k == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("params lacks \"%s\" for model %s",
							mi->param_names[i], mi->name)));
		what = psprintf("parameter \"%s\" of model %s", k->key, mi->name);
		out[i] = clv_jsonb_number(&k->val, what);
		if (!(out[i] > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be positive, not %g", what, out[i])));
		k->used = true;
	}
}

/*
 * Parses the self-describing params object.  transaction_model and
 * spend_model may be omitted when the keys make them unambiguous; every key
 * must be used by one of the two models, so that typos are errors.
 */
void
clv_spec_from_jsonb(Jsonb *params, ClvModelSpec *spec)
{
	SpecKey		keys[CLV_MAX_SPEC_KEYS];
	int			n = 0;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	SpecKey    *k;

	memset(spec, 0, sizeof(*spec));
	if (!JB_ROOT_IS_OBJECT(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a jsonb object"),
				 errhint("For example {\"r\": 0.24, \"alpha\": 4.41, \"a\": 0.79, \"b\": 2.43, \"p\": 6.25, \"q\": 3.74, \"gamma\": 15.44}.")));
	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (n >= CLV_MAX_SPEC_KEYS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("params has too many keys")));
			keys[n].key = pnstrdup(v.val.string.val, v.val.string.len);
			keys[n].used = false;
		}
		else if (tok == WJB_VALUE)
			keys[n++].val = v;
	}

	if ((k = find_key(keys, n, "transaction_model")) != NULL)
	{
		k->used = true;
		if (k->val.type != jbvNull)
			spec->tx_model = clv_lookup_model(clv_jsonb_string(&k->val, "transaction_model"), false);
	}
	else
		spec->tx_model = infer_model(keys, n, false);
	if ((k = find_key(keys, n, "spend_model")) != NULL)
	{
		k->used = true;
		if (k->val.type != jbvNull)
			spec->spend_model = clv_lookup_model(clv_jsonb_string(&k->val, "spend_model"), true);
	}
	else
		spec->spend_model = infer_model(keys, n, true);

	if (spec->tx_model && !spec->tx_model->takes_spend_model && spec->spend_model)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s model cannot be combined with spend model \"%s\"",
						spec->tx_model->name, spec->spend_model->name),
				 errhint("Their \"gamma\" parameters would clash; use separate params objects.")));
	if (spec->tx_model)
		take_params(keys, n, spec->tx_model, spec->tx_params);
	if (spec->spend_model)
		take_params(keys, n, spec->spend_model, spec->spend_params);
	if (!spec->tx_model && !spec->spend_model)
	{
		char		tx_names[CLV_NAME_LIST_LEN];
		char		spend_names[CLV_NAME_LIST_LEN];

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params describes no model"),
				 errhint("Give transaction_model (%s) and/or spend_model (%s) with their parameters.",
						 clv_model_names(false, tx_names, sizeof(tx_names)),
						 clv_model_names(true, spend_names, sizeof(spend_names)))));
	}
	for (int i = 0; i < n; i++)
		if (!keys[i].used)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%s\" in params", keys[i].key),
					 errhint("The params describe %s%s%s%s.",
							 spec->tx_model ? "transaction model " : "",
							 spec->tx_model ? spec->tx_model->name : "",
							 spec->spend_model ? (spec->tx_model ? " and spend model " : "spend model ") : "",
							 spec->spend_model ? spec->spend_model->name : "")));
}

/*
 * The params-jsonb functions parse their (normally constant) params once
 * per query: the parsed spec is cached in fn_extra next to a copy of the
 * jsonb bytes it came from.
 */
typedef struct SpecCache
{
	ClvModelSpec spec;
	Size		len;
	char		bytes[FLEXIBLE_ARRAY_MEMBER];
} SpecCache;

static const ClvModelSpec *
spec_from_arg(FunctionCallInfo fcinfo)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	Size		len = VARSIZE(jb);
	SpecCache  *c = (SpecCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL || c->len != len || memcmp(c->bytes, jb, len) != 0)
	{
		ClvModelSpec spec;

		clv_spec_from_jsonb(jb, &spec);
		if (c == NULL || c->len < len)
			c = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
								   offsetof(SpecCache, bytes) + len);
		c->spec = spec;
		c->len = len;
		memcpy(c->bytes, jb, len);
		fcinfo->flinfo->fn_extra = c;
	}
	return &c->spec;
}

static const ClvModelInfo *
need_tx(const ClvModelSpec *spec)
{
	char		names[CLV_NAME_LIST_LEN];

	if (spec->tx_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has no transaction model"),
				 errhint("This prediction needs one of %s.",
						 clv_model_names(false, names, sizeof(names)))));
	return spec->tx_model;
}

static double
arg_float(FunctionCallInfo fcinfo, int i, const char *what)
{
	double		v = PG_GETARG_FLOAT8(i);

	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be finite, not %g", what, v)));
	return v;
}

static double
arg_horizon(FunctionCallInfo fcinfo, int i)
{
	double		h = arg_float(fcinfo, i, "horizon");

	if (h < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must not be negative, not %g", h)));
	return h;
}

/*
 * A model that counts opportunities one by one (BG/BB, max_periods): more
 * than its max_periods is refused up front rather than overflowing a
 * counter (or running for hours).
 */
static void
check_periods(const ClvModelInfo *tx, double n, const char *what)
{
	if (tx->max_periods > 0 && n > tx->max_periods)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s = %g is more opportunities than %s supports", what, n,
						tx->name),
				 errdetail("%s counts opportunities one by one, at most %.0f.",
						   tx->label, tx->max_periods)));
}

/* Reads and validates frequency, recency, t from arguments 1..3. */
static void
arg_customer(FunctionCallInfo fcinfo, const ClvModelInfo *tx, double *c)
{
	c[0] = PG_GETARG_FLOAT8(1);
	c[1] = PG_GETARG_FLOAT8(2);
	c[2] = PG_GETARG_FLOAT8(3);
	clv_validate_customer(tx, c[0], c[1], c[2], NULL, NULL);
	check_periods(tx, c[2], "t");
}

/*
 * Every result of every prediction function passes CLV_FINITE: a value that
 * is not finite (NaN from the math, or an overflow in the glue's own
 * products) becomes a 22003 error naming the quantity, the model and the
 * inputs, so SQL never sees NaN or Infinity.  The inputs are formatted only
 * when the error is raised.
 */
static void nonfinite_error(const char *what, const char *model, const char *hint,
							const char *inputs) pg_attribute_noreturn();

static void
nonfinite_error(const char *what, const char *model, const char *hint,
				const char *inputs)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("could not compute %s with model %s for %s", what, model, inputs),
			 hint ? errhint("%s", hint) : 0));
}

#define CLV_FINITE(v, what, model, hint, ...) \
	do { \
		if (!isfinite(v)) \
			nonfinite_error((what), (model), (hint), psprintf(__VA_ARGS__)); \
	} while (0)

static double
checked(double v, const char *what, const ClvModelInfo *mi, const double *c, double h)
{
	CLV_FINITE(v, what, mi->name,
			   "The parameters may be extreme for these inputs (e.g. a or q close to 1).",
			   "frequency %g, recency %g, t %g, horizon %g", c[0], c[1], c[2], h);
	return v;
}

/*
 * Expected spend per purchase: the Gamma-Gamma conditional mean, the
 * population mean when there is no repeat purchase or no spend known.
 * The conditional mean (gamma + x m) p / (p x + q - 1) is finite at m = 0
 * (repeat purchases of $0 shrink the estimate towards 0, but the prior
 * keeps it positive), so a $0 customer gets a prediction.  A negative mean
 * spend has no meaning in the model (it could make the estimate negative):
 * clv_summary never produces one, and one from elsewhere is an error.
 */
static double
spend_of(const ClvModelSpec *spec, double x, bool m_null, double m)
{
	const ClvModelInfo *sp = spec->spend_model;
	double		v;

	if (!m_null && x > 0 && !isfinite(m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary_value must be finite, not %g", m)));
	if (!m_null && x > 0 && m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary_value must not be negative, not %g", m),
				 errdetail("Gamma-Gamma models the mean spend per purchase, which is at least 0."),
				 errhint("clv_summary never gives a negative monetary_value (a day whose refunds exceed its purchases is not a purchase day); for another summary, pass NULL (the population mean) or greatest(monetary_value, 0).")));
	if (x < 0 || !isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a non-negative finite number, not %g", x)));
	if (m_null || x == 0)
		v = sp->expected_spend(sp, spec->spend_params, 0, 0);
	else
		v = sp->expected_spend(sp, spec->spend_params, x, m);
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected spend is undefined for frequency %g with q = %g",
						x, spec->spend_params[1]),
				 errhint("Gamma-Gamma's population mean needs q > 1.")));
	CLV_FINITE(v, "expected spend", spec->spend_model->name,
			   "The spend is beyond the range of float8.",
			   "frequency %g, monetary_value %g", x, m_null ? 0.0 : m);
	return v;
}

/*
 * Shared by clv_predict, clv_value and clv_predict_interval (arguments 1..7
 * as in clv_predict): validates them and fills out[0..3]; false for a NULL
 * argument.
 */
bool
clv_spec_predict_values(FunctionCallInfo fcinfo, const ClvModelSpec *spec, double *out)
{
	const ClvModelInfo *tx = need_tx(spec);
	double		c[3],
				h,
				rate,
				margin,
				disc;
	bool		m_null = PG_ARGISNULL(4);

	for (int i = 1; i <= 7; i++)
		if (i != 4 && PG_ARGISNULL(i))
			return false;
	arg_customer(fcinfo, tx, c);
	h = arg_horizon(fcinfo, 5);
	rate = arg_float(fcinfo, 6, "discount_rate");
	margin = arg_float(fcinfo, 7, "margin");
	if (rate <= -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount_rate must be greater than -1, not %g", rate)));
	out[0] = checked(clv_expected_purchases(tx->kind, spec->tx_params, c[0], c[1], c[2], h),
					 "expected purchases", tx, c, h);
	out[1] = checked(clv_p_alive(tx->kind, spec->tx_params, c[0], c[1], c[2]),
					 "P(alive)", tx, c, h);
	if (spec->spend_model)
	{
		out[2] = spend_of(spec, c[0], m_null, m_null ? 0 : PG_GETARG_FLOAT8(4));
		disc = rate == 0 ? out[0] :
			checked(clv_discounted_purchases(tx->kind, spec->tx_params, c[0], c[1], c[2], h, rate),
					"discounted purchases", tx, c, h);
		out[3] = margin * out[2] * disc;
		CLV_FINITE(out[3], "clv", tx->name,
				   "The value is beyond the range of float8.",
				   "margin %g, expected spend %g, discounted purchases %g",
				   margin, out[2], disc);
	}
	else
		out[2] = out[3] = NAN;
	return true;
}

Datum
clv_spec_predict(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	double		v[4];
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4];

	if (!clv_spec_predict_values(fcinfo, spec, v))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "clv_predict must return a composite type");
	desc = BlessTupleDesc(desc);
	for (int i = 0; i < 4; i++)
	{
		nulls[i] = i >= 2 && spec->spend_model == NULL;
		values[i] = Float8GetDatum(v[i]);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

Datum
clv_spec_value(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	double		v[4];

	if (spec->spend_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has no spend model"),
				 errhint("clv_value needs gamma_gamma parameters (p, q, gamma).")));
	if (!clv_spec_predict_values(fcinfo, spec, v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v[3]);
}

Datum
clv_spec_expected_purchases(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	const ClvModelInfo *tx = need_tx(spec);
	double		c[3],
				h;

	arg_customer(fcinfo, tx, c);
	h = arg_horizon(fcinfo, 4);
	PG_RETURN_FLOAT8(checked(clv_expected_purchases(tx->kind, spec->tx_params,
													c[0], c[1], c[2], h),
							 "expected purchases", tx, c, h));
}

Datum
clv_spec_p_alive(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	const ClvModelInfo *tx = need_tx(spec);
	double		c[3];

	arg_customer(fcinfo, tx, c);
	PG_RETURN_FLOAT8(checked(clv_p_alive(tx->kind, spec->tx_params, c[0], c[1], c[2]),
							 "P(alive)", tx, c, 0));
}

Datum
clv_spec_expected_spend(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	if (spec->spend_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has no spend model"),
				 errhint("clv_expected_spend needs gamma_gamma parameters (p, q, gamma).")));
	PG_RETURN_FLOAT8(spend_of(spec, PG_GETARG_FLOAT8(1), false, PG_GETARG_FLOAT8(2)));
}

Datum
clv_spec_expected_purchases_new(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	const ClvModelInfo *tx = need_tx(spec);
	double		h = arg_horizon(fcinfo, 1);
	double		c[3] = {0, 0, 0};

	PG_RETURN_FLOAT8(checked(clv_expected_purchases_new(tx->kind, spec->tx_params, h),
							 "expected purchases of a new customer", tx, c, h));
}

Datum
clv_spec_purchase_probability(FunctionCallInfo fcinfo, const ClvModelSpec *spec)
{
	const ClvModelInfo *tx = need_tx(spec);
	int32		n = PG_GETARG_INT32(1);
	double		h = arg_horizon(fcinfo, 2);
	double		c[3] = {n, 0, 0};

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must not be negative, not %d", n)));
	check_periods(tx, floor(h + 0.5), "horizon");
	PG_RETURN_FLOAT8(checked(clv_purchase_probability(tx->kind, spec->tx_params, n, h),
							 "P(X(t) = n)", tx, c, h));
}

/* fmgr entry points of the params-jsonb SQL functions */
Datum
clv_predict_params(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return clv_spec_predict(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_value_params(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	return clv_spec_value(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_expected_purchases_params(PG_FUNCTION_ARGS)
{
	return clv_spec_expected_purchases(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_p_alive_params(PG_FUNCTION_ARGS)
{
	return clv_spec_p_alive(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_expected_spend_params(PG_FUNCTION_ARGS)
{
	return clv_spec_expected_spend(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_expected_purchases_new_params(PG_FUNCTION_ARGS)
{
	return clv_spec_expected_purchases_new(fcinfo, spec_from_arg(fcinfo));
}

Datum
clv_purchase_probability_params(PG_FUNCTION_ARGS)
{
	return clv_spec_purchase_probability(fcinfo, spec_from_arg(fcinfo));
}
