# Exact values written while streaming, once with --plugin pgoutput and once
# with the default decoder (auto: with wal2json 2.5 allowed it must choose
# pgoutput, since the table has numeric and float columns, whose NaN and
# Infinity wal2json 2.5 cannot carry). The source database and the role
# pgbaton connects as have non-default session settings (DateStyle,
# IntervalStyle, TimeZone, extra_float_digits, bytea_output), set before
# pgbaton connects and before the writes: pgbaton's sessions must not let
# them change a value. Every column is compared as text under fixed
# settings on both sides.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my @cols = qw(n r d na da b j jb ts t iv m tm);

my $schema = <<'SQL';
CREATE TABLE exact (
  id int PRIMARY KEY, n numeric, r real, d double precision, na numeric[], da float8[],
  b bytea, j json, jb jsonb, ts timestamptz, t timestamp, iv interval, m money, tm time);
SQL
my $initial = <<'SQL';
INSERT INTO exact VALUES (1, 1.5, 1.5, 1.5, '{1.5}', '{1.5}', '\x00ff', '{"k" : 1}', '{"k": 1}',
  '2020-01-02 03:04:05+00', '2020-01-02 03:04:05', '1 day', 1, '12:00');
SQL

my $settings = <<'SQL';
ALTER DATABASE app SET DateStyle = 'SQL, DMY';
ALTER DATABASE app SET IntervalStyle = 'sql_standard';
ALTER DATABASE app SET TimeZone = 'Pacific/Chatham';
ALTER DATABASE app SET extra_float_digits = 0;
ALTER DATABASE app SET bytea_output = 'escape';
ALTER ROLE migrator SET DateStyle = 'German';
ALTER ROLE migrator SET extra_float_digits = -15;
ALTER ROLE migrator SET TimeZone = 'Asia/Kathmandu';
SQL

