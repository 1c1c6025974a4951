# cutover under concurrent writes from two roles: no acknowledged write lost,
# writes rejected on the source afterwards (fresh session and a session that
# was open before), sequences copied, NOTIFY and --exec, a second cutover
# says it is done, abort and clean run twice.
#
# The real `pgbaton start` streams in the background, from a migration set
# up without the copy (setup_streaming, with the table_state rows a copy
# leaves). So that the tables are still waiting for ANALYZE when the
# cutover begins (start analyzes them beside the stream), a session on the
# target holds a SHARE UPDATE EXCLUSIVE lock on them (ANALYZE waits for it;
# the applier's writes do not) until the cutover's own ANALYZE waits too.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));
my $tmp = $PostgreSQL::Test::Utils::tmp_check;

my $ddl = q{
	CREATE TABLE writes (id bigserial PRIMARY KEY, who text NOT NULL, n int NOT NULL);
	CREATE TABLE items (id serial PRIMARY KEY, v text);
	CREATE SEQUENCE free_seq;
	CREATE SEQUENCE fresh_seq START 100;
};
setup_streaming($src, $tgt,
	schema => $ddl,
	data   => q{INSERT INTO items (v) SELECT 'item ' || i FROM generate_series(1, 50) i},
	tables => [ 'public.writes', 'public.items' ]);
$src->safe_psql('app', q{
	SELECT nextval('free_seq') FROM generate_series(1, 7);
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	GRANT INSERT, SELECT ON writes TO alice, bob;
	GRANT USAGE ON SEQUENCE writes_id_seq TO alice, bob;
});
set_password($src, $_, "$_-pw") for qw(alice bob);

my $analyze_lock = $tgt->background_psql('app');
$analyze_lock->query_safe(
	'BEGIN; LOCK TABLE writes, items IN SHARE UPDATE EXCLUSIVE MODE');
my $start = spawn_start($src, $tgt);
ok(wait_streaming($src, $tgt, $start), 'start is streaming, caught up');
is($tgt->safe_psql('app', 'SELECT count(*) FROM items'), '50', 'the target has the initial data');

# a session of alice opened before the cutover
my ($bin, $bout, $berr) = ('', '', '');
$ENV{PGPASSWORD} = 'alice-pw';
my $before = IPC::Run::start(
	[ 'psql', '-XAtq', '-h', '127.0.0.1', '-p', $src->port, '-U', 'alice', '-d', 'app' ],
	'<', \$bin, '>', \$bout, '2>', \$berr,
	IPC::Run::timeout(300));
$bin .= "SELECT 'connected';\n";
ok(poll_until(sub { $before->pump_nb; $bout =~ /connected/ }, 30), 'session opened before the cutover');
delete $ENV{PGPASSWORD};

# a listener on the target
my ($lin, $lout, $lerr) = ("LISTEN pgbaton_cutover;\nSELECT 'listening';\n", '', '');
my $listener = IPC::Run::start(
	[ 'psql', '-XAtq', '-h', $tgt->host, '-p', $tgt->port, '-d', 'app' ],
	'<', \$lin, '>', \$lout, '2>', \$lerr, IPC::Run::timeout(300));
ok(poll_until(sub { $listener->pump_nb; $lout =~ /listening/ }, 30), 'listener on the target');

# two writers, two roles, one new session per insert; "ok N" once committed
my $stop = "$tmp/stop-writers";
my %writer;
for my $role (qw(alice bob))
{
	my $script = qq{
		i=0
		while [ ! -e '$stop' ]; do
			i=\$((i+1))
			if out=\$(psql -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p @{[ $src->port ]} -U $role -d app \\
			          -c "INSERT INTO writes (who, n) VALUES (current_user, \$i) RETURNING n" 2>&1); then
				echo "ok \$out"
			else
				echo "err \$i \$(echo \$out | tr '\\n' ' ')"
			fi
		done
	};
	my $out = '';
	$writer{$role} = {
		out => \$out,
		h => IPC::Run::start([ 'bash', '-c', $script ], '>', \$out, '2>&1',
			init => sub { $ENV{PGPASSWORD} = "$role-pw" }),
	};
}
sub acked
{
	my ($role) = @_;
	$writer{$role}{h}->pump_nb unless $writer{$role}{done};
	return [ ${ $writer{$role}{out} } =~ /^ok (\d+)$/mg ];
}
ok(poll_until(sub { @{ acked('alice') } >= 20 && @{ acked('bob') } >= 20 }, 60),
	'both roles are writing');

