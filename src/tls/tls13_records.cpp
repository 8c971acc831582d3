#include "tls/tls13_records.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace wshub::tls {

namespace {

size_t key_size(Aead aead) { return aead == Aead::aes128_gcm ? 16 : 32; }

// Cipher contexts per thread, one per AEAD and direction, set up once: a record loads its
// connection's key only when it differs from the context's last one (a key schedule costs
// about 200 ns; consecutive records of one connection, pipelined or large, skip it) and then
// its nonce. A connection stores keys, not contexts.
struct ThreadCiphers {
  struct Slot {
    EVP_CIPHER_CTX* context = nullptr;
    uint8_t key[32] = {};
    bool keyed = false;
  };
  Slot slots[2][3];  // [encrypt][aead]
  ThreadCiphers() {
    const char* names[3] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    for (int aead = 0; aead < 3; ++aead) {
      EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, names[aead], nullptr);
      for (int encrypt = 0; encrypt < 2; ++encrypt) {
        Slot& slot = slots[encrypt][aead];
        slot.context = EVP_CIPHER_CTX_new();
        if (!cipher || !slot.context ||
            EVP_CipherInit_ex2(slot.context, cipher, nullptr, nullptr, encrypt, nullptr) != 1) {
          EVP_CIPHER_CTX_free(slot.context);
          slot.context = nullptr;
        }
      }
      EVP_CIPHER_free(cipher);
    }
  }
  ~ThreadCiphers() {
    for (auto& row : slots)
      for (Slot& slot : row) {
        EVP_CIPHER_CTX_free(slot.context);
        OPENSSL_cleanse(slot.key, sizeof slot.key);
      }
  }
  // The context for `aead` in one direction, keyed with `key` and set to `nonce`; null on failure.
  EVP_CIPHER_CTX* prepare(bool encrypt, Aead aead, const uint8_t* key, const uint8_t* nonce) {
    Slot& slot = slots[encrypt][size_t(aead)];
    if (!slot.context) return nullptr;
    const size_t size = key_size(aead);
    const bool same = slot.keyed && std::memcmp(slot.key, key, size) == 0;
    if (EVP_CipherInit_ex2(slot.context, nullptr, same ? nullptr : key, nonce, encrypt, nullptr) != 1) {
      slot.keyed = false;
      return nullptr;
    }
    if (!same) {
      std::memcpy(slot.key, key, size);
      slot.keyed = true;
    }
    return slot.context;
  }
};

ThreadCiphers& thread_ciphers() {
  thread_local ThreadCiphers ciphers;
  return ciphers;
}

constexpr size_t kSmallRecord = 256;

// HKDF-Expand-Label (§7.1) for outputs no longer than the hash: one HMAC block.
bool expand_label(uint8_t hash_size, const uint8_t* secret, const char* label, uint8_t* out,
                  size_t out_size) {
  uint8_t info[2 + 1 + 255 + 1 + 1];
  const size_t label_size = std::strlen(label);
  size_t n = 0;
  info[n++] = uint8_t(out_size >> 8);
  info[n++] = uint8_t(out_size);
  info[n++] = uint8_t(6 + label_size);
  std::memcpy(info + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info + n, label, label_size);
  n += label_size;
  info[n++] = 0;  // empty context
  info[n++] = 1;  // the HKDF counter of the first block
  uint8_t block[EVP_MAX_MD_SIZE];
  unsigned int block_size = 0;
  const EVP_MD* md = hash_size == 48 ? EVP_sha384() : EVP_sha256();
  if (!HMAC(md, secret, int(hash_size), info, n, block, &block_size) || block_size < out_size) return false;
  std::memcpy(out, block, out_size);
  OPENSSL_cleanse(block, sizeof block);
  return true;
}

bool derive(Aead aead, uint8_t hash_size, TrafficKeys& keys) {
  keys.sequence = 0;
  return expand_label(hash_size, keys.secret, "key", keys.key, key_size(aead)) &&
         expand_label(hash_size, keys.secret, "iv", keys.iv, sizeof keys.iv);
}

void nonce_for(const TrafficKeys& keys, uint8_t nonce[12]) {
  std::memcpy(nonce, keys.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= uint8_t(keys.sequence >> (56 - 8 * i));
}

}  // namespace

