-- freeze: the source database's name and its database-level
-- default_transaction_read_only setting (NULL when it has none), recorded
-- before the freeze so that unfreeze can restore it.
SELECT current_database(),
       (SELECT substr(c, length('default_transaction_read_only=') + 1)
          FROM pg_db_role_setting s, unnest(s.setconfig) AS c
         WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND s.setrole = 0
           AND c LIKE 'default\_transaction\_read\_only=%')
