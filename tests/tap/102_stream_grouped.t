# Streaming phase: grouped statements (consecutive changes of one table sent
# as one statement over arrays; src/apply.c). The target must end exactly as
# if every change had been applied one by one, in source order, and a
# rejected group must still be reported as the one change and key.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();

my $schema = <<'SQL';
CREATE TABLE acc (id int PRIMARY KEY, bal int NOT NULL, note text, b box, big text);
ALTER TABLE acc ALTER big SET STORAGE EXTERNAL;
CREATE TABLE uq (id int PRIMARY KEY, email text UNIQUE);
CREATE TABLE arr (id int PRIMARY KEY, a int[], t text[]);
CREATE TABLE nokey (a int, b text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
CREATE TABLE seen (id int PRIMARY KEY, v int);
CREATE TABLE narrow (id int PRIMARY KEY, v varchar(10));
SQL
my $data = <<'SQL';
INSERT INTO acc (id, bal, big) SELECT i, 0, CASE WHEN i = 1 THEN repeat(md5('x'), 300) END
  FROM generate_series(1, 200) i;
INSERT INTO uq VALUES (1, 'a'), (2, 'b');
SQL
setup_streaming($src, $dst, schema => $schema, data => $data);

# an ENABLE ALWAYS trigger (it would fire even in the applier's replica
# session) on a table of the migration, as the copy records them in
# table_state: start switches it off before the first change, so it never
# fires while pgbaton writes (src/triggers.c), and grouping needs no order
# across tables
$dst->safe_psql('app', <<'SQL');
INSERT INTO pgbaton.table_state (migration, schema_name, table_name, state)
  VALUES ('pgbaton', 'public', 'seen', 'indexed');
CREATE TABLE seen_log (id int, acc_rows bigint);
CREATE FUNCTION seen_log() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO seen_log VALUES (NEW.id, (SELECT count(*) FROM acc)); RETURN NULL; END$$;
CREATE TRIGGER seen_log AFTER INSERT ON seen FOR EACH ROW EXECUTE FUNCTION seen_log();
ALTER TABLE seen ENABLE ALWAYS TRIGGER seen_log;
SQL

my $p = spawn_start($src, $dst, extra => ['-v']);

$src->safe_psql('app', <<'SQL');
-- values that need quoting inside an array, and NULL against the text 'NULL'
INSERT INTO acc (id, bal, note, b) VALUES
  (1001, 1, 'NULL', '(1,2),(3,4)'), (1002, 2, NULL, NULL), (1003, 3, '', '(0,0),(0,0)'),
  (1004, 4, 'a,b;c{d}e"f\g h', '(-1.5,2),(7,8)'), (1005, 5, E'tab\tnl\n é😀 \\x', NULL);
-- the same rows updated many times in one transaction: the last values win
UPDATE acc SET bal = bal + 1 WHERE id <= 100;
UPDATE acc SET bal = bal * 2, note = 'twice' WHERE id <= 50;
UPDATE acc SET bal = bal + 1 WHERE id <= 100;
-- an update that leaves the TOASTed column out (another statement shape)
UPDATE acc SET note = 'toast kept' WHERE id = 1;
-- deletes, then the same keys inserted again
BEGIN;
DELETE FROM acc WHERE id > 150;
INSERT INTO acc (id, bal, note) SELECT i, -i, 'again' FROM generate_series(190, 200) i;
UPDATE acc SET bal = 7 WHERE id = 195;
DELETE FROM acc WHERE id = 196;
COMMIT;
-- a key that changes, between grouped updates
UPDATE acc SET bal = 11 WHERE id = 10;
UPDATE acc SET id = 5000 WHERE id = 11;
UPDATE acc SET bal = 12 WHERE id = 12;
-- a unique index besides the key: values swapped through a third one
BEGIN;
UPDATE uq SET email = 'tmp' WHERE id = 1;
UPDATE uq SET email = 'a' WHERE id = 2;
UPDATE uq SET email = 'b' WHERE id = 1;
COMMIT;
INSERT INTO arr VALUES (1, '{1,NULL,3}', '{"x,y","{z}",NULL}'), (2, '{}', NULL), (3, NULL, '{"NULL"}');
UPDATE arr SET a = a || 4 WHERE id = 1;
INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL);
DELETE FROM nokey WHERE ctid = (SELECT ctid FROM nokey WHERE a = 1 LIMIT 1);
-- the trigger table between acc inserts
BEGIN;
INSERT INTO acc (id, bal) SELECT i, 0 FROM generate_series(2001, 2005) i;
INSERT INTO seen VALUES (1, 0);
INSERT INTO acc (id, bal) SELECT i, 0 FROM generate_series(2006, 2010) i;
INSERT INTO seen VALUES (2, 0);
COMMIT;
SQL
# many small transactions, each touching several tables
$src->safe_psql('app', join('', map {
	"BEGIN; UPDATE acc SET bal = bal + $_ WHERE id = " . ($_ % 40 + 1)
	  . "; INSERT INTO nokey VALUES ($_, 'n$_'); UPDATE acc SET bal = bal - 1 WHERE id = 100; COMMIT;\n"
} 1 .. 400));

