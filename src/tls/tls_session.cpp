#include "tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tls/tls_context.h"

namespace wshub::tls {

namespace {

constexpr size_t kMaxRecordSize = kRecordHeaderSize + kMaxRecordCiphertextSize;
// RFC 8446 §5.5: AES-GCM keys must change before about 2^24.5 full records; rekey well before.
constexpr uint64_t kRecordsPerKey = uint64_t(1) << 24;
// Sealed records are gathered up to this size before one write to the socket.
constexpr size_t kSealBatch = 4 * (kMaxRecordPlaintextSize + 22);

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// The BIO OpenSSL reads from and writes to: reads serve the span the reactor is handing in,
// writes go straight to the reactor's sink. Both run only inside on_input/on_output/on_close.
struct SessionBio {
  static int write(BIO* bio, const char* data, int size) {
    auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (!session->output_) return -1;
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    if (session->state_ == TlsSession::State::handshake) session->count_written_records(bytes, size_t(size));
    session->output_->ciphertext({bytes, size_t(size)});
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
  // Each handshake message OpenSSL reads or writes; installed only while handshaking, to learn
  // whether the client was sent the certificate before it went away.
  static void message(int write, int, int content_type, const void* data, size_t size, SSL* ssl, void*) {
    if (!write || content_type != SSL3_RT_HANDSHAKE || size == 0) return;
    if (static_cast<const uint8_t*>(data)[0] != SSL3_MT_CERTIFICATE) return;
    if (auto* session = static_cast<TlsSession*>(SSL_get_app_data(ssl))) session->certificate_sent_ = true;
  }
  // OpenSSL's key log: the only public way to learn the TLS 1.3 application traffic secrets.
  static void keylog(const SSL* ssl, const char* line) {
    if (auto* session = static_cast<TlsSession*>(SSL_get_app_data(ssl))) session->take_secret(line);
  }
};

void install_session_keylog(SSL_CTX* context) { SSL_CTX_set_keylog_callback(context, SessionBio::keylog); }

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
  SSL_set_app_data(session->ssl_, session);
  SSL_set_msg_callback(session->ssl_, SessionBio::message);
  SSL_set_accept_state(session->ssl_);
  return session;
}

TlsSession::TlsSession(TlsContext& context, std::shared_ptr<const CertificateSet> certificates)
    : context_(&context), certificates_(std::move(certificates)) {}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
  release_partial();
  OPENSSL_cleanse(&records_, sizeof records_);
}

void TlsSession::release_partial() {
  std::free(partial_);
  partial_ = nullptr;
  partial_size_ = 0;
}

void TlsSession::note_peer_closed() {
  note_failure(certificate_sent_ ? TlsFailure::closed_after_certificate : TlsFailure::closed_in_handshake);
}

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
  if (state_ != State::handshake) {
    state_ = State::closed;  // a broken record later: just hang up
    return false;
  }
  TlsFailure failure = TlsFailure::protocol_error;
  if (error_code_) failure = classify_tls_error(error_code_);
  else if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN)
    failure = certificate_sent_ ? TlsFailure::closed_after_certificate : TlsFailure::closed_in_handshake;
  note_failure(failure);
  return false;
}

void TlsSession::take_secret(const char* line) {
  const std::string_view text(line);
  uint8_t* secret = nullptr;
  uint8_t bit = 0;
  if (text.rfind("CLIENT_TRAFFIC_SECRET_0 ", 0) == 0) {
    secret = records_.read.secret;
    bit = 1;
  } else if (text.rfind("SERVER_TRAFFIC_SECRET_0 ", 0) == 0) {
    secret = records_.write.secret;
    bit = 2;
  } else {
    return;
  }
  const size_t last_space = text.rfind(' ');
  const std::string_view hex = text.substr(last_space + 1);
  if (hex.size() != 64 && hex.size() != 96) return;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return;
    secret[i] = uint8_t(high << 4 | low);
  }
  records_.hash_size = uint8_t(hex.size() / 2);
  secrets_ |= bit;
}

// Follows record boundaries in what OpenSSL writes during one handshake step.
void TlsSession::count_written_records(const uint8_t* data, size_t size) {
  while (size > 0) {
    if (written_skip_ > 0) {
      const size_t n = std::min<size_t>(written_skip_, size);
      written_skip_ = uint16_t(written_skip_ - n);
      data += n;
      size -= n;
      continue;
    }
    written_header_[written_header_size_++] = *data++;
    --size;
    if (written_header_size_ == kRecordHeaderSize) {
      written_skip_ = uint16_t(written_header_[3] << 8 | written_header_[4]);
      written_header_size_ = 0;
      ++written_records_;
    }
  }
}

