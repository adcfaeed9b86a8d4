/*-------------------------------------------------------------------------
 *
 * predict_by_name.c
 *	  The prediction functions with a model name instead of inline params:
 *	  resolve the name through the catalog cache, then call the same
 *	  prediction core as the params-jsonb functions (predict.h).
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "catalog.h"
#include "predict.h"

/*
 * Every name-based function is the params-jsonb one with argument 0
 * resolved through the catalog; a NULL name (possible only for the
 * non-STRICT clv_predict and clv_value) yields NULL like any NULL input.
 */
#define CLV_BY_NAME(sqlname, core) \
PG_FUNCTION_INFO_V1(sqlname); \
Datum \
sqlname(PG_FUNCTION_ARGS) \
{ \
	if (PG_ARGISNULL(0)) \
		PG_RETURN_NULL(); \
	return core(fcinfo, clv_catalog_spec(fcinfo)); \
}

CLV_BY_NAME(clv_predict_by_name, clv_spec_predict)
CLV_BY_NAME(clv_expected_purchases_by_name, clv_spec_expected_purchases)
CLV_BY_NAME(clv_p_alive_by_name, clv_spec_p_alive)
CLV_BY_NAME(clv_expected_spend_by_name, clv_spec_expected_spend)
CLV_BY_NAME(clv_value_by_name, clv_spec_value)
CLV_BY_NAME(clv_expected_purchases_new_by_name, clv_spec_expected_purchases_new)
CLV_BY_NAME(clv_purchase_probability_by_name, clv_spec_purchase_probability)
