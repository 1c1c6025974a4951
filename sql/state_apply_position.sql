-- apply: where a (re)started applier resumes: the committed position, the
-- phase, verify's hold and whether a fence was applied. $1 name.
SELECT applied_lsn::text, phase, hold_lsn::text, fence_applied_lsn IS NOT NULL
  FROM pgbaton.migration
 WHERE name = $1
