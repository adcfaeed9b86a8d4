/*-------------------------------------------------------------------------
 *
 * btyd.h
 *	  Buy-'Til-You-Die models: likelihoods, fitting and predictions.
 *
 * Plain C, the math tier: no PostgreSQL header, nothing here knows about
 * Datums or fmgr (the model files and btyd.c link into the standalone
 * test/c/math_check).  The SQL glue lives in fit.c (fitting through SPI),
 * predict.c (prediction functions) and catalog.c; the optimiser, optim.c,
 * is in the server tier (PG_TRY around GSL's malloc'ed workspaces).
 *
 * Conventions: durations are in the model's time unit; parameters are in
 * the order of ClvModelType.param_names.  BG/BB is the discrete-time model:
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

/*
 * The (frequency, recency, t) reduction.  Every model here sees a customer
 * only through three numbers -- x, tx, T of ClvObs (a spend model: x and the
 * mean spend) -- and its likelihood is a product over customers.  So
 * customers who share those values are interchangeable: the fit path
 * (fit.c) groups the source by them in SQL and hands the optimiser each
 * distinct row once with its customer count as the weight w, and a
 * likelihood is a weighted sum over unique rows, each row's terms computed
 * once.
 *
 * What the reduction assumes: nothing but (x, tx, T) distinguishes two
 * customers in the model (no covariates, no individual purchase times, no
 * cohort effects), and a row's contribution depends on that row alone.  A
 * model with covariates (a regressor, a segment-specific rate) or with
 * extra per-customer statistics (the inter-purchase-time spread of
 * Pareto/GGG, the spend variance) breaks out of it in one of two ways:
 *	 - few distinct values of the extra statistic (a segment, a discretised
 *	   covariate): widen the group key, i.e. add the column to the GROUP BY
 *	   of fit.c and a field to ClvObs, and the weights still apply;
 *	 - continuous values: no grouping pays off; the model reads one row per
 *	   customer (w = 1) through its own reader, and its loglik_grad must
 *	   not assume the ordering the reduced rows arrive in (sorted by x,
 *	   then T, then tx; see cmp_obs in fit.c), which the BG family,
 *	   Pareto/NBD and Gamma-Gamma use to reuse terms across rows.
 * Either way ClvObs and the fit path change, not just a model file.
 */

/*
 * The models.  The registry is this list: one line per model, in the order
 * of the valid-name lists in error messages; it gives the ClvModelKind
 * values (indices into the registry), the declarations of the model
 * tables and the registry array of btyd.c (like PostgreSQL's rmgrlist.h;
 * every line ends with a backslash, so that adding one touches no other).
 */
#define CLV_MODEL_LIST(M) \
	M(CLV_MODEL_BGNBD, clv_bgnbd_type) \
	M(CLV_MODEL_PARETO_NBD, clv_pareto_nbd_type) \
	M(CLV_MODEL_MBGNBD, clv_mbgnbd_type) \
	M(CLV_MODEL_BGBB, clv_bgbb_type) \
	M(CLV_MODEL_GAMMA_GAMMA, clv_gamma_gamma_type) \
	/* end of the list: a new line goes above */

#define CLV_MODEL_ENUM(kind, table) kind,
typedef enum ClvModelKind
{
	CLV_MODEL_LIST(CLV_MODEL_ENUM)
	CLV_N_MODELS
} ClvModelKind;
#undef CLV_MODEL_ENUM

#define CLV_MAX_PARAMS 4
#define CLV_MAX_STARTS 4		/* starting points a model may propose */

#define clv_lengthof(array) (sizeof(array) / sizeof((array)[0]))

/*
 * A caveat on a fitted model: where parameter param is at most at_most
 * the model is still valid but some quantity is not.  The optimiser sets
 * bit i of ClvFitResult.caveats for caveat i (at most 32) and appends
 * message to the fit message; flag goes into the catalog's
 * diagnostics->'flags'; warning, if not NULL, becomes the fit's WARNING
 * "<name> estimate <param> = <v> <= <at_most>: <warning>" (for converged
 * fits) with warn_hint.
 */
