# The fault matrix (issue 18; docs/testing.md): a live migration under
# concurrent writes, once per fault, then what the docs tell an operator to
# do (run `start` again, `start --restart`, `cutover` again, `abort`,
# `clean` again), and every time:
#   - the target equals the source, table by table (row count and content
#     hash), the unlogged table included;
#   - the ledger: every transaction the source committed is on the target,
#     exactly once;
#   - the modes of the user triggers and rules are the source's;
#   - the source is writable, unless a cutover completed (then read-only);
#   - after `clean`: no slot, no publication, no pgbaton schema.
# The workload is pgbench (PgbatonTest's ledger workload: a TPC-B-like
# transaction that appends one row per committed transaction to a ledger
# without key, so that a transaction applied twice would show). The schema
# adds an ENABLE ALWAYS trigger (it fires in replica sessions too: pgbaton
# must switch it off on the target, else its rows would double), an ENABLE
# REPLICA rule and an unlogged table.
#
# Faults: failpoints (PGBATON_FAILPOINT) that kill pgbaton (SIGKILL, nothing
# flushed) or make its next query on one side fail, at the step boundaries of
# start, the copy, the apply, the cutover, abort and clean; and faults of the
# surroundings: source and target restarted with -m immediate while
# streaming, the walsender and the apply session terminated, start stopped
# (SIGSTOP) for longer than wal_sender_timeout, the source restarted during
# the copy.
#
# make check runs the cases marked subset (each decoder, run-tap.sh);
# PGBATON_FAULTS=all (make check-faults) runs every case, and
# PGBATON_FAULTS=NAME,NAME... the cases of those names (no name holds a
# comma).
use strict;
use warnings;
use JSON::PP;
use PgbatonTest;
use Test::More;

# pgbaton's own application names (pgbaton apply, ...) instead of the
# framework's PGAPPNAME, to find the apply session
delete $ENV{PGAPPNAME};

my $src = new_source();
my $dst = new_target();
my @conn = ('-s', connstr($src), '-t', connstr($dst));

# The schema beside pgbench's tables and the ledger (ledger_setup).
my $EXTRA = q{
CREATE TABLE audit (id bigserial PRIMARY KEY, bid int NOT NULL, delta int NOT NULL);
CREATE FUNCTION audit_branch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO audit (bid, delta) VALUES (NEW.bid, NEW.bbalance - OLD.bbalance); RETURN NEW; END$$;
CREATE TRIGGER branch_audit AFTER UPDATE ON pgbench_branches
  FOR EACH ROW EXECUTE FUNCTION audit_branch();
ALTER TABLE pgbench_branches ENABLE ALWAYS TRIGGER branch_audit;
CREATE RULE ledger_keep AS ON DELETE TO ledger DO INSTEAD NOTHING;
ALTER TABLE ledger ENABLE REPLICA RULE ledger_keep;
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, note text);
INSERT INTO scratch SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
};
my @TABLES =
  qw(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history ledger audit scratch);
my $CUTOVER = [ '--max-lag', '5s', '--timeout', '90s' ];

# --- the helpers of every case ---------------------------------------------

my @running;    # pgbaton processes and workloads a failed case may leave

sub sql_src { return $src->safe_psql('app', $_[0]) }
sub sql_dst { return $dst->safe_psql('app', $_[0]) }

sub phase
{
	return sql_dst("SELECT phase FROM pgbaton.migration WHERE name = 'pgbaton'");
}

# Does a new session of the source start read-only ('on') or not ('off')?
sub source_read_only
{
	return sql_src('SHOW transaction_read_only');
}

