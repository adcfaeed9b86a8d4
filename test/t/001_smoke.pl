# Smoke test of the TAP harness: a fresh cluster loads clv.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('smoke');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clv');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'clv'"),
	'0.2', 'extension version');
$node->stop;
done_testing();
