# cutover failures: a lag that never gets small (exit 4, source untouched),
# failures after the freeze (fence never applied, a write after the fence:
# exit 4, source writable again, state back to streaming), a cutover killed
# after the freeze (status says so; recovered by abort, and by a second
# cutover). The real `pgbaton start` runs in the background, streaming from
# a migration set up without the copy (setup_streaming). The situations are
# made with the real programs:
#   - lag: a session on the target locks the table a streamed change
#     touches; start stays alive (its heartbeat goes on) but applies nothing;
#   - start never applies the fence: start is stopped (SIGSTOP) just before
#     the cutover, its heartbeat still fresh; SIGCONT afterwards;
#   - a change after the fence: start stopped as above, the cutover stopped
#     (SIGSTOP) once it has written its fence, a superuser session writes
#     on the frozen source (BEGIN READ WRITE), start resumed until it has
#     applied the fence and that change, then the cutover resumed.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));

setup_streaming($src, $tgt,
	schema => 'CREATE TABLE t (i int PRIMARY KEY); CREATE TABLE probe (i int);',
	data   => 'INSERT INTO t SELECT generate_series(1, 100)');
$src->safe_psql('app', q{
	CREATE ROLE carol LOGIN;
	GRANT INSERT ON probe TO carol;
});
set_password($src, 'carol', 'carol-pw');
my $start = spawn_start($src, $tgt);
ok(wait_streaming($src, $tgt, $start), 'start is streaming, caught up');

sub setting
{
	return $src->safe_psql('postgres', q{
		SELECT coalesce(string_agg(c, ','), 'none') FROM pg_db_role_setting s, unnest(s.setconfig) c
		 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = 'app')});
}

# can a fresh session of carol write on the source?
sub carol_can_write
{
	my ($out, $err) = ('', '');
	local $ENV{PGPASSWORD} = 'carol-pw';
	return IPC::Run::run([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
			$src->port, '-U', 'carol', '-d', 'app', '-c', 'INSERT INTO probe VALUES (1)' ],
		'>', \$out, '2>', \$err);
}

sub phase
{
	return $tgt->safe_psql('app', "SELECT phase FROM pgbaton.migration WHERE name = 'pgbaton'");
}

# does a fresh session of carol get refused because the source is read-only
# (and not for another reason)?
sub carol_refused_read_only
{
	my ($out, $err) = ('', '');
	local $ENV{PGPASSWORD} = 'carol-pw';
	my $ok = IPC::Run::run([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
			$src->port, '-U', 'carol', '-d', 'app', '-c', 'INSERT INTO probe VALUES (1)' ],
		'>', \$out, '2>', \$err);
	return 1 if !$ok && $err =~ /read-only transaction/;
	diag($ok ? 'carol could write on the source' : "carol's write failed otherwise: $err");
	return 0;
}

# an open session of carol: does it survive?
sub open_session
{
	my %s = (in => "SELECT 'up';\n", out => '', err => '');
	local $ENV{PGPASSWORD} = 'carol-pw';
	$s{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-h', '127.0.0.1', '-p', $src->port, '-U', 'carol', '-d', 'app' ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err}, IPC::Run::timeout(300));
	poll_until(sub { $s{h}->pump_nb; $s{out} =~ /up/ }, 30, "carol's session to answer")
	  or die "carol's session on the source did not start: $s{err}";
	return \%s;
}

sub fence_written
{
	return $tgt->safe_psql('app', 'SELECT fence_lsn IS NOT NULL FROM pgbaton.migration') eq 't';
}

# a cutover in the background, stopped by SIGKILL once it has frozen the
# source and written its fence (start, stopped, never applies it)
sub killed_after_freeze
{
	my ($what) = @_;
	signal_pgbaton($start, 'STOP');
	my $c = start_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '120s' ]);
	ok(poll_until(\&fence_written, 60, 'the fence'), "$what: cutover froze the source and wrote its fence");
	ok($c->{h}->pumpable, "$what: the cutover waits for the fence");
	my $k = finish_pgbaton($c, signal => 'KILL');
	is($k->{signal}, 9, "$what: the cutover was still running when killed") or diag($k->{stderr});
	signal_pgbaton($start, 'CONT');
}

