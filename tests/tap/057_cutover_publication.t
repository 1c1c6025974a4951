# pgoutput with a FOR TABLE publication (here: a superuser with a table
# filter): a table created on the source after `start` is not in the
# publication, so none of its changes stream. The cutover finds it under the
# freeze and rolls back (exit 4, source writable) naming the table; once it
# is gone, the cutover goes through. abort/clean drop the publication.
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
$src->safe_psql('app', q{
	CREATE TABLE kept (id int PRIMARY KEY, v text);
	CREATE TABLE skipped (id int PRIMARY KEY);
	INSERT INTO kept SELECT i, 'kept ' || i FROM generate_series(1, 10) i;
});
my @conns = ('-s', connstr($src), '-t', connstr($dst));
my $p = start_pgbaton([ 'start', @conns, '--plugin', 'pgoutput', '--exclude-table', 'public.skipped' ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copied; streaming');
is($src->safe_psql('app', "SELECT puballtables FROM pg_publication WHERE pubname = 'pgbaton'"), 'f',
	'a table filter makes the publication FOR TABLE');
is($src->safe_psql('app', "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'pgbaton'"),
	'kept', 'it publishes the selected table only');

# a table created after the start, written to while streaming
$src->safe_psql('app', q{
	CREATE TABLE later (id int PRIMARY KEY);
	INSERT INTO later VALUES (1), (2);
	INSERT INTO kept VALUES (11, 'kept 11');
});
$dst->safe_psql('app', 'CREATE TABLE later (id int PRIMARY KEY)');
ok(wait_applied($src, $dst, 60), 'caught up');
is($dst->safe_psql('app', 'SELECT count(*) FROM later'), '0', 'the new table\'s rows did not stream');

my $r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '60s' ]);
is($r->{rc}, 4, 'cutover rolls back') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout} . $r->{stderr},
	qr/schema change detected on the source: table public\.later is not in the publication pgbaton .*ALTER PUBLICATION pgbaton ADD TABLE/,
	'and names the table, the publication and the fix');
is($src->safe_psql('app', "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'app' AND array_to_string(s.setconfig, ',') LIKE '%default_transaction_read_only=on%'"),
	'0', 'the source is writable again');
is($dst->safe_psql('app', 'SELECT phase FROM pgbaton.migration'), 'streaming', 'still streaming');

# gone from the source (it was not needed): the cutover goes through
$src->safe_psql('app', 'DROP TABLE later');
$dst->safe_psql('app', 'DROP TABLE later');
$r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '60s' ]);
is($r->{rc}, 0, 'cutover succeeds without the unpublished table') or diag($r->{stdout}, $r->{stderr});
my $fin = finish_pgbaton($p);
is($fin->{rc}, 0, 'start stopped by itself after the cutover');
is(table_hash($dst, 'kept'), table_hash($src, 'kept'), 'the selected table is exact');

$r = run_pgbaton([ 'clean', @conns ]);
is($r->{rc}, 0, 'clean');
like($r->{stdout}, qr/dropped publication pgbaton on the source/, 'clean drops the publication');
is($src->safe_psql('app', 'SELECT count(*) FROM pg_publication'), '0', 'no publication left');
done_testing();
