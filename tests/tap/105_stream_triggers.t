# No user trigger or rule fires on the target while pgbaton writes
# (src/triggers.c, design invariant 7), whatever its firing mode, and the
# target ends with exactly the source's modes: after the cutover, after
# abort, after clean, and after a kill -9 of start followed by start,
# cutover or abort. A live migration under concurrent writes, with audit
# tables (one with a unique key, one without) that the triggers and rules
# write into on the source, and names that need quoting.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;
use File::Temp qw(tempfile);

my $schema = <<'SQL';
CREATE SCHEMA "Odd Schema";
CREATE TABLE audit_log (id bigserial PRIMARY KEY, src text NOT NULL, tg text NOT NULL,
                        op text NOT NULL, k int);
CREATE TABLE audit_nokey (src text NOT NULL, tg text NOT NULL, op text NOT NULL, k int);
ALTER TABLE audit_nokey REPLICA IDENTITY FULL; -- no key: only inserted into
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (src, tg, op, k)
    VALUES (TG_TABLE_NAME, TG_NAME, TG_OP || '/' || TG_LEVEL,
            CASE WHEN TG_LEVEL = 'ROW' AND TG_OP <> 'DELETE' THEN NEW.id END);
  INSERT INTO audit_nokey VALUES (TG_TABLE_NAME, TG_NAME, TG_OP || '/' || TG_LEVEL,
            CASE WHEN TG_LEVEL = 'ROW' AND TG_OP <> 'DELETE' THEN NEW.id END);
  RETURN NULL;
END $$;
CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL);
CREATE TRIGGER t_origin AFTER INSERT OR UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER t_always AFTER INSERT OR UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER t_replica AFTER INSERT OR UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER t_off AFTER INSERT ON acct FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER t_stmt AFTER UPDATE ON acct FOR EACH STATEMENT EXECUTE FUNCTION audit();
CREATE TRIGGER t_trunc AFTER TRUNCATE ON acct FOR EACH STATEMENT EXECUTE FUNCTION audit();
ALTER TABLE acct ENABLE ALWAYS TRIGGER t_always;
ALTER TABLE acct ENABLE REPLICA TRIGGER t_replica;
ALTER TABLE acct DISABLE TRIGGER t_off;
ALTER TABLE acct ENABLE ALWAYS TRIGGER t_stmt;
ALTER TABLE acct ENABLE ALWAYS TRIGGER t_trunc;
-- rules of every mode, writing into the audit tables
CREATE TABLE "Odd Schema"."Ruled.T" (id int PRIMARY KEY, v int);
CREATE RULE "r always" AS ON INSERT TO "Odd Schema"."Ruled.T"
  DO ALSO INSERT INTO audit_nokey VALUES ('ruled', 'r always', 'INSERT', NEW.id);
CREATE RULE r_replica AS ON UPDATE TO "Odd Schema"."Ruled.T"
  DO ALSO INSERT INTO audit_nokey VALUES ('ruled', 'r_replica', 'UPDATE', NEW.id);
CREATE RULE r_origin AS ON DELETE TO "Odd Schema"."Ruled.T"
  DO ALSO INSERT INTO audit_nokey VALUES ('ruled', 'r_origin', 'DELETE', OLD.id);
CREATE RULE r_off AS ON INSERT TO "Odd Schema"."Ruled.T"
  DO ALSO INSERT INTO audit_nokey VALUES ('ruled', 'r_off', 'INSERT', NEW.id);
