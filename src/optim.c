/*-------------------------------------------------------------------------
 *
 * optim.c
 *	  Maximum-likelihood fitting with GSL multimin over log-parameters.
 *
 * Model-blind: the likelihood, the starting points and the caveats come
 * from the model's table (btyd.h).  The GSL workspaces are malloc'ed and
 * freed in PG_TRY blocks, and the loops call CHECK_FOR_INTERRUPTS().
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#include "miscadmin.h"

#include "btyd.h"
#include "optim.h"

/*
 * Above this many unique rows, each start is first optimised on a
 * systematic subsample of about CLV_SUBSAMPLE_ROWS rows (cheap), and the
 * full data only polish from there: far fewer passes over the big array.
 */
#define CLV_SUBSAMPLE_MIN 40000
#define CLV_SUBSAMPLE_ROWS 10000

/*
 * A converged full-data fit takes Newton steps (full-data Hessian) down to this
 * fraction of the gradient tolerance: on a flat ridge such as BG/NBD's (a, b)
 * the tolerance alone leaves the estimates a few 1e-5 from the optimum, and
 * where in that neighbourhood BFGS stops depends on its path.
 */
#define CLV_REFINE_FACTOR 1e-3

/*
 * The tuning of the minimisers.  Log-parameters beyond +-CLV_LOG_PARAM_BOUND
 * (e^30 ~ 1e13) are "do not go there": exp() stays finite and no parameter
 * reaches 0, and no fitted BTYD model comes near.  BFGS's line-search
 * tolerance is the 0.1 GSL recommends for vector_bfgs2; its first trial
 * step is a tenth of a unit in log-parameters (about 10% on the natural
 * scale).  Nelder-Mead
 * starts from a simplex of CLV_NM_STEP (about 20% on the natural scale) and
 * stops when it has shrunk to CLV_NM_SIZE_TOL, far below what the gradient
 * tolerance needs, since BFGS polishes afterwards.
 */
#define CLV_LOG_PARAM_BOUND 30.0
#define CLV_BFGS_STEP 0.1
#define CLV_BFGS_LINE_TOL 0.1
#define CLV_NM_STEP 0.2
#define CLV_NM_SIZE_TOL 1e-8

/*
 * The step of the central differences of the analytic gradient (in
 * log-parameters): about the cube root of the double epsilon, which
 * balances rounding against truncation for a second derivative.
 */
#define CLV_HESSIAN_STEP 1e-5

/*
 * Newton polishing: at most CLV_NEWTON_MAX_STEPS steps (it converges in a
 * handful when the curvature is right; more means it is not), each
 * shortened by halving at most CLV_NEWTON_MAX_HALVINGS times (a step of
 * 1/256) until the objective does not increase.
 */
#define CLV_NEWTON_MAX_STEPS 30
#define CLV_NEWTON_MAX_HALVINGS 8

/*
 * Estimates within this relative distance of every start value are "stuck
 * at their start values": the optimiser never moved, which a converged
 * gradient test on a flat start would otherwise hide.
 */
#define CLV_STUCK_RELATIVE 1e-6

typedef struct FitProblem
{
	const ClvModelType *model;
	const ClvObs *obs;
	size_t		nobs;
	int			np;
	double		wsum;			/* total weight, scales the objective */
	double		penalizer;
	int			nevals;			/* likelihood passes, for diagnostics */
	int			start;			/* for progress reports: which start */
	int			nstarts;
	const char *sample;			/* "subsample" or "full data" */
} FitProblem;

/*
 * Objective and gradient in log-parameters.  Where the likelihood cannot
 * be evaluated the objective is +Inf, which both minimisers treat as "do
 * not go there".
 */
static double
fit_objective(const gsl_vector *v, FitProblem *fp, gsl_vector *df)
{
	double		p[CLV_MAX_PARAMS],
				g[CLV_MAX_PARAMS];
	double		ll,
				f;

	for (int i = 0; i < fp->np; i++)
	{
		double		lv = gsl_vector_get(v, i);

		/* keep exp() finite and the parameters away from 0 */
		if (!(lv > -CLV_LOG_PARAM_BOUND && lv < CLV_LOG_PARAM_BOUND))
		{
			if (df)
				gsl_vector_set_zero(df);
			return GSL_POSINF;
		}
		p[i] = exp(lv);
	}
	fp->nevals++;
	ll = fp->model->loglik_grad(fp->model, p, fp->obs, fp->nobs, df ? g : NULL);
	if (isnan(ll))
	{
		if (df)
			gsl_vector_set_zero(df);
		return GSL_POSINF;
	}
	f = -ll / fp->wsum;
	for (int i = 0; i < fp->np; i++)
	{
		f += fp->penalizer * p[i] * p[i];
		if (df)
			gsl_vector_set(df, i, -g[i] * p[i] / fp->wsum +
						   2.0 * fp->penalizer * p[i] * p[i]);
	}
	return f;
}

