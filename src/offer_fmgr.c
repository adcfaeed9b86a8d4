/*-------------------------------------------------------------------------
 *
 * offer_fmgr.c
 *	  SQL glue of the offer math (offer.c): clv_offer_predict, one
 *	  customer's baseline and offer values, which the source-reading SQL
 *	  functions of sql/ext/80_offers.sql (clv_offer_roi,
 *	  clv_allocate_budget) call per row.
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
#include "offer.h"
#include "options.h"
#include "predict.h"

PG_FUNCTION_INFO_V1(clv_offer_predict_params);

#define CLV_OFFER_EXAMPLE "{\"cost\": 5, \"response_rate\": 0.2, \"retention_lift\": 0.3}"

#define CLV_OFFER_LIFT_HINT "A lift is relative: 0.1 means +10% (purchase rate, spend) or 10% less dropout (retention_lift)."

/*
 * The offer's keys for the table-driven parser: cost and response_rate
 * are required (NaN until given), the lifts default to 0.  The ranges: a
 * cost cannot be negative, a response rate is a share, a lift of -1 or
 * less would make a rate or a spend zero or negative, and retention_lift
 * = 1 (no dropout at all) is excluded so that the factor c stays
 * positive; lifts above CLV_OFFER_MAX_LIFT (a 100000% lift) are refused as
 * typos rather than carried into overflowing predictions.
 */
static const ClvOption offer_keys[] = {
	{.key = "cost", .type = CLV_OPTION_NUMBER, .min = 0, .max = INFINITY,
	.def = NAN, .offset = offsetof(ClvOffer, cost)},
	{.key = "response_rate", .type = CLV_OPTION_NUMBER, .min = 0, .max = 1,
	.def = NAN, .offset = offsetof(ClvOffer, response_rate)},
	{.key = "purchase_lift", .type = CLV_OPTION_NUMBER, .min = -1, .max = CLV_OFFER_MAX_LIFT,
		.flags = CLV_OPTION_MIN_OPEN, .def = 0, .offset = offsetof(ClvOffer, purchase_lift),
	.hint = CLV_OFFER_LIFT_HINT},
	{.key = "retention_lift", .type = CLV_OPTION_NUMBER, .min = 0, .max = 1,
		.flags = CLV_OPTION_MAX_OPEN, .def = 0, .offset = offsetof(ClvOffer, retention_lift),
	.hint = CLV_OFFER_LIFT_HINT},
	{.key = "spend_lift", .type = CLV_OPTION_NUMBER, .min = -1, .max = CLV_OFFER_MAX_LIFT,
		.flags = CLV_OPTION_MIN_OPEN, .def = 0, .offset = offsetof(ClvOffer, spend_lift),
	.hint = CLV_OFFER_LIFT_HINT},
	{.key = "value_per_purchase", .type = CLV_OPTION_NUMBER, .min = 0, .max = INFINITY,
		.flags = CLV_OPTION_MIN_OPEN, .def = NAN,
	.offset = offsetof(ClvOffer, value_per_purchase)},
};

/*
 * Parses the offer object: any other key, a non-number or a value out of
 * range is 22023 naming it (options.c); a missing cost or response_rate
 * too.
 */
static void
parse_offer(Jsonb *jb, ClvOffer *o)
{
	memset(o, 0, sizeof(*o));
	clv_parse_object(jb, "offer", "offer key", offer_keys, lengthof(offer_keys), o);
	if (isnan(o->cost) || isnan(o->response_rate))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offer lacks \"%s\"", isnan(o->cost) ? "cost" : "response_rate"),
				 errhint("An offer needs a cost per targeted customer and a response rate, e.g. %s.",
						 CLV_OFFER_EXAMPLE)));
}

/*
 * The params and the offer are normally constant over a query: both are
 * parsed once and cached in fn_extra with a copy of their bytes.
 */
typedef struct OfferCache
{
	ClvModelSpec spec;
	ClvOffer	offer;
	Size		plen,
				olen;
	char		bytes[FLEXIBLE_ARRAY_MEMBER];
} OfferCache;