my $allbytes = q{(SELECT decode(string_agg(lpad(to_hex(i), 2, '0'), '' ORDER BY i), 'hex') FROM generate_series(0, 255) i)};
my @writes = (
	qq{INSERT INTO exact VALUES (2, 'NaN', 'NaN', 'NaN', '{NaN,Infinity,-Infinity,1.5}', '{NaN,Infinity,-Infinity,1.5}',
	  $allbytes, '{"a" : 1, "a": 2}', '{"a" : 1, "a": 2, "x": [1.50, 1e400, null]}',
	  'infinity', 'infinity', '-178000000 years', '-92233720368547758.08', '24:00:00')},
	q{INSERT INTO exact VALUES (3, 'Infinity', 'Infinity', 'Infinity', '{}', '{}', '\x', '[ ]', '[]',
	  '-infinity', '-infinity', '1 day -1 second', '92233720368547758.07', '00:00:00')},
	q{INSERT INTO exact VALUES (4, '-Infinity', '-Infinity', '-Infinity', NULL, NULL, '\x5c27',
	  '"a\u0000b"', '"\u00e9"', '4713-01-01 BC', '4713-01-01 BC', '-1 year -2 mons +3 days -04:05:06.789', '-0.01', '23:59:59.999999')},
	q{INSERT INTO exact VALUES (5, 123456789012345678901234567890123456789.000000000000000000000001,
	  3.4028235e38, 0.1::float8 + 0.2, '{1e-30,123456789012345678901234567890123456789.5}', '{0.30000000000000004,5e-324}',
	  NULL, NULL, NULL, '294276-12-31 23:59:59.999999+00', '294276-12-31 23:59:59.999999', '178000000 years', 0, NULL)},
	q{INSERT INTO exact VALUES (6, 1e-30, 1.17549435e-38, 1.7976931348623157e308, NULL, '{-0,1.7976931348623157e308}',
	  NULL, NULL, NULL, '2000-02-29 12:34:56.789012+13:45', '2000-02-29 12:34:56.789012', NULL, NULL, NULL)},
	q{INSERT INTO exact VALUES (7, -0.000000000000000000000000000001, -0, 5e-324, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)},
	q{INSERT INTO exact VALUES (8, -0, 0.1, '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)},
	q{INSERT INTO exact VALUES (9, 9, 9, 9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)},
	q{INSERT INTO exact (id) VALUES (10)},
	q{UPDATE exact SET n = 'NaN', r = 'NaN', d = 'NaN', na = '{NaN}', da = '{NaN,-0}' WHERE id = 1},
	q{DELETE FROM exact WHERE id = 9},
);

my $fixed = 'SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = UTC; '
  . 'SET extra_float_digits = 3; SET bytea_output = hex; ';

my @cases = ([ 'pgoutput', [ '--plugin', 'pgoutput' ] ], [ 'auto', [] ]);
for my $i (0 .. $#cases)
{
	my ($case, $plugin_args) = @{ $cases[$i] };
	my $src = new_source(name => "src_$i");
	my $dst = new_target(name => "dst_$i");
	$src->safe_psql('app', $schema . $initial);
	$src->safe_psql('app', $settings);
	is($src->safe_psql('app', 'SHOW DateStyle'), 'SQL, DMY', "$case: a new session gets the database's settings");

	my $p = start_pgbaton([ 'start', '-s', connstr($src), '-t', connstr($dst), @$plugin_args ]);
	ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), "$case: copied; streaming");
	is($dst->safe_psql('app', 'SELECT plugin FROM pgbaton.migration'), 'pgoutput', "$case: decoder is pgoutput");

	# each statement in a new session: they all run under the settings above
	$src->safe_psql('app', $_) for @writes;

	ok(wait_applied($src, $dst, 60), "$case: target caught up with the source");
	is($dst->safe_psql('app', 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM exact'),
		'1,2,3,4,5,6,7,8,10', "$case: rows after the writes (9 deleted)");
	for my $c ('id', @cols)
	{
		my $q = $fixed . "SELECT id || ':' || coalesce($c\::text, '<NULL>') FROM exact ORDER BY id";
		is($dst->safe_psql('app', $q), $src->safe_psql('app', $q), "$case: column $c equal as text");
	}
	my $all = $fixed . 'SELECT id, ' . join(', ', map { "$_\::text" } @cols) . ' FROM exact ORDER BY id';
	is($dst->safe_psql('app', $all), $src->safe_psql('app', $all), "$case: all rows equal as text");

	# a few values checked against their literal text, not only against the
	# source (so that a value mangled on both sides alike is also caught)
	my $lit = $fixed . q{SELECT concat_ws(' ',
	  (SELECT d::text FROM exact WHERE id = 5), (SELECT d::text FROM exact WHERE id = 6),
	  (SELECT d::text FROM exact WHERE id = 7), (SELECT d::text FROM exact WHERE id = 8),
	  (SELECT n::text FROM exact WHERE id = 5), (SELECT n::text FROM exact WHERE id = 6),
	  (SELECT length(b) || ':' || md5(b) FROM exact WHERE id = 2), (SELECT m::numeric::text FROM exact WHERE id = 2),
	  (SELECT ts::text FROM exact WHERE id = 5), (SELECT iv::text FROM exact WHERE id = 2),
	  (SELECT tm::text FROM exact WHERE id = 2), (SELECT j::text FROM exact WHERE id = 2))};
	my $md5 = $src->safe_psql('app', "SELECT md5($allbytes)");
	is($dst->safe_psql('app', $lit),
		join(' ', '0.30000000000000004', '1.7976931348623157e+308', '5e-324', '-0',
			'123456789012345678901234567890123456789.000000000000000000000001',
			'0.000000000000000000000000000001', "256:$md5", '-92233720368547758.08',
			'294276-12-31 23:59:59.999999+00', '-178000000 years', '24:00:00', '{"a" : 1, "a": 2}'),
		"$case: values on the target equal their literal text");

	# NaN must not have become NULL (nor anything else)
	my $nan = q{SELECT count(*) FILTER (WHERE n IS NULL), count(*) FILTER (WHERE r IS NULL),
	  count(*) FILTER (WHERE d IS NULL), count(*) FILTER (WHERE n = 'NaN'),
	  count(*) FILTER (WHERE r = 'NaN'), count(*) FILTER (WHERE d = 'NaN') FROM exact};
	is($src->safe_psql('app', $nan), '1|1|1|2|2|2', "$case: source has the NaN rows expected");
	is($dst->safe_psql('app', $nan), $src->safe_psql('app', $nan), "$case: NULL and NaN counts equal on the target");
	is($dst->safe_psql('app', q{SELECT n::text || '|' || d::text FROM exact WHERE id = 1}), 'NaN|NaN',
		"$case: the copied row updated to NaN is NaN on the target");

	my $r = finish_pgbaton($p, signal => 'TERM');
	is($r->{rc}, 0, "$case: start exits 0 after SIGTERM") or diag($r->{stderr});
	$src->stop;
	$dst->stop;
}

done_testing();