static double
gsl_f(const gsl_vector *v, void *params)
{
	return fit_objective(v, (FitProblem *) params, NULL);
}

static void
gsl_df(const gsl_vector *v, void *params, gsl_vector *df)
{
	(void) fit_objective(v, (FitProblem *) params, df);
}

static void
gsl_fdf(const gsl_vector *v, void *params, double *f, gsl_vector *df)
{
	*f = fit_objective(v, (FitProblem *) params, df);
}

/*
 * Starting points: the model's, which may scale to the data (the weighted
 * mean age, frequency and recency or spend), since a bad scale is the
 * usual reason BFGS stalls.
 */
int
clv_fit_starts(ClvModelKind kind, const ClvObs *obs, size_t nobs,
			   double starts[][CLV_MAX_PARAMS], int max_starts)
{
	const ClvModelType *m = clv_model_info(kind);
	double		proposed[CLV_MAX_STARTS][CLV_MAX_PARAMS];
	ClvObsMeans mean;
	double		sw = 0,
				st = 0,
				sx = 0,
				sm = 0;
	int			n;

	for (size_t i = 0; i < nobs; i++)
	{
		sw += obs[i].w;
		st += obs[i].w * obs[i].T;
		sx += obs[i].w * obs[i].x;
		sm += obs[i].w * obs[i].tx;
	}
	mean.T = sw > 0 ? fmax(st / sw, CLV_START_MIN_SCALE) : 1.0;
	mean.x = sw > 0 ? sx / sw : 1.0;
	mean.tx = sw > 0 ? fmax(sm / sw, CLV_START_MIN_SCALE) : 1.0;

	n = Min(m->starts(&mean, proposed), max_starts);
	for (int k = 0; k < n; k++)
		memcpy(starts[k], proposed[k], sizeof(proposed[k]));
	return n;
}

/* Hands one progress event to the caller's callback, if there is one */
static void
report(FitProblem *fp, const ClvFitOptions *opt, const char *phase,
	   int iteration, double objective)
{
	if (opt->progress)
		opt->progress(opt->progress_arg, fp->start + 1, fp->nstarts, phase,
					  fp->sample, iteration, objective);
}

/*
 * The objective at a start, for its progress report: not counted in the
 * evaluations, so that verbose and quiet fits report the same diagnostics.
 */
static void
report_start(FitProblem *fp, const ClvFitOptions *opt, const gsl_vector *x)
{
	int			nevals = fp->nevals;

	if (!opt->progress)
		return;
	report(fp, opt, "start", 0, fit_objective(x, fp, NULL));
	fp->nevals = nevals;
}

static double
grad_norm(const gsl_vector *v, FitProblem *fp)
{
	double		g[CLV_MAX_PARAMS];
	gsl_vector_view gv = gsl_vector_view_array(g, fp->np);
	double		f = fit_objective(v, fp, &gv.vector);

	if (!isfinite(f))
		return GSL_POSINF;
	return gsl_blas_dnrm2(&gv.vector);
}

/* GSL workspaces of one minimise() call, freed however it ends */
typedef struct MinimiseWork
{
	gsl_multimin_fdfminimizer *s;
	gsl_multimin_fminimizer *nm;
	gsl_vector *step;
} MinimiseWork;

/*
 * The body of minimise(), outside its PG_TRY so that nothing in it lives
 * across the setjmp (the workspaces are in *ws, which minimise frees).
 */
