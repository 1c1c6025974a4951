# verify and report after a real migration (start, streaming, cutover) of
# objects whose names are hard to print or to tell apart:
#   - schema "dot.ted" with table name and schema dot with table "ted.name"
#     (and their indexes and sequences): joined with a dot, their names read
#     the same ("dot.ted.name"), so they must be keyed by (schema, name);
#   - mixed-case, reserved-word names, names with spaces and quotes;
#   - xml values stored with an XML declaration, which xml's output (and so
#     the copy) drops: no false difference.
# Verify must exit 0 and report nothing, while streaming and after the
# cutover; then one real difference at a time on the target must make it
# exit 1 and name the object quoted as PostgreSQL quotes it.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use JSON::PP;
use PostgreSQL::Test::Utils;

my $schema = <<'SQL';
CREATE SCHEMA "dot.ted";
CREATE SCHEMA dot;
CREATE TABLE "dot.ted".name (id int PRIMARY KEY, v text NOT NULL);
CREATE INDEX name_v_idx ON "dot.ted".name (v);
CREATE TABLE dot."ted.name" (id int PRIMARY KEY, v text NOT NULL);
CREATE INDEX "ted.name_v_idx" ON dot."ted.name" (v);
CREATE SEQUENCE "dot.ted".s;
CREATE SEQUENCE dot."ted.s";
SELECT setval('"dot.ted".s', 100), setval('dot."ted.s"', 5);
CREATE TABLE "Mixed Case" ("Id" int PRIMARY KEY, "Value" text);
CREATE INDEX "Mixed Idx" ON "Mixed Case" ("Value");
CREATE TABLE "select" ("from" int PRIMARY KEY, "order" text);
CREATE INDEX "where" ON "select" ("order");
CREATE TABLE "we""ird name" ("it's ""q""" int PRIMARY KEY, "sp ace" text);
CREATE DOMAIN xmldom AS xml;
CREATE TABLE docs (id int PRIMARY KEY, x xml, dx xmldom, xa xml[]);
INSERT INTO "dot.ted".name SELECT i, 'a' || i FROM generate_series(1, 20) i;
INSERT INTO dot."ted.name" SELECT i, 'b' || i FROM generate_series(1, 30) i;
INSERT INTO "Mixed Case" SELECT i, 'm' || i FROM generate_series(1, 15) i;
INSERT INTO "select" SELECT i, 'o' || i FROM generate_series(1, 12) i;
INSERT INTO "we""ird name" SELECT i, 'w' || i FROM generate_series(1, 9) i;
INSERT INTO docs
  SELECT i, v::xml, v::xmldom, ARRAY[v::xml, '<e/>'::xml]
  FROM generate_series(1, 40) i,
       LATERAL (SELECT CASE i % 5
         WHEN 0 THEN '<?xml version="1.0"?><doc n="' || i || '"/>'
         WHEN 1 THEN '<?xml version="1.0" encoding="UTF-8"?>' || chr(10) || '<doc n="' || i || '"/>'
         WHEN 2 THEN '<?xml version="1.0" standalone="yes"?><doc n="' || i || '"/>'
         WHEN 3 THEN '<doc n="' || i || '">plain</doc>'
         ELSE '<?xml version="1.0"?><doc n="' || i || '"><a/></doc>' END) AS t (v);
INSERT INTO docs (id) VALUES (41);
ANALYZE;
SQL

my $src = new_source();
my $dst = new_target();
$src->safe_psql('app', $schema);
# the declarations really are stored on the source (else this test proves
# nothing); those without standalone are dropped by xml's output
my $decl = "SELECT count(*) FROM docs WHERE x::text LIKE '<?xml%' AND x::text NOT LIKE '%standalone%'";
is($src->safe_psql('app', $decl), '24', 'source: xml values stored with their declaration');
my @conns = ('-s', connstr($src), '-t', connstr($dst));

my $p = start_pgbaton([ 'start', @conns ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copied; streaming');
# rows that travel through the change stream too
$src->safe_psql('app', q{
	INSERT INTO docs VALUES (42, '<?xml version="1.0"?><doc n="42"/>', '<?xml version="1.0"?><d/>',
	                         ARRAY['<?xml version="1.0"?><doc/>'::xml]);
	INSERT INTO "dot.ted".name VALUES (21, 'a21');
	INSERT INTO dot."ted.name" VALUES (31, 'b31');
	INSERT INTO "we""ird name" VALUES (10, 'w10');
});
ok(wait_applied($src, $dst, 60), 'streamed changes applied');
is($dst->safe_psql('app', $decl), '0', 'target: the copy carries no declaration (xml output drops it)');

# verify while streaming (the hold protocol)
my $r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'verify while streaming: exit 0') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^schema: equal$/m, 'verify while streaming: schema equal');
unlike($r->{stdout}, qr/DIFFERENT|missing|BEHIND|differ(?!;)/, 'verify while streaming: no difference reported')
  or diag($r->{stdout});

