# pgbaton start, copy phase: table filters (--include/--exclude-schema,
# --include/--exclude-table) applied to schema and data alike, stored in the
# state; and the preflight refusal (exit 3).
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
$src->safe_psql('app', q{
CREATE SCHEMA s1; CREATE SCHEMA s2;
CREATE TYPE s1.color AS ENUM ('red', 'blue');
CREATE TABLE keep (id int PRIMARY KEY);
CREATE TABLE skip_me (id int PRIMARY KEY);
CREATE TABLE s1.a (id int PRIMARY KEY, c s1.color);
CREATE TABLE s1.b (id int PRIMARY KEY);
CREATE TABLE s2.c (id int PRIMARY KEY);
INSERT INTO keep VALUES (1), (2); INSERT INTO skip_me VALUES (1);
INSERT INTO s1.a VALUES (1, 'red'), (2, 'blue'); INSERT INTO s1.b VALUES (1); INSERT INTO s2.c VALUES (1);
});
my $tables = q{SELECT string_agg(schemaname || '.' || tablename, ' ' ORDER BY schemaname || '.' || tablename) FROM pg_tables
  WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'pgbaton')};

sub copy_with
{
	my ($node, $name, @filters) = @_;
	my $p = start_pgbaton([ 'start', '-s', connstr($src), '-t', connstr($node), '--name', $name,
		'--jobs', '2', @filters ]);
	ok(wait_phase($node, $name, 'streaming', process => $p), "$name: copy completes");
	my $r = finish_pgbaton($p, signal => 'TERM');
	is($r->{rc}, 0, "$name: exit 0");
	return $r;
}

my $dst1 = new_target(name => 'target1');
copy_with($dst1, 'ex', '--exclude-schema', 's2', '--exclude-table', 'skip*');
is($dst1->safe_psql('app', $tables), 'public.keep s1.a s1.b', 'excluded schema and table left out');
is($dst1->safe_psql('app', "SELECT count(*) FROM pg_namespace WHERE nspname = 's2'"), '0',
	'excluded schema not created');
is(table_hash($dst1, 's1.a'), table_hash($src, 's1.a'), 's1.a copied');
is($dst1->safe_psql('app',
	"SELECT string_agg(schema_name || '.' || table_name, ' ' ORDER BY schema_name || '.' || table_name) FROM pgbaton.table_state"),
	'public.keep s1.a s1.b', 'state lists the selected tables only');
is($dst1->safe_psql('app', "SELECT options->'filters'->'exclude_table'->>0 FROM pgbaton.migration"),
	'skip*', 'filters stored in the state');

my $dst2 = new_target(name => 'target2');
copy_with($dst2, 'inc', '--include-schema', 's1', '--include-table', 'a');
is($dst2->safe_psql('app', $tables), 's1.a', 'only the included table');
is($dst2->safe_psql('app', "SELECT count(*) FROM pg_type WHERE typname = 'color'"), '1',
	'types of the included schema come along');
is(table_hash($dst2, 's1.a'), table_hash($src, 's1.a'), 's1.a copied');

# preflight refusal: a table whose UPDATE/DELETE cannot be replicated
my $src3 = new_source(name => 'source3');
$src3->safe_psql('app', 'CREATE TABLE nokey (v int); ALTER TABLE nokey REPLICA IDENTITY NOTHING');
my $dst3 = new_target(name => 'target3');
my $r = run_pgbaton([ 'start', '-s', connstr($src3), '-t', connstr($dst3), '--name', 'ck' ]);
is($r->{rc}, 3, 'start refused by the preflight: exit 3');
like($r->{stdout} . $r->{stderr}, qr/FAIL.*\n.*nokey|nokey.*FAIL/s, 'the blocking table is named');
is($dst3->safe_psql('app', "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbaton'"), '0',
	'target untouched');
is($src3->safe_psql('app', "SELECT count(*) FROM pg_replication_slots"), '0', 'no slot left on the source');

done_testing();
