// TLS for one connection as a byte filter the reactor drives (net::StreamFilter): ciphertext
// from the socket in, plaintext to the server out, and back. OpenSSL talks to it through a
// memory BIO that reads the span being handled and writes to the reactor's sink, so this
// never touches a socket and works with any reactor backend. The handshake runs on the first
// bytes; an idle established session holds no record buffers (SSL_MODE_RELEASE_BUFFERS).
#pragma once

#include <cstdint>
#include <memory>

#include "net/stream.h"
#include "tls/tls_failure.h"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace wshub::tls {

class TlsContext;
struct CertificateSet;

class TlsSession final : public net::StreamFilter {
 public:
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool on_input(MutableBytes input, MutableBytes scratch, net::FilterOutput& out) override;
  bool on_output(const iovec* iov, int count, net::FilterOutput& out) override;
  void on_close(net::FilterOutput& out) override;

  bool established() const { return state_ == State::established; }
  // Why on_input returned false during the handshake; `none` otherwise.
  TlsFailure failure() const { return failure_; }
  // The OpenSSL error behind `failure()`, for tls_error_reason; 0 when there is none.
  unsigned long error_code() const { return error_code_; }
  // Records a failure the server detected (timeout, TCP closed) so it is counted once.
  void note_failure(TlsFailure failure);

 private:
  friend class TlsContext;
  friend struct SessionBio;
  enum class State : uint8_t { handshake, established, failed };

  TlsSession(TlsContext& context, std::shared_ptr<const CertificateSet> certificates);
  bool handshake();
  bool fail(int ssl_error);

  SSL* ssl_ = nullptr;
  TlsContext* context_;
  std::shared_ptr<const CertificateSet> certificates_;  // held only while handshaking
  const uint8_t* input_ = nullptr;                      // ciphertext not yet read by OpenSSL
  size_t input_left_ = 0;
  net::FilterOutput* output_ = nullptr;  // set while the reactor is calling in
  unsigned long error_code_ = 0;
  State state_ = State::handshake;
  TlsFailure failure_ = TlsFailure::none;
};

}  // namespace wshub::tls
