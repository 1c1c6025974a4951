# Unlogged tables at the cutover, with the real `start`: their changes do not
# stream and a crash restart of the source empties them, so the cutover copies
# each one again in full under the freeze (the target then equals the frozen
# source and the row counts pass); above --unlogged-recopy-max it is left as
# copied at the start and its row count difference is reported (WARN, event,
# report) instead of rolling back.
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $schema = q{
	CREATE TABLE logged (id int PRIMARY KEY, v text NOT NULL);
	CREATE UNLOGGED TABLE ul (id int PRIMARY KEY, v text NOT NULL, g int GENERATED ALWAYS AS (id * 2) STORED);
	INSERT INTO logged SELECT i, 'logged ' || i FROM generate_series(1, 20) i;
	INSERT INTO ul (id, v) SELECT i, 'unlogged ' || i FROM generate_series(1, 20) i;
};

sub count_of
{
	my ($node, $table) = @_;
	return $node->safe_psql('app', "SELECT count(*) FROM $table");
}

# --- 1. a crash restart of the source empties the unlogged table --------
{
	my $src = new_source();
	my $dst = new_target();
	$src->safe_psql('app', $schema);
	my @conns = ('-s', connstr($src), '-t', connstr($dst));
	my $p = start_pgbaton([ 'start', @conns ]);
	ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'case 1: copied; streaming');
	is(count_of($dst, 'ul'), '20', 'case 1: the unlogged table was copied at the start');

	# changes of the unlogged table do not stream; the logged table's do
	$src->safe_psql('app', q{
		UPDATE ul SET v = 'changed' WHERE id <= 5;
		INSERT INTO ul (id, v) VALUES (21, 'new');
		INSERT INTO logged VALUES (21, 'logged 21');
	});
	ok(wait_applied($src, $dst, 60), 'case 1: streamed the logged change');
	is(count_of($dst, 'logged'), '21', 'case 1: the logged change is on the target');
	isnt(table_hash($dst, 'ul'), table_hash($src, 'ul'),
		'case 1: the unlogged table differs while streaming (its changes are not in the WAL)');

	# a crash restart empties it on the source
	$src->stop('immediate');
	$src->start;
	is(count_of($src, 'ul'), '0', 'case 1: the crash restart emptied the unlogged table on the source');
	$src->safe_psql('app', q{
		INSERT INTO ul (id, v) VALUES (100, 'after the crash'), (101, 'again'), (102, 'and again');
		INSERT INTO logged VALUES (22, 'logged 22');
	});
	ok(wait_applied($src, $dst, 120), 'case 1: start reconnected and caught up after the restart');
	is(count_of($dst, 'ul'), '20', 'case 1: the target still has the unlogged table as copied at the start');

	my $r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '60s' ]);
	is($r->{rc}, 0, 'case 1: cutover succeeds') or diag($r->{stdout}, $r->{stderr});
	my $out = $r->{stdout} . $r->{stderr};
	like($out, qr/step 5\/7: unlogged table "public"\."ul" copied again in full: 3 rows, [0-9.]+ MB \([0-9]+ ms\)/,
		'case 1: one line for the unlogged table copied again');
	unlike($out, qr/"public"\."logged" copied again/, 'case 1: the logged table is not copied again');
	unlike($out, qr/WARN/, 'case 1: no WARN');
	my ($ms) = $out =~ /copied again in full: 3 rows, [0-9.]+ MB \(([0-9]+) ms\)/;
	diag("case 1: the unlogged table was copied again in " . ($ms // '?') . " ms");
	my $fin = finish_pgbaton($p);
	is($fin->{rc}, 0, 'case 1: start stopped by itself after the cutover');

	compare_tables($src, $dst, 'ul', 'logged');
	is($dst->safe_psql('app', 'SELECT string_agg(id || v || g, \',\' ORDER BY id) FROM ul'),
		'100after the crash200,101again202,102and again204', 'case 1: the target holds exactly the frozen source\'s rows');
	is($dst->safe_psql('app',
			"SELECT count(*) FROM pgbaton.event WHERE level = 'info' AND message LIKE "
			  . "'unlogged table \"public\".\"ul\" copied again in full at the cutover: 3 rows%'"),
		'1', 'case 1: the recopy is recorded as an info event');

	$r = run_pgbaton([ 'verify', @conns ]);
	is($r->{rc}, 0, 'case 1: verify after the cutover: equal') or diag($r->{stdout}, $r->{stderr});

	$r = run_pgbaton([ 'report', @conns ]);
	is($r->{rc}, 0, 'case 1: report');
	like($r->{stdout}, qr/## Unlogged tables\n\n- .*unlogged table "public"\."ul" copied again in full at the cutover: 3 rows/,
		'case 1: report says the unlogged table was copied again at the cutover');
	$r = run_pgbaton([ 'report', @conns, '--format', 'json' ]);
	is($r->{rc}, 0, 'case 1: report --format json');
	my $j = decode_json($r->{stdout});
	is(scalar(grep { /unlogged table "public"\."ul" copied again/ } @{ $j->{unlogged_tables} // [] }), 1,
		'case 1: report json lists it under unlogged_tables');
}

# --- 2. above --unlogged-recopy-max: reported, not rolled back ----------
{
	my $src = new_source(name => 'source2');
	my $dst = new_target(name => 'target2');
	$src->safe_psql('app', $schema);
	my @conns = ('-s', connstr($src), '-t', connstr($dst));
	my $p = start_pgbaton([ 'start', @conns ]);
	ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'case 2: copied; streaming');
	$src->safe_psql('app', q{
		INSERT INTO ul (id, v) SELECT i, 'later ' || i FROM generate_series(21, 25) i;
		INSERT INTO logged VALUES (21, 'logged 21');
	});
	ok(wait_applied($src, $dst, 60), 'case 2: caught up');
	my $size = $src->safe_psql('app', "SELECT pg_table_size('ul')");
	cmp_ok($size, '>', 1024, 'case 2: the unlogged table is larger than the limit given');

	my $r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '60s',
		'--unlogged-recopy-max', '1kB' ]);
	is($r->{rc}, 0, 'case 2: cutover succeeds despite the difference') or diag($r->{stdout}, $r->{stderr});
	my $out = $r->{stdout} . $r->{stderr};
	like($out, qr/WARN .*unlogged table "public"\."ul" left as copied at the start: it has 25 rows on the source, 20 on the target;.*--unlogged-recopy-max/,
		'case 2: WARN names the table, both counts and the option');
	unlike($out, qr/copied again in full/, 'case 2: not copied again');
	my $fin = finish_pgbaton($p);
	is($fin->{rc}, 0, 'case 2: start stopped by itself after the cutover');
	is(count_of($dst, 'ul'), '20', 'case 2: the target keeps the unlogged table as copied at the start');
	compare_tables($src, $dst, 'logged');
	is($dst->safe_psql('app',
			"SELECT count(*) FROM pgbaton.event WHERE level = 'warn' AND message LIKE "
			  . "'unlogged table \"public\".\"ul\" left as copied at the start: it has 25 rows on the source, 20 on the target%--unlogged-recopy-max%'"),
		'1', 'case 2: the difference is recorded as a warn event');
	is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration"), 'done', 'case 2: migration done');

	$r = run_pgbaton([ 'report', @conns ]);
	is($r->{rc}, 0, 'case 2: report');
	like($r->{stdout}, qr/## Unlogged tables\n\n- .*unlogged table "public"\."ul" left as copied at the start: it has 25 rows on the source, 20 on the target/,
		'case 2: report lists the unlogged table with its difference');
	like($r->{stdout}, qr/## Warnings\n\n(- .*\n)*- .*warn: unlogged table "public"\."ul" left as copied/,
		'case 2: and among the warnings');

	$r = run_pgbaton([ 'verify', @conns ]);
	is($r->{rc}, 1, 'case 2: verify finds the difference');
	like($r->{stdout} . $r->{stderr}, qr/ul/, 'case 2: verify names the table');
}

# --- 3. the option's value is checked -----------------------------------
{
	my $r = run_pgbaton([ 'cutover', '-s', 'host=nowhere', '-t', 'host=nowhere', '--unlogged-recopy-max', 'lots' ]);
	is($r->{rc}, 2, 'a bad --unlogged-recopy-max is bad usage');
	like($r->{stderr}, qr/invalid size "lots" for --unlogged-recopy-max/, 'and says so');
}
done_testing();
