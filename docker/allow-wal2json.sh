#!/bin/sh
# docker/allow-wal2json.sh - run by the postgres image's entrypoint once, when
# the data directory is created (/docker-entrypoint-initdb.d). PostgreSQL
# 15.19 and later only load the output plugins listed in
# output_plugin_libraries (default 'pgoutput, test_decoding'); earlier minors
# do not know the setting and would refuse to start with it. So add it only
# when this server knows it.
set -eu
if postgres --describe-config 2>/dev/null | grep -q '^output_plugin_libraries'; then
  echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'" >>"$PGDATA/postgresql.conf"
  echo "allow-wal2json: output_plugin_libraries set"
else
  echo "allow-wal2json: this minor release does not restrict output plugins"
fi
