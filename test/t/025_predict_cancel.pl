# Long predictions are cancellable: a discounted CLV over thousands of periods
# with extreme parameters (each period sums a slowly converging 2F1 series)
# stops at statement_timeout while it computes, and the backend goes on
# serving.  Without interrupt checks inside the math the timeout would still
# be reported, but only once the executor regains control after the whole
# computation (about 10 s per call uncancelled, 30 s for the three-row
# query here, hours for the huge loops); the bound checks that it stops long
# before that.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION clv');

my $params = q{'{"transaction_model": "bgnbd", "r": 0.001, "alpha": 37.3954, "a": 7623.611,
	"b": 340.8095, "spend_model": "gamma_gamma", "p": 0.8046, "q": 57.5028, "gamma": 0.11}'::jsonb};

foreach my $case (
	[ 'clv_predict, one call',
		"SELECT clv_predict($params, 22, 0.009, 0.065, 30, 6266.584, 0.001, 1)" ],
	[ 'clv_value over three rows',
		"SELECT sum(clv_value($params, 22, 0.009, 0.065, 30, 6266.584 + i, 0.001)) FROM generate_series(1, 3) i" ],
	# a loop over n = 10^8 (hours uncancelled) and one over 10^9 periods
	[ 'Pareto/NBD P(X(t) = n) for a huge n',
		q{SELECT clv_purchase_probability('{"r": 0.5534, "alpha": 10.58, "s": 0.6061, "beta": 11.66}'::jsonb, 100000000, 52)} ],
	[ 'BG/BB P(X(n) = k) over a huge number of periods',
		q{SELECT clv_purchase_probability('{"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}'::jsonb, 3, 1e9)} ],
	# the BG/BB likelihood: one term per opportunity after the last
	# transaction (about 50 s uncancelled at 10^8)
	[ 'BG/BB P(alive) over 10^8 opportunities',
		q{SELECT clv_p_alive('{"alpha": 1.204, "beta": 0.75, "gamma": 0.657, "delta": 2.78}'::jsonb, 0, 0, 1e8)} ],
	[ 'BG/BB expected purchases over 10^8 opportunities',
		q{SELECT clv_expected_purchases('{"alpha": 1.204, "beta": 0.75, "gamma": 0.657, "delta": 2.78}'::jsonb, 2, 5, 1e8, 10)} ],
	# offers: the discounted lifted purchases loop over unit periods (BG/BB:
	# one quadrature per period, minutes at 10^7 periods)
	[ 'clv_offer_predict, discounted over thousands of periods',
		"SELECT clv_offer_predict($params, 22, 0.009, 0.065, 30, 6266.584, 0.001, 1, "
		  . q{'{"cost": 1, "response_rate": 0.5, "retention_lift": 0.2}'::jsonb)} ],
	[ 'clv_offer_predict, BG/BB retention offer discounted over 10^7 periods',
		q{SELECT clv_offer_predict('{"alpha": 1.204, "beta": 0.75, "gamma": 0.657, "delta": 2.78}'::jsonb, 2, 5, 10, NULL, 1e7, 0.001, 1, }
		  . q{'{"cost": 1, "response_rate": 0.5, "retention_lift": 0.2, "value_per_purchase": 10}'::jsonb)} ])
{
	my ($name, $sql) = @$case;
	my $start = time();
	my ($ret, $stdout, $stderr) = $node->psql(
		'postgres', "SET statement_timeout = '300ms'; $sql",
		timeout => 60);
	my $elapsed = time() - $start;
	like($stderr, qr/canceling statement due to statement timeout/, "$name: stopped by statement_timeout")
	  or diag($stderr);
	cmp_ok($elapsed, '<', 5, "$name: stopped while computing (${\ sprintf('%.1f', $elapsed)} s)");
}

# pg_cancel_backend stops a BG/BB P(alive) over 10^9 opportunities (about
# 8 minutes uncancelled), which used to ignore it (and pg_terminate_backend).
{
	my ($out, $err) = ('', '');
	my $timer = IPC::Run::timer(120);
	my $h = IPC::Run::start(
		[
			'psql', '-XAtq', '-d', $node->connstr('postgres') . ' application_name=clv_cancel',
			'-c', q{SELECT clv_p_alive('{"alpha": 1.204, "beta": 0.75, "gamma": 0.657, "delta": 2.78}'::jsonb, 0, 0, 1e9)}
		],
		'>', \$out, '2>', \$err, $timer);
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'clv_cancel' AND state = 'active'")
	  or die "the long call did not start";
	sleep(1);	# well inside the loop by now
	my $start = time();
	$node->safe_psql('postgres',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'clv_cancel'");
	eval { $h->finish; };
	my $elapsed = time() - $start;
	$h->kill_kill if $@;
	like($err, qr/canceling statement due to user request/, 'BG/BB over 10^9 opportunities: pg_cancel_backend stops it')
	  or diag("stderr: $err; $@");
	cmp_ok($elapsed, '<', 5, "BG/BB over 10^9 opportunities: stopped at once (${\ sprintf('%.1f', $elapsed)} s)");
}

is($node->safe_psql('postgres',
	q{SELECT round(clv_expected_purchases('{"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}'::jsonb, 2, 30.43, 38.86, 39)::numeric, 3)}),
	'1.226', 'the backend goes on serving predictions');
$node->stop;
done_testing();
