#include "tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <mutex>

#include "tls/tls_context.h"

namespace wshub::tls {

namespace {

// The largest plaintext of one TLS record: the scratch buffer is handed to the server once it
// cannot take another whole record, so a read of many records costs one on_data call.
constexpr size_t kMaxRecordPlaintext = 16 * 1024;

}  // namespace

// The BIO OpenSSL reads from and writes to: reads serve the span the reactor is handing in,
// writes go straight to the reactor's sink. Both run only inside on_input/on_output/on_close.
struct SessionBio {
  static int write(BIO* bio, const char* data, int size) {
    auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (!session->output_) return -1;
    session->output_->ciphertext({reinterpret_cast<const uint8_t*>(data), size_t(size)});
    return size;
  }
  static int read(BIO* bio, char* data, int size) {
    auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (session->input_left_ == 0) {
      BIO_set_retry_read(bio);
      return -1;
    }
    const size_t n = std::min(session->input_left_, size_t(size));
    std::memcpy(data, session->input_, n);
    session->input_ += n;
    session->input_left_ -= n;
    return int(n);
  }
  static long ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "wshub-stream");
      BIO_meth_set_write(made, write);
      BIO_meth_set_read(made, read);
      BIO_meth_set_ctrl(made, ctrl);
      BIO_meth_set_create(made, create);
      return made;
    }();
    return m;
  }
};

TlsSession* TlsContext::new_session() {
  std::shared_ptr<const CertificateSet> set = current();
  auto* session = new (std::nothrow) TlsSession(*this, set);
  if (!session) return nullptr;
  session->ssl_ = SSL_new(set->default_context);
  BIO* bio = session->ssl_ ? BIO_new(SessionBio::method()) : nullptr;
  if (!bio) {
    ERR_clear_error();
    delete session;
    return nullptr;
  }
  BIO_set_data(bio, session);
  SSL_set_bio(session->ssl_, bio, bio);  // one reference, used both ways
  SSL_set_accept_state(session->ssl_);
  return session;
}

TlsSession::TlsSession(TlsContext& context, std::shared_ptr<const CertificateSet> certificates)
    : context_(&context), certificates_(std::move(certificates)) {}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::note_failure(TlsFailure failure) {
  if (state_ != State::handshake) return;
  state_ = State::failed;
  failure_ = failure;
  certificates_.reset();
  context_->counters().count(failure);
}

bool TlsSession::fail(int ssl_error) {
  error_code_ = ERR_peek_last_error();
  ERR_clear_error();
  if (state_ != State::handshake) return false;  // a broken record later: just hang up
  TlsFailure failure = TlsFailure::protocol_error;
  if (error_code_) failure = classify_tls_error(error_code_);
  else if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN)
    failure = TlsFailure::closed_in_handshake;
  note_failure(failure);
  return false;
}

bool TlsSession::handshake() {
  const int result = SSL_do_handshake(ssl_);
  if (result != 1) {
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ) return true;  // every byte given is consumed
    return fail(error);
  }
  state_ = State::established;
  certificates_.reset();
  TlsCounters& counters = context_->counters();
  counters.handshakes.fetch_add(1, std::memory_order_relaxed);
  if (SSL_session_reused(ssl_)) counters.resumed.fetch_add(1, std::memory_order_relaxed);
  if (SSL_version(ssl_) == TLS1_3_VERSION) counters.tls13.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool TlsSession::on_input(MutableBytes input, MutableBytes scratch, net::FilterOutput& out) {
  if (state_ == State::failed) return false;
  input_ = input.data();
  input_left_ = input.size();
  output_ = &out;
  struct Clear {
    TlsSession& s;
    ~Clear() {
      s.input_ = nullptr;
      s.input_left_ = 0;
      s.output_ = nullptr;
    }
  } clear{*this};

  if (state_ == State::handshake) {
    if (!handshake()) return false;
    if (state_ != State::established) return true;
  }
  // The client's first request often arrives in the same read as its Finished message.
  size_t filled = 0;
  for (;;) {
    size_t n = 0;
    const int result = SSL_read_ex(ssl_, scratch.data() + filled, scratch.size() - filled, &n);
    if (result == 1) {
      filled += n;
      if (scratch.size() - filled >= kMaxRecordPlaintext) continue;
      if (!out.plaintext(scratch.first(filled))) return true;  // the stream closed
      filled = 0;
      continue;
    }
    const int error = SSL_get_error(ssl_, result);
    if (filled && !out.plaintext(scratch.first(filled))) return true;
    if (error == SSL_ERROR_WANT_READ) return true;
    if (error == SSL_ERROR_ZERO_RETURN) return false;  // close_notify: the peer is done
    return fail(error);
  }
}

bool TlsSession::on_output(const iovec* iov, int count, net::FilterOutput& out) {
  if (state_ != State::established) return false;
  output_ = &out;
  bool ok = true;
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (count > 1 && total <= kMaxRecordPlaintext) {
    // A frame header and its payload go out as one record, not two.
    thread_local uint8_t gather[kMaxRecordPlaintext];
    size_t at = 0;
    for (int i = 0; i < count; ++i) {
      std::memcpy(gather + at, iov[i].iov_base, iov[i].iov_len);
      at += iov[i].iov_len;
    }
    size_t written = 0;
    ok = SSL_write_ex(ssl_, gather, at, &written) == 1;
  } else {
    for (int i = 0; i < count && ok; ++i) {
      if (iov[i].iov_len == 0) continue;
      size_t written = 0;
      ok = SSL_write_ex(ssl_, iov[i].iov_base, iov[i].iov_len, &written) == 1;
    }
  }
  if (!ok) ERR_clear_error();
  output_ = nullptr;
  return ok;
}

void TlsSession::on_close(net::FilterOutput& out) {
  if (state_ != State::established) return;
  output_ = &out;
  SSL_shutdown(ssl_);  // writes close_notify; the peer's answer is not awaited
  ERR_clear_error();
  output_ = nullptr;
}

}  // namespace wshub::tls
