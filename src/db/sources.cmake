target_sources(capstan PRIVATE
  db/database.cpp
  db/db_error.cpp
  db/sqlite_database.cpp
  db/postgres_database.cpp
  db/worker_pool.cpp
)
