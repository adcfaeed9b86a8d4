/*-------------------------------------------------------------------------
 *
 * offer.c
 *	  An offer's value for one customer from the lifted conditional
 *	  expectations of the transaction model (btyd.c dispatches to each
 *	  model's *_expected_lifted) and the Gamma-Gamma spend.
 *
 * For a responder, with k = 1 + purchase_lift, c = 1 - retention_lift,
 * g = 1 + spend_lift:
 *	 offer_spend = g * E[M | x, m_x]		(Gamma-Gamma: the spend per
 *											 purchase scaled; the model's
 *											 purchases and spend are
 *											 independent)
 *	 offer_clv	 = margin * offer_spend * D_{k,c}(horizon, rate)
 * where D_{k,c} discounts the lifted expected purchases per unit period
 * exactly as clv_discounted_purchases does the ordinary ones.  Over the
 * targeted customers only a share response_rate responds, so
 *	 incremental_value = response_rate * (offer_clv - baseline_clv)
 *	 net_gain = incremental_value - cost,  roi = net_gain / cost.
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "offer.h"

bool
clv_offer_evaluate(ClvModelKind kind, const double *params,
				   double x, double tx, double T, double horizon,
				   double rate, double margin,
				   double baseline_spend, double baseline_clv,
				   const ClvOffer *o, ClvOfferResult *out)
{
	double		k = 1.0 + o->purchase_lift,
				c = 1.0 - o->retention_lift;
	double		disc;

	out->offer_purchases = clv_expected_purchases_lifted(kind, params, x, tx, T,
														 horizon, k, c);
	if (isnan(out->offer_purchases))
		return false;
	disc = rate == 0 ? out->offer_purchases :
		clv_discounted_purchases_lifted(kind, params, x, tx, T, horizon, rate, k, c);
	if (isnan(disc))
		return false;
	out->offer_spend = (1.0 + o->spend_lift) * baseline_spend;
	out->offer_clv = margin * out->offer_spend * disc;
	out->incremental_value = o->response_rate * (out->offer_clv - baseline_clv);
	out->net_gain = out->incremental_value - o->cost;
	out->roi = o->cost > 0 ? out->net_gain / o->cost : NAN;
	return true;
}
