# cutover when `start` has stopped on an error: it says the stored error and
# how to resume at once (exit 4, source untouched), instead of waiting for
# --timeout and saying only that start is not running. After the fix and a
# resumed start, the cutover goes through.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
setup_streaming($src, $dst, schema => 'CREATE TABLE t (id int PRIMARY KEY, v text);');
my @conns = ('-s', connstr($src), '-t', connstr($dst));

# a row on the target only, then the same key on the source: start stops
$dst->safe_psql('app', "INSERT INTO t VALUES (7, 'target-only')");
my $p = spawn_start($src, $dst);
$src->safe_psql('app', "INSERT INTO t VALUES (7, 'source')");
ok(poll_until(sub { $p->{h}->pump_nb; !$p->{h}->pumpable }, 60), 'start stopped on the rejected change');
is(stop_pgbaton($p), 1, 'start: exit 1');
like($dst->safe_psql('app', 'SELECT last_error FROM pgbaton.migration'), qr/duplicate key/,
	'the error is stored');

# --timeout far longer than any test would wait: the answer must come first
my $r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '600s' ], timeout => 120);
is($r->{rc}, 4, 'cutover: exit 4');
like($r->{stdout} . $r->{stderr}, qr/start` is not running, and the last error recorded is: .*duplicate key/,
	'cutover says the stored error');
like($r->{stdout} . $r->{stderr}, qr/run pgbaton start again/, 'and how to resume');
unlike($r->{stdout} . $r->{stderr}, qr/after --timeout/, 'without waiting for --timeout');
is($src->safe_psql('app', "SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'"),
	'off', 'the source was not frozen');
is($dst->safe_psql('app', 'SELECT phase FROM pgbaton.migration'), 'failed',
	'phase failed (as start recorded it), unchanged by the cutover');

# fixed on the target, start resumes (the stored error is cleared), cutover works
$dst->safe_psql('app', 'DELETE FROM t WHERE id = 7');
$p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'resumed start applied the change');
is($dst->safe_psql('app', 'SELECT last_error IS NULL FROM pgbaton.migration'), 't',
	'the stored error is cleared once start runs again');
is($dst->safe_psql('app', 'SELECT phase FROM pgbaton.migration'), 'streaming', 'and it streams again');
$r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '60s' ]);
is($r->{rc}, 0, 'cutover after the resume') or diag($r->{stdout}, $r->{stderr});
is(stop_pgbaton($p), 0, 'start exits after the cutover');
is($dst->safe_psql('app', "SELECT v FROM t WHERE id = 7"), 'source', 'the source row is on the target');
done_testing();
