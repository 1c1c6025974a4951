# verify while streaming: the hold protocol, driven by a fake applier (this
# test) that applies what the source committed before the hold LSN, while the
# source keeps moving after it. verify must report no false difference, and
# must see a real one. Also: the phases in which verify refuses, and 'done'.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;
use PostgreSQL::Test::Utils;

my $src = new_source();
my $dst = new_target(extra_conf => "max_wal_senders = 0\n");
my $tables = "CREATE TABLE items (id int PRIMARY KEY, v text); "
  . "INSERT INTO items SELECT i, 'v' || i FROM generate_series(1, 100) i;";
$_->safe_psql('app', $tables) for ($src, $dst);
$dst->safe_psql('app', slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql"));
$dst->safe_psql('app',
	"INSERT INTO pgbaton.migration (name, phase, slot_name) VALUES ('pgbaton', 'streaming', 'pgbaton')");
my @conns = ('-s', connstr($src), '-t', connstr($dst));

# Start verify in the background; play the applier: once hold_lsn is set,
# move the source on (after L), run APPLY on the target (what was committed
# before L), then report the hold.
sub verify_with_fake_applier
{
	my ($apply, $after_l) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $BIN, 'verify', @conns ], '>', \$out, '2>', \$err,
		IPC::Run::timeout(120));
	ok( poll_until(
			sub {
				$dst->safe_psql('app',
					"SELECT hold_lsn IS NOT NULL FROM pgbaton.migration WHERE name = 'pgbaton'") eq 't';
			},
			60),
		'verify asks the applier to hold');
	$src->safe_psql('app', $after_l);
	$dst->safe_psql('app', $apply) if $apply;
	$dst->safe_psql('app',
		"UPDATE pgbaton.migration SET held_at = now(), applied_lsn = hold_lsn WHERE name = 'pgbaton'");
	$h->finish;
	unlike($out . $err, qr/\Q$PgbatonTest::PASSWORD\E/, 'no password in output');
	note("stdout:\n$out\nstderr:\n$err");
	return { rc => $h->result(0), stdout => $out, stderr => $err };
}

# the source is ahead of the target by 50 rows (committed before L), and
# keeps changing after L
$src->safe_psql('app', "INSERT INTO items SELECT i, 'v' || i FROM generate_series(101, 150) i");
my $r = verify_with_fake_applier(
	"INSERT INTO items SELECT i, 'v' || i FROM generate_series(101, 150) i",
	"INSERT INTO items SELECT i, 'late' FROM generate_series(151, 200) i; "
	  . "UPDATE items SET v = 'moved' WHERE id = 1; DELETE FROM items WHERE id = 2");
is($r->{rc}, 0, 'streaming: no false difference while the source moves') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^consistency: streaming held at source LSN [0-9A-F]+\/[0-9A-F]+/m,
	'streaming: the hold point is named');
like($r->{stdout}, qr/^table public\.items: equal \(150 rows\)$/m, 'streaming: compared at L (150 rows)');
like($r->{stdout}, qr/^sequences: not compared while streaming/m, 'streaming: sequences left to cutover');
like($r->{stdout}, qr/^verify: 1 tables equal, 0 differ; schema equal$/m, 'streaming: summary');
is($dst->safe_psql('app', "SELECT coalesce(hold_lsn::text, 'none') || ',' || coalesce(held_at::text, 'none') "
	  . "FROM pgbaton.migration"), 'none,none', 'streaming: hold cleared');
is($src->safe_psql('app', "SELECT count(*) FROM pg_replication_slots"), '0',
	'streaming: the temporary slot is gone');

# a real difference is still seen: the applier holds without applying the
# changes made above (now before the new L)
$r = verify_with_fake_applier(undef, "INSERT INTO items VALUES (1000, 'after')");
is($r->{rc}, 1, 'streaming: a lagging target is a difference');
like($r->{stdout}, qr/^table public\.items: DIFFERENT: rows: 199 on source, 150 on target; missing on target: id=151, /m,
	'streaming: the rows committed before L are named');
like($r->{stdout}, qr/extra on target: id=2/, 'streaming: the row deleted before L is named');
like($r->{stdout}, qr/changed: id=1/, 'streaming: the row updated before L is named');
unlike($r->{stdout}, qr/id=1000/, 'streaming: the row inserted after L is not seen');

# phases where verify refuses
for my $p ([ 'copying', qr/the copy is still running; verify after it finishes/ ],
	[ 'cutover', qr/a cutover is in progress/ ],
	[ 'failed', qr/the migration is not running/ ])
{
	$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = '$p->[0]'");
	$r = run_pgbaton([ 'verify', @conns ]);
	is($r->{rc}, 2, "phase $p->[0]: exit 2");
	like($r->{stderr}, $p->[1], "phase $p->[0]: reason given");
}

# phase done: plain comparison (the source is frozen)
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'done'");
$dst->safe_psql('app', "TRUNCATE items; INSERT INTO items SELECT * FROM (VALUES (0, NULL::text)) x WHERE false");
$src->safe_psql('app', "TRUNCATE items; INSERT INTO items SELECT i, 'v' || i FROM generate_series(1, 10) i");
$dst->safe_psql('app', "INSERT INTO items SELECT i, 'v' || i FROM generate_series(1, 10) i");
$r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'phase done: equal') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^consistency: after cutover/m, 'phase done: said so');

done_testing();
