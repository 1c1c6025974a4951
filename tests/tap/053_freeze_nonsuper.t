# The freeze's session sweep (sql/freeze_terminate.sql) run by a role that is
# not a superuser: it owns the database and has pg_signal_backend, but not
# pg_read_all_stats, so other roles' sessions show NULL backend_type and
# backend_start. They must be ended all the same.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
$src->safe_psql('postgres', q{
	CREATE ROLE mig LOGIN REPLICATION;
	GRANT pg_signal_backend TO mig;
	ALTER DATABASE app OWNER TO mig;
	CREATE ROLE alice LOGIN;
});
my $root = $ENV{PGBATON_ROOT} or die "PGBATON_ROOT is not set";
my $sweep = PostgreSQL::Test::Utils::slurp_file("$root/sql/freeze_terminate.sql");

my $alice = $src->background_psql('app', on_error_stop => 0, extra_params => [ '-U', 'alice' ]);
my $pid = $alice->query_safe('SELECT pg_backend_pid()');
chomp $pid;
is($src->safe_psql('app', "SET ROLE mig; SELECT backend_type IS NULL FROM pg_stat_activity WHERE pid = $pid"),
	't', 'without pg_read_all_stats, the other role\'s session type is hidden');

(my $sql = $sweep) =~ s/\$1::float8/extract(epoch FROM clock_timestamp())::float8/;
my $res = $src->safe_psql('app', "SET ROLE mig; $sql");
like($res, qr/^\d+\|\d+$/, 'the sweep runs as the non-superuser');
ok(poll_until(sub {
	$src->safe_psql('app', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid") eq '0' }, 30),
	'the other role\'s session was ended');
eval { $alice->quit };
done_testing();
