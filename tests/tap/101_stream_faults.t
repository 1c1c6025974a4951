# Streaming phase faults: SIGKILL at any moment, connections terminated,
# servers restarted, a change the target rejects, DDL on the source.
# After each, the target equals the source.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;

my $src = new_source();
my $dst = new_target();

my $schema = <<'SQL';
CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL, secret text);
CREATE TABLE hist (id bigserial PRIMARY KEY, acct int, delta bigint, at timestamptz DEFAULT now());
SQL
my $data = "INSERT INTO acct SELECT i, 1000, 'pw' || i FROM generate_series(1, 100) i;";
setup_streaming($src, $dst, schema => $schema, data => $data);

# A workload of many small transactions, run in the background with psql:
# 4 parts of 1000, one per SIGKILL round, so every round has changes to
# apply whatever the speed of the previous ones.
my @wl;
for my $part (0 .. 3)
{
	my $wl = "$PostgreSQL::Test::Utils::tmp_check/workload$part.sql";
	open(my $fh, '>', $wl) or die $!;
	for my $i ($part * 1000 + 1 .. $part * 1000 + 1000)
	{
		my ($a, $b, $d) = (1 + $i % 100, 1 + ($i * 7) % 100, $i % 13);
		print $fh "BEGIN; UPDATE acct SET bal = bal - $d WHERE id = $a; "
		  . "UPDATE acct SET bal = bal + $d WHERE id = $b; "
		  . "INSERT INTO hist (acct, delta) VALUES ($a, $d); COMMIT;\n";
	}
	close $fh;
	push @wl, $wl;
}
sub start_workload
{
	my ($wl) = @_;
	my ($out, $err) = ('', '');
	return IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $src->connstr('app'), '-f', $wl ],
		'>', \$out, '2>', \$err);
}

sub applied_changes
{
	return $dst->safe_psql('app', "SELECT changes_applied FROM pgbaton.migration");
}

# --- SIGKILL at several moments while the workload runs ---------------
for my $round (1 .. 4)
{
	my $w = start_workload($wl[ $round - 1 ]);
	my $before = applied_changes();
	my $p = spawn_start($src, $dst);
	ok(poll_until(sub { applied_changes() > $before + 20 }, 60,
			"round $round: changes_applied past $before + 20"),
		"round $round: pgbaton applies changes");
	is(stop_pgbaton($p, 'KILL'), undef, "round $round: pgbaton (still running) killed with SIGKILL");
	$w->finish;
	is($w->result(0), 0, "round $round: the workload's 1000 transactions committed");
}
my $p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 120), 'caught up after SIGKILLs');
compare_tables($src, $dst, qw(acct hist));
is($dst->safe_psql('app', 'SELECT count(*) FROM hist'), '4000', 'every transaction applied once');

# --- connections terminated, servers restarted -------------------------
# (the target may already match before the new start's walsender streams:
# wait for it, so that there is one to terminate)
ok(poll_until(sub { $src->safe_psql('app', "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") >= 1 }, 60),
	"pgbaton's walsender is streaming");
cmp_ok($src->safe_psql('app', "SELECT count(*) FILTER (WHERE t) FROM (SELECT pg_terminate_backend(pid) AS t FROM pg_stat_replication) s"),
	'>=', 1, "pgbaton's walsender terminated");
