/*-------------------------------------------------------------------------
 *
 * gamma_gamma.h
 *	  Gamma-Gamma spend model (Fader, Hardie & Lee 2005 note; Colombo &
 *	  Jiang 1999).  Rows: x = repeat purchases (> 0), tx = their mean spend.
 *	  Parameters: p, q, gamma.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_GAMMA_GAMMA_H
#define CLV_GAMMA_GAMMA_H

#include "btyd.h"

extern double clv_gamma_gamma_loglik(const double *p, const ClvObs *obs,
									 size_t nobs, double *grad);

#endif							/* CLV_GAMMA_GAMMA_H */
