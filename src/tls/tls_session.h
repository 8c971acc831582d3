// TLS for one connection as a byte filter the reactor drives (net::StreamFilter): ciphertext
// from the socket in, plaintext to the server out, and back. OpenSSL runs the handshake
// through a BIO that reads the span being handled and writes to the reactor's sink, so this
// never touches a socket and works with any reactor backend. Once a TLS 1.3 handshake is done
// the SSL object is freed and records are protected here (tls13_records.h) with ~200 bytes of
// keys, so an idle wss connection stays small; TLS 1.2 connections keep OpenSSL throughout.
#pragma once

#include <cstdint>
#include <memory>

#include "net/stream.h"
#include "tls/tls13_records.h"
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

  bool established() const { return state_ == State::openssl || state_ == State::records; }
  // True once the SSL object is gone and records are protected here (TLS 1.3).
  bool compact() const { return state_ == State::records; }
  // True until the handshake finished or failed.
  bool handshaking() const { return state_ == State::handshake; }
  // Why on_input returned false during the handshake; `none` otherwise.
  TlsFailure failure() const { return failure_; }
  // The OpenSSL error behind `failure()`, for tls_error_reason; 0 when there is none.
  unsigned long error_code() const { return error_code_; }
  // Records a failure the server detected (timeout, TCP closed) so it is counted once.
  void note_failure(TlsFailure failure);
  // The peer closed TCP during the handshake: `closed_after_certificate` when it had been sent
  // the certificate (it usually does not trust it), `closed_in_handshake` before that.
  void note_peer_closed();

 private:
  friend class TlsContext;
  friend struct SessionBio;
  enum class State : uint8_t { handshake, openssl, records, failed, closed };

  TlsSession(TlsContext& context, std::shared_ptr<const CertificateSet> certificates);
  bool handshake();
  bool fail(int ssl_error);
  void take_secret(const char* line);
  void count_written_records(const uint8_t* data, size_t size);
  void switch_to_records();
  bool read_openssl(MutableBytes scratch, net::FilterOutput& out);
  bool read_records(MutableBytes scratch, net::FilterOutput& out);
  bool handle_record(const uint8_t* header, Bytes body, MutableBytes scratch, size_t& filled,
                     net::FilterOutput& out);
  bool write_records(const iovec* iov, int count, net::FilterOutput& out);
  bool seal_control(uint8_t type, Bytes content, net::FilterOutput& out);
  void release_partial();

  SSL* ssl_ = nullptr;  // during the handshake, and for TLS 1.2 connections
  TlsContext* context_;
  std::shared_ptr<const CertificateSet> certificates_;  // held only while handshaking
  const uint8_t* input_ = nullptr;                      // ciphertext not yet consumed
  size_t input_left_ = 0;
  net::FilterOutput* output_ = nullptr;  // set while the reactor is calling in
  unsigned long error_code_ = 0;
  // A record split across reads: allocated while one is incomplete, freed once it is whole.
  uint8_t* partial_ = nullptr;
  uint16_t partial_size_ = 0;
  // Records OpenSSL wrote in the current handshake step: after the last step, the number
  // sealed with the application key (session tickets), which is the write sequence to go on.
  uint16_t written_records_ = 0;
  uint16_t written_skip_ = 0;  // body bytes of the record being written
  uint8_t written_header_[5];
  uint8_t written_header_size_ = 0;
  uint8_t secrets_ = 0;  // bit 0: client application secret seen, bit 1: server's
  bool certificate_sent_ = false;
  State state_ = State::handshake;
  TlsFailure failure_ = TlsFailure::none;
  Tls13Records records_;
};

}  // namespace wshub::tls
