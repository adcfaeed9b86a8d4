#!/usr/bin/env bash
# clv on a real Citus cluster: a coordinator and two workers on local ports.
#
#   CITUS_SRC=/path/to/citus bash test/citus/run.sh
#
# CITUS_SRC is a Citus source tree (citusdata/citus, v13.2.2 is the newest
# release for PostgreSQL 15; it is not in Debian and is never committed
# here).  The script builds it out of a copy of the tree (on PostgreSQL
# 15.20 and later it removes Citus 13.2.2's own copy of
# have_createdb_privilege(), which PostgreSQL now exports), installs Citus
# and clv into a private staged copy of PostgreSQL (lib.sh), starts three
# clusters, distributes the CDNOW transactions by customer and prints TAP:
# per-customer pushdown and partial aggregation across nodes (from
# EXPLAIN), equality with a local table (timestamptz and date forms, and
# the date form under another TimeZone), clv_train and K-Means on a
# distributed source, and predictions and clustering over a distributed
# table: with the model passed inline, and by name after the one set-up
# step (clv_catalog_distribute: the catalog as reference tables), with the
# catalog's privileges holding on the workers, they equal the local results.  Without CITUS_SRC it says it is skipped and why.
# CI runs the emulation instead (test/sql/12_summary_distributed.sql).
source "$(dirname "$0")/../../tools/lib.sh"
cd "$CLV_ROOT"

if [ -z "${CITUS_SRC:-}" ]; then
	echo "1..0 # SKIP CITUS_SRC is not set: give a Citus source tree (citusdata/citus v13.2.2) to run the cluster test"
	exit 0
fi
[ -f "$CITUS_SRC/configure" ] || { echo "Bail out! CITUS_SRC=$CITUS_SRC is not a Citus source tree"; exit 1; }

clv_ensure_packages $CLV_PKGS_BUILD libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev \
	libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev
clv_build
clv_stage

# Citus, built in a copy of the tree (the given tree is left as it is); a
# tree already built (citus.so present) is installed as it is.
if [ -f "$CITUS_SRC/src/backend/distributed/citus.so" ]; then
	clv_log "installing the Citus already built in $CITUS_SRC"
	make -C "$CITUS_SRC" -s install DESTDIR="$CLV_TMP/pg" >"$CLV_TMP/citus-make.log" 2>&1 ||
		{ tail -20 "$CLV_TMP/citus-make.log"; echo "Bail out! Citus did not install"; exit 1; }
else
	clv_log "building Citus from $CITUS_SRC"
	build=$CLV_TMP/citus-src
	cp -a "$CITUS_SRC" "$build"
	compat=$build/src/include/pg_version_compat.h
	if grep -q '^have_createdb_privilege(void)' "$compat" &&
		grep -q 'have_createdb_privilege' "$(pg_config --includedir-server)/commands/dbcommands.h"; then
		perl -0pi -e 's/static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n//s' "$compat"
	fi
	(cd "$build" && ./configure -q --without-libcurl PG_CONFIG="$PG_CONFIG" >"$CLV_TMP/citus-configure.log" 2>&1 &&
		make -s -j"$(nproc)" >"$CLV_TMP/citus-make.log" 2>&1 &&
		make -s install DESTDIR="$CLV_TMP/pg" >>"$CLV_TMP/citus-make.log" 2>&1) ||
		{ tail -20 "$CLV_TMP/citus-configure.log" "$CLV_TMP/citus-make.log"; echo "Bail out! Citus did not build"; exit 1; }
fi

# Three clusters on the Unix socket in $CLV_TMP.
export PGHOST=$CLV_TMP PGUSER=postgres PGDATABASE=postgres
if clv_is_root; then chown -R postgres: "$CLV_TMP"; fi
ports=(54401 54402 54403)
for p in "${ports[@]}"; do
	clv_as_pg "$CLV_PGBIN/initdb" -D "$CLV_TMP/node$p" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
	clv_as_pg "$CLV_PGBIN/pg_ctl" -D "$CLV_TMP/node$p" -l "$CLV_TMP/node$p.log" -w -s \
		-o "-k $CLV_TMP -p $p -c listen_addresses='' -c shared_preload_libraries=citus -c fsync=off -c max_prepared_transactions=20 -c TimeZone=UTC" start
