# K-Means: long runs are cancellable, progress is reported, and trained
# segmentations survive pg_dump / restore and keep scoring.
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
is($node->safe_psql('postgres', "SELECT count(*) FROM clv_models WHERE name = 'km_cancel'"),
	'0', 'a cancelled training stores nothing');

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
