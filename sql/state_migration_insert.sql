-- start: a new migration, phase copying. $1 name, $2 slot, $3/$4 masked
-- connection strings, $5/$6 server versions, $7 options (JSON), $8 plugin,
-- $9 publication (or NULL).
INSERT INTO pgbaton.migration (name, phase, slot_name, source_masked, target_masked,
                               source_version, target_version, options, plugin, publication,
                               alive_at, copy_started_at)
VALUES ($1, 'copying', $2, $3, $4, $5, $6, $7::jsonb, $8, $9, now(), now())
