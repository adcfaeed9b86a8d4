#!/usr/bin/env bash
# pg_regress under valgrind: a throwaway server runs under
#   valgrind --trace-children=yes (every backend it forks is instrumented)
# with PostgreSQL's suppression file (test/valgrind/postgresql.supp), some
# regression files run against it, and the run fails when valgrind reports an
# error with a stack frame in clv's code (clv.so or one of src/*.c).  Errors
# whose stacks are PostgreSQL's, libc's or GSL's alone are counted and ignored:
# the Debian server is not built with USE_VALGRIND, so palloc'd memory is only
# tracked the first time a block comes from malloc.
#
# Usage: bash tools/valgrind.sh [regress-test ...]
#   (default: the summary, fit, predict, train and predict-by-name files; the
#   whole list in $CLV_VALGRIND_TESTS).  Ends with one line
#   "valgrind: N errors in clv code (M elsewhere, ignored) in T tests".
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

CLV_VALGRIND_TESTS=${CLV_VALGRIND_TESTS:-"00_install 10_summary 20_train 21_predict_by_name 26_predict"}
tests=${*:-$CLV_VALGRIND_TESTS}

clv_ensure_packages $CLV_PKGS_BUILD valgrind
clv_build
clv_stage

export PGHOST=$CLV_TMP PGPORT=54331 PGUSER=postgres PGDATABASE=postgres
vg_dir=$CLV_TMP/valgrind
mkdir -p "$vg_dir"
clv_is_root && chown -R postgres: "$CLV_TMP"
clv_as_pg "$CLV_PGBIN/initdb" -D "$CLV_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null

# The server in the foreground of a background job (pg_ctl cannot put valgrind
# in front of postgres); stopped with pg_ctl, which reads postmaster.pid.
# The server runs as postgres in the run's own directory, with its own copy
# of the suppressions: the checkout may be unreadable to that user (a
# mode-700 clone, as CI's mktemp -d makes).
cp "$CLV_ROOT/test/valgrind/postgresql.supp" "$vg_dir/postgresql.supp"
clv_is_root && chown postgres: "$vg_dir/postgresql.supp"
cd "$CLV_TMP"
clv_log "starting postgres under valgrind (slow: every backend is instrumented)"
clv_as_pg valgrind --quiet --trace-children=yes --leak-check=no --error-limit=no \
	--num-callers=40 --fullpath-after= \
	--suppressions="$vg_dir/postgresql.supp" \
	--log-file="$vg_dir/%p.log" \
	"$CLV_PGBIN/postgres" -D "$CLV_TMP/data" -k "$CLV_TMP" -p "$PGPORT" \
	-c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
	-c max_parallel_workers_per_gather=0 \
	>"$CLV_TMP/server.log" 2>&1 &
vg_pid=$!
for _ in $(seq 1 240); do
	"$CLV_PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" && break
	kill -0 "$vg_pid" 2>/dev/null || { cat "$CLV_TMP/server.log"; exit 1; }
	sleep 0.5
done
"$CLV_PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" || { clv_log "server did not start"; cat "$CLV_TMP/server.log"; exit 1; }

clv_log "pg_regress under valgrind: $tests"
cd "$CLV_ROOT"
set +e
make -s installcheck REGRESS="$tests" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
	EXTRA_REGRESS_OPTS="--outputdir=$CLV_TMP/regress" 2>&1 | tee "$CLV_TMP/regress.log"
regress_rc=${PIPESTATUS[0]}
set -e
[ "$regress_rc" -eq 0 ] || { [ -f "$CLV_TMP/regress/regression.diffs" ] && head -100 "$CLV_TMP/regress/regression.diffs"; }

clv_as_pg "$CLV_PGBIN/pg_ctl" -D "$CLV_TMP/data" -m fast -w -s -t 300 stop || true
wait "$vg_pid" || true

# An error is a block of "==pid== " lines ended by a bare "==pid==" line; it
# is clv's when one of its frames is in clv.so or in one of clv's sources.
# (--fullpath-after= makes valgrind print the full path of a source file, so
# a PostgreSQL file of the same name, were its debug symbols installed, does
# not count.)
report=$(awk -v srcdir="($CLV_ROOT/src/" '
	function flush() {
		if (n > 0) {
			if (is_clv) { clv++; print block > "/dev/stderr" } else other++
		}
		n = 0; is_clv = 0; block = ""
	}
	FNR == 1 { flush() }
	/^==[0-9]+==[ \t]*$/ { flush(); next }
	/^==[0-9]+== / {
		n++; block = block $0 "\n"
		if ($0 ~ /clv\.so\)/ || index($0, srcdir) > 0) is_clv = 1
		next
	}
	END { flush(); printf "%d %d\n", clv + 0, other + 0 }
' "$vg_dir"/*.log 2>"$CLV_TMP/clv_errors.txt")
read -r n_clv n_other <<<"$report"
n_logs=$(ls "$vg_dir"/*.log | wc -l)
if [ "$n_clv" -gt 0 ]; then
	cat "$CLV_TMP/clv_errors.txt"
fi
n_tests=$(wc -w <<<"$tests")
echo "valgrind: $n_clv errors in clv code ($n_other elsewhere, ignored) in $n_tests tests, $n_logs processes"
[ "$regress_rc" -eq 0 ] || { echo "valgrind: pg_regress failed under valgrind"; exit 1; }
[ "$n_clv" -eq 0 ]
