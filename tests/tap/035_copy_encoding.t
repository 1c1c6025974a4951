# A LATIN1 source migrated to a UTF8 target: text must arrive converted, never
# as raw bytes, both through the copy (text COPY: binary would move bytes
# unconverted) and through the stream (wal2json sends server-encoding bytes).
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();
$src->safe_psql('postgres',
	"CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$dst->safe_psql('postgres', "CREATE DATABASE lat ENCODING 'UTF8' TEMPLATE template0");
# psql sends UTF8; the LATIN1 source converts on the way in
$src->safe_psql('lat', "SET client_encoding = 'UTF8'; CREATE TABLE t (id int PRIMARY KEY, v text); "
	  . "INSERT INTO t VALUES (1, 'café crème'), (2, 'Ærø ÿ ß'), (3, 'plain')");
# other text-like types whose hashes verify must compute across encodings
$src->safe_psql('lat', "SET client_encoding = 'UTF8'; "
	  . "CREATE TABLE u (id int PRIMARY KEY, c char(8), b bpchar, n name, j jsonb, a text[]); "
	  . "INSERT INTO u VALUES (1, 'né', 'à  ', 'ñame', '{\"k\": \"vé\"}', '{é,b}'), "
	  . "(2, NULL, NULL, NULL, NULL, NULL), (3, 'x', 'y', 'z', '{}', '{}')");
my @conns = ('-s', connstr($src, dbname => 'lat'), '-t', connstr($dst, dbname => 'lat'));
my $p = start_pgbaton([ 'start', @conns ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p, dbname => 'lat'), 'copied; streaming');

my $q = "SET client_encoding = 'UTF8'; SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM t";
is($dst->safe_psql('lat', $q), '1=café crème,2=Ærø ÿ ß,3=plain', 'copy: text converted to UTF8');

$src->safe_psql('lat', "SET client_encoding = 'UTF8'; INSERT INTO t VALUES (4, 'naïve façade'); "
	  . "UPDATE t SET v = 'Ångström' WHERE id = 3");
ok(poll_until(sub { $dst->safe_psql('lat', "SELECT count(*) FROM t") eq '4' }, 60), 'streamed row arrived');
ok(poll_until(sub { $dst->safe_psql('lat', "SET client_encoding = 'UTF8'; SELECT v FROM t WHERE id = 3") eq 'Ångström' }, 60),
	'streamed update arrived');
is($dst->safe_psql('lat', $q), '1=café crème,2=Ærø ÿ ß,3=Ångström,4=naïve façade',
	'stream: text converted to UTF8');
is($dst->safe_psql('lat', "SELECT bool_and(v = convert_from(convert_to(v, 'UTF8'), 'UTF8')) FROM t"), 't',
	'the target holds valid UTF8');
# verify across encodings: the same logical values hash the same; a changed
# non-ASCII value is still found
my $v = run_pgbaton([ 'verify', @conns ]);
is($v->{rc}, 0, 'verify across encodings: exit 0') or diag($v->{stdout}, $v->{stderr});
like($v->{stdout}, qr/^verify: 2 tables equal, 0 differ; schema equal/m, 'verify: both tables equal');
like($v->{stderr}, qr/source encoding LATIN1, target UTF8: text is compared as UTF8/, 'verify says so');
$dst->safe_psql('lat', "SET client_encoding = 'UTF8'; UPDATE t SET v = 'cafe crème' WHERE id = 1; "
	  . "UPDATE u SET b = 'à ' WHERE id = 1");
$v = run_pgbaton([ 'verify', @conns ]);
is($v->{rc}, 1, 'verify: a changed non-ASCII value: exit 1');
like($v->{stdout}, qr/^table public\.t: DIFFERENT: .*changed: id=1/m, 'the changed text value is named');
like($v->{stdout}, qr/^table public\.u: DIFFERENT: .*changed: id=1/m, 'a trailing space less in bpchar is found');
my $r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'start stopped cleanly');
like($r->{stderr}, qr/source encoding LATIN1, target UTF8/, 'the conversion is said');
done_testing();
