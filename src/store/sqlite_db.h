// Thin owners of SQLite handles for the store layer: a connection, a prepared statement, and
// the few calls every part needs. Errors are values (SQLite's code and its sentence); nothing
// here knows the schema or the hub.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::store {

class SqliteStatement;

class SqliteConnection {
 public:
  SqliteConnection() = default;
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Opens `path` (creating it when `create`); false with error() set on failure.
  bool open(const std::string& path, bool create);
  void close();
  // Runs statements without results; false with error() set.
  bool exec(std::string_view sql);
  // The first column of the first row of `sql` as an integer / text; false on error or no row.
  bool query_int(std::string_view sql, int64_t& out);
  bool query_text(std::string_view sql, std::string& out);

  sqlite3* handle() const { return db_; }
  int code() const { return code_; }  // the last failure's extended result code
  const std::string& error() const { return error_; }
  // Records the connection's current error (after a failed step or prepare).
  bool fail(int code);

 private:
  sqlite3* db_ = nullptr;
  int code_ = SQLITE_OK;
  std::string error_;
};

// One prepared statement, reset after each use.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  bool prepare(SqliteConnection& connection, std::string_view sql);
  void bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  // The bytes stay the caller's until the statement is reset.
  void bind_text(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), int(value.size()), SQLITE_STATIC);
  }
  void bind_blob(int index, std::string_view value) {
    sqlite3_bind_blob(stmt_, index, value.empty() ? "" : value.data(), int(value.size()), SQLITE_STATIC);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code (recorded on the connection).
  int step();
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  std::string_view column_text(int index) const {
    const void* bytes = sqlite3_column_blob(stmt_, index);
    return {static_cast<const char*>(bytes), size_t(sqlite3_column_bytes(stmt_, index))};
  }

 private:
  SqliteConnection* connection_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace wshub::store
