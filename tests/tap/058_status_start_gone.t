# status tells the truth about `start` (issue 19, "Status"):
#   - a `start` that exits on its own (SIGTERM) is seen gone at once: the
#     phase line says "start stopped at T", the apply rate is 0 and the ETA
#     says start is not running, not the last samples';
#   - a `start` that stops on an error it cannot get past (a rejected
#     change) records phase failed with the error at once, and status says
#     what to fix; a new start resumes it (failed -> streaming);
#   - a `start` that gives no sign of life (SIGSTOP, as a SIGKILL would) is
#     alive until its last sign of life is three keepalive periods old,
#     then "no sign of life since T";
#   - while streaming and caught up, the ETA says that the target is in
#     step with the source, not "unknown (lag not shrinking)".
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
setup_streaming($src, $dst, schema => 'CREATE TABLE t (id int PRIMARY KEY, v text);');
my @conn = ('-s', connstr($src), '-t', connstr($dst));
my $T = qr/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;

sub status_json
{
	my $r = run_pgbaton([ 'status', '--json', @conn ]);
	return ($r->{rc}, decode_json($r->{stdout}));
}

# 1. streaming, caught up: alive, in step
my $p = spawn_start($src, $dst);
ok(wait_streaming($src, $dst, $p), 'streaming');
$src->safe_psql('app', "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g");
ok(wait_applied($src, $dst, 60), 'applied');
my ($rc, $j);
my $text;
ok( poll_until(
		sub {
			($rc, $j) = status_json();
			$text = run_pgbaton([ 'status', @conn ])->{stdout};
			$rc == 0 && $j->{in_step} && $text =~ /ETA to zero lag: none needed/;
		},
		60,
		'status to call the target in step'),
	'caught up: status says the target is in step');
cmp_ok($j->{eta_seconds}, '==', 0, 'json: eta_seconds 0 when in step');
like($text, qr/ETA to zero lag: none needed: the target is in step with the source/,
	'human: the target is in step');
unlike($text, qr/lag not shrinking/, 'human: not "lag not shrinking"');
like($text, qr/phase:\s+streaming \(start alive, last sign of life [\d.]+ s ago\)/,
	'human: start alive, with its last sign of life');
is($j->{start_exited_at}, undef, 'json: no exit recorded');
like($j->{start_last_seen_at}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'json: last sign of life');

# 2. start exits on SIGTERM: gone at once (no polling: the exit is
# recorded before start exits)
is(stop_pgbaton($p, 'TERM'), 0, 'start stopped by SIGTERM: exit 0');
($rc, $j) = status_json();
is($rc, 1, 'status right after start exited: exit 1');
is($j->{phase}, 'stopped', 'json: phase stopped at once');
is($j->{stored_phase}, 'streaming', 'json: stored phase streaming');
is($j->{start_alive}, JSON::PP::false, 'json: start not alive');
like($j->{start_exited_at}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'json: start_exited_at');
cmp_ok($j->{apply_rate}, '==', 0, 'json: apply rate 0, not the last samples');
$text = run_pgbaton([ 'status', @conn ])->{stdout};
like($text, qr/phase:\s+stopped \(recorded as streaming; start stopped at $T, [\d.]+ s ago\)/,
	'human: start stopped at T');
like($text, qr/apply rate:\s+0\.0 changes\/s \(start is not running\)/, 'human: apply rate 0');
like($text, qr/ETA to zero lag: none: start is not running/, 'human: no ETA');
like($text, qr/hint: `pgbaton start` is not running: run it again to resume/, 'human: hint');

# 3. a change the target rejects: phase failed with the error, at once
$dst->safe_psql('app', "INSERT INTO t VALUES (1000, 'target-only')");
$src->safe_psql('app', "INSERT INTO t VALUES (1000, 'source')");
$p = spawn_start($src, $dst);
ok(wait_exited($p, 60), 'start stops by itself on the rejected change');
is(stop_pgbaton($p), 1, 'rejected change: exit 1');
is($dst->safe_psql('app', 'SELECT phase FROM pgbaton.migration'), 'failed',
	'phase failed recorded at once');
($rc, $j) = status_json();
is($rc, 1, 'status of a failed migration: exit 1');
is($j->{phase}, 'failed', 'json: phase failed');
like($j->{last_error}, qr/duplicate key.*then run `pgbaton start` again/, 'json: the error and its fix');
like($j->{hint}, qr/fix its cause as it says, then run `pgbaton start` again/, 'json: the hint');
is($j->{healthy}, JSON::PP::false, 'json: not healthy');
$text = run_pgbaton([ 'status', @conn ])->{stdout};
like($text, qr/phase:\s+failed \(start stopped at $T, [\d.]+ s ago\)/, 'human: failed, start stopped at T');
like($text, qr/last error:\s+target rejected INSERT/, 'human: the last error');

# fixed: a new start resumes the failed migration
$dst->safe_psql('app', 'DELETE FROM t WHERE id = 1000');
$p = spawn_start($src, $dst);
ok(wait_streaming($src, $dst, $p), 'a new start resumes the failed migration: streaming again');
is($dst->safe_psql('app', "SELECT v FROM t WHERE id = 1000"), 'source', 'the change is applied');
is($dst->safe_psql('app', 'SELECT last_error IS NULL FROM pgbaton.migration'), 't', 'the error is cleared');
($rc, $j) = status_json();
is($j->{phase}, 'streaming', 'json: streaming again');
is($j->{start_exited_at}, undef, 'json: the earlier exit is history');

# 4. no sign of life (SIGSTOP: start cannot write, as after a SIGKILL)
signal_pgbaton($p, 'STOP');
ok( poll_until(
		sub { ($rc, $j) = status_json(); $j->{phase} eq 'stopped' },
		60,
		'status to call the frozen start gone'),
	'a start that gives no sign of life is seen gone');
cmp_ok($j->{heartbeat_age_seconds}, '>', 6, 'only once its last sign of life is 6 s old');
is($j->{start_exited_at}, undef, 'json: no exit recorded');
cmp_ok($j->{apply_rate}, '==', 0, 'json: apply rate 0');
$text = run_pgbaton([ 'status', @conn ])->{stdout};
like($text, qr/phase:\s+stopped \(recorded as streaming; no sign of life from start since $T, [\d.]+ s ago\)/,
	'human: no sign of life since T');
signal_pgbaton($p, 'CONT');
ok(poll_until(sub { (status_json())[1]{start_alive} }, 30, 'start to be alive again'),
	'alive again after SIGCONT');
is(stop_pgbaton($p, 'TERM'), 0, 'start exits 0');
like(${ $p->{err} }, qr/had failed: .*duplicate key.*resuming streaming/, 'start said it resumed a failure');
done_testing();
