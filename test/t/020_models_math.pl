# The model math on its own (no server): compiles test/c/math_check.c with
# the model sources and runs it.  It checks the likelihoods at the published
# optima (CDNOW BG/NBD, Pareto/NBD, Gamma-Gamma; donations BG/BB), analytic
# against numerical gradients, the published predictions, that P(X(t)=n)
# sums to 1 with mean E[X(t)], and extreme rows -- including the Pareto/NBD
# row (254, 97.43, 97.29) with recency > t that the SQL glue rejects.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

my $root = $ENV{CLV_ROOT} or die "CLV_ROOT not set";
my $dir = tempdir(CLEANUP => 1, DIR => $ENV{TESTDIR} // '/tmp');
my $gsl = `gsl-config --cflags --libs`;
$gsl =~ s/\n/ /g;
my @src = map { "$root/src/$_.c" } qw(specfun bgnbd mbgnbd pareto_nbd bgbb gamma_gamma btyd);
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
