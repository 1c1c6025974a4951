-- sql/inventory_database.sql — one row: the database and server.
SELECT json_build_object(
           'database', d.datname,
           'server_version', current_setting('server_version'),
           'server_version_num', current_setting('server_version_num')::int,
           'encoding', pg_encoding_to_char(d.encoding),
           'large_objects', (SELECT count(*) FROM pg_largeobject_metadata))
  FROM pg_database d
 WHERE d.datname = current_database()
