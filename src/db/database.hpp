// The user database's drivers: SQLite (embedded) or PostgreSQL (libpq), behind the public
// interface of capstan/database.hpp.
//
// A Database is a connection owned by one worker thread (never shared between threads).
// Lookups and sql actions run on the WorkerPool (worker_pool.hpp), never on an event loop.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/database.hpp"

namespace capstan::db {

// The parameter named `name`, or the `position`-th (1-based) without a name; nullptr if none.
const Param* find_named(const std::vector<Param>& params, std::string_view name) noexcept;
const Param* find_unnamed(const std::vector<Param>& params, int position) noexcept;

// provider "sqlite": `target` is a file path; "postgres": a libpq connection string.
// Connects at once, so a bad target is reported when the server starts.
Expected<std::unique_ptr<Database>> open_database(std::string_view provider, const std::string& target);

}  // namespace capstan::db
