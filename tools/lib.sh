# Shared set-up for tools/demo.sh, tools/test.sh and tools/bench.sh.
#
# Installs what is missing (Debian 12 packages), builds clv, and runs a
# throwaway PostgreSQL 15 cluster.  In "stage" mode clv is installed into a
# private relocated copy of PostgreSQL under a temporary directory, so a test
# run never touches (or depends on) the system-wide installation and several
# checkouts can run their suites side by side.  In "system" mode (the demo)
# clv is installed into the system PostgreSQL as `make install` would.

set -euo pipefail

CLV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PG_SYS_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
# Build against the system PostgreSQL even when a staged copy's bin/ is first
# on PATH (as inside the test suite).
export PG_CONFIG=${PG_CONFIG:-$PG_SYS_BIN/pg_config}

# Packages per purpose.  Build and run first (GSL, XGBoost's C library); the
# test oracles (scipy, scikit-learn, python3-xgboost: the same library) and
# the report (gnuplot) only where needed.
CLV_PKGS_BUILD="make gcc libc6-dev postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libgsl-dev libxgboost-dev"
CLV_PKGS_TEST="libipc-run-perl perl valgrind postgresql-$PG_MAJOR-cron odbc-postgresql unixodbc python3-pyodbc python3 python3-numpy python3-scipy python3-sklearn python3-psycopg2 python3-pandas python3-xgboost gnuplot-nox"

clv_log() { printf '==> %s\n' "$*" >&2; }

clv_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as the PostgreSQL OS user (initdb and postgres refuse root).
clv_as_pg() {
	if clv_is_root; then
		runuser -u postgres -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

clv_ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	clv_log "installing missing packages: ${missing[*]}"
	local sudo=""
	clv_is_root || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Every object builds with the Makefile's warnings (-Wall -Wextra
# -Wno-unused-parameter); the test suite and CI add -Werror with WERROR=1 (a
# plain `make` does not, so newer compilers do not break users' builds).  The
# objects depend on the flags, so a tree built before without -Werror is
# recompiled rather than passed.
clv_build() {
	clv_log "building clv${CLV_WERROR:+ (-Werror)}"
	make -C "$CLV_ROOT" -s -j"$(nproc)" ${CLV_WERROR:+WERROR=1} >/dev/null
}

# Stage mode: copy PostgreSQL's binaries, libraries and share directory into
# a private prefix (PostgreSQL finds share/ and lib/ relative to its binary)
# and install clv there with DESTDIR.
# The run's private directory (the cluster, its socket, the staged install),
# removed on exit however the script ends.
clv_run_dir() {
	CLV_TMP=$(mktemp -d /tmp/clv-run.XXXXXX)
	chmod 755 "$CLV_TMP"
	trap clv_cleanup EXIT
}

clv_stage() {
	clv_run_dir
	local prefix=$CLV_TMP/pg
	mkdir -p "$prefix/usr/lib/postgresql" "$prefix/usr/share/postgresql"
	cp -a /usr/lib/postgresql/$PG_MAJOR "$prefix/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/$PG_MAJOR "$prefix/usr/share/postgresql/"
	make -C "$CLV_ROOT" -s install DESTDIR="$prefix" ${CLV_WERROR:+WERROR=1} >/dev/null
	CLV_PGBIN=$prefix/usr/lib/postgresql/$PG_MAJOR/bin
}

clv_system_install() {
	clv_run_dir
	clv_log "installing clv into the system PostgreSQL $PG_MAJOR"
	local sudo=""
	clv_is_root || sudo=sudo
	$sudo make -C "$CLV_ROOT" -s install >/dev/null
	CLV_PGBIN=$PG_SYS_BIN
}

# Start a throwaway cluster listening only on a Unix socket in $CLV_TMP.
# Extra server settings may be passed as arguments ("-c name=value" pairs).
clv_start_cluster() {
	export PGHOST=$CLV_TMP PGPORT=54329 PGUSER=postgres PGDATABASE=postgres
	if clv_is_root; then chown -R postgres: "$CLV_TMP"; fi
	clv_as_pg "$CLV_PGBIN/initdb" -D "$CLV_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
	clv_as_pg "$CLV_PGBIN/pg_ctl" -D "$CLV_TMP/data" -l "$CLV_TMP/server.log" -w -s \
		-o "-k $CLV_TMP -p $PGPORT -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off $*" start
	clv_log "throwaway cluster running (socket $PGHOST, port $PGPORT)"
}

clv_cleanup() {
	local rc=$?
	if [ -n "${CLV_TMP:-}" ] && [ -d "$CLV_TMP/data" ]; then
		clv_as_pg "$CLV_PGBIN/pg_ctl" -D "$CLV_TMP/data" -m immediate -s stop >/dev/null 2>&1 || true
	fi
	[ -n "${CLV_KEEP:-}" ] || rm -rf "${CLV_TMP:-/nonexistent}"
	exit $rc
}

clv_psql() {
	psql -X -v ON_ERROR_STOP=1 -q "$@"
}
