/*-------------------------------------------------------------------------
 *
 * model_types.c
 *	  clv_model_types(): the registry of BTYD models (btyd.h) as a table.
 *
 * SQL code that needs to know which models exist (valid names, which are
 * spend models, which count discrete opportunities) reads them here, so
 * that a new model's registry line reaches it too.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "btyd.h"

PG_FUNCTION_INFO_V1(clv_model_types);

#define CLV_MODEL_TYPES_NATTS 6

/*
 * One row per registered model, in registry order: name, label, is_spend,
 * discrete (time counted in whole opportunities), takes_spend_model and
 * the parameter names in the order of every params array.
 */
Datum
clv_model_types(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < CLV_N_MODELS; k++)
	{
		const ClvModelType *m = clv_model_info((ClvModelKind) k);
		Datum		values[CLV_MODEL_TYPES_NATTS];
		bool		nulls[CLV_MODEL_TYPES_NATTS] = {0};
		Datum		names[CLV_MAX_PARAMS];

		for (int i = 0; i < m->nparams; i++)
			names[i] = CStringGetTextDatum(m->param_names[i]);
		values[0] = CStringGetTextDatum(m->name);
		values[1] = CStringGetTextDatum(m->label);
		values[2] = BoolGetDatum(m->is_spend);
		values[3] = BoolGetDatum(m->max_periods > 0);
		values[4] = BoolGetDatum(m->takes_spend_model);
		values[5] = PointerGetDatum(construct_array(names, m->nparams, TEXTOID, -1,
													false, TYPALIGN_INT));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
