# pgbaton start, copy phase: an interrupted copy (SIGKILL, then SIGTERM) is
# never resumed silently: start refuses with the reason and --restart drops
# what was copied and the slot, then copies again; the result equals the
# source. To interrupt deterministically, a session holds a lock on
# pgbaton.table_state on the target: the copy stops right after creating
# the slot and the pre-data schema, until the lock is released.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
my $name = 'rs';

$src->safe_psql('app', q{
CREATE SCHEMA extra;
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
CREATE TABLE extra.e (id int PRIMARY KEY REFERENCES t (id));
INSERT INTO extra.e SELECT g FROM generate_series(1, 100) g;
SELECT lo_from_bytea(0, '\xdeadbeef');
});
my $hash_t = table_hash($src, 't');

# the state schema exists beforehand so that its table can be locked
$dst->safe_psql('app',
	PostgreSQL::Test::Utils::slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql"));

my @conn = ('-s', connstr($src), '-t', connstr($dst), '--name', $name);

# Start a copy that stops after pre-data; returns (process, lock session).
sub blocked_start
{
	my (@extra) = @_;
	my $lock = $dst->background_psql('app');
	$lock->query_safe('BEGIN; LOCK TABLE pgbaton.table_state IN ACCESS EXCLUSIVE MODE');
	my $p = start_pgbaton([ 'start', @conn, @extra ]);
	ok(poll_until(sub {
		$dst->safe_psql('app', "SELECT count(*) FROM pg_class WHERE relname = 't'") eq '1';
	}), 'copy reached the pre-data schema');
	return ($p, $lock);
}

# 1. SIGKILL during the copy
my ($p, $lock) = blocked_start();
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'copying', 'phase copying');
my $r = finish_pgbaton($p, signal => 'KILL');
is($r->{signal}, 9, 'the blocked copy was still running when killed');
$lock->query_safe('ROLLBACK');
$lock->quit;

$r = run_pgbaton([ 'start', @conn ]);
is($r->{rc}, 1, 'start after an interrupted copy exits 1');
like($r->{stderr},
	qr/the copy of migration rs was interrupted; an exported snapshot cannot be re-opened, so the copy must start over: run pgbaton start --restart/,
	'the refusal says why and what to do');
is(scalar(() = $r->{stderr} =~ /ERROR/g), 1, 'in one line');

# 2. SIGTERM during the --restart'ed copy
($p, $lock) = blocked_start('--restart');
ok(poll_until(sub {
	$dst->safe_psql('app', "SELECT count(*) FROM pgbaton.migration WHERE phase = 'copying'") eq '1';
}), 'restarted copy running');
ok($p->{h}->pumpable, 'the restarted copy is still running before SIGTERM');
$p->{h}->signal('TERM');
$lock->query_safe('ROLLBACK');
$lock->quit;
$r = finish_pgbaton($p);
is($r->{rc}, 1, 'SIGTERM during the copy: exit 1');
like($r->{stderr}, qr/interrupted by a stop signal.*--restart/, 'says the copy must restart');
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'failed', 'phase failed');
like($dst->safe_psql('app', "SELECT last_error FROM pgbaton.migration"), qr/--restart/,
	'last_error recorded');

$r = run_pgbaton([ 'start', @conn ]);
is($r->{rc}, 1, 'start after a failed copy exits 1');
like($r->{stderr}, qr/must start over/, 'and refuses');

# 3. --restart to the end
$p = start_pgbaton([ 'start', @conn, '--restart' ]);
ok(wait_phase($dst, $name, 'streaming', process => $p), 'restarted copy completes');
$r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'exit 0');
like($r->{stderr}, qr/dropped slot rs/, 'the old slot was dropped');
# (what the failed schema copy, below, must not print)
like($r->{stderr}, qr/copying \d+ items/, 'the data copy is logged');
is(table_hash($dst, 't'), $hash_t, 't equal to the source');
is(table_hash($dst, 'extra.e'), table_hash($src, 'extra.e'), 'extra.e equal to the source');
is($dst->safe_psql('app', "SELECT count(*) FROM pg_largeobject_metadata"), '1',
	'large objects copied once');
is($src->safe_psql('app', "SELECT count(*) FROM pg_replication_slots"), '1', 'one slot');
is($dst->safe_psql('app', "SELECT count(*) FROM pgbaton.migration"), '1', 'one migration row');

# --restart once the copy is done is refused
$r = run_pgbaton([ 'start', @conn, '--restart' ]);
is($r->{rc}, 2, '--restart after the copy: exit 2');
like($r->{stderr}, qr/only applies to an interrupted copy/, 'explained');

# 4. the pre-data restore fails (the copy workers, already connected and
# waiting for the schema, must leave): a target database that has no table
# but already has a schema of the source's name passes the preflight, and
# CREATE SCHEMA extra then fails in pg_restore
$dst->safe_psql('postgres', 'CREATE DATABASE clash OWNER migrator');
$dst->safe_psql('clash', 'CREATE SCHEMA extra AUTHORIZATION migrator');
my @clash = ('-s', connstr($src), '-t', connstr($dst, dbname => 'clash'), '--name', 'clash');
$r = run_pgbaton([ 'start', @clash, '--jobs', '2' ]);
is($r->{rc}, 1, 'failed schema copy: exit 1');
like($r->{stderr},
	qr/the schema copy failed; the copy cannot be resumed: run pgbaton start --restart/,
	'says the schema copy failed and how to start over');
unlike($r->{stderr}, qr/copying \d+ items/, 'no data was copied');
is($dst->safe_psql('clash', "SELECT phase FROM pgbaton.migration WHERE name = 'clash'"),
	'failed', 'phase failed');
is($dst->safe_psql('clash', "SELECT count(*) FROM pg_class WHERE relname = 't'"),
	'0', 'nothing of the pre-data was left (one transaction)');
$src->safe_psql('app', "SELECT pg_drop_replication_slot('clash')");

done_testing();
