# status: during the copy (COPY bytes sent and size on disk shown as two
# measures, never above 100 %), after a copy that failed (and when start
# stopped), while streaming (with statistics still to gather, then
# gathered), after `start` was killed (no sign of life since its last one:
# shown as stopped once that is 6 s old, exit 1), in JSON, and without any
# migration. The real `pgbaton start` runs in the background (--jobs 1).
#
# To look at a copy in the middle, it is held where the test wants it: the
# source's table big has a CHECK constraint calling gate(), which waits for
# an advisory lock at one row; the constraint comes to the target with the
# schema, and a test session holds that lock on the target. The copy (one
# worker, largest table first) then has huge copied, big copying (rows
# copied, then waiting at that row) and todo pending. While streaming, a
# lock on huge (SHARE UPDATE EXCLUSIVE, which the applier's writes do not
# wait for) holds back start's ANALYZE.
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));

# no migration yet
my $r = run_pgbaton([ 'status', @conn ]);
is($r->{rc}, 1, 'status without a migration exits 1');
like($r->{stdout}, qr/not found on the target/, 'status says there is no migration');

$src->safe_psql('app', q{
	CREATE FUNCTION gate(i int) RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		IF i = 20000 THEN
			PERFORM pg_advisory_lock_shared(4242);
			PERFORM pg_advisory_unlock_shared(4242);
		END IF;
		RETURN true;
	END $$;
	CREATE TABLE huge (id int PRIMARY KEY, pad text);
	INSERT INTO huge SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 30000) g;
	CREATE TABLE big (id int PRIMARY KEY CHECK (gate(id)), pad text);
	INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 25000) g;
	CREATE TABLE todo (id int PRIMARY KEY, v text);
	INSERT INTO todo SELECT g, 'todo ' || g FROM generate_series(1, 10) g;
});
my $gate = $tgt->background_psql('app');

# the table progress as recorded: "state rows bytes size" per table, by name
sub table_state
{
	return $tgt->safe_psql('app',
		"SELECT string_agg(table_name || ' ' || state || ' ' || rows_copied || ' ' || bytes_copied "
		  . "|| ' ' || coalesce(size_bytes, 0), ',' ORDER BY table_name) FROM pgbaton.table_state");
}

# a copy held at big's gate: start --jobs 1 with the gate closed; true once
# the state shows huge copied, big copying with rows, todo pending
sub held_copy
{
	my (@extra) = @_;
	$gate->query_safe('SELECT pg_advisory_lock(4242)');
	my $p = start_pgbaton([ 'start', @conn, '--jobs', '1', @extra ]);
	ok( wait_query(
			$tgt,
			"SELECT string_agg(table_name || ' ' || state || ' ' || (rows_copied > 0), ',' "
			  . "ORDER BY table_name) FROM pgbaton.table_state",
			qr/^big copying true,huge (copied|indexed) true,todo pending false$/,
			'the copy to reach big\'s gate'),
		'the copy is held in the middle of big');
	return $p;
}

# 1. during the copy. status calls start alive while its alive_at is at
# most 6 s old (three keepalive periods); start refreshes it every 2 s
# through the whole copy (a thread of its own: nothing else writes it
# before streaming), so a copy held longer than that is still "copying
# (start alive)", not "stopped".
my $p = held_copy();
my $alive0 = $tgt->safe_psql('app', 'SELECT alive_at FROM pgbaton.migration');
ok( wait_query(
		$tgt, "SELECT alive_at > '$alive0' FROM pgbaton.migration",
		qr/^t$/, 'alive_at to move while the copy is held', 10),
	'start refreshes alive_at during the copy');
my ($st, $text, $json);
ok( poll_until(
		sub {
			$st = table_state();
			$text = run_pgbaton([ 'status', @conn ]);
			$json = run_pgbaton([ 'status', '--json', @conn ]);
			return $st eq table_state();    # the state did not move meanwhile
		},
		30,
		'a steady copy state'),
	'status read while the copy state was steady');
my %t = map { my @f = split / /; ($f[0] => { state => $f[1], rows => $f[2], bytes => $f[3], size => $f[4] }) }
  split /,/, $st;
