# tests/tap/lib/PgbatonTest.pm — shared helpers for pgbaton's integration tests.
#
# Starts real PostgreSQL 15 servers on 127.0.0.1 (PostgreSQL::Test::Cluster),
# with password authentication, a superuser "migrator" whose password is
# $PgbatonTest::PASSWORD, and wal2json allowed on sources. run_pgbaton()
# runs the binary under test and asserts that the test password never appears
# in what it prints.
#
# Decoder: with PGBATON_TEST_PLUGIN set (wal2json or pgoutput; run-tap.sh
# runs the stream tests once with each), every `pgbaton start` the helpers
# run gets --plugin that (wal2json also --accept-nan-as-null: tests of exact
# NaN ask for the plugin themselves), and setup_streaming makes a slot (and
# for pgoutput a publication) of that plugin. Unset: start chooses (auto),
# setup_streaming uses wal2json. $PgbatonTest::PLUGIN says which.
package PgbatonTest;

use strict;
use warnings;
use Carp qw(croak);
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(new_source new_target connstr run_pgbaton poll_until $PASSWORD $BIN
  set_password start_pgbaton finish_pgbaton wait_phase table_hash
  setup_streaming spawn_start stop_pgbaton wait_applied wait_exited compare_tables $PLUGIN
  signal_pgbaton wait_streaming wait_query ledger_setup ledger_load_start ledger_load_stop
  compare_ledger trigger_modes);

our $PASSWORD = 'Tr0ub4dor&3-x9Q';   # must never be printed by pgbaton
our $BIN      = $ENV{PGBATON_BIN} or die "PGBATON_BIN is not set (run through scripts/run-tap.sh)";
our $PLUGIN   = $ENV{PGBATON_TEST_PLUGIN} // '';
die "PGBATON_TEST_PLUGIN must be wal2json or pgoutput" if $PLUGIN !~ /^(|wal2json|pgoutput)$/;

