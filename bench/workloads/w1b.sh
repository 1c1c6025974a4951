# bench/workloads/w1b.sh — W1b: initial copy of several medium tables.
#
# Source: database "w1b" with a small parent table and 8 tables of about
# W1B_TABLE_MB MB each (60 by default), generated with generate_series. Each
# of the 8 has two indexes (its primary key and an index on its foreign-key
# column) and a foreign key to the parent. Here the work is spread over
# tables, so parallel copy and parallel index builds matter. Contenders:
# pg_dump | psql, the -Fd -j2 pair, pgbaton start --jobs 2.

bench_workload W1b "initial copy of 8 medium tables with indexes and foreign keys"

W1B_DB=w1b
W1B_TABLES=8
W1B_ROW_BYTES=102   # heap bytes per generated row (measured: tuple, alignment, item pointer)

# w1b_sql ROWS: the SQL that builds the source database.
w1b_sql() {
  local rows=$1 i
  cat <<SQL
CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO parent SELECT g, 'parent ' || g FROM generate_series(1, 1000) g;
SQL
  for i in $(seq 1 "$W1B_TABLES"); do
    cat <<SQL
CREATE TABLE item$i (
    id         bigint NOT NULL,
    parent_id  int NOT NULL,
    qty        int NOT NULL,
    price      numeric(12,2) NOT NULL,
    created_at timestamptz NOT NULL,
    note       text);
INSERT INTO item$i
SELECT g, (1 + (g * 7919) % 1000)::int, (g % 97)::int, ((g % 100000) / 100.0)::numeric(12,2),
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', md5(g::text || '$i')
FROM generate_series(1::bigint, $rows) g;
ALTER TABLE item$i ADD PRIMARY KEY (id);
CREATE INDEX item${i}_parent_id_idx ON item$i (parent_id);
ALTER TABLE item$i ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
SQL
  done
  echo "VACUUM ANALYZE;"
}

wl_W1b() {
  local rows db_bytes heap_bytes
  rows=$((W1B_TABLE_MB * 1048576 / W1B_ROW_BYTES))
  bench_log "W1b: generating $W1B_TABLES tables of $rows rows (~$W1B_TABLE_MB MB each) on the source"
  bench_reset_db source "$W1B_DB"
  w1b_sql "$rows" | bench_psql source "$W1B_DB" -o /dev/null >"$BENCH_CLIENT/w1b_gen.log" 2>&1 || {
    bench_show_log "$BENCH_CLIENT/w1b_gen.log" "generating W1b"
    bench_die "W1b: cannot build the source database"
  }
  db_bytes=$(bench_scalar source "$W1B_DB" "SELECT pg_database_size(current_database())")
  heap_bytes=$(bench_scalar source "$W1B_DB" \
    "SELECT (sum(pg_relation_size(oid)) / $W1B_TABLES)::bigint FROM pg_class WHERE relname ~ '^item[0-9]+\$' AND relkind = 'r'")
  BENCH_TITLE["W1b"]="$W1B_TABLES tables x $(bench_mb "$heap_bytes") MB (+ 2 indexes, 1 FK each): database $(bench_mb "$db_bytes") MB; $BENCH_ROUNDS rounds"
  BENCH_PARAMS["W1b"]="\"tables\": $W1B_TABLES, \"rows_per_table\": $rows, \"table_heap_bytes\": $heap_bytes, \"source_db_bytes\": $db_bytes"
  bench_log "W1b: ${BENCH_TITLE["W1b"]}"
  bench_pgbaton_contender W1b
  bench_interleave W1b "$BENCH_ROUNDS" target "$W1B_DB" c_dump_psql c_dir_j2 c_pgbaton
  bench_goal W1b c_pgbaton c_dump_psql 0.75
  bench_reset_db target "$W1B_DB"
}