# the cutover, under load, in the background: once its ANALYZE waits for
# the lock, the lock goes
my $hookdir = "$tmp/hook";
mkdir $hookdir;
my $hook = "echo run >> $hookdir/runs; printf '%s' \"\$PGBATON_TARGET\" > $hookdir/target; "
  . "printf '%s' \"\$PGBATON_NAME\" > $hookdir/name; "
  . "tr '\\0' ' ' < /proc/\$\$/cmdline > $hookdir/cmdline; "
  . "tr '\\0' ' ' < /proc/\$PPID/cmdline > $hookdir/parent_cmdline";
my $cut = start_pgbaton([ 'cutover', @conn, '--max-lag', '5s', '--timeout', '90s', '--exec', $hook ]);
# (two ANALYZEs wait: start's, and the cutover's; the test harness's
# PGAPPNAME names every session after the test, so they are counted)
ok( wait_query(
		$tgt,
		q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ANALYZE %' AND wait_event_type = 'Lock'},
		'2', 'the cutover\'s ANALYZE to wait for the lock, beside start\'s'),
	'the cutover analyzes the tables before anything else');
$analyze_lock->query_safe('COMMIT');
$analyze_lock->quit;
my $r = finish_pgbaton($cut, timeout => 120);
is($r->{rc}, 0, 'cutover exits 0') or diag($r->{stderr});
like($r->{stdout}, qr/^write-unavailable: \d+ ms/m, 'write-unavailability printed');
like($r->{stdout}, qr/target is ready/, 'final line says the target is ready');
like($r->{stderr}, qr/row counts of 2 table\(s\) equal/, 'row counts compared');
# start had gathered no statistics yet: cutover does, before the freeze
like($r->{stderr}, qr/ANALYZE of 2 copied tables.*step 2\/7: freezing/s,
	'cutover analyzes the tables start had not analyzed, before the freeze');
is($tgt->safe_psql('app',
		q{SELECT count(*) FROM pgbaton.table_state WHERE analyzed_at IS NULL}),
	'0', 'every table marked analyzed');
isnt($tgt->safe_psql('app',
		q{SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'items'}),
	'', 'items analyzed on the target');

# let the writers run on the frozen source a little, then stop them
ok(poll_until(sub { acked('alice'); ${ $writer{alice}{out} } =~ /read-only transaction/ }, 30),
	'a fresh session of alice is refused after the cutover');
ok(poll_until(sub { acked('bob'); ${ $writer{bob}{out} } =~ /read-only transaction/ }, 30),
	'a fresh session of bob is refused after the cutover');
open(my $fh, '>', $stop) or die;
close $fh;
for my $w (values %writer)
{
	$w->{h}->finish;
	$w->{done} = 1;
}

# no acknowledged write lost: every "ok" row is on the target
my %on_target = map { $_ => 1 } split /\n/,
  $tgt->safe_psql('app', q{SELECT who || ':' || n FROM writes});
for my $role (qw(alice bob))
{
	my @acked = @{ acked($role) };
	my @lost = grep { !$on_target{"$role:$_"} } @acked;
	ok(@acked > 20, "$role had writes acknowledged (" . scalar(@acked) . ')');
	is(scalar(@lost), 0, "no acknowledged write of $role lost") or diag("lost: @lost");
}
is($tgt->safe_psql('app', 'SELECT count(*) FROM writes'),
	$src->safe_psql('app', 'SELECT count(*) FROM writes'), 'same row count on both sides');

