# pgbaton start, copy phase: the copy holds exactly the snapshot (writes made
# on the source after the slot was created are not in it: they belong to the
# stream, which applies them once), a table larger than --split-larger-than
# copied in page ranges, --jobs 1.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();

$src->safe_psql('app', q{
CREATE TABLE wide (id bigint PRIMARY KEY, v text, n numeric);
INSERT INTO wide SELECT g, repeat(md5(g::text), 4), g * 1.5 FROM generate_series(1, 40000) g;
CREATE INDEX wide_v_idx ON wide (v);
CREATE TABLE small (id int PRIMARY KEY, v text);
INSERT INTO small SELECT g, 'x' || g FROM generate_series(1, 100) g;
CREATE TABLE keyless (v int);
ALTER TABLE keyless REPLICA IDENTITY FULL;
INSERT INTO keyless SELECT 1 FROM generate_series(1, 30);
});

my $name = 'snap';
my $p = start_pgbaton([ 'start', '-s', connstr($src), '-t', connstr($dst), '--name', $name,
	'--jobs', '1', '--split-larger-than', '64kB' ]);

# as soon as the slot exists, write on the source
ok(poll_until(sub {
	my $out = '';
	$dst->psql('app', "SELECT consistent_lsn FROM pgbaton.migration WHERE name = '$name'",
		stdout => \$out);
	return ($out // '') =~ m{/};
}), 'slot created (consistent point recorded)');
$src->safe_psql('app', q{
INSERT INTO wide SELECT g, 'after', 0 FROM generate_series(100001, 100100) g;
UPDATE wide SET v = 'changed' WHERE id <= 10;
DELETE FROM small WHERE id <= 50;
INSERT INTO small VALUES (1000, 'new');
INSERT INTO keyless SELECT 1 FROM generate_series(1, 20);
});

ok(wait_phase($dst, $name, 'streaming', process => $p), 'copy completes');
# the copy read the snapshot: the counts of rows copied are the snapshot's
is($dst->safe_psql('app',
	"SELECT string_agg(table_name || '=' || rows_copied, ',' ORDER BY table_name) "
	  . "FROM pgbaton.table_state WHERE migration = '$name'"),
	'keyless=30,small=100,wide=40000', 'rows copied: exactly the snapshot');
# the later writes arrive through the stream, once: a keyless table would
# show a write both copied and streamed as a duplicate row
ok(wait_applied($src, $dst, 60, $name), 'streaming caught up');
for my $t (qw(wide small keyless))
{
	is(table_hash($dst, $t), table_hash($src, $t), "$t: equal to the source (copy + stream, once)");
}
is($dst->safe_psql('app', 'SELECT count(*) FROM keyless'), '50', 'keyless: 30 copied + 20 streamed');
my $r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'start exits 0 after SIGTERM');
like($r->{stderr}, qr/"public"\."wide" \(\d+ MB\) is copied in (\d+) parallel ranges/,
	'wide is split into ranges');
is($dst->safe_psql('app', "SELECT count(*) FROM pg_indexes WHERE tablename = 'wide'"), '2',
	'indexes of the split table built');
is($dst->safe_psql('app',
	"SELECT rows_copied || ' ' || state FROM pgbaton.table_state WHERE table_name = 'wide'"),
	'40000 indexed', 'state: rows of all ranges counted');

done_testing();
