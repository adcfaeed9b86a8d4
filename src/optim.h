/*-------------------------------------------------------------------------
 *
 * optim.h
 *	  Maximum-likelihood fitting of the BTYD models with GSL multimin.
 *
 * Implements clv_fit() of btyd.h.  Works on log-parameters (so every
 * parameter stays positive), minimises
 *	 -LL / N + penalizer * sum(param^2)
 * (the lifetimes convention for the L2 penalty, on the natural parameters),
 * with vector_bfgs2 and a nmsimplex2 fallback, then Newton steps with the
 * numerical Hessian, from several starting
 * points; standard errors come from the observed information (numerical
 * Jacobian of the analytic gradient) mapped back by the delta method.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_OPTIM_H
#define CLV_OPTIM_H

#include "btyd.h"

/* Starting points tried in order (natural parameters); returns how many. */
extern int	clv_fit_starts(ClvModelKind kind, const ClvObs *obs, size_t nobs,
						   double starts[][CLV_MAX_PARAMS], int max_starts);

#endif							/* CLV_OPTIM_H */