typedef struct ClvCaveat
{
	int			param;			/* index into param_names */
	double		at_most;
	const char *flag;			/* e.g. "a_le_1" */
	const char *message;
	const char *warning;		/* or NULL: no WARNING */
	const char *warn_hint;
} ClvCaveat;

/* Weighted means of the unique rows, for the data-scaled starting points */
typedef struct ClvObsMeans
{
	double		T;				/* mean t, at least CLV_START_MIN_SCALE */
	double		x;				/* mean frequency */
	double		tx;				/* mean recency (spend rows: mean spend), at
								 * least CLV_START_MIN_SCALE */
} ClvObsMeans;

/*
 * A floor for the data scales of the starting points: a source where every
 * t (or every spend) is 0 would otherwise give a start at log(0).
 */
#define CLV_START_MIN_SCALE 1e-3

struct ClvSimCustomer;			/* simulate.h */
typedef struct ClvModelType ClvModelType;

/*
 * A model as a table of operations (in the manner of GSL's
 * gsl_multimin_fdfminimizer_type and pgvector's IndexAmRoutine): everything
 * the fit, prediction, validation, catalog and simulation code needs to
 * know about a model, so that none of it tests which model it has.  Each
 * model file ends with its table; hooks a model does not have are NULL (a
 * spend model has no expected/p_alive/prob_n/simulation).  Every hook gets
 * its own table, so that one implementation can serve a family of models
 * that differ in `variant` (the BG family: BG/NBD and MBG/NBD).
 *
 * Adding a model (say Pareto/GGG):
 *	 1. src/pggg.c: its math (plain C: no PostgreSQL headers; long loops
 *		call CLV_CHECK_INTERRUPTS()), ending with
 *		const ClvModelType clv_pggg_type = {.kind = CLV_MODEL_PGGG,
 *		.name = "pggg", ...} filling every field below that applies;
 *	 2. one line M(CLV_MODEL_PGGG, clv_pggg_type) in CLV_MODEL_LIST above.
 * Name lists, hints, validation, starts, caveats, flags, predictions and
 * simulation then follow from the table; the catalog stores the name.
 * test/t/020_models_math.pl links every plain-C file of src/ into the
 * standalone math check, so the new file is compiled there too; add its
 * published numbers to test/c/math_check.c.  The model must fit the
 * (frequency, recency, t) reduction above, or change the fit path first.
 */
struct ClvModelType
{
	ClvModelKind kind;
	const char *name;			/* the SQL name: "bgnbd", ... */
	const char *label;			/* as the literature writes it: "BG/NBD" */
	bool		is_spend;		/* a spend model (rows: x, mean spend) */
	int			nparams;
	const char *param_names[CLV_MAX_PARAMS];	/* the order of every params
												 * array */
	int			variant;		/* for a shared implementation: BG family 0
								 * = BG/NBD, 1 = MBG/NBD (drop-out possible
								 * at the first purchase) */

	/*
	 * Naming a model's parameters without naming the model
	 * ({"r": .., "alpha": .., "s": .., "beta": ..}): models whose
	 * infer_keys are all present, and infer_unless is not, are tried in
	 * increasing infer_rank (0: never inferred, e.g. MBG/NBD, whose keys
	 * are BG/NBD's).  Transaction and spend models are inferred apart.
	 */
	int			infer_rank;
	const char *infer_keys[CLV_MAX_PARAMS + 1];	/* NULL-terminated */
	const char *infer_unless;

	/* Data the model takes */
	bool		takes_spend_model;	/* may be fitted/used together with a
									 * spend model */
	double		max_periods;	/* t and horizons are counted one by one:
								 * at most this many (0: no limit) */