bool init_tls13_records(uint16_t suite, const uint8_t* client_secret, const uint8_t* server_secret,
                        size_t secret_size, Tls13Records& out) {
  switch (suite) {
    case 0x1301: out.aead = Aead::aes128_gcm; out.hash_size = 32; break;
    case 0x1302: out.aead = Aead::aes256_gcm; out.hash_size = 48; break;
    case 0x1303: out.aead = Aead::chacha20_poly1305; out.hash_size = 32; break;
    default: return false;
  }
  if (secret_size != out.hash_size) return false;
  std::memcpy(out.read.secret, client_secret, secret_size);
  std::memcpy(out.write.secret, server_secret, secret_size);
  return derive(out.aead, out.hash_size, out.read) && derive(out.aead, out.hash_size, out.write);
}

bool update_traffic_keys(Aead aead, uint8_t hash_size, TrafficKeys& keys) {
  uint8_t next[48];
  if (!expand_label(hash_size, keys.secret, "traffic upd", next, hash_size)) return false;
  std::memcpy(keys.secret, next, hash_size);
  OPENSSL_cleanse(next, sizeof next);
  return derive(aead, hash_size, keys);
}

size_t seal_record(Tls13Records& records, uint8_t type, const Bytes* parts, int count, uint8_t* out) {
  ThreadCiphers& t = thread_ciphers();
  size_t plain = 0;
  for (int i = 0; i < count; ++i) plain += parts[i].size();
  if (plain > kMaxRecordPlaintextSize) return 0;
  const size_t inner = plain + 1;
  const size_t length = inner + kAeadTagSize;
  out[0] = kContentApplicationData;  // the outer type is always application_data (§5.2)
  out[1] = 0x03;
  out[2] = 0x03;
  out[3] = uint8_t(length >> 8);
  out[4] = uint8_t(length);
  uint8_t nonce[12];
  nonce_for(records.write, nonce);
  int n = 0;
  uint8_t* body = out + kRecordHeaderSize;
  EVP_CIPHER_CTX* context = t.prepare(true, records.aead, records.write.key, nonce);
  bool ok = context && EVP_EncryptUpdate(context, nullptr, &n, out, int(kRecordHeaderSize)) == 1;
  size_t at = 0;
  if (plain <= kSmallRecord) {
    // A small record (a frame header and a short payload) is one update: each costs ~30 ns.
    uint8_t inner_bytes[kSmallRecord + 1];
    size_t k = 0;
    for (int i = 0; i < count; ++i) {
      if (!parts[i].empty()) std::memcpy(inner_bytes + k, parts[i].data(), parts[i].size());
      k += parts[i].size();
    }
    inner_bytes[k++] = type;
    ok = ok && EVP_EncryptUpdate(context, body, &n, inner_bytes, int(k)) == 1;
    at = size_t(n);
  } else {
    for (int i = 0; i < count && ok; ++i) {
      if (parts[i].empty()) continue;
      ok = EVP_EncryptUpdate(context, body + at, &n, parts[i].data(), int(parts[i].size())) == 1;
      at += size_t(n);
    }
    ok = ok && EVP_EncryptUpdate(context, body + at, &n, &type, 1) == 1;
    at += size_t(n);
  }
  int f = 0;
  ok = ok && EVP_EncryptFinal_ex(context, body + at, &f) == 1 &&
       EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, int(kAeadTagSize), body + inner) == 1;
  if (!ok) return 0;
  ++records.write.sequence;
  return kRecordHeaderSize + length;
}

long open_record(Tls13Records& records, const uint8_t* header, Bytes body, uint8_t* out,
                 uint8_t& type) {
  if (body.size() <= kAeadTagSize || body.size() > kMaxRecordCiphertextSize) return -1;
  ThreadCiphers& t = thread_ciphers();
  uint8_t nonce[12];
  nonce_for(records.read, nonce);
  const size_t sealed = body.size() - kAeadTagSize;
  int n = 0;
  int f = 0;
  EVP_CIPHER_CTX* context = t.prepare(false, records.aead, records.read.key, nonce);
  bool ok = context && EVP_DecryptUpdate(context, nullptr, &n, header, int(kRecordHeaderSize)) == 1 &&
            EVP_DecryptUpdate(context, out, &n, body.data(), int(sealed)) == 1 &&
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, int(kAeadTagSize),
                                const_cast<uint8_t*>(body.data() + sealed)) == 1 &&
            EVP_DecryptFinal_ex(context, out + n, &f) == 1;
  if (!ok) return -1;
  ++records.read.sequence;
  // The inner type is the last non-zero byte; zeros after it are padding (§5.4).
  size_t size = size_t(n + f);
  while (size > 0 && out[size - 1] == 0) --size;
  if (size == 0) return -1;
  type = out[--size];
  if (size > kMaxRecordPlaintextSize) return -1;
  return long(size);
}

}  // namespace wshub::tls
