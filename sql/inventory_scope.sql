-- sql/inventory_scope.sql — what the inventory describes, as common table
-- expressions. Not a statement on its own: catalog.c runs every other
-- inventory_*.sql query as "WITH <this file> <query>", so each query can use
--   ext_member (classid, objid)        objects that belong to an extension
--   user_ns    (oid, nspname)          user schemas: not pg_*, not
--                                      information_schema, not pgbaton's own
--                                      "pgbaton", not created by an extension
--   user_rel   (oid, nspname, relname, relkind)
--                                      relations in user_ns, not extension members
ext_member AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
     WHERE d.deptype = 'e'
),
user_ns AS (
    SELECT n.oid, n.nspname
      FROM pg_namespace n
     WHERE n.nspname !~ '^pg_'
       AND n.nspname NOT IN ('information_schema', 'pgbaton')
       AND NOT EXISTS (SELECT 1 FROM ext_member e
                        WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid)
),
user_rel AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind
      FROM pg_class c
      JOIN user_ns n ON n.oid = c.relnamespace
     WHERE NOT EXISTS (SELECT 1 FROM ext_member e
                        WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
)