my $rows = 0;
my ($bytes, $size, $done) = (0, 0, 0);
for my $x (values %t)
{
	$rows  += $x->{rows};
	$bytes += $x->{bytes};
	$size  += $x->{size};
	$done  += $x->{state} =~ /^(copied|indexed)$/ ? $x->{size}
	  : ($x->{bytes} < $x->{size} ? $x->{bytes} : $x->{size});
}
is($text->{rc}, 0, 'status is healthy while the copy runs');
like($text->{stdout}, qr/phase:\s+copying/, 'phase copying shown');
like($text->{stdout}, qr/1 of 3 copied, $rows rows/, 'tables and rows copied shown');
my $pct = sprintf('%.1f', 100.0 * $done / $size);
like($text->{stdout}, qr/\Q$pct\E% done \(weighed by the tables' size on disk\)/,
	'total percentage shown, and what it weighs');
like($text->{stdout}, qr/data:\s+[\d.]+ \w+ sent as COPY data; the tables take [\d.]+ \w+ on disk on the source/,
	'COPY bytes sent and size on disk shown as two measures');
like($text->{stdout}, qr/big\s+copying\s+$t{big}{rows} rows  [\d.]+ \w+ sent, [\d.]+ \w+ on disk/,
	'per-table progress shown');
like($text->{stdout}, qr/todo\s+pending\s+0 rows/, 'a table still to copy shown');

my $j = decode_json($json->{stdout});
is($j->{phase}, 'copying', 'json: phase');
is($j->{tables_total}, 3, 'json: tables_total');
is($j->{tables_copied}, 1, 'json: tables_copied');
is($j->{bytes_total}, $size, 'json: bytes_total');
is($j->{bytes_copied}, $bytes, 'json: bytes_copied');
is(scalar @{ $j->{tables} }, 3, 'json: one entry per table');

# 2. a copy that failed (start stopped by SIGTERM in the middle of it: the
# worker runtime cancels the COPY waiting at the gate, so start leaves
# before the gate opens)
signal_pgbaton($p, 'TERM');
my $fin = finish_pgbaton($p);
$gate->query_safe('SELECT pg_advisory_unlock(4242)');
is($fin->{rc}, 1, 'start stopped during the copy: exit 1');
my $last_error = $tgt->safe_psql('app', 'SELECT last_error FROM pgbaton.migration');
$r = run_pgbaton([ 'status', '--json', @conn ]);
is($r->{rc}, 1, 'failed migration: exit 1');
$j = decode_json($r->{stdout});
is($j->{phase}, 'failed', 'json: phase failed');
like($last_error, qr/--restart/, 'the state records why, and what to do');
is($j->{last_error}, $last_error, 'json: last_error shown');
like($j->{hint}, qr/--restart/, 'json: the hint says --restart (the copy cannot resume)');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout}, qr/phase:\s+failed \(start stopped at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, [\d.]+ s ago\)/,
	'human: failed, and when start stopped');

# 3. streaming: the copy started over, held again until huge is locked
# against ANALYZE
$p = held_copy('--restart');
my $analyze_lock = $tgt->background_psql('app');
$analyze_lock->query_safe('BEGIN; LOCK TABLE huge IN SHARE UPDATE EXCLUSIVE MODE');
$gate->query_safe('SELECT pg_advisory_unlock(4242)');
ok(wait_streaming($src, $tgt, $p), 'the copy went on; streaming');
$src->safe_psql('app', q{INSERT INTO todo SELECT g, 'new' FROM generate_series(11, 1000) g});
ok( poll_until(
		sub {
			my $x = decode_json(run_pgbaton([ 'status', '--json', @conn ])->{stdout});
			defined $x->{applied_lsn} && defined $x->{apply_rate} && defined $x->{lag_seconds};
		},
		30),
	'applied position, apply rate and lag appear while streaming');
$r = run_pgbaton([ 'status', '--json', @conn ]);
is($r->{rc}, 0, 'status while streaming exits 0');
$j = decode_json($r->{stdout});
is($j->{phase}, 'streaming', 'json: phase streaming');
is($j->{tables_analyzed}, 0, 'json: no table analyzed yet (start\'s ANALYZE waits)');
like(run_pgbaton([ 'status', @conn ])->{stdout}, qr/statistics:\s+ANALYZE done on 0 of 3 tables/,
	'text: statistics still to gather shown');
$analyze_lock->query_safe('COMMIT');
$analyze_lock->quit;
ok(wait_query($tgt, 'SELECT count(*) FROM pgbaton.table_state WHERE analyzed_at IS NULL', '0',
		'start to analyze the tables'), 'start analyzed every table');
