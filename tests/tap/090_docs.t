# Documentation and container files agree with the binary and with CI.
# No server needed: the help texts, docs/, README.md and docker/ are read.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $root = $ENV{PGBATON_ROOT} or die "PGBATON_ROOT is not set";

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', "$root/$path") or die "$path: $!";
	local $/;
	return <$fh>;
}

my $guide  = slurp('docs/user-guide.md');
my $man    = slurp('docs/pgbaton.1');
my $readme = slurp('README.md');

# the commands, from the main help
my $main = run_pgbaton(['--help']);
is($main->{rc}, 0, 'pgbaton --help exits 0');
my ($list) = $main->{stdout} =~ /Commands:\n(.*?)\n\n/s;
my @commands = map { /^\s+(\S+)/ ? $1 : () } split /\n/, ($list // '');
cmp_ok(scalar @commands, '>=', 9, 'the main help lists the commands')
  or diag($main->{stdout});

# troff writes "-" as "\-" in the man page
(my $man_plain = $man) =~ s/\\-/-/g;

for my $cmd (@commands)
{
	like($readme, qr/pgbaton $cmd\b/, "README mentions pgbaton $cmd");
	like($guide, qr/^### `pgbaton $cmd`/m, "user guide has a section for $cmd");
	like($man_plain, qr/^\.B $cmd$/m, "man page lists $cmd");

	my $r = run_pgbaton([ $cmd, '--help' ]);
	is($r->{rc}, 0, "$cmd --help exits 0");
	my @opts = $r->{stdout} =~ /^\s+(?:-\w, )?(--[a-z][a-z-]*)/mg;
	cmp_ok(scalar @opts, '>', 3, "$cmd --help lists its options");
	for my $opt (@opts)
	{
		like($guide, qr/\Q$opt\E\b/, "user guide documents $cmd $opt");
		like($man_plain, qr/\Q$opt\E\b/, "man page documents $cmd $opt");
	}
}

# exit codes: every code in the main help is in the guide and the man page
for my $code (0 .. 4)
{
	like($guide, qr/^\| $code \|/m, "user guide explains exit code $code");
	like($man, qr/^\.B $code$/m, "man page explains exit code $code");
}

# README: the two commands, and links that resolve
like($readme, qr/^make demo\b/m,  'README gives make demo');
like($readme, qr/^make check\b/m, 'README gives make check');
for my $link ($readme =~ /\]\(((?:docs|docker)\/[^)#]+)/g)
{
	ok(-e "$root/$link", "README link $link exists");
}

# the docs that the issue asks for exist
for my $doc (qw(runbook managed-services troubleshooting limitations))
{
	ok(-s "$root/docs/$doc.md", "docs/$doc.md exists");
}

# the man page is installed and renders without warnings
like(slurp('Makefile'), qr{install -m 644 docs/pgbaton\.1 }, 'make install installs the man page');
SKIP:
{
	skip 'groff is not installed', 2 unless grep { -x "$_/groff" } split /:/, $ENV{PATH};
	my $warn = `groff -man -Tutf8 -ww -z '$root/docs/pgbaton.1' 2>&1`;
	my $groff_rc = $?;
	is($warn, '', 'groff renders pgbaton.1 without warnings');
	is($groff_rc, 0, 'groff exits 0 on pgbaton.1');
}

# Dockerfile: multi-stage, the build stage runs what CI runs, non-root
my $ci         = slurp('.ci/run');
my $dockerfile = slurp('docker/Dockerfile');
my @stages     = split /^FROM /m, $dockerfile;
shift @stages;    # the comment before the first FROM
is(scalar @stages, 2, 'Dockerfile has a build and a runtime stage');
for my $step ('make deps', 'make')
{
	like($stages[0] // '', qr/&& \Q$step\E(?: \\|\s*$)/m, "the build stage runs $step");
}
# .ci/run starts from a machine without the build packages and runs the
# README's first sh block, whose lines are `make demo` and `make check`
like($ci, qr/^\s*apt-get remove\b.*libpq-dev libjansson-dev/m, '.ci/run removes the build packages first');
like($ci, qr/first sh block|\^```sh/, ".ci/run runs the README's first sh block");
my ($block) = slurp('README.md') =~ /^```sh\n(.*?)^```/ms;
my @cmds = map { s/\s*#.*//r } grep { /\S/ && !/^\s*#/ } split /\n/, $block // '';
is_deeply(\@cmds, [ 'make demo', 'make check' ], "README's first sh block: make demo, make check");
like($stages[1] // '', qr/^USER (?!root)\w+/m, 'the runtime stage runs as a non-root user');

# compose: the two servers and the demo, logical source, no password in it
my $compose = slurp('docker/compose.yaml');
for my $svc (qw(source target demo))
{
	like($compose, qr/^  $svc:/m, "compose.yaml has service $svc");
}
like($compose, qr/wal_level=logical/, 'the source runs with wal_level=logical');
like($compose, qr/Dockerfile\.postgres/, 'the servers are built from Dockerfile.postgres');
unlike($compose, qr/^\s+\w*PASSWORD:\s*(?!\$\{)\S/m, 'no password written in compose.yaml');

is(system('sh', '-n', "$root/docker/demo.sh"), 0, 'sh -n docker/demo.sh passes');
is(system('sh', '-n', "$root/docker/allow-wal2json.sh"), 0, 'sh -n docker/allow-wal2json.sh passes');

done_testing();
