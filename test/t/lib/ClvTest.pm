# Shared set-up of the TAP tests.
package ClvTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(clv_cdnow_customers_sql clv_readme_tables_sql);

# SQL that loads BTYD's CDNOW calibration summary (2,357 customers) into a
# table "customers" with the columns clv_train reads.
sub clv_cdnow_customers_sql
{
	my $root = $ENV{CLV_ROOT} or die "CLV_ROOT is not set";
	return qq{
CREATE TABLE cbs_raw (cust int, x int, t_x float8, t_cal float8, x_star int, m_x float8);
\\copy cbs_raw FROM '$root/data/BTYD_cdnowSummary_cbs.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE customers AS
SELECT cust AS customer_id, x::float8 AS frequency, t_x AS recency, t_cal AS t,
	   CASE WHEN x > 0 THEN m_x END AS monetary_value
FROM cbs_raw;
};
}

# SQL that creates the tables README.md's examples name (test/t/lib/readme_tables.sql,
# shared with test/bench/regressor.sh), with the paths of this checkout.
sub clv_readme_tables_sql
{
	my $root = $ENV{CLV_ROOT} or die "CLV_ROOT is not set";
	open(my $fh, '<', "$root/test/t/lib/readme_tables.sql")
	  or die "readme_tables.sql: $!";
	local $/;
	my $sql = <$fh>;
	close $fh;
	$sql =~ s/\@ROOT\@/$root/g;
	return $sql;
}

1;
