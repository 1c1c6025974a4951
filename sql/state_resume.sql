-- start: it resumes streaming (the copy is done). The error an earlier
-- start stopped on is history now (cutover reads a stored error as "start
-- has stopped on it"), and a failed migration streams again (failed ->
-- streaming, in the table of transitions); streaming and cutover stay.
-- $1 name.
UPDATE pgbaton.migration
   SET phase = CASE WHEN phase = 'failed' THEN 'streaming' ELSE phase END,
       last_error = NULL
 WHERE name = $1
