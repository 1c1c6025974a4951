# start says every warning of its preflight, and the report lists them:
# a source with an unlogged table, a materialized view and a large object;
# start prints each WARN as check does and records it in pgbaton.event
# (level 'warn') once; the apply error that stops start is recorded too
# (level 'error'); report lists both; a resumed start adds no warning again.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use PostgreSQL::Test::Utils;

my $src = new_source();
my $dst = new_target();
$src->safe_psql('app', q{
	CREATE TABLE acc (id int PRIMARY KEY, v text);
	INSERT INTO acc SELECT g, 'seed' FROM generate_series(1, 100) g;
	CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text);
	INSERT INTO scratch VALUES (1, 'x');
	CREATE MATERIALIZED VIEW acc_mv AS SELECT count(*) AS n FROM acc;
	CREATE TABLE nums (id int PRIMARY KEY, x numeric, f float8);
	SELECT lo_from_bytea(0, 'blob');
});
my @conns = ('-s', connstr($src), '-t', connstr($dst));
my $dir = PostgreSQL::Test::Utils::tempdir();

# what check says, for comparison
my $chk = run_pgbaton([ 'check', @conns ]);
is($chk->{rc}, 0, 'check: only WARNs') or diag($chk->{stdout}, $chk->{stderr});

# the WARNs of a check report (human form): id => the one-line event text
sub warns_of
{
	my ($text) = @_;
	my %w;
	while ($text =~ /^WARN +(\S+) +(.*)(?:\n {6}fix: (.*))?$/mg)
	{
		$w{$1} = defined $3 ? "$1: $2; fix: $3" : "$1: $2";
	}
	return %w;
}
my %check_warns = warns_of($chk->{stdout});

sub events
{
	my ($level) = @_;
	my $out = $dst->safe_psql('app',
		"SELECT message FROM pgbaton.event WHERE migration = 'pgbaton' AND level = '$level' ORDER BY at, message");
	my @m = $out eq '' ? () : split /\n/, $out;
	return @m;
}

# --- a fresh start: the WARNs are printed, then recorded --------------------
my $p = start_pgbaton([ 'start', @conns ]);
ok(wait_phase($dst, 'pgbaton', 'streaming', process => $p), 'copied; streaming');
my $out = slurp_file("$p->{dir}/out");
my %start_warns = warns_of($out);
like($out, qr/^WARN +unlogged-tables +.*public\.scratch\n {6}fix: /m, 'start prints the unlogged table WARN');
like($out, qr/^WARN +materialized-views +.*public\.acc_mv\n {6}fix: /m, 'start prints the materialized view WARN');
like($out, qr/^WARN +large-objects +1 large object.*\n {6}fix: /m, 'start prints the large object WARN');
like($out, qr/^check: \d+ passed, \d+ warnings, 0 failed$/m, 'start prints the summary line as check does');
is_deeply([ sort keys %start_warns ], [ sort keys %check_warns ], 'start prints the WARNs check prints');
my @warn_events = events('warn');
is(scalar @warn_events, scalar keys %start_warns, 'one warn event per WARN printed')
  or diag(join("\n", @warn_events));
for my $id (sort keys %start_warns)
{
	is(scalar(grep { $_ eq $start_warns{$id} } @warn_events), 1, "event: the $id WARN as printed, once");
}
ok(scalar(grep { /^unlogged-tables: .*public\.scratch/ } @warn_events), 'event names the unlogged table');
ok(scalar(grep { /^materialized-views: .*public\.acc_mv/ } @warn_events), 'event names the materialized view');
ok(scalar(grep { /^large-objects: 1 large object/ } @warn_events), 'event counts the large object');
is(scalar(events('error')), 0, 'no error event while all is well');

my $r = run_pgbaton([ 'report', @conns, '-o', "$dir/report1.md" ]);
is($r->{rc}, 0, 'report while streaming') or diag($r->{stderr});
my $md = slurp_file("$dir/report1.md");
my ($warnings) = $md =~ /^## Warnings\n\n(.*)\z/ms;
$warnings //= '';
unlike($warnings, qr/None recorded/, 'report: warnings recorded');
for my $id (sort keys %start_warns)
{
	like($warnings, qr/^- \S+ \S+ warn: \Q$start_warns{$id}\E$/m, "report lists the $id WARN");
}

# --- an apply error stops start: recorded as an error event -----------------
$dst->safe_psql('app', "INSERT INTO acc VALUES (1001, 'target-only')");
$src->safe_psql('app', "INSERT INTO acc VALUES (1001, 'source')");
ok(wait_exited($p, 120), 'start stops by itself on the rejected insert');
my $fin = finish_pgbaton($p);
is($fin->{rc}, 1, 'rejected insert: exit 1');
like($fin->{stderr}, qr/target rejected INSERT on "public"\."acc" with key \(id\)=\(1001\)/,
	'start names the rejected change');
my @errors = events('error');
is(scalar @errors, 1, 'one error event') or diag(join("\n", @errors));
like($errors[0] // '', qr/target rejected INSERT on "public"\."acc" with key \(id\)=\(1001\)/,
	'the error event says what stopped start');
is(scalar(events('warn')), scalar keys %start_warns, 'the warnings are still there, once each');

# --- resumed once the cause is gone: no warning recorded twice --------------
$dst->safe_psql('app', 'DELETE FROM acc WHERE id = 1001');
$p = start_pgbaton([ 'start', @conns ]);
ok(poll_until(sub { $dst->safe_psql('app', 'SELECT v FROM acc WHERE id = 1001') eq 'source' }, 120,
		'the resumed start to apply the insert'),
	'resumed start applied the insert');
ok(wait_applied($src, $dst, 120), 'target caught up with the source');
is(scalar(events('warn')), scalar keys %start_warns, 'resumed start: no warning recorded twice');
is(scalar(events('error')), 1, 'resumed start: no new error');

$r = run_pgbaton([ 'report', @conns, '-o', "$dir/report2.md" ]);
is($r->{rc}, 0, 'report after the error') or diag($r->{stderr});
$md = slurp_file("$dir/report2.md");
($warnings) = $md =~ /^## Warnings\n\n(.*)\z/ms;
$warnings //= '';
unlike($warnings, qr/None recorded/, 'report: not "None recorded"');
like($warnings, qr/^- \S+ \S+ error: target rejected INSERT on "public"\."acc" with key \(id\)=\(1001\)/m,
	'report lists the apply error');
for my $id (sort keys %start_warns)
{
	my @n = $warnings =~ /^- \S+ \S+ warn: \Q$start_warns{$id}\E$/mg;
	is(scalar @n, 1, "report lists the $id WARN once");
}

$fin = finish_pgbaton($p, signal => 'TERM');
is($fin->{rc}, 0, 'resumed start: exit 0 on TERM');
done_testing();
