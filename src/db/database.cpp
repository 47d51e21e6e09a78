// What both drivers share: reading a query for its ":name" parameters (outside quotes,
// comments and casts), the rewrite of those to PostgreSQL's "$n", and the choice of driver.
#include "db/database.hpp"

#include <charconv>

#include "db/postgres_database.hpp"
#include "db/sqlite_database.hpp"

namespace capstan::db {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
// Part of an identifier or keyword as PostgreSQL reads one ('$' and bytes >= 0x80 included):
// "a$1" is a name, not "a" then parameter 1.
bool word_char(char c) { return name_char(c) || c == '$' || static_cast<unsigned char>(c) >= 0x80; }

// Where the quoted text opened at `i` (a quote character) ends: just past its closing quote,
// a doubled quote standing for one; with `backslashes`, "\x" escapes too (PostgreSQL E'...').
size_t skip_quoted(std::string_view sql, size_t i, bool backslashes) {
  const char quote = sql[i];
  for (++i; i < sql.size(); ++i) {
    if (backslashes && sql[i] == '\\') {
      ++i;
    } else if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return sql.size();  // unterminated: the rest is quoted
}

// "/* ... */", nested as PostgreSQL nests them; `i` is at the '/'.
size_t skip_block_comment(std::string_view sql, size_t i) {
  int depth = 0;
  while (i < sql.size()) {
    if (sql.compare(i, 2, "/*") == 0) {
      ++depth;
      i += 2;
    } else if (sql.compare(i, 2, "*/") == 0) {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return sql.size();
}

// The tag of a dollar quote starting at `i` ("$$" or "$tag$"), or npos when there is none.
size_t dollar_tag_length(std::string_view sql, size_t i) {
  size_t j = i + 1;
  if (j < sql.size() && sql[j] != '$') {
    if (!name_start(sql[j]) && static_cast<unsigned char>(sql[j]) < 0x80) return std::string_view::npos;
    while (j < sql.size() && (name_char(sql[j]) || static_cast<unsigned char>(sql[j]) >= 0x80)) ++j;
  }
  if (j >= sql.size() || sql[j] != '$') return std::string_view::npos;
  return j + 1 - i;
}

// Walks `sql` and reports each parameter outside quotes and comments: on_name(begin, end)
// for ":name" (begin at the colon), on_number(n) for "$n".
template <class OnName, class OnNumber>
void scan_parameters(std::string_view sql, OnName on_name, OnNumber on_number) {
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'') {
      // E'...' (not the end of a longer word) takes backslash escapes.
      const bool escape = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && !(i > 1 && word_char(sql[i - 2]));
      i = skip_quoted(sql, i, escape);
    } else if (c == '"' || c == '`') {
      i = skip_quoted(sql, i, false);
    } else if (sql.compare(i, 2, "--") == 0) {
      const size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = skip_block_comment(sql, i);
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      i += 2;  // a cast, "::type"
    } else if (c == ':' && i + 1 < sql.size() && name_start(sql[i + 1])) {
      size_t end = i + 2;
      while (end < sql.size() && name_char(sql[end])) ++end;
      on_name(i, end);
      i = end;
    } else if (c == '$') {
      size_t end = i + 1;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
      if (end > i + 1) {
        long n = 0;
        const auto [ptr, ec] = std::from_chars(sql.data() + i + 1, sql.data() + end, n);
        on_number(ec == std::errc{} && ptr == sql.data() + end ? n : -1);
        i = end;
      } else if (const size_t tag = dollar_tag_length(sql, i); tag != std::string_view::npos) {
        const size_t close = sql.find(sql.substr(i, tag), i + tag);
        i = close == std::string_view::npos ? sql.size() : close + tag;
      } else {
        ++i;
      }
    } else if (word_char(c)) {
      // Whole words, so "a$1" stays a name; a quote right after one is read next round
      // (E'...', U&'...').
      while (i < sql.size() && word_char(sql[i])) ++i;
    } else {
      ++i;
    }
  }
}

}  // namespace

std::vector<std::string> Database::named_parameters(std::string_view sql) {
  std::vector<std::string> names;
  scan_parameters(
      sql,
      [&](size_t begin, size_t end) {
        std::string_view name = sql.substr(begin + 1, end - begin - 1);
        for (const std::string& seen : names) {
          if (seen == name) return;
        }
        names.emplace_back(name);
      },
      [](long) {});
  return names;
}

PositionalQuery to_positional(std::string_view sql) {
  PositionalQuery q;
  size_t copied = 0;
  scan_parameters(
      sql,
      [&](size_t begin, size_t end) {
        std::string_view name = sql.substr(begin + 1, end - begin - 1);
        size_t number = 0;
        while (number < q.names.size() && q.names[number] != name) ++number;
        if (number == q.names.size()) q.names.emplace_back(name);
        q.sql.append(sql.substr(copied, begin - copied));
        q.sql += '$';
        q.sql += std::to_string(number + 1);
        copied = end;
      },
      [&](long n) {
        if (n < 0 || n > 65535) {
          q.max_positional = -1;  // not a parameter number PostgreSQL takes
        } else if (q.max_positional >= 0 && n > q.max_positional) {
          q.max_positional = static_cast<int>(n);
        }
      });
  q.sql.append(sql.substr(copied));
  return q;
}

Expected<std::unique_ptr<Database>> open_database(std::string_view provider, const std::string& target) {
  auto widen = [](auto opened) -> Expected<std::unique_ptr<Database>> {
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<Database>(*std::move(opened));
  };
  if (provider == "sqlite") return widen(SqliteDatabase::open(target));
  if (provider == "postgres") return widen(PostgresDatabase::open(target));
  return Error(DbError::open_failed, "unknown database provider '" + std::string(provider) + "' (sqlite or postgres)");
}

const Param* find_named(const std::vector<Param>& params, std::string_view name) noexcept {
  for (const Param& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const Param* find_unnamed(const std::vector<Param>& params, int position) noexcept {
  for (const Param& p : params) {
    if (p.name.empty() && --position == 0) return &p;
  }
  return nullptr;
}

}  // namespace capstan::db
