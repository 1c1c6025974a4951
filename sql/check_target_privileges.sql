-- Preflight (check.c): can the target role create the schema? One row:
-- superuser, CREATE on the database, CREATE on schema public (NULL when
-- there is no schema public), role name, database name, and both quoted
-- for SQL.
SELECT r.rolsuper,
       has_database_privilege(current_database(), 'CREATE') AS db_create,
       (SELECT has_schema_privilege(n.oid, 'CREATE')
        FROM pg_namespace n WHERE n.nspname = 'public') AS public_create,
       current_user,
       current_database(),
       quote_ident(current_user) AS role_sql,
       quote_ident(current_database()) AS db_sql
FROM pg_roles r
WHERE r.rolname = current_user;
