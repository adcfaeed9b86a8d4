#!/usr/bin/env bash
# The newcomer's demo: installs what is missing, builds and installs clv,
# starts a throwaway cluster, loads the bundled CDNOW sample and runs the
# demo/*.sql scripts in name order.
source "$(dirname "$0")/lib.sh"
cd "$CLV_ROOT"

clv_ensure_packages $CLV_PKGS_BUILD
clv_build
clv_system_install
clv_start_cluster
clv_psql -c "CREATE EXTENSION clv"
for f in demo/*.sql; do
	clv_psql -P pager=off -f "$f"
done
