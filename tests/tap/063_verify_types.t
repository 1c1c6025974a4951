# verify's row hash: every column type still separates the values whose text
# output differs. Each case makes one value of one row differ on the target
# in a way the type's own equality (or hash) would not see — numeric scale,
# float sign of zero, interval units, jsonb numbers, arrays, case under a
# case-insensitive collation, trailing spaces of bpchar, bigint values whose
# 32-bit fold is equal, NULL vs empty — or in a way any hash must see (one
# microsecond, one byte, letter case). With --sample 0, so only the
# checksums and the key listing can find it. Also: values swapped between
# two rows (the sum of row hashes must not be linear in the column hashes),
# and no false difference for equal values of those types.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $schema = <<'SQL';
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE DOMAIN bigdom AS bigint;
CREATE DOMAIN bpdom AS bpchar;
CREATE TABLE typed (id int PRIMARY KEY, n numeric, f float8, iv interval, j jsonb,
                    na numeric[], t text, ci text COLLATE ci, ts timestamptz, by bytea,
                    e text, bp bpchar, bpn char(4), big bigint, bd bigdom, i int,
                    vc varchar(20), u uuid, bo bool, sm smallint, ch "char", nm name,
                    nn text NOT NULL, d date, o oid, bpnn char(3) NOT NULL, bpd bpdom);
INSERT INTO typed
  SELECT i, i * 1.5, i * 0.25, i * interval '1 hour', jsonb_build_object('k', i),
         ARRAY[i * 1.5, i], 'text' || i, 'Ci' || i, '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 minute',
         decode(md5(i::text), 'hex'), 'e' || i, 'bp' || i, 'b' || (i % 100), i * 1000000007::bigint, i, i,
         'vc' || i, md5(i::text)::uuid, i % 2 = 0, i, 'c', 'n' || i, 'nn' || i, date '2024-01-01' + i, i,
         'p' || (i % 10), 'd' || i
  FROM generate_series(1, 200) i;
CREATE TABLE wide (id int PRIMARY KEY);
SELECT format('ALTER TABLE wide %s', string_agg(format('ADD c%s int', i), ', ')) FROM generate_series(1, 120) i \gexec
INSERT INTO wide (id, c7, c120) SELECT i, i, i FROM generate_series(1, 100) i;
CREATE TABLE nokey (a numeric, b text);
INSERT INTO nokey SELECT i * 1.5, 'x' || i FROM generate_series(1, 50) i;
ANALYZE;
SQL

my $src = new_source();
my $dst = new_target();
$_->safe_psql('app', $schema) for ($src, $dst);
my @conns = ('-s', connstr($src), '-t', connstr($dst));

sub verify
{
	return run_pgbaton([ 'verify', @conns, '--sample', '0', @_ ]);
}

my $r = verify();
is($r->{rc}, 0, 'equal pair: exit 0') or diag($r->{stdout}, $r->{stderr});

# [column, value on source, value on target]: equal under the type's own
# comparison or hash where it matters, different as text.
my @cases = (
	[ 'n',   "1.0",                                  "1.00" ],
	[ 'f',   "'0'",                                  "'-0'" ],
	[ 'iv',  "'1 day'",                              "'24 hours'" ],
	[ 'j',   "'{\"a\": 1.0}'",                       "'{\"a\": 1.00}'" ],
	[ 'na',  "'{1.0,2}'",                            "'{1.00,2}'" ],
	[ 't',   "'Abc'",                                "'abc'" ],
	[ 'ci',  "'Abc'",                                "'abc'" ],
	[ 'vc',  "'Abc'",                                "'abc'" ],
	[ 'ts',  "'2024-05-05 10:00:00.000001+00'",      "'2024-05-05 10:00:00.000002+00'" ],
	[ 'by',  "'\\x000102'",                          "'\\x000103'" ],
	[ 'e',   "NULL",                                 "''" ],
	[ 'e',   "''",                                   "NULL" ],
	[ 'bp',  "'a'",                                  "'a '" ],
	[ 'bpn', "'a'",                                  "'A'" ],
	[ 'bpn', "NULL",                                 "''" ],
	[ 'bpn', "''",                                   "NULL" ],
	[ 'bpnn', "'a b'",                               "'a'" ],
	[ 'bp',  "' '",                                  "''" ],
	[ 'bp',  "''",                                   "NULL" ],
	[ 'bpd', "'a'",                                  "'a '" ],
	[ 'bpd', "NULL",                                 "''" ],
	[ 'big', "0",                                    "4294967297" ],
	[ 'bd',  "0",                                    "4294967297" ],
	[ 'i',   "1",                                    "2" ],
	[ 'u',   "'00000000-0000-0000-0000-000000000001'", "'00000000-0000-0000-0000-000000000002'" ],
	[ 'u',   "NULL",                                 "'00000000-0000-0000-0000-000000000000'" ],
	[ 'i',   "NULL",                                 "0" ],
	[ 'big', "NULL",                                 "0" ],
	[ 'bp',  "NULL",                                 "''" ],
	[ 'bo',  "NULL",                                 "false" ],
	[ 'bo',  "true",                                 "false" ],
	[ 'sm',  "1",                                    "-1" ],
	[ 'ch',  "'a'",                                  "'b'" ],
	[ 'ch',  "NULL",                                 "''" ],
	[ 'nm',  "'Abc'",                                "'abc'" ],
	[ 'nm',  "NULL",                                 "''" ],
	[ 'nn',  "'Abc'",                                "'abc'" ],
	[ 'd',   "'2024-01-01'",                         "'2024-01-02'" ],
	[ 'd',   "'infinity'",                           "'-infinity'" ],
	[ 'o',   "NULL",                                 "0" ],
	[ 'o',   "1",                                    "2" ],
);
for my $c (@cases)
{
	my ($col, $sv, $tv) = @$c;
	$src->safe_psql('app', "UPDATE typed SET $col = $sv WHERE id = 50");
	$dst->safe_psql('app', "UPDATE typed SET $col = $tv WHERE id = 50");
	$r = verify();
	is($r->{rc}, 1, "$col: $sv vs $tv: exit 1");
	like($r->{stdout}, qr/^table public\.typed: DIFFERENT: changed: id=50$/m, "$col: $sv vs $tv: key named")
	  or diag($r->{stdout}, $r->{stderr});
	# the same value on both sides again: equal (no false difference)
	$dst->safe_psql('app', "UPDATE typed SET $col = $sv WHERE id = 50");
}
$r = verify();
is($r->{rc}, 0, 'every case undone (the special values on both sides): exit 0') or diag($r->{stdout});

