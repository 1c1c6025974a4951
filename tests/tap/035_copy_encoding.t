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
my $r = finish_pgbaton($p, signal => 'TERM');
is($r->{rc}, 0, 'start stopped cleanly');
like($r->{stderr}, qr/source encoding LATIN1, target UTF8/, 'the conversion is said');
done_testing();
