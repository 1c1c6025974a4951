# pgbaton check against badly configured sources: wal_level = replica (and
# no free replication slot), wal2json not allowed as an output plugin.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use JSON::PP;

my $dst = new_target();

sub check
{
	my ($src) = @_;
	return run_pgbaton([ 'check', '-s', connstr($src), '-t', connstr($dst) ]);
}

sub line_of
{
	my ($r, $id) = @_;
	return $r->{stdout} =~ /^((?:PASS|WARN|FAIL)\s+\Q$id\E\s.*(?:\n {6}fix: .*)?)$/m ? $1 : '';
}

# --- wal_level = replica, every slot taken ------------------------------------------
my $replica = new_source(name => 'replica', logical => 0,
	extra_conf => "max_replication_slots = 1\n");
$replica->safe_psql('app', q{SELECT pg_create_physical_replication_slot('standby1')});
my $r = check($replica);
is($r->{rc}, 3, 'wal_level = replica: exit 3');
like(line_of($r, 'source-wal-level'),
	qr/^FAIL .*wal_level is replica.*\n {6}fix: run ALTER SYSTEM SET wal_level = logical on the source and restart it/,
	'wal_level fails with the fix');
is(line_of($r, 'source-wal2json'), '', 'wal2json probe skipped without logical decoding');
like(line_of($r, 'source-replication-slots'),
	qr/^FAIL .*no free replication slot.*\n {6}fix: raise max_replication_slots/,
	'no free slot fails with the fix');
like(line_of($r, 'source-wal-senders'), qr/^PASS/, 'wal senders are free');
is($replica->safe_psql('app', 'SELECT count(*) FROM pg_replication_slots'), '1',
	'check created no slot');
$replica->stop;

# --- wal2json not allowed (output_plugin_libraries, PostgreSQL 15.19+) ------------
SKIP:
{
	# (asked of a running server: a failing `postgres --describe-config`
	# would skip this silently)
	skip 'this server has no output_plugin_libraries setting', 28
	  unless $dst->safe_psql('postgres',
		"SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'") eq '1';
	my $strict = new_source(name => 'strict', allow_wal2json => 0);
	$r = check($strict);
	is($r->{rc}, 0, 'wal2json not allowed, default --plugin auto: exit 0') or diag($r->{stdout});
	like(line_of($r, 'source-wal2json-allowed'),
		qr/^PASS .*wal2json may not be used, pgoutput \(always allowed\) will be/,
		'the allow-list is named, pgoutput stands in');
	like(line_of($r, 'decoder'), qr/^PASS .*start will decode with pgoutput: the source does not allow wal2json/,
		'decoder: pgoutput, and why');
	$r = run_pgbaton([ 'check', '-s', connstr($strict), '-t', connstr($dst), '--plugin', 'wal2json' ]);
	is($r->{rc}, 3, '--plugin wal2json, not allowed: exit 3');
	like(line_of($r, 'source-wal2json-allowed'),
		qr/^FAIL .*wal2json may not be used as an output plugin.*\n {6}fix: set output_plugin_libraries = 'pgoutput, test_decoding, wal2json' on the source and reload it \(on a managed service this is the provider's setting\), or use --plugin pgoutput/,
		'plugin allow-list fails with the fix');
	is(line_of($r, 'source-wal2json'), '', 'probe skipped when wal2json is not allowed');
	is($strict->safe_psql('app', 'SELECT count(*) FROM pg_replication_slots'), '0',
		'no slot left');

	# a default start migrates a live database there, with pgoutput
	my $to = new_target(name => 'strict_target');
	$strict->safe_psql('app', q{
		CREATE TABLE t (id int PRIMARY KEY, v text, f float8);
		INSERT INTO t SELECT i, 'row ' || i, i / 3.0 FROM generate_series(1, 100) i;
	});
	my $p = start_pgbaton([ 'start', '-s', connstr($strict), '-t', connstr($to) ]);
	ok(wait_phase($to, 'pgbaton', 'streaming', process => $p), 'strict source: copied; streaming');
	is($to->safe_psql('app', 'SELECT plugin || \' \' || publication FROM pgbaton.migration'),
		'pgoutput pgbaton', 'the state records pgoutput and its publication');
	$strict->safe_psql('app', q{
		INSERT INTO t VALUES (101, 'new', 'NaN'), (102, NULL, '-Infinity');
		UPDATE t SET v = 'changed', f = 'Infinity' WHERE id = 5;
		DELETE FROM t WHERE id = 7;
	});
	ok(wait_applied($strict, $to, 60), 'strict source: caught up');
	is(table_hash($to, 't'), table_hash($strict, 't'), 'strict source: the target is exact');
	my $st = run_pgbaton([ 'status', '-s', connstr($strict), '-t', connstr($to), '--json' ]);
	my $sj = decode_json($st->{stdout});
	is("$sj->{plugin} $sj->{publication}", 'pgoutput pgbaton', 'status --json shows the decoder');
	$st = run_pgbaton([ 'status', '-s', connstr($strict), '-t', connstr($to) ]);
	like($st->{stdout}, qr/^decoder: +pgoutput, publication pgbaton$/m, 'status shows the decoder');
	my $rep = run_pgbaton([ 'report', '-s', connstr($strict), '-t', connstr($to), '--format', 'json' ]);
	is(decode_json($rep->{stdout})->{plugin}, 'pgoutput', 'report --format json shows the decoder');
	my $fin = finish_pgbaton($p, signal => 'TERM');
	is($fin->{rc}, 0, 'start stops cleanly');
	my $a = run_pgbaton([ 'abort', '-s', connstr($strict), '-t', connstr($to) ]);
	is($a->{rc}, 0, 'abort');
	like($a->{stdout}, qr/dropped publication pgbaton on the source/, 'abort drops the publication');
	is($strict->safe_psql('app', 'SELECT count(*) FROM pg_publication'), '0', 'no publication left');
}

done_testing();