# 1. lag never below --max-lag: exit 4, nothing changed. A change to t is
# blocked on the target: the lag grows while start stays alive.
my $locker = $tgt->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
$src->safe_psql('app', 'UPDATE t SET i = i WHERE i = 1');
ok( poll_until(
		sub {
			my $x = decode_json(run_pgbaton([ 'status', '--json', @conn ])->{stdout});
			$x->{start_alive} && ($x->{lag_seconds} // 0) > 1.5;
		},
		30,
		'the lag to pass 1.5 s'),
	'start is alive, its lag above 1 s');
my $sess = open_session();
my $r = run_pgbaton([ 'cutover', @conn, '--max-lag', '1s', '--timeout', '3s' ]);
is($r->{rc}, 4, 'lag never small enough: exit 4');
like($r->{stderr}, qr/lag is .* above --max-lag.*nothing was changed and the source is writable/,
	'says why, and that nothing changed');
is(setting(), 'none', 'source database setting untouched');
is(phase(), 'streaming', 'state still streaming');
$sess->{in} .= "INSERT INTO probe VALUES (2);\nSELECT 'still';\n";
ok(poll_until(sub { $sess->{h}->pump_nb; $sess->{out} =~ /still/ }, 30),
	'an open session was not ended and can write');
$sess->{in} .= "\\q\n";
$sess->{h}->finish;
$locker->query_safe('COMMIT');
$locker->quit;
ok(wait_applied($src, $tgt, 60), 'scenario 1: start catches up once the table is free');

# 2. fails after the freeze: start never applies the fence (stopped)
signal_pgbaton($start, 'STOP');
$r = run_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '3s', '--json' ]);
is($r->{rc}, 4, 'fence never applied: exit 4');
like($r->{stderr}, qr/cutover failed at step "fence".*timeout/, 'says which step failed');
like($r->{stderr}, qr/source is writable again/, 'says the source is writable');
my $j = decode_json($r->{stdout});
is($j->{status}, 'rolled_back', 'json: rolled_back');
is($j->{source_writable}, JSON::PP::true, 'json: source writable');
is(setting(), 'none', 'source setting restored');
ok(carol_can_write(), 'a fresh session can write on the source again');
is(phase(), 'streaming', 'migration back to streaming');
like($tgt->safe_psql('app', 'SELECT last_error FROM pgbaton.migration'), qr/fence/,
	'last_error says what failed');
# (resumed only now: its next commit clears last_error, start being healthy)
signal_pgbaton($start, 'CONT');
ok(wait_applied($src, $tgt, 60), 'scenario 2: start resumed and caught up');

# 3. fails after the freeze: a change came after the fence
$src->safe_psql('app', 'ALTER DATABASE app SET default_transaction_read_only = off');
signal_pgbaton($start, 'STOP');
my $c = start_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '30s' ]);
ok(poll_until(\&fence_written, 60, 'the fence'), 'scenario 3: the cutover wrote its fence');
signal_pgbaton($c, 'STOP');
# a session that started after the freeze, overriding the read-only default
$src->safe_psql('app', "BEGIN READ WRITE; INSERT INTO probe VALUES (3); COMMIT");
signal_pgbaton($start, 'CONT');
ok( wait_query(
		$tgt,
		'SELECT fence_applied_at IS NOT NULL AND post_fence_changes > 0 FROM pgbaton.migration',
		't', 'start to apply the fence and the change after it'),
	'start applied the fence, then the change written after it');
signal_pgbaton($c, 'CONT');
$r = finish_pgbaton($c, timeout => 60);
is($r->{rc}, 4, 'a write after the fence: exit 4');
like($r->{stderr}, qr/written on the source after the fence/, 'says a write slipped through');
is(setting(), 'default_transaction_read_only=off', 'the previous database setting is restored');
ok(carol_can_write(), 'source writable again');
ok(wait_applied($src, $tgt, 60), 'scenario 3: start goes on');
$src->safe_psql('app', 'ALTER DATABASE app RESET default_transaction_read_only');

# 3b. interrupted (SIGINT) while the row counts run: a session on the
# target holds table t, so the target's count of it waits. The count in
# flight is cancelled, the cutover rolls back at once (not at --timeout)
# and the source is writable again.
$locker = $tgt->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
$c = start_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '600s' ]);
ok( wait_query(
		$tgt,
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM ONLY %' "
		  . "AND wait_event_type = 'Lock'",
		'1', "the target's count of t to wait for the lock"),
	'scenario 3b: the target count waits for the locked table');
