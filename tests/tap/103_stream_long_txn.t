# Streaming phase: a source transaction that takes long to apply keeps the
# target batch open (a batch holds whole source transactions), yet `start`
# must keep showing it is alive (pgbaton.migration.alive_at), or status
# would call it stopped and cutover would refuse.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $src = new_source();
my $dst = new_target();

setup_streaming($src, $dst, schema => 'CREATE TABLE slow (id int PRIMARY KEY);');

# on the target only: a trigger that fires in the applier's replica session
# and makes each row take 50 ms, so 150 rows take 7.5 s to apply
$dst->safe_psql('app', <<'SQL');
CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END$$;
CREATE TRIGGER slow BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow();
ALTER TABLE slow ENABLE ALWAYS TRIGGER slow;
SQL

my $p = spawn_start($src, $dst);
ok(wait_applied($src, $dst, 60), 'streaming');

my $t0 = $dst->safe_psql('app', 'SELECT clock_timestamp()');
$src->safe_psql('app', 'INSERT INTO slow SELECT generate_series(1, 150)');
my $end = $src->safe_psql('app', 'SELECT pg_current_wal_lsn()');
ok(poll_until(sub {
	$dst->safe_psql('app',
		"SELECT alive_at > '$t0'::timestamptz + interval '3 s' AND applied_lsn < '$end' FROM pgbaton.migration")
	  eq 't';
	}, 30),
	'alive_at refreshed while one long source transaction is being applied');
my $status = run_pgbaton([ 'status', '--json', '-s', connstr($src), '-t', connstr($dst) ]);
like($status->{stdout}, qr/"start_alive":\s*true/, 'status: start alive meanwhile');
ok(wait_applied($src, $dst, 60), 'the long transaction is applied');
compare_tables($src, $dst, 'slow');
is(stop_pgbaton($p, 'TERM'), 0, 'exit 0');
done_testing();