$r = run_pgbaton([ 'cutover', @conns, '--max-lag', '5s', '--timeout', '90s' ]);
is($r->{rc}, 0, 'cutover exits 0') or diag($r->{stdout}, $r->{stderr});
my $fin = finish_pgbaton($p);
is($fin->{rc}, 0, 'start stopped by itself after the cutover') or diag($fin->{stderr});

# after the cutover: equal, every table named as PostgreSQL quotes it
$r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'verify after cutover: exit 0') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^verify: 6 tables equal, 0 differ; schema equal$/m, 'summary: 6 tables equal')
  or diag($r->{stdout});
like($r->{stdout}, qr/^schema: equal$/m, 'schema equal (no false index difference)');
unlike($r->{stdout}, qr/DIFFERENT|missing|BEHIND|first rows/, 'nothing reported') or diag($r->{stdout});
for my $t ([ '"dot.ted".name', 21 ], [ 'dot."ted.name"', 31 ], [ 'public."Mixed Case"', 15 ],
	[ 'public."select"', 12 ], [ 'public."we""ird name"', 10 ], [ 'public.docs', 42 ])
{
	like($r->{stdout}, qr/^table \Q$t->[0]\E: equal \($t->[1] rows\)$/m, "$t->[0] named, equal");
}

$r = run_pgbaton([ 'verify', @conns, '--json' ]);
is($r->{rc}, 0, 'verify --json: exit 0');
my $j = eval { decode_json($r->{stdout}) };
ok($j, 'verify --json parses') or diag($@, $r->{stdout});
my %by = map { ("$_->{schema}|$_->{table}" => $_) } @{ $j->{tables} // [] };
ok($by{'dot.ted|name'} && $by{'dot|ted.name'}, 'json: both tables, each by its schema and name');
is($by{'dot.ted|name'}{rows_source}, 21, 'json: "dot.ted".name has its own row count');
is($by{'dot|ted.name'}{rows_source}, 31, 'json: dot."ted.name" has its own row count');
is($by{'public|we"ird name'}{key}, '"it\'s ""q"""', 'json: key column quoted');

# the report: the same names, and its row counts per table
my $dir = PostgreSQL::Test::Utils::tempdir();
$r = run_pgbaton([ 'report', @conns, '-o', "$dir/report.md" ]);
is($r->{rc}, 0, 'report: exit 0') or diag($r->{stderr});
my $md = slurp_file("$dir/report.md");
like($md, qr/^Result: \*\*equal\*\*/m, 'report: verify equal');
like($md, qr/^\| "dot\.ted"\.name \| 21 \| 21 \| equal \|$/m, 'report: "dot.ted".name row') or diag($md);
like($md, qr/^\| dot\."ted\.name" \| 31 \| 31 \| equal \|$/m, 'report: dot."ted.name" row');
like($md, qr/^\| public\."we""ird name" \| 10 \| 10 \| equal \|$/m, 'report: quoted name row');
like($md, qr/^\| indexes \| 10 \|$/m, 'report: indexes counted one by one (the look-alikes apart)')
  or diag($md);

# real differences, one at a time, on the target (the source is frozen)
sub verify_diff
{
	my ($what, @extra) = @_;
	my $v = run_pgbaton([ 'verify', @conns, @extra ]);
	is($v->{rc}, 1, "$what: exit 1") or diag($v->{stdout}, $v->{stderr});
	return $v;
}

$dst->safe_psql('app', q{UPDATE "dot.ted".name SET v = 'changed' WHERE id = 7});
$r = verify_diff('changed row in "dot.ted".name', '--sample', '0');
like($r->{stdout}, qr/^table "dot\.ted"\.name: DIFFERENT: changed: id=7$/m, 'the changed row is named in "dot.ted".name')
  or diag($r->{stdout});
like($r->{stdout}, qr/^table dot\."ted\.name": equal \(31 rows\)$/m, 'its look-alike dot."ted.name" is equal');
like($r->{stdout}, qr/^schema: equal$/m, 'no schema difference');
$dst->safe_psql('app', q{UPDATE "dot.ted".name SET v = 'a7' WHERE id = 7});

$dst->safe_psql('app', q{DROP INDEX dot."ted.name_v_idx"});
$r = verify_diff('index dropped on dot."ted.name"');
like($r->{stdout}, qr/^schema: 1 differences$/m, 'exactly one schema difference') or diag($r->{stdout});
like($r->{stdout}, qr/^  index dot\."ted\.name_v_idx" missing on target$/m, 'the dropped index is named, quoted');
$dst->safe_psql('app', q{CREATE INDEX "ted.name_v_idx" ON dot."ted.name" (v)});

$dst->safe_psql('app', q{DROP INDEX "dot.ted".name_v_idx});
$r = verify_diff('index dropped on "dot.ted".name');
like($r->{stdout}, qr/^schema: 1 differences$/m, 'exactly one schema difference') or diag($r->{stdout});
like($r->{stdout}, qr/^  index "dot\.ted"\.name_v_idx missing on target$/m, 'the dropped index is named, quoted');
$dst->safe_psql('app', q{CREATE INDEX name_v_idx ON "dot.ted".name (v)});

$dst->safe_psql('app', q{UPDATE "we""ird name" SET "sp ace" = 'x' WHERE "it's ""q""" = 3});
$r = verify_diff('changed row in "we""ird name"', '--sample', '0');
like($r->{stdout}, qr/^table public\."we""ird name": DIFFERENT: changed: "it's ""q"""=3$/m,
	'table and key column quoted') or diag($r->{stdout});
$dst->safe_psql('app', q{UPDATE "we""ird name" SET "sp ace" = 'w3' WHERE "it's ""q""" = 3});

$dst->safe_psql('app', q{UPDATE "Mixed Case" SET "Value" = 'x' WHERE "Id" = 2});
$r = verify_diff('changed value in "Mixed Case"');
like($r->{stdout}, qr/^table public\."Mixed Case": DIFFERENT: changed: "Id"=2; first rows: "Id"=2: column "Value" differs$/m,
	'mixed-case table, key and column quoted') or diag($r->{stdout});
$dst->safe_psql('app', q{UPDATE "Mixed Case" SET "Value" = 'm2' WHERE "Id" = 2});

$dst->safe_psql('app', q{ALTER TABLE "select" ALTER "order" TYPE varchar(50)});
$r = verify_diff('column type changed in "select"');
like($r->{stdout}, qr/^  column public\."select"\."order": type text on source, character varying\(50\) on target$/m,
	'reserved-word table and column quoted') or diag($r->{stdout});
$dst->safe_psql('app', q{ALTER TABLE "select" ALTER "order" TYPE text});

# xml: a value whose output text differs is still found (xml is not compared
# less exactly), in the checksum and in the first rows
$dst->safe_psql('app', q{UPDATE docs SET x = '<doc n="1" />' WHERE id = 1});
$r = verify_diff('xml value changed');
like($r->{stdout}, qr/^table public\.docs: DIFFERENT: changed: id=1; first rows: id=1: column x differs$/m,
	'changed xml value named') or diag($r->{stdout});
$dst->safe_psql('app', q{UPDATE docs SET x = '<doc n="1"/>' WHERE id = 1});
$dst->safe_psql('app', q{UPDATE docs SET dx = NULL WHERE id = 5});
$r = verify_diff('xml domain value set to NULL', '--sample', '0');
like($r->{stdout}, qr/^table public\.docs: DIFFERENT: changed: id=5$/m, 'xml domain: NULL vs a value found')
  or diag($r->{stdout});
$dst->safe_psql('app', q{UPDATE docs SET dx = '<doc n="5"/>' WHERE id = 5});

# sequences: matched by (schema, name), named quoted
$dst->safe_psql('app', q{SELECT setval('dot."ted.s"', 1)});
$r = verify_diff('sequence behind');
like($r->{stdout}, qr/^sequence dot\."ted\.s": BEHIND: next value 6 on source, 2 on target$/m,
	'the sequence behind is named, quoted') or diag($r->{stdout});
unlike($r->{stdout}, qr/^sequence "dot\.ted"\.s/m, 'its look-alike is not behind');
$dst->safe_psql('app', q{SELECT setval('dot."ted.s"', 5)});

# a table on the target only
$dst->safe_psql('app', q{CREATE TABLE dot."extra t" (a int)});
$r = verify_diff('table only on target');
like($r->{stdout}, qr/^table dot\."extra t": DIFFERENT: exists only on target$/m, 'target-only table named, quoted')
  or diag($r->{stdout});
like($r->{stdout}, qr/^  table dot\."extra t" exists only on target$/m, 'its schema difference named, quoted');
$dst->safe_psql('app', q{DROP TABLE dot."extra t"});

# everything undone: equal again
$r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'every difference undone: exit 0') or diag($r->{stdout});

done_testing();
