#!/usr/bin/env bash
# make bench: builds its own data, measures every figure next to a baseline
# measured in the same run, and writes test/bench/results/<name>.md; then
# assembles BENCHMARKS.md from all result files.
# Usage: bash tools/bench.sh [name ...]   (default: every test/bench/*.sh)
#        bash tools/bench.sh --assemble     (only rebuild BENCHMARKS.md)
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

clv_bench_assemble() {
	local pgversion
	pgversion=$(/usr/lib/postgresql/$PG_MAJOR/bin/postgres --version | awk '{print $3}')
	{
		echo "# clv benchmarks"
		echo
		echo "Written by \`make bench\` (tools/bench.sh) from test/bench/results/*.md; every figure was"
		echo "measured, each next to a baseline measured in the same run. Machine: $(nproc) cores,"
		echo "$(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $pgversion, $(gsl-config --version | sed 's/^/GSL /')."
		echo
		for f in test/bench/results/*.md; do
			cat "$f"
			echo
		done
	} >BENCHMARKS.md
	clv_log "wrote BENCHMARKS.md"
}

if [ "${1:-}" = --assemble ]; then
	clv_bench_assemble
	exit 0
fi

clv_ensure_packages $CLV_PKGS_BUILD $CLV_PKGS_TEST
clv_build
clv_stage
clv_start_cluster -c shared_buffers=2GB -c work_mem=256MB -c maintenance_work_mem=1GB \
	-c max_worker_processes=8 -c max_parallel_workers=2 -c max_parallel_workers_per_gather=2 \
	-c max_wal_size=8GB
clv_psql -c "CREATE EXTENSION clv"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in test/bench/*.sh; do
		[ "$(basename "$f")" != common.sh ] || continue	# shared helpers, not a benchmark
		names+=("$(basename "$f" .sh)")
	done
fi
for n in "${names[@]}"; do
	clv_log "bench: $n"
	bash "test/bench/$n.sh" >"test/bench/results/$n.md.new"
	mv "test/bench/results/$n.md.new" "test/bench/results/$n.md"
done

clv_bench_assemble
