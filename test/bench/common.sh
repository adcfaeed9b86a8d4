# Helpers for test/bench/*.sh (sourced).  Each bench script prints one
# markdown section on stdout; timings come from psql's \timing.

# Milliseconds of the last statement of a psql script given on stdin.  A
# failing statement stops the benchmark (psql's \timing also times a
# statement that fails: its time is no figure).
bench_ms() {
	local out
	if ! out=$(psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -f - 2>&1); then
		printf 'bench: a timed statement failed:\n%s\n' "$out" >&2
		return 1
	fi
	sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | tail -1
}

# Best (minimum) of N runs of the same SQL.
bench_best_ms() {
	local n=$1 sql=$2 best="" t
	for _ in $(seq "$n"); do
		t=$(printf '%s\n' "$sql" | bench_ms) || return 1
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
	done
	echo "$best"
}

# Format milliseconds as seconds with 2 decimals.
bench_s() { awk -v ms="$1" 'BEGIN{printf "%.2f s", ms/1000}'; }
