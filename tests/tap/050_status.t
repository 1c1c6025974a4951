# status: during the copy, while streaming, after `start` was killed (its
# heartbeat goes stale: shown as stopped, exit 1), in JSON, and without any
# migration. A fake applier (tests/tap/lib/FakeApplier.pm) plays `start`.
use strict;
use warnings;
use FakeApplier;
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

# during the copy
FakeApplier::setup_state(
	source => $src,
	target => $tgt,
	phase  => 'copying',
	tables => [
		[ 'public', 'big',   'copying', 500,  4096,  16384 ],
		[ 'public', 'small', 'copied',  10,   512,   8192 ],
		[ 'public', 'todo',  'pending', 0,    0,     8192 ],
	]);
my $fake = FakeApplier->new(source => $src, target => $tgt)->start;
ok(poll_until(sub { run_pgbaton([ 'status', @conn ])->{rc} == 0 }, 30),
	'status is healthy while the copy runs');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout}, qr/phase:\s+copying/, 'phase copying shown');
like($r->{stdout}, qr/1 of 3 copied, 510 rows/, 'tables and rows copied shown');
like($r->{stdout}, qr/\(37\.5%\)/, 'total percentage shown');
like($r->{stdout}, qr/big\s+copying\s+500 rows/, 'per-table progress shown');

$r = run_pgbaton([ 'status', '--json', @conn ]);
my $j = decode_json($r->{stdout});
is($j->{phase}, 'copying', 'json: phase');
is($j->{tables_total}, 3, 'json: tables_total');
is($j->{tables_copied}, 1, 'json: tables_copied');
is($j->{bytes_total}, 32768, 'json: bytes_total');
is($j->{bytes_copied}, 4608, 'json: bytes_copied');
is(scalar @{ $j->{tables} }, 3, 'json: one entry per table');

# streaming
$tgt->safe_psql('app',
	"UPDATE pgbaton.table_state SET state = 'copied'; UPDATE pgbaton.migration SET phase = 'streaming'");
$src->safe_psql('app', 'CREATE TABLE w (i int); INSERT INTO w SELECT generate_series(1, 1000)');
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
is($j->{tables_analyzed}, 0, 'json: no table analyzed yet (no real start ran)');
like(run_pgbaton([ 'status', @conn ])->{stdout}, qr/statistics:\s+ANALYZE done on 0 of 3 tables/,
	'text: statistics still to gather shown');
$tgt->safe_psql('app', 'UPDATE pgbaton.table_state SET analyzed_at = now()');
unlike(run_pgbaton([ 'status', @conn ])->{stdout}, qr/statistics:/, 'text: nothing shown once all are analyzed');
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

# a killed start: the heartbeat goes stale, status says stopped, exits 1
ok($fake->stop('KILL'), 'the (fake) start was running until killed');
ok( poll_until(
		sub {
			my $x = run_pgbaton([ 'status', '--json', @conn ]);
			$x->{rc} == 1 && decode_json($x->{stdout})->{phase} eq 'stopped';
		},
		40),
	'after start is killed, status shows stopped and exits 1');
$r = run_pgbaton([ 'status', @conn ]);
like($r->{stdout}, qr/phase:\s+stopped \(recorded as streaming/, 'human: stopped, not streaming');
like($r->{stdout}, qr/is not running/, 'human: says start is not running');

# a failed migration with an error
$tgt->safe_psql('app',
	"UPDATE pgbaton.migration SET phase = 'failed', last_error = 'target: disk full'");
$r = run_pgbaton([ 'status', '--json', @conn ]);
is($r->{rc}, 1, 'failed migration: exit 1');
$j = decode_json($r->{stdout});
is($j->{phase}, 'failed', 'json: phase failed');
is($j->{last_error}, 'target: disk full', 'json: last_error shown');

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
