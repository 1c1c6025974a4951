# tests/tap/lib/PgbatonTest.pm — shared helpers for pgbaton's integration tests.
#
# Starts real PostgreSQL 15 servers on 127.0.0.1 (PostgreSQL::Test::Cluster),
# with password authentication, a superuser "migrator" whose password is
# $PgbatonTest::PASSWORD, and wal2json allowed on sources. run_pgbaton()
# runs the binary under test and asserts that the test password never appears
# in what it prints.
package PgbatonTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(new_source new_target connstr run_pgbaton poll_until $PASSWORD $BIN);

our $PASSWORD = 'Tr0ub4dor&3-x9Q';   # must never be printed by pgbaton
our $BIN      = $ENV{PGBATON_BIN} or die "PGBATON_BIN is not set (run through scripts/run-tap.sh)";

# Does this server know output_plugin_libraries (PostgreSQL 15.19+)?
sub _knows_plugin_allowlist
{
	my $out = `postgres --describe-config 2>/dev/null`;
	return $out =~ /^output_plugin_libraries\t/m;
}

sub _configure
{
	my ($node, %opt) = @_;
	my $conf = "listen_addresses = '127.0.0.1'\n"
	  . "password_encryption = 'scram-sha-256'\n"
	  . "log_min_messages = warning\n";
	$conf .= "max_replication_slots = 10\nmax_wal_senders = 10\n" if $opt{logical};
	$conf .= "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'\n"
	  if $opt{allow_wal2json} && _knows_plugin_allowlist();
	$conf .= $opt{extra_conf} if $opt{extra_conf};
	$node->append_conf('postgresql.conf', $conf);
	# TCP connections need a password: our lines go FIRST (the framework
	# writes trust lines for 127.0.0.1 too, and the first match wins); the
	# framework's own Unix socket stays trusted for $node->psql().
	my $hba = $node->data_dir . '/pg_hba.conf';
	open(my $in, '<', $hba) or die "cannot read $hba: $!";
	my $old = do { local $/; <$in> };
	close $in;
	open(my $out, '>', $hba) or die "cannot write $hba: $!";
	print $out "host all all 127.0.0.1/32 scram-sha-256\n"
	  . "host replication all 127.0.0.1/32 scram-sha-256\n"
	  . $old;
	close $out;
}

sub _new_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init($opt{logical} ? (allows_streaming => 'logical') : ());
	_configure($node, %opt);
	$node->start;
	$node->safe_psql('postgres',
		"CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '$PASSWORD'");
	$node->safe_psql('postgres', "CREATE DATABASE app");
	return $node;
}

# A source: wal_level=logical, wal2json allowed (unless allow_wal2json => 0).
sub new_source
{
	my (%opt) = @_;
	return _new_node($opt{name} // 'source',
		logical        => $opt{logical} // 1,
		allow_wal2json => $opt{allow_wal2json} // 1,
		extra_conf     => $opt{extra_conf});
}

# A target: an ordinary server.
sub new_target
{
	my (%opt) = @_;
	return _new_node($opt{name} // 'target', logical => 0, extra_conf => $opt{extra_conf});
}

# Connection string to NODE over TCP. Options: dbname (app), user (migrator),
# password ($PASSWORD; undef for none), style ('uri' or 'kv').
sub connstr
{
	my ($node, %o) = @_;
	my $db   = $o{dbname} // 'app';
	my $user = $o{user} // 'migrator';
	my $pw   = exists $o{password} ? $o{password} : $PASSWORD;
	my $port = $o{port} // $node->port;
	if (($o{style} // 'uri') eq 'kv')
	{
		my $s = "host=127.0.0.1 port=$port dbname=$db user=$user";
		$s .= " password='$pw'" if defined $pw;
		return $s;
	}
	my $cred = $user;
	if (defined $pw)
	{
		(my $enc = $pw) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord($1))/ge;
		$cred .= ":$enc";
	}
	return "postgres://$cred\@127.0.0.1:$port/$db";
}

# Run pgbaton with ARGS (array ref). Options: env (hash ref of extra
# environment), stdin, timeout (seconds, default 180). Returns a hash
# { rc, stdout, stderr }. Always asserts that no password was printed.
sub run_pgbaton
{
	my ($args, %o) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %{ $o{env} // {} });
	my $in = $o{stdin} // '';
	my $h = IPC::Run::start([ $BIN, @$args ], '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($o{timeout} // 180));
	$h->finish;
	my $rc = $h->result(0);
	my $label = join(' ', 'pgbaton', $args->[0] // '');
	unlike($out . $err, qr/\Q$PASSWORD\E/, "$label: no password in output");
	note("$label rc=$rc\nstdout:\n$out\nstderr:\n$err") if $ENV{PGBATON_TEST_VERBOSE};
	return { rc => $rc, stdout => $out, stderr => $err };
}

# Poll CODE (returns true when done) every 100 ms for up to TIMEOUT seconds.
sub poll_until
{
	my ($code, $timeout) = @_;
	$timeout //= 60;
	my $deadline = time() + $timeout;
	while (time() < $deadline)
	{
		return 1 if $code->();
		usleep(100_000);
	}
	return 0;
}

1;