done
cleanup_nodes() {
	for p in "${ports[@]}"; do
		clv_as_pg "$CLV_PGBIN/pg_ctl" -D "$CLV_TMP/node$p" -m immediate -s stop >/dev/null 2>&1 || true
	done
	clv_cleanup
}
trap cleanup_nodes EXIT

co() { psql -X -q -A -t -v ON_ERROR_STOP=1 -p "${ports[0]}" "$@"; }
for p in "${ports[@]}"; do psql -X -q -p "$p" -c 'CREATE EXTENSION citus' >/dev/null; done
co -c "SELECT citus_set_coordinator_host('$CLV_TMP', ${ports[0]})" >/dev/null
co -c "SELECT citus_add_node('$CLV_TMP', ${ports[1]})" -c "SELECT citus_add_node('$CLV_TMP', ${ports[2]})" >/dev/null
co -c 'CREATE EXTENSION clv' >/dev/null
if [ -n "${CITUS_SHELL:-}" ]; then		# for development: keep the cluster up
	echo "# coordinator: psql -h $PGHOST -p ${ports[0]} -U postgres (stop with kill $$)"
	sleep infinity
fi

n=0
fails=0
ok() {							# ok DESCRIPTION EXPECTED GOT (both non-empty)
	n=$((n + 1))
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   expected: $2"
		echo "#        got: $3"
		fails=$((fails + 1))
	fi
}
has() {							# has DESCRIPTION PATTERN TEXT
	n=$((n + 1))
	if grep -q -- "$2" <<<"$3"; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; echo "#   no \"$2\" in:"; sed 's/^/#   /' <<<"$3"; fails=$((fails + 1)); fi
}

co <<SQL >/dev/null
CREATE TABLE elog (masterid int, sampleid int, date int, cds int, sales float8);
\copy elog FROM 'data/BTYD_cdnowElog.csv' CSV HEADER
CREATE TABLE tx_local AS
SELECT sampleid AS customer_id, sampleid % 7 AS region,
       (to_date(date::text, 'YYYYMMDD') + ((sampleid * 7 + cds * 5) % 24) * interval '1 hour')
         AT TIME ZONE 'UTC' AS purchased_at,
       sales AS amount
FROM elog;
CREATE TABLE tx (LIKE tx_local);
SELECT create_distributed_table('tx', 'customer_id');
INSERT INTO tx SELECT * FROM tx_local;
SQL
ok "the transactions are distributed over the two workers" 2 \
	"$(co -c "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'tx'::regclass")"

# 1. the summary: pushed down per customer, partial aggregation otherwise
plan=$(co -c "EXPLAIN (VERBOSE) SELECT customer_id, clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week') FROM tx GROUP BY customer_id")
has "per customer the whole aggregate runs on the workers" "clv_summary(purchased_at, amount" "$plan"
plan=$(co -c "EXPLAIN (VERBOSE) SELECT region, (clv_summary(purchased_at, amount, '1998-06-30')).n_purchases FROM tx GROUP BY region")
has "grouped by another column the workers send partial states" "worker_partial_agg" "$plan"
has "and the coordinator combines them" "coord_combine_agg" "$plan"

same() {						# the distributed result equals the local one
	co -c "SELECT count(*) FROM ((SELECT $1 FROM tx GROUP BY 1 EXCEPT SELECT $1 FROM tx_local GROUP BY 1)
	                             UNION ALL (SELECT $1 FROM tx_local GROUP BY 1 EXCEPT SELECT $1 FROM tx GROUP BY 1)) d"
}
ok "per customer: equal to the local table" 0 \
	"$(same "customer_id, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).*")"
ok "per region (partial states combined across nodes): counts and days equal" 0 \
	"$(same "region, (clv_summary(purchased_at, amount, '1998-06-30')).frequency, (clv_summary(purchased_at, amount, '1998-06-30')).first_purchase, (clv_summary(purchased_at, amount, '1998-06-30')).last_purchase")"
ok "per region: money to 1e-12 relative" 0 \
	"$(co -c "SELECT count(*) FROM (SELECT region, (clv_summary(purchased_at, amount, '1998-06-30')).total_amount a FROM tx GROUP BY 1) d
	          JOIN (SELECT region, (clv_summary(purchased_at, amount, '1998-06-30')).total_amount a FROM tx_local GROUP BY 1) l USING (region)
	          WHERE abs(d.a - l.a) > 1e-12 * abs(l.a)")"

