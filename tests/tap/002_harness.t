# The harness itself: test servers must demand the password over TCP, or
# every "wrong password" test elsewhere would prove nothing.
use strict;
use warnings;
use PgbatonTest;
use Test::More;

my $node = new_target(name => 'harness');
my $ok = `psql -X -At -d '@{[connstr($node)]}' -c 'SELECT 1' 2>&1`;
is($? >> 8, 0, 'right password over TCP is accepted') or diag($ok);
is($ok, "1\n", '... and the query answers');
my $bad = connstr($node, password => 'definitely-wrong');
my $res = `psql -X -At -d '$bad' -c 'SELECT 1' 2>&1`;
isnt($? >> 8, 0, 'wrong password over TCP is refused');
like($res, qr/password authentication failed/, 'refused for the password');
$node->stop;
done_testing();
