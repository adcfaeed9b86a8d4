# The model math on its own (no server): compiles test/c/math_check.c with
# the model sources and runs it.  It checks the registry (each table's kind
# is its index, names are unique, every model has the hooks of its sort),
# the likelihoods at the published optima (CDNOW BG/NBD, Pareto/NBD,
# Gamma-Gamma; donations BG/BB), analytic against numerical gradients, the
# published predictions, that P(X(t)=n) sums to 1 with mean E[X(t)], and
# extreme rows -- including the Pareto/NBD row (254, 97.43, 97.29) with
# recency > t that the SQL glue rejects.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT not set";
my $dir = tempdir(CLEANUP => 1, DIR => $ENV{TESTDIR} // '/tmp');
my $gsl = `gsl-config --cflags --libs`;
$gsl =~ s/\n/ /g;
# Every plain-C file of src/ (the math tier: no PostgreSQL header) is linked
# in, so a new model file is compiled here without touching this test, and a
# math file that starts to need the server fails to link.
my @src;
for my $f (sort glob("$root/src/*.c"))
{
	open(my $fh, '<', $f) or die "$f: $!";
	local $/;
	my $text = <$fh>;
	push @src, $f unless $text =~ /^#include "postgres\.h"/m;
}
my $cmd = "gcc -O2 -std=gnu99 -Wall -I$root/src -o $dir/math_check $root/test/c/math_check.c @src $gsl -lm 2>&1";
my $out = `$cmd`;
is($?, 0, 'math_check compiles') or diag($out);

my @lines = `$dir/math_check $root`;
my $rc = $?;
my ($pass, $fail) = (0, 0);
for (@lines)
{
	chomp;
	if (/^(not )?ok \d+ - (.*)$/)
	{
		ok(!defined $1, $2);
	}
	elsif (/^#/)
	{
		diag($_);
	}
}
is($rc, 0, 'math_check exit status');
done_testing();