# 2. time zones: the workers do not see SET TimeZone; the date form does not care
ok "date form under America/New_York: equal to the local table" 0 \
	"$(co -c "SET TimeZone = 'America/New_York'" -c "SELECT count(*) FROM (
	   (SELECT customer_id, (clv_summary((purchased_at AT TIME ZONE 'America/New_York')::date, amount, DATE '1997-09-30', DATE '1998-06-30', 'week')).* FROM tx GROUP BY 1
	    EXCEPT SELECT customer_id, (clv_summary((purchased_at AT TIME ZONE 'America/New_York')::date, amount, DATE '1997-09-30', DATE '1998-06-30', 'week')).* FROM tx_local GROUP BY 1)) d")"
tz_diff=$(co -c "SET TimeZone = 'America/New_York'" -c "SELECT count(*) FROM (
	   (SELECT customer_id, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).* FROM tx GROUP BY 1
	    EXCEPT SELECT customer_id, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).* FROM tx_local GROUP BY 1)) d")
echo "# timestamptz form under America/New_York: $tz_diff of 2357 customers differ from the local result (days cut in the workers' UTC)"

# 3. training on a distributed source
co <<'SQL' >/dev/null
CREATE TABLE cust_local AS
SELECT customer_id, region, (clv_summary(purchased_at, amount, '1997-09-30', '1998-06-30', 'week')).*
FROM tx_local GROUP BY customer_id, region;
CREATE TABLE cust (LIKE cust_local);
SELECT create_distributed_table('cust', 'customer_id');
INSERT INTO cust SELECT * FROM cust_local;
SQL
ok "clv_fit on a distributed source gives the local parameters" \
	"$(co -c "SELECT clv_fit('cust_local', 'bgnbd', 'gamma_gamma') -> 'params'")" \
	"$(co -c "SELECT clv_fit('cust', 'bgnbd', 'gamma_gamma') -> 'params'")"
ok "clv_train on a distributed source stores the local fit" \
	"$(co -c "SELECT clv_fit('cust_local', 'bgnbd', 'gamma_gamma') -> 'params'")" \
	"$(co -c "SELECT params FROM clv_train('cdnow', 'cust', 'bgnbd', 'gamma_gamma')")"
co -c "SELECT version FROM clv_kmeans_train('seg', 'cust', ARRAY['frequency', 'recency', 't'], 3)" >/dev/null
ok "K-Means on a distributed source: the local model" \
	"$(co -c "SELECT (params->'centroids')::text FROM clv_kmeans_train('seg_local', 'cust_local', ARRAY['frequency', 'recency', 't'], 3)")" \
	"$(co -c "SELECT (params->'centroids')::text FROM clv_model('seg')")"

