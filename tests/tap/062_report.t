# report: every section, the lag chart beside the Markdown file, JSON with
# the series, "in progress" during a migration, and no secret: neither the
# connection password nor a value of a users table (password hashes).
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
INSERT INTO users (email, password_hash) SELECT 'u' || i || '\@example.com', '$HASH-' || i FROM generate_series(1, 30) i;
INSERT INTO notes SELECT i, 1 + i % 30, 'body ' || i FROM generate_series(1, 40) i;
SQL
$_->safe_psql('app', $tables) for ($src, $dst);
$dst->safe_psql('app', slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql"));
$dst->safe_psql('app', <<'SQL');
INSERT INTO pgbaton.migration (name, phase, slot_name, source_masked, target_masked,
    started_at, copy_started_at, copy_done_at, indexes_done_at, streaming_at,
    cutover_started_at, done_at, write_unavailable_ms)
VALUES ('pgbaton', 'done', 'pgbaton', 'postgres://migrator:****@src:5432/app',
    'postgres://migrator:****@dst:5432/app', '2026-01-01 10:00:00+00', '2026-01-01 10:00:05+00',
    '2026-01-01 10:10:00+00', '2026-01-01 10:12:00+00', '2026-01-01 10:12:00+00',
    '2026-01-01 11:00:00+00', '2026-01-01 11:00:02+00', 850);
INSERT INTO pgbaton.lag_sample (migration, at, lag_bytes, lag_seconds)
  SELECT 'pgbaton', '2026-01-01 10:12:00+00'::timestamptz + i * interval '1 minute', 1000 * (48 - i), (48 - i) / 4.0
  FROM generate_series(0, 47) i;
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
like($md, qr/^\| tables \| 2 \|$/m, 'tables counted');
like($md, qr/^\| indexes \| 4 \|$/m, 'indexes counted');
like($md, qr/^\| views \| 1 \|$/m, 'views counted');
like($md, qr/^Tables: `public\.notes`, `public\.users`$/m, 'list of tables');
like($md, qr/^\| public\.users \| 30 \| 30 \| equal \|$/m, 'rows per table with verify result');
like($md, qr/^## Verify$/m, 'verify section');
like($md, qr/^Result: \*\*equal\*\*/m, 'verify result');
like($md, qr/^\| public\.users \| ok \|  \|$/m, 'CRUD result');
like($md, qr/^\| copy \| 595\.0 s \|$/m, 'copy timing');
like($md, qr/^\| catch-up \| 2880\.0 s \|$/m, 'catch-up timing');
like($md, qr/^\| cutover \| 2\.0 s \|$/m, 'cutover timing');
like($md, qr/^\| write unavailability \| 850 ms \|$/m, 'write unavailability');
like($md, qr/^48 samples, maximum 12\.0 s, last 0\.2 s\.$/m, 'lag summary');
like($md, qr/^!\[lag over the run\]\(pgbaton-lag\.svg\)$/m, 'chart linked');
like($md, qr/^- \S+ \S+ warn: table public\.notes has no replica identity index$/m, 'warning listed');
unlike($md, qr/copy started/, 'info events are not warnings');
unlike($md, qr/HASHVALUE|\@example\.com/, 'no user-table value in the report');
my $svg = slurp_file("$dir/pgbaton-lag.svg");
like($svg, qr/^<svg .*<polyline [^>]*points="[0-9., ]+"/s, 'SVG chart with the series');

$r = run_pgbaton([ 'report', @conns, '--format', 'json' ]);
is($r->{rc}, 0, 'report json: exit 0');
my $j = eval { decode_json($r->{stdout}) };
ok($j, 'json parses') or diag($@);
is($j->{structure}{tables}, 2, 'json: tables');
is(scalar @{ $j->{lag} }, 48, 'json: lag series');
is($j->{timings_seconds}{cutover}, 2, 'json: cutover timing');
ok($j->{verify}{equal}, 'json: verify equal');
is($j->{in_progress}, JSON::PP::false, 'json: not in progress');
unlike($r->{stdout}, qr/HASHVALUE|\@example\.com/, 'json: no user-table value');

# during the migration: in progress, verify not run, rows counted directly
$dst->safe_psql('app', "UPDATE pgbaton.migration SET phase = 'copying', done_at = NULL; DELETE FROM notes WHERE id > 30");
$r = run_pgbaton([ 'report', @conns ]);
is($r->{rc}, 0, 'report in progress: exit 0');
like($r->{stdout}, qr/^Status: \*\*IN PROGRESS\*\* \(phase copying\)$/m, 'in progress');
like($r->{stdout}, qr/^not run: the migration is in phase copying$/m, 'verify not run during the copy');
like($r->{stdout}, qr/^\| public\.notes \| 40 \| 30 \| — \|$/m, 'rows counted on both sides');

done_testing();