$src->safe_psql('app', "UPDATE acct SET bal = bal + 1 WHERE id <= 10");
ok(wait_applied($src, $dst, 60), 'caught up after the walsender was terminated');
# (PGAPPNAME, set by the test framework, overrides pgbaton's application names)
my $others = "datname = 'app' AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
my $old = $dst->safe_psql('app', "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE $others");
isnt($old, '', "the target has pgbaton's sessions to terminate");
$dst->safe_psql('app', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ($old)");
ok(poll_until(sub { $dst->safe_psql('app', "SELECT count(*) FROM pg_stat_activity WHERE $others AND pid NOT IN ($old)") >= 2 }, 30),
	'apply session reconnected');
$src->safe_psql('app', "UPDATE acct SET bal = bal + 1 WHERE id <= 20");
ok(wait_applied($src, $dst, 60), 'caught up after the target sessions were terminated');
$src->restart;
$src->safe_psql('app', "UPDATE acct SET bal = bal + 1 WHERE id <= 30");
ok(wait_applied($src, $dst, 90), 'caught up after a source restart');
$dst->restart;
$src->safe_psql('app', "UPDATE acct SET bal = bal + 1 WHERE id <= 40");
ok(wait_applied($src, $dst, 90), 'caught up after a target restart');
compare_tables($src, $dst, qw(acct hist));
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0 after the reconnects');
like(${ $p->{err} }, qr/reconnecting/, 'reconnects are logged');

# --- a change the target rejects ---------------------------------------
$dst->safe_psql('app', "INSERT INTO acct VALUES (500, 1, 'target-only')");
$src->safe_psql('app', "INSERT INTO acct VALUES (500, 987654321, 's3cr3t-value')");
my $insert_end = $src->safe_psql('app', 'SELECT pg_current_wal_lsn()');
$p = spawn_start($src, $dst);
ok(wait_exited($p, 60), 'start stops by itself on the rejected change');
my $rc = stop_pgbaton($p, 'TERM');
is($rc, 1, 'rejected change: exit 1');
like(${ $p->{err} }, qr/INSERT on "public"\."acct" with key \(id\)=\(500\)/, 'names the operation, table and key');
unlike(${ $p->{err} }, qr/987654321|s3cr3t-value/, 'no other column value in the message');
like($dst->safe_psql('app', "SELECT last_error FROM pgbaton.migration"), qr/acct/, 'last_error recorded');
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'failed', 'phase failed, at once');
is($dst->safe_psql('app', "SELECT applied_lsn < '$insert_end' FROM pgbaton.migration"), 't',
	'position not advanced past the rejected change');
is($dst->safe_psql('app', "SELECT count(*) FROM acct WHERE id = 500 AND secret = 'target-only'"), '1',
	'target row untouched');
$dst->safe_psql('app', "DELETE FROM acct WHERE id = 500");
$p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'resumed after the row was fixed');
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'streaming', 'streaming again');
compare_tables($src, $dst, qw(acct hist));
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');

# --- DDL on the source during streaming ---------------------------------
$p = spawn_start($src, $dst);
$src->safe_psql('app', "ALTER TABLE acct ADD COLUMN note text; UPDATE acct SET note = 'n', bal = bal + 1 WHERE id = 1");
ok(wait_exited($p, 60), 'start stops by itself on the schema change');
is(stop_pgbaton($p, 'TERM'), 1, 'DDL: exit 1');
like(${ $p->{err} }, qr/schema change detected.*"public"\."acct".*column "note" \(text\) is not on the target.*ALTER TABLE/,
	'names the table, the difference and the fix');
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'failed', 'DDL: phase failed, at once');
isnt($dst->safe_psql('app', "SELECT bal FROM acct WHERE id = 1"),
	$src->safe_psql('app', "SELECT bal FROM acct WHERE id = 1"), 'nothing applied wrongly');
$dst->safe_psql('app', "ALTER TABLE acct ADD COLUMN note text");
$p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'resumed after the same DDL on the target');
compare_tables($src, $dst, qw(acct hist));
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');

# --- a table created on the source --------------------------------------
$p = spawn_start($src, $dst);
$src->safe_psql('app', "CREATE TABLE newt (id int PRIMARY KEY); INSERT INTO newt VALUES (1)");
ok(wait_exited($p, 60), 'start stops by itself on the new table');
is(stop_pgbaton($p, 'TERM'), 1, 'new table: exit 1');
like(${ $p->{err} }, qr/"public"\."newt".*not on the target/, 'names the new table');
$dst->safe_psql('app', "CREATE TABLE newt (id int PRIMARY KEY)");
$p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'resumed after creating the table');
compare_tables($src, $dst, qw(acct hist newt));
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');

# lag samples and an advancing slot on an idle source
ok(poll_until(sub {
	$src->safe_psql('app', "SELECT confirmed_flush_lsn >= pg_current_wal_lsn() - 1000000 FROM pg_replication_slots") eq 't' }, 10),
	'slot confirmed position follows the applied one');
done_testing();
