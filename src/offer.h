/*-------------------------------------------------------------------------
 *
 * offer.h
 *	  The value of a marketing offer in a BTYD model's own terms: what a
 *	  responding customer's conditional expectations become when the
 *	  offer changes the purchase rate, the dropout and the spend from now
 *	  on, and the incremental value, net gain and ROI that follow.
 *
 * Pure math like btyd.h: nothing here knows about Datums or fmgr; the SQL
 * glue (parsing the offer jsonb, errors) is offer_fmgr.c.  README "Offers"
 * states every formula.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_OFFER_H
#define CLV_OFFER_H

#include <stdbool.h>

#include "btyd.h"

/*
 * An offer as the user states it (the keys of the offer jsonb).  A
 * responding customer's purchase rate is multiplied by 1 + purchase_lift,
 * the dropout rate or probability by 1 - retention_lift, the expected spend
 * per purchase by 1 + spend_lift, from the end of the observation on; a
 * customer who does not respond, or who has already dropped out, is
 * unchanged.
 */
typedef struct ClvOffer
{
	double		cost;			/* per targeted customer, >= 0 */
	double		response_rate;	/* share of targeted customers who respond,
								 * in [0, 1] */
	double		purchase_lift;	/* > -1 */
	double		retention_lift; /* in [0, 1) */
	double		spend_lift;		/* > -1 */
	double		value_per_purchase; /* > 0, the money value of one purchase
									 * for a model without a spend model;
									 * NaN when not given */
} ClvOffer;

/* The largest purchase or spend lift an offer may state (offer_fmgr.c) */
#define CLV_OFFER_MAX_LIFT 1000.0

typedef struct ClvOfferResult
{
	double		offer_purchases;	/* expected purchases of a responder over
									 * the horizon (not discounted) */
	double		offer_spend;	/* expected spend per purchase of a responder */
	double		offer_clv;		/* discounted margin value of a responder */
	double		incremental_value;	/* response_rate * (offer_clv -
										 * baseline_clv) */
	double		net_gain;		/* incremental_value - cost */
	double		roi;			/* net_gain / cost; NaN when cost = 0 */
} ClvOfferResult;

/*
 * Evaluates the offer for one customer of a transaction model (kind,
 * params) and the customer's baseline expected spend and CLV (as
 * clv_predict computes them with the same horizon, rate and margin).
 * Returns false when a lifted expectation cannot be computed (NaN).
 */
extern bool clv_offer_evaluate(ClvModelKind kind, const double *params,
							   double x, double tx, double T, double horizon,
							   double rate, double margin,
							   double baseline_spend, double baseline_clv,
							   const ClvOffer *offer, ClvOfferResult *out);

#endif							/* CLV_OFFER_H */
