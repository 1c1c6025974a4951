-- start: it stops on an error it cannot get past. Phase failed, with the
-- error, from a phase the table of transitions allows before failed ($3:
-- the running ones); from any other (a cutover in progress, which rolls
-- itself back; done; stopped) only the error is recorded.
-- $1 name, $2 error, $3 the allowed phases (text[]).
UPDATE pgbaton.migration
   SET phase = CASE WHEN phase = ANY ($3::text[]) THEN 'failed' ELSE phase END,
       last_error = $2,
       alive_at = now()
 WHERE name = $1
