#!/usr/bin/env bash
# make report: the validation report on the bundled CDNOW sample.  Sets up
# like tools/demo.sh (installs what is missing, builds clv, installs it into a
# private copy of PostgreSQL, starts a throwaway cluster), then
# report/render.sh fits the models and draws the charts with gnuplot into
# report/out/ (index.html links them).
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

clv_ensure_packages $CLV_PKGS_BUILD gnuplot-nox
clv_build
clv_stage
clv_start_cluster
clv_psql -c "CREATE EXTENSION clv"
bash report/render.sh
clv_log "open report/out/index.html"
