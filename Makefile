# clv: customer-lifetime-value analytics for PostgreSQL (PGXS build)

EXTENSION = clv
# The version being developed.  Released versions' scripts are frozen in
# sql/ (sql/clv--0.1.sql, never edited again); sql/clv--A--B.sql upgrade
# one version to the next, and test/t/080_upgrade.pl checks that an upgrade
# from each released version gives the objects of a fresh install.
EXTVERSION = 0.2

MODULE_big = clv
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The extension script is assembled from one part per area (sql/ext/NN_area.sql)
# so that areas can evolve independently; the assembled file is a build output.
SQL_PARTS = $(sort $(wildcard sql/ext/*.sql))
DATA_built = clv--$(EXTVERSION).sql
DATA = $(wildcard sql/clv--*.sql)

# pg_regress inputs are test/sql/*.sql, expected outputs test/expected/*.out
# (pgvector's layout); sql/ holds only the extension script's parts.
REGRESS = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --load-extension=clv

GSL_CFLAGS := $(shell gsl-config --cflags)
GSL_LIBS := $(shell gsl-config --libs)
PG_CPPFLAGS = -I$(srcdir)/src $(GSL_CFLAGS)
# Warnings as postgresql-hll builds with (PostgreSQL 15's headers are clean
# under them).  -Werror only with WERROR=1 (tools/test.sh, so CI), so that a
# newer compiler's new warnings do not break users' builds.
CLV_WARNINGS = -Wall -Wextra -Wno-unused-parameter
PG_CFLAGS = -std=gnu99 $(CLV_WARNINGS) $(if $(filter 1,$(WERROR)),-Werror)
# XGBoost's C API (Debian libxgboost-dev: /usr/include/xgboost/c_api.h,
# libxgboost.so) for the supervised models (src/regressor.c), and the
# OpenMP runtime it runs on (src/regressor.c sets its default team size).
SHLIB_LINK = $(GSL_LIBS) -lxgboost -lgomp

# The tiers of src/ (flat, with family prefixes).  The math tier is plain C
# (libm, GSL) that knows nothing of PostgreSQL: test/c/math_check.c links it
# into a standalone program.  The core tier may use palloc, ereport and
# CHECK_FOR_INTERRUPTS but not fmgr or SPI; every other file is fmgr/SPI glue.
# `make check-tiers` (run by tools/test.sh) enforces both rules.
CLV_MATH_SRCS = src/bgbb.c src/bgnbd.c src/btyd.c src/gamma_gamma.c src/interval.c \
	src/offer.c src/pareto_nbd.c src/specfun.c
CLV_MATH_HDRS = src/btyd.h src/interval.h src/offer.h src/optim.h src/simulate.h src/specfun.h
CLV_CORE_SRCS = src/kmeans.c src/name_cache.c src/optim.c src/regressor.c src/simulate.c \
	src/summary.c

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out tmp_check \
	$(OBJS:.o=.d) .clv-cflags

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Track header dependencies (PGXS does not): a changed header rebuilds its users.
$(OBJS): CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)

# Objects also depend on the compiler flags: `make WERROR=1` (or a changed
# COPT) after a plain `make` recompiles everything instead of passing
# silently with the objects of the earlier flags.
CLV_FLAGS_LINE = $(CC) $(CFLAGS) $(CFLAGS_SL) $(CPPFLAGS)
.clv-cflags: FORCE
	@echo '$(CLV_FLAGS_LINE)' | cmp -s - $@ || echo '$(CLV_FLAGS_LINE)' > $@
$(OBJS): .clv-cflags
.PHONY: FORCE

$(DATA_built): $(SQL_PARTS) Makefile
	cat $(SQL_PARTS) > $@

# Developer entry points; the README's two commands call the scripts directly
# so that they also work on a machine where make is not yet installed.
.PHONY: demo test fuzz bench report report-apparel check-tiers valgrind indent prove_installcheck
demo:
	bash tools/demo.sh
test:
	bash tools/test.sh
fuzz:
	bash tools/fuzz.sh
bench:
	bash tools/bench.sh
# make report: the CDNOW sample; make report MODEL=... SOURCE=... with LOAD=file.sql
# (a throwaway cluster) or DSN=conninfo (an existing database, read-only), and
# optionally COMPARE, TRANSACTIONS, SEGMENTS, OUT (see tools/report.sh).
report:
	bash tools/report.sh $(if $(LOAD),--load '$(LOAD)') $(if $(DSN),--dsn '$(DSN)') \
		$(if $(MODEL),--model '$(MODEL)') $(if $(SOURCE),--source '$(SOURCE)') \
		$(if $(COMPARE),--compare '$(COMPARE)') $(if $(TRANSACTIONS),--transactions '$(TRANSACTIONS)') \
		$(if $(SEGMENTS),--segments '$(SEGMENTS)') $(if $(OUT),--out '$(OUT)')
# the CLVTools apparel data (report/apparel.sql) into report/out/apparel/
report-apparel:
	bash tools/report.sh --load report/apparel.sql --model apparel \
		--compare apparel_mbgnbd --compare apparel_pnbd --source apparel_customers \
		--transactions apparel_transactions --segments apparel_segments \
		--value-model apparel_all --value-source apparel_customers_all \
		--title 'CLVTools apparel' --out $(or $(OUT),report/out/apparel)

# The math tier compiles without PostgreSQL's include directories (so any
# PostgreSQL header, included directly or through another header, fails it);
# a core file must not include fmgr.h, funcapi.h or spi.h itself nor use
# PG_FUNCTION_ARGS, PG_GETARG or SPI (PostgreSQL's own headers may pull
# fmgr.h in: utils/datetime.h does).
check-tiers:
	@set -e; for f in $(CLV_MATH_SRCS); do \
		$(CC) -std=gnu99 -fsyntax-only -Isrc $(GSL_CFLAGS) $$f 2>$@.err || \
			{ cat $@.err; rm -f $@.err; echo "check-tiers: $$f is in the math tier (CLV_MATH_SRCS) but needs PostgreSQL headers"; exit 1; }; \
	done; \
	for h in $(CLV_MATH_HDRS); do \
		echo "#include \"$$h\"" | $(CC) -std=gnu99 -fsyntax-only -I. -Isrc $(GSL_CFLAGS) -x c - 2>$@.err || \
			{ cat $@.err; rm -f $@.err; echo "check-tiers: $$h is in the math tier (CLV_MATH_HDRS) but needs PostgreSQL headers"; exit 1; }; \
	done; \
	for f in $(CLV_CORE_SRCS); do \
		if grep -nE '^#include "(fmgr|funcapi|executor/spi)\.h"|PG_FUNCTION_ARGS|PG_GETARG|SPI_' $$f; then \
			echo "check-tiers: $$f is in the core tier (CLV_CORE_SRCS) but uses fmgr or SPI"; exit 1; fi; \
	done; \
	rm -f $@.err; \
	echo "check-tiers: $(words $(CLV_MATH_SRCS)) math files and $(words $(CLV_MATH_HDRS)) headers free of PostgreSQL, $(words $(CLV_CORE_SRCS)) core files free of fmgr"

# pg_regress of the summary and model tests against a server running under
# valgrind (tools/valgrind.sh; TESTS="..." picks other regression files).
valgrind:
	bash tools/valgrind.sh $(TESTS)

# pgindent with PostgreSQL's typedefs (PG_TYPEDEFS, src/tools/pgindent/
# typedefs.list of a PostgreSQL 15 source tree) and ours (typedefs.list, one
# name a line: add a new typedef there).  pgindent and pg_bsd_indent are not
# packaged by Debian; without them the target says how to get them.
PGINDENT ?= pgindent
PG_BSD_INDENT ?= pg_bsd_indent
PG_TYPEDEFS ?= /tmp/pg/src/tools/pgindent/typedefs.list
indent:
	@if command -v $(PGINDENT) >/dev/null 2>&1 && command -v $(PG_BSD_INDENT) >/dev/null 2>&1 \
		&& [ -f '$(PG_TYPEDEFS)' ]; then \
		sort -u '$(PG_TYPEDEFS)' typedefs.list > .typedefs.all && \
		$(PGINDENT) --indent=$$(command -v $(PG_BSD_INDENT)) --typedefs=.typedefs.all \
			src/*.c src/*.h test/c/*.c; rc=$$?; rm -f .typedefs.all; exit $$rc; \
	else \
		echo "make indent needs pgindent and pg_bsd_indent on PATH and PostgreSQL's typedefs.list"; \
		echo "(Debian packages none of them).  From PostgreSQL 15's sources:"; \
		echo "  git clone --depth 1 -b REL_15_STABLE https://git.postgresql.org/git/postgresql.git /tmp/pg"; \
		echo "  git clone https://git.postgresql.org/git/pg_bsd_indent.git /tmp/pg_bsd_indent"; \
		echo "  make -C /tmp/pg_bsd_indent PG_CONFIG=$(PG_CONFIG)    # a PGXS program"; \
		echo "  install /tmp/pg_bsd_indent/pg_bsd_indent /tmp/pg/src/tools/pgindent/pgindent /usr/local/bin/"; \
		echo "then: make indent  (PG_TYPEDEFS=$(PG_TYPEDEFS) by default)."; \
		echo "pgindent checks that pg_bsd_indent is the version it was written for; PostgreSQL 16"; \
		echo "and later carry pg_bsd_indent in src/tools/pg_bsd_indent of the same tree."; \
		exit 1; \
	fi

# The Perl TAP tests (test/t/*.pl) with PGXS's prove_installcheck, against
# the PostgreSQL of PG_CONFIG where clv is installed (`make install` first;
# not as root: initdb refuses it).  tools/test.sh runs the same tests (and
# the Python oracles) against a private staged installation instead.
prove_installcheck: export CLV_ROOT := $(abspath $(srcdir))
prove_installcheck: PROVE_TESTS = $(or $(TESTS),test/t/*.pl)
prove_installcheck:
	$(prove_installcheck)