bool TlsSession::handshake() {
  written_records_ = 0;
  const int result = SSL_do_handshake(ssl_);
  if (result != 1) {
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ) return true;  // every byte given is consumed
    return fail(error);
  }
  state_ = State::openssl;
  certificates_.reset();
  SSL_set_msg_callback(ssl_, nullptr);  // TLS 1.2 keeps the SSL object: no call per record
  TlsCounters& counters = context_->counters();
  counters.handshakes.fetch_add(1, std::memory_order_relaxed);
  if (SSL_session_reused(ssl_)) counters.resumed.fetch_add(1, std::memory_order_relaxed);
  if (SSL_version(ssl_) == TLS1_3_VERSION) {
    counters.tls13.fetch_add(1, std::memory_order_relaxed);
    switch_to_records();
  }
  return true;
}

// After a TLS 1.3 handshake: keep the keys, free the SSL object. OpenSSL reads records one at
// a time (no read-ahead), so nothing past the client's Finished has been consumed; what it
// wrote in the last step were session tickets under the server's application key.
void TlsSession::switch_to_records() {
  if (secrets_ != 3 || SSL_has_pending(ssl_) || written_header_size_ || written_skip_) return;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  if (!cipher) return;
  const uint16_t suite = uint16_t(SSL_CIPHER_get_id(cipher) & 0xFFFF);
  uint8_t client[48], server[48];
  std::memcpy(client, records_.read.secret, sizeof client);
  std::memcpy(server, records_.write.secret, sizeof server);
  const bool ok = init_tls13_records(suite, client, server, records_.hash_size, records_);
  OPENSSL_cleanse(client, sizeof client);
  OPENSSL_cleanse(server, sizeof server);
  if (!ok) return;
  records_.write.sequence = written_records_;
  SSL_free(ssl_);
  ssl_ = nullptr;
  state_ = State::records;
}

bool TlsSession::on_input(MutableBytes input, MutableBytes scratch, net::FilterOutput& out) {
  if (state_ == State::failed || state_ == State::closed) return false;
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
    if (state_ == State::handshake) return true;
  }
  // The client's first request often arrives in the same read as its Finished message.
  return state_ == State::records ? read_records(scratch, out) : read_openssl(scratch, out);
}

