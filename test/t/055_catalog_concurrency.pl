# Versions under concurrency (issue 8, item 7): several clients train,
# predict and drop one name at once, BTYD and K-Means trainings mixed.
# Wanted: no client fails; a version number is never reused for a name;
# versions of one name follow commit order (and trained_at follows them);
# one name is one kind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->start;

# A small simulated cohort (fits take milliseconds), version 1 of each name,
# and logs of the versions each training got.
$node->safe_psql('postgres', q{
CREATE EXTENSION clv;
CREATE TABLE small AS
SELECT customer_id, (clv_summary(to_timestamp(purchased_at * 7 * 86400), amount,
							 to_timestamp(52 * 7 * 86400), 'week')).*
FROM clv_simulate('{"r": 0.5, "alpha": 4, "a": 0.8, "b": 2.5, "p": 6, "q": 4, "gamma": 15}',
				  300, 52, 7)
GROUP BY customer_id;
CREATE TABLE train_log (name text, version int, trained_at timestamptz);
INSERT INTO train_log SELECT name, version, trained_at FROM clv_train('race', 'small', 'bgnbd', NULL);
INSERT INTO train_log SELECT name, version, trained_at
FROM clv_kmeans_train('race_km', 'small', ARRAY['frequency', 'recency'], 3, '{"n_init": 2}');
});

$node->pgbench(
	'--no-vacuum --client=6 --transactions=25 --random-seed=7',
	0,
	[ qr{processed: 150/150} ],
	[ qr{^(pgbench: setting random seed to 7\n)?$} ],
	'6 clients training, predicting and dropping one name: no client fails',
	{
		'train@4' => q{
INSERT INTO train_log SELECT name, version, trained_at FROM clv_train('race', 'small', 'bgnbd', NULL);
},
		'train_km@2' => q{
INSERT INTO train_log SELECT name, version, trained_at
FROM clv_kmeans_train('race_km', 'small', ARRAY['frequency', 'recency'], 3, '{"n_init": 2}');
},
		'predict@3' => q{
DO $$
BEGIN
	PERFORM clv_p_alive('race', 1, 2, 3), clv_cluster('race_km', ARRAY[1, 2]::float8[]);
EXCEPTION WHEN undefined_object THEN NULL;	-- every version dropped at that moment
END $$;
},
		'drop@2' => q{
DO $$
BEGIN
	PERFORM clv_drop_model(m.name, m.v)
	FROM (SELECT name, min(version) AS v FROM clv_models
		  WHERE name IN ('race', 'race_km') GROUP BY name HAVING count(*) > 1) m;
EXCEPTION WHEN undefined_object THEN NULL;	-- a concurrent drop took it first
END $$;
},
		'kind_clash@1' => q{
DO $$
BEGIN
	PERFORM clv_kmeans_train('race', 'small', ARRAY['frequency', 'recency'], 2);
	RAISE EXCEPTION 'a K-Means model was stored under the BTYD name race';
EXCEPTION WHEN wrong_object_type THEN NULL;
END $$;
},
	});

for my $name ('race', 'race_km')
{
	is($node->safe_psql('postgres', qq{
		SELECT count(*) = count(DISTINCT version)
		   AND min(version) = 1 AND max(version) = count(*)
		FROM train_log WHERE name = '$name'}),
		't', "$name: every training got its own number, 1 .. n without gaps");
	is($node->safe_psql('postgres', qq{
		SELECT last_version = (SELECT max(version) FROM train_log WHERE name = '$name')
		FROM clv_model_names WHERE name = '$name'}),
		't', "$name: the name's counter is the last number handed out");
	is($node->safe_psql('postgres', qq{
		SELECT bool_and(ok) FROM (
			SELECT trained_at > lag(trained_at) OVER (ORDER BY version) IS NOT FALSE AS ok
			FROM train_log WHERE name = '$name') s}),
		't', "$name: trained_at increases with the version");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM clv_models m
		WHERE name = '$name'
		  AND NOT EXISTS (SELECT 1 FROM train_log l
						  WHERE l.name = m.name AND l.version = m.version
							AND l.trained_at = m.trained_at)}),
		'0', "$name: every stored version is one that a training returned");
}
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT kind, ',') FROM clv_models WHERE name = 'race'}),
	'btyd', 'race holds BTYD versions only');

# Dropping the newest version does not give its number back.
my $last = $node->safe_psql('postgres', q{SELECT max(version) FROM clv_models WHERE name = 'race'});
$node->safe_psql('postgres', qq{SELECT clv_drop_model('race', $last)});
is($node->safe_psql('postgres', q{SELECT version FROM clv_train('race', 'small', 'bgnbd', NULL)}),
	$node->safe_psql('postgres', q{SELECT last_version FROM clv_model_names WHERE name = 'race'}),
	'after dropping the newest version the next training gets a new number');
cmp_ok($node->safe_psql('postgres', q{SELECT max(version) FROM clv_models WHERE name = 'race'}),
	'>', $last, 'and that number is above the dropped one');

$node->stop;
done_testing();
