# verify while streaming: the hold protocol against the real applier. The
# source keeps changing (pgbench) while verify runs; verify must report no
# false difference, and must still see a real one.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;
use File::Temp qw(tempfile);

my $src = new_source();
my $dst = new_target();
$src->safe_psql('app', q{
	CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL, note text);
	INSERT INTO acct SELECT g, 1000, 'n' || g FROM generate_series(1, 2000) g;
	CREATE TABLE hist (id bigserial PRIMARY KEY, acct int NOT NULL, delta int NOT NULL);
});
my @conns = ('-s', connstr($src), '-t', connstr($dst));
my $p = start_pgbaton([ 'start', @conns ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copy done, streaming');

# live writes on the source for the whole verify
my ($fh, $script) = tempfile(SUFFIX => '.sql', UNLINK => 1);
print $fh "\\set a random(1, 2000)\n\\set d random(-50, 50)\n"
  . "BEGIN;\nUPDATE acct SET bal = bal + :d WHERE id = :a;\n"
  . "INSERT INTO hist (acct, delta) VALUES (:a, :d);\nCOMMIT;\n";
close $fh;
my ($lo, $le) = ('', '');
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-T', '900', '-f', $script, '-h', $src->host, '-p', $src->port, 'app' ],
	'>', \$lo, '2>', \$le);
ok(poll_until(sub { $src->safe_psql('app', 'SELECT count(*) FROM hist') > 200 }, 30),
	'the load is writing');

for my $round (1, 2)
{
	my $r = run_pgbaton([ 'verify', @conns ]);
	is($r->{rc}, 0, "round $round: verify under load: equal") or diag($r->{stdout}, $r->{stderr});
	like($r->{stdout}, qr/^consistency: streaming held at source LSN [0-9A-F]+\/[0-9A-F]+/m,
		"round $round: the hold point is named");
	like($r->{stdout}, qr/^verify: 2 tables equal, 0 differ; schema equal$/m, "round $round: summary");
}
is($dst->safe_psql('app', "SELECT coalesce(hold_lsn::text, 'none') || ',' || coalesce(held_at::text, 'none') "
	  . "FROM pgbaton.migration"), 'none,none', 'hold cleared');
is($src->safe_psql('app', "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'pgbaton_verify%'"),
	'0', 'the temporary slot is gone');
my $before = $src->safe_psql('app', 'SELECT count(*) FROM hist');
ok(poll_until(sub { $src->safe_psql('app', 'SELECT count(*) FROM hist') > $before }, 30),
	'the load still commits after verify (the hold was lifted)');

$load->kill_kill;
$load->finish;
ok(wait_applied($src, $dst, 60), 'caught up after the load');

# a real difference is still seen, with its key and no other value
$dst->safe_psql('app', "UPDATE acct SET note = 'TAMPERED-VALUE' WHERE id = 77");
my $r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 1, 'a changed row on the target is a difference');
like($r->{stdout}, qr/^table public\.acct: DIFFERENT: .*changed: id=77/m, 'the key is named');
unlike($r->{stdout} . $r->{stderr}, qr/TAMPERED-VALUE/, 'no column value printed');
$dst->safe_psql('app', "UPDATE acct SET note = 'n77' WHERE id = 77");

my $fin = finish_pgbaton($p, signal => 'TERM');
is($fin->{rc}, 0, 'start stopped cleanly');

# phases where verify refuses
for my $ph ([ 'copying', qr/the copy is still running; verify after it finishes/ ],
	[ 'cutover', qr/a cutover is in progress/ ],
	[ 'failed', qr/the migration is not running/ ])
{
	$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = '$ph->[0]'");
	$r = run_pgbaton([ 'verify', @conns ]);
	is($r->{rc}, 2, "phase $ph->[0]: exit 2");
	like($r->{stderr}, $ph->[1], "phase $ph->[0]: reason given");
}

# phase done: plain comparison (the source is frozen); a cutover would have
# copied the sequence
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'done'");
my $seq = $src->safe_psql('app', 'SELECT last_value FROM hist_id_seq');
$dst->safe_psql('app', "SELECT setval('hist_id_seq', $seq)");
$r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'phase done: equal') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^consistency: after cutover/m, 'phase done: said so');

done_testing();
