# pgbaton start, copy phase: the copy holds exactly the snapshot (writes made
# on the source after the slot was created are not in it: they belong to the
# stream), a table larger than --split-larger-than copied in page ranges,
# --jobs 1.
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
});
my %before = map { $_ => table_hash($src, $_) } qw(wide small);

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
});

ok(wait_phase($dst, $name, 'streaming', process => $p), 'copy completes');
my $r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'start exits 0 after SIGTERM');
like($r->{stderr}, qr/"public"\."wide" \(\d+ MB\) is copied in (\d+) parallel ranges/,
	'wide is split into ranges');

for my $t (qw(wide small))
{
	is(table_hash($dst, $t), $before{$t}, "$t: exactly the rows of the snapshot");
	isnt(table_hash($src, $t), $before{$t}, "$t: the source has changed since");
}
is($dst->safe_psql('app', "SELECT count(*) FROM wide WHERE v IN ('after', 'changed')"), '0',
	'no write made after the snapshot is in the copy');
is($dst->safe_psql('app', "SELECT count(*) FROM pg_indexes WHERE tablename = 'wide'"), '2',
	'indexes of the split table built');
is($dst->safe_psql('app',
	"SELECT rows_copied || ' ' || state FROM pgbaton.table_state WHERE table_name = 'wide'"),
	'40000 indexed', 'state: rows of all ranges counted');

done_testing();
