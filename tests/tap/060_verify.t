# verify on two quiet databases: equal pair, then one provoked difference at
# a time on the target (changed value, missing row, extra row, missing index,
# changed column type, sequence behind, keyless table), each named; keys
# printed, never another value; --json; the CRUD smoke test.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use JSON::PP;

my $SECRET = 'S3cr3t-V4lue';       # in non-key columns: must never be printed
my $HASH   = 'pbkdf2-HASH-x7Zq';    # users.password_hash prefix: idem

my $schema = <<"SQL";
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
                    password_hash text NOT NULL, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigint PRIMARY KEY, user_id int REFERENCES users (id),
                     amount numeric(12,2), note text, b int, updated_at timestamptz);
CREATE INDEX orders_b_idx ON orders (b);
CREATE TABLE codes (code text PRIMARY KEY, label text);
CREATE TABLE keyless (a int, b text);
CREATE TABLE empty_t (id int PRIMARY KEY, v text);
CREATE TABLE dated (d date PRIMARY KEY, v text);
CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE SEQUENCE standalone_seq;
CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN NEW.updated_at := '2020-01-01'; RETURN NEW; END \$\$;
CREATE TRIGGER orders_touch BEFORE UPDATE OF amount ON orders FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO users (email, password_hash, created)
  SELECT 'user' || i || '\@example.com', '$HASH-' || md5(i::text), '2024-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 200) i;
INSERT INTO orders SELECT i, 1 + i % 200, (i * 1.25)::numeric(12,2), '$SECRET-' || i, i % 17, NULL
  FROM generate_series(1, 20000) i;
INSERT INTO codes SELECT 'c' || i, '$SECRET-label-' || i FROM generate_series(1, 300) i;
INSERT INTO keyless SELECT i % 50, '$SECRET-k-' || i FROM generate_series(1, 500) i;
INSERT INTO dated SELECT date '2024-01-01' + i, 'x' FROM generate_series(1, 10) i;
INSERT INTO ident (v) SELECT 'v' || i FROM generate_series(1, 10) i;
SELECT setval('standalone_seq', 42);
ANALYZE;
SQL

my $src = new_source();
# (max_wal_senders = 0: a wal_level=minimal node refuses the harness's max_wal_senders = 10)
my $dst = new_target(extra_conf => "max_wal_senders = 0\n");
$_->safe_psql('app', $schema) for ($src, $dst);
my @conns = ('-s', connstr($src), '-t', connstr($dst, style => 'kv'));

sub verify
{
	my (@extra) = @_;
	my %env;
	%env = %{ shift @extra } if ref $extra[0] eq 'HASH';
	my $r = run_pgbaton([ 'verify', @conns, @extra ], env => \%env);
	unlike($r->{stdout} . $r->{stderr}, qr/\Q$SECRET\E|\Q$HASH\E/,
		'verify: no column value printed');
	return $r;
}

# 1. equal pair
my $r = verify();
is($r->{rc}, 0, 'equal pair: exit 0') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^verify: 7 tables equal, 0 differ; schema equal$/m, 'equal pair: summary line');
like($r->{stdout}, qr/^table public\.orders: equal \(20000 rows\)$/m, 'orders equal with its row count');
like($r->{stdout}, qr/^schema: equal$/m, 'schema equal');

# the same with more workers than tables need
$r = verify('--jobs', '8');
is($r->{rc}, 0, 'equal pair, 8 workers: exit 0');

# 2. changed value (found through the sub-ranges of one key range, and in
# small key ranges that three workers narrow at once)
$dst->safe_psql('app', "UPDATE orders SET note = 'other' WHERE id = 12345");
# (and, third, with orders checksummed in key ranges from the start, as a
# very large table would be)
my $split = { PGBATON_VERIFY_SPLIT_ROWS => 1000, PGBATON_VERIFY_CHUNK_ROWS => 1500 };
for my $run ([ {} ], [ { PGBATON_VERIFY_CHUNK_ROWS => 1500 }, '--jobs', '3' ], [ $split, '--jobs', '3' ])
{
	$r = verify(@$run);
	is($r->{rc}, 1, 'changed value: exit 1');
	like($r->{stdout}, qr/^table public\.orders: DIFFERENT: .*changed: id=12345/m,
		'changed value: key named');
	like($r->{stdout}, qr/^verify: 6 tables equal, 1 differ; schema equal$/m, 'changed value: summary');
}
$dst->safe_psql('app', "UPDATE orders SET note = '$SECRET-12345' WHERE id = 12345");

