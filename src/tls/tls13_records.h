// TLS 1.3 record protection (RFC 8446 §5.2-§5.5, §7.1-§7.3) for an established connection:
// once OpenSSL has finished the handshake, a session keeps only its traffic secrets, keys,
// IVs and sequence numbers (about 200 bytes) instead of the whole SSL object (about 15 KB),
// which is what makes an idle wss connection small. Pure functions over bytes; no socket.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace wshub::tls {

enum class Aead : uint8_t { aes128_gcm, aes256_gcm, chacha20_poly1305 };

// One direction's state.
struct TrafficKeys {
  uint8_t secret[48];  // the current application traffic secret (hash-sized)
  uint8_t key[32];
  uint8_t iv[12];
  uint64_t sequence = 0;
};

struct Tls13Records {
  Aead aead = Aead::aes128_gcm;
  uint8_t hash_size = 32;  // SHA-256: 32, SHA-384: 48
  TrafficKeys read;        // client to server
  TrafficKeys write;       // server to client
};

constexpr size_t kRecordHeaderSize = 5;
constexpr size_t kAeadTagSize = 16;
constexpr size_t kMaxRecordPlaintextSize = 16384;
// The largest TLSCiphertext.length a peer may send (§5.2: 2^14 + 256).
constexpr size_t kMaxRecordCiphertextSize = 16384 + 256;

enum ContentType : uint8_t {
  kContentAlert = 21,
  kContentHandshake = 22,
  kContentApplicationData = 23,
};

// Sets up `out` from the cipher suite's IANA id (0x1301, 0x1302 or 0x1303) and the two
// application traffic secrets (each `secret_size` bytes, the suite's hash size). False for an
// unknown suite or a size mismatch.
bool init_tls13_records(uint16_t suite, const uint8_t* client_secret, const uint8_t* server_secret,
                        size_t secret_size, Tls13Records& out);

// Next generation of `keys` after a KeyUpdate (§7.2): secret, key and IV; sequence back to 0.
bool update_traffic_keys(Aead aead, uint8_t hash_size, TrafficKeys& keys);

// Seals the concatenation of `parts` (at most kMaxRecordPlaintextSize bytes in all) as one
// record of inner type `type` into `out`, which needs their size + 22 bytes. Returns the
// record size, 0 on failure.
size_t seal_record(Tls13Records& records, uint8_t type, const Bytes* parts, int count, uint8_t* out);

// Opens one record: `header` is its 5 bytes, `body` its TLSCiphertext.length bytes. The
// plaintext goes to `out` (at least body.size() - 16 bytes); on success `type` is the inner
// content type and the return value the plaintext size. Returns -1 when authentication
// fails or the inner plaintext is malformed.
long open_record(Tls13Records& records, const uint8_t* header, Bytes body, uint8_t* out,
                 uint8_t& type);

}  // namespace wshub::tls