signal_pgbaton($c, 'INT');
$r = finish_pgbaton($c, timeout => 60);
is($r->{rc}, 4, 'interrupted during the counts: exit 4 (rolled back), long before --timeout');
like($r->{stderr}, qr/row counts.*interrupted by a signal/, 'says the counts were interrupted');
is($tgt->safe_psql('app',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM ONLY %' "
		  . "AND state = 'active'"),
	'0', 'the count in flight on the target was cancelled');
ok(carol_can_write(), 'scenario 3b: source writable again');
is(phase(), 'streaming', 'scenario 3b: state back to streaming');
$locker->query_safe('COMMIT');
$locker->quit;
ok(wait_applied($src, $tgt, 60), 'scenario 3b: start goes on');

# 4. killed after the freeze, recovered by abort
killed_after_freeze('scenario 4');
ok(carol_refused_read_only(), 'the killed cutover left the source frozen');
$r = run_pgbaton([ 'status', @conn ]);
is($r->{rc}, 1, 'status after a killed cutover exits 1');
like($r->{stdout}, qr/cutover interrupted, source frozen: run `pgbaton cutover` to finish or `pgbaton abort` to unfreeze/,
	'status says how to recover');
$j = decode_json(run_pgbaton([ 'status', '--json', @conn ])->{stdout});
is($j->{cutover_interrupted}, JSON::PP::true, 'json: cutover_interrupted');
$r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'abort exits 0');
like($r->{stdout}, qr/unfroze source database app/, 'abort says it unfroze the source');
like($r->{stdout}, qr/dropped replication slot pgbaton/, 'abort says it dropped the slot');
ok(carol_can_write(), 'source writable after abort');
is(setting(), 'none', 'source setting restored by abort');
{
	my @acts = map { "$_->{server} $_->{action} $_->{outcome}" }
	  @{ decode_json(run_pgbaton([ 'status', '--json', '--events', @conn ])->{stdout})->{actions} };
	for my $w ('source source frozen ok', 'source fence written ok', 'target cutover rolled back ok',
		'source source unfrozen ok', 'target migration stopped ok', 'source slot dropped ok')
	{
		ok((grep { $_ eq $w } @acts), "audit trail after the failures and the abort: $w")
		  or diag(join("\n", @acts));
	}
}
is(phase(), 'stopped', 'migration stopped');
ok(wait_exited($start, 30), 'start stops when the migration is aborted');
is(stop_pgbaton($start), 0, 'start exits 0 once the migration is stopped');
$r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'second abort exits 0');
like($r->{stdout}, qr/nothing to abort/, 'second abort has nothing to do');

# 5. killed after the freeze, finished by a second cutover. A new
# migration: the aborted one cleaned up, probe (written meanwhile on the
# source only) emptied on both sides, as a copy would leave them equal.
is(run_pgbaton([ 'clean', @conn ])->{rc}, 0, 'the aborted migration cleaned up');
$_->safe_psql('app', 'TRUNCATE probe') for ($src, $tgt);
setup_streaming($src, $tgt);
$start = spawn_start($src, $tgt);
ok(wait_streaming($src, $tgt, $start), 'scenario 5: start is streaming, caught up');
killed_after_freeze('second scenario');
is(stop_pgbaton($start), 0, 'scenario 5: the first start ran until stopped (SIGTERM, exit 0)');
# a new start resumes the migration, left in phase cutover, source frozen
$start = spawn_start($src, $tgt);
$r = run_pgbaton([ 'cutover', @conn, '--timeout', '60s', '--skip-count' ]);
is($r->{rc}, 0, 'a second cutover finishes the interrupted one') or diag($r->{stderr});
like($r->{stderr}, qr/resuming an interrupted cutover/, 'it says it resumes');
like($r->{stderr}, qr/row counts skipped \(--skip-count\)/, '--skip-count skips the row counts');
like($r->{stdout}, qr/target is ready/, 'target ready');
is(phase(), 'done', 'migration done');
ok(carol_refused_read_only(), 'source stays read-only after the cutover');
ok(wait_exited($start, 30), 'start stops once done');
is(stop_pgbaton($start), 0, 'start exits 0 once done');

# clean twice (the source stays frozen after a completed cutover: clean says so)
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'clean exits 0');
like($r->{stdout}, qr/stays read-only/, 'clean says the source stays read-only');
like($r->{stdout}, qr/dropped schema pgbaton/, 'clean removed the state');
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'second clean exits 0');
like($r->{stdout}, qr/nothing to clean/, 'second clean has nothing to do');

done_testing();