ALTER TABLE "Odd Schema"."Ruled.T" ENABLE ALWAYS RULE "r always";
ALTER TABLE "Odd Schema"."Ruled.T" ENABLE REPLICA RULE r_replica;
ALTER TABLE "Odd Schema"."Ruled.T" DISABLE RULE r_off;
-- a trigger with a name that needs quoting, on a partitioned table: cloned
-- to each partition
CREATE TABLE "Odd Schema".parted (id int NOT NULL, v int, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE "Odd Schema".parted_1 PARTITION OF "Odd Schema".parted FOR VALUES FROM (0) TO (1000000);
CREATE TABLE "Odd Schema".parted_2 PARTITION OF "Odd Schema".parted FOR VALUES FROM (1000000) TO (2000000);
CREATE TRIGGER "My Trig" AFTER INSERT ON "Odd Schema".parted FOR EACH ROW EXECUTE FUNCTION audit();
ALTER TABLE "Odd Schema".parted ENABLE ALWAYS TRIGGER "My Trig";
INSERT INTO acct SELECT g, 0 FROM generate_series(1, 200) g;
INSERT INTO "Odd Schema"."Ruled.T" SELECT g, 0 FROM generate_series(1, 50) g;
INSERT INTO "Odd Schema".parted SELECT g * 10000, 0 FROM generate_series(1, 150) g;
SQL

# Every user trigger and rule of the app database with its mode, one line each.
my $modes_sql = <<'SQL';
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT 'trigger ' || tg.tgrelid::regclass || ' ' || quote_ident(tg.tgname) || ' ' || tg.tgenabled::text
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
   WHERE NOT tg.tgisinternal AND c.relnamespace::regnamespace::text NOT IN ('pgbaton')
  UNION ALL
  SELECT 'rule ' || rw.ev_class::regclass || ' ' || quote_ident(rw.rulename) || ' ' || rw.ev_enabled::text
    FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class
   WHERE rw.rulename <> '_RETURN' AND c.relkind IN ('r', 'p')
     AND c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')) m(x)
SQL
my $paused_sql = "SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid "
  . "WHERE NOT tg.tgisinternal AND tg.tgenabled <> 'D'";
my $audits = ['audit_log', 'audit_nokey'];

# A write load on the source: pgbench, each transaction an UPDATE and an
# INSERT of acct, a change of the ruled table, and an INSERT in parted.
my ($sfh, $script) = tempfile(SUFFIX => '.sql', UNLINK => 1);
print $sfh <<'SQL';
\set k random(1, 200)
\set n random(1000, 900000)
BEGIN;
UPDATE acct SET v = v + 1 WHERE id = :k;
INSERT INTO acct VALUES (:n + :client_id * 1000000 + 10000000, 1) ON CONFLICT (id) DO UPDATE SET v = acct.v + 1;
UPDATE "Odd Schema"."Ruled.T" SET v = v + 1 WHERE id = :k % 50 + 1;
INSERT INTO "Odd Schema".parted VALUES (:n, 1) ON CONFLICT (id) DO NOTHING;
COMMIT;
SQL
close $sfh;

sub start_load
{
	my ($src) = @_;
	my $o = '';
	return {
		out => \$o,
		h => IPC::Run::start(
			[ 'pgbench', '-n', '-c', '2', '-T', '300', '-R', '50', '-f', $script,
			  '-h', $src->host, '-p', $src->port, 'app' ],
			'>&', \$o)
	};
}

sub stop_load
{
	my ($load) = @_;
	$load->{h}->kill_kill;
	$load->{h}->finish;
}

sub audit_rows
{
	my ($node) = @_;
	return $node->safe_psql('app', 'SELECT count(*) FROM audit_log') . '/'
	  . $node->safe_psql('app', 'SELECT count(*) FROM audit_nokey');
}

# A fresh pair with SCHEMA, start copying under writes, wait for streaming.
my $pairs = 0;
sub live_pair
{
	$pairs++;
	my $src = new_source(name => "source$pairs");
	my $dst = new_target(name => "target$pairs");
	$src->safe_psql('app', $schema);
	my $source_modes = $src->safe_psql('app', $modes_sql);
	my $load = start_load($src);
	ok(poll_until(sub { $src->safe_psql('app', 'SELECT count(*) FROM acct') > 200 }, 60),
		'the write load commits') or diag(${ $load->{out} });
	my @conns = ('-s', connstr($src), '-t', connstr($dst));
	my $p = start_pgbaton([ 'start', @conns ]);
	ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copied under writes; streaming')
	  or diag(PostgreSQL::Test::Utils::slurp_file("$p->{dir}/out"),
		PostgreSQL::Test::Utils::slurp_file("$p->{dir}/err"));
	return ($src, $dst, \@conns, $p, $load, $source_modes);
}

# Wait until the target's trigger modes show every one switched off.
sub wait_paused
{
	my ($dst) = @_;
	return poll_until(sub { $dst->safe_psql('app', $paused_sql) eq '0' }, 60);
}

# ---- 1. a live migration through the cutover ---------------------------------
{
	my ($src, $dst, $conns, $p, $load, $source_modes) = live_pair();
	ok(wait_paused($dst), 'while streaming: no user trigger enabled on the target');
	is($dst->safe_psql('app', "SELECT count(*) FROM pg_rewrite WHERE rulename <> '_RETURN' "
		  . "AND ev_enabled <> 'D' AND ev_class::regclass::text NOT LIKE 'pg_%'"),
		'0', 'while streaming: no rule enabled on the target');
	is($dst->safe_psql('app', "SELECT count(*) FROM pgbaton.paused_trigger"), '13',
		'every user trigger (6 on acct, 1 on parted and its 2 clones) and rule (4) is recorded');
	ok(poll_until(sub { $src->safe_psql('app', 'SELECT count(*) FROM acct') > 260 }, 60),
		'writes go on while streaming');

	# verify while streaming: the paused modes are not a difference
	my $r = run_pgbaton([ 'verify', @$conns ]);
	is($r->{rc}, 0, 'verify while streaming: no difference (the paused modes are not one)')
	  or diag($r->{stdout}, $r->{stderr});

	$r = run_pgbaton([ 'cutover', @$conns, '--max-lag', '2s', '--timeout', '90s' ]);
	is($r->{rc}, 0, 'cutover under writes') or diag($r->{stdout}, $r->{stderr});
	my $fin = finish_pgbaton($p);
	is($fin->{rc}, 0, 'start stopped after the cutover');
	unlike($fin->{stderr}, qr/WARN.*heartbeat|server closed the connection unexpectedly/,
		'the freeze ending the heartbeat session is not reported as a failure');
	stop_load($load);

	for my $t (@$audits, 'acct', '"Odd Schema"."Ruled.T"', '"Odd Schema".parted')
	{
		is(table_hash($dst, $t), table_hash($src, $t), "$t: the target holds exactly the source's rows");
	}
	isnt($src->safe_psql('app', 'SELECT count(*) FROM audit_log'), '0', 'the source audited its writes');
	is($dst->safe_psql('app', $modes_sql), $source_modes,
		"after the cutover: the target has exactly the source's trigger and rule modes");
	is($dst->safe_psql('app', 'SELECT count(*) FROM pgbaton.paused_trigger'), '0',
		'no mode is left recorded');

	$r = run_pgbaton([ 'verify', @$conns ]);
	is($r->{rc}, 0, 'verify after the cutover: equal') or diag($r->{stdout});

	# a real difference of modes is still reported
	$dst->safe_psql('app', 'ALTER TABLE acct ENABLE TRIGGER t_off');
	$r = run_pgbaton([ 'verify', @$conns ]);
	is($r->{rc}, 1, 'verify: a trigger enabled on the target only is a difference');
	like($r->{stdout} . $r->{stderr}, qr/t_off/, 'verify names the trigger');
	$dst->safe_psql('app', 'ALTER TABLE acct DISABLE TRIGGER t_off');

	# after the cutover the triggers work on the target as on the source
	$dst->safe_psql('app', 'INSERT INTO acct VALUES (-1, 0)');
	is($dst->safe_psql('app', "SELECT string_agg(tg, ',' ORDER BY tg) FROM audit_nokey WHERE k = -1"),
		't_always,t_origin', 'the target fires its origin and always triggers again');

	$r = run_pgbaton([ 'clean', @$conns ]);
	is($r->{rc}, 0, 'clean');
	is($dst->safe_psql('app', $modes_sql), $src->safe_psql('app', $modes_sql), 'modes unchanged by clean');
	$_->stop for $src, $dst;
}

# ---- 2. kill -9 while streaming, then start again, then cutover -------------
{
	my ($src, $dst, $conns, $p, $load, $source_modes) = live_pair();
	ok(wait_paused($dst), 'streaming with the triggers switched off');
	is(finish_pgbaton($p, signal => 'KILL')->{signal}, 9, 'kill -9 of start (still running)');
	is($dst->safe_psql('app', "SELECT count(*) FROM pgbaton.paused_trigger"), '13',
		'after kill -9: every switched-off mode is still recorded');
	$p = start_pgbaton([ 'start', @$conns ]);
	ok(wait_applied($src, $dst, 90), 'start resumed and caught up');
	ok(wait_paused($dst), 'the resumed start keeps every trigger switched off');
	is($dst->safe_psql('app', "SELECT count(*) FROM pgbaton.paused_trigger WHERE mode <> 'D'"), '11',
		'the recorded modes are still the source\'s (not the switched-off ones)');
	my $r = run_pgbaton([ 'cutover', @$conns, '--max-lag', '2s', '--timeout', '90s' ]);
	is($r->{rc}, 0, 'cutover after the resume') or diag($r->{stdout}, $r->{stderr});
	is(finish_pgbaton($p)->{rc}, 0, 'start stopped by itself after the cutover');
	stop_load($load);
	is(audit_rows($dst), audit_rows($src), 'audit rows: exactly the source\'s, no more');
	is(table_hash($dst, 'audit_nokey'), table_hash($src, 'audit_nokey'), 'audit_nokey: equal');
	is($dst->safe_psql('app', $modes_sql), $source_modes, 'modes restored after kill -9, start, cutover');
	$_->stop for $src, $dst;
}

# ---- 3. kill -9 while streaming, then abort -----------------------------------
{
	my ($src, $dst, $conns, $p, $load, $source_modes) = live_pair();
	ok(wait_paused($dst), 'streaming with the triggers switched off');
	is(finish_pgbaton($p, signal => 'KILL')->{signal}, 9, 'kill -9 of start (still running)');
	stop_load($load);
	my $r = run_pgbaton([ 'abort', @$conns ]);
	is($r->{rc}, 0, 'abort after kill -9') or diag($r->{stdout}, $r->{stderr});
	like($r->{stdout}, qr/put back the source's modes of 13 user trigger/, 'abort says it restored the modes');
	is($dst->safe_psql('app', $modes_sql), $source_modes, 'modes restored by abort');
	$r = run_pgbaton([ 'abort', @$conns ]);
	is($r->{rc}, 0, 'abort again: nothing to do');
	is($dst->safe_psql('app', $modes_sql), $source_modes, 'modes unchanged by a second abort');
	$_->stop for $src, $dst;
}

# ---- 4. abort while start runs, then clean -------------------------------------
{
	my ($src, $dst, $conns, $p, $load, $source_modes) = live_pair();
	ok(wait_paused($dst), 'streaming with the triggers switched off');
	my $r = run_pgbaton([ 'abort', @$conns ]);
	is($r->{rc}, 0, 'abort while start runs') or diag($r->{stdout}, $r->{stderr});
	my $fin = finish_pgbaton($p);
	is($fin->{signal}, 0, 'start exited by itself after the abort (no signal)');
	stop_load($load);
	is($dst->safe_psql('app', $modes_sql), $source_modes, 'modes restored by abort');
	$r = run_pgbaton([ 'clean', @$conns ]);
	is($r->{rc}, 0, 'clean');
	is($dst->safe_psql('app', $modes_sql), $source_modes, 'modes still the source\'s after clean');
}

done_testing();