# Both databases made again: the source with pgbench's tables, the ledger
# and $EXTRA, the target empty. Whatever an earlier case left (processes,
# slots) goes first.
sub fresh_databases
{
	for my $p (@running)
	{
		$p->{h}->kill_kill if $p->{h}->pumpable;
		eval { $p->{h}->finish };
	}
	@running = ();
	$src->safe_psql('postgres', q{
		SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active});
	ok(poll_until(sub { $src->safe_psql('postgres',
			'SELECT count(*) FROM pg_replication_slots WHERE active') eq '0' }, 30),
		'no slot in use from an earlier case') or return 0;
	$src->safe_psql('postgres',
		'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots');
	for my $n ($src, $dst)
	{
		$n->safe_psql('postgres', 'DROP DATABASE IF EXISTS app WITH (FORCE)');
		$n->safe_psql('postgres', 'CREATE DATABASE app');
	}
	ledger_setup($src);
	sql_src($EXTRA);
	return 1;
}

sub load_start
{
	my $l = ledger_load_start($src);
	push @running, $l;
	return $l;
}

# A `start` in the background (ENV: extra environment, for a failpoint).
sub start_bg
{
	my ($extra, %env) = @_;
	my $p = start_pgbaton([ 'start', @conn, @{ $extra // [] } ], env => \%env);
	push @running, $p;
	return $p;
}

# A `start` (EXTRA options) that streams, caught up; returns it.
sub start_streaming
{
	my ($label, @extra) = @_;
	my $p = start_bg(\@extra);
	ok(wait_streaming($src, $dst, $p, timeout => 180), "$label: start streams, caught up")
	  or diag(PostgreSQL::Test::Utils::slurp_file("$p->{dir}/err"));
	return $p;
}

# The failpoint of SPEC (NAME[:N][=ACTION]) happened to process P: killed by
# SIGKILL, or (error-SIDE) exit RC with the failpoint's server error.
sub faulted
{
	my ($p, $spec, $label, $rc) = @_;
	my ($point) = $spec =~ /^([a-z.-]+)/;
	my ($side) = $spec =~ /=error-(source|target)$/;
	ok(wait_exited($p, 180), "$label: pgbaton stops at failpoint $point");
	my $r = finish_pgbaton($p);
	if ($side)
	{
		is($r->{rc}, $rc // 1, "$label: exit " . ($rc // 1)) or diag($r->{stderr});
		like($r->{stderr}, qr/\b\Q$side\E\b.*pgbaton failpoint \Q$point\E/,
			"$label: the ${side}'s error took the usual path");
	}
	else
	{
		is($r->{signal}, 9, "$label: killed (SIGKILL) at the failpoint") or diag($r->{stderr});
	}
	return $r;
}

# start was killed or failed during its copy: start again refuses (an
# exported snapshot cannot be re-opened), start --restart copies again.
sub restart_copy
{
	my ($label) = @_;
	my $r = run_pgbaton([ 'start', @conn ]);
	is($r->{rc}, 1, "$label: start again refuses to resume the copy");
	like($r->{stderr}, qr/run pgbaton start --restart/, "$label: it says to run start --restart");
	return start_streaming($label, '--restart');
}

# The cutover's killed session is gone from the source (status would count
# it as a cutover still running).
sub cutover_session_gone
{
	my ($label) = @_;
	ok( wait_query($src, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
			  . "'pgbaton cutover %' AND pid <> pg_backend_pid()", '0',
			'the killed cutover session to leave the source'),
		"$label: the killed cutover's session has left the source");
}

# status after a cutover was killed: it says what the source really is.
sub status_tells_freeze
{
	my ($label, $frozen) = @_;
	cutover_session_gone($label);
	my $r = run_pgbaton([ 'status', @conn ]);
	is($r->{rc}, 1, "$label: status exits 1 (cutover interrupted)");
	my $j = decode_json(run_pgbaton([ 'status', '--json', @conn ])->{stdout});
	is($j->{cutover_interrupted}, JSON::PP::true, "$label: status: cutover interrupted");
	is(source_read_only(), $frozen ? 'on' : 'off',
		"$label: a new session of the source is " . ($frozen ? 'read-only' : 'writable'));
	if ($frozen)
	{
		is($j->{source_frozen}, JSON::PP::true, "$label: status says the source is frozen");
		like($r->{stdout}, qr/cutover interrupted, source frozen: run `pgbaton cutover` to finish or `pgbaton abort` to unfreeze/,
			"$label: and how to recover");
	}
	else
	{
		is($j->{source_frozen}, JSON::PP::false,
			"$label: status does not say the source is frozen (it is not)");
		like($r->{stdout}, qr/INTERRUPTED, source not frozen.*cutover interrupted before the source was frozen \(it is writable\)/s,
			"$label: status says the cutover stopped before the freeze");
	}
}

# Run a cutover (OPTS: extra options); with ENV a failpoint. Returns its
# result (rc, signal, stdout, stderr).
sub cutover
{
	my ($opts, %env) = @_;
	my $c = start_pgbaton([ 'cutover', @conn, @$CUTOVER, @{ $opts // [] } ], env => \%env);
	push @running, $c;
	ok(wait_exited($c, 180), 'the cutover ends');
	return finish_pgbaton($c);
}

# The end of every case. The cutover (unless the case did it, or DONE is
# 'abort': it aborted) runs under the workload; then start exits, and the
# checks of the top of this file; then clean (with CLEAN_FP a failpoint of
# clean, after which clean runs again).
sub finish_case
{
	my ($label, $ctx, %o) = @_;
	my $how = $o{done} // 'cutover';
	if ($how eq 'cutover')
	{
		my $r = cutover($o{cutover});
		is($r->{rc}, 0, "$label: the cutover completes") or diag($r->{stderr});
		$o{after_cutover}->($r) if $o{after_cutover};
	}
	if ($ctx->{start})
	{
		ok(wait_exited($ctx->{start}, 60), "$label: start stops once the migration is "
			  . ($how eq 'abort' ? 'stopped' : 'done'));
		finish_pgbaton($ctx->{start});
	}
	ledger_load_stop($ctx->{load}) if $ctx->{load};
	compare_tables($src, $dst, grep { !$o{skip_tables}{$_} } @TABLES);
	compare_ledger($src, $dst, $label);
	is(trigger_modes($dst), trigger_modes($src), "$label: the trigger and rule modes are the source's");
	is(source_read_only(), $how eq 'abort' ? 'off' : 'on',
		"$label: the source is " . ($how eq 'abort' ? 'writable' : 'read-only (cutover completed)'));
	is(sql_dst("SELECT last_value FROM audit_id_seq"), sql_src("SELECT last_value FROM audit_id_seq"),
		"$label: sequence copied") if $how ne 'abort';
	if ($o{clean_fp})
	{
		my $c = start_pgbaton([ 'clean', @conn ], env => { PGBATON_FAILPOINT => $o{clean_fp} });
		faulted($c, $o{clean_fp}, "$label: clean");
	}
	my $r = run_pgbaton([ 'clean', @conn ]);
	is($r->{rc}, 0, "$label: clean exits 0") or diag($r->{stderr});
	is($src->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'), '0',
		"$label: no slot left on the source");
	is(sql_src('SELECT count(*) FROM pg_publication'), '0', "$label: no publication left");
	is(sql_dst("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbaton'"), '0',
		"$label: no pgbaton schema left on the target");
}

# --- the cases ---------------------------------------------------------------

# A failpoint in start's copy (SPEC on the start process, EXTRA its options).
sub copy_fault
{
	my ($c) = @_;
	my $ctx = { load => load_start() };
	my $p = start_bg($c->{extra}, PGBATON_FAILPOINT => $c->{fp});
	faulted($p, $c->{fp}, $c->{name});
	like(phase(), qr/^(copying|failed)$/, "$c->{name}: the migration is left in its copy");
	$ctx->{start} = restart_copy($c->{name});
	finish_case($c->{name}, $ctx);
}

# A failpoint of the apply: start killed, or stopped on the error; start
# again resumes from the committed position.
sub apply_fault
{
	my ($c) = @_;
	my $ctx = { load => load_start() };
	my $p = start_bg([], PGBATON_FAILPOINT => $c->{fp});
	faulted($p, $c->{fp}, $c->{name});
	is(phase(), 'streaming', "$c->{name}: the migration was streaming");
	like(sql_dst('SELECT last_error FROM pgbaton.migration'), qr/pgbaton failpoint/,
		"$c->{name}: last_error recorded") if $c->{fp} =~ /=error/;
	$ctx->{start} = start_streaming("$c->{name}: start again");
	finish_case($c->{name}, $ctx);
}

# A failpoint of the cutover. kill: status tells the truth about the
# source, then RECOVER ('cutover' again, or 'abort'); error-SIDE: exit 4,
# the source writable again, phase streaming, then a cutover again.
sub cutover_fault
{
	my ($c) = @_;
	my $l = $c->{name};
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($l);
	my $r = cutover([], PGBATON_FAILPOINT => $c->{fp});
	my ($point) = $c->{fp} =~ /^([a-z.-]+)/;
	my ($side) = $c->{fp} =~ /=error-(source|target)$/;
	if ($side)
	{
		is($r->{rc}, 4, "$l: the cutover rolls back (exit 4)") or diag($r->{stderr});
		like($r->{stderr}, qr/\b\Q$side\E\b.*pgbaton failpoint \Q$point\E/,
			"$l: the ${side}'s error took the usual path");
		like($r->{stderr}, qr/source is writable again|nothing was changed and the source is writable/,
			"$l: it says the source is writable");
		is(source_read_only(), 'off', "$l: a new session of the source can write");
		is(phase(), 'streaming', "$l: the migration is back to streaming");
	}
	else
	{
		is($r->{signal}, 9, "$l: the cutover was killed at the failpoint") or diag($r->{stderr});
		status_tells_freeze($l, $c->{frozen});
	}
	if (($c->{recover} // 'cutover') eq 'abort')
	{
		ledger_load_stop($ctx->{load});
		ok(wait_applied($src, $dst, 60), "$l: start applied everything the source committed");
		$r = run_pgbaton([ 'abort', @conn ]);
		is($r->{rc}, 0, "$l: abort exits 0") or diag($r->{stderr});
		like($r->{stdout}, qr/unfroze source database app/, "$l: abort unfroze the source")
		  if $c->{frozen};
		unlike($r->{stdout}, qr/unfroze/, "$l: abort had nothing to unfreeze") if !$c->{frozen};
		is(phase(), 'stopped', "$l: the migration is stopped");
		finish_case($l, $ctx, done => 'abort');
		return;
	}
	# the freeze ended the workload's sessions: it writes again for the
	# next cutover (when the source is writable)
	if (source_read_only() eq 'off')
	{
		ledger_load_stop($ctx->{load});
		$ctx->{load} = load_start();
	}
	finish_case($l, $ctx,
		after_cutover => sub {
			like($_[0]{stderr}, $c->{frozen} ? qr/resuming an interrupted cutover/
				: qr/lag .* is below --max-lag/, "$l: the second cutover "
				  . ($c->{frozen} ? 'resumes the first' : 'starts from step 1'));
		});
}

# abort killed in the middle (after the freeze and the phase, before the
# slot): abort again finishes it.
sub abort_fault
{
	my ($c) = @_;
	my $l = $c->{name};
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($l);
	ledger_load_stop($ctx->{load});
	ok(wait_applied($src, $dst, 60), "$l: start applied everything the source committed");
	my $a = start_pgbaton([ 'abort', @conn ], env => { PGBATON_FAILPOINT => $c->{fp} });
	faulted($a, $c->{fp}, $l);
	is(phase(), 'stopped', "$l: the killed abort had stopped the migration");
	my $r = run_pgbaton([ 'abort', @conn ]);
	is($r->{rc}, 0, "$l: abort again exits 0") or diag($r->{stderr});
	like($r->{stdout}, qr/dropped replication slot pgbaton/, "$l: and drops the slot");
	finish_case($l, $ctx, done => 'abort');
}

sub clean_fault
{
	my ($c) = @_;
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($c->{name});
	finish_case($c->{name}, $ctx, clean_fp => $c->{fp});
}

# A server restarted with -m immediate while streaming (a crash: the
# target's copy of the unlogged table is emptied by the target's restart,
# the source's by the source's); start reconnects and catches up, and the
# cutover copies the unlogged table again (up to --unlogged-recopy-max,
# docs/cutover.md), or with --unlogged-recopy-max 0 says (WARN) that it
# differs.
sub crash_fault
{
	my ($c) = @_;
	my $l = $c->{name};
	my $node = $c->{node} eq 'source' ? $src : $dst;
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($l);
	is(sql_dst('SELECT count(*) FROM scratch'), '1000', "$l: the unlogged table was copied");
	$node->stop('immediate');
	$node->start;
	is(($c->{node} eq 'source' ? $src : $dst)->safe_psql('app', 'SELECT count(*) FROM scratch'),
		'0', "$l: the crash restart emptied the $c->{node} server's unlogged table");
	# the source's restart ended the workload's sessions
	if ($c->{node} eq 'source')
	{
		ledger_load_stop($ctx->{load});
		$ctx->{load} = load_start();
	}
	ok(wait_applied($src, $dst, 120), "$l: start reconnected and caught up");
	like(PostgreSQL::Test::Utils::slurp_file("$ctx->{start}{dir}/err"), qr/reconnecting/,
		"$l: start says it reconnects");
	my $max0 = defined $c->{recopy} && $c->{recopy} eq '0';
	finish_case($l, $ctx,
		cutover => $max0 ? [ '--unlogged-recopy-max', '0' ] : [],
		skip_tables => $max0 ? { scratch => 1 } : {},
		after_cutover => sub {
			my ($r) = @_;
			if ($max0)
			{
				like($r->{stderr}, qr/WARN.*unlogged table "public"\."scratch" left as copied at the start: it has 1000 rows on the source, 0 on the target/,
					"$l: the cutover says the unlogged table differs");
				is(sql_dst('SELECT count(*) FROM scratch'), '0', "$l: and leaves it as it was");
			}
			else
			{
				like($r->{stderr}, qr/unlogged table "public"\."scratch" copied again in full/,
					"$l: the cutover copies the unlogged table again");
			}
		});
}

# pg_terminate_backend of pgbaton's walsender (source) or apply session
# (target): start reconnects.
sub terminate_fault
{
	my ($c) = @_;
	my $l = $c->{name};
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($l);
	my ($node, $where) = $c->{session} eq 'walsender'
	  ? ($src, "backend_type = 'walsender' AND state = 'active'")
	  : ($dst, "application_name = 'pgbaton apply'");
	my $pid = '';
	ok(poll_until(sub { $pid = $node->safe_psql('app',
			"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE $where"); $pid =~ /^\d+$/ }, 30),
		"$l: one $c->{session} session") or diag("sessions: '$pid'");
	is($node->safe_psql('app', "SELECT pg_terminate_backend($pid)"), 't', "$l: $c->{session} terminated");
	ok(poll_until(sub { $node->safe_psql('app',
			"SELECT count(*) FROM pg_stat_activity WHERE $where AND pid <> $pid") eq '1' }, 60),
		"$l: start opened a new $c->{session} session");
	ok(wait_applied($src, $dst, 60), "$l: start caught up");
	finish_case($l, $ctx);
}

# start stopped (SIGSTOP) until the source's walsender gives up on it
# (wal_sender_timeout 5 s: the wait is the fault itself), then continued.
sub sigstop_fault
{
	my ($c) = @_;
	my $l = $c->{name};
	$src->safe_psql('postgres', "ALTER SYSTEM SET wal_sender_timeout = '5s'; SELECT pg_reload_conf()");
	my $ctx = { load => load_start() };
	$ctx->{start} = start_streaming($l);
	signal_pgbaton($ctx->{start}, 'STOP');
	ok(poll_until(sub { $src->safe_psql('postgres',
			"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgbaton' AND active") eq '0' }, 60),
		"$l: the walsender ended start's session (wal_sender_timeout)");
	signal_pgbaton($ctx->{start}, 'CONT');
	ok(poll_until(sub { $src->safe_psql('postgres',
			"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgbaton' AND active") eq '1' }, 60),
		"$l: start streams again");
	ok(wait_applied($src, $dst, 60), "$l: start caught up");
	$src->safe_psql('postgres', "ALTER SYSTEM RESET wal_sender_timeout; SELECT pg_reload_conf()");
	finish_case($l, $ctx);
}

# The source restarted during the copy: the copy (its snapshot gone) fails,
# start --restart copies again. To restart it there and not elsewhere, a
# session on the target holds a lock on pgbaton.table_state: start waits
# right after the slot and the pre-data schema (034 does the same).
sub restart_in_copy
{
	my ($c) = @_;
	my $l = $c->{name};
	my $ctx = { load => load_start() };
	sql_dst(PostgreSQL::Test::Utils::slurp_file("$ENV{PGBATON_ROOT}/sql/state_schema.sql"));
	my $lock = $dst->background_psql('app');
	$lock->query_safe('BEGIN; LOCK TABLE pgbaton.table_state IN ACCESS EXCLUSIVE MODE');
	my $p = start_bg();
	ok(poll_until(sub { sql_dst("SELECT count(*) FROM pg_class WHERE relname = 'pgbench_accounts'") eq '1' }, 60),
		"$l: the copy reached the pre-data schema");
	$src->restart;
	$lock->query_safe('ROLLBACK');
	$lock->quit;
	ok(wait_exited($p, 120), "$l: start stops");
	my $r = finish_pgbaton($p);
	is($r->{rc}, 1, "$l: exit 1") or diag($r->{stderr});
	like($r->{stderr}, qr/--restart/, "$l: it says to run start --restart");
	ledger_load_stop($ctx->{load});
	$ctx->{load} = load_start();
	$ctx->{start} = restart_copy($l);
	finish_case($l, $ctx);
}

# name => [ code, options, in make check's subset ]
my @CASES = (
	# start and the copy
	[ 'start.slot-created=kill', \&copy_fault, { fp => 'start.slot-created' } ],
	[ 'start.slot-created=error-target', \&copy_fault, { fp => 'start.slot-created=error-target' } ],
	[ 'start.pre-data=kill', \&copy_fault, { fp => 'start.pre-data' } ],
	[ 'copy.rows=kill', \&copy_fault, { fp => 'copy.rows:10', extra => [ '--jobs', '2' ] }, 1 ],
	[ 'copy.rows=error-target', \&copy_fault, { fp => 'copy.rows:10=error-target', extra => [ '--jobs', '1' ] } ],
	[ 'copy.rows=error-source', \&copy_fault, { fp => 'copy.rows:10=error-source', extra => [ '--jobs', '1' ] } ],
	[ 'copy.index=kill', \&copy_fault, { fp => 'copy.index:2', extra => [ '--jobs', '2' ] } ],
	[ 'copy.index=error-target', \&copy_fault, { fp => 'copy.index=error-target', extra => [ '--jobs', '1' ] } ],
	# the apply
	[ 'apply.before-commit=kill', \&apply_fault, { fp => 'apply.before-commit:30' } ],
	[ 'apply.before-commit=error-target', \&apply_fault, { fp => 'apply.before-commit:30=error-target' } ],
	[ 'apply.after-commit=kill', \&apply_fault, { fp => 'apply.after-commit:30' }, 1 ],
	# the cutover
	[ 'cutover.freeze-recorded=kill', \&cutover_fault, { fp => 'cutover.freeze-recorded', frozen => 0 }, 1 ],
	[ 'cutover.freeze-recorded=kill then abort', \&cutover_fault,
		{ fp => 'cutover.freeze-recorded', frozen => 0, recover => 'abort' } ],
	[ 'cutover.freeze-recorded=error-source', \&cutover_fault, { fp => 'cutover.freeze-recorded=error-source' } ],
	[ 'cutover.freeze=kill', \&cutover_fault, { fp => 'cutover.freeze', frozen => 1 } ],
	[ 'cutover.freeze=kill then abort', \&cutover_fault, { fp => 'cutover.freeze', frozen => 1, recover => 'abort' } ],
	[ 'cutover.freeze=error-source', \&cutover_fault, { fp => 'cutover.freeze=error-source' } ],
	[ 'cutover.fence-written=kill', \&cutover_fault, { fp => 'cutover.fence-written', frozen => 1 } ],
	[ 'cutover.fence-applied=kill', \&cutover_fault, { fp => 'cutover.fence-applied', frozen => 1 } ],
	[ 'cutover.fence-applied=error-target', \&cutover_fault, { fp => 'cutover.fence-applied=error-target' }, 1 ],
	[ 'cutover.sequences=kill', \&cutover_fault, { fp => 'cutover.sequences', frozen => 1 } ],
	[ 'cutover.sequences=error-source', \&cutover_fault, { fp => 'cutover.sequences=error-source' } ],
	[ 'cutover.counts=kill', \&cutover_fault, { fp => 'cutover.counts', frozen => 1 } ],
	[ 'cutover.counts=error-target', \&cutover_fault, { fp => 'cutover.counts=error-target' } ],
	[ 'cutover.before-done=kill', \&cutover_fault, { fp => 'cutover.before-done', frozen => 1 } ],
	[ 'cutover.before-done=error-target', \&cutover_fault, { fp => 'cutover.before-done=error-target' } ],
	# abort and clean
	[ 'abort.middle=kill', \&abort_fault, { fp => 'abort.middle' }, 1 ],
	[ 'clean.middle=kill', \&clean_fault, { fp => 'clean.middle' } ],
	# the surroundings
	[ 'source crash restart', \&crash_fault, { node => 'source' } ],
	[ 'target crash restart', \&crash_fault, { node => 'target' }, 1 ],
	[ 'target crash restart with --unlogged-recopy-max 0', \&crash_fault, { node => 'target', recopy => '0' } ],
	[ 'walsender terminated', \&terminate_fault, { session => 'walsender' } ],
	[ 'apply session terminated', \&terminate_fault, { session => 'apply' } ],
	[ 'start stopped beyond wal_sender_timeout', \&sigstop_fault, {} ],
	[ 'source restarted during the copy', \&restart_in_copy, {} ],
);

my $want = $ENV{PGBATON_FAULTS} // '';
my %named = map { $_ => 1 } split /,/, $want;
my @run = grep { $want eq 'all' ? 1 : $want ne '' ? $named{ $_->[0] } : $_->[3] } @CASES;
if ($want ne '' && $want ne 'all')
{
	my %known = map { $_->[0] => 1 } @CASES;
	my @unknown = grep { !$known{$_} } sort keys %named;
	BAIL_OUT("PGBATON_FAULTS names unknown cases: @unknown") if @unknown;
}
note(sprintf('%d of %d cases (PGBATON_FAULTS=%s), decoder %s', scalar @run, scalar @CASES,
		$want eq '' ? 'unset: the subset' : $want, $PLUGIN || 'auto'));

for my $case (@run)
{
	my ($name, $code, $opts) = @$case;
	subtest $name => sub {
		fresh_databases() or return;
		$code->({ %$opts, name => $name });
	};
}

# every point the program has is a case of the full matrix, and docs name it
my $list = run_pgbaton([ 'status', @conn ], env => { PGBATON_FAILPOINT => 'no.such-point' });
is($list->{rc}, 2, 'an unknown failpoint: exit 2');
my ($names) = $list->{stderr} =~ /the known names are: (.*)$/m;
my @points = split /, /, $names // '';
cmp_ok(scalar @points, '>=', 15, 'the error lists the known failpoints');
my $docs = PostgreSQL::Test::Utils::slurp_file("$ENV{PGBATON_ROOT}/docs/testing.md");
for my $point (@points)
{
	ok((grep { $_->[0] =~ /^\Q$point\E=/ } @CASES), "failpoint $point has a case");
	like($docs, qr/`\Q$point\E`/, "docs/testing.md names failpoint $point");
}

done_testing();
