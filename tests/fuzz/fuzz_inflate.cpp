// libFuzzer target for the permessage-deflate receive path: proto::Inflater with a
// decompressed-size limit, with and without context takeover.
// Input layout: byte 0 — bit 0 context takeover, bits 1-3 window bits (9 + value % 7),
// bits 4-5 chunk sizes (1 byte, up to 7, up to 64, up to 4096); bytes 1-2 the limit
// (little-endian, times 4: 0..262140 bytes); byte 3 seeds the chunk sizes; then messages, each
// a 2-byte little-endian length and that many bytes of compressed payload.
// Each message is inflated with a 15-bit window in chunks (each a fresh heap block of exactly its
// size) and whole; the two must agree, must match plain zlib doing the same by the book (RFC 7692
// §7.2.2), and never hold more than the limit. An inflater with the narrower window is fed the
// same chunks: zlib lets a distance beyond the window through when its target is still in the
// same call's output, so for a peer that breaks its promised window the result may depend on the
// chunking; it must then be the same or `corrupt`, never anything else. Each message's bytes are
// also compressed with proto::Deflater and must inflate back to themselves.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/deflate_stream.h"

namespace {

using wshub::Bytes;
using wshub::proto::DeflateBuffer;
using wshub::proto::Deflater;
using wshub::proto::DeflateSettings;
using wshub::proto::InflateResult;
using wshub::proto::Inflater;

#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

constexpr size_t kFirstStep = 16 * 1024;  // Inflater's first output step

struct Outcome {
  InflateResult result;
  std::string out;
  bool operator==(const Outcome&) const = default;
};

// Feeds `message` in pieces ending at `ends`, each copied into its own exact-size block.
Outcome inflate_chunked(Inflater& inflater, std::string_view message,
                        const std::vector<size_t>& ends, uint64_t limit) {
  DeflateBuffer out;
  size_t begin = 0;
  for (size_t end : ends) {
    const size_t size = end - begin;
    auto chunk = std::make_unique<uint8_t[]>(size ? size : 1);
    std::memcpy(chunk.get(), message.data() + begin, size);
    const InflateResult r = inflater.feed({chunk.get(), size}, out, limit);
    std::memset(chunk.get(), 0xA5, size);
    FUZZ_CHECK(out.size() <= limit + 1);
    FUZZ_CHECK(out.capacity() <= std::max<uint64_t>(limit + 1, kFirstStep));
    if (r != InflateResult::ok) return {r, {}};
    begin = end;
  }
  const InflateResult r = inflater.finish(out, limit);
  FUZZ_CHECK(out.size() <= limit + 1);
  if (r != InflateResult::ok) return {r, {}};
  FUZZ_CHECK(out.size() <= limit);
  return {r, std::string(reinterpret_cast<const char*>(out.data()), out.size())};
}

// RFC 7692 §7.2.2 with plain zlib in one call: append 00 00 ff ff and inflate into exactly
// limit + 1 bytes of room. A message must end on a block boundary or inside a final block.
class Reference {
 public:
  Reference(int bits, bool takeover) : bits_(bits), takeover_(takeover) { fresh(); }
  ~Reference() { inflateEnd(&z_); }
  bool usable() const { return usable_; }

  Outcome inflate_message(std::string_view message, uint64_t limit) {
    if (message.empty()) return {InflateResult::ok, {}};
    if (!takeover_) {
      inflateEnd(&z_);
      fresh();
    }
    std::string in(message);
    in.append("\x00\x00\xff\xff", 4);
    std::string out(limit + 1, '\0');
    z_.next_in = reinterpret_cast<Bytef*>(in.data());
    z_.avail_in = uInt(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = uInt(out.size());
    const int rc = inflate(&z_, Z_SYNC_FLUSH);
    out.resize(out.size() - z_.avail_out);
    if (out.size() > limit) return {InflateResult::too_large, {}};
    if (rc == Z_STREAM_END) {
      usable_ = !takeover_;  // carrying the window across a final block is not modelled here
      return {InflateResult::ok, out};
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return {InflateResult::corrupt, {}};
    if (!(z_.data_type & 128)) return {InflateResult::corrupt, {}};
    return {InflateResult::ok, out};
  }

 private:
  void fresh() {
    z_ = z_stream{};
    FUZZ_CHECK(inflateInit2(&z_, -bits_) == Z_OK);
  }
  z_stream z_{};
  int bits_;
  bool takeover_;
  bool usable_ = true;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const bool takeover = data[0] & 0x01;
  const uint8_t bits = uint8_t(9 + ((data[0] >> 1) & 0x07) % 7);
  static constexpr size_t kSteps[] = {1, 7, 64, 4096};
  const size_t max_step = kSteps[(data[0] >> 4) & 0x03];
  const uint64_t limit = uint64_t(data[1] | data[2] << 8) * 4;
  uint32_t rng = 0x2545F491u ^ data[3];

  std::vector<std::string_view> messages;
  for (size_t at = 4; at < size;) {
    size_t length = data[at];
    if (at + 1 < size) length |= size_t(data[at + 1]) << 8;
    at = std::min(size, at + 2);
    length = std::min(length, size - at);
    messages.emplace_back(reinterpret_cast<const char*>(data + at), length);
    at += length;
  }

  Inflater chunked_inflater(15, takeover);
  Inflater whole_inflater(15, takeover);
  Inflater narrow_inflater(bits, takeover);
  bool narrow_in_step = true;
  Reference reference(15, takeover);
  for (std::string_view message : messages) {
    std::vector<size_t> ends;
    for (size_t at = 0; at < message.size();) {
      rng = rng * 1664525u + 1013904223u;
      at = std::min(message.size(), at + 1 + (rng >> 16) % max_step);
      ends.push_back(at);
    }
    const Outcome chunked = inflate_chunked(chunked_inflater, message, ends, limit);
    const Outcome whole = inflate_chunked(whole_inflater, message, {message.size()}, limit);
    FUZZ_CHECK(chunked == whole);
    FUZZ_CHECK(whole.result != InflateResult::no_memory);
    if (reference.usable()) FUZZ_CHECK(reference.inflate_message(message, limit) == whole);
    if (narrow_in_step) {
      const Outcome narrow = inflate_chunked(narrow_inflater, message, ends, limit);
      FUZZ_CHECK(narrow == whole || narrow.result == InflateResult::corrupt);
      // With context takeover its window now differs from the others'.
      if (takeover && narrow.result != InflateResult::ok) narrow_in_step = false;
    }
    // With context takeover an error ends the connection: nothing after it is defined.
    if (takeover && whole.result != InflateResult::ok) break;
  }

  // Whatever the bytes, they survive a round trip through our own compressor.
  Deflater deflater(DeflateSettings{uint8_t(1 + data[3] % 9), bits, uint8_t(1 + data[3] % 9)},
                    takeover);
  Inflater inflater(bits, takeover);
  DeflateBuffer compressed;
  for (std::string_view message : messages) {
    FUZZ_CHECK(deflater.compress(wshub::as_bytes(message), compressed));
    const std::string copy(reinterpret_cast<const char*>(compressed.data()), compressed.size());
    const Outcome back = inflate_chunked(inflater, copy, {copy.size()}, limit);
    if (message.size() > limit) {
      FUZZ_CHECK(back.result == InflateResult::too_large);
      break;  // the streams no longer agree on the window; a server would have closed
    }
    FUZZ_CHECK(back.result == InflateResult::ok);
    FUZZ_CHECK(back.out == message);
  }
  return 0;
}