# explicit checks on the frozen source
my ($ok, $out, $err) = (0, '', '');
{
	local $ENV{PGPASSWORD} = 'bob-pw';
	$ok = IPC::Run::run([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
			$src->port, '-U', 'bob', '-d', 'app', '-c', "INSERT INTO writes (who, n) VALUES ('late', 1)" ],
		'>', \$out, '2>', \$err);
}
ok(!$ok, 'a fresh session cannot write on the source after cutover');
like($err, qr/read-only transaction/, '... because the source is read-only');
$bin .= "INSERT INTO writes (who, n) VALUES ('before', 1);\n";
$before->finish;
isnt($before->result(0), 0, 'the session opened before the cutover cannot write either');
is($src->safe_psql('app', "SELECT count(*) FROM writes WHERE who IN ('late', 'before')"), 0,
	'no write from those sessions reached the source');

# sequences
for my $seq (qw(writes_id_seq items_id_seq free_seq fresh_seq))
{
	my $q = "SELECT last_value, is_called FROM $seq";
	is($tgt->safe_psql('app', $q), $src->safe_psql('app', $q), "sequence $seq copied");
}

# NOTIFY, the hook, start stopped
$lin .= "SELECT 'after';\n";
ok(poll_until(sub { $listener->pump_nb; $lout =~ /after/ }, 30), 'listener polled');
like($lout . $lerr, qr/notification "pgbaton_cutover" with payload "pgbaton"/, 'NOTIFY pgbaton_cutover sent');
$lin .= "\\q\n";
$listener->finish;
my $slurp = \&PostgreSQL::Test::Utils::slurp_file;
is($slurp->("$hookdir/runs"), "run\n", '--exec ran once');
is($slurp->("$hookdir/target"), connstr($tgt), 'PGBATON_TARGET in the hook environment');
is($slurp->("$hookdir/name"), 'pgbaton', 'PGBATON_NAME in the hook environment');
unlike($slurp->("$hookdir/cmdline"), qr/\Q$PASSWORD\E/, 'no password in the hook arguments');
unlike($slurp->("$hookdir/parent_cmdline"), qr/\Q$PASSWORD\E/,
	'no password in pgbaton\'s own arguments');
ok(wait_exited($start, 30), 'start stops on its own once the migration is done');
is(stop_pgbaton($start), 0, 'start exits 0 once the migration is done');

# status and a second cutover
$r = run_pgbaton([ 'status', '--json', @conn ]);
is($r->{rc}, 0, 'status after cutover exits 0');
my $j = decode_json($r->{stdout});
is($j->{phase}, 'done', 'status: phase done');
ok($j->{write_unavailable_ms} > 0, 'status: write-unavailability recorded');
$r = run_pgbaton([ 'cutover', @conn ]);
is($r->{rc}, 0, 'second cutover exits 0');
like($r->{stdout}, qr/already done/, 'second cutover says it is already done');

# abort twice: after a completed cutover the source stays frozen
$r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'abort exits 0');
like($r->{stdout}, qr/stays read-only.*RESET default_transaction_read_only/, 'abort after done keeps the source frozen and says how to undo it');
like($r->{stdout}, qr/dropped replication slot pgbaton/, 'abort drops the slot');
$r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'second abort exits 0');
unlike($r->{stdout}, qr/dropped/, 'second abort removes nothing');
is($src->safe_psql('app', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgbaton'"), 0,
	'slot gone');

# clean twice
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'clean exits 0');
like($r->{stdout}, qr/dropped schema pgbaton on the target/, 'clean drops the state schema');
is($tgt->safe_psql('app', "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbaton'"), 0,
	'no pgbaton schema left on the target');
$r = run_pgbaton([ 'clean', @conn ]);
is($r->{rc}, 0, 'second clean exits 0');
like($r->{stdout}, qr/nothing to clean/, 'second clean says there was nothing');

done_testing();
