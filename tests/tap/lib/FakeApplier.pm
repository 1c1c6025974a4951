# tests/tap/lib/FakeApplier.pm — plays the part of a running `pgbaton start`
# on the state, for testing status/cutover/abort/clean before (or without)
# the real streaming code.
#
# It never moves data. Data is kept equal by construction: either the test
# writes the same rows on both sides, or PostgreSQL's native logical
# replication (a publication on the source and a subscription on the target,
# WITH (synchronous_commit = on)) moves it; then pass sub => 'subname'.
#
# What it does, every `interval` seconds, in a forked child:
#   - alive_at = now() (the heartbeat of `start`);
#   - samples (pg_current_wal_lsn(), clock_timestamp()) on the source; once
#     the subscription's slot has confirmed that position (or at once when
#     there is no subscription), records it as applied_lsn and the sample's
#     time as heartbeat_source_ts (as the real applier does with the source's
#     heartbeat messages), and adds changes_applied / a lag_sample row;
#   - when pgbaton.migration.fence_lsn is set and confirmed, sets
#     fence_applied_at / fence_applied_lsn (unless ack_fence => 0) and
#     post_fence_changes (default 0: pass post_fence_changes => N to pretend
#     writes slipped through);
#   - exits when the phase is no longer copying/indexing/streaming/cutover
#     (done, stopped), as the real applier must.
# Options: apply => 0 keeps the heartbeat but applies nothing (lag grows).
package FakeApplier;

use strict;
use warnings;
use IPC::Run;
use POSIX ();
use Test::More ();
use Time::HiRes qw(time usleep);

# psql on NODE (database app, as the OS user through the socket); returns
# stdout, dies on error.
sub psql_out
{
	my ($node, $sql) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ('psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
		'-d', 'app', '-c', $sql);
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err) or die "psql failed: $err";
	chomp $out;
	return $out;
}

sub lsn_num
{
	my ($l) = @_;
	return undef unless defined $l && $l =~ m{^([0-9A-F]+)/([0-9A-F]+)$}i;
	return hex($1) * 4294967296 + hex($2);
}

