# clv_summary under parallel query: the plan splits the aggregate into
# partial states (combine function) and gives exactly the serial results;
# one customer with a million purchases is summarised by distinct days.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 8\nmax_parallel_workers = 4\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clv');

# 400k orders of 20k customers; amounts in quarters so that float sums are
# exact whatever the order of addition, and some refunds.
$node->safe_psql('postgres', q{
	CREATE TABLE orders (customer_id int, purchased_at timestamptz, amount float8);
	INSERT INTO orders
	SELECT (i * 7919) % 20000,
	       timestamptz '2023-01-01 00:00+00' + ((i * 104729) % 600) * interval '1 day'
	                                         + ((i * 31) % 86400) * interval '1 second',
	       CASE WHEN i % 53 = 0 THEN -2.5 ELSE ((i * 13) % 400) * 0.25 END
	FROM generate_series(1::bigint, 400000) i;
	ANALYZE orders;
});

my $query = q{
	SELECT customer_id, (clv_summary(purchased_at, amount, '2023-09-30', '2024-06-30', 'week')).*
	FROM orders GROUP BY customer_id
};
my $force_parallel = q{
	SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;
	SET parallel_leader_participation = off; SET enable_hashagg = on;
};

my $plan = $node->safe_psql('postgres', "$force_parallel EXPLAIN (COSTS OFF) $query");
like($plan, qr/Partial (Hash|Group)?Aggregate/, 'plan has a partial aggregate')
  or diag($plan);
like($plan, qr/Gather/, 'plan gathers from parallel workers');

my $actual = $node->safe_psql('postgres',
	"$force_parallel EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $query");
like($actual, qr/Workers Launched: [12]/, 'parallel workers actually ran') or diag($actual);

$node->safe_psql('postgres', "$force_parallel CREATE TABLE par AS $query");
$node->safe_psql('postgres', "SET max_parallel_workers_per_gather = 0; CREATE TABLE ser AS $query");
is($node->safe_psql('postgres', 'SELECT count(*) FROM ser'), '20000', 'every customer summarised');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM ((TABLE par EXCEPT TABLE ser) UNION ALL (TABLE ser EXCEPT TABLE par)) d'),
	'0', 'parallel and serial results are identical');

# The same with sorted group aggregation on both sides.
$node->safe_psql('postgres',
	"$force_parallel SET enable_hashagg = off; CREATE TABLE par_sorted AS $query");
is($node->safe_psql('postgres',
	'SELECT count(*) FROM ((TABLE par_sorted EXCEPT TABLE ser) UNION ALL (TABLE ser EXCEPT TABLE par_sorted)) d'),
	'0', 'parallel group aggregation matches too');

# A plain-SQL computation of the same calibration fields agrees.
is($node->safe_psql('postgres', q{
	WITH days AS (
		SELECT customer_id, (purchased_at AT TIME ZONE 'UTC')::date AS day, sum(amount) AS amount,
		       bool_or(amount >= 0) AND sum(amount) >= 0 AS purchase
		FROM orders WHERE purchased_at < '2023-10-01' GROUP BY 1, 2),
	plain AS (
		SELECT customer_id, count(*) FILTER (WHERE purchase) - 1 AS frequency,
		       (max(day) FILTER (WHERE purchase) - min(day) FILTER (WHERE purchase)) / 7.0 AS recency,
		       ('2023-09-30'::date - min(day) FILTER (WHERE purchase)) / 7.0 AS t,
		       sum(amount) AS total_amount
		FROM days GROUP BY 1)
	SELECT count(*) FROM plain p JOIN ser s USING (customer_id)
	WHERE p.frequency <> s.frequency OR abs(p.recency - s.recency) > 1e-12
	   OR abs(p.t - s.t) > 1e-12 OR p.total_amount <> s.total_amount
}), '0', 'serial results equal a plain-SQL computation');

# One customer, a million purchases over 2,000 distinct days, in random order.
$node->safe_psql('postgres', q{
	CREATE TABLE heavy AS
	SELECT 1 AS customer_id, date '2020-01-01' + (i % 2000) AS purchased_at, 1.0::float8 AS amount
	FROM generate_series(1, 1000000) i ORDER BY md5(i::text);
});
is($node->safe_psql('postgres', q{
	SELECT (s).n_purchases || ' ' || (s).frequency || ' ' || (s).total_amount || ' ' || (s).monetary_value
	FROM (SELECT clv_summary(purchased_at, amount, '2030-01-01', 'day') AS s FROM heavy) x
}), '2000 1999 1000000 500', 'a customer with 1M purchases is summarised by distinct days');

$node->stop;
done_testing();
