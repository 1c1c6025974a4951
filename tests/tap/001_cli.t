# Command line: help, version, usage errors, exit codes. No server needed.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $r = run_pgbaton(['--help']);
is($r->{rc}, 0, '--help exits 0');
like($r->{stdout}, qr/Usage: pgbaton COMMAND/, '--help shows usage');
like($r->{stdout}, qr/^\s+check\s/m, '--help lists check');

$r = run_pgbaton(['--version']);
is($r->{rc}, 0, '--version exits 0');
like($r->{stdout}, qr/^pgbaton \d+\.\d+\.\d+$/m, '--version prints the version');

$r = run_pgbaton(['frobnicate']);
is($r->{rc}, 2, 'unknown command exits 2');
like($r->{stderr}, qr/unknown command "frobnicate"/, 'unknown command is named');

$r = run_pgbaton(['check', '--bogus']);
is($r->{rc}, 2, 'unknown option exits 2');
like($r->{stderr}, qr/unknown option --bogus/, 'unknown option is named');

$r = run_pgbaton(['check', '--help']);
is($r->{rc}, 0, 'check --help exits 0');
like($r->{stdout}, qr/--source CONNSTR/, 'check --help lists --source');

$r = run_pgbaton(['check'], env => { PGBATON_SOURCE => undef, PGBATON_TARGET => undef });
is($r->{rc}, 2, 'check without connections exits 2');
like($r->{stderr}, qr/pass --source CONNSTR or set PGBATON_SOURCE/, 'missing source is explained');

$r = run_pgbaton(['check', '--name', 'Bad-Name', '-s', 'host=x', '-t', 'host=y']);
is($r->{rc}, 2, 'invalid --name exits 2');
like($r->{stderr}, qr/invalid --name/, 'invalid --name is named');

$r = run_pgbaton(['check', '-s', "host=x password='$PgbatonTest::PASSWORD", '-t', 'host=y']);
is($r->{rc}, 2, 'unparsable connection string exits 2');
like($r->{stderr}, qr/invalid source connection string/, 'unparsable string is named');

done_testing();
