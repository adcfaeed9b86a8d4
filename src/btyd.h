/*-------------------------------------------------------------------------
 *
 * btyd.h
 *	  Buy-'Til-You-Die models: likelihoods, fitting and predictions.
 *
 * Pure math: nothing here knows about Datums or fmgr.  The SQL glue lives
 * in fit.c (fitting through SPI) and predict.c (prediction functions).
 *
 * Conventions: durations are in the model's time unit; parameters are in
 * the order of ClvModelInfo.param_names.  BG/BB is the discrete-time model:
 * x = transactions in n opportunities, tx = opportunity of the last one,
 * T = n.  Gamma-Gamma uses x = repeat purchases and tx = their mean spend.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_BTYD_H
#define CLV_BTYD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ClvObs
{
	double		x;				/* frequency (repeat purchases); BG/BB:
								 * transactions in n periods */
	double		tx;				/* recency; BG/BB: period of the last
								 * transaction; Gamma-Gamma: mean spend m_x */
	double		T;				/* t (age); BG/BB: number of opportunities n;
								 * Gamma-Gamma: unused */
	double		w;				/* weight: number of customers with exactly
								 * these values */
} ClvObs;

typedef enum ClvModelKind
{
	CLV_MODEL_BGNBD,
	CLV_MODEL_PARETO_NBD,
	CLV_MODEL_MBGNBD,
	CLV_MODEL_BGBB,
	CLV_MODEL_GAMMA_GAMMA
} ClvModelKind;

#define CLV_N_MODELS 5
#define CLV_MAX_PARAMS 4

typedef struct ClvModelInfo
{
	ClvModelKind kind;
	const char *name;			/* "bgnbd", "pareto_nbd", "mbgnbd", "bgbb",
								 * "gamma_gamma" */
	bool		is_spend;		/* true for gamma_gamma */
	int			nparams;
	const char *param_names[CLV_MAX_PARAMS];	/* bgnbd/mbgnbd r,alpha,a,b;
												 * pareto_nbd r,alpha,s,beta;
												 * bgbb alpha,beta,gamma,delta;
												 * gamma_gamma p,q,gamma */
} ClvModelInfo;

extern const ClvModelInfo *clv_model_info_by_name(const char *name);	/* NULL if unknown */
extern const ClvModelInfo *clv_model_info(ClvModelKind kind);

typedef struct ClvFitOptions
{
	double		penalizer;		/* L2 penalty, >= 0: penalizer * sum(param^2)
								 * on the natural parameters, added to the
								 * mean negative log-likelihood (lifetimes'
								 * convention) */
	int			max_iterations;
	double		tolerance;		/* gradient-norm tolerance */
	bool		nonpositive_spend_error;	/* a repeat buyer with
											 * monetary_value <= 0 is an
											 * error instead of being left
											 * out of the spend fit */
	bool		verbose;		/* progress NOTICEs (not stored) */

	/*
	 * Progress of the optimiser, or NULL: called when a start begins and
	 * ends and every CLV_FIT_PROGRESS_EVERY iterations in between, with the
	 * minimised objective (-LL / N + penalty).  phase is "start", "bfgs",
	 * "nelder-mead" or "end"; sample "subsample" or "full data".
	 */
	void		(*progress) (void *arg, int start, int nstarts,
							 const char *phase, const char *sample,
							 int iteration, double objective);
	void	   *progress_arg;
} ClvFitOptions;

#define CLV_FIT_PROGRESS_EVERY 10

#define CLV_FIT_DEFAULT_PENALIZER 0.0
#define CLV_FIT_DEFAULT_MAX_ITERATIONS 1000
#define CLV_FIT_DEFAULT_TOLERANCE 1e-6

typedef struct ClvFitResult
{
	double		params[CLV_MAX_PARAMS];
	double		std_errors[CLV_MAX_PARAMS]; /* NaN where the information
											 * matrix is singular */
	double		covariance[CLV_MAX_PARAMS * CLV_MAX_PARAMS];	/* of the
																 * log-parameters,
																 * row-major
																 * nparams x
																 * nparams */
	bool		has_covariance; /* false where the information matrix is
								 * singular */
	double		loglik;			/* unpenalised log-likelihood at the optimum */
	int			iterations;
	int			evaluations;	/* likelihood passes over the full data
								 * during the optimisation (standard errors
								 * take 2 * nparams more) */
	bool		converged;
	char		message[256];	/* empty, or why not converged / what to
								 * watch (q <= 1, a <= 1, stuck at start) */
} ClvFitResult;

/*
 * Fits by maximum likelihood over the weighted unique rows.  Returns false
 * only on a hard numerical failure (message says why); CHECK_FOR_INTERRUPTS
 * inside.
 */
extern bool clv_fit(ClvModelKind kind, const ClvObs *obs, size_t nobs,
					const ClvFitOptions *opt, ClvFitResult *res);
extern double clv_loglik(ClvModelKind kind, const double *params,
						 const ClvObs *obs, size_t nobs);

/*
 * Weighted log-likelihood and its gradient with respect to the natural
 * parameters (grad may be NULL).  Returns NaN if it cannot be evaluated.
 */
extern double clv_loglik_grad(ClvModelKind kind, const double *params,
							  const ClvObs *obs, size_t nobs, double *grad);

/*
 * Predictions; params in the order of param_names.  Return NaN on numerical
 * failure (the glue turns that into an ERROR naming the inputs).  BG/BB:
 * T = n opportunities, horizon = number of future periods.
 */
extern double clv_expected_purchases(ClvModelKind kind, const double *params,
									 double x, double tx, double T, double horizon);
extern double clv_p_alive(ClvModelKind kind, const double *params,
						  double x, double tx, double T);
extern double clv_expected_purchases_new(ClvModelKind kind, const double *params,
										 double horizon);
extern double clv_purchase_probability(ClvModelKind kind, const double *params,
									   int n, double horizon);

/*
 * Gamma-Gamma conditional expected spend per purchase; x = 0 gives the
 * population mean p*gamma/(q-1).
 */
extern double clv_expected_spend(const double *gg_params, double x, double mx);

/*
 * Discounted expected purchases over (0, horizon]: sum over unit periods
 * i = 1..ceil(horizon) of (E[X(min(i,h))|.] - E[X(i-1)|.]) / (1 + rate)^i.
 * rate = 0 gives expected purchases.
 */
extern double clv_discounted_purchases(ClvModelKind kind, const double *params,
									   double x, double tx, double T,
									   double horizon, double rate);

/*
 * The same two under an offer's effect from T on, in the model's own terms
 * (offer.h, README "Offers"): purchase_factor k > 0 multiplies the purchase
 * rate (BG/BB: the purchase probability, capped at 1), dropout_factor
 * c in (0, 1] the dropout rate (Pareto/NBD) or probability (BG/NBD,
 * MBG/NBD: after each purchase; BG/BB: per opportunity).  k = c = 1 gives
 * exactly clv_expected_purchases / clv_discounted_purchases.
 */
extern double clv_expected_purchases_lifted(ClvModelKind kind, const double *params,
											double x, double tx, double T,
											double horizon, double purchase_factor,
											double dropout_factor);
extern double clv_discounted_purchases_lifted(ClvModelKind kind, const double *params,
											  double x, double tx, double T,
											  double horizon, double rate,
											  double purchase_factor,
											  double dropout_factor);

#endif							/* CLV_BTYD_H */
