# ALTER EXTENSION clv UPDATE from every released version must give exactly
# the objects of a fresh install of the current version.  pg_dump does not
# dump an extension's member objects (only CREATE EXTENSION), except in
# --binary-upgrade mode, which writes each member with its definition, ACL
# and comment and an ALTER EXTENSION ... ADD: so the two databases are
# compared by their binary-upgrade schema dumps (with the OIDs that mode
# pins taken out) and by the member list from pg_depend.  A last check
# shows that the comparison fails when an upgrade misses one object.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT is not set";

# The versions: the default (in development) from clv.control, the released
# ones from their frozen scripts in sql/.
open(my $ctl, '<', "$root/clv.control") or die "clv.control: $!";
my ($current) = map { /^default_version\s*=\s*'([^']+)'/ ? $1 : () } <$ctl>;
close($ctl);
die "no default_version in clv.control" unless defined $current;
my @released = sort map { m{/clv--([0-9.]+)\.sql$} ? $1 : () } glob("$root/sql/clv--*.sql");
ok(scalar(@released) > 0, "released versions to upgrade from: @released (current $current)");

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

# The extension's member objects, described, with their kind of dependency.
my $members_sql = q{
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension e ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
	AND d.refobjid = e.oid
WHERE e.extname = 'clv' AND d.deptype = 'e'
ORDER BY 1};

# The schema of a database as pg_dump --binary-upgrade writes it, without
# what depends only on when objects were created: OIDs (binary_upgrade_set_
# next_*_oid, the configuration tables' OIDs), frozen xids, and pg_dump's
# random \restrict key.
sub schema_dump
{
	my ($db) = @_;
	my ($out, $err);
	IPC::Run::run(
		[ 'pg_dump', '--schema-only', '--binary-upgrade', '-d', $node->connstr($db) ],
		'>', \$out, '2>', \$err)
	  or die "pg_dump $db: $err";
	my @lines = grep {
		!/binary_upgrade_set_next_/
		  && !/^\\(un)?restrict /		# pg_dump's per-dump random key
		  && !/^-- Dumped/
	} split /\n/, $out;
	my $text = join("\n", @lines) . "\n";
	# binary_upgrade_create_empty_extension('clv', 'public', false, '0.2',
	# '{oid,oid}', '{"",""}', ...): the configuration tables' OIDs differ.
	$text =~ s/(binary_upgrade_create_empty_extension\([^)]*?)'\{[0-9,]+\}'/$1'{oids}'/g;
	# The tables' frozen xids and OIDs (UPDATE pg_class SET relfrozenxid =
	# ... WHERE oid = ...) depend on when they were created.
	$text =~ s/relfrozenxid = '[0-9]+'/relfrozenxid = 'xid'/g;
	$text =~ s/relminmxid = '[0-9]+'/relminmxid = 'mxid'/g;
	$text =~ s/WHERE oid = '[0-9]+'/WHERE oid = 'oid'/g;
	return $text;
}

# A unified diff of two texts for the failure message (the first 80 lines).
my $ndiff = 0;
sub text_diff
{
	my ($want, $got) = @_;
	my $base = $PostgreSQL::Test::Utils::tmp_check . '/diff' . $ndiff++;
	PostgreSQL::Test::Utils::append_to_file("$base.fresh", $want);
	PostgreSQL::Test::Utils::append_to_file("$base.updated", $got);
	my @diff = `diff -u $base.fresh $base.updated`;
	return join('', @diff[0 .. ($#diff < 79 ? $#diff : 79)]);
}

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION clv');
is($node->safe_psql('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'clv'"),
	$current, "a fresh install is version $current");
my $fresh_dump = schema_dump('fresh');
my $fresh_members = $node->safe_psql('fresh', $members_sql) . "\n";
like($fresh_dump, qr/ALTER EXTENSION clv ADD FUNCTION public\.clv_fit\(/,
	'the binary-upgrade dump lists the member objects');

foreach my $from (@released)
{
	next if $from eq $current;
	my $db = 'from_' . ($from =~ s/\./_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION clv VERSION '$from'");
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'clv'"),
		$from, "version $from installs from its frozen script");
	$node->safe_psql($db, 'ALTER EXTENSION clv UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'clv'"),
		$current, "ALTER EXTENSION clv UPDATE goes from $from to $current");
	my $members = $node->safe_psql($db, $members_sql) . "\n";
	ok($members eq $fresh_members, "updated from $from: the same member objects as a fresh install")
	  or diag(text_diff($fresh_members, $members));
	my $dump = schema_dump($db);
	ok($dump eq $fresh_dump, "updated from $from: the same schema dump as a fresh install")
	  or diag(text_diff($fresh_dump, $dump));
}

# The comparison can fail: an update that misses one function (dropped
# from the extension after the update) differs from the fresh install in
# both the member list and the dump.
$node->safe_psql('postgres', 'CREATE DATABASE missing');
$node->safe_psql('missing', 'CREATE EXTENSION clv');
$node->safe_psql('missing', q{
ALTER EXTENSION clv DROP FUNCTION public.clv_rfm_segment(integer, integer, integer);
DROP FUNCTION public.clv_rfm_segment(integer, integer, integer);
});
isnt($node->safe_psql('missing', $members_sql) . "\n", $fresh_members,
	'a missing function changes the member list');
ok(schema_dump('missing') ne $fresh_dump, 'a missing function changes the schema dump');

$node->stop;
done_testing();
