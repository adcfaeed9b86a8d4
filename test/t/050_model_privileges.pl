# Who owns a model (issue 8, item 8), tested with three roles and a team.
#
# A name is owned by the role that first trained it; only members of the
# owner role train, drop or grant it; reading is governed by the owner's
# grants (clv_grant_model); trained_by, trained_at and version cannot be
# forged; nobody can stall another role's training with a lock it is free
# to take.  Everything runs as ordinary (non-superuser) roles, with the
# privileges the extension grants to PUBLIC.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use ClvTest;

my $node = PostgreSQL::Test::Cluster->new('privileges');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION clv;
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE ROLE carol LOGIN;
CREATE ROLE analytics NOLOGIN;
GRANT analytics TO alice, carol;
} . clv_cdnow_customers_sql() . q{
GRANT SELECT ON customers TO PUBLIC;
});

# Runs SQL as a role; returns (stdout, stderr with SQLSTATEs).
sub as_role
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ]);
	return ($out, $err);
}

sub ok_as
{
	my ($role, $sql, $name) = @_;
	my ($out, $err) = as_role($role, $sql);
	is($err, '', $name) or diag($sql);
	return $out;
}

sub fails_as
{
	my ($role, $sql, $re, $name) = @_;
	my ($out, $err) = as_role($role, $sql);
	like($err, $re, $name);
}

my $predict = q{SELECT round(clv_p_alive('shop', 2, 30.43, 38.86)::numeric, 6)};

# alice trains "shop": she owns the name.
is(ok_as('alice', q{SELECT version || ' ' || trained_by FROM clv_train('shop', 'customers')},
	'alice trains shop'), '1 alice', 'version 1, trained by alice');
is($node->safe_psql('postgres', q{SELECT owner FROM clv_model_names WHERE name = 'shop'}),
	'alice', 'the first trainer owns the name');
my $alice_p = ok_as('alice', $predict, 'alice predicts with her model');

# bob: no read, no train, no drop, no forgery.
is(ok_as('bob', q{SELECT count(*) FROM clv_models WHERE name = 'shop'}, 'bob reads clv_models'),
	'0', 'bob does not see the versions of shop');
fails_as('bob', $predict, qr/42501: permission denied for clv model "shop"/,
	'bob cannot predict with it (42501)');
fails_as('bob', q{SELECT * FROM clv_model('shop')}, qr/42501/, 'clv_model: 42501');
fails_as('bob', q{SELECT clv_train('shop', 'customers')},
	qr/42501: permission denied for clv model "shop".*owned by role "alice"/s,
	'bob cannot train a version of shop');
fails_as('bob', q{SELECT clv_drop_model('shop')}, qr/42501/, 'bob cannot drop shop');
fails_as('bob', q{SELECT clv_grant_model('shop', 'bob')}, qr/42501/, 'bob cannot grant shop to himself');
fails_as('bob', q{INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('shop', 7, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'alice')},
	qr/42501/, 'bob cannot insert a forged version of shop');
is(ok_as('bob', q{DELETE FROM clv_models WHERE name = 'shop' RETURNING 1}, 'bob deletes'), '',
	'a DELETE by bob removes nothing');
fails_as('bob', q{UPDATE clv_model_names SET owner = 'bob' WHERE name = 'shop'}, qr/42501/,
	'bob cannot take the name over');
is(ok_as('bob', q{UPDATE clv_model_names SET last_version = 100 WHERE name = 'shop' RETURNING 1},
	'bob updates the counter'), '', 'bob cannot move the version counter of shop');
fails_as('bob', q{BEGIN; LOCK TABLE clv_model_names IN EXCLUSIVE MODE; ROLLBACK;}, qr/42501/,
	'bob cannot lock the names table to stall trainings');
my ($lock_out) = as_role('bob', q{BEGIN; SELECT 'locked ' || name FROM clv_model_names WHERE name = 'shop' FOR UPDATE; SELECT 'done'; ROLLBACK;});
is($lock_out, 'done', 'SELECT ... FOR UPDATE locks no row of a name bob does not own');

# A forged row under bob's own new name is stamped with the truth.
ok_as('bob', q{INSERT INTO clv_models (name, version, kind, params, trained_by, trained_at)
	VALUES ('bobs', 42, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'alice', '2000-01-01')},
	'bob inserts a row of his own');
is(ok_as('bob', q{SELECT version || ' ' || trained_by || ' ' || (trained_at > now() - interval '1 hour')
	FROM clv_models WHERE name = 'bobs'}, 'bob reads his row'), '1 bob true',
	'version, trained_by and trained_at are set by the catalog, not by the INSERT');
is(ok_as('alice', q{SELECT count(*) FROM clv_models WHERE name = 'bobs'}, 'alice reads'), '0',
	'alice does not see bob\'s model');

# Grants: alice lets bob read; bob predicts what alice predicts, still cannot train or drop.
ok_as('alice', q{SELECT clv_grant_model('shop', 'bob')}, 'alice grants shop to bob');
is(ok_as('bob', $predict, 'bob predicts after the grant'), $alice_p, 'bob gets alice\'s prediction');
fails_as('bob', q{SELECT clv_train('shop', 'customers')}, qr/42501/, 'a reader still cannot train');
fails_as('bob', q{SELECT clv_drop_model('shop')}, qr/42501/, 'a reader still cannot drop');
fails_as('carol', $predict, qr/42501/, 'carol was not granted');
ok_as('alice', q{SELECT clv_revoke_model('shop', 'bob')}, 'alice revokes');
fails_as('bob', $predict, qr/42501/, 'revoked: bob cannot predict again');
ok_as('alice', q{SELECT clv_grant_model('shop', 'public')}, 'alice grants shop to public');
is(ok_as('carol', $predict, 'carol predicts after the public grant'), $alice_p, 'public: everybody reads');
fails_as('alice', q{SELECT clv_grant_model('shop', 'nobody_such')}, qr/42704: role "nobody_such" does not exist/,
	'granting to a missing role: 42704');