unlike(run_pgbaton([ 'status', @conn ])->{stdout}, qr/statistics:/, 'text: nothing shown once all are analyzed');
ok(wait_applied($src, $tgt, 60), 'caught up');
$r = run_pgbaton([ 'status', '--json', @conn ]);
$j = decode_json($r->{stdout});
is($j->{tables_analyzed}, 3, 'json: tables_analyzed');
for my $k (qw(name phase tables_total tables_copied bytes_total bytes_copied source_lsn
	applied_lsn lag_bytes lag_seconds apply_rate last_error))
{
	ok(exists $j->{$k}, "json has $k");
}
like($j->{source_lsn}, qr{^[0-9A-F]+/[0-9A-F]+$}, 'json: source_lsn is an LSN');
ok($j->{lag_bytes} >= 0, 'json: lag_bytes is a number');
ok($j->{lag_seconds} >= 0 && $j->{lag_seconds} < 60, 'json: lag_seconds is plausible');
ok(defined $j->{wal_retained_bytes} && $j->{wal_retained_bytes} > 0, 'json: WAL retained by the slot');
is($j->{last_error}, undef, 'json: last_error null');
is($j->{start_alive}, JSON::PP::true, 'json: start alive');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout}, qr/phase:\s+streaming \(start alive/, 'human: streaming, start alive');
like($r->{stdout}, qr/lag:\s+\S+ \w+, [\d.]+ s \(source clock\)/, 'human: lag in bytes and seconds');
like($r->{stdout}, qr/retains .* of WAL/, 'human: WAL retained');
like($r->{stdout}, qr/ETA to zero lag:/, 'human: ETA');
# the copy is over: every table counts whole, never more than 100 %
# whichever of COPY bytes and size on disk is larger
like($r->{stdout}, qr/tables:\s+3 of 3 copied, \d+ rows, 100\.0% done/, 'human: 100.0% once all are copied');
my @pcts = $r->{stdout} =~ /([\d.]+)%/g;
ok(@pcts && !grep({ $_ > 100 } @pcts), 'human: no percentage above 100');
cmp_ok($j->{copy_percent}, '==', 100, 'json: copy_percent 100');

# 4. a killed start: it writes nothing more; status says when its last
# sign of life was, calls it alive until that is 6 s old, then stopped
# with "no sign of life since", and exits 1
$fin = finish_pgbaton($p, signal => 'KILL');
is($fin->{signal}, 9, 'start was running until killed');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout},
	qr/phase:\s+(streaming \(start alive, last sign of life [\d.]+ s ago\)|stopped \(recorded as streaming; no sign of life from start since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, [\d.]+ s ago\))/,
	'human, right after the kill: when start was last seen');
ok( poll_until(
		sub {
			my $x = run_pgbaton([ 'status', '--json', @conn ]);
			$x->{rc} == 1 && decode_json($x->{stdout})->{phase} eq 'stopped';
		},
		40),
	'after start is killed, status shows stopped and exits 1');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout}, qr/phase:\s+stopped \(recorded as streaming; no sign of life from start since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, [\d.]+ s ago\)/,
	'human: stopped, not streaming, with no sign of life since when');
like($r->{stdout}, qr/is not running/, 'human: says start is not running');
like($r->{stdout}, qr/apply rate:\s+0\.0 changes\/s \(start is not running\)/, 'human: nothing applies');
$j = decode_json(run_pgbaton([ 'status', '--json', @conn ])->{stdout});
cmp_ok($j->{heartbeat_age_seconds}, '>', 6, 'json: stopped once the last sign of life is 6 s old');
is($j->{start_exited_at}, undef, 'json: a killed start recorded no exit');
$gate->quit;

# --watch refreshes until interrupted (not a terminal: one frame per refresh)
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ $PgbatonTest::BIN, 'status', '--watch', '1', @conn ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(60));
ok(poll_until(sub { $h->pump_nb; my @n = ($out =~ /^migration:/mg); @n >= 2 }, 30),
	'--watch prints a new frame each refresh');
$h->signal('INT');
$h->finish;
is($h->full_result(0) & 127, 0, '--watch ends by itself on SIGINT (not killed by it)');
unlike($out . $err, qr/\Q$PgbatonTest::PASSWORD\E/, '--watch: no password printed');

done_testing();
