# abort in the middle of a cutover (issue 19, "Status"): the cutover was
# killed after the freeze, before its step 5 copied the sequences and
# refreshed the materialized views. abort unfreezes and stops the
# migration, and says what the target lacks (found by comparing the two
# sides, with the frozen source's values) and the statements that finish
# it; run on the target, they do.
#
# The cutover is held at its fence: a session on the target holds a lock
# on t, so the applier waits on a change to t written before the freeze
# and cannot apply the fence behind it (--max-lag 1h lets step 1 pass
# meanwhile).
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
setup_streaming($src, $dst, schema => q{
	CREATE TABLE t (id serial PRIMARY KEY, v text);
	CREATE SEQUENCE free_seq;
	CREATE SEQUENCE unused_seq;
	CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t WITH NO DATA;
	CREATE MATERIALIZED VIEW mv_empty AS SELECT 1 AS one WITH NO DATA;
});
my @conn = ('-s', connstr($src), '-t', connstr($dst));

my $p = spawn_start($src, $dst);
ok(wait_streaming($src, $dst, $p), 'streaming');
$src->safe_psql('app', q{
	INSERT INTO t (v) SELECT 'row ' || g FROM generate_series(1, 5) g;
	SELECT nextval('free_seq') FROM generate_series(1, 7);
	REFRESH MATERIALIZED VIEW mv;
});
ok(wait_applied($src, $dst, 60), 'applied');

# hold the applier on t, then a change to t
my $lock = $dst->background_psql('app');
$lock->query_safe('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
$src->safe_psql('app', "INSERT INTO t (v) VALUES ('before the freeze')");

my $c = start_pgbaton([ 'cutover', @conn, '--max-lag', '1h', '--timeout', '600s' ]);
ok( wait_query(
		$dst, 'SELECT phase, frozen_at IS NOT NULL, fence_lsn IS NOT NULL FROM pgbaton.migration',
		'cutover|t|t', 'the cutover to wait for its fence'),
	'the cutover froze the source and waits for its fence');
is(finish_pgbaton($c, signal => 'KILL')->{signal}, 9, 'cutover killed before its step 5');
is($src->safe_psql('app', "SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'"),
	'on', 'the source is still frozen');
$lock->query_safe('COMMIT');
$lock->quit;

my $r = run_pgbaton([ 'abort', @conn ]);
is($r->{rc}, 0, 'abort: exit 0') or diag($r->{stdout}, $r->{stderr});
my $out = $r->{stdout};
like($out, qr/unfroze source database app/, 'abort unfroze the source');
like($out, qr/migration pgbaton stopped \(was cutover\); target data kept/, 'the migration is stopped');
like($out, qr/the target lacks what the cutover finishes \(its step 5\): 2 sequence\(s\) not at the source's value and 1 materialized view\(s\) not populated/,
	'says what the target lacks');
my $t_id = $src->safe_psql('app', 'SELECT last_value FROM t_id_seq');
like($out, qr/^  SELECT pg_catalog\.setval\('"public"\."free_seq"', 7\);$/m, 'the statement for free_seq');
like($out, qr/^  SELECT pg_catalog\.setval\('"public"\."t_id_seq"', $t_id\);$/m, 'the statement for t_id_seq');
like($out, qr/^  REFRESH MATERIALIZED VIEW "public"\."mv";$/m, 'the statement for mv');
unlike($out, qr/unused_seq|mv_empty/, 'nothing for what the source has not used or populated either');
like($out, qr/read from the source while it was still frozen/, 'says where the values come from');
is($src->safe_psql('app', "SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'"),
	'off', 'the source is writable again');

# the statements finish it
my $todo = join("\n", $out =~ /^  (.*;)$/mg);
$dst->safe_psql('app', $todo);
is($dst->safe_psql('app', "SELECT last_value FROM free_seq"), '7', 'target: free_seq as on the source');
is($dst->safe_psql('app', "SELECT last_value FROM t_id_seq"), $t_id, 'target: t_id_seq as on the source');
is($dst->safe_psql('app', "SELECT relispopulated FROM pg_class WHERE relname = 'mv'"), 't',
	'target: mv populated');
is($dst->safe_psql('app', 'SELECT n FROM mv'), $dst->safe_psql('app', 'SELECT count(*) FROM t'),
	'target: mv holds what its query gives on the target');

ok(wait_exited($p, 60), 'start exits once the migration is stopped');
stop_pgbaton($p);
done_testing();
