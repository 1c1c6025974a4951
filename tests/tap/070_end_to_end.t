# End to end with the real `start`: copy, streaming under writes from two
# roles, status, cutover with zero lost writes, writes refused afterwards
# (fresh and pre-existing sessions), sequences, verify, report, clean.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;
use File::Temp qw(tempfile);
use JSON::PP;

my $src = new_source();
my $dst = new_target();
$src->safe_psql('app', qq{
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	CREATE TABLE ledger (id bigserial PRIMARY KEY, who text NOT NULL DEFAULT current_user,
	                     amount numeric(20,2) NOT NULL, at timestamptz NOT NULL DEFAULT now());
	CREATE TABLE balance (who text PRIMARY KEY, total numeric(30,2) NOT NULL);
	INSERT INTO balance VALUES ('alice', 0), ('bob', 0);
	CREATE SEQUENCE standalone_seq;
	SELECT nextval('standalone_seq') FROM generate_series(1, 5);
	GRANT INSERT, SELECT, UPDATE ON ledger, balance TO alice, bob;
	GRANT USAGE ON SEQUENCE ledger_id_seq, standalone_seq TO alice, bob;
	INSERT INTO ledger (who, amount) SELECT 'seed', g FROM generate_series(1, 1000) g;
	CREATE MATERIALIZED VIEW ledger_totals AS SELECT who, count(*) AS n FROM ledger GROUP BY who;
});
set_password($src, $_, $PASSWORD) for qw(alice bob);
my @conns = ('-s', connstr($src), '-t', connstr($dst));
my $p = start_pgbaton([ 'start', @conns ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copied; streaming');

# two roles write through their own sessions (a new connection per
# transaction, as many applications do)
my ($fh, $script) = tempfile(SUFFIX => '.sql', UNLINK => 1);
print $fh "\\set amt random(1, 100)\nBEGIN;\n"
  . "INSERT INTO ledger (amount) VALUES (:amt);\n"
  . "UPDATE balance SET total = total + :amt WHERE who = current_user;\n"
  . "SELECT nextval('standalone_seq');\nCOMMIT;\n";
close $fh;
my %load;
for my $role (qw(alice bob))
{
	my ($o, $e) = ('', '');
	$load{$role} = {
		out => \$o,
		h => IPC::Run::start(
			[ 'pgbench', '-n', '-C', '-c', '2', '-T', '120', '-R', '100', '-f', $script,
			  '-h', '127.0.0.1', '-p', $src->port, '-U', $role, 'app' ],
			'>&', \$o, init => sub { $ENV{PGPASSWORD} = $PASSWORD; })
	};
}
ok(poll_until(sub { $src->safe_psql('app', "SELECT count(DISTINCT who) FROM ledger WHERE who <> 'seed'") eq '2' }, 30),
	'both roles are writing');

# a session opened before the cutover, idle in the middle of nothing
my $early = $src->background_psql('app', on_error_stop => 0);
$early->query_safe('SELECT 1');

# status while streaming
my $r = run_pgbaton([ 'status', @conns, '--json' ]);
is($r->{rc}, 0, 'status: healthy while streaming');
my $st = decode_json($r->{stdout});
is($st->{phase}, 'streaming', 'status: phase streaming');
ok(defined $st->{lag_bytes}, 'status: lag in bytes');

$r = run_pgbaton([ 'cutover', @conns, '--max-lag', '2s', '--timeout', '60s' ]);
is($r->{rc}, 0, 'cutover succeeds under load') or diag($r->{stdout}, $r->{stderr});
like($r->{stdout}, qr/the target is ready/, 'cutover says the target is ready');
my $fin = finish_pgbaton($p);
is($fin->{rc}, 0, 'start stopped by itself after the cutover');

for my $role (qw(alice bob))
{
	$load{$role}{h}->kill_kill;
	$load{$role}{h}->finish;
}

# zero lost writes: the frozen source is final; the target must equal it
is(table_hash($dst, 'ledger'), table_hash($src, 'ledger'), 'ledger: every committed write is on the target');
is(table_hash($dst, 'balance'), table_hash($src, 'balance'), 'balance: equal');
is($dst->safe_psql('app', "SELECT sum(amount) FROM ledger WHERE who <> 'seed'"),
	$src->safe_psql('app', "SELECT sum(total) FROM balance"), 'ledger and balances agree on the target');

# the source refuses writes: a fresh session, for each role, and the early one
for my $role (qw(alice bob))
{
	my ($ok, $o, $e) = (undef, '', '');
	$ok = IPC::Run::run([ 'psql', '-X', '-h', '127.0.0.1', '-p', $src->port, '-U', $role, '-d', 'app',
			'-c', 'INSERT INTO ledger (amount) VALUES (1)' ], '>', \$o, '2>', \$e,
		init => sub { $ENV{PGPASSWORD} = $PASSWORD; });
	ok(!$ok, "a fresh $role session cannot write");
	like($e, qr/read-only transaction/, "$role: refused as read-only");
}
my ($eo, $ee) = ('', '');
my $early_ok = eval { $early->query_safe('INSERT INTO ledger (amount) VALUES (1)'); 1 };
ok(!$early_ok, 'a session opened before the cutover cannot write either');
eval { $early->quit };

# sequences
is($dst->safe_psql('app', "SELECT last_value FROM standalone_seq"),
	$src->safe_psql('app', "SELECT last_value FROM standalone_seq"), 'standalone sequence copied');
is($dst->safe_psql('app', "SELECT last_value FROM ledger_id_seq"),
	$src->safe_psql('app', "SELECT last_value FROM ledger_id_seq"), 'owned sequence copied');

is($dst->safe_psql('app', "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'ledger_totals'"),
	't', 'materialized view refreshed on the target at cutover');
is($dst->safe_psql('app', "SELECT string_agg(who || n, ',' ORDER BY who) FROM ledger_totals"),
	$dst->safe_psql('app', "SELECT string_agg(who || n, ',' ORDER BY who) FROM "
		  . "(SELECT who, count(*) AS n FROM ledger GROUP BY who) x"),
	'materialized view holds the current data');

$r = run_pgbaton([ 'verify', @conns ]);
is($r->{rc}, 0, 'verify after cutover: equal') or diag($r->{stdout});

$r = run_pgbaton([ 'status', @conns, '--json' ]);
is(decode_json($r->{stdout})->{phase}, 'done', 'status: done');

# the audit trail: every action, in order, on the server it touched
$r = run_pgbaton([ 'status', @conns, '--json', '--events' ]);
my @acts = @{ decode_json($r->{stdout})->{actions} // [] };
my @order = map { "$_->{server} $_->{action}" } @acts;
my @want = ('source slot created', 'target schema restored (pre-data)', 'target table copied',
	'target schema restored (post-data)', 'source source frozen', 'source fence written',
	'target fence applied', 'target sequences set', 'target materialized view refreshed',
	'target row counts compared', 'target migration done');
my $at = -1;
for my $w (@want)
{
	my ($i) = grep { $order[$_] eq $w && $_ > $at } 0 .. $#order;
	ok(defined $i, "audit trail: '$w', after the actions before it") or diag(join("\n", @order));
	$at = $i if defined $i;
}
is(scalar(grep { $_->{outcome} ne 'ok' } @acts), 0, 'audit trail: every action succeeded');
my @copied = grep { $_->{action} eq 'table copied' } @acts;
my @untimed = grep { !defined $_->{duration_ms} || ($_->{detail} // '') !~ /^\d+ rows, \d+ bytes/ }
  @copied;
ok(@copied >= 2 && !@untimed, 'audit trail: each table copied, with its rows, bytes and time');
my ($frozen) = grep { $_->{action} eq 'source frozen' } @acts;
like($frozen->{detail} // '', qr/\d+ session\(s\) that could write ended/,
	'audit trail: the freeze says how many sessions it ended');
like(run_pgbaton([ 'status', @conns, '--events' ])->{stdout},
	qr/^actions \(\d+\):\n(  \S+Z  (source|target) .*\n)+/m, 'status --events lists them');

my $dir = PostgreSQL::Test::Utils::tempdir();
$r = run_pgbaton([ 'report', @conns, '-o', "$dir/report.md" ]);
is($r->{rc}, 0, 'report written');
my $md = PostgreSQL::Test::Utils::slurp_file("$dir/report.md");
like($md, qr/write.unavailab/i, 'report: write-unavailability');
like($md, qr/^## Actions\n\n\| time \(UTC\) \| server \| action .*\n.*\n(\| .* \|\n){11,}/m,
	'report: the Actions section lists the audit trail');
like($md, qr/^\| \S+ \| source \| source frozen \| app \| ok \|/m, 'report: the freeze is an action');
unlike($md, qr/\Q$PASSWORD\E/, 'report: no password');

for my $i (1, 2)
{
	$r = run_pgbaton([ 'clean', @conns ]);
	is($r->{rc}, 0, "clean run $i");
}
is($dst->safe_psql('app', "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbaton'"), '0',
	'clean removed the state');
is($src->safe_psql('app', "SELECT count(*) FROM pg_replication_slots"), '0', 'clean removed the slot');

# the servers log every statement (and every connection): nothing pgbaton
# sent them, nor the test's own setup, carries the password
for my $node ($src, $dst)
{
	unlike(PostgreSQL::Test::Utils::slurp_file($node->logfile), qr/\Q$PASSWORD\E/,
		$node->name . ': no password in the server log');
}
done_testing();
