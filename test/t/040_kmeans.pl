# K-Means: long runs are cancellable, two sessions training one name at once
# get consecutive versions, progress is reported, and trained segmentations
# survive pg_dump / restore and keep scoring.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('kmeans');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clv');
$node->safe_psql('postgres', q{
	CREATE TABLE km_big AS
	SELECT i, (i % 97) * 1.0 + (i % 13) AS a, (i % 89) * 1.0 - (i % 7) AS b, (i % 83) * 0.5 AS c
	FROM generate_series(1, 300000) i});

# cancellation: a run far longer than the timeout stops promptly
my ($ret, $out, $err) = $node->psql('postgres', q{
	SET statement_timeout = '300ms';
	SELECT version FROM clv_kmeans_train('km_cancel', 'km_big', ARRAY['a', 'b', 'c'], 8, '{"n_init": 1000}')});
isnt($ret, 0, 'a long training is interrupted by statement_timeout');
like($err, qr/canceling statement due to statement timeout/, 'the error is the cancellation');

# Two sessions train one name at once.  The first holds its transaction open
# after training, so the second provably overlaps it: it must wait for the
# first (not fail, not reuse its number) and get the next version when the
# first commits.
$node->safe_psql('postgres', q{
	CREATE TABLE km_small AS SELECT * FROM km_big WHERE i % 100 = 0;
	SELECT version FROM clv_kmeans_train('km_race', 'km_small', ARRAY['a', 'b'], 3, '{"n_init": 1}')});
my $s1 = $node->background_psql('postgres');
my $s2 = $node->background_psql('postgres');
my $train = q{SELECT version FROM clv_kmeans_train('km_race', 'km_small', ARRAY['a', 'b', 'c'], 3, '{"n_init": 1}')};
$s1->query_safe('BEGIN');
my $v1 = $s1->query_safe($train);
is($v1, '2', 'the first session trains version 2 (not committed yet)');
my $pid2 = $s2->query_safe('SELECT pg_backend_pid()');
$s2->query_until(qr/started/, "\\echo started\n$train;\n");
ok($node->poll_query_until('postgres', qq{
	SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $pid2}),
	'the second training waits for the first');
$s1->query_safe('COMMIT');
my ($out2) = split /\n/, $s2->query_safe(q{SELECT 'after'});
is($out2, '3', 'the second session gets version 3 once the first commits');
is($node->safe_psql('postgres', q{
	SELECT string_agg(version::text || ':' || kind, ',' ORDER BY version)
	FROM clv_models WHERE name = 'km_race'}),
	'1:kmeans,2:kmeans,3:kmeans', 'both trainings are stored, as versions 2 and 3');
$s1->quit;
$s2->quit;

# progress NOTICEs, one per restart, when verbose
($ret, $out, $err) = $node->psql('postgres', q{
	SELECT version FROM clv_kmeans_train('km_p', 'km_big', ARRAY['a', 'b', 'c'], 3, '{"n_init": 3, "verbose": true, "seed": 9}')});
is($ret, 0, 'verbose training succeeds');
my @restarts = $err =~ /NOTICE:  restart (\d) of 3: inertia [0-9.e+]+ \(\d+ iterations/g;
is_deeply(\@restarts, [1, 2, 3], 'one progress NOTICE per restart');
($ret, $out, $err) = $node->psql('postgres', q{
	SELECT version FROM clv_kmeans_train('km_p', 'km_big', ARRAY['a', 'b', 'c'], 3, '{"n_init": 3, "seed": 9}')});
unlike($err, qr/restart/, 'no progress NOTICEs by default');

# pg_dump keeps the models; the restored database scores identically
my $before = $node->safe_psql('postgres',
	q{SELECT string_agg(clv_cluster('km_p', ARRAY[a, b, c])::text, ',' ORDER BY i) FROM km_big WHERE i % 1000 = 0});
my $dump = $node->basedir . '/km.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', "SELECT string_agg(version::text, ',' ORDER BY version) FROM clv_models WHERE name = 'km_p'"),
	'1,2', 'both versions restored');
is($node->safe_psql('restored',
	q{SELECT string_agg(clv_cluster('km_p', ARRAY[a, b, c])::text, ',' ORDER BY i) FROM km_big WHERE i % 1000 = 0}),
	$before, 'the restored model assigns the same clusters');

$node->stop;
done_testing();
