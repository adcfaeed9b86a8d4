#!/usr/bin/env bash
# make report: the validation report of a trained model, drawn with gnuplot
# by report/render.sh into report/out/ (index.html links the charts).
#
#   bash tools/report.sh
#       the bundled CDNOW sample: builds clv, installs it into a private copy
#       of PostgreSQL, starts a throwaway cluster, loads report/cdnow.sql
#       (transactions, summaries, models) and renders.
#   bash tools/report.sh --load FILE.sql [--load ...] --model NAME --source SUMMARY [options]
#       your data in the same throwaway cluster: each FILE.sql runs first
#       (psql, from the directory you call this script in, so \copy paths are
#       relative to it) and must create the tables and train the models it
#       names; report/apparel.sql is an example (make report-apparel).
#   bash tools/report.sh --dsn CONNINFO --model NAME --source SUMMARY [options]
#       your existing database, where clv is installed and the models are
#       trained: nothing is built or started, and the report only reads (every
#       statement runs in a read-only transaction).
#
# The options (--compare, --transactions, --segments, --value-model,
# --value-source, --horizon, --discount, --currency, --title, --out, the
# calibration split) are described at the top of report/render.sh.
source "$(dirname "$0")/lib.sh"
CALLER_DIR=$PWD
cd "$CLV_ROOT"

LOADS=()
DSN=""
HAVE_MODEL=no
RENDER=()
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "tools/report.sh: $1 needs a value" >&2; exit 2; }
	case "$1" in
	--load)
		case "$2" in /*) LOADS+=("$2") ;; *) LOADS+=("$CALLER_DIR/$2") ;; esac ;;
	--dsn) DSN=$2 ;;
	--out)
		case "$2" in /*) RENDER+=(--out "$2") ;; *) RENDER+=(--out "$CALLER_DIR/$2") ;; esac ;;
	--model) HAVE_MODEL=yes; RENDER+=("$1" "$2") ;;
	--source | --compare | --transactions | --segments | --value-model | --value-source | --calibration-end | \
		--observation-end | --horizon | --discount | --currency | --title) RENDER+=("$1" "$2") ;;
	*) echo "tools/report.sh: unknown option $1 (see the comments at the top of tools/report.sh and report/render.sh)" >&2; exit 2 ;;
	esac
	shift 2
done

if [ "$HAVE_MODEL" = no ]; then
	if [ -n "$DSN" ] || [ ${#LOADS[@]} -gt 0 ]; then
		echo "tools/report.sh: with --dsn or --load, name the model and its summary: --model NAME --source SUMMARY" >&2
		exit 2
	fi
	# the default: the CDNOW sample, BG/NBD against Pareto/NBD
	LOADS=("$CLV_ROOT/report/cdnow.sql")
	RENDER=(--model cdnow --compare cdnow_pnbd --source cdnow_customers --transactions cdnow_transactions
		--segments cdnow_segments --value-model cdnow_all --value-source cdnow_customers_all
		--title "CDNOW sample" --currency 'US$' "${RENDER[@]}")
fi

if [ -n "$DSN" ]; then
	if [ ${#LOADS[@]} -gt 0 ]; then
		echo "tools/report.sh: --dsn renders from an existing database read-only; --load is for the throwaway cluster" >&2
		exit 2
	fi
	clv_ensure_packages gnuplot-nox
	PGOPTIONS="${PGOPTIONS:-} -c default_transaction_read_only=on" bash report/render.sh --dsn "$DSN" "${RENDER[@]}"
	exit 0
fi

clv_ensure_packages $CLV_PKGS_BUILD gnuplot-nox
clv_build
clv_stage
clv_start_cluster
clv_psql -c "CREATE EXTENSION clv"
for f in "${LOADS[@]}"; do
	clv_log "loading $f"
	# the bundled examples' \copy paths are relative to the repository root
	dir=$CALLER_DIR
	[[ "$f" != "$CLV_ROOT/report/"* ]] || dir=$CLV_ROOT
	(cd "$dir" && clv_psql -f "$f" >/dev/null)
done
bash report/render.sh "${RENDER[@]}"
