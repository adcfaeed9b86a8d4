# Helpers for test/bench/*.sh (sourced).  Each bench script prints one
# markdown section on stdout; timings come from psql's \timing.

# Milliseconds of the last statement of a psql script given on stdin.
bench_ms() {
	psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -f - 2>&1 | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' | tail -1
}

# Best (minimum) of N runs of the same SQL.
bench_best_ms() {
	local n=$1 sql=$2 best="" t
	for _ in $(seq "$n"); do
		t=$(printf '%s\n' "$sql" | bench_ms)
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
	done
	echo "$best"
}

# Format milliseconds as seconds with 2 decimals.
bench_s() { awk -v ms="$1" 'BEGIN{printf "%.2f s", ms/1000}'; }
