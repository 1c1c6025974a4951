# cutover failures: a lag that never gets small (exit 4, source untouched),
# failures after the freeze (fence never applied, a write after the fence:
# exit 4, source writable again, state back to streaming), a cutover killed
# after the freeze (status says so; recovered by abort, and by a second
# cutover). tests/tap/lib/FakeApplier.pm plays `start`; the one table
# compared is equal on both sides by construction.
use strict;
use warnings;
use FakeApplier;
use IPC::Run;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));

for my $n ($src, $tgt)
{
	$n->safe_psql('app', 'CREATE TABLE t (i int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)');
}
$src->safe_psql('app', q{
	CREATE TABLE probe (i int);
	CREATE ROLE carol LOGIN;
	GRANT INSERT ON probe TO carol;
});
set_password($src, 'carol', 'carol-pw');
my @tables = (tables => [ [ 'public', 't', 'copied', 100, 1000, 8192 ] ]);

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

# 1. lag never below --max-lag: exit 4, nothing changed
FakeApplier::setup_state(source => $src, target => $tgt, @tables);
my $fake = FakeApplier->new(source => $src, target => $tgt, apply => 0)->start;
$tgt->safe_psql('app', q{UPDATE pgbaton.migration SET applied_lsn = '0/1',
	heartbeat_source_ts = now() - interval '1 hour'});
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
ok($fake->stop, 'scenario 1: the (fake) start ran until stopped');

# 2. fails after the freeze: start never applies the fence
$fake = FakeApplier->new(source => $src, target => $tgt, ack_fence => 0)->start;
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
ok($fake->stop, 'scenario 2: the (fake) start ran until stopped');

# 3. fails after the freeze: a change came after the fence
$src->safe_psql('app', 'ALTER DATABASE app SET default_transaction_read_only = off');
$fake = FakeApplier->new(source => $src, target => $tgt, post_fence_changes => 1)->start;
$r = run_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '30s' ]);
is($r->{rc}, 4, 'a write after the fence: exit 4');
like($r->{stderr}, qr/written on the source after the fence/, 'says a write slipped through');
is(setting(), 'default_transaction_read_only=off', 'the previous database setting is restored');
ok(carol_can_write(), 'source writable again');
ok($fake->stop, 'scenario 3: the (fake) start ran until stopped');
$src->safe_psql('app', 'ALTER DATABASE app RESET default_transaction_read_only');

# 4. killed after the freeze, recovered by abort
$fake = FakeApplier->new(source => $src, target => $tgt, ack_fence => 0)->start;
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $PgbatonTest::BIN, 'cutover', @conn, '--max-lag', '5s', '--timeout', '120s' ],
		'>', \$out, '2>', \$err, IPC::Run::timeout(300));
	ok(poll_until(sub { $tgt->safe_psql('app', 'SELECT fence_lsn IS NOT NULL FROM pgbaton.migration') eq 't' }, 60),
		'cutover froze the source and wrote its fence');
	$h->signal('KILL');
	$h->finish;
	is($h->full_result(0) & 127, 9, 'the cutover was still running when killed') or diag($err);
}
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
is(phase(), 'stopped', 'migration stopped');
ok($fake->wait_exit(30), 'the (fake) start stops when the migration is aborted');
$r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'second abort exits 0');
like($r->{stdout}, qr/nothing to abort/, 'second abort has nothing to do');

# 5. killed after the freeze, finished by a second cutover
FakeApplier::setup_state(source => $src, target => $tgt, @tables);
$fake = FakeApplier->new(source => $src, target => $tgt, ack_fence => 0)->start;
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $PgbatonTest::BIN, 'cutover', @conn, '--max-lag', '5s', '--timeout', '120s' ],
		'>', \$out, '2>', \$err, IPC::Run::timeout(300));
	ok(poll_until(sub { $tgt->safe_psql('app', 'SELECT fence_lsn IS NOT NULL FROM pgbaton.migration') eq 't' }, 60),
		'second scenario: source frozen, fence written');
	$h->signal('KILL');
	$h->finish;
	is($h->full_result(0) & 127, 9, 'second scenario: the cutover was still running when killed') or diag($err);
}
ok($fake->stop, 'scenario 5: the first (fake) start ran until stopped');
$fake = FakeApplier->new(source => $src, target => $tgt)->start;
$r = run_pgbaton([ 'cutover', @conn, '--timeout', '60s', '--skip-count' ]);
is($r->{rc}, 0, 'a second cutover finishes the interrupted one');
like($r->{stderr}, qr/resuming an interrupted cutover/, 'it says it resumes');
like($r->{stderr}, qr/row counts skipped \(--skip-count\)/, '--skip-count skips the row counts');
like($r->{stdout}, qr/target is ready/, 'target ready');
is(phase(), 'done', 'migration done');
ok(carol_refused_read_only(), 'source stays read-only after the cutover');
ok($fake->wait_exit(30), 'the (fake) start stops once done');

# clean twice (the source stays frozen after a completed cutover: clean says so)
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'clean exits 0');
like($r->{stdout}, qr/stays read-only/, 'clean says the source stays read-only');
like($r->{stdout}, qr/dropped schema pgbaton/, 'clean removed the state');
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'second clean exits 0');
like($r->{stdout}, qr/nothing to clean/, 'second clean has nothing to do');

done_testing();
