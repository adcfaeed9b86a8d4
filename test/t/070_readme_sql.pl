# The README cannot drift from the code: every ```sql block of README.md
# runs, in order, in one database holding the tables the examples name
# (built from the bundled data), and no statement fails.  Blocks that are
# signatures, not statements, are fenced as ```text.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use ClvTest;

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT is not set";

# The ```sql blocks, with the line each starts on.
my @blocks;
open(my $fh, '<', "$root/README.md") or die "README.md: $!";
my ($in, $start, $text) = (0, 0, '');
while (my $line = <$fh>)
{
	if (!$in && $line =~ /^```sql\s*$/)
	{
		($in, $start, $text) = (1, $. + 1, '');
	}
	elsif ($in && $line =~ /^```\s*$/)
	{
		push @blocks, [ $start, $text ];
		$in = 0;
	}
	elsif ($in)
	{
		$text .= $line;
	}
}
close $fh;
cmp_ok(scalar @blocks, '>=', 10, 'README.md has its SQL examples');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
# pg_cron for the scheduled-job recipe (background workers: no TCP needed)
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'readme'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE readme');

# The tables the examples name (test/t/lib/readme_tables.sql) and
# cdnow_customers (BTYD's calibration summary).
$node->safe_psql('readme', clv_readme_tables_sql() . clv_cdnow_customers_sql() . q{
ALTER TABLE customers RENAME TO cdnow_customers;
});

for my $b (@blocks)
{
	my ($line, $sql) = @$b;
	my ($rc, $out, $err) = $node->psql('readme', $sql, on_error_stop => 1);
	my @errors = grep { /ERROR/ } split /\n/, $err;
	ok($rc == 0 && !@errors, "README.md line $line runs")
	  or diag("$err\n--- the block:\n$sql");
}

# The quickstart's view calls clv_predict once per customer, whatever
# columns a BI tool reads (a (clv_predict(...)).* would call it per column).
my $plan = $node->safe_psql('readme', 'EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM customer_value');
my $calls = () = $plan =~ /clv_predict\(/g;
is($calls, 1, 'SELECT * from the quickstart view evaluates clv_predict once per row')
  or diag($plan);

# The recipe's job, scheduled every minute, trains a new version of "shop"
# and rewrites the scores with it.
my $before = $node->safe_psql('readme', q{SELECT max(version) FROM clv_models WHERE name = 'shop'});
$node->safe_psql('readme', q{SELECT cron.schedule('clv-test', '* * * * *', 'CALL clv_nightly()')});
ok($node->poll_query_until('readme', qq{
	SELECT (SELECT max(version) FROM clv_models WHERE name = 'shop') > $before
	   AND (SELECT min(model_version) FROM customer_scores) > $before}),
	'the scheduled job trained a new version and scored every customer with it')
  or diag($node->safe_psql('readme', 'SELECT status, return_message FROM cron.job_run_details'));
is($node->safe_psql('readme', q{SELECT count(*) = (SELECT count(*) FROM customer_summary) FROM customer_scores}),
	't', 'one score per customer');
$node->safe_psql('readme', q{SELECT cron.unschedule('clv-test')});

$node->stop;
done_testing();
