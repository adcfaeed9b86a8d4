/*-------------------------------------------------------------------------
 *
 * rfm.c
 *	  Named RFM segments from 1-5 recency/frequency(/monetary) scores.
 *
 * The grid is the one marketing teams use on a 5x5 recency x frequency
 * chart; with a monetary score, frequency and monetary are averaged (half
 * rounded up) into one "FM" axis.  README.md documents the grid.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(clv_rfm_segment);

/* rfm_grid[r - 1][f - 1]: rows are recency 1 (oldest) .. 5 (most recent) */
static const char *const rfm_grid[5][5] = {
	/* r = 1 */ {"Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"},
	/* r = 2 */ {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
	/* r = 3 */ {"About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"},
	/* r = 4 */ {"Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"},
	/* r = 5 */ {"New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"},
};

static int32
rfm_score_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int32		score = PG_GETARG_INT32(argno);

	if (score < 1 || score > 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s score must be between 1 and 5, got %d", what, score),
				 errhint("Compute scores with ntile(5) OVER (ORDER BY ...).")));
	return score;
}

/*
 * Segments are a pure function of the scores, so the SQL function is
 * IMMUTABLE and can be used in indexes and generated columns.
 */
Datum
clv_rfm_segment(PG_FUNCTION_ARGS)
{
	int32		r = rfm_score_arg(fcinfo, 0, "recency");
	int32		f = rfm_score_arg(fcinfo, 1, "frequency");

	if (PG_NARGS() > 2)
	{
		int32		m = rfm_score_arg(fcinfo, 2, "monetary");

		f = (f + m + 1) / 2;
	}
	PG_RETURN_TEXT_P(cstring_to_text(rfm_grid[r - 1][f - 1]));
}