static pg_noinline int
minimise_run(FitProblem *fp, gsl_vector *x, const ClvFitOptions *opt,
			 bool *converged, MinimiseWork *ws)
{
	int			iter = 0;
	bool		conv = false;
	gsl_multimin_function_fdf fdf = {gsl_f, gsl_df, gsl_fdf, fp->np, fp};
	gsl_multimin_function ff = {gsl_f, fp->np, fp};

	for (int round = 0; round < 2 && !conv && iter < opt->max_iterations; round++)
	{
		double		f0;

		ws->s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2,
												fp->np);
		if (ws->s == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory allocating the minimiser")));
		if (gsl_multimin_fdfminimizer_set(ws->s, &fdf, x, CLV_BFGS_STEP,
										  CLV_BFGS_LINE_TOL) == GSL_SUCCESS &&
			isfinite(ws->s->f))
		{
			while (iter < opt->max_iterations)
			{
				int			status;

				CHECK_FOR_INTERRUPTS();
				iter++;
				status = gsl_multimin_fdfminimizer_iterate(ws->s);
				if (status != GSL_SUCCESS)
					break;
				if (iter % CLV_FIT_PROGRESS_EVERY == 0)
					report(fp, opt, "bfgs", iter, ws->s->f);
				if (gsl_multimin_test_gradient(ws->s->gradient, opt->tolerance) == GSL_SUCCESS)
				{
					conv = true;
					break;
				}
			}
			if (isfinite(ws->s->f))
				gsl_vector_memcpy(x, ws->s->x);
		}
		gsl_multimin_fdfminimizer_free(ws->s);
		ws->s = NULL;
		if (!conv && grad_norm(x, fp) <= opt->tolerance)
			conv = true;
		if (conv || iter >= opt->max_iterations)
			break;

		/* BFGS stalled (line search failure): Nelder-Mead, then retry */
		ws->nm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, fp->np);
		ws->step = gsl_vector_alloc(fp->np);
		if (ws->nm == NULL || ws->step == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory allocating the minimiser")));
		gsl_vector_set_all(ws->step, CLV_NM_STEP);

		/*
		 * GSL's fminimizer_set does not evaluate the objective at x (nm->fval
		 * is set by iterate only), so the start is tested here, and x only
		 * moves to a point an iteration returned that lowers the objective.
		 */
		f0 = fit_objective(x, fp, NULL);
		if (isfinite(f0) &&
			gsl_multimin_fminimizer_set(ws->nm, &ff, x, ws->step) == GSL_SUCCESS)
		{
			bool		moved = false;

			while (iter < opt->max_iterations)
			{
				CHECK_FOR_INTERRUPTS();
				iter++;
				if (gsl_multimin_fminimizer_iterate(ws->nm) != GSL_SUCCESS)
					break;
				moved = true;
				if (iter % CLV_FIT_PROGRESS_EVERY == 0)
					report(fp, opt, "nelder-mead", iter, ws->nm->fval);
				if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(ws->nm),
										   CLV_NM_SIZE_TOL) == GSL_SUCCESS)
					break;
			}
			if (moved && ws->nm->fval < f0)
				gsl_vector_memcpy(x, ws->nm->x);
		}
		gsl_multimin_fminimizer_free(ws->nm);
		ws->nm = NULL;
		gsl_vector_free(ws->step);
		ws->step = NULL;
		if (grad_norm(x, fp) <= opt->tolerance)
			conv = true;
	}
	*converged = conv;
	return iter;
}

/*
 * One optimisation from x (in place): BFGS first; if it stops without
 * meeting the gradient tolerance, Nelder-Mead from where it stopped, then
 * BFGS again to polish.  Returns the iterations used.
 */