# 4. predictions over a distributed table: inline params, then by name
# after the one set-up step
expect=$(co -c "SELECT round(sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust_local")
ok "the inline-params idiom works as it is" "$expect" \
	"$(co -c "SELECT round(sum((clv_predict((SELECT params FROM clv_model('cdnow')), frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust")"
err=$(co -c "SELECT sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv) FROM cust" 2>&1 || true)
has "before the set-up, by name over a distributed table: the workers' catalog is empty, and the error says so" 'does not exist on this node' "$err"
has "and its HINT gives the set-up step and the inline idiom" "clv_catalog_distribute().*clv_predict((SELECT params FROM clv_model('cdnow'))" "$err"
ok "inline params: clv_cluster over a distributed table equals the local assignment" \
	"$(co -c "SELECT string_agg(c::text, ',' ORDER BY customer_id) FROM (SELECT customer_id, clv_cluster('seg', ARRAY[frequency, recency, t]) c FROM cust_local) s")" \
	"$(co -c "SELECT string_agg(c::text, ',' ORDER BY customer_id) FROM (SELECT customer_id, clv_cluster((SELECT params FROM clv_model('seg')), ARRAY[frequency, recency, t]) c FROM cust) s")"

ok "the set-up step: clv_catalog_distribute()" "clv_model_names and clv_models are reference tables" \
	"$(co -c "SELECT clv_catalog_distribute()")"
ok "both catalog tables are reference tables" "clv_model_names reference,clv_models reference" \
	"$(co -c "SELECT string_agg(logicalrelid::text || ' reference', ',' ORDER BY 1) FROM pg_dist_partition WHERE partmethod = 'n' AND repmodel = 't' AND logicalrelid::text LIKE 'clv_model%'")"
on_nodes() {					# the value of a query on the coordinator and on each worker
	co -c "SELECT string_agg(r, ',') FROM (SELECT ($1)::text AS r UNION ALL SELECT result FROM run_command_on_workers(\$q\$$1\$q\$)) x"
}
ok "every node holds every version" "3,3,3" "$(on_nodes "SELECT count(*) FROM clv_models")"
ok "by name over a distributed table: clv_predict equals the local result" "$expect" \
	"$(co -c "SELECT round(sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust")"
ok "by name: clv_cluster over a distributed table equals the local assignment" \
	"$(co -c "SELECT string_agg(c::text, ',' ORDER BY customer_id) FROM (SELECT customer_id, clv_cluster('seg', ARRAY[frequency, recency, t]) c FROM cust_local) s")" \
	"$(co -c "SELECT string_agg(c::text, ',' ORDER BY customer_id) FROM (SELECT customer_id, clv_cluster('seg', ARRAY[frequency, recency, t]) c FROM cust) s")"
ok "by name: clv_kmeans_profile of a distributed source equals the local profile" \
	"$(co -c "SELECT string_agg(cluster || ':' || size, ',' ORDER BY cluster) FROM clv_kmeans_profile('seg', 'cust_local')")" \
	"$(co -c "SELECT string_agg(cluster || ':' || size, ',' ORDER BY cluster) FROM clv_kmeans_profile('seg', 'cust')")"
ok "training after the set-up numbers the next version" "2" \
	"$(co -c "SELECT version FROM clv_train('cdnow', 'cust', 'pareto_nbd', 'gamma_gamma')")"
expect_new=$(co -c "SELECT round(sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust_local")
ok "by name follows a retrain on every node: the newest version" "$expect_new" \
	"$(co -c "SELECT round(sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust")"
ok "the version counter is the same on every node" "2,2,2" \
	"$(on_nodes "SELECT last_version FROM clv_model_names WHERE name = 'cdnow'")"

# the catalog's privileges hold on the workers
co -c "CREATE ROLE bob LOGIN" -c "GRANT SELECT ON cust, cust_local TO bob" >/dev/null
bob() { psql -X -q -A -t -v ON_ERROR_STOP=1 -p "${ports[0]}" -U bob "$@"; }
err=$(bob -c "SELECT sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv) FROM cust" 2>&1 || true)
has "a role the model was not granted to cannot predict by name over a distributed table" 'permission denied for clv model "cdnow"' "$err"
co -c "SELECT clv_grant_model('cdnow', 'bob')" >/dev/null
ok "after clv_grant_model it can, on every node" "$expect_new" \
	"$(bob -c "SELECT round(sum((clv_predict('cdnow', frequency, recency, t, monetary_value, 52)).clv)::numeric, 6) FROM cust")"
err=$(bob -c "UPDATE clv_model_names SET last_version = last_version + 1 WHERE name = 'cdnow'" \
	-c "INSERT INTO clv_models (name, version, kind, params, trained_by) VALUES ('cdnow', 3, 'btyd', '{\"r\": 1, \"alpha\": 1, \"a\": 1, \"b\": 1}', 'bob')" 2>&1 || true)
ok "a reader cannot store a version of it: the counter does not move, nothing is stored" "2 2" \
	"$(co -c "SELECT (SELECT last_version FROM clv_model_names WHERE name = 'cdnow') || ' ' || (SELECT max(version) FROM clv_models WHERE name = 'cdnow')")"
has "the refusal is the row-level security policy's" 'row-level security' "$err"
ok "a role trains its own names after the set-up" "1 bob" \
	"$(bob -c "SELECT version || ' ' || trained_by FROM clv_train('bobs', 'cust_local')")"
bob -c "SELECT clv_drop_model('bobs')" >/dev/null
ok "and drops them, on every node" "0,0,0" "$(on_nodes "SELECT count(*) FROM clv_models WHERE name = 'bobs'")"

# regressors: the booster is parsed on the coordinator only
co -c "CREATE TABLE reg_local AS SELECT customer_id, frequency, recency, t, coalesce(monetary_value, 0) AS m, frequency * 1.5 + recency AS y FROM cust_local" >/dev/null
ok "a regressor trains after the set-up" "1" \
	"$(co -c "SELECT version FROM clv_regressor_train('reg', 'reg_local', 'y', ARRAY['frequency', 'recency', 't', 'm'], '{\"n_rounds\": 20}')")"
has "and predicts by name on the coordinator" '^[0-9]' \
	"$(co -c "SELECT round(sum(clv_regressor_predict('reg', ARRAY[frequency, recency, t, m]))::numeric, 6) FROM reg_local")"
co -c "CREATE TABLE reg (LIKE reg_local)" -c "SELECT create_distributed_table('reg', 'customer_id')" -c "INSERT INTO reg SELECT * FROM reg_local" >/dev/null
err=$(co -c "SELECT sum(clv_regressor_predict('reg', ARRAY[frequency, recency, t, m])) FROM reg" 2>&1 || true)
has "over a distributed table the workers refuse to parse its artifact, and say so" 'can only be used on the Citus coordinator' "$err"
err=$(bob -c "UPDATE clv_model_names SET last_version = 1 WHERE name = 'bobs'" \
	-c "INSERT INTO clv_models (name, kind, params, artifact, version, trained_by) VALUES ('bobs', 'btyd', '{}', '\\x7b00', 1, 'bob')" 2>&1 || true)
has "a plain INSERT of an artifact is refused" 'row-level security' "$err"

# 5. the numbers of this run, as they are: three clusters on one machine
# share its cores, so they are no evidence of speed (README "Citus").
rows=${CITUS_CUSTOMERS:-200000}
co <<SQL >/dev/null
CREATE AGGREGATE summary_partial(timestamptz, float8, timestamptz) (SFUNC = clv_summary_transfn, STYPE = clv_summary_state);
CREATE TABLE big_local AS
SELECT customer_id, purchased_at, amount
FROM clv_simulate_transactions('{"r": 0.25, "alpha": 4, "a": 0.8, "b": 2.5, "p": 6, "q": 4, "gamma": 15}',
                               $rows, '2024-01-01', 90, 52);
CREATE TABLE big (LIKE big_local);
SELECT create_distributed_table('big', 'customer_id');
INSERT INTO big SELECT * FROM big_local;
ANALYZE big_local; ANALYZE big;
SQL
txs=$(co -c "SELECT count(*) FROM big_local")
timed() {						# prints the wall time of one statement, ms
	local t0 t1
	t0=$(date +%s%N)
	co -c "$1" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
q="SELECT sum((s).frequency) FROM (SELECT clv_summary(purchased_at, amount, '2025-03-31') s FROM %s GROUP BY customer_id) x"
echo "# scale: $rows simulated customers, $txs transactions; wall times of one run each"
echo "#   summary per customer: local $(timed "$(printf "$q" big_local)") ms, distributed (32 shards, 2 workers) $(timed "$(printf "$q" big)") ms"
q="SELECT sum((s).frequency) FROM (SELECT clv_summary(purchased_at, amount, '2025-03-31') s FROM %s GROUP BY customer_id %% 10) x"
echo "#   summary per customer_id % 10 (partial states across nodes): local $(timed "$(printf "$q" big_local)") ms, distributed $(timed "$(printf "$q" big)") ms"
co -c "CREATE TABLE bigc_local AS SELECT customer_id, (clv_summary(purchased_at, amount, '2025-03-31')).* FROM big_local GROUP BY customer_id" \
   -c "CREATE TABLE bigc (LIKE bigc_local)" -c "SELECT create_distributed_table('bigc', 'customer_id')" \
   -c "INSERT INTO bigc SELECT * FROM bigc_local" >/dev/null
echo "#   clv_fit bgnbd + gamma_gamma: local $(timed "SELECT clv_fit('bigc_local')") ms, distributed $(timed "SELECT clv_fit('bigc')") ms"
q="SELECT sum((clv_predict((SELECT params FROM clv_model('cdnow')), frequency, recency, t, monetary_value, 52)).clv) FROM %s"
echo "#   scoring (inline params): local $(timed "$(printf "$q" bigc_local)") ms, distributed $(timed "$(printf "$q" bigc)") ms"
echo "#   partial state per customer, on average: $(co -c "SELECT round(avg(length(s::text))) || ' bytes as text (Citus 13), ' || round(avg(octet_length(clv_summary_state_send(s)))) || ' in binary (send/recv, Citus 14), ' || round(avg(pg_column_size(s))) || ' in memory' FROM (SELECT summary_partial(purchased_at, amount, '2025-03-31') s FROM big_local GROUP BY customer_id) x")"

echo "1..$n"
[ "$fails" -eq 0 ]