bool TlsSession::read_openssl(MutableBytes scratch, net::FilterOutput& out) {
  size_t filled = 0;
  for (;;) {
    size_t n = 0;
    const int result = SSL_read_ex(ssl_, scratch.data() + filled, scratch.size() - filled, &n);
    if (result == 1) {
      filled += n;
      if (scratch.size() - filled >= kMaxRecordPlaintextSize) continue;
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

bool TlsSession::read_records(MutableBytes scratch, net::FilterOutput& out) {
  size_t filled = 0;
  // Finish a record begun in an earlier read.
  if (partial_) {
    size_t want = kRecordHeaderSize;
    if (partial_size_ >= kRecordHeaderSize) want += size_t(partial_[3] << 8 | partial_[4]);
    while (partial_size_ < want && input_left_ > 0) {
      const size_t n = std::min(want - partial_size_, input_left_);
      std::memcpy(partial_ + partial_size_, input_, n);
      partial_size_ = uint16_t(partial_size_ + n);
      input_ += n;
      input_left_ -= n;
      if (partial_size_ == kRecordHeaderSize) {
        const size_t length = size_t(partial_[3] << 8 | partial_[4]);
        if (length > kMaxRecordCiphertextSize) return fail(0);
        want += length;
      }
    }
    if (partial_size_ < want) return true;
    const bool ok = handle_record(partial_, {partial_ + kRecordHeaderSize, want - kRecordHeaderSize},
                                  scratch, filled, out);
    release_partial();
    if (!ok) {
      if (filled && filled != SIZE_MAX) out.plaintext(scratch.first(filled));
      return false;
    }
    if (filled == SIZE_MAX) return true;  // the stream closed while handling plaintext
  }
  while (input_left_ > 0) {
    size_t length = 0;
    if (input_left_ >= kRecordHeaderSize) {
      length = size_t(input_[3] << 8 | input_[4]);
      if (length > kMaxRecordCiphertextSize) return fail(0);
    }
    if (input_left_ < kRecordHeaderSize || input_left_ < kRecordHeaderSize + length) {
      // Keep the incomplete record; only this connection pays, and only until it completes.
      partial_ = static_cast<uint8_t*>(std::malloc(kMaxRecordSize));
      if (!partial_) return fail(0);
      std::memcpy(partial_, input_, input_left_);
      partial_size_ = uint16_t(input_left_);
      input_left_ = 0;
      break;
    }
    const uint8_t* header = input_;
    input_ += kRecordHeaderSize + length;
    input_left_ -= kRecordHeaderSize + length;
    if (!handle_record(header, {header + kRecordHeaderSize, length}, scratch, filled, out)) {
      if (filled && filled != SIZE_MAX) out.plaintext(scratch.first(filled));
      return false;
    }
    if (filled == SIZE_MAX) return true;  // the stream closed while handling plaintext
  }
  if (filled) out.plaintext(scratch.first(filled));
  return true;
}

// One whole record. Application data is appended to scratch[filled..] (delivered first when
// it would not fit); `filled` becomes SIZE_MAX when the stream closed meanwhile.
bool TlsSession::handle_record(const uint8_t* header, Bytes body, MutableBytes scratch,
                               size_t& filled, net::FilterOutput& out) {
  if (header[0] != kContentApplicationData || header[1] != 0x03) return fail(0);
  if (scratch.size() - filled < body.size()) {
    if (!out.plaintext(scratch.first(filled))) {
      filled = SIZE_MAX;
      return true;
    }
    filled = 0;
  }
  uint8_t type = 0;
  const long size = open_record(records_, header, body, scratch.data() + filled, type);
  if (size < 0) {
    const uint8_t bad_record_mac[2] = {2, 20};
    seal_control(kContentAlert, {bad_record_mac, 2}, out);
    return fail(0);
  }
  const uint8_t* plain = scratch.data() + filled;
  switch (type) {
    case kContentApplicationData: filled += size_t(size); return true;
    case kContentAlert:
      // close_notify ends the stream; any other alert is fatal in TLS 1.3 (§6).
      state_ = State::closed;
      return false;
    case kContentHandshake:
      // After the handshake a client may only send KeyUpdate (§4.6.3): type 24, length 1.
      for (long at = 0; at < size; at += 5) {
        if (size - at < 5 || plain[at] != 24 || plain[at + 1] != 0 || plain[at + 2] != 0 ||
            plain[at + 3] != 1 || plain[at + 4] > 1)
          return fail(0);
        const bool requested = plain[at + 4] == 1;
        if (!update_traffic_keys(records_.aead, records_.hash_size, records_.read)) return fail(0);
        if (requested) {
          const uint8_t key_update[5] = {24, 0, 0, 1, 0};
          if (!seal_control(kContentHandshake, {key_update, 5}, out)) return fail(0);
          if (!update_traffic_keys(records_.aead, records_.hash_size, records_.write)) return fail(0);
        }
      }
      return true;
    default: return fail(0);
  }
}

bool TlsSession::seal_control(uint8_t type, Bytes content, net::FilterOutput& out) {
  uint8_t record[64];
  const size_t size = seal_record(records_, type, &content, 1, record);
  if (!size) return false;
  out.ciphertext({record, size});
  return true;
}

bool TlsSession::on_output(const iovec* iov, int count, net::FilterOutput& out) {
  if (state_ == State::records) return write_records(iov, count, out);
  if (state_ != State::openssl) return false;
  output_ = &out;
  bool ok = true;
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (count > 1 && total <= kMaxRecordPlaintextSize) {
    // A frame header and its payload go out as one record, not two.
    thread_local uint8_t gather[kMaxRecordPlaintextSize];
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

// Seals the bytes of `iov` into records of up to 16 KiB (small pieces share a record), batched
// into one buffer per thread so a large message costs few writes.
bool TlsSession::write_records(const iovec* iov, int count, net::FilterOutput& out) {
  thread_local uint8_t batch[kSealBatch];
  size_t batched = 0;
  Bytes parts[16];
  int part_count = 0;
  size_t record_bytes = 0;
  auto seal = [&]() -> bool {
    if (part_count == 0) return true;
    if (kSealBatch - batched < record_bytes + 22) {
      out.ciphertext({batch, batched});
      batched = 0;
    }
    if (records_.write.sequence >= kRecordsPerKey) {
      const uint8_t key_update[5] = {24, 0, 0, 1, 0};
      const Bytes content{key_update, 5};
      const size_t n = seal_record(records_, kContentHandshake, &content, 1, batch + batched);
      if (!n || !update_traffic_keys(records_.aead, records_.hash_size, records_.write)) return false;
      batched += n;
    }
    const size_t n = seal_record(records_, kContentApplicationData, parts, part_count, batch + batched);
    if (!n) return false;
    batched += n;
    part_count = 0;
    record_bytes = 0;
    return true;
  };
  for (int i = 0; i < count; ++i) {
    const uint8_t* data = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t left = iov[i].iov_len;
    while (left > 0) {
      const size_t take = std::min(left, kMaxRecordPlaintextSize - record_bytes);
      parts[part_count++] = {data, take};
      record_bytes += take;
      data += take;
      left -= take;
      if ((record_bytes == kMaxRecordPlaintextSize || part_count == int(std::size(parts))) && !seal())
        return false;
    }
  }
  if (!seal()) return false;
  if (batched) out.ciphertext({batch, batched});
  return true;
}

void TlsSession::on_close(net::FilterOutput& out) {
  if (state_ == State::records) {
    const uint8_t close_notify[2] = {1, 0};
    seal_control(kContentAlert, {close_notify, 2}, out);
    return;
  }
  if (state_ != State::openssl) return;
  output_ = &out;
  SSL_shutdown(ssl_);  // writes close_notify; the peer's answer is not awaited
  ERR_clear_error();
  output_ = nullptr;
}

}  // namespace wshub::tls
