-- apply: thin migration $1's old lag samples, sent about once a minute in
-- a batch's transaction, so that pgbaton.lag_sample stays bounded on a long
-- migration (the applier samples every second). Every sample of the last
-- hour is kept; before that, per minute (per ten minutes before the last
-- day), the sample of the lowest and the one of the highest lag: the
-- report's chart keeps the envelope of the lag, and the moment the lag
-- first fell below a second (its catch-up) stays within that minute.
DELETE FROM pgbaton.lag_sample
 WHERE ctid IN (
       SELECT ctid
         FROM (SELECT ctid,
                      row_number() OVER (PARTITION BY old, b ORDER BY lag_seconds NULLS LAST, at) AS lo,
                      row_number() OVER (PARTITION BY old, b ORDER BY lag_seconds DESC NULLS LAST, at) AS hi
                 FROM (SELECT ctid, at, lag_seconds, at < now() - interval '1 day' AS old,
                              floor(extract(epoch FROM at)
                                    / CASE WHEN at < now() - interval '1 day' THEN 600 ELSE 60 END)
                                AS b
                         FROM pgbaton.lag_sample
                        WHERE migration = $1 AND at < now() - interval '1 hour') s) r
        WHERE lo > 1 AND hi > 1)
