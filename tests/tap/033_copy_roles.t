# pgbaton start, copy phase: roles and ownership, large objects.
# Without --roles, missing roles are named in a WARN and the copy goes on
# without ownership; with --roles, roles are created with their attributes,
# memberships and password hashes (equal on the target, never printed).
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $secret = 'Own3r-Secret!x';
$src->safe_psql('app', qq{
CREATE ROLE reader NOLOGIN;
CREATE ROLE app_owner LOGIN CREATEDB CONNECTION LIMIT 7;
GRANT reader TO app_owner;
CREATE TABLE owned (id int PRIMARY KEY, v text);
ALTER TABLE owned OWNER TO app_owner;
GRANT SELECT ON owned TO reader;
INSERT INTO owned SELECT g, 'v' || g FROM generate_series(1, 100) g;
SELECT lo_from_bytea(0, '\\x00ff');
SELECT lo_from_bytea(0, decode((SELECT string_agg(md5(i::text), '') FROM generate_series(1, 20000) i), 'hex'));
SELECT lo_from_bytea(0, '');
});
set_password($src, 'app_owner', $secret);
my $hash = $src->safe_psql('postgres', "SELECT rolpassword FROM pg_authid WHERE rolname = 'app_owner'");
like($hash, qr/^SCRAM-SHA-256\$/, 'source password is a SCRAM hash');
my $lo_sql = "SELECT count(*) || ' ' || md5(string_agg(oid::text || md5(lo_get(oid)), ',' ORDER BY oid)) "
  . "FROM pg_largeobject_metadata";

# without --roles
my $dst1 = new_target(name => 'target1');
my $p = start_pgbaton([ 'start', '-s', connstr($src), '-t', connstr($dst1), '--name', 'noroles' ]);
ok(wait_phase($dst1, 'noroles', 'streaming', process => $p), 'copy without --roles completes');
my $r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'without --roles: start exits 0 after SIGTERM');
like($r->{stderr}, qr/WARN .*roles missing on the target: app_owner, reader/, 'missing roles named');
is($dst1->safe_psql('app', "SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"),
	'migrator', 'table owned by the connecting role');
is(table_hash($dst1, 'owned'), table_hash($src, 'owned'), 'data copied anyway');
is($dst1->safe_psql('app', $lo_sql), $src->safe_psql('app', $lo_sql), 'large objects equal');
like($dst1->safe_psql('app', "SELECT string_agg(message, '|') FROM pgbaton.event WHERE level = 'warn'"),
	qr/roles missing/, 'warning recorded in pgbaton.event');

# with --roles
my $dst2 = new_target(name => 'target2');
$p = start_pgbaton([ 'start', '-s', connstr($src), '-t', connstr($dst2), '--name', 'roles', '--roles' ]);
ok(wait_phase($dst2, 'roles', 'streaming', process => $p), 'copy with --roles completes');
$r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'with --roles: start exits 0 after SIGTERM');
unlike($r->{stdout} . $r->{stderr}, qr/\Q$hash\E|\Q$secret\E|SCRAM-SHA/, 'hash never printed');
unlike($r->{stderr}, qr/roles missing/, 'no missing roles');
is($dst2->safe_psql('postgres', "SELECT rolpassword FROM pg_authid WHERE rolname = 'app_owner'"),
	$hash, 'password hash equal on the target');
is($dst2->safe_psql('postgres',
	"SELECT rolcanlogin || ' ' || rolcreatedb || ' ' || rolconnlimit FROM pg_roles WHERE rolname = 'app_owner'"),
	'true true 7', 'attributes copied');
is($dst2->safe_psql('postgres', "SELECT pg_has_role('app_owner', 'reader', 'MEMBER')"), 't',
	'membership copied');
is($dst2->safe_psql('app', "SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"),
	'app_owner', 'ownership restored');
is($dst2->safe_psql('app', "SELECT has_table_privilege('reader', 'owned', 'SELECT')"), 't',
	'privileges restored');
is($dst2->safe_psql('app', $lo_sql), $src->safe_psql('app', $lo_sql), 'large objects equal');
my $dump = `pg_dump -d "@{[ $dst2->connstr('app') ]}" --schema=pgbaton 2>&1`;
is($?, 0, 'pg_dump of the state schema succeeds') or diag($dump);
like($dump, qr/pgbaton\.migration/, 'the state schema is in the dump');
unlike($dump, qr/\Q$hash\E|\Q$secret\E/, 'no hash or password in the state schema');

done_testing();
