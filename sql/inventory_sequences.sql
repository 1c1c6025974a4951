-- sql/inventory_sequences.sql — one row per sequence. "owned_by" is the
-- column it belongs to (OWNED BY, serial or identity), or null.
SELECT json_build_object(
           'schema', r.nspname,
           'name', r.relname,
           'type', format_type(s.seqtypid, NULL),
           'start', s.seqstart,
           'increment', s.seqincrement,
           'min', s.seqmin,
           'max', s.seqmax,
           'cache', s.seqcache,
           'cycle', s.seqcycle,
           'owned_by', (SELECT json_build_object('schema', tn.nspname, 'table', tc.relname,
                                                 'column', a.attname)
                          FROM pg_depend d
                          JOIN pg_class tc ON tc.oid = d.refobjid
                          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                           AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                           AND d.deptype IN ('a', 'i')
                         LIMIT 1),
           'identity', EXISTS (SELECT 1 FROM pg_depend d
                                WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                                  AND d.deptype = 'i'))
  FROM pg_sequence s
  JOIN user_rel r ON r.oid = s.seqrelid
 ORDER BY r.nspname, r.relname
