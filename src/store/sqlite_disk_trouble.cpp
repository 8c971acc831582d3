// What the writer tells an operator when the disk under the database misbehaves: a failed write
// named by its cause (a full disk, a read-only or immutable file, an I/O error), and the check
// that the database file and its WAL are still the ones opened at start. A file deleted under a
// running server still takes writes (into an inode nothing names any more), and everything
// written there vanishes at the next start: the writer refuses to acknowledge it.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite_internal.h"

namespace wshub::store {

namespace {

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

std::string lost_sentence(const std::string& file, const std::string& database) {
  return "the database file " + file + " was deleted or replaced while wshub ran: what is written now would " +
         "vanish at the next start, so publications are refused; restart wshub to start a new database " +
         "at " + database + " (its history is lost and channels get a new epoch), or restore a backup";
}

}  // namespace

const std::string& SqliteWriter::check_file() {
  if (!file_lost_.empty() || database_fd_ < 0) return file_lost_;
  struct stat opened {}, named {};
  // nlink 0: unlinked. Another inode at the path: moved away and replaced (a new file there is
  // not what this connection writes to).
  if (::fstat(database_fd_, &opened) != 0 || opened.st_nlink == 0 || ::stat(options_.path.c_str(), &named) != 0 ||
      !same_file(opened, named)) {
    file_lost_ = lost_sentence(options_.path, options_.path);
    return file_lost_;
  }
  // The WAL holds every commit since the last checkpoint: deleting it loses them just the same.
  // SQLite keeps it (at the same inode) while any connection is open.
  const std::string wal = options_.path + "-wal";
  struct stat log {};
  const bool wal_there = ::stat(wal.c_str(), &log) == 0;
  if (wal_inode_ == 0) {
    if (wal_there) wal_inode_ = uint64_t(log.st_ino);
  } else if (!wal_there || uint64_t(log.st_ino) != wal_inode_) {
    file_lost_ = lost_sentence(wal, options_.path);
  }
  return file_lost_;
}

std::string SqliteWriter::failure_sentence() const {
  const int code = db_.code();
  const int os_error = sqlite3_system_errno(db_.handle());
  const std::string& path = options_.path;
  const std::string os_reason = os_error ? std::string(std::strerror(os_error)) : std::string();
  const std::string detail = " (SQLite: " + db_.error() + (os_reason.empty() ? "" : "; " + os_reason) + ")";
  // SQLite says FULL for a short write (and clears errno then, so a size cap and a full disk look
  // alike but for the cap being set); growing the -shm file says IOERR_SHMSIZE with ENOSPC.
  const bool no_space = os_error == ENOSPC || os_error == EDQUOT;
  if ((code & 0xff) == SQLITE_FULL && !no_space && options_.max_file_bytes)
    return "the database " + path + " reached its size cap of " + std::to_string(options_.max_file_bytes) +
           " bytes" + detail + ": raise the cap or lower the namespaces' history";
  if ((code & 0xff) == SQLITE_FULL || no_space)
    return "the disk holding the database " + path + " is full" + detail +
           ": publications are refused until space is freed (no restart is needed)";
  if ((code & 0xff) == SQLITE_READONLY || os_error == EROFS || os_error == EPERM || os_error == EACCES)
    return "the database " + path + " (or its -wal/-shm file) cannot be written" + detail +
           ": it is read-only, immutable (chattr +i) or on a read-only file system; make it writable";
  if ((code & 0xff) == SQLITE_IOERR)
    return "the disk holding the database " + path + " failed a write" + detail +
           ": check the device (dmesg); publications are refused while it fails";
  return "the store could not write the publication to " + path + detail;
}

}  // namespace wshub::store