# Create the state (as `start` would): schema, migration row in PHASE, the
# wal2json slot on the source (unless slot => 0) and table_state rows
# (tables => [[schema, table, state, rows, bytes, size], ...]).
sub setup_state
{
	my (%o) = @_;
	my ($src, $tgt) = ($o{source}, $o{target});
	my $name = $o{name} // 'pgbaton';
	my $phase = $o{phase} // 'streaming';
	my $root = $ENV{PGBATON_ROOT} // '.';
	$tgt->safe_psql('app', slurp("$root/sql/state_schema.sql"));
	$tgt->safe_psql('app', qq{
		DELETE FROM pgbaton.migration WHERE name = '$name';
		INSERT INTO pgbaton.migration (name, phase, slot_name, streaming_at, alive_at)
		VALUES ('$name', '$phase', '$name', now(), now());});
	for my $t (@{ $o{tables} // [] })
	{
		my ($s, $n, $st, $rows, $bytes, $size) = @$t;
		$tgt->safe_psql('app', qq{
			INSERT INTO pgbaton.table_state
			  (migration, schema_name, table_name, state, rows_copied, bytes_copied, size_bytes)
			VALUES ('$name', '$s', '$n', '$st', $rows, $bytes, $size)});
	}
	if ($o{slot} // 1)
	{
		$src->safe_psql('app', qq{
			SELECT pg_create_logical_replication_slot('$name', 'wal2json')
			 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$name')});
	}
}

sub slurp
{
	my ($f) = @_;
	open my $fh, '<', $f or die "$f: $!";
	local $/;
	return <$fh>;
}

sub new
{
	my ($class, %o) = @_;
	my $self = bless {
		source     => $o{source},
		target     => $o{target},
		name       => $o{name} // 'pgbaton',
		sub        => $o{sub},
		ack_fence  => $o{ack_fence} // 1,
		post_fence => $o{post_fence_changes} // 0,
		apply      => $o{apply} // 1,
		interval   => $o{interval} // 0.3,
	}, $class;
	return $self;
}

sub start
{
	my ($self) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		my $rc = 0;
		eval { $self->_loop; 1 } or do { print STDERR "FakeApplier: $@"; $rc = 1 };
		POSIX::_exit($rc);
	}
	$self->{pid} = $pid;
	return $self;
}

sub _loop
{
	my ($self) = @_;
	my ($src, $tgt, $name) = @$self{qw(source target name)};
	my @pending;
	my $changes = 0;
	my $last_sample = 0;
	while (1)
	{
		my $row = psql_out($tgt, qq{
			UPDATE pgbaton.migration SET alive_at = now() WHERE name = '$name'
			RETURNING phase, coalesce(fence_lsn::text, ''), fence_applied_at IS NOT NULL});
		return if $row eq '';
		my ($phase, $fence, $fence_done) = split /\|/, $row;
		return unless $phase =~ /^(copying|indexing|streaming|cutover)$/;

		my $q = "SELECT pg_current_wal_lsn(), extract(epoch FROM clock_timestamp()), "
		  . (defined $self->{sub}
			? "(SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$self->{sub}')"
			: "pg_current_wal_lsn()");
		my ($cur, $now, $confirmed) = split /\|/, psql_out($src, $q);
		push @pending, [ $cur, $now ];
		my $conf = lsn_num($confirmed) // 0;
		my $applied;
		while (@pending && lsn_num($pending[0][0]) <= $conf)
		{
			$applied = shift @pending;
		}
		if ($applied && $self->{apply})
		{
			$changes += 10;
			psql_out($tgt, qq{
				UPDATE pgbaton.migration
				   SET applied_lsn = '$applied->[0]',
				       heartbeat_source_ts = to_timestamp($applied->[1]),
				       changes_applied = $changes
				 WHERE name = '$name'});
			if (time() - $last_sample > 1)
			{
				$last_sample = time();
				my $lag = lsn_num($cur) - lsn_num($applied->[0]);
				$lag = 0 if $lag < 0;
				psql_out($tgt, qq{
					INSERT INTO pgbaton.lag_sample (migration, lag_bytes, lag_seconds, apply_rate)
					VALUES ('$name', $lag, 0, 33.3)});
			}
		}
		if ($fence ne '' && $fence_done eq 'f' && $self->{ack_fence}
			&& $conf >= lsn_num($fence))
		{
			psql_out($tgt, qq{
				UPDATE pgbaton.migration
				   SET fence_applied_at = now(), fence_applied_lsn = fence_lsn,
				       post_fence_changes = $self->{post_fence}
				 WHERE name = '$name'});
		}
		usleep($self->{interval} * 1_000_000);
	}
}

# Stop it (with SIG, default TERM) and reap it. True when it was still
# running and the signal ended it; false, with a diag, when it had already
# exited (its loop died, or it saw the phase end) or was never started: a
# scenario the fake did not play to its end. The result must be checked
# (DESTROY's clean-up aside).
sub stop
{
	my ($self, $sig) = @_;
	$sig //= 'TERM';
	my $pid = delete $self->{pid};
	unless ($pid)
	{
		Test::More::diag('FakeApplier: not running (never started, or already reaped)');
		return 0;
	}
	if (waitpid($pid, POSIX::WNOHANG()) == $pid)
	{
		Test::More::diag(sprintf('FakeApplier had exited before it was stopped (exit %d, signal %d)',
				$? >> 8, $? & 127));
		return 0;
	}
	my $signo = { TERM => POSIX::SIGTERM(), KILL => POSIX::SIGKILL(), INT => POSIX::SIGINT() }->{$sig}
	  // die "FakeApplier::stop: unknown signal $sig";
	kill($signo, $pid);
	waitpid($pid, 0);
	return 1 if ($? & 127) == $signo;
	Test::More::diag(sprintf('FakeApplier did not end by SIG%s (exit %d, signal %d)',
			$sig, $? >> 8, $? & 127));
	return 0;
}

# Wait (up to TIMEOUT s) for it to exit on its own, as the real start does
# when the migration ends; true when it did, with status 0. False (with a
# diag) when it is still running, or exited because its loop died. The
# result must be checked.
sub wait_exit
{
	my ($self, $timeout) = @_;
	die 'FakeApplier::wait_exit: its result must be checked' unless defined wantarray;
	unless ($self->{pid})
	{
		Test::More::diag('FakeApplier: not running (never started, or already reaped)');
		return 0;
	}
	my $deadline = time() + ($timeout // 30);
	while (time() < $deadline)
	{
		my $r = waitpid($self->{pid}, POSIX::WNOHANG());
		if ($r == $self->{pid})
		{
			delete $self->{pid};
			return 1 if $? == 0;
			Test::More::diag(sprintf('FakeApplier exited, but not cleanly (exit %d, signal %d)',
					$? >> 8, $? & 127));
			return 0;
		}
		usleep(100_000);
	}
	Test::More::diag('FakeApplier still running ' . ($timeout // 30) . ' s later');
	return 0;
}

sub DESTROY
{
	my ($self) = @_;
	return unless $self->{pid};
	local $?;    # the test's own exit status must survive this reaping
	kill(POSIX::SIGKILL(), $self->{pid});
	waitpid($self->{pid}, 0);
}

1;
