#include "proto/deflate_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace wshub::proto {

namespace {

// zlib's allocations go through these so each stream knows what it holds (memory_bytes());
// the size sits in a 16-byte prefix, keeping malloc's alignment.
constexpr size_t kPrefix = 16;

void* counted_alloc(void* opaque, unsigned items, unsigned size) {
  const size_t bytes = size_t(items) * size;
  auto* block = static_cast<uint8_t*>(std::malloc(bytes + kPrefix));
  if (!block) return Z_NULL;
  std::memcpy(block, &bytes, sizeof bytes);
  *static_cast<size_t*>(opaque) += bytes;
  return block + kPrefix;
}

void counted_free(void* opaque, void* address) {
  if (!address) return;
  uint8_t* block = static_cast<uint8_t*>(address) - kPrefix;
  size_t bytes;
  std::memcpy(&bytes, block, sizeof bytes);
  *static_cast<size_t*>(opaque) -= bytes;
  std::free(block);
}

// zlib counts in uInt; larger inputs go in pieces of this size.
constexpr size_t kMaxStep = size_t(1) << 30;
// The first output step of a message; later steps double what the message produced so far.
constexpr size_t kFirstOutputStep = 16 * 1024;

void init_allocator(z_stream& z, size_t* counter) {
  z.zalloc = counted_alloc;
  z.zfree = counted_free;
  z.opaque = counter;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

DeflateBuffer::~DeflateBuffer() { std::free(data_); }

bool DeflateBuffer::reserve(size_t capacity) {
  if (capacity <= capacity_) return true;
  auto* grown = static_cast<uint8_t*>(std::realloc(data_, capacity));
  if (!grown) return false;
  data_ = grown;
  capacity_ = capacity;
  return true;
}

void DeflateBuffer::trim(size_t keep) {
  if (capacity_ <= keep) return;
  std::free(data_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

// ---------------------------------------------------------------------------------------------

struct Inflater::Stream {
  z_stream z{};
  bool live = false;
};

Inflater::Inflater(uint8_t window_bits, bool context_takeover)
    // A peer that promised 8 bits may run a zlib that silently uses 9 (before 1.2.9 it did);
    // a larger window never hurts inflating.
    : window_bits_(std::clamp<uint8_t>(window_bits, 9, 15)), context_takeover_(context_takeover) {}

Inflater::~Inflater() {
  if (stream_ && stream_->live) inflateEnd(&stream_->z);
}

bool Inflater::start() {
  if (!stream_) stream_ = std::make_unique<Stream>();
  if (stream_->live) return true;
  init_allocator(stream_->z, &memory_);
  if (inflateInit2(&stream_->z, -int(window_bits_)) != Z_OK) return false;
  stream_->live = true;
  return true;
}

InflateResult Inflater::run(const uint8_t* in, size_t size, DeflateBuffer& out, uint64_t limit) {
  z_stream& z = stream_->z;
  z.avail_in = 0;  // what an earlier call left unread (after an error or a final block) is gone
  limit = std::min<uint64_t>(limit, uint64_t(1) << 62);
  for (;;) {
    if (stream_ended_) return InflateResult::ok;  // what follows a final block is ignored
    if (z.avail_in == 0 && size) {
      const size_t step = std::min(size, kMaxStep);
      z.next_in = const_cast<Bytef*>(in);
      z.avail_in = uInt(step);
      in += step;
      size -= step;
    }
    // One byte past the limit is room enough to prove the message too large.
    const uint64_t allowed = limit + 1 - message_out_;
    if (out.size() == out.capacity()) {
      const size_t step = size_t(std::min<uint64_t>(
          {allowed, std::max<uint64_t>(message_out_, kFirstOutputStep), kMaxStep}));
      if (!out.reserve(out.size() + step)) return InflateResult::no_memory;
    }
    const size_t room = size_t(std::min<uint64_t>({out.capacity() - out.size(), allowed, kMaxStep}));
    z.next_out = out.data() + out.size();
    z.avail_out = uInt(room);
    const uInt in_before = z.avail_in;
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    const size_t produced = room - z.avail_out;
    out.set_size(out.size() + produced);
    message_out_ += produced;
    if (message_out_ > limit) return InflateResult::too_large;
    switch (rc) {
      case Z_STREAM_END:
        stream_ended_ = true;
        return InflateResult::ok;
      case Z_OK:
      case Z_BUF_ERROR:  // no progress possible: out of input or out of room
        if (z.avail_in == 0 && size == 0 && z.avail_out != 0) return InflateResult::ok;
        // Input and room both left, and nothing moved: zlib cannot go on with this stream.
        if (produced == 0 && z.avail_in == in_before && z.avail_out != 0) return InflateResult::corrupt;
        continue;
      case Z_MEM_ERROR: return InflateResult::no_memory;
      default: return InflateResult::corrupt;  // Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR
    }
  }
}

InflateResult Inflater::feed(Bytes compressed, DeflateBuffer& out, uint64_t limit) {
  if (compressed.empty()) return InflateResult::ok;
  if (!start()) return InflateResult::no_memory;
  in_message_ = true;
  const InflateResult result = run(compressed.data(), compressed.size(), out, limit);
  if (result != InflateResult::ok) reset();
  return result;
}

InflateResult Inflater::finish(DeflateBuffer& out, uint64_t limit) {
  // An empty payload is not DEFLATE data (even an empty message compresses to one byte), but
  // peers that skip an empty sync flush send it for an empty message: it inflates to nothing
  // and leaves the window as it was.
  if (!in_message_) return InflateResult::ok;
  InflateResult result = InflateResult::ok;
  if (!stream_ended_) {
    result = run(kDeflateTail, sizeof kDeflateTail, out, limit);
    // A conforming message ends with an empty stored block (the tail), so inflate must now be
    // waiting for the next block header; anything else is a truncated block.
    if (result == InflateResult::ok && !stream_ended_ && !(stream_->z.data_type & 128))
      result = InflateResult::corrupt;
  }
  if (result != InflateResult::ok) {
    reset();
    return result;
  }
  if (!context_takeover_) {
    inflateReset(&stream_->z);
  } else if (stream_ended_ && !restart_keeping_window()) {
    reset();
    return InflateResult::no_memory;
  }
  message_out_ = 0;
  in_message_ = false;
  stream_ended_ = false;
  return InflateResult::ok;
}

bool Inflater::restart_keeping_window() {
  // A block with BFINAL ends the zlib stream (RFC 7692 §7.2.3.4 allows it), but with context
  // takeover the next message may still refer to this one's bytes: carry the window over.
  z_stream& z = stream_->z;
  uInt have = 0;
  if (inflateGetDictionary(&z, nullptr, &have) != Z_OK) return false;
  std::unique_ptr<uint8_t[]> window(new (std::nothrow) uint8_t[have ? have : 1]);
  if (!window) return false;
  if (inflateGetDictionary(&z, window.get(), &have) != Z_OK) return false;
  if (inflateReset(&z) != Z_OK) return false;
  return have == 0 || inflateSetDictionary(&z, window.get(), have) == Z_OK;
}

void Inflater::reset() {
  if (stream_ && stream_->live) inflateReset(&stream_->z);
  message_out_ = 0;
  in_message_ = false;
  stream_ended_ = false;
}

// ---------------------------------------------------------------------------------------------

struct Deflater::Stream {
  z_stream z{};
  bool live = false;
};

Deflater::Deflater(DeflateSettings settings, bool context_takeover)
    : settings_(settings), context_takeover_(context_takeover) {
  settings_.level = std::clamp<uint8_t>(settings_.level, 1, 9);
  settings_.window_bits = std::clamp<uint8_t>(settings_.window_bits, 9, 15);
  settings_.mem_level = std::clamp<uint8_t>(settings_.mem_level, 1, 9);
}

Deflater::~Deflater() {
  if (stream_ && stream_->live) deflateEnd(&stream_->z);
}

bool Deflater::start() {
  if (!stream_) stream_ = std::make_unique<Stream>();
  if (stream_->live) return true;
  init_allocator(stream_->z, &memory_);
  if (deflateInit2(&stream_->z, settings_.level, Z_DEFLATED, -int(settings_.window_bits),
                   settings_.mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  stream_->live = true;
  return true;
}

bool Deflater::compress(Bytes message, DeflateBuffer& out) {
  out.clear();
  if (message.empty()) {
    // An empty stored block without its tail. zlib would emit nothing for an empty sync flush
    // right after another one, and the window is unchanged either way.
    if (!out.reserve(1)) return false;
    out.data()[0] = 0x00;
    out.set_size(1);
    return true;
  }
  if (!start()) return false;
  z_stream& z = stream_->z;
  if (dirty_ && !context_takeover_ && deflateReset(&z) != Z_OK) return false;
  dirty_ = true;
  // deflateBound assumes Z_FINISH; a sync flush adds at most an empty stored block.
  if (!out.reserve(deflateBound(&z, uLong(std::min(message.size(), kMaxStep))) + 16)) return false;
  const uint8_t* in = message.data();
  size_t left = message.size();
  do {
    const size_t step = std::min(left, kMaxStep);
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = uInt(step);
    in += step;
    left -= step;
    const int flush = left == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    do {
      if (out.size() == out.capacity() && !out.reserve(out.capacity() * 2)) return false;
      const size_t room = std::min(out.capacity() - out.size(), kMaxStep);
      z.next_out = out.data() + out.size();
      z.avail_out = uInt(room);
      const int rc = deflate(&z, flush);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      out.set_size(out.size() + room - z.avail_out);
    } while (z.avail_out == 0);
  } while (left != 0);
  // A sync flush always ends with an empty stored block: 00 00 ff ff on a byte boundary.
  if (out.size() < 4 || std::memcmp(out.data() + out.size() - 4, kDeflateTail, 4) != 0)
    return false;
  out.set_size(out.size() - 4);
  return true;
}

}  // namespace wshub::proto