static int
minimise(FitProblem *fp, gsl_vector *x, const ClvFitOptions *opt, bool *converged)
{
	MinimiseWork ws = {NULL, NULL, NULL};
	volatile int iter = 0;

	/* minimise_run frees the workspaces itself unless it raises */
	PG_TRY();
	{
		iter = minimise_run(fp, x, opt, converged, &ws);
	}
	PG_CATCH();
	{
		if (ws.s)
			gsl_multimin_fdfminimizer_free(ws.s);
		if (ws.nm)
			gsl_multimin_fminimizer_free(ws.nm);
		if (ws.step)
			gsl_vector_free(ws.step);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return iter;
}

/*
 * Hessian of the objective in log-parameters by central differences of the
 * analytic gradient, symmetrised, into h (np x np).  With an unpenalised,
 * unscaled problem this is the observed information.  False if the
 * gradient cannot be evaluated around logp.
 */
static bool
numerical_hessian(FitProblem *fp, const double *logp, double *h)
{
	double		g1[CLV_MAX_PARAMS],
				g2[CLV_MAX_PARAMS],
				v[CLV_MAX_PARAMS];
	gsl_vector_view vv = gsl_vector_view_array(v, fp->np);
	gsl_vector_view gv1 = gsl_vector_view_array(g1, fp->np);
	gsl_vector_view gv2 = gsl_vector_view_array(g2, fp->np);
	const double eps = CLV_HESSIAN_STEP;
	int			np = fp->np;

	for (int j = 0; j < np; j++)
	{
		memcpy(v, logp, sizeof(double) * np);
		v[j] = logp[j] + eps;
		if (!isfinite(fit_objective(&vv.vector, fp, &gv1.vector)))
			return false;
		v[j] = logp[j] - eps;
		if (!isfinite(fit_objective(&vv.vector, fp, &gv2.vector)))
			return false;
		for (int i = 0; i < np; i++)
			h[i * np + j] = (g1[i] - g2[i]) / (2 * eps);
	}
	for (int i = 0; i < np; i++)
		for (int j = 0; j < i; j++)
			h[i * np + j] = h[j * np + i] = 0.5 * (h[i * np + j] + h[j * np + i]);
	return true;
}

/* Cholesky factor of h in place; false unless positive definite */
static bool
cholesky(double *h, int np)
{
	gsl_matrix_view m = gsl_matrix_view_array(h, np, np);

	return gsl_linalg_cholesky_decomp1(&m.matrix) == GSL_SUCCESS;
}

/*
 * Newton polishing on the full data with a fixed Hessian (in practice the
 * one of the subsample, whose objective is the same per-customer average):
 * each step costs one gradient pass, and the iteration converges fast
 * because the curvature is already right.  Returns the passes used; x is
 * only moved to points that lower the objective.
 */
static int
newton_polish(FitProblem *fp, gsl_vector *x, const double *chol,
			  const ClvFitOptions *opt, bool *converged)
{
	int			np = fp->np;
	double		g[CLV_MAX_PARAMS],
				gt[CLV_MAX_PARAMS],
				d[CLV_MAX_PARAMS],
				xt[CLV_MAX_PARAMS];
	gsl_vector_view gv = gsl_vector_view_array(g, np);
	gsl_vector_view gtv = gsl_vector_view_array(gt, np);
	gsl_vector_view dv = gsl_vector_view_array(d, np);
	gsl_vector_view xv = gsl_vector_view_array(xt, np);
	gsl_matrix_const_view cv = gsl_matrix_const_view_array(chol, np, np);
	double		f = fit_objective(x, fp, &gv.vector);
	int			it;

	*converged = false;
	for (it = 0; it < CLV_NEWTON_MAX_STEPS && isfinite(f); it++)
	{
		double		step = 1.0,
					fn = GSL_POSINF;

		CHECK_FOR_INTERRUPTS();
		if (gsl_blas_dnrm2(&gv.vector) <= opt->tolerance)
		{
			*converged = true;
			break;
		}
		if (gsl_linalg_cholesky_solve(&cv.matrix, &gv.vector, &dv.vector) != GSL_SUCCESS)
			break;
		/* the trial point's gradient comes with it: one pass per step */
		for (int half = 0; half < CLV_NEWTON_MAX_HALVINGS; half++, step *= 0.5)
		{
			for (int i = 0; i < np; i++)
				xt[i] = gsl_vector_get(x, i) - step * d[i];
			fn = fit_objective(&xv.vector, fp, &gtv.vector);
			if (fn <= f)
				break;
		}
		if (!(fn <= f))
			break;
		gsl_vector_memcpy(x, &xv.vector);
		gsl_vector_memcpy(&gv.vector, &gtv.vector);
		f = fn;
	}
	return it;
}

/*
 * Newton steps with the full-data Hessian at x from a converged fit, down
 * to CLV_REFINE_FACTOR times the tolerance; x moves only to points that
 * lower the objective, and stays where it is if the Hessian there is not
 * positive definite.  Returns the passes used.
 */
static int
refine(FitProblem *fp, gsl_vector *x, const ClvFitOptions *opt)
{
	double		h[CLV_MAX_PARAMS * CLV_MAX_PARAMS],
				lp[CLV_MAX_PARAMS];
	ClvFitOptions tight = *opt;
	bool		conv;

	for (int i = 0; i < fp->np; i++)
		lp[i] = gsl_vector_get(x, i);
	if (!numerical_hessian(fp, lp, h) || !cholesky(h, fp->np))
		return 0;
	tight.tolerance = opt->tolerance * CLV_REFINE_FACTOR;
	return newton_polish(fp, x, h, &tight, &conv);
}

/*
 * Observed information in log-parameters (the unpenalised -LL), inverted
 * through its Cholesky factor: the asymptotic covariance of the
 * log-parameters, kept whole in *cov (np x np, row-major) for the
 * prediction intervals.  The delta method gives se(p) = p * se(log p).
 * NaN standard errors and *has_cov false where not positive definite.
 */
static void
standard_errors(FitProblem *fp, const double *logp, double *se, double *cov,
				bool *has_cov)
{
	FitProblem	unpen = *fp;
	double		h[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	int			np = fp->np;
	gsl_matrix_view m = gsl_matrix_view_array(h, np, np);

	unpen.penalizer = 0;
	*has_cov = false;
	for (int i = 0; i < np; i++)
		se[i] = NAN;
	if (!numerical_hessian(&unpen, logp, h))
		return;
	for (int i = 0; i < np * np; i++)
		h[i] *= fp->wsum;
	if (!cholesky(h, np) || gsl_linalg_cholesky_invert(&m.matrix) != GSL_SUCCESS)
		return;
	for (int i = 0; i < np; i++)
	{
		double		var = h[i * np + i];

		se[i] = (var > 0 && isfinite(var)) ? exp(logp[i]) * sqrt(var) : NAN;
	}
	*has_cov = true;
	for (int i = 0; i < np * np; i++)
		if (!isfinite(h[i]))
			*has_cov = false;
	for (int i = 0; i < np; i++)
		if (isnan(se[i]))
			*has_cov = false;
	if (*has_cov)
	{
		/* symmetric by construction; average away the rounding */
		for (int i = 0; i < np; i++)
			for (int j = 0; j < np; j++)
				cov[i * np + j] = 0.5 * (h[i * np + j] + h[j * np + i]);
	}
	fp->nevals = unpen.nevals;
}

static void
append_message(ClvFitResult *res, const char *msg)
{
	size_t		len = strlen(res->message);

	snprintf(res->message + len, sizeof(res->message) - len, "%s%s",
			 len > 0 ? "; " : "", msg);
}

/*
 * Tries the starting points in turn and keeps the best converged result (or
 * the best one at all); stops at the first converged start, since on these
 * likelihoods the optimum is unique in practice and speed matters on 1M rows.
 */
bool
clv_fit(ClvModelKind kind, const ClvObs *obs, size_t nobs,
		const ClvFitOptions *opt, ClvFitResult *res)
{
	const ClvModelInfo *mi = clv_model_info(kind);
	double		starts[CLV_MAX_STARTS][CLV_MAX_PARAMS];
	int			nstarts;
	FitProblem	fp;
	double		best_f = GSL_POSINF;
	double		best[CLV_MAX_PARAMS] = {0};
	int			best_start = -1;
	bool		best_conv = false;
	int			total_iter = 0;
	gsl_vector *volatile x = NULL;
	char		buf[160];
	ClvObs	   *sub = NULL;
	FitProblem	sub_fp;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		res->params[i] = res->std_errors[i] = NAN;
	res->loglik = NAN;

	fp.model = mi;
	fp.obs = obs;
	fp.nobs = nobs;
	fp.np = mi->nparams;
	fp.penalizer = opt->penalizer;
	fp.nevals = 0;
	fp.start = 0;
	fp.nstarts = 0;
	fp.sample = "full data";
	fp.wsum = 0;
	for (size_t i = 0; i < nobs; i++)
		fp.wsum += obs[i].w;
	if (!(fp.wsum > 0))
	{
		snprintf(res->message, sizeof(res->message), "no observations to fit");
		return false;
	}
	nstarts = clv_fit_starts(kind, obs, nobs, starts, CLV_MAX_STARTS);
	fp.nstarts = nstarts;

	/* rows are ordered by frequency and t: every k-th row spans them all */
	if (nobs >= CLV_SUBSAMPLE_MIN)
	{
		size_t		k = nobs / CLV_SUBSAMPLE_ROWS;
		size_t		nsub = 0;

		sub = palloc(mul_size(nobs / k + 1, sizeof(ClvObs)));
		for (size_t i = 0; i < nobs; i += k)
			sub[nsub++] = obs[i];
		sub_fp = fp;
		sub_fp.obs = sub;
		sub_fp.nobs = nsub;
		sub_fp.wsum = 0;
		sub_fp.sample = "subsample";
		for (size_t i = 0; i < nsub; i++)
			sub_fp.wsum += sub[i].w;
	}

	x = gsl_vector_alloc(fp.np);
	if (x == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory allocating the parameter vector")));
	PG_TRY();
	{
		/*
		 * With a subsample, each start gets the cheap treatment (subsample
		 * fit, Newton on the full data); the full-data BFGS runs only once,
		 * from the best point, if no start converged that way.
		 */
		for (int k = 0; k <= nstarts && !best_conv; k++)
		{
			bool		conv = false;
			double		f;
			int			start_iter = total_iter;

			fp.start = sub_fp.start = k < nstarts ? k : best_start;
			if (k == nstarts)
			{
				if (!sub || best_start < 0)
					break;
				for (int i = 0; i < fp.np; i++)
					gsl_vector_set(x, i, best[i]);
				report_start(&fp, opt, x);
				total_iter += minimise(&fp, x, opt, &conv);
				if (conv)
					total_iter += refine(&fp, x, opt);
			}
			else
			{
				for (int i = 0; i < fp.np; i++)
					gsl_vector_set(x, i, log(starts[k][i]));
				report_start(sub ? &sub_fp : &fp, opt, x);
				if (sub)
				{
					double		h[CLV_MAX_PARAMS * CLV_MAX_PARAMS],
								lp[CLV_MAX_PARAMS];

					total_iter += minimise(&sub_fp, x, opt, &conv);
					for (int i = 0; i < fp.np; i++)
						lp[i] = gsl_vector_get(x, i);
					conv = false;
					if (numerical_hessian(&sub_fp, lp, h) && cholesky(h, fp.np))
						total_iter += newton_polish(&fp, x, h, opt, &conv);
				}
				else
				{
					total_iter += minimise(&fp, x, opt, &conv);
					if (conv)
						total_iter += refine(&fp, x, opt);
				}
			}
			f = fit_objective(x, &fp, NULL);
			report(&fp, opt, conv ? "end, converged" : "end, not converged",
				   total_iter - start_iter, f);
			if (isfinite(f) && (f < best_f || (conv && !best_conv)))
			{
				best_f = f;
				best_conv = conv;
				if (k < nstarts)
					best_start = k;
				for (int i = 0; i < fp.np; i++)
					best[i] = gsl_vector_get(x, i);
			}
		}
	}
	PG_FINALLY();
	{
		gsl_vector_free(x);
	}
	PG_END_TRY();
	if (sub)
		pfree(sub);

	res->iterations = total_iter;
	res->evaluations = fp.nevals;
	if (best_start < 0)
	{
		snprintf(res->message, sizeof(res->message),
				 "the likelihood could not be evaluated at any starting point");
		return false;
	}
	for (int i = 0; i < fp.np; i++)
		res->params[i] = exp(best[i]);
	res->loglik = mi->loglik_grad(mi, res->params, obs, nobs, NULL);
	res->converged = best_conv;
	standard_errors(&fp, best, res->std_errors, res->covariance,
					&res->has_covariance);

	if (!best_conv)
	{
		gsl_vector_view bv = gsl_vector_view_array(best, fp.np);

		snprintf(buf, sizeof(buf), "not converged after %d iterations (gradient norm %.3g)",
				 total_iter, grad_norm(&bv.vector, &fp));
		append_message(res, buf);
	}
	res->stuck_at_start = true;
	for (int i = 0; i < fp.np; i++)
		if (fabs(res->params[i] - starts[best_start][i]) >
			CLV_STUCK_RELATIVE * starts[best_start][i])
			res->stuck_at_start = false;
	if (res->stuck_at_start)
	{
		res->converged = false;
		append_message(res, "estimates stuck at their start values");
	}
	for (int c = 0; c < mi->ncaveats; c++)
		if (res->params[mi->caveats[c].param] <= mi->caveats[c].at_most)
		{
			res->caveats |= 1u << c;
			append_message(res, mi->caveats[c].message);
		}
	for (int i = 0; i < fp.np; i++)
		if (isnan(res->std_errors[i]))
			res->singular = true;
	if (res->singular)
		append_message(res, "information matrix singular: some standard errors are NaN");
	return true;
}
