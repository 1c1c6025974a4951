# pgbaton start, copy phase: a stop is answered at once, not after the
# longest index build. The copy's workers run on the worker runtime, which
# cancels every query in flight on a stop signal or on the first error.
#
# A table's expression index calls an IMMUTABLE plpgsql function that
# sleeps one second per row on the target only (a database setting there,
# test.slow, turns the sleep on), so that its CREATE INDEX lasts minutes.
#   1. SIGINT while that CREATE INDEX runs: start exits within seconds
#      (exit 1, phase failed, as documented), no CREATE INDEX or COPY of
#      pgbaton's is left on the servers, and start --restart (the sleep
#      turned off) completes the copy and streams, with the right counts.
#   2. A copy worker fails (a CHECK on the target rejects a row, once the
#      long CREATE INDEX of another worker is running): start fails at once
#      naming that first error, and the index build is cancelled.
#   3. SIGINT during the post-data restore (a partition's index, built by
#      pg_restore): pg_restore is terminated, start exits within seconds,
#      the phase stays indexing, and --restart completes the copy.
#   4. The post-data restore fails (a partition's index whose function
#      raises on the target): the phase stays indexing with the error
#      recorded, never "failed after the copy" (which a new start would
#      resume streaming from, without the missing post-data objects); a
#      plain start refuses, and --restart completes the copy.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();

my $rows = 120; # seconds of CREATE INDEX on the target, far above the deadlines below

# one second per row on the target (test.slow on there), nothing on the source
my $slow_key = q{
CREATE FUNCTION slow_key(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF current_setting('test.slow', true) = 'on' THEN
		PERFORM pg_sleep(1);
	END IF;
	RETURN v;
END $$;
};

# the schema of both cases, in database DB of the source
sub make_source
{
	my ($db, $with_bad) = @_;
	$src->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'app';
	$src->safe_psql($db, qq{
$slow_key
CREATE TABLE slow (id int PRIMARY KEY, v text);
INSERT INTO slow SELECT g, md5(g::text) FROM generate_series(1, $rows) g;
CREATE INDEX slow_idx ON slow (slow_key(id));
});
	return unless $with_bad;
	# on the target (test.slow on), row 1 waits for an advisory lock the
	# test holds until it has seen the long index build, then is rejected
	$src->safe_psql($db, q{
CREATE FUNCTION gate(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF current_setting('test.slow', true) = 'on' AND v = 1 THEN
		PERFORM pg_advisory_xact_lock_shared(4242);
		RAISE EXCEPTION 'row % rejected by the test', v;
	END IF;
	RETURN true;
END $$;
CREATE TABLE bad (id int PRIMARY KEY, CHECK (gate(id)));
INSERT INTO bad SELECT g FROM generate_series(1, 3) g;
});
}

# (the sessions are told apart by their query: pgbaton and its pg_restore
# inherit the harness's PGAPPNAME, so application_name names the test)

# pgbaton's long CREATE INDEX is running on the target (database DB)
sub index_build_running
{
	my ($db) = @_;
	return $dst->safe_psql($db,
		"SELECT count(*) FROM pg_stat_activity "
		  . "WHERE query LIKE 'CREATE INDEX slow_idx%' AND state = 'active'") eq '1';
}

# no CREATE INDEX or COPY (of pgbaton or its pg_restore: the test runs
# none) in flight on NODE, any database
sub nothing_left
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity "
		  . "WHERE (query LIKE 'CREATE INDEX%' OR query LIKE 'COPY%') AND state <> 'idle' "
		  . "AND pid <> pg_backend_pid()") eq '0';
}

# ---- 1. SIGINT during a long CREATE INDEX, then --restart ----------------
make_source('app', 0);
$dst->safe_psql('postgres', "ALTER DATABASE app SET test.slow = 'on'");
my @conn = ('-s', connstr($src), '-t', connstr($dst), '--name', 'ix', '--jobs', '2');

my $p = start_pgbaton([ 'start', @conn ]);
ok(poll_until(sub { index_build_running('app') }, 120, 'the long CREATE INDEX on the target'),
	'the copy is building the slow index');
$p->{h}->signal('INT');
ok(wait_exited($p, 15), 'start exits within 15 s of SIGINT (it does not wait for the build)');
my $r = finish_pgbaton($p);
is($r->{rc}, 1, 'SIGINT during the copy: exit 1');
like($r->{stderr}, qr/the copy was interrupted by a stop signal.*--restart/s,
	'says the copy was interrupted and must restart');
