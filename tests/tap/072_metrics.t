# start --metrics: Prometheus text metrics over HTTP, read with a real HTTP
# client (HTTP::Tiny). A real `start` streams a migration made by
# setup_streaming; the endpoint shows its phase, lag, changes applied and
# last error, answers 404 elsewhere, binds loopback by default, never shows
# the password, and a bad or busy address is refused before either database
# is touched.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Socket::INET;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $tgt = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($tgt));

# a port nobody listens on (the kernel's choice, released at once)
sub free_port
{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)
	  or die "no free port: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

my $http = HTTP::Tiny->new(timeout => 10);
my $port = free_port();
my $url  = "http://127.0.0.1:$port/metrics";

# bad input: one message, exit 2, nothing created on either side
my $r = run_pgbaton([ 'start', @conn, '--metrics', 'localhost:http' ]);
is($r->{rc}, 2, 'an invalid --metrics exits 2');
like($r->{stderr}, qr/invalid --metrics "localhost:http": write it as PORT/, 'says how to write it');
my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)
  or die "no socket: $!";
$r = run_pgbaton([ 'start', @conn, '--metrics', $busy->sockport ]);
is($r->{rc}, 2, 'a port in use exits 2');
like($r->{stderr}, qr/cannot listen on 127\.0\.0\.1:\d+: .*nothing was changed/,
	'says the port cannot be used and that nothing was changed');
close $busy;
is($tgt->safe_psql('app', "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbaton'"),
	'0', 'no state was created on the target');
is($src->safe_psql('app', 'SELECT count(*) FROM pg_replication_slots'), '0',
	'no slot was created on the source');

setup_streaming($src, $tgt,
	schema => 'CREATE TABLE t (i int PRIMARY KEY, v text)',
	data   => "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g");
my $start = spawn_start($src, $tgt, extra => [ '--metrics', $port ]);
ok(wait_streaming($src, $tgt, $start), 'start streams with --metrics');

# Fetch the metrics; returns the body ('' when not 200).
sub scrape
{
	my $res = $http->get($url);
	return $res->{success} ? $res->{content} : '';
}

# The value of metric NAME (with the migration label and LABELS, a string
# like 'phase="streaming"'), or undef.
sub value
{
	my ($body, $name, $labels) = @_;
	my $l = 'migration="pgbaton"' . ($labels ? ",$labels" : '');
	return $body =~ /^\Q$name\E\{\Q$l\E\} (\S+)$/m ? $1 : undef;
}

my $body = '';
ok(poll_until(sub { $body = scrape(); ($body =~ /pgbaton_state_read_ok\S* 1/) }, 60,
		'the metrics endpoint'),
	'the endpoint answers with the state read');
my $res = $http->get($url);
is($res->{status}, 200, 'GET /metrics: 200');
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'Prometheus text format');
is(value($body, 'pgbaton_up'),                           '1', 'pgbaton_up 1');
is(value($body, 'pgbaton_phase', 'phase="streaming"'),   '1', 'phase streaming is 1');
is(value($body, 'pgbaton_phase', 'phase="copying"'),     '0', 'phase copying is 0');
is(value($body, 'pgbaton_start_alive'),                  '1', 'start alive');
like($body, qr/^# TYPE pgbaton_changes_applied_total counter$/m, 'counters are typed');
for my $m (qw(pgbaton_lag_bytes pgbaton_lag_seconds pgbaton_apply_rate pgbaton_wal_retained_bytes
	pgbaton_rows_copied_total pgbaton_copy_sent_bytes_total pgbaton_tables pgbaton_tables_copied))
{
	ok(defined value($body, $m), "$m is served");
}
is(value($body, 'pgbaton_last_error', 'message=""'), '0', 'no last error');
my $before = value($body, 'pgbaton_changes_applied_total');

# changes streamed show in the counter
$src->safe_psql('app', "INSERT INTO t SELECT g, 'y' FROM generate_series(11, 30) g");
ok(wait_applied($src, $tgt, 60), 'the inserts are applied');
ok( poll_until(
		sub { (value(scrape(), 'pgbaton_changes_applied_total') // 0) >= $before + 20 }, 60,
		'the counter to count the 20 inserts'),
	'pgbaton_changes_applied_total counts the streamed changes');
ok(poll_until(sub { (value(scrape(), 'pgbaton_lag_bytes') // 'x') eq '0' }, 60, 'lag 0'),
	'pgbaton_lag_bytes is 0 once caught up');

# a recorded error is a labelled gauge, quotes escaped
$tgt->safe_psql('app',
	q{UPDATE pgbaton.migration SET last_error = 'target rejected "x": a \ test'});
ok( poll_until(
		sub { (value(scrape(), 'pgbaton_last_error',
					'message="target rejected \\"x\\": a \\\\ test"') // '') eq '1' }, 60,
		'the last error'),
	'pgbaton_last_error carries the message, escaped');

$res = $http->get("http://127.0.0.1:$port/other");
is($res->{status}, 404, 'another path: 404');
$res = $http->request('POST', $url);
is($res->{status}, 405, 'another method: 405');
unlike(scrape(), qr/\QTr0ub4dor\E/, 'no password in the metrics');

# loopback only by default: no listener on the machine's other addresses
my $any = `hostname -I 2>/dev/null` // '';
my ($other) = grep { !/^127\./ && /^\d+\.\d+\.\d+\.\d+$/ } split ' ', $any;
SKIP:
{
	skip 'no non-loopback IPv4 address on this machine', 1 unless $other;
	ok(!IO::Socket::INET->new(PeerAddr => $other, PeerPort => $port, Timeout => 3),
		"not reachable on $other: bound to 127.0.0.1");
}

is(stop_pgbaton($start), 0, 'start stops (SIGTERM) and exits 0');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3),
	'the endpoint is closed once start has stopped');

done_testing();
