#!/usr/bin/env bash
# Runs every test suite of clv against a throwaway cluster and ends with one
# summary line: "tests: N passed, N failed".
#   pg_regress  test/sql/*.sql against test/expected/*.out  (one test per file)
#   valgrind    tools/valgrind.sh: some pg_regress files under valgrind (one test)
#   TAP         test/t/*.pl (PostgreSQL::Test::Cluster) and test/oracle/*.py
#               (independent Python oracles that print TAP)
# Usage: bash tools/test.sh [pattern]   (pattern filters the TAP/oracle files)
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

clv_ensure_packages $CLV_PKGS_BUILD $CLV_PKGS_TEST
export CLV_WERROR=1	# -Werror for every make of this run (the objects depend on the flags)
clv_build
make -s -C "$CLV_ROOT" check-tiers
clv_stage
clv_start_cluster -c max_worker_processes=8 -c max_parallel_workers=4

passed=0
failed=0

# pg_regress: one line per test, "ok" or "FAILED".
clv_log "pg_regress"
regress_log=$CLV_TMP/regress.log
set +e
make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" >"$regress_log" 2>&1
regress_rc=$?
set -e
cat "$regress_log"
r_ok=$(grep -cE '\.\.\. ok ' "$regress_log" || true)
r_bad=$(grep -cE '\.\.\. FAILED' "$regress_log" || true)
if [ "$regress_rc" -ne 0 ]; then
	[ "$r_bad" -gt 0 ] || r_bad=1
	[ -f regression.diffs ] && head -200 regression.diffs
fi
passed=$((passed + r_ok))
failed=$((failed + r_bad))

filter=${1:-}

# valgrind: pg_regress of the summary and model files against a server under
# valgrind (tools/valgrind.sh); one test, failed by any error in clv's code.
if [ -z "$filter" ] || [[ valgrind == *"$filter"* ]]; then
	clv_log "valgrind (pg_regress of the summary and model tests under valgrind)"
	vg_log=$CLV_TMP/valgrind.log
	if bash tools/valgrind.sh >"$vg_log" 2>&1; then
		passed=$((passed + 1))
		echo "valgrind ... ok: $(tail -1 "$vg_log")"
	else
		failed=$((failed + 1))
		tail -80 "$vg_log"
		echo "valgrind ... FAILED"
	fi
fi

# TAP: Perl tests with their own clusters, then the Python oracles against
# the shared throwaway cluster.
tap_files=()
for f in test/t/*.pl test/oracle/*.py; do
	[ -e "$f" ] || continue
	[ "$(basename "$f")" != clvtap.py ] || continue	# the oracles' shared module
	[ -z "$filter" ] || [[ "$f" == *"$filter"* ]] || continue
	tap_files+=("$f")
done
if [ ${#tap_files[@]} -gt 0 ]; then
	clv_log "TAP: ${#tap_files[@]} files"
	tap_log=$CLV_TMP/tap.log
	mkdir -p "$CLV_TMP/tap"
	clv_is_root && chown postgres: "$CLV_TMP/tap"
	# The TAP tests run as the postgres OS user (initdb refuses root), which
	# may not be able to read this checkout (a private clone directory): they
	# run from a copy of the tree inside the run's own directory.
	tap_root=$CLV_TMP/tree
	mkdir -p "$tap_root"
	tar -C "$CLV_ROOT" --exclude=.git --exclude=results -cf - . | tar -C "$tap_root" -xf -
	clv_is_root && chown -R postgres: "$tap_root"
	set +e
	(cd "$tap_root" && clv_as_pg env PATH="$CLV_PGBIN:$PATH" \
		PERL5LIB="/usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/perl" \
		TESTDIR="$CLV_TMP/tap" PG_REGRESS=/usr/lib/postgresql/$PG_MAJOR/lib/pgxs/src/test/regress/pg_regress \
		CLV_ROOT="$tap_root" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		prove --norc --timer --exec "$tap_root/tools/tap-exec" "${tap_files[@]}") 2>&1 | tee "$tap_log"
	tap_rc=${PIPESTATUS[0]}
	set -e
	t_total=$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+),.*/\1/p' "$tap_log" | tail -1)
	t_total=${t_total:-0}
	t_bad=$(sed -nE 's/.*Failed ([0-9]+)\/[0-9]+ subtests.*/\1/p' "$tap_log" | awk '{s+=$1} END {print s+0}')
	if [ "$tap_rc" -ne 0 ] && [ "$t_bad" -eq 0 ]; then
		t_bad=1
	fi
	passed=$((passed + t_total - t_bad))
	failed=$((failed + t_bad))
fi

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
