#!/usr/bin/env bash
# Long fuzzing of clv against a throwaway cluster (`make fuzz`):
#   1. test/oracle/function_fuzz.py (the suite's fuzz test of every clv
#      function) with many more calls and a random seed, printed so that a
#      failure can be replayed with CLV_FUZZ_SEED=...;
#   2. Debian's sqlsmith (random SQL over the same database: its tables,
#      the trained models and every clv function) for a bounded time, as an
#      unprivileged role;
#   3. the server log: any backend terminated by a signal, PANIC or failed
#      assertion (TRAP) is a failure.
# Exits non-zero if the fuzz test failed or the server crashed.
# Settings (environment):
#   CLV_FUZZ_SEED        seed of the fuzz test (default: random)
#   CLV_FUZZ_CALLS       calls of the fuzz test (default 100000)
#   CLV_SQLSMITH_SECONDS how long sqlsmith runs (default 300)
#   CLV_SQLSMITH_QUERIES at most this many sqlsmith queries (default 1000000)
#   CLV_SQLSMITH_SEED    sqlsmith's seed (default: the fuzz seed)
#   CLV_KEEP=1           keep the run directory (cluster, logs) afterwards
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

seed=${CLV_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
calls=${CLV_FUZZ_CALLS:-100000}
smith_seconds=${CLV_SQLSMITH_SECONDS:-300}
smith_queries=${CLV_SQLSMITH_QUERIES:-1000000}
smith_seed=${CLV_SQLSMITH_SEED:-$((seed % 2147483647))}
db=clv_function_fuzz	# created by the fuzz test, with its tables and models

clv_ensure_packages $CLV_PKGS_BUILD $CLV_PKGS_TEST sqlsmith
clv_build
clv_stage
clv_start_cluster
log=$CLV_TMP/server.log
# the SQLSTATE in every log line, to find internal errors (XX000)
clv_psql -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %e '" -c 'SELECT pg_reload_conf()' >/dev/null
failed=0

# Lines of the server log after byte offset $1 that report a crash.
crashes_since() {
	tail -c +"$(($1 + 1))" "$log" |
		grep -E 'LOG: .*\(PID [0-9]+\) was terminated by signal|\] ([0-9A-Z]{5} )?PANIC:|^TRAP:|Failed process was running' || true
}

# Internal errors (SQLSTATE class XX) after byte offset $1 in statements
# that call a clv function, with the statement.
internal_errors_since() {
	tail -c +"$(($1 + 1))" "$log" | awk '
		function flush() {
			if (stmt ~ /clv_[a-z_]+\(/) print err "\n    " substr(stmt, 1, 600)
			err = ""; stmt = ""; instmt = 0
		}
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / && instmt { flush() }
		/\] XX[0-9A-Z][0-9A-Z][0-9A-Z] ERROR:/ { err = $0; next }
		/\] [0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z] ERROR:/ { err = ""; next }
		err != "" && /\] [0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z] STATEMENT:/ { instmt = 1; stmt = $0; next }
		instmt { stmt = stmt " " $0 }
		END { if (instmt) flush() }'
}

clv_log "fuzz test: $calls calls, seed $seed (replay with CLV_FUZZ_SEED=$seed CLV_FUZZ_CALLS=$calls)"
set +e
CLV_ROOT="$CLV_ROOT" CLV_SERVER_LOG="$log" CLV_FUZZ_SEED="$seed" CLV_FUZZ_CALLS="$calls" \
	/usr/bin/python3 test/oracle/function_fuzz.py >"$CLV_TMP/fuzz.tap" 2>&1
fuzz_rc=$?
set -e
grep -v '^ok ' "$CLV_TMP/fuzz.tap" || true
fuzz_bad=$(grep -c '^not ok ' "$CLV_TMP/fuzz.tap" || true)
fuzz_ok=$(grep -c '^ok ' "$CLV_TMP/fuzz.tap" || true)
clv_log "fuzz test: $fuzz_ok ok, $fuzz_bad not ok (seed $seed)"
if [ "$fuzz_rc" -ne 0 ]; then failed=1; fi

# sqlsmith as a role without superuser rights (it calls every function it
# finds, pg_terminate_backend and lo_export included) that may read the
# tables and train, replace and drop models.
clv_psql -d "$db" <<'SQL'
CREATE ROLE clv_smith LOGIN;
ALTER ROLE clv_smith SET statement_timeout = '1s';
GRANT SELECT ON ALL TABLES IN SCHEMA public TO clv_smith;
GRANT INSERT, UPDATE, DELETE ON clv_models TO clv_smith;
SQL
smith_from=$(stat -c %s "$log")
clv_log "sqlsmith: at most ${smith_seconds} s and $smith_queries queries, seed $smith_seed"
set +e
timeout --signal=INT --kill-after=30 "$smith_seconds" \
	sqlsmith --target="host=$PGHOST port=$PGPORT dbname=$db user=clv_smith" \
	--seed="$smith_seed" --max-queries="$smith_queries" --exclude-catalog --verbose \
	>"$CLV_TMP/sqlsmith.log" 2>&1
smith_rc=$?
set -e
# its last report: queries so far, then the most frequent errors
tr '\r' '\n' <"$CLV_TMP/sqlsmith.log" |
	awk '/^queries:/ { n = 0; q = $0; delete e } /^[0-9]+\t/ && n < 10 { e[n++] = $0 }
		 END { print q; for (i = 0; i < n; i++) print e[i] }'
# timeout's 124 is the normal end; sqlsmith itself exits 0 after --max-queries
if [ "$smith_rc" -ne 0 ] && [ "$smith_rc" -ne 124 ]; then
	clv_log "sqlsmith exited with status $smith_rc (see above)"
fi
if ! clv_psql -d "$db" -c 'SELECT 1' >/dev/null; then
	clv_log "the server does not answer after sqlsmith"
	failed=1
else
	# a query of sqlsmith's still running well past its 1 s statement_timeout
	# ignores cancellation
	sleep 3
	stuck=$(clv_psql -d "$db" -At -c "SELECT pid || ': ' || left(query, 2000) FROM pg_stat_activity
		WHERE usename = 'clv_smith' AND state = 'active' AND now() - query_start > interval '5 s'")
	if [ -n "$stuck" ]; then
		clv_log "sqlsmith queries still running long after statement_timeout = 1s:"
		printf '%s\n' "$stuck"
		failed=1
	fi
fi

internal=$(internal_errors_since "$smith_from")
if [ -n "$internal" ]; then
	# reported, not failed: sqlsmith's random SQL also reaches PostgreSQL's
	# own internal errors, in statements that merely mention clv
	clv_log "internal errors (XX) during sqlsmith in statements that call clv functions:"
	printf '%s\n' "$internal" | head -40
fi
crashes=$(crashes_since "$smith_from")
if [ -n "$crashes" ]; then
	clv_log "server crashes during sqlsmith:"
	printf '%s\n' "$crashes"
	failed=1
else
	clv_log "server log: no crash during sqlsmith"
fi

if [ "$failed" -ne 0 ]; then
	clv_log "FUZZ FAILED (fuzz seed $seed, sqlsmith seed $smith_seed; CLV_KEEP=1 keeps $CLV_TMP)"
	exit 1
fi
clv_log "fuzz: no failure (fuzz seed $seed, sqlsmith seed $smith_seed)"