# a row whose nullable columns are all NULL on both sides still has a row
# hash (a NULL one would drop out of the sum): a change in a NOT NULL
# column is found
my $nulls = join(', ', map { "$_ = NULL" }
	  qw(n f iv j na t ci ts by e bp bpn big bd i vc u bo sm ch nm d o bpd));
$_->safe_psql('app', "UPDATE typed SET $nulls WHERE id = 60") for ($src, $dst);
$r = verify();
is($r->{rc}, 0, 'a row of NULLs on both sides: equal') or diag($r->{stdout});
$dst->safe_psql('app', "UPDATE typed SET bpnn = 'zz' WHERE id = 60");
$r = verify();
like($r->{stdout}, qr/^table public\.typed: DIFFERENT: changed: id=60$/m,
	'a row of NULLs: a change in its other column found') or diag($r->{stdout});
$dst->safe_psql('app', "UPDATE typed SET bpnn = 'p0' WHERE id = 60");

# values of one column swapped between two rows: the whole-table checksum
# must see the swaps, and so must each key range of two keys that holds
# both rows of one (narrowing with 2 rows per range); a sum of row hashes
# linear in the column hashes would see neither
my $pairs = "(1, 2), (4, 5), (7, 8), (10, 11), (13, 14)";
$dst->safe_psql('app', "UPDATE typed SET i = CASE WHEN id % 3 = 1 THEN id + 1 ELSE id - 1 END "
	  . "WHERE (id, id + 1) IN ($pairs) OR (id - 1, id) IN ($pairs)");
$r = run_pgbaton([ 'verify', @conns, '--sample', '0' ], env => { PGBATON_VERIFY_CHUNK_ROWS => 2 });
my ($changed) = $r->{stdout} =~ /^table public\.typed: DIFFERENT: changed: (.*)$/m;
is(join(',', sort { $a <=> $b } map { /id=(\d+)/ } split /, /, $changed // ''),
	'1,2,4,5,7,8,10,11,13,14', 'values swapped between rows: every key named') or diag($r->{stdout});
$dst->safe_psql('app', "UPDATE typed SET i = id WHERE id <= 14");

# a table too wide for the chain of hash calls: hashed as ROW(...)::text
$dst->safe_psql('app', "UPDATE wide SET c120 = 0 WHERE id = 42");
$r = verify();
like($r->{stdout}, qr/^table public\.wide: DIFFERENT: changed: id=42$/m, 'wide table: difference found');
$dst->safe_psql('app', "UPDATE wide SET c120 = 42 WHERE id = 42");

# keyless table: the whole-table checksum
$dst->safe_psql('app', "UPDATE nokey SET a = 3.00 WHERE a = 3.0");
$r = verify();
like($r->{stdout}, qr/^table public\.nokey: DIFFERENT: content checksum differs \(no key/m, 'keyless: numeric scale found');
$dst->safe_psql('app', "UPDATE nokey SET a = 3.0 WHERE a = 3.00");

# a column type differing between the sides: hashed as text on both, so equal
# text is no content difference (the schema difference is named)
$dst->safe_psql('app', "ALTER TABLE typed ALTER i TYPE bigint");
$r = verify();
like($r->{stdout}, qr/^table public\.typed: equal \(200 rows\)$/m, 'type differs, values equal as text: rows equal')
  or diag($r->{stdout});
like($r->{stdout}, qr/^  column public\.typed\.i: type integer on source, bigint on target$/m, 'type difference named');

done_testing();
