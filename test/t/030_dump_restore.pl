# The model catalog survives pg_dump/pg_restore (clv_models is registered
# with pg_extension_config_dump): the trained versions and their predictions
# are identical in the restored database (a regressor's booster included).
# Also: training a name twice adds version 2, which serves; clv_drop_model
# removes every version; two sessions training one name at once get
# consecutive versions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use ClvTest;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION clv;' . clv_cdnow_customers_sql());

# Version 1 on everybody, version 2 on the first 1,500 customers.
$node->safe_psql('src', q{SELECT clv_train('cdnow', 'customers')});
is($node->safe_psql('src', q{SELECT version FROM clv_train('cdnow', 'SELECT * FROM customers WHERE customer_id <= 1500')}),
	'2', 'training the same name again adds version 2');
$node->safe_psql('src', q{SELECT clv_train('cdnow_pnbd', 'customers', 'pareto_nbd', NULL)});
# A regressor (XGBoost booster in clv_models.artifact) predicting spend from the summary.
$node->safe_psql('src', q{SELECT clv_regressor_train('cdnow_xgb', 'customers', 'monetary_value',
	ARRAY['frequency', 'recency', 't'], '{"n_rounds": 30, "subsample": 0.8, "seed": 4}')});

# The newest version serves the name-based functions.
is($node->safe_psql('src', q{
	SELECT clv_p_alive('cdnow', 2, 30.43, 38.86) = clv_p_alive(m.params, 2, 30.43, 38.86)
	   AND clv_p_alive('cdnow', 2, 30.43, 38.86) <> clv_p_alive(v1.params, 2, 30.43, 38.86)
	FROM clv_models m, clv_models v1
	WHERE m.name = 'cdnow' AND m.version = 2 AND v1.name = 'cdnow' AND v1.version = 1}),
	't', 'the newest version serves predictions');

my $catalog_sql = q{
	SELECT name, version, kind, transaction_model, spend_model, params, std_errors,
		   log_likelihood, n_customers, converged, iterations, time_unit, source, options,
		   diagnostics, trained_at, trained_by, md5(artifact)
	FROM clv_models ORDER BY name, version};
my $predict_sql = q{
	SELECT customer_id, clv_predict('cdnow', frequency, recency, t, monetary_value, 26, 0.01, 0.3),
		   clv_expected_purchases('cdnow_pnbd', frequency, recency, t, 52),
		   clv_regressor_predict('cdnow_xgb', ARRAY[frequency, recency, t])
	FROM customers ORDER BY customer_id};
my $catalog = $node->safe_psql('src', $catalog_sql);
my $predictions = $node->safe_psql('src', "SET extra_float_digits = 3; $predict_sql");

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ], 'pg_restore');

is($node->safe_psql('dst', 'SELECT count(*) FROM clv_models'), '4', 'four model versions restored');
is($node->safe_psql('dst', $catalog_sql), $catalog, 'catalog rows identical after restore');
is($node->safe_psql('dst', "SET extra_float_digits = 3; $predict_sql"), $predictions,
	'name-based predictions identical after restore (2,357 customers, three models, a regressor among them)');

# Dropping removes every version; the name then no longer resolves.
is($node->safe_psql('dst', q{SELECT clv_drop_model('cdnow')}), '2', 'clv_drop_model removes both versions');
is($node->safe_psql('dst', q{SELECT count(*) FROM clv_models WHERE name = 'cdnow'}), '0', 'no version left');
my ($rc, $out, $err) = $node->psql('dst', q{SELECT clv_p_alive('cdnow', 1, 1, 2)});
like($err, qr/clv model "cdnow" does not exist/, 'a dropped model is unknown to predictions');
is($node->safe_psql('src', 'SELECT count(*) FROM clv_models'), '4', 'the source database is untouched');

# Concurrent trainings of one name: the second waits for the row lock the
# first holds on the name (clv_model_names) and then numbers its version
# after the committed one, instead of failing on the primary key.
my $s1 = $node->background_psql('src');
$s1->query_safe('BEGIN');
$s1->query_safe(q{SELECT clv_train('conc', 'customers', 'bgnbd', NULL)});
my $s2 = $node->background_psql('src', on_error_stop => 0);
$s2->query_until(qr/started/, q{\echo started
SELECT clv_train('conc', 'customers', 'bgnbd', NULL);
});
ok($node->poll_query_until('src',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%clv_train%'}),
	'the second training waits for the first');
$s1->query_safe('COMMIT');
ok($node->poll_query_until('src',
	q{SELECT array_agg(version ORDER BY version) = '{1,2}' FROM clv_models WHERE name = 'conc'}),
	'concurrent trainings of one name get versions 1 and 2');
$s1->quit;
$s2->quit;
is($s2->{stderr}, '', 'the second training raised no error');

$node->stop;
done_testing();
