# pgbaton check: connection failures (each with its own message and fix),
# passwords with special characters, and no password in the process list.
use strict;
use warnings;
use IO::Socket::INET;
use IPC::Run;
use PgbatonTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = new_source();
my $dst = new_target();

sub check
{
	my ($s, $t, %o) = @_;
	return run_pgbaton([ 'check', '-s', $s, '-t', $t, @{ $o{args} // [] } ]);
}

sub line_of
{
	my ($r, $id) = @_;
	return $r->{stdout} =~ /^((?:PASS|WARN|FAIL)\s+\Q$id\E\s.*(?:\n {6}fix: .*)?)$/m ? $1 : '';
}

# --- wrong password ---------------------------------------------------------------
my $wrong = 'Wr0ng-Secret-77';
for my $style (qw(uri kv))
{
	my $r = check(connstr($src, password => $wrong, style => $style), connstr($dst));
	is($r->{rc}, 3, "$style: wrong password: exit 3");
	like(line_of($r, 'source-connection'),
		qr/^FAIL .*authentication failed.*\n {6}fix: check the user name and password/,
		"$style: wrong password: authentication failed, with the fix");
	unlike($r->{stdout} . $r->{stderr}, qr/\Q$wrong\E/, "$style: wrong password not echoed");
	like(line_of($r, 'source-connection'), qr/\*\*\*\*/, "$style: masked string shown");
	like(line_of($r, 'target-connection'), qr/^PASS/, "$style: the target is still checked");
	unlike($r->{stdout}, qr/^\S+\s+source-wal-level/m, "$style: source checks skipped");
	unlike($r->{stdout}, qr/^\S+\s+(target-version|target-extensions|pg_dump)\s/m,
		"$style: checks needing the source skipped");
}

# --- unreachable port, unknown host, missing database, unknown role -------------
my $free_port = PostgreSQL::Test::Cluster::get_free_port();
my $r = check(connstr($src), connstr($dst, port => $free_port));
is($r->{rc}, 3, 'unreachable port: exit 3');
like(line_of($r, 'target-connection'), qr/^FAIL .*connection refused.*\n {6}fix: check the host and port/,
	'unreachable port: connection refused, with the fix');
like(line_of($r, 'source-connection'), qr/^PASS/, 'unreachable target: the source is still checked');
unlike($r->{stdout}, qr/^\S+\s+target-empty\s/m, 'target checks skipped');
like(line_of($r, 'source-wal-level'), qr/^PASS/, 'source checks still run');

$r = check("host=nonexistent.invalid port=5432 dbname=app user=migrator password='$PASSWORD'",
	connstr($dst));
is($r->{rc}, 3, 'unknown host: exit 3');
like(line_of($r, 'source-connection'), qr/^FAIL .*unknown host.*\n {6}fix: check the host name/,
	'unknown host: named, with the fix');

$r = check(connstr($src, dbname => 'nope'), connstr($dst));
is($r->{rc}, 3, 'missing database: exit 3');
like(line_of($r, 'source-connection'),
	qr/^FAIL .*database does not exist.*"nope".*\n {6}fix: check the database name/,
	'missing database: named, with the fix');

$r = check(connstr($src), connstr($dst, user => 'ghost'));
is($r->{rc}, 3, 'unknown role: exit 3');
like(line_of($r, 'target-connection'), qr/^FAIL .*(role does not exist|authentication failed)/,
	'unknown role: named');

# --- passwords with special characters -------------------------------------------
my $special = q{p@ss:w'rd x%1};
for my $node ($src, $dst)
{
	$node->safe_psql('postgres', "CREATE ROLE special LOGIN SUPERUSER REPLICATION");
	set_password($node, 'special', $special);
}
(my $kv_pw = $special) =~ s/(['\\])/\\$1/g;
my %strings = (
	uri => [ map { connstr($_, user => 'special', password => $special) } ($src, $dst) ],
	kv => [
		map { "host=127.0.0.1 port=" . $_->port . " dbname=app user=special password='$kv_pw'" }
		  ($src, $dst)
	],
);
for my $style (qw(uri kv))
{
	$r = check(@{ $strings{$style} });
	is($r->{rc}, 0, "$style: password with \@ : ' space works") or diag($r->{stdout});
	my $all = $r->{stdout} . $r->{stderr};
	unlike($all, qr/\Q$special\E/, "$style: special password never printed");
	unlike($all, qr/w'rd|w%27rd|w\\'rd/, "$style: no part of the special password printed");
}

# --- process list: the password never appears in /proc/PID/cmdline --------------
# A socket that accepts connections but never answers keeps check waiting
# for connect_timeout while we read its command line.
my $listener = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen    => 5,
	Proto     => 'tcp',
	ReuseAddr => 1) or die "listen: $!";
my $lport = $listener->sockport;
my @args = (
	'check',
	'-s', "host=127.0.0.1 port=$lport dbname=app user=migrator password='$PASSWORD' connect_timeout=5",
	'-t', connstr($dst));
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ $PgbatonTest::BIN, @args ], '<', \undef, '>', \$out, '2>', \$err,
	IPC::Run::timeout(60));
my $pid = $h->{KIDS}[0]{PID};
my $cmdline = '';
ok(
	poll_until(
		sub {
			open(my $fh, '<', "/proc/$pid/cmdline") or return 0;
			local $/;
			$cmdline = <$fh> // '';
			close $fh;
			$cmdline =~ tr/\0/ /;
			return $cmdline =~ /password=\*\*\*\*/ && $cmdline =~ m{migrator:\*\*\*\*\@};
		},
		30),
	'process list shows both connection strings masked') or diag($cmdline);
unlike($cmdline, qr/\Q$PASSWORD\E/, 'process list does not show the password');
unlike($cmdline, qr/Tr0ub4dor/, 'not even part of it');
$h->finish;
is($h->result(0), 3, 'silent server: exit 3');
like($out, qr/^FAIL\s+source-connection\s.*timed out.*\n {6}fix: check network reachability/m,
	'silent server: connection timed out, with the fix');
unlike($out . $err, qr/\Q$PASSWORD\E/, 'silent server: no password in output');
close $listener;

done_testing();