# a value changed in the first rows: also named by the value-by-value comparison
$dst->safe_psql('app', "UPDATE orders SET note = 'other' WHERE id = 3");
$r = verify();
like($r->{stdout}, qr/^table public\.orders: DIFFERENT: changed: id=3; first rows: id=3: column note differs$/m,
	'changed value in the first rows: key and column named');
$r = verify('--sample', '0');
like($r->{stdout}, qr/^table public\.orders: DIFFERENT: changed: id=3$/m, '--sample 0: no first-rows comparison');
$dst->safe_psql('app', "UPDATE orders SET note = '$SECRET-3' WHERE id = 3");

# 3. missing row
$dst->safe_psql('app', "CREATE TEMP TABLE keep AS SELECT * FROM orders WHERE id = 777; DELETE FROM orders WHERE id = 777");
$r = verify();
is($r->{rc}, 1, 'missing row: exit 1');
like($r->{stdout}, qr/^table public\.orders: DIFFERENT: rows: 20000 on source, 19999 on target; missing on target: id=777$/m,
	'missing row: named');
$r = verify($split, '--jobs', '2', '--json');
is($r->{rc}, 1, 'missing row, key ranges: exit 1');
my ($orders) = grep { $_->{table} eq 'orders' } @{ decode_json($r->{stdout})->{tables} };
is_deeply([ @$orders{qw(checksum_method rows_source rows_target)}, $orders->{missing_on_target} ],
	[ 'key ranges', 20000, 19999, ['id=777'] ], 'missing row, key ranges: counts summed, key named');
$dst->safe_psql('app', "INSERT INTO orders SELECT i, 1 + i % 200, (i * 1.25)::numeric(12,2), '$SECRET-' || i, i % 17, NULL FROM generate_series(777, 777) i");

# 4. extra row
$dst->safe_psql('app', "INSERT INTO orders VALUES (999999, 1, 1, '$SECRET-extra', 1)");
$r = verify();
is($r->{rc}, 1, 'extra row: exit 1');
like($r->{stdout}, qr/^table public\.orders: DIFFERENT: .*extra on target: id=999999/m, 'extra row: named');
$dst->safe_psql('app', "DELETE FROM orders WHERE id = 999999");

# 5. missing index
$dst->safe_psql('app', "DROP INDEX orders_b_idx");
$r = verify();
is($r->{rc}, 1, 'missing index: exit 1');
like($r->{stdout}, qr/^  index public\.orders_b_idx missing on target$/m, 'missing index: named');
like($r->{stdout}, qr/^verify: 7 tables equal, 0 differ; schema differs$/m, 'missing index: summary');
$dst->safe_psql('app', "CREATE INDEX orders_b_idx ON orders (b)");

# 6. changed column type
$dst->safe_psql('app', "ALTER TABLE codes ALTER label TYPE varchar(200)");
$r = verify();
is($r->{rc}, 1, 'changed column type: exit 1');
like($r->{stdout}, qr/^  column public\.codes\.label: type text on source, character varying\(200\) on target$/m,
	'changed column type: named');
$dst->safe_psql('app', "ALTER TABLE codes ALTER label TYPE text");

# 7. sequence behind
$dst->safe_psql('app', "SELECT setval('users_id_seq', 5)");
$r = verify();
is($r->{rc}, 1, 'sequence behind: exit 1');
like($r->{stdout}, qr/^sequence public\.users_id_seq: BEHIND: next value 201 on source, 6 on target$/m,
	'sequence behind: named');
like($r->{stdout}, qr/; 1 sequences behind$/m, 'sequence behind: in the summary');
$dst->safe_psql('app', "SELECT setval('users_id_seq', 200)");

