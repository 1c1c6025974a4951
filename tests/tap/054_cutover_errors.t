# cutover error paths: row counts that differ and a row count that outlasts
# --timeout (exit 4, the source writable again, the state back to
# streaming), an --exec hook that fails and one whose command is missing
# (exit 1, the target ready all the same; the hook gets a clean
# environment: no PGBATON_SOURCE, no descriptor of pgbaton's, SIGPIPE not
# ignored; with --json its output goes to stderr and stdout stays one JSON
# object), and an unknown migration with --json. The real `pgbaton start`
# runs in the background, streaming from a migration set up without the
# copy (setup_streaming); after a completed cutover, clean and a new one.
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));
my $tmp = $PostgreSQL::Test::Utils::tmp_check;

sub setting
{
	return $src->safe_psql('postgres', q{
		SELECT coalesce(string_agg(c, ','), 'none') FROM pg_db_role_setting s, unnest(s.setconfig) c
		 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app')});
}

sub phase
{
	return $tgt->safe_psql('app', "SELECT phase FROM pgbaton.migration WHERE name = 'pgbaton'");
}

sub slurp { return PostgreSQL::Test::Utils::slurp_file($_[0]) }

# a streaming migration with `start` running and caught up; the source
# writable. The first one creates table t (100 rows) on both sides; later
# ones find it there (a completed migration was cleaned up first).
my $first = 1;
sub fresh_migration
{
	$src->safe_psql('postgres', 'ALTER DATABASE app RESET default_transaction_read_only');
	setup_streaming($src, $tgt,
		$first
		? (schema => 'CREATE TABLE t (i int PRIMARY KEY)',
			data => 'INSERT INTO t SELECT generate_series(1, 100)')
		: ());
	$first = 0;
	my $p = spawn_start($src, $tgt);
	ok(wait_streaming($src, $tgt, $p), 'start is streaming, caught up');
	return $p;
}

# after a completed cutover: start has left by itself (exit 0), and clean
# makes room for the next migration
sub done_and_clean
{
	my ($p, $what) = @_;
	ok(wait_exited($p, 30), "$what: start stops on its own once done");
	is(stop_pgbaton($p), 0, "$what: start exits 0");
	is(run_pgbaton([ 'clean', @conn ])->{rc}, 0, "$what: clean");
}

# 1. row counts differ: rolled back
my $start = fresh_migration();
$tgt->safe_psql('app', 'DELETE FROM t WHERE i = 100');
my $r = run_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '60s', '--json' ]);
is($r->{rc}, 4, 'row counts differ: exit 4');
like($r->{stderr}, qr/cutover failed at step "row counts": table public\.t has 100 rows on the source, 99 on the target/,
	'names the table and both counts');
like($r->{stderr}, qr/source is writable again/, 'says the source is writable');
my $j = decode_json($r->{stdout});
is($j->{status}, 'rolled_back', 'json: rolled_back');
is($j->{failed_step}, 'row counts', 'json: the failed step');
is($j->{source_writable}, JSON::PP::true, 'json: source writable');
is(setting(), 'none', 'source database setting restored');
is(phase(), 'streaming', 'migration back to streaming');
$tgt->safe_psql('app', 'INSERT INTO t VALUES (100)');
ok($start->{h}->pumpable, 'start goes on streaming after the rollback');

# 2. a count that outlasts --timeout (the table locked on the target; start
# has nothing to apply to it). With no copy, no table waits for ANALYZE:
# the lock does not hold the cutover up before the freeze.
my $locker = $tgt->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
$r = run_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '5s' ]);
is($r->{rc}, 4, 'a count past --timeout: exit 4');
like($r->{stderr}, qr/counting public\.t on the target did not finish before --timeout/,
	'says the count ran out of time, and what to do');
like($r->{stderr}, qr/source is writable again/, 'the source was unfrozen after the timed-out count');
is(setting(), 'none', 'source database setting restored');
is(phase(), 'streaming', 'migration back to streaming');
$locker->query_safe('COMMIT');
$locker->quit;
ok(wait_applied($src, $tgt, 60), 'start still applies after the second rollback');

# 3. a hook that fails, with --json; PGBATON_SOURCE from the environment
my $dir = "$tmp/hook";
mkdir $dir;
my $hook = "echo hook-output; printf '%s' \"\${PGBATON_SOURCE-unset}\" > $dir/source; "
  . "ls /proc/self/fd > $dir/fds; grep '^SigIgn' /proc/\$\$/status > $dir/sigign; exit 3";
$r = run_pgbaton([ 'cutover', '-t', connstr($tgt), '--max-lag', '5s', '--timeout', '60s',
		'--json', '--exec', $hook ],
	env => { PGBATON_SOURCE => connstr($src) });
is($r->{rc}, 1, 'a failing hook: exit 1');
like($r->{stderr}, qr/the --exec hook failed \(exit status 3\); the target is ready all the same/,
	'says the hook failed and that the target is ready');
$j = eval { decode_json($r->{stdout}) };
ok($j, 'with --json and a hook that prints, stdout is one JSON object') or diag($r->{stdout});
is($j->{status}, 'done', 'json: done');
is($j->{exec_status}, 3, 'json: the hook\'s exit status');
is($j->{source_writable}, JSON::PP::false, 'json: the source stays read-only');
like($r->{stderr}, qr/^hook-output$/m, 'the hook\'s output went to stderr');
is(phase(), 'done', 'migration done all the same');
is(slurp("$dir/source"), 'unset',
	'the hook does not inherit PGBATON_SOURCE (a connection string with a password)');
# ls itself holds 3, the directory it lists
is(slurp("$dir/fds"), "0\n1\n2\n3\n", 'the hook inherits no descriptor but 0, 1, 2');
my ($ign) = slurp("$dir/sigign") =~ /^SigIgn:\s*([0-9a-f]+)/;
ok(defined $ign && (hex($ign) & (1 << 12)) == 0, 'SIGPIPE is not ignored in the hook')
  or diag("SigIgn: " . ($ign // '?'));
done_and_clean($start, 'failing hook');

# 4. a hook whose command does not exist
$start = fresh_migration();
$r = run_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '60s', '--skip-count',
		'--exec', 'no-such-command-pgbaton' ]);
is($r->{rc}, 1, 'a missing hook command: exit 1');
like($r->{stderr}, qr/\(exit status 127, command not found\); the target is ready all the same/,
	'says the command was not found');
like($r->{stdout}, qr/target is ready/, 'final line says the target is ready');
is(phase(), 'done', 'migration done');
done_and_clean($start, 'missing hook');

# 5. an unknown migration, --json: one object all the same
$r = run_pgbaton([ 'cutover', @conn, '--name', 'nosuch', '--json' ]);
is($r->{rc}, 1, 'unknown migration: exit 1');
like($r->{stderr}, qr/no migration named "nosuch" on the target/, 'says there is no such migration');
$j = eval { decode_json($r->{stdout}) };
ok($j, 'stdout is one JSON object') or diag($r->{stdout});
is($j->{status}, 'not_started', 'json: not_started');

done_testing();
