# report: every section; each timing named for what it measures (catch-up
# from the lag samples); the lag chart beside the Markdown file, named after
# it, with ticks on both axes, the phases as bands and the samples clamped
# at zero; JSON with the series and the phases; "in progress" during a
# migration, "no migration" without state; names quoted as PostgreSQL
# quotes them; the backup check (pg_dump of the target by the target's
# role), passing and failing; and no secret: neither the connection
# password nor a value of a users table (password hashes).
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use JSON::PP;
use PostgreSQL::Test::Utils;

my $HASH = 'scrypt$HASHVALUE-q9W';
my $src = new_source();
my $dst = new_target(extra_conf => "max_wal_senders = 0\n");
my $tables = <<"SQL";
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, password_hash text NOT NULL);
CREATE INDEX users_hash_idx ON users (password_hash);
CREATE TABLE notes (id int PRIMARY KEY, user_id int REFERENCES users (id), body text);
CREATE VIEW user_emails AS SELECT id, email FROM users;
CREATE SCHEMA "dot.ted";
CREATE SCHEMA dot;
CREATE TABLE "dot.ted".name (id int PRIMARY KEY, v text);
CREATE TABLE dot."ted.name" (id int PRIMARY KEY, v text);
INSERT INTO users (email, password_hash) SELECT 'u' || i || '\@example.com', '$HASH-' || i FROM generate_series(1, 30) i;
INSERT INTO notes SELECT i, 1 + i % 30, 'body ' || i FROM generate_series(1, 40) i;
INSERT INTO "dot.ted".name SELECT i, 'a' FROM generate_series(1, 3) i;
INSERT INTO dot."ted.name" SELECT i, 'b' FROM generate_series(1, 5) i;
SQL
$_->safe_psql('app', $tables) for ($src, $dst);
$dst->safe_psql('app', slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql"));
# a migration of one hour: slot 2 s, schema 3 s, rows 595 s, post-data
# 120 s, then streaming; the lag falls below 1 s at 10:57 (45 min after the
# copy), the cutover begins at 11:00:00 and ends 2 s later. One sample
# read a little below zero (the servers' clocks), one knew no lag.
$dst->safe_psql('app', <<'SQL');
INSERT INTO pgbaton.migration (name, phase, slot_name, source_masked, target_masked,
    started_at, copy_started_at, slot_created_at, schema_done_at, copy_done_at, indexes_done_at,
    streaming_at, cutover_started_at, done_at, write_unavailable_ms)
VALUES ('pgbaton', 'done', 'pgbaton', 'postgres://migrator:****@src:5432/app',
    'postgres://migrator:****@dst:5432/app', '2026-01-01 10:00:00+00', '2026-01-01 10:00:00+00',
    '2026-01-01 10:00:02+00', '2026-01-01 10:00:05+00', '2026-01-01 10:10:00+00',
    '2026-01-01 10:12:00+00', '2026-01-01 10:12:00+00', '2026-01-01 11:00:00+00',
    '2026-01-01 11:00:02+00', 850);
INSERT INTO pgbaton.lag_sample (migration, at, lag_bytes, lag_seconds)
  SELECT 'pgbaton', '2026-01-01 10:12:00+00'::timestamptz + i * interval '1 minute', 1000 * (48 - i), (48 - i) / 4.0
  FROM generate_series(0, 47) i;
INSERT INTO pgbaton.lag_sample (migration, at, lag_bytes, lag_seconds) VALUES
  ('pgbaton', '2026-01-01 10:59:30+00', 0, -0.3),
  ('pgbaton', '2026-01-01 10:59:40+00', NULL, NULL);
INSERT INTO pgbaton.event (migration, level, message)
  VALUES ('pgbaton', 'warn', 'table public.notes has no replica identity index'),
         ('pgbaton', 'info', 'copy started');
SQL
my @conns = ('-s', connstr($src), '-t', connstr($dst));
my $dir = "$PostgreSQL::Test::Utils::tmp_check/report";
mkdir $dir;

my $r = run_pgbaton([ 'report', @conns, '-o', "$dir/report.md" ]);
is($r->{rc}, 0, 'report md: exit 0') or diag($r->{stderr});
my $md = slurp_file("$dir/report.md");
note($md);
like($md, qr/^# pgbaton migration report: pgbaton$/m, 'title with the name');
like($md, qr/^Status: \*\*complete\*\* \(phase done\)$/m, 'complete');
like($md, qr/\| source \| `postgres:\/\/migrator:\*\*\*\*\@src:5432\/app` \| 15\.\d+/, 'source masked with its version');
like($md, qr/^## Structure migrated$/m, 'structure section');
like($md, qr/^\| tables \| 4 \|$/m, 'tables counted');
like($md, qr/^\| indexes \| 6 \|$/m, 'indexes counted');
like($md, qr/^\| views \| 1 \|$/m, 'views counted');
like($md, qr/^Tables: `dot\."ted\.name"`, `"dot\.ted"\.name`, `public\.notes`, `public\.users`$/m,
	'list of tables, named as PostgreSQL quotes them (the look-alikes apart)');
like($md, qr/^\| public\.users \| 30 \| 30 \| equal \|$/m, 'rows per table with verify result');
like($md, qr/^\| "dot\.ted"\.name \| 3 \| 3 \| equal \|$/m, 'rows: "dot.ted".name');
like($md, qr/^\| dot\."ted\.name" \| 5 \| 5 \| equal \|$/m, 'rows: dot."ted.name"');
like($md, qr/^## Verify$/m, 'verify section');
like($md, qr/^Result: \*\*equal\*\*/m, 'verify result');
like($md, qr/^\| public\.users \| ok \|  \|$/m, 'CRUD result');
like($md, qr/^\| "dot\.ted"\.name \| ok \|  \|$/m, 'CRUD result, quoted name');

# the backup check, by the target's role
like($md, qr/^## Backup check$/m, 'backup check section');
like($md, qr/^Backup by the target's role: \*\*ok\*\*: `pg_dump 1\d\.\d+` of the target as role `migrator` completed in \d+\.\d s \(schema and data, to \/dev\/null\)\.$/m,
	'backup check: ok, with its time');

# timings, each named for what it measures
like($md, qr/^\| step \| measures \| duration \|$/m, 'timings: what each measures');
like($md, qr/^\| slot \| start until the slot and its snapshot existed \| 2\.0 s \|$/m, 'slot timing');
like($md, qr/^\| schema \| then until the pre-data schema was restored [^|]*\| 3\.0 s \|$/m, 'schema timing (no longer 0.0)');
like($md, qr/^\| copy \| then until every table's rows were copied [^|]*\| 595\.0 s \|$/m, 'copy timing');
like($md, qr/^\| indexes \| [^|]*post-data[^|]*\| 120\.0 s \|$/m, 'indexes timing');
like($md, qr/^\| catch-up \| end of the copy until the lag first fell below 1 s \| 2700\.0 s \|$/m,
	'catch-up: until the lag first fell below 1 s (not the whole streaming)');
like($md, qr/^\| streaming \| end of the copy until the cutover began \(catch-up included\) \| 2880\.0 s \|$/m, 'streaming timing');
like($md, qr/^\| cutover \| [^|]+ \| 2\.0 s \|$/m, 'cutover timing');
like($md, qr/^\| total \| [^|]+ \| 3602\.0 s \|$/m, 'total');
like($md, qr/^\| write unavailability \| [^|]+ \| 850 ms \|$/m, 'write unavailability');
like($md, qr/^50 samples, maximum 12\.0 s, last 0\.0 s\. Phases \(seconds since the start\): copy 0\.0–720\.0 s, catch-up 720\.0–3420\.0 s, streaming 3420\.0–3600\.0 s, cutover 3600\.0–3602\.0 s\.$/m,
	'lag summary with the phases');
like($md, qr/^!\[lag over the run\]\(report-lag\.svg\)$/m, 'chart linked, named after the report');
like($md, qr/^- \S+ \S+ warn: table public\.notes has no replica identity index$/m, 'warning listed');
unlike($md, qr/copy started/, 'info events are not warnings');
unlike($md, qr/HASHVALUE|\@example\.com/, 'no user-table value in the report');

# the chart
ok(!-e "$dir/pgbaton-lag.svg", 'no chart named after the migration');
my $svg = slurp_file("$dir/report-lag.svg");
like($svg, qr/^<svg /, 'an SVG');
my %bands = map { $_ => 1 } $svg =~ /<rect class="phase" data-phase="([^"]+)"/g;
is_deeply([ sort keys %bands ], [ 'catch-up', 'copy', 'cutover', 'streaming' ], 'chart: the four phases as bands');
my ($yticks) = $svg =~ /<g class="y-ticks">(.*?)<\/g>/s;
my ($xticks) = $svg =~ /<g class="x-ticks">(.*?)<\/g>/s;
my @ylabels = ($yticks // '') =~ /class="tick-label"[^>]*>([^<]+)</g;
my @xlabels = ($xticks // '') =~ /class="tick-label"[^>]*>([^<]+)</g;
is_deeply(\@ylabels, [ '0 s', '5 s', '10 s', '15 s' ], 'chart: lag ticks in s');
is_deeply(\@xlabels, [ map { "$_ min" } (0, 10, 20, 30, 40, 50, 60) ], 'chart: time ticks in min');
my ($zero) = $svg =~ /<line class="axis" x1="[\d.]+" y1="([\d.]+)"/;
my ($points) = $svg =~ /<polyline class="lag"[^>]*points="([^"]+)"/;
my @ys = map { (split /,/)[1] } split / /, ($points // '');
is(scalar @ys, 49, 'chart: every sample with a known lag drawn');
is(scalar(grep { $_ > $zero } @ys), 0, 'chart: no point below the zero axis');
is(scalar(() = $svg =~ /<circle class="sample"/g), 49, 'chart: a marker per sample');

# a second report in the same directory keeps its own chart
$r = run_pgbaton([ 'report', @conns, '-o', "$dir/second.md" ]);
is($r->{rc}, 0, 'second report: exit 0');
ok(-s "$dir/second-lag.svg" && -s "$dir/report-lag.svg", 'two reports, two charts');
like(slurp_file("$dir/second.md"), qr/^!\[lag over the run\]\(second-lag\.svg\)$/m, 'second report links its chart');

$r = run_pgbaton([ 'report', @conns, '--format', 'json' ]);
is($r->{rc}, 0, 'report json: exit 0');
my $j = eval { decode_json($r->{stdout}) };
ok($j, 'json parses') or diag($@);
is($j->{status}, 'complete', 'json: status');
is($j->{structure}{tables}, 4, 'json: tables');
is(scalar @{ $j->{lag} }, 50, 'json: lag series');
is($j->{lag}[-1]{lag_seconds}, undef, 'json: an unknown lag is null');
is($j->{lag}[-2]{lag_seconds}, 0, 'json: a negative lag reads 0');
is($j->{timings_seconds}{cutover}, 2, 'json: cutover timing');
is($j->{timings_seconds}{schema}, 3, 'json: schema timing');
is($j->{timings_seconds}{'catch-up'}, 2700, 'json: catch-up timing');
is($j->{timings_seconds}{streaming}, 2880, 'json: streaming timing');
is_deeply([ map { $_->{phase} } @{ $j->{phases} } ], [ 'copy', 'catch-up', 'streaming', 'cutover' ], 'json: phases');
ok($j->{verify}{equal}, 'json: verify equal');
is($j->{verify}{backup}{status}, 'ok', 'json: backup check ok');
is($j->{verify}{backup}{role}, 'migrator', 'json: backup check role');
ok(grep({ $_ eq '"dot.ted".name' } @{ $j->{structure}{table_list} }), 'json: quoted name');
is($j->{in_progress}, JSON::PP::false, 'json: not in progress');
unlike($r->{stdout}, qr/HASHVALUE|\@example\.com/, 'json: no user-table value');

# the backup check fails when the target's role cannot back the target up:
# a large object it may not read (verify itself reads only the tables)
$dst->safe_psql('app', q{
	CREATE ROLE appuser LOGIN;
	GRANT USAGE ON SCHEMA public, dot, "dot.ted", pgbaton TO appuser;
	GRANT ALL ON ALL TABLES IN SCHEMA public, dot, "dot.ted" TO appuser;
	GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO appuser;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgbaton TO appuser;
	SELECT lo_create(4242);
});
set_password($dst, 'appuser', $PASSWORD);
my @app = ('-s', connstr($src), '-t', connstr($dst, user => 'appuser'));
$r = run_pgbaton([ 'report', @app ]);
is($r->{rc}, 0, 'report as a role that cannot back up: exit 0') or diag($r->{stderr});
like($r->{stdout}, qr/^Backup by the target's role: \*\*FAILED\*\* \(role `appuser`, after \d+\.\d s\): pg_dump failed: .*permission denied for large object 4242\.$/m,
	'backup check failed: says why') or diag($r->{stdout});
$r = run_pgbaton([ 'verify', @app, '--crud' ]);
is($r->{rc}, 1, 'verify --crud: exit 1 when the backup check fails');
like($r->{stdout}, qr/^backup: failed: pg_dump failed: .*permission denied for large object 4242$/m, 'verify --crud: the backup line');
like($r->{stdout}, qr/; crud: 4 ok, 0 skipped, 0 failed; backup failed$/m, 'verify --crud: summary says so');
$dst->safe_psql('app', 'SELECT lo_unlink(4242)');
$r = run_pgbaton([ 'verify', @app, '--crud' ]);
is($r->{rc}, 0, 'verify --crud: exit 0 once the role can back up') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/^backup: ok: pg_dump 1\d\.\d+ of the target as role appuser, schema and data, in \d+\.\d s$/m,
	'verify --crud: backup ok with its time');

# the applier's lag sample (sql/state_lag_sample.sql): the age of the newest
# applied source instant, never below zero, unknown before any
$dst->safe_psql('app', "INSERT INTO pgbaton.migration (name, phase, slot_name) VALUES ('thin', 'streaming', 'thin')");
my $sample = slurp_file("$ENV{PGBATON_ROOT}/sql/state_lag_sample.sql");
my $lag_after = sub {
	my ($set) = @_;
	return $dst->safe_psql('app', "UPDATE pgbaton.migration SET $set WHERE name = 'thin';\n"
		  . "PREPARE sample(text, bigint, float8) AS $sample;\nEXECUTE sample('thin', 100, 5);\n"
		  . "SELECT coalesce(round(lag_seconds)::text, 'null') FROM pgbaton.lag_sample "
		  . "WHERE migration = 'thin' ORDER BY at DESC LIMIT 1");
};
is($lag_after->('heartbeat_source_ts = NULL, applied_source_ts = NULL'), 'null', 'lag sample: unknown before any heartbeat or commit');
is($lag_after->("heartbeat_source_ts = now() - interval '5 s'"), '5', 'lag sample: the heartbeat\'s age');
is($lag_after->("applied_source_ts = now() - interval '2 s'"), '2', 'lag sample: the newer of heartbeat and commit');
is($lag_after->("heartbeat_source_ts = now() + interval '1 s', applied_source_ts = NULL"), '0', 'lag sample: never below zero');
$dst->safe_psql('app', "DELETE FROM pgbaton.migration WHERE name = 'thin'");

# the applier's thinning of old lag samples (sql/state_lag_thin.sql, sent
# once a minute): the last hour kept whole, before it the lowest and the
# highest sample of each minute (of each ten minutes before the last day)
$dst->safe_psql('app', q{
	INSERT INTO pgbaton.migration (name, phase, slot_name) VALUES ('thin', 'streaming', 'thin');
	INSERT INTO pgbaton.lag_sample (migration, at, lag_seconds)
	  SELECT 'thin', now() - i * interval '1 second', i % 60 FROM generate_series(0, 599) i;
	INSERT INTO pgbaton.lag_sample (migration, at, lag_seconds)
	  SELECT 'thin', now() - interval '1 hour 10 seconds' - i * interval '1 second', i % 60
	  FROM generate_series(0, 7199) i;
	INSERT INTO pgbaton.lag_sample (migration, at, lag_seconds)
	  SELECT 'thin', now() - interval '2 days' - i * interval '1 minute', i % 10 FROM generate_series(0, 119) i;
});
my $thin = slurp_file("$ENV{PGBATON_ROOT}/sql/state_lag_thin.sql");
$dst->safe_psql('app', "PREPARE thin(text) AS $thin;\nEXECUTE thin('thin');");
my ($recent, $hours, $days, $maxlag, $per_min) = split /\|/, $dst->safe_psql('app', q{
	SELECT count(*) FILTER (WHERE at > now() - interval '1 hour'),
	       count(*) FILTER (WHERE at < now() - interval '1 hour' AND at > now() - interval '1 day'),
	       count(*) FILTER (WHERE at < now() - interval '1 day'),
	       max(lag_seconds),
	       (SELECT max(n) FROM (SELECT count(*) AS n FROM pgbaton.lag_sample
	          WHERE migration = 'thin' AND at < now() - interval '1 hour' AND at > now() - interval '1 day'
	          GROUP BY floor(extract(epoch FROM at) / 60)) b)
	  FROM pgbaton.lag_sample WHERE migration = 'thin'});
is($recent, 600, 'thinning: every sample of the last hour kept');
ok($hours >= 240 && $hours <= 244, "thinning: two per minute before ($hours)");
is($per_min, 2, 'thinning: at most the lowest and the highest of a minute');
ok($days >= 24 && $days <= 26, "thinning: two per ten minutes before the last day ($days)");
is($maxlag, 59, 'thinning: the highest lag kept');
$dst->safe_psql('app', "DELETE FROM pgbaton.migration WHERE name = 'thin'");

# during the migration: in progress, verify not run, rows counted directly,
# the step under way timed so far
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'copying', done_at = NULL; DELETE FROM notes WHERE id > 30");
$r = run_pgbaton([ 'report', @conns ]);
is($r->{rc}, 0, 'report in progress: exit 0');
like($r->{stdout}, qr/^Status: \*\*IN PROGRESS\*\* \(phase copying\)$/m, 'in progress');
like($r->{stdout}, qr/^not run: the migration is in phase copying$/m, 'verify not run during the copy');
like($r->{stdout}, qr/^Not run \(it runs with verify\)\.$/m, 'no backup check during the copy');
like($r->{stdout}, qr/^\| public\.notes \| 40 \| 30 \| — \|$/m, 'rows counted on both sides');
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'indexing', indexes_done_at = NULL, "
	  . "streaming_at = NULL, cutover_started_at = NULL, copy_done_at = now() - interval '30 seconds'");
$r = run_pgbaton([ 'report', @conns, '--format', 'json' ]);
$j = eval { decode_json($r->{stdout}) } // {};
is($j->{timings_seconds}{indexes}, undef, 'json: the step under way has no duration yet');
cmp_ok($j->{timings_so_far_seconds}{indexes} // 0, '>=', 30, 'json: ... but its time so far');
is_deeply([ map { $_->{phase} } @{ $j->{phases} // [] } ], ['copy'], 'json: only the copy so far');
$r = run_pgbaton([ 'report', @conns ]);
like($r->{stdout}, qr/^\| indexes \| [^|]+ \| \d+\.\d s so far \|$/m, 'md: the step under way, so far');
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'failed'");
$r = run_pgbaton([ 'report', @conns ]);
like($r->{stdout}, qr/^Status: \*\*FAILED\*\* \(phase failed\)$/m, 'a failed migration is not "in progress"');

# no migration state on the target: say so
for my $case ([ 'no such migration', [ '--name', 'other' ] ], [ 'no state schema', [] ])
{
	my ($label, $extra) = @$case;
	$dst->safe_psql('app', 'DROP SCHEMA pgbaton CASCADE') if $label eq 'no state schema';
	$r = run_pgbaton([ 'report', @conns, @$extra, '-o', "$dir/none.md" ]);
	is($r->{rc}, 0, "$label: exit 0") or diag($r->{stderr});
	my $none = slurp_file("$dir/none.md");
	like($none, qr/^Status: \*\*no migration\*\*: the target holds no state of a migration named "\w+"/m,
		"$label: says there is no migration");
	unlike($none, qr/IN PROGRESS/, "$label: not \"in progress\"");
	ok(!-e "$dir/none-lag.svg", "$label: no chart");
	$r = run_pgbaton([ 'report', @conns, @$extra, '--format', 'json' ]);
	$j = eval { decode_json($r->{stdout}) } // {};
	is($j->{status}, 'none', "$label: json status none");
	is($j->{in_progress}, JSON::PP::false, "$label: json not in progress");
}

done_testing();