ok(wait_applied($src, $dst, 120), 'target caught up with the source');
compare_tables($src, $dst, qw(acc uq arr nokey seen));
is($dst->safe_psql('app', 'SELECT count(*) FROM seen_log'), '0',
	'the ALWAYS trigger on the target never fired while pgbaton applied');
is($dst->safe_psql('app', "SELECT mode FROM pgbaton.paused_trigger WHERE object_name = 'seen_log'"), 'A',
	'its mode is recorded, to be put back at the cutover');
is($dst->safe_psql('app', "SELECT md5(big) FROM acc WHERE id = 1"),
	$src->safe_psql('app', "SELECT md5(big) FROM acc WHERE id = 1"), 'TOAST value kept');
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');
like(${ $p->{err} }, qr/prepare pgb_\d+: UPDATE "public"\."acc" AS pgb_t SET .* FROM unnest\(/,
	'updates were grouped');
like(${ $p->{err} }, qr/prepare pgb_\d+: INSERT INTO "public"\."nokey" \(.*\) SELECT \* FROM unnest\(/,
	'inserts were grouped');
unlike(${ $p->{err} }, qr/prepare pgb_\d+: UPDATE "public"\."uq" AS pgb_t/,
	'updates of a table with another unique index are not grouped');

# --- a grouped statement the target rejects -----------------------------
$dst->safe_psql('app', "INSERT INTO acc (id, bal, note) VALUES (3050, 1, 'target-only')");
$src->safe_psql('app',
	"INSERT INTO acc (id, bal, note) SELECT i, 987654321, 's3cr3t-' || i FROM generate_series(3001, 3100) i");
my $insert_end = $src->safe_psql('app', 'SELECT pg_current_wal_lsn()');
$p = spawn_start($src, $dst);
ok(wait_exited($p, 60), 'start stops by itself on the rejected grouped insert');
is(stop_pgbaton($p, 'TERM'), 1, 'rejected grouped insert: exit 1');
like(${ $p->{err} }, qr/target rejected a grouped INSERT of \d+ rows on "public"\."acc"/,
	'the group failure is reported');
like(${ $p->{err} }, qr/one change at a time/, 'and replayed one change at a time');
like(${ $p->{err} }, qr/target rejected INSERT on "public"\."acc" with key \(id\)=\(3050\)/,
	'the replay names the one rejected change and its key');
unlike(${ $p->{err} }, qr/987654321|s3cr3t/, 'no other column value in the messages');
is($dst->safe_psql('app', "SELECT applied_lsn < '$insert_end' FROM pgbaton.migration"), 't',
	'position not advanced past the rejected group');
is($dst->safe_psql('app', 'SELECT count(*) FROM acc WHERE id BETWEEN 3001 AND 3100'), '1',
	'nothing of the batch committed');
$dst->safe_psql('app', 'DELETE FROM acc WHERE id = 3050');

# --- a grouped update that finds fewer rows than it holds ----------------
my $row30 = $src->safe_psql('app',
	"SELECT format('INSERT INTO acc VALUES (%s, %s, %L, %L, %L)', id, bal, note, b, big) FROM acc WHERE id = 30");
$dst->safe_psql('app', 'DELETE FROM acc WHERE id = 30');
$src->safe_psql('app', 'UPDATE acc SET bal = bal + 1 WHERE id BETWEEN 20 AND 40');
$p = spawn_start($src, $dst);
ok(wait_exited($p, 60), 'start stops by itself on the grouped update of a missing row');
is(stop_pgbaton($p, 'TERM'), 1, 'grouped update of a missing row: exit 1');
like(${ $p->{err} }, qr/UPDATE on "public"\."acc" with key \(id\)=\(30\) affected 0 rows instead of 1/,
	'the replay names the missing row');
$dst->safe_psql('app', $row30);

# --- a target column narrower than the source's: never cut silently ------
$dst->safe_psql('app', 'ALTER TABLE narrow ALTER v TYPE varchar(3)');
$src->safe_psql('app', "INSERT INTO narrow VALUES (1, 'abc'), (2, 'abcdef'), (3, 'x')");
$p = spawn_start($src, $dst);
ok(wait_exited($p, 60), 'start stops by itself on the value too long for the target');
is(stop_pgbaton($p, 'TERM'), 1, 'value too long for the target: exit 1');
like(${ $p->{err} }, qr/target rejected INSERT on "public"\."narrow" with key \(id\)=\(2\): value too long/,
	'names the row whose value does not fit');
is($dst->safe_psql('app', 'SELECT count(*) FROM narrow'), '0', 'nothing cut, nothing committed');
$dst->safe_psql('app', 'ALTER TABLE narrow ALTER v TYPE varchar(10)');

# after the fixes, everything resumes and ends equal
$p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'resumed after the fixes');
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');
compare_tables($src, $dst, qw(acc uq arr nokey seen narrow));
done_testing();