ok(poll_until(sub { nothing_left($dst) }, 5, 'no pgbaton CREATE INDEX/COPY on the target'),
	'the CREATE INDEX was cancelled on the target');
ok(nothing_left($src), 'no COPY of pgbaton left on the source');
is($dst->safe_psql('app', "SELECT phase FROM pgbaton.migration WHERE name = 'ix'"),
	'failed', 'phase failed, the copy not done');

# the sleep off: --restart copies again and reaches streaming
$dst->safe_psql('postgres', 'ALTER DATABASE app RESET test.slow');
$p = start_pgbaton([ 'start', @conn, '--restart' ]);
ok(wait_phase($dst, 'ix', 'streaming', process => $p), '--restart completes the copy');
is($dst->safe_psql('app', 'SELECT count(*) FROM slow'), $rows, 'all rows copied');
is($dst->safe_psql('app', "SELECT count(*) FROM pg_indexes WHERE indexname = 'slow_idx'"),
	'1', 'the slow index was built');
$src->safe_psql('app', "INSERT INTO slow VALUES (0, 'streamed')");
ok(poll_until(sub {
	$dst->safe_psql('app', "SELECT count(*) FROM slow WHERE v = 'streamed'") eq '1';
}), 'a change made after the copy is streamed');
is(table_hash($dst, 'slow'), table_hash($src, 'slow'), 'slow equal to the source');
$r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'SIGTERM while streaming: exit 0');

# ---- 2. a copy worker fails while another one builds the long index -------
make_source('two', 1);
$dst->safe_psql('postgres', 'CREATE DATABASE two');
$dst->safe_psql('postgres', "ALTER DATABASE two SET test.slow = 'on'");
my @two = ('-s', connstr($src, dbname => 'two'), '-t', connstr($dst, dbname => 'two'),
	'--name', 'ix2', '--jobs', '2');
my $hold = $dst->background_psql('two');
$hold->query_safe('SELECT pg_advisory_lock(4242)');
$p = start_pgbaton([ 'start', @two ]);
ok(poll_until(sub { index_build_running('two') }, 120, 'the long CREATE INDEX on the target'),
	'one worker builds the slow index');
$hold->query_safe('SELECT pg_advisory_unlock(4242)'); # the other worker's row is rejected now
$hold->quit;
ok(wait_exited($p, 15), 'start fails within 15 s of the other worker\'s error');
$r = finish_pgbaton($p);
is($r->{rc}, 1, 'failed copy: exit 1');
like($r->{stderr}, qr/copy of "public"\."bad" failed: .*row 1 rejected by the test/,
	'the first error is named');
unlike($r->{stderr}, qr/copy of "public"\."slow" failed/,
	'the cancelled index build is not reported as the failure');
like($r->{stderr}, qr/the data copy failed; the copy cannot be resumed: run pgbaton start --restart/,
	'and says how to go on');
ok(poll_until(sub { nothing_left($dst) }, 5, 'no pgbaton CREATE INDEX/COPY on the target'),
	'the long index build was cancelled');
is($dst->safe_psql('two', "SELECT phase FROM pgbaton.migration WHERE name = 'ix2'"),
	'failed', 'phase failed');
$src->safe_psql('two', "SELECT pg_drop_replication_slot('ix2')");

