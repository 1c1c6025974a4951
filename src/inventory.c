#include "cli.h"
int cmd_inventory(const pgb_options *o)
{
    (void)o;
    return 1;
}
