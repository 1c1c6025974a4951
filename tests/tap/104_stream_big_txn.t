# Streaming phase: one source transaction of a million rows (an INSERT, then
# an UPDATE of every row) streams through with bounded memory. Transactions
# are never buffered whole: an applier that held one would need hundreds of
# MB here. The peak RSS is read from /proc on the build without sanitizers
# (AddressSanitizer's shadow memory makes RSS meaningless); with only a
# sanitizer build at hand the memory assertion is skipped, the data ones
# are not. PGBATON_BIG_ROWS=10000000 runs it with ten million rows (by hand:
# about 5 minutes on 2 cores).
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $ROWS     = $ENV{PGBATON_BIG_ROWS} // 1_000_000;
my $LIMIT_KB = 64 * 1024;    # the issue's bound for pgbaton's peak RSS

my $src = new_source();
my $dst = new_target();

setup_streaming($src, $dst, schema => 'CREATE TABLE big (id bigint PRIMARY KEY, n int, t text);');

my $plain = $ENV{PGBATON_PLAIN_BIN};
my $p = spawn_start($src, $dst, timeout => 900 + $ROWS / 2000, $plain ? (bin => $plain) : ());
ok(wait_applied($src, $dst, 60), 'streaming');

$src->safe_psql('app',
	"INSERT INTO big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, $ROWS) g");
ok(wait_applied($src, $dst, 600 + $ROWS / 5000), "one INSERT transaction of $ROWS rows applied");
$src->safe_psql('app', 'UPDATE big SET n = n + 1, t = upper(t)');
ok(wait_applied($src, $dst, 600 + $ROWS / 5000), "one UPDATE transaction of $ROWS rows applied");
compare_tables($src, $dst, 'big');
cmp_ok($dst->safe_psql('app', 'SELECT txns_applied FROM pgbaton.migration'), '>=', 2,
	'two source transactions counted');

my $pid = $p->{h}{KIDS}[0]{PID};
my $status = PostgreSQL::Test::Utils::slurp_file("/proc/$pid/status");
my ($hwm) = $status =~ /^VmHWM:\s+(\d+) kB/m;
SKIP:
{
	skip 'no build without sanitizers (PGBATON_PLAIN_BIN): peak RSS not measured', 1 unless $plain;
	ok(defined $hwm && $hwm < $LIMIT_KB, "peak RSS " . ($hwm // '?') . " kB < $LIMIT_KB kB");
}
note("pgbaton peak RSS: " . ($hwm // '?') . " kB");
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');
done_testing();
