# The fits (and the simulation, whose generator state lives in palloc'd
# memory, and a regressor's training and predictions) under valgrind: every model fitted on the published data sets in a
# single-user backend (one process, so no --trace-children) must report no
# error in a stack frame of clv's own sources.  It catches what pg_regress
# cannot see: the Nelder-Mead fallback of src/optim.c once tested GSL's fval
# before any iteration had set it ("Conditional jump or move depends on
# uninitialised value(s) at minimise"), so the fit's path depended on what
# the heap held.  PostgreSQL itself is not built for valgrind here (no
# suppression file, palloc memory is not tracked), so errors outside clv's
# frames are ignored.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

if (system('valgrind --version >/dev/null 2>&1') != 0)
{
	plan skip_all => 'valgrind is not installed';
}

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT not set";
my $node = PostgreSQL::Test::Cluster->new('valgrind');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clv');
$node->safe_psql('postgres', qq{
CREATE TABLE fit_cbs (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
COPY fit_cbs FROM '$root/data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true);
CREATE VIEW fit_cdnow AS
	SELECT x AS frequency, t_x AS recency, t_cal AS t,
		   CASE WHEN x > 0 THEN m_x END AS monetary_value
	FROM fit_cbs;
CREATE TABLE fit_rf (x int, t_x int, n_cal int, custs int, x_star int);
COPY fit_rf FROM '$root/data/BTYD_donationsSummary_rf_matrix.csv' WITH (FORMAT csv, HEADER true);
});
$node->stop;

# One statement per line (single-user mode); the first result is checked.
my @sql = (
	q{SELECT round((f->'params'->>'a')::numeric, 4) AS bgnbd_a FROM clv_fit('fit_cdnow') f;},
	q{SELECT clv_fit('fit_cdnow', 'mbgnbd', NULL) IS NOT NULL;},
	q{SELECT clv_fit('fit_cdnow', 'pareto_nbd', NULL) IS NOT NULL;},
	q{SELECT clv_fit('SELECT x AS frequency, t_x AS recency, n_cal AS t, custs AS weight FROM fit_rf', 'bgbb', NULL) IS NOT NULL;},
	q{SELECT clv_fit('fit_cdnow', 'bgnbd', NULL, '{"max_iterations": 3}') IS NOT NULL;},
	q{SELECT clv_fit('fit_cdnow', 'bgnbd', NULL, '{"penalizer": 0.01}') IS NOT NULL;},
	q{SELECT clv_fit('SELECT 0::float8 AS frequency, 0::float8 AS recency, t FROM fit_cdnow', 'bgnbd', NULL) IS NOT NULL;},
	q{SELECT count(*) FROM (SELECT * FROM clv_simulate('{"r":0.25,"alpha":4,"a":0.8,"b":2.5,"p":6,"q":4,"gamma":15}', 2147483647, 52, 1) LIMIT 5) s;},
	q{SELECT count(*) FROM clv_simulate('{"alpha":1.2,"beta":0.75,"gamma":0.66,"delta":2.78}', 200, 52);},
	q{SELECT count(*) FROM clv_simulate_transactions('{"r":0.5,"alpha":4,"s":0.6,"beta":11}', 200, '2020-01-01', 30, 52);},
	q{SELECT iterations FROM clv_regressor_train('xgb', 'fit_cdnow', 'monetary_value', NULL, '{"n_rounds": 10, "cv_folds": 2, "subsample": 0.8}');},
	q{SELECT count(clv_regressor_predict('xgb', ARRAY[frequency, recency, t])) FROM fit_cdnow;});
my $in = join("\n", @sql) . "\n";
my $log = $PostgreSQL::Test::Utils::tmp_check . '/valgrind_fit.log';
my ($out, $err);
my $ok = IPC::Run::run(
	[ 'valgrind', '--quiet', '--error-limit=no', '--num-callers=20',
	  "--log-file=$log", 'postgres', '--single', '-D', $node->data_dir, 'postgres' ],
	'<', \$in, '>', \$out, '2>', \$err,
	IPC::Run::timeout(600));
ok($ok, 'the single-user backend ran the fits under valgrind') or diag($err);
like($out, qr/bgnbd_a = "0\.7929"/, 'the BG/NBD fit gives the published a = 0.7929');
like($out, qr/iterations = "10"/, 'the regressor trained its 10 rounds');
unlike($out . $err, qr/ERROR:/, 'no statement failed') or diag($out . $err);

# An error is a block of "==pid== " lines up to a bare "==pid==" line; it is
# clv's if one of its frames is in one of clv's source files.
my %clv_file = map { m{([^/]+\.c)$} ? ($1 => 1) : () } glob("$root/src/*.c");
my (@blocks, @cur);
open(my $fh, '<', $log) or die "cannot read $log: $!";
while (my $line = <$fh>)
{
	if ($line =~ /^==\d+==\s*$/)
	{
		push @blocks, [@cur] if @cur;
		@cur = ();
	}
	elsif ($line =~ /^==\d+== /)
	{
		push @cur, $line;
	}
}
close($fh);
push @blocks, [@cur] if @cur;
my @clv_errors = grep {
	grep { /\(([^():]+\.c):\d+\)/ && $clv_file{$1} } @$_
} @blocks;
is(scalar(@clv_errors), 0, 'valgrind reports no error in clv code')
  or diag(join('', map { (@$_, "\n") } @clv_errors));
done_testing();
