#include "store/sqlite_db.h"

namespace wshub::store {

SqliteConnection::~SqliteConnection() { close(); }

bool SqliteConnection::open(const std::string& path, bool create) {
  close();
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    code_ = rc;
    error_ = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    close();
    return false;
  }
  sqlite3_extended_result_codes(db_, 1);
  return true;
}

void SqliteConnection::close() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

bool SqliteConnection::fail(int code) {
  code_ = code;
  error_ = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  return false;
}

bool SqliteConnection::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return true;
  code_ = sqlite3_extended_errcode(db_);
  error_ = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return false;
}

bool SqliteConnection::query_int(std::string_view sql, int64_t& out) {
  SqliteStatement statement;
  if (!statement.prepare(*this, sql)) return false;
  const int rc = statement.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? (error_ = "no row", false) : false;
  out = statement.column_int(0);
  return true;
}

bool SqliteConnection::query_text(std::string_view sql, std::string& out) {
  SqliteStatement statement;
  if (!statement.prepare(*this, sql)) return false;
  const int rc = statement.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? (error_ = "no row", false) : false;
  out = std::string(statement.column_text(0));
  return true;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

bool SqliteStatement::prepare(SqliteConnection& connection, std::string_view sql) {
  connection_ = &connection;
  if (stmt_) sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  const int rc = sqlite3_prepare_v3(connection.handle(), sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt_, nullptr);
  if (rc != SQLITE_OK) return connection.fail(rc);
  return true;
}

int SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) connection_->fail(rc);
  return rc;
}

}  // namespace wshub::store