# 8. keyless table: a changed value, then a missing row
$dst->safe_psql('app', "UPDATE keyless SET b = 'x' WHERE b = '$SECRET-k-10'");
$r = verify();
is($r->{rc}, 1, 'keyless changed: exit 1');
like($r->{stdout}, qr/^table public\.keyless: DIFFERENT: content checksum differs \(no key/m,
	'keyless changed: named as a whole-table difference');
$dst->safe_psql('app', "UPDATE keyless SET b = '$SECRET-k-10' WHERE b = 'x'");
$r = verify();
is($r->{rc}, 0, 'all differences undone: exit 0') or diag($r->{stdout});

# 9. --json
$r = verify('--json');
is($r->{rc}, 0, '--json: exit 0');
my $j = eval { decode_json($r->{stdout}) };
ok($j, '--json parses') or diag($@);
is($j->{summary}{tables_equal}, 7, 'json: tables_equal');
ok($j->{schema}{equal}, 'json: schema equal');
my ($o) = grep { $_->{table} eq 'orders' } @{ $j->{tables} };
is($o->{rows_target}, 20000, 'json: orders rows on target');

# 10. CRUD smoke test: no row left, no sequence advanced
my $before = $dst->safe_psql('app',
	"SELECT (SELECT count(*) FROM users) || ',' || (SELECT count(*) FROM orders) || ',' || "
	  . "(SELECT last_value FROM users_id_seq) || ',' || (SELECT last_value FROM ident_id_seq) || ',' || "
	  . "(SELECT count(*) FROM keyless) || ',' || (SELECT count(*) FROM codes)");
$r = verify('--crud');
is($r->{rc}, 0, 'crud: exit 0') or diag($r->{stdout});
like($r->{stdout}, qr/^crud public\.users: ok$/m, 'crud: users ok (unique email suffixed)');
like($r->{stdout}, qr/^crud public\.orders: ok$/m, 'crud: orders ok (trigger in place)');
like($r->{stdout}, qr/^crud public\.keyless: ok$/m, 'crud: keyless ok');
like($r->{stdout}, qr/^crud public\.ident: ok$/m, 'crud: identity column ok');
like($r->{stdout}, qr/^crud public\.empty_t: skipped: the table is empty/m, 'crud: empty table skipped with reason');
like($r->{stdout}, qr/^crud public\.dated: skipped: no fresh value can be made for a key of type date$/m,
	'crud: unsupported key type skipped with reason');
like($r->{stdout}, qr/; crud: 5 ok, 2 skipped, 0 failed$/m, 'crud: summary');
my $after = $dst->safe_psql('app',
	"SELECT (SELECT count(*) FROM users) || ',' || (SELECT count(*) FROM orders) || ',' || "
	  . "(SELECT last_value FROM users_id_seq) || ',' || (SELECT last_value FROM ident_id_seq) || ',' || "
	  . "(SELECT count(*) FROM keyless) || ',' || (SELECT count(*) FROM codes)");
is($after, $before, 'crud: no row left behind, no sequence advanced');
$r = verify();
is($r->{rc}, 0, 'still equal after the CRUD test');

# a CRUD failure is reported as failed (a trigger refusing writes)
$dst->safe_psql('app', "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
	  . "\$\$ BEGIN RAISE EXCEPTION 'no %', NEW.label; END \$\$; "
	  . "CREATE TRIGGER codes_refuse BEFORE INSERT ON codes FOR EACH ROW EXECUTE FUNCTION refuse()");
$r = verify('--crud');
is($r->{rc}, 1, 'crud failure: exit 1');
like($r->{stdout}, qr/^crud public\.codes: failed: insert: exception raised by a trigger or function \(SQLSTATE P0001\)$/m,
	'crud failure: named without the message text');
like($r->{stdout}, qr/^  trigger public\.codes\.codes_refuse (?:missing on source|exists only on target)$/m,
	'extra trigger on target: named');
$dst->safe_psql('app', "DROP TRIGGER codes_refuse ON codes; DROP FUNCTION refuse()");

# bad usage
$r = run_pgbaton([ 'verify', '-s', connstr($src) ], env => { PGBATON_TARGET => undef });
is($r->{rc}, 2, 'no target: exit 2');

done_testing();
