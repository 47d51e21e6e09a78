# The database layer and the relative-date formatter. The Postgres* tests need a server:
# scripts/postgres.sh start DIR prints the connection string for CAPSTAN_TEST_POSTGRES.
target_sources(capstan_unit_tests PRIVATE
  relative_time_test.cpp
  sqlite_database_test.cpp
  postgres_database_test.cpp
  worker_pool_test.cpp
)