# One name, one kind.
fails_as('alice', q{SELECT clv_kmeans_train('shop', 'customers', ARRAY['frequency', 'recency'], 2)},
	qr/42809: clv model "shop" is a btyd model, not a kmeans model/, 'one name holds one kind');

# A team: a name owned by the role analytics; its members train and drop it.
is(ok_as('carol', q{SET ROLE analytics; SELECT version || ' ' || trained_by FROM clv_train('team', 'customers', 'bgnbd', NULL)},
	'carol trains as analytics'), '1 analytics', 'a model trained under SET ROLE belongs to that role');
is(ok_as('alice', q{SELECT version || ' ' || trained_by FROM clv_train('team', 'customers', 'bgnbd', NULL)},
	'alice, a member of analytics, trains a new version'), '2 alice', 'a member of the owner trains it');
fails_as('bob', q{SELECT clv_train('team', 'customers', 'bgnbd', NULL)}, qr/42501/, 'bob is not in the team');
ok_as('carol', q{SELECT clv_drop_model('team', 2)}, 'carol drops version 2');
is(ok_as('carol', q{SELECT version FROM clv_train('team', 'customers', 'bgnbd', NULL)}, 'retrain'),
	'3', 'a dropped version number is never reused');
fails_as('carol', q{UPDATE clv_model_names SET last_version = 1 WHERE name = 'team'},
	qr/22023: the last version of clv model "team" cannot go back/, 'the owner cannot wind the counter back');

# The same holds for K-Means models and clv_cluster.
ok_as('alice', q{SELECT clv_kmeans_train('segs', 'customers', ARRAY['frequency', 'recency'], 2)}, 'alice trains K-Means');
fails_as('bob', q{SELECT clv_cluster('segs', ARRAY[1, 2]::float8[])}, qr/42501/, 'bob cannot use her segmentation');
fails_as('bob', q{SELECT clv_kmeans_train('segs', 'customers', ARRAY['frequency', 'recency'], 2)}, qr/42501/,
	'bob cannot train her segmentation');

# The catalog as clv_catalog_distribute() leaves it on Citus: no stamping
# trigger, so the training functions' own numbering and the INSERT policy
# are all there is (the Citus cluster test, test/citus/run.sh, runs the
# same on real reference tables).
$node->safe_psql('postgres', q{DROP TRIGGER clv_models_stamp ON clv_models});
is(ok_as('alice', q{SELECT version || ' ' || trained_by || ' ' || (trained_at > now() - interval '1 hour') FROM clv_train('shop', 'customers')},
	'alice trains without the trigger'), '2 alice true', 'without the trigger the training function numbers and stamps');
is(ok_as('bob', q{SELECT version || ' ' || trained_by FROM clv_train('bobs2', 'customers', 'bgnbd', NULL)}, 'bob trains a new name'),
	'1 bob', 'a new name is claimed and numbered without the trigger');
is(ok_as('carol', q{SELECT version FROM clv_train('team', 'customers', 'bgnbd', NULL)}, 'team retrain'),
	'4', 'numbers still follow the counter');
fails_as('bob', q{INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('shop', 3, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'bob')},
	qr/42501: new row violates row-level security policy/, 'bob cannot insert a version of alice\'s name');
fails_as('bob', q{INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('bobs2', 1, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'alice')},
	qr/42501: new row violates row-level security policy/, 'nor one that names another trainer');
fails_as('bob', q{INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('bobs2', 5, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'bob')},
	qr/42501: new row violates row-level security policy/, 'nor one with a number that was not handed out');
fails_as('bob', q{UPDATE clv_model_names SET last_version = last_version + 1 WHERE name = 'bobs2';
	INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('bobs2', 2, 'kmeans', '{}', 'bob')},
	qr/42501: new row violates row-level security policy/, 'nor one of another kind');
is(ok_as('bob', q{UPDATE clv_model_names SET last_version = last_version + 1 WHERE name = 'bobs2';
	INSERT INTO clv_models (name, version, kind, params, trained_by)
	VALUES ('bobs2', 3, 'btyd', '{"r": 1, "alpha": 1, "a": 1, "b": 1}', 'bob') RETURNING version},
	'bob stores a version of his own the documented way'), '3', 'a plain INSERT with the number it took is stored');
fails_as('bob', q{UPDATE clv_model_names SET last_version = last_version + 1 WHERE name = 'bobs2';
	INSERT INTO clv_models (name, version, kind, params, trained_by, artifact)
	VALUES ('bobs2', 4, 'btyd', '{}', 'bob', '\x7b00')},
	qr/42501: new row violates row-level security policy/, 'a plain INSERT with an artifact is refused by the policy');
is(ok_as('bob', q{SELECT count(*) FROM clv_models WHERE name = 'team'}, 'bob reads clv_models'), '0',
	'the read policy still hides the versions of a name not granted to bob');
is(ok_as('bob', q{DELETE FROM clv_models WHERE name = 'shop' RETURNING 1}, 'bob deletes'), '',
	'the drop policy still protects the versions of a name bob reads but does not own');

$node->stop;
done_testing();