# ARGS (array ref) with the decoder of PGBATON_TEST_PLUGIN added to a
# `start` that names none.
sub _with_plugin
{
	my ($args) = @_;
	return $args if !$PLUGIN || ($args->[0] // '') ne 'start' || grep { /^--plugin/ } @$args;
	my @extra = ('--plugin', $PLUGIN);
	push @extra, '--accept-nan-as-null' if $PLUGIN eq 'wal2json';
	return [ $args->[0], @extra, @{$args}[ 1 .. $#$args ] ];
}

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
	  . "max_replication_slots = 10\nmax_wal_senders = 10\n"
	  . "log_min_messages = warning\n";
	# init() without allows_streaming sets wal_level = minimal, which refuses
	# max_wal_senders > 0: non-logical nodes get replica
	$conf .= "wal_level = replica\n" unless $opt{logical};
	$conf .= "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'\n"
	  if $opt{allow_wal2json} && _knows_plugin_allowlist();
	$conf .= $opt{extra_conf} if $opt{extra_conf};
	$node->append_conf('postgresql.conf', $conf);
	# TCP with passwords; the framework's own socket stays trusted for psql().
	# initdb -A trust already wrote "host ... 127.0.0.1/32 trust" lines and
	# the first matching line wins, so ours go first.
	my $hba = $node->data_dir . '/pg_hba.conf';
	my $old = PostgreSQL::Test::Utils::slurp_file($hba);
	open(my $fh, '>', $hba) or die "cannot write $hba: $!";
	print $fh "host all all 127.0.0.1/32 scram-sha-256\n"
	  . "host replication all 127.0.0.1/32 scram-sha-256\n"
	  . $old;
	close $fh;
}

sub _new_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init($opt{logical} ? (allows_streaming => 'logical') : ());
	_configure($node, %opt);
	$node->start;
	$node->safe_psql('postgres', "CREATE ROLE migrator LOGIN SUPERUSER REPLICATION");
	set_password($node, 'migrator', $PASSWORD);
	$node->safe_psql('postgres', "CREATE DATABASE app");
	return $node;
}

# set_password(node, role, password): give ROLE its PASSWORD without the
# statement reaching the server's log (the test servers log every
# statement; a password is kept out of logs like everywhere else). psql
# sends the two statements one by one, so the SET applies to the second.
sub set_password
{
	my ($node, $role, $pw) = @_;
	(my $lit = $pw) =~ s/'/''/g;
	$node->safe_psql('postgres',
		"SET log_statement = 'none';\nALTER ROLE \"$role\" PASSWORD '$lit'");
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
	$args = _with_plugin($args);
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

# Poll CODE (returns true when done) every 100 ms for up to TIMEOUT seconds
# (default 60). True when CODE returned true; on timeout, false, with a diag
# naming WHAT was awaited (a description; optional). The result must be
# checked (ok(poll_until(...), ...)): called in void context, it dies.
sub poll_until
{
	my ($code, $timeout, $what) = @_;
	croak 'poll_until: its result must be checked' unless defined wantarray;
	$timeout //= 60;
	my $deadline = time() + $timeout;
	while (time() < $deadline)
	{
		return 1 if $code->();
		usleep(100_000);
	}
	# one last look: the condition may have come true during the last sleep
	return 1 if $code->();
	diag('timed out after ' . $timeout . ' s waiting for ' . ($what // 'a condition'));
	return 0;
}

# Start pgbaton in the background with ARGS (array ref); its output goes to
# files (so it never blocks on a full pipe). Options: env. Returns a handle
# for wait_phase / finish_pgbaton.
sub start_pgbaton
{
	my ($args, %o) = @_;
	$args = _with_plugin($args);
	my $dir = PostgreSQL::Test::Utils::tempdir();
	local %ENV = (%ENV, %{ $o{env} // {} });
	my $h = IPC::Run::start([ $BIN, @$args ], '<', '/dev/null', '>', "$dir/out", '2>', "$dir/err");
	return { h => $h, dir => $dir, label => join(' ', 'pgbaton', $args->[0] // '') };
}

# Stop (signal => 'TERM' / 'KILL', or none: wait up to timeout => seconds,
# default 180) a start_pgbaton process and return { rc, signal, stdout,
# stderr } like run_pgbaton (asserting no password); signal is the number
# of the signal that ended it (0: it exited). When it was given no signal
# and has not exited in time, that is a test failure: it is killed.
sub finish_pgbaton
{
	my ($p, %o) = @_;
	if ($o{signal})
	{
		$p->{h}->signal($o{signal}) if $p->{h}->pumpable;
	}
	elsif (!wait_exited($p, $o{timeout} // 180))
	{
		fail("$p->{label}: exits by itself");
		$p->{h}->kill_kill;
	}
	$p->{h}->finish;
	my $rc  = $p->{h}->result(0);
	my $sig = $p->{h}->full_result(0) & 127;
	my $out = PostgreSQL::Test::Utils::slurp_file("$p->{dir}/out");
	my $err = PostgreSQL::Test::Utils::slurp_file("$p->{dir}/err");
	unlike($out . $err, qr/\Q$PASSWORD\E/, "$p->{label}: no password in output");
	note("$p->{label} rc=$rc\nstdout:\n$out\nstderr:\n$err") if $ENV{PGBATON_TEST_VERBOSE};
	return { rc => $rc, signal => $sig, stdout => $out, stderr => $err };
}

# Wait up to TIMEOUT seconds (default 60) for a start_pgbaton or spawn_start
# process P to exit by itself (it is not reaped: finish_pgbaton or
# stop_pgbaton does that). True when it exited; false, with a diag, when it
# is still running. The result must be checked.
sub wait_exited
{
	my ($p, $timeout) = @_;
	croak 'wait_exited: its result must be checked' unless defined wantarray;
	$timeout //= 60;
	my $h = $p->{h};
	return 1 if poll_until(
		sub {
			return 1 unless $h->pumpable;
			eval { $h->pump_nb };
			return !$h->pumpable;
		},
		$timeout,
		($p->{label} // 'pgbaton') . ' to exit by itself');
	my $err = ref $p->{err} ? ${ $p->{err} }
	  : $p->{dir} ? PostgreSQL::Test::Utils::slurp_file("$p->{dir}/err") : '';
	$err = '...' . substr($err, -4000) if length($err) > 4000;
	diag("its stderr so far:\n$err");
	return 0;
}

# Wait until migration NAME on TARGET reaches PHASE (or the process P, when
# given, has exited). True when the phase was reached; otherwise false, with
# a diag saying what the phase was and whether the process had exited. The
# result must be checked.
sub wait_phase
{
	my ($target, $name, $phase, %o) = @_;
	croak 'wait_phase: its result must be checked' unless defined wantarray;
	my $p = $o{process};
	my $timeout = $o{timeout} // 180;
	my ($reached, $seen, $exited) = (0, '', 0);
	my $deadline = time() + $timeout;
	while (1)
	{
		my $out = '';
		$target->psql($o{dbname} // 'app', "SELECT phase FROM pgbaton.migration WHERE name = '$name'",
			stdout => \$out);
		$seen = $out // '';
		$reached = $seen eq $phase;
		last if $reached;
		# the process may have exited just after writing the phase: one
		# more look after seeing it gone
		last if $exited;
		$exited = 1 if $p && !$p->{h}->pumpable;
		next if $exited;
		last if time() >= $deadline;
		usleep(100_000);
	}
	diag("migration $name did not reach phase $phase"
		  . ($exited ? ': pgbaton exited' : " within $timeout s")
		  . " (phase: " . ($seen eq '' ? 'none' : $seen) . ')')
	  unless $reached;
	return $reached;
}

# Row count and an order-independent hash of TABLE's rows on NODE, computed
# the same way on both sides.
sub table_hash
{
	my ($node, $table) = @_;
	return $node->safe_psql('app',
		"SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(t::text), '' "
		  . "ORDER BY md5(t::text))), '-') FROM $table t");
}

# Streaming without the copy: create SCHEMA (SQL run on both sides), the
# slot (of $PLUGIN, default wal2json; pgoutput also gets a publication
# FOR ALL TABLES) on SRC, pgbaton's state schema on DST and the migration
# row in phase 'streaming' at the slot's confirmed_flush_lsn.
# Options: schema (SQL), name ('pgbaton'), data (SQL run on both sides
# before the slot is created, as the copy would have), options (the JSON a
# first `start` stores: {"filters":{...}}), tables (names 'schema.table':
# their pgbaton.table_state rows as the copy leaves them, state 'indexed',
# rows and size as on DST, not analyzed yet).
sub setup_streaming
{
	my ($src, $dst, %opt) = @_;
	my $name = $opt{name} // 'pgbaton';
	for my $n ($src, $dst)
	{
		$n->safe_psql('app', $opt{schema}) if $opt{schema};
		$n->safe_psql('app', $opt{data})   if $opt{data};
	}
	my $plugin = $PLUGIN || 'wal2json';
	# pgoutput: the publication start would make (superuser: FOR ALL TABLES),
	# before the slot
	$src->safe_psql('app',
		"CREATE PUBLICATION $name FOR ALL TABLES; "
		  . "COMMENT ON PUBLICATION $name IS 'pgbaton migration $name'")
	  if $plugin eq 'pgoutput';
	$src->safe_psql('app',
		"SELECT pg_create_logical_replication_slot('$name', '$plugin')");
	my $lsn = $src->safe_psql('app',
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$name'");
	my $root = $ENV{PGBATON_ROOT} or die "PGBATON_ROOT is not set";
	open(my $fh, '<', "$root/sql/state_schema.sql") or die "state_schema.sql: $!";
	my $state = do { local $/; <$fh> };
	close $fh;
	$dst->safe_psql('app', $state);
	$dst->safe_psql('app',
		"INSERT INTO pgbaton.migration (name, phase, slot_name, consistent_lsn, applied_lsn, options, "
		  . "plugin, publication) VALUES ('$name', 'streaming', '$name', '$lsn', '$lsn', "
		  . ($opt{options} ? "'$opt{options}'" : 'NULL') . ", '$plugin', "
		  . ($plugin eq 'pgoutput' ? "'$name'" : 'NULL') . ")");
	for my $t (@{ $opt{tables} // [] })
	{
		my ($schema, $table) = split /\./, $t, 2;
		my $rows = $dst->safe_psql('app', "SELECT count(*) FROM $t");
		$dst->safe_psql('app',
			"INSERT INTO pgbaton.table_state (migration, schema_name, table_name, size_bytes, est_rows, "
			  . "rows_copied, bytes_copied, state, started_at, copied_at, indexed_at) VALUES ('$name', "
			  . "'$schema', '$table', pg_table_size('$t'), $rows, $rows, pg_table_size('$t'), 'indexed', "
			  . "now(), now(), now())");
	}
	return $lsn;
}

# Run `pgbaton start` from SRC to DST (or ARGS; with BIN, that binary) in the background. Returns a
# handle hash: { h, out, err } (out/err are scalar refs filled as it runs);
# stop it with stop_pgbaton.
sub spawn_start
{
	my ($src, $dst, %o) = @_;
	my $args = _with_plugin($o{args} // [ 'start', '-s', connstr($src), '-t', connstr($dst),
		@{ $o{extra} // [] } ]);
	my ($out, $err) = ('', '');
	my $in = '';
	my $h = IPC::Run::start([ $o{bin} // $BIN, @$args ], '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout($o{timeout} // 600));
	return { h => $h, out => \$out, err => \$err, label => 'pgbaton ' . ($args->[0] // '') };
}

# Send SIG (default TERM) to a background pgbaton and wait for it; returns
# its exit code (undef when killed by a signal). Asserts no password leaked.
sub stop_pgbaton
{
	my ($p, $sig) = @_;
	$sig //= 'TERM';
	$p->{h}->signal($sig) if $p->{h}->pumpable;
	eval { $p->{h}->finish };
	my $full = $p->{h}->full_result(0);
	unlike(${ $p->{out} } . ${ $p->{err} }, qr/\Q$PASSWORD\E/, "start: no password in output");
	note("pgbaton stderr:\n" . ${ $p->{err} }) if $ENV{PGBATON_TEST_VERBOSE};
	return ($full & 127) ? undef : ($full >> 8);
}

# Wait until the target's applied_lsn reaches the source's current WAL
# position (taken now). True on success; on timeout false, with a diag
# naming both positions. The result must be checked.
sub wait_applied
{
	my ($src, $dst, $timeout, $name) = @_;
	croak 'wait_applied: its result must be checked' unless defined wantarray;
	$name //= 'pgbaton';
	$timeout //= 60;
	my $lsn = $src->safe_psql('app', 'SELECT pg_current_wal_lsn()');
	my $applied = '';
	return 1 if poll_until(
		sub {
			$applied = $dst->safe_psql('app',
				"SELECT coalesce(applied_lsn::text, 'none'), coalesce(applied_lsn >= '$lsn', false) "
				  . "FROM pgbaton.migration WHERE name = '$name'");
			return $applied =~ /\|t$/;
		},
		$timeout,
		"migration $name to apply the source up to $lsn");
	diag("applied_lsn of migration $name: " . ($applied eq '' ? 'no migration row' : (split /\|/, $applied)[0]));
	return 0;
}

# Send signal SIG ('STOP', 'CONT', 'TERM', 'KILL', ...) to a running
# start_pgbaton or spawn_start process P without waiting for it (reap it
# with finish_pgbaton / stop_pgbaton). SIGSTOP freezes a running `start`
# exactly where it is: it applies nothing and writes no heartbeat until
# SIGCONT, while its sessions stay open. Dies when P has already exited.
sub signal_pgbaton
{
	my ($p, $sig) = @_;
	croak "signal_pgbaton: $p->{label} has already exited" unless $p->{h}->pumpable;
	$p->{h}->signal($sig);
	return 1;
}

# Wait until `start` P (start_pgbaton or spawn_start) streams migration NAME
# (default 'pgbaton') from SRC to DST, has applied the source up to its
# current position, has given a sign of life (alive_at, which a migration
# made by setup_streaming lacks until start runs: a cutover waits for it)
# and has applied a heartbeat (heartbeat_source_ts: until then lag in
# seconds is unknown, and a cutover waits for it too; start's keepalive
# writes alive_at before the applier's first commit). True on success;
# false with a diag. The result must be checked.
sub wait_streaming
{
	my ($src, $dst, $p, %o) = @_;
	croak 'wait_streaming: its result must be checked' unless defined wantarray;
	my $name = $o{name} // 'pgbaton';
	return wait_phase($dst, $name, 'streaming', process => $p, timeout => $o{timeout})
	  && wait_applied($src, $dst, $o{timeout} // 60, $name)
	  && wait_query($dst,
		"SELECT now() - alive_at < interval '10 s' AND heartbeat_source_ts IS NOT NULL "
		  . "FROM pgbaton.migration WHERE name = '$name'",
		't', "start's sign of life and an applied heartbeat in migration $name", $o{timeout});
}

# Poll SQL on NODE (database app) until it returns WANT (a string, or a
# regexp); up to TIMEOUT seconds (default 60). True when it did; false,
# with a diag naming WHAT and the last answer. The result must be checked.
sub wait_query
{
	my ($node, $sql, $want, $what, $timeout) = @_;
	croak 'wait_query: its result must be checked' unless defined wantarray;
	my $got = '';
	my $match = sub { ref $want eq 'Regexp' ? $got =~ $want : $got eq $want };
	return 1 if poll_until(
		sub {
			my $out = '';
			$node->psql('app', $sql, stdout => \$out);
			$got = $out // '';
			return $match->();
		},
		$timeout // 60,
		$what // $sql);
	diag("last answer: '$got'");
	return 0;
}

# --- a workload that keeps a ledger (the fault matrix, 110_fault_matrix.t) ---

# The pgbench custom script of ledger_load_start: a TPC-B-like transaction
# that also appends one row to the ledger (the client and the transaction's
# id): the ledger lists every transaction the source committed.
my $LEDGER_SCRIPT = <<'PGBENCH';
\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
INSERT INTO ledger (client, txid) VALUES (:client_id, txid_current());
END;
PGBENCH

# ledger_setup(node, scale => S (default 1), dbname => 'app'): pgbench's
# tables (pgbench -i; pgbench_history, which has no key, REPLICA IDENTITY
# FULL) and the ledger: no key either (REPLICA IDENTITY FULL), so that a
# transaction applied twice shows as a duplicate row instead of an error.
sub ledger_setup
{
	my ($node, %o) = @_;
	my $db = $o{dbname} // 'app';
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pgbench', '-i', '-q', '-s', $o{scale} // 1, '-h', $node->host, '-p',
			$node->port, $db ], '>', \$out, '2>', \$err)
	  or die "pgbench -i failed: $err";
	$node->safe_psql($db, q{
		ALTER TABLE pgbench_history REPLICA IDENTITY FULL;
		CREATE TABLE ledger (client int NOT NULL, txid bigint NOT NULL,
		                     at timestamptz NOT NULL DEFAULT clock_timestamp());
		ALTER TABLE ledger REPLICA IDENTITY FULL;
	});
}

# Run the ledger workload on NODE in the background: pgbench with CLIENTS
# (default 2) clients at RATE (default 30) transactions per second, until
# ledger_load_stop (or until its sessions are ended: a cutover's freeze
# does that). Returns a handle.
sub ledger_load_start
{
	my ($node, %o) = @_;
	my $script = "$PostgreSQL::Test::Utils::tmp_check/ledger.pgbench";
	if (!-e $script)
	{
		open(my $fh, '>', $script) or die "$script: $!";
		print $fh $LEDGER_SCRIPT;
		close $fh;
	}
	my $clients = $o{clients} // 2;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', $clients, '-j', $clients, '-R', $o{rate} // 30, '-T', 3600,
			'-f', $script, '-h', $node->host, '-p', $node->port, $o{dbname} // 'app' ],
		'<', '/dev/null', '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# Stop the workload L (whether it still runs or its sessions were ended);
# returns what pgbench printed.
sub ledger_load_stop
{
	my ($l) = @_;
	$l->{h}->signal('TERM') if $l->{h}->pumpable;
	eval { $l->{h}->finish };
	return ${ $l->{out} } . ${ $l->{err} };
}

# The ledger: every transaction the source committed is on the target, and
# only once (is() of the count and of a hash of the transaction ids, and
# no duplicate on the target). LABEL prefixes the assertions.
sub compare_ledger
{
	my ($src, $dst, $label) = @_;
	my $q = "SELECT count(*) || ' ' || coalesce(md5(string_agg(client || ':' || txid, ',' "
	  . "ORDER BY txid, client)), '-') FROM ledger";
	my $s = $src->safe_psql('app', $q);
	is($dst->safe_psql('app', $q), $s, "$label: ledger: every source transaction on the target");
	is($dst->safe_psql('app',
			'SELECT count(*) FROM (SELECT txid FROM ledger GROUP BY txid HAVING count(*) > 1) d'),
		'0', "$label: ledger: no transaction applied twice");
	cmp_ok((split / /, $s)[0], '>', 0, "$label: ledger: the workload committed transactions");
}

# The modes of NODE's user triggers (pg_trigger.tgenabled) and rules
# (pg_rewrite.ev_enabled), as one string, for comparing the two sides.
sub trigger_modes
{
	my ($node) = @_;
	return $node->safe_psql('app', q{
		SELECT coalesce(string_agg(x, ', ' ORDER BY x), '')
		  FROM (SELECT 'trigger ' || tgrelid::regclass || '.' || tgname || '=' || tgenabled::text AS x
		          FROM pg_trigger WHERE NOT tgisinternal
		        UNION ALL
		        SELECT 'rule ' || ev_class::regclass || '.' || rulename || '=' || ev_enabled::text
		          FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
		         WHERE r.rulename <> '_RETURN' AND c.relnamespace <> 'pg_catalog'::regnamespace
		           AND c.relnamespace <> 'information_schema'::regnamespace) m});
}

# is() the table_hash of each table on both sides.
sub compare_tables
{
	my ($src, $dst, @tables) = @_;
	for my $t (@tables)
	{
		is(table_hash($dst, $t), table_hash($src, $t), "$t: target equals source");
	}
}

1;
