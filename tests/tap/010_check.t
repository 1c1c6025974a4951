# pgbaton check against real servers: the healthy pair, every FAIL and WARN
# that a source or target database can provoke, --json, filters, resume.
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = new_source();
my $dst = new_target();

# Run check; returns the result hash.
sub check
{
	my (%o) = @_;
	my @args = ('check', '-s', $o{s} // connstr($src), '-t', $o{t} // connstr($dst),
		@{ $o{args} // [] });
	return run_pgbaton(\@args, env => $o{env} // {});
}

# The line of check ID, or '' when absent.
sub line_of
{
	my ($r, $id) = @_;
	return $r->{stdout} =~ /^((?:PASS|WARN|FAIL)\s+\Q$id\E\s.*(?:\n {6}fix: .*)?)$/m ? $1 : '';
}

sub status_is
{
	my ($r, $id, $status, $name) = @_;
	like(line_of($r, $id), qr/^\Q$status\E\s/, $name // "$id is $status")
	  or diag($r->{stdout} . $r->{stderr});
}

sub slots_on_source
{
	return $src->safe_psql('app', 'SELECT count(*) FROM pg_replication_slots');
}

# --- healthy pair ------------------------------------------------------------
my $r = check();
is($r->{rc}, 0, 'healthy pair: exit 0') or diag($r->{stdout} . $r->{stderr});
for my $id (
	qw(source-connection target-connection source-wal-level source-replication-privilege
	source-replication-slots source-wal-senders source-wal2json-allowed source-wal2json
	decoder replica-identity unlogged-tables materialized-views large-objects
	slot-name target-create-privilege target-session-replication-role target-empty
	target-version target-extensions pg_dump pg_restore))
{
	status_is($r, $id, 'PASS', "healthy pair: $id passes");
}
unlike($r->{stdout}, qr/^(WARN|FAIL)/m, 'healthy pair: no WARN or FAIL');
like($r->{stdout}, qr/^check: 22 passed, 0 warnings, 0 failed$/m, 'summary line');
like($r->{stdout}, qr{postgres://migrator:\*\*\*\*\@127\.0\.0\.1}, 'URI shown masked');
is(slots_on_source(), 0, 'check leaves no slot behind on the source');

$r = check(s => connstr($src, style => 'kv'), t => connstr($dst, style => 'kv'));
is($r->{rc}, 0, 'key=value connection strings work');
like($r->{stdout}, qr/password=\*\*\*\*/, 'key=value string shown masked');

# --- --json --------------------------------------------------------------------
$r = check(args => ['--json']);
is($r->{rc}, 0, '--json: exit 0');
my $items = eval { decode_json($r->{stdout}) };
ok(ref $items eq 'ARRAY' && @$items == 22, "--json: stdout is one array of 22 checks")
  or diag($@, $r->{stdout});
my @bad = grep {
	!(exists $_->{check} && exists $_->{message} && exists $_->{fix}
		&& ($_->{status} // '') =~ /^(pass|warn|fail)$/)
} @{ $items // [] };
is(scalar @bad, 0, '--json: every object has check, status, message, fix');
ok(!grep({ $_->{status} eq 'pass' && defined $_->{fix} } @{ $items // [] }),
	'--json: fix is null for pass');

# --- tables whose UPDATE/DELETE cannot be replicated; WARNs ------------------
$src->safe_psql('app', q{
	CREATE TABLE nopk (a int);
	CREATE TABLE nothing (id int PRIMARY KEY);
	ALTER TABLE nothing REPLICA IDENTITY NOTHING;
	CREATE TABLE withidx (id int NOT NULL);
	CREATE UNIQUE INDEX withidx_id ON withidx (id);
	ALTER TABLE withidx REPLICA IDENTITY USING INDEX withidx_id;
	DROP INDEX withidx_id;
	CREATE TABLE parted (a int) PARTITION BY RANGE (a);
	CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
	CREATE TABLE full_ok (a int);
	ALTER TABLE full_ok REPLICA IDENTITY FULL;
	CREATE TABLE nums (id int PRIMARY KEY, v numeric, f float8);
	CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY);
	CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;
	SELECT lo_create(0);
});
$r = check(args => ['--json']);
is($r->{rc}, 3, 'tables without identity: exit 3');
$items = decode_json($r->{stdout});
my %by = map { $_->{check} => $_ } @$items;
is($by{'replica-identity'}{status}, 'fail', 'replica-identity fails');
like($by{'replica-identity'}{message}, qr/public\.nopk \(no primary key\)/, 'nopk named');
like($by{'replica-identity'}{message}, qr/public\.nothing \(replica identity NOTHING\)/,
	'identity NOTHING named');
like($by{'replica-identity'}{message}, qr/public\.withidx \(replica identity index dropped\)/,
	'dropped identity index named');
like($by{'replica-identity'}{message}, qr/public\.parted_1 /, 'leaf partition named');
unlike($by{'replica-identity'}{message}, qr/full_ok|public\.parted |nums/,
	'FULL, parents and keyed tables not named');
like($by{'replica-identity'}{fix}, qr/REPLICA IDENTITY FULL/, 'fix names REPLICA IDENTITY FULL');
is($by{'unlogged-tables'}{status}, 'warn', 'unlogged table warns');
like($by{'unlogged-tables'}{message}, qr/public\.scratch/, 'unlogged table named');
is($by{'materialized-views'}{status}, 'warn', 'matview warns');
like($by{'materialized-views'}{message}, qr/public\.mv/, 'matview named');
is($by{'large-objects'}{status}, 'warn', 'large object warns');
like($by{'large-objects'}{message}, qr/^1 large object/, 'large objects counted');
ok(defined $by{$_}{fix}, "$_ has a fix") for qw(unlogged-tables materialized-views large-objects);

# wal2json 2.5 here: with numeric columns the default (auto) decodes with
# pgoutput and says why; with 2.6+, wal2json
my $decoder = $by{'decoder'};
is($decoder->{status}, 'pass', 'the decoder item passes');
if ($decoder->{message} =~ /pgoutput/)
{
	like($decoder->{message}, qr/start will decode with pgoutput: this wal2json \(before 2\.6\) would send NaN.*public\.nums/,
		'auto chooses pgoutput and names the table whose values wal2json would change');
	is($by{'source-publication'}{status}, 'pass', 'the publication can be made (superuser)');
	like($by{'source-publication'}{message}, qr/FOR ALL TABLES/, 'superuser: FOR ALL TABLES');
}
else
{
	like($decoder->{message}, qr/start will decode with wal2json: it is allowed and sends numbers as strings/,
		'wal2json 2.6+: auto keeps wal2json');
}

# --plugin wal2json with wal2json 2.5 and NaN-capable columns: FAIL (exit 3)
# unless --accept-nan-as-null; --plugin pgoutput: PASS
SKIP:
{
	skip 'wal2json here sends numbers as strings (2.6+)', 6 unless $decoder->{message} =~ /pgoutput/;
	my $w = run_pgbaton([ 'check', '-s', connstr($src), '-t', connstr($dst), '--plugin', 'wal2json', '--json' ]);
	is($w->{rc}, 3, '--plugin wal2json that would turn NaN into NULL: exit 3');
	my ($d) = grep { $_->{check} eq 'decoder' } @{ decode_json($w->{stdout}) };
	is($d->{status}, 'fail', '--plugin wal2json: decoder FAILs');
	like($d->{fix}, qr/--plugin pgoutput.*--accept-nan-as-null/, 'the fix names pgoutput and the opt-in');
	$w = run_pgbaton([ 'check', '-s', connstr($src), '-t', connstr($dst), '--plugin', 'wal2json',
		'--accept-nan-as-null', '--json' ]);
	($d) = grep { $_->{check} eq 'decoder' } @{ decode_json($w->{stdout}) };
	is($d->{status}, 'warn', '--accept-nan-as-null: a WARN that says what is lost');
	like($d->{message}, qr/will arrive as NULL in .*public\.nums/, 'and names the table');
	$w = run_pgbaton([ 'check', '-s', connstr($src), '-t', connstr($dst), '--plugin', 'pgoutput', '--json' ]);
	($d) = grep { $_->{check} eq 'decoder' } @{ decode_json($w->{stdout}) };
	like($d->{message}, qr/start will decode with pgoutput \(--plugin pgoutput\)/, '--plugin pgoutput');
}
my $bad = run_pgbaton([ 'check', '-s', connstr($src), '-t', connstr($dst), '--plugin', 'test_decoding' ]);
is($bad->{rc}, 2, 'an unknown --plugin is bad usage');
like($bad->{stderr}, qr/invalid --plugin "test_decoding": use auto, wal2json or pgoutput/, 'and says so');

# the human form names the tables too, with the fix indented below
$r = check();
like(line_of($r, 'replica-identity'), qr/^FAIL .*public\.nothing.*\n {6}fix: /,
	'human FAIL line with its fix');
like($r->{stdout}, qr/^check: \d+ passed, [1-9]\d* warnings?, 1 failed$/m, 'summary counts');

# filters: excluded tables (a partitioned parent covers its leaves) are not checked
$r = check(args => [ map { ('--exclude-table', $_) } qw(nopk nothing withidx parted) ]);
status_is($r, 'replica-identity', 'PASS', 'excluded tables are not checked');
is($r->{rc}, 0, 'only WARNs left: exit 0');
$r = check(args => [ '--include-table', 'public.parted' ]);
like(line_of($r, 'replica-identity'), qr/^FAIL .*parted_1/, 'included parent checks its leaves');

$src->safe_psql('app', q{
	DROP TABLE nopk, nothing, withidx, parted, full_ok, nums, scratch;
	DROP MATERIALIZED VIEW mv;
	SELECT lo_unlink(oid) FROM pg_largeobject_metadata;
});
is(slots_on_source(), 0, 'still no slot left on the source');

# --- target not empty; pgbaton state; slot name taken ------------------------
$dst->safe_psql('app', 'CREATE TABLE existing (id int)');
$r = check();
is($r->{rc}, 3, 'non-empty target: exit 3');
like(line_of($r, 'target-empty'), qr/^FAIL .*public\.existing.*\n {6}fix: point --target at an empty database/,
	'non-empty target fails with the fix');

$src->safe_psql('app', q{SELECT pg_create_logical_replication_slot('pgbaton', 'test_decoding')});
$r = check();
like(line_of($r, 'slot-name'), qr/^FAIL .*named pgbaton already exists.*\n {6}fix: choose another --name/,
	'slot name taken fails');
$r = check(args => [ '--name', 'other' ]);
status_is($r, 'slot-name', 'PASS', 'another --name is free');

# the target holds this migration's state: resume
my $state_sql = slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql");
$dst->safe_psql('app', $state_sql);
$dst->safe_psql('app',
	q{INSERT INTO pgbaton.migration (name, phase, slot_name) VALUES ('pgbaton', 'streaming', 'pgbaton')});
$r = check();
is($r->{rc}, 0, 'resumable migration: exit 0') or diag($r->{stdout});
like(line_of($r, 'target-empty'), qr/^PASS .*holds pgbaton's state for migration pgbaton; start will resume/,
	'target with state passes');
like(line_of($r, 'slot-name'), qr/^PASS .*belongs to migration pgbaton/, 'own slot passes');
$r = check(args => [ '--name', 'other' ]);
status_is($r, 'target-empty', 'FAIL', 'state of another migration does not make the target empty');

$src->safe_psql('app', q{SELECT pg_drop_replication_slot('pgbaton')});
$dst->safe_psql('app', 'DROP SCHEMA pgbaton CASCADE; DROP TABLE existing');

# --- source role without REPLICATION ----------------------------------------
$src->safe_psql('app', "CREATE ROLE norepl LOGIN");
set_password($src, 'norepl', $PASSWORD);
$r = check(s => connstr($src, user => 'norepl'));
is($r->{rc}, 3, 'role without REPLICATION: exit 3');
like(line_of($r, 'source-replication-privilege'),
	qr/^FAIL .*norepl has neither REPLICATION nor superuser.*\n {6}fix: .*ALTER ROLE norepl REPLICATION/,
	'missing REPLICATION fails with the fix');
like($r->{stdout},
	qr/^WARN\s+freeze-privileges\s+the cutover cannot freeze the source with role norepl: it does not own the database and cannot end other sessions.*\n {6}fix: .*ALTER DATABASE "app" OWNER TO "norepl"; GRANT pg_signal_backend TO "norepl";/m,
	'a role that cannot freeze the source is warned, with the grants');
is(line_of($r, 'source-wal2json'), '', 'wal2json probe skipped without the privilege');

# --- target roles without privileges ------------------------------------------
$dst->safe_psql('app', qq{
	CREATE ROLE plain LOGIN;
	GRANT CREATE ON DATABASE app TO plain;
	GRANT CREATE ON SCHEMA public TO plain;
	CREATE ROLE nocreate LOGIN;
});
set_password($dst, $_, $PASSWORD) for qw(plain nocreate);
$r = check(t => connstr($dst, user => 'plain'));
is($r->{rc}, 3, 'target role without SET on session_replication_role: exit 3');
like(line_of($r, 'target-session-replication-role'),
	qr/^FAIL .*plain may not set session_replication_role.*\n {6}fix: .*GRANT SET ON PARAMETER session_replication_role TO plain/,
	'session_replication_role fails with the GRANT fix');
status_is($r, 'target-create-privilege', 'PASS', 'plain may create');
$dst->safe_psql('app', 'GRANT SET ON PARAMETER session_replication_role TO plain');
$r = check(t => connstr($dst, user => 'plain'));
status_is($r, 'target-session-replication-role', 'PASS', 'after GRANT SET ON PARAMETER it passes');
is($r->{rc}, 0, 'non-superuser target role with the grants: exit 0') or diag($r->{stdout});
is($dst->safe_psql('app', 'SHOW session_replication_role'), 'origin',
	'check changed nothing on the target');

$r = check(t => connstr($dst, user => 'nocreate'));
like(line_of($r, 'target-create-privilege'),
	qr/^FAIL .*nocreate lacks CREATE on the database and on schema public.*\n {6}fix: .*GRANT CREATE ON DATABASE/,
	'missing CREATE fails with the fix');

# --- extensions ----------------------------------------------------------------
$src->safe_psql('app', 'CREATE EXTENSION citext');
$r = check();
like(line_of($r, 'target-extensions'), qr/^PASS .*1 source extension available/,
	'available extension passes');
# Both servers share one installation, so no real extension can be missing on
# the target: rename the source's catalog entry to one nobody offers.
$src->safe_psql('app',
	q{UPDATE pg_extension SET extname = 'pgbaton_no_such_ext' WHERE extname = 'citext'});
$r = check();
is($r->{rc}, 3, 'missing extension: exit 3');
like(line_of($r, 'target-extensions'), qr/^FAIL .*pgbaton_no_such_ext.*\n {6}fix: /,
	'missing extension named');
$src->safe_psql('app',
	q{UPDATE pg_extension SET extname = 'citext' WHERE extname = 'pgbaton_no_such_ext'});
$src->safe_psql('app', 'DROP EXTENSION citext');

# --- a long-running transaction blocks the probe slot ------------------------
my $bg = $src->background_psql('app');
$bg->query_safe('BEGIN');
$bg->query_safe('SELECT pg_current_xact_id()');
$r = check(env => { PGBATON_CHECK_SLOT_TIMEOUT => '2' });
is($r->{rc}, 3, 'long-running transaction: exit 3');
like(line_of($r, 'source-wal2json'), qr/^FAIL .*long-running transaction on the source blocks slot creation/,
	'long-running transaction named');
$bg->query_safe('COMMIT');
$bg->quit;
ok(poll_until(sub { slots_on_source() == 0 }, 30), 'the blocked probe left no slot behind');

done_testing();
