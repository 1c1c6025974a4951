/*
 * src/lag.c — replication lag arithmetic (see include/lag.h).
 */
#include "lag.h"

#include <math.h>

double lag_seconds(int64_t lag_bytes, double source_now, double heartbeat_epoch,
                   double applied_epoch)
{
    double ref = NAN;
    if (!isnan(heartbeat_epoch))
        ref = heartbeat_epoch;
    if (!isnan(applied_epoch) && (isnan(ref) || applied_epoch > ref))
        ref = applied_epoch;
    bool fresh = isnan(heartbeat_epoch) || source_now - heartbeat_epoch <= LAG_HEARTBEAT_FRESH;
    if (lag_bytes == 0 && fresh)
        return 0;
    if (isnan(ref) || isnan(source_now) || lag_bytes < 0)
        return NAN;
    return source_now > ref ? source_now - ref : 0;
}

bool lag_in_step(int64_t lag_bytes, double lag_seconds)
{
    if (lag_bytes == 0)
        return true;
    return lag_bytes > 0 && !isnan(lag_seconds) && lag_seconds <= LAG_HEARTBEAT_FRESH;
}

double lag_eta(double t0, int64_t lag0, double t1, int64_t lag1, int64_t lag_now)
{
    if (lag_now == 0)
        return 0;
    if (lag_now < 0 || t1 <= t0)
        return NAN;
    double slope = (double)(lag1 - lag0) / (t1 - t0); /* bytes per second */
    if (slope >= 0)
        return NAN;
    return (double)lag_now / -slope;
}
