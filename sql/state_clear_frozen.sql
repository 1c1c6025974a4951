-- abort: the source is no longer frozen by pgbaton. $1 name.
UPDATE pgbaton.migration SET frozen_at = NULL WHERE name = $1
