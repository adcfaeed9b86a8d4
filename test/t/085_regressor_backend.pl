# The regressor inside a backend (issue 12): only the training function
# stores a booster; XGBoost starts no thread with
# the default nthread = 1 (not when clv.so is loaded, not when training,
# not when a booster is loaded for prediction), while an explicit nthread
# does start threads (so the count below can see them); and a training is
# cancelled between boosting rounds, after which the same session trains
# and predicts normally.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('regressor');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION clv;
	CREATE TABLE rg AS
	SELECT i AS customer_id, (i % 7)::float8 AS a, (i % 13)::float8 AS b, ((i * 37) % 101)::float8 AS c,
		   ((i * 7919) % 1009)::float8 AS d, (i % 7) * 2.0 + (i % 13) + ((i * 37) % 101) / 100.0 AS y
	FROM generate_series(1, 20000) i;
	CREATE FUNCTION threads() RETURNS int LANGUAGE sql AS
	$$SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') from 'Threads:\s+(\d+)')::int$$;
});

# A role that may train may not store an artifact of its own making (the
# loader of XGBoost does not survive arbitrary bytes): only the training
# function's INSERT carries one.
$node->safe_psql('postgres', q{CREATE ROLE trainer LOGIN; GRANT SELECT ON rg TO trainer});
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE trainer;
	INSERT INTO clv_models (name, kind, params, artifact)
	VALUES ('forged', 'regressor', '{"features": ["a", "b", "c", "d"]}', '\x7b00')});
like($err, qr/the artifact of clv model "forged" can only be stored by its training function/,
	'a plain INSERT of an artifact is refused');
is($node->safe_psql('postgres', q{SET ROLE trainer;
	SELECT version FROM clv_regressor_train('mine', 'rg', 'y', NULL, '{"n_rounds": 2}')}), '1',
	'the same role trains a regressor');
is($node->safe_psql('postgres', q{SET ROLE trainer; SELECT clv_regressor_predict('mine', ARRAY[1, 2, 3, 4]) > 0}), 't',
	'and predicts with it');

my $s = $node->background_psql('postgres');
is($s->query_safe(q{LOAD 'clv'; SELECT threads()}), '1', 'clv.so loaded: one thread');
$s->query_safe(q{SELECT 1 FROM clv_regressor_train('thr', 'rg', 'y', NULL, '{"n_rounds": 5, "cv_folds": 2}')});
is($s->query_safe('SELECT threads()'), '1', 'training with the default nthread: one thread');
$s->query_safe(q{SELECT clv_regressor_predict('thr', ARRAY[1, 2, 3, 4])});
is($s->query_safe('SELECT threads()'), '1', 'a booster loaded and used for prediction: one thread');
$s->query_safe(q{SELECT 1 FROM clv_regressor_train('thr2', 'rg', 'y', NULL, '{"n_rounds": 5, "nthread": 2}')});
cmp_ok($s->query_safe('SELECT threads()'), '>', 1, 'nthread = 2 does start threads');
$s->quit;

# Cancelled between rounds: 100,000 rounds of depth-12 trees on 20,000 rows
# do not finish within the statement timeout.
my $c = $node->background_psql('postgres', on_error_stop => 0);
$c->query(q{SET statement_timeout = '300ms'});
$c->query(q{SELECT 1 FROM clv_regressor_train('long', 'rg', 'y', NULL, '{"n_rounds": 100000, "max_depth": 12, "eta": 0.01}')});
like($c->{stderr}, qr/canceling statement due to statement timeout/, 'a long training is cancelled by statement_timeout');
$c->{stderr} = '';
is($c->query(q{RESET statement_timeout; SELECT count(*) FROM clv_models WHERE name = 'long'}), '0', 'nothing stored');
is($c->query(q{SELECT version FROM clv_regressor_train('after', 'rg', 'y', NULL, '{"n_rounds": 3}')}), '1',
	'the session trains again after the cancel');
like($c->query(q{SELECT clv_regressor_predict('after', ARRAY[1, 2, 3, 4])}), qr/^\d/, 'and predicts');
is($c->{stderr}, '', 'without errors');
$c->quit;

$node->stop;
done_testing();
