// The client side of TLS for wss:// targets: one OpenSSL context per run and a session per
// connection, driven on non-blocking sockets. Knows nothing about WebSocket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace wshub::load {

struct TlsOptions {
  bool insecure = false;  // --insecure: no certificate or host name verification
  std::string ca_file;    // --ca FILE: trust these roots instead of the system's
};

class TlsClientContext {
 public:
  TlsClientContext() = default;
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;
  ~TlsClientContext();

  bool init(const TlsOptions& options, std::string& why);
  SSL_CTX* get() const { return context_; }
  bool verifies() const { return verify_; }

 private:
  SSL_CTX* context_ = nullptr;
  bool verify_ = true;
};

enum class TlsStep : uint8_t { done, want_read, want_write, failed };

// A session on a connected socket. `server_name` is sent as SNI (unless it is an IP literal)
// and checked against the certificate when the context verifies.
SSL* tls_new_session(const TlsClientContext& context, int fd, const std::string& server_name,
                     std::string& why);
// One step of the handshake; on `failed`, `why` says why (certificate errors by name).
TlsStep tls_handshake_step(SSL* ssl, std::string& why);

enum class TlsIo : uint8_t { ok, want_read, want_write, closed, failed };
// Read or write up to `size` bytes; `done` is how many on `ok`.
TlsIo tls_read(SSL* ssl, uint8_t* data, size_t size, size_t& done);
TlsIo tls_write(SSL* ssl, const uint8_t* data, size_t size, size_t& done);
void tls_free_session(SSL* ssl);

}  // namespace wshub::load