	/*
	 * A rule for one (frequency, recency, t) row beyond the common checks
	 * (finite, non-negative, recency <= t), or NULL: row_ok false means
	 * "<name> needs <row_rule>; got frequency .., recency .., t ..", and
	 * row_rule_sql selects such rows of a source aliased s (for the HINT).
	 */
	bool		(*row_ok) (double x, double tx, double T);
	const char *row_rule;
	const char *row_rule_sql;

	/* Fitting */
	double		(*loglik_grad) (const ClvModelType *m, const double *params,
								const ClvObs *obs, size_t nobs, double *grad);
	/* proposes starting points (natural parameters) in order; returns how many */
	int			(*starts) (const ClvObsMeans *mean,
						   double starts[CLV_MAX_STARTS][CLV_MAX_PARAMS]);
	const ClvCaveat *caveats;
	int			ncaveats;

	/* Predictions (transaction models); see the wrappers below */
	double		(*expected) (const ClvModelType *m, const double *params,
							 double x, double tx, double T, double horizon);
	double		(*p_alive) (const ClvModelType *m, const double *params,
							double x, double tx, double T);
	double		(*prob_n) (const ClvModelType *m, const double *params,
						   int n, double horizon);

	/*
	 * E[X(T, T+horizon)] when, from T on, an alive customer's purchase rate
	 * is multiplied by k (BG/BB: its purchase probability, capped at 1)
	 * and its dropout rate or probability by c in (0, 1]: an offer's effect
	 * in the model's own terms (README "Offers").  k = c = 1 is expected.
	 */
	double		(*expected_lifted) (const ClvModelType *m, const double *params,
									double x, double tx, double T,
									double horizon, double k, double c);

	/*
	 * Spend models: expected spend per purchase of a customer with x
	 * repeat purchases of mean mx (x = 0: the population mean); NaN where
	 * undefined.
	 */
	double		(*expected_spend) (const ClvModelType *m, const double *params,
								   double x, double mx);

	/*
	 * Simulation (simulate.h): sim_begin draws a customer's heterogeneity
	 * into c; sim_next draws its next repeat purchase (first: the first
	 * call after the acquisition purchase), setting *t and *amount (with
	 * clv_sim_amount), false when there is none left.
	 */
	void		(*sim_begin) (const ClvModelType *m, struct ClvSimCustomer *c,
							  const double *params);
	bool		(*sim_next) (const ClvModelType *m, struct ClvSimCustomer *c,
							 bool first, double *t, double *amount);
};

/* The old name of the table, still used by the glue */
typedef ClvModelType ClvModelInfo;

#define CLV_MODEL_EXTERN(kind, table) extern const ClvModelType table;
CLV_MODEL_LIST(CLV_MODEL_EXTERN)
#undef CLV_MODEL_EXTERN

/* Registry access: NULL for an unknown name or kind */
extern const ClvModelType *clv_model_info_by_name(const char *name);
extern const ClvModelType *clv_model_info(ClvModelKind kind);

/*
 * The models of one sort (is_spend) in registry order, as "a, b, c" into
 * buf (for hints listing the valid names); returns buf.
 */
extern char *clv_model_names(bool is_spend, char *buf, size_t len);
#define CLV_NAME_LIST_LEN 256 /* a buffer for that list (truncated beyond) */

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
	bool		stuck_at_start; /* the estimates are the start values: the
								 * optimiser never moved (then converged is
								 * false) */
	bool		singular;		/* the information matrix is singular: some
								 * standard errors are NaN */
	unsigned int caveats;		/* bit i: the model's caveats[i] applies */
	char		message[256];	/* empty, or why not converged / what to
								 * watch (q <= 1, a <= 1, stuck at start),
								 * for people; code reads the flags */
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
 * population mean p*gamma/(q-1).  (Gamma-Gamma's expected_spend; code that
 * holds a spend model's table calls its hook.)
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
