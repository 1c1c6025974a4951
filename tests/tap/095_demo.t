# The README's demo (short variant), so it cannot rot: two throwaway servers,
# live load, check, start, status, cutover, refused writes, verify, report.
use strict;
use warnings;
use PgbatonTest;
use Test::More;
use IPC::Run;

my $root = $ENV{PGBATON_ROOT} or die "PGBATON_ROOT is not set";
my $report = PostgreSQL::Test::Utils::tempdir() . '/report';
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ "$root/scripts/demo.sh", '--quick', '--keep-report', $report ],
	'<', '/dev/null', '>&', \$out, IPC::Run::timeout(600));
$h->finish;
my $rc = $h->result(0);
is($rc, 0, 'the demo succeeds') or diag($out);
like($out, qr/==> \d+\. pgbaton check/, 'it runs check');
like($out, qr/phase:\s+streaming/, 'it shows status while streaming');
like($out, qr/cutover of pgbaton complete: the target is ready/, 'the cutover completes');
like($out, qr/write-unavailable: \d+ ms/, 'the write-unavailability is reported');
like($out, qr/source said: ERROR:\s+cannot execute INSERT in a read-only transaction/,
	'the source refuses writes afterwards');
like($out, qr/^verify: \d+ tables equal, 0 differ; schema equal$/m, 'verify: equal');
ok(-s "$report/report.md", 'the report is written');
# even a short migration gets a lag chart with samples
my $md = -s "$report/report.md" ? PostgreSQL::Test::Utils::slurp_file("$report/report.md") : '';
my ($samples) = $md =~ /^(\d+) samples, maximum/m;
note($md);
cmp_ok($samples // 0, '>=', 3, 'the report has lag samples') or diag($md);
like($md, qr/^!\[lag over the run\]\(report-lag\.svg\)$/m, 'the report links its chart');
my $svg = -s "$report/report-lag.svg" ? PostgreSQL::Test::Utils::slurp_file("$report/report-lag.svg") : '';
note("SVG-BEGIN\n$svg\nSVG-END") if $ENV{PGBATON_TEST_VERBOSE};
my ($points) = $svg =~ /<polyline class="lag"[^>]*points="([^"]+)"/;
cmp_ok(scalar(split / /, $points // ''), '>=', 3, 'the chart draws the samples');
like($svg, qr/data-phase="copy"/, 'the chart marks the copy');
like($svg, qr/data-phase="cutover"/, 'the chart marks the cutover');
like($md, qr/^Backup by the target's role: \*\*ok\*\*/m, 'the report has the backup check');
like($md, qr/^\| catch-up \| [^|]+ \| \d+\.\d s \|$/m, 'the report times the catch-up');
unlike($out, qr/\Q$PASSWORD\E/, 'no test password in the demo output');
my ($work) = $out =~ m{its log: (/tmp/pgbaton-bench\.[A-Za-z0-9]+)/};
ok($work && !-e $work, 'the demo removed its servers and files');
done_testing();