static OfferCache *
offer_cache(FunctionCallInfo fcinfo)
{
	Jsonb	   *pj = PG_GETARG_JSONB_P(0);
	Jsonb	   *oj = PG_GETARG_JSONB_P(8);
	Size		plen = VARSIZE(pj),
				olen = VARSIZE(oj);
	OfferCache *c = (OfferCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL || c->plen != plen || c->olen != olen ||
		memcmp(c->bytes, pj, plen) != 0 || memcmp(c->bytes + plen, oj, olen) != 0)
	{
		ClvModelSpec spec;
		ClvOffer	offer;

		clv_spec_from_jsonb(pj, &spec);
		parse_offer(oj, &offer);
		if (spec.spend_model == NULL && isnan(offer.value_per_purchase))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model has no spend model"),
					 errdetail("An offer's value is money: it needs a spend model (gamma_gamma) beside the transaction model, or the value of one purchase."),
					 errhint("Train with spend_model => 'gamma_gamma' on a source with monetary_value, or give the offer a value_per_purchase (e.g. for bgbb).")));
		if (spec.spend_model != NULL && !isnan(offer.value_per_purchase))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("offer value_per_purchase = %g is given for a model with spend model %s",
							offer.value_per_purchase, spec.spend_model->name),
					 errhint("value_per_purchase is for a model without a spend model; the spend model's expected spend is used otherwise.")));
		if (c == NULL || add_size(c->plen, c->olen) < add_size(plen, olen))
			c = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
								   add_size(offsetof(OfferCache, bytes),
											add_size(plen, olen)));
		c->spec = spec;
		c->offer = offer;
		c->plen = plen;
		c->olen = olen;
		memcpy(c->bytes, pj, plen);
		memcpy(c->bytes + plen, oj, olen);
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

static void
offer_finite(double v, const char *what, const ClvModelSpec *spec,
			 FunctionCallInfo fcinfo)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("could not compute %s of the offer with model %s for frequency %g, recency %g, t %g, horizon %g",
						what, spec->tx_model->name,
						PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
						PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(5)),
				 errhint("The parameters or the lifts may be extreme for these inputs.")));
}

/*
 * clv_offer_predict(params, frequency, recency, t, monetary_value, horizon,
 * discount_rate, margin, offer): the customer's values without the offer
 * (validated and computed as clv_predict), then with it for a responder.
 * NULL when params, offer or an argument other than monetary_value is NULL.
 */
Datum
clv_offer_predict_params(PG_FUNCTION_ARGS)
{
	OfferCache *c;
	double		base[4];
	ClvOfferResult r;
	double		margin;
	TupleDesc	desc;
	Datum		values[11];
	bool		nulls[11];
	double		out[11];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(8))
		PG_RETURN_NULL();
	c = offer_cache(fcinfo);
	if (!clv_spec_predict_values(fcinfo, &c->spec, base))
		PG_RETURN_NULL();
	margin = PG_GETARG_FLOAT8(7);
	if (c->spec.spend_model == NULL)
	{
		/* a fixed value per purchase: clv as clv_predict would compute it */
		double		disc = PG_GETARG_FLOAT8(6) == 0 ? base[0] :
			clv_discounted_purchases(c->spec.tx_model->kind, c->spec.tx_params,
									 PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
									 PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(5),
									 PG_GETARG_FLOAT8(6));

		base[2] = c->offer.value_per_purchase;
		base[3] = margin * base[2] * disc;
		offer_finite(base[3], "the baseline clv", &c->spec, fcinfo);
	}
	if (!clv_offer_evaluate(c->spec.tx_model->kind, c->spec.tx_params,
							PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
							PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(5),
							PG_GETARG_FLOAT8(6), margin, base[2], base[3],
							&c->offer, &r))
		offer_finite(NAN, "the lifted expected purchases", &c->spec, fcinfo);
	out[0] = base[1];
	out[1] = base[0];
	out[2] = r.offer_purchases;
	out[3] = base[2];
	out[4] = r.offer_spend;
	out[5] = base[3];
	out[6] = r.offer_clv;
	out[7] = r.incremental_value;
	out[8] = c->offer.cost;
	out[9] = r.net_gain;
	out[10] = r.roi;
	offer_finite(r.offer_purchases, "expected purchases", &c->spec, fcinfo);
	offer_finite(r.offer_spend, "expected spend", &c->spec, fcinfo);
	offer_finite(r.offer_clv, "clv", &c->spec, fcinfo);
	offer_finite(r.incremental_value, "incremental value", &c->spec, fcinfo);
	offer_finite(r.net_gain, "net gain", &c->spec, fcinfo);
	if (c->offer.cost > 0)
		offer_finite(r.roi, "roi", &c->spec, fcinfo);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "clv_offer_predict must return a composite type");
	desc = BlessTupleDesc(desc);
	for (int i = 0; i < 11; i++)
	{
		values[i] = Float8GetDatum(out[i]);
		nulls[i] = (i == 10 && c->offer.cost == 0);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
