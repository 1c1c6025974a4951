-- Preflight (check.c): extensions installed in the source database that the
-- target must be able to create (plpgsql is always there).
SELECT extname, extversion
FROM pg_extension
WHERE extname <> 'plpgsql'
ORDER BY 1;