# ---- 3. SIGINT during the post-data restore --------------------------------
# the copy builds the indexes of plain tables; a partition's comes from its
# partitioned table's index, created by pg_restore in the post-data section
$src->safe_psql('postgres', 'CREATE DATABASE three');
$src->safe_psql('three', qq{
$slow_key
CREATE TABLE pslow (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE pslow_all PARTITION OF pslow FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
INSERT INTO pslow SELECT g, md5(g::text) FROM generate_series(1, $rows) g;
CREATE INDEX pslow_key ON pslow (slow_key(id));
});
$dst->safe_psql('postgres', 'CREATE DATABASE three');
$dst->safe_psql('postgres', "ALTER DATABASE three SET test.slow = 'on'");
my @three = ('-s', connstr($src, dbname => 'three'), '-t', connstr($dst, dbname => 'three'),
	'--name', 'ix3', '--jobs', '2');
$p = start_pgbaton([ 'start', @three ]);
ok(poll_until(sub {
	$dst->safe_psql('three',
		"SELECT count(*) FROM pg_stat_activity "
		  . "WHERE query LIKE 'CREATE INDEX%slow_key%' AND state = 'active'") ne '0';
}, 120, "pg_restore's long CREATE INDEX on the target"), 'pg_restore builds the slow index');
$p->{h}->signal('INT');
ok(wait_exited($p, 15), 'start exits within 15 s of SIGINT (pg_restore terminated)');
$r = finish_pgbaton($p);
is($r->{rc}, 1, 'SIGINT during the post-data restore: exit 1');
like($r->{stderr}, qr/the post-data restore was interrupted by a stop signal.*--restart/,
	'says the copy must restart');
ok(poll_until(sub { nothing_left($dst) }, 5, 'no CREATE INDEX of pg_restore on the target'),
	"pg_restore's index build was cancelled");
is($dst->safe_psql('three', "SELECT phase FROM pgbaton.migration WHERE name = 'ix3'"),
	'indexing', 'phase stays indexing (the copy is not complete)');
$r = run_pgbaton([ 'start', @three ]);
is($r->{rc}, 1, 'start after the interrupted post-data: exit 1');
like($r->{stderr}, qr/the copy of migration ix3 was interrupted.*--restart/, 'refuses, --restart');
$dst->safe_psql('postgres', 'ALTER DATABASE three RESET test.slow');
$p = start_pgbaton([ 'start', @three, '--restart' ]);
ok(wait_phase($dst, 'ix3', 'streaming', process => $p, dbname => 'three'),
	'--restart completes the copy');
is($dst->safe_psql('three', 'SELECT count(*) FROM pslow'), $rows, 'all rows copied');
is($dst->safe_psql('three',
	"SELECT count(*) FROM pg_indexes WHERE tablename = 'pslow_all' AND indexdef LIKE '%slow_key%'"),
	'1', "the partition's index was built");
$r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'SIGTERM while streaming: exit 0');

# 4. the post-data restore fails: the phase stays indexing
$src->safe_psql('postgres', 'CREATE DATABASE four');
$src->safe_psql('four', q{
CREATE FUNCTION fail_key(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF current_setting('test.fail', true) = 'on' THEN
		RAISE EXCEPTION 'index key % refused by the test', v;
	END IF;
	RETURN v;
END $$;
CREATE TABLE pfail (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE pfail_all PARTITION OF pfail FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
INSERT INTO pfail SELECT g FROM generate_series(1, 10) g;
CREATE INDEX pfail_key ON pfail (fail_key(id));
});
$dst->safe_psql('postgres', 'CREATE DATABASE four');
$dst->safe_psql('postgres', "ALTER DATABASE four SET test.fail = 'on'");
my @four = ('-s', connstr($src, dbname => 'four'), '-t', connstr($dst, dbname => 'four'),
	'--name', 'ix4');
$r = run_pgbaton([ 'start', @four ]);
is($r->{rc}, 1, 'the post-data restore fails: exit 1');
like($r->{stderr}, qr/the post-data restore failed.*--restart/s, 'says the copy must restart');
is($dst->safe_psql('four', "SELECT phase FROM pgbaton.migration WHERE name = 'ix4'"),
	'indexing', 'phase stays indexing, not failed after the copy');
like($dst->safe_psql('four', "SELECT last_error FROM pgbaton.migration WHERE name = 'ix4'"),
	qr/post-data restore failed/, 'the failure is recorded');
$r = run_pgbaton([ 'start', @four ]);
is($r->{rc}, 1, 'start after the failed post-data: exit 1 (no streaming without the index)');
like($r->{stderr}, qr/the copy of migration ix4 was interrupted.*--restart/, 'refuses, --restart');
$dst->safe_psql('postgres', 'ALTER DATABASE four RESET test.fail');
$p = start_pgbaton([ 'start', @four, '--restart' ]);
ok(wait_phase($dst, 'ix4', 'streaming', process => $p, dbname => 'four'),
	'--restart completes the copy');
is($dst->safe_psql('four',
	"SELECT count(*) FROM pg_indexes WHERE tablename = 'pfail_all' AND indexdef LIKE '%fail_key%'"),
	'1', "the partition's index is there");
$r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'SIGTERM while streaming: exit 0');

done_testing();
