# clv: customer-lifetime-value analytics for PostgreSQL (PGXS build)

EXTENSION = clv
EXTVERSION = 0.1

MODULE_big = clv
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The extension script is assembled from one part per area (sql/ext/NN_area.sql)
# so that areas can evolve independently; the assembled file is a build output.
SQL_PARTS = $(sort $(wildcard sql/ext/*.sql))
DATA_built = clv--$(EXTVERSION).sql

# pg_regress inputs are sql/*.sql (not sql/ext); outputs in expected/.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=clv

GSL_CFLAGS := $(shell gsl-config --cflags)
GSL_LIBS := $(shell gsl-config --libs)
PG_CPPFLAGS = -I$(srcdir)/src $(GSL_CFLAGS)
PG_CFLAGS = -std=gnu99
# XGBoost's C API (Debian libxgboost-dev: /usr/include/xgboost/c_api.h,
# libxgboost.so) for the supervised models (src/regressor.c), and the
# OpenMP runtime it runs on (src/regressor.c sets its default team size).
SHLIB_LINK = $(GSL_LIBS) -lxgboost -lgomp

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Track header dependencies (PGXS does not): a changed header rebuilds its users.
$(OBJS): CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)

$(DATA_built): $(SQL_PARTS) Makefile
	cat $(SQL_PARTS) > $@

# Developer entry points; the README's two commands call the scripts directly
# so that they also work on a machine where make is not yet installed.
.PHONY: demo test fuzz bench report report-apparel
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
