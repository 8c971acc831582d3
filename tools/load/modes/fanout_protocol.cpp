#include "modes/fanout_protocol.h"

#include <cstring>

namespace wshub::load {

namespace {

bool starts_with(Bytes payload, std::string_view prefix) {
  return payload.size() >= prefix.size() && std::memcmp(payload.data(), prefix.data(), prefix.size()) == 0;
}

bool equals(Bytes payload, std::string_view text) {
  return payload.size() == text.size() && std::memcmp(payload.data(), text.data(), text.size()) == 0;
}

bool contains(Bytes payload, std::string_view needle) {
  return memmem(payload.data(), payload.size(), needle.data(), needle.size()) != nullptr;
}

// Where the stamp starts in a JSON-carried publication, or 0 when there is none whole.
size_t stamp_after_marker(Bytes payload, size_t from) {
  if (from >= payload.size()) return 0;
  const void* marker = std::memchr(payload.data() + from, kStampMarker, payload.size() - from);
  if (!marker) return 0;
  const size_t at = size_t(static_cast<const uint8_t*>(marker) - payload.data()) + 1;
  return at + kStampDigits <= payload.size() ? at : 0;
}

// The data string: marker, stamp, then '.' up to `size` characters.
std::string data_string(uint32_t size) {
  std::string data(size, '.');
  data[0] = kStampMarker;
  return data;
}

// Hub request ids are 8 decimal digits with no leading zero, so the template keeps its length.
constexpr uint32_t kFirstPublishId = 10'000'000;
constexpr uint32_t kPublishIds = 90'000'000;

void write_decimal(char* out, uint32_t value, size_t digits) {
  for (size_t i = digits; i-- > 0; value /= 10) out[i] = char('0' + value % 10);
}

}  // namespace

void write_hex(uint8_t* out, uint64_t value, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = digits; i-- > 0; value >>= 4) out[i] = uint8_t(kHex[value & 15]);
}

bool read_hex(const uint8_t* in, size_t digits, uint64_t& value) {
  value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const uint8_t c = in[i];
    const int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (nibble < 0) return false;
    value = value << 4 | uint64_t(nibble);
  }
  return true;
}

FanoutProtocolCodec::FanoutProtocolCodec(const FanoutProtocolPlan& plan) : protocol_(plan.protocol) {
  switch (protocol_) {
    case FanoutProtocol::raw:
      publication_.assign(plan.size, '.');
      publication_stamp_at_ = 0;
      break;
    case FanoutProtocol::hub: {
      // connect with every subscription in one request: one answer says the connection is ready.
      opening_ = R"({"t":"connect","id":1,"token":")" + plan.token + R"(","subs":{")" + plan.channel + R"(":{})";
      for (uint32_t k = 1; k < plan.channels_per_connection; ++k)
        opening_ += ",\"" + plan.channel + "." + std::to_string(k) + "\":{}";
      opening_ += "}}";
      publication_ = R"({"t":"publish","id":)";
      publication_id_at_ = publication_.size();
      publication_ += std::to_string(kFirstPublishId) + R"(,"ch":")" + plan.channel + R"(","data":")";
      publication_stamp_at_ = publication_.size() + 1;
      publication_ += data_string(plan.size) + "\"}";
      break;
    }
    case FanoutProtocol::socketio:
      publication_ = R"(42["pub",")";
      publication_stamp_at_ = publication_.size() + 1;
      publication_ += data_string(plan.size) + "\"]";
      break;
  }
  api_body_ = R"({"channel":")" + plan.channel + R"(","data":")";
  api_stamp_at_ = api_body_.size() + 1;
  api_body_ += data_string(plan.size) + "\"}";
}

HeardMessage FanoutProtocolCodec::classify(Bytes payload) const {
  HeardMessage heard;
  switch (protocol_) {
    case FanoutProtocol::raw:
      heard.kind = Heard::publication;
      heard.stamp_at = 0;
      return heard;
    case FanoutProtocol::hub:
      if (starts_with(payload, R"({"t":"pub",)")) {
        heard.stamp_at = stamp_after_marker(payload, 11);
        heard.kind = heard.stamp_at ? Heard::publication : Heard::other;
      } else if (equals(payload, R"({"t":"ping"})")) {
        heard.kind = Heard::answer;
        heard.reply = R"({"t":"pong"})";
      } else if (starts_with(payload, R"({"t":"ok","id":1,)")) {
        // A subscription the connect answer refused shows as {"err":{…}} in its subs.
        heard.kind = contains(payload, R"("err")") ? Heard::refused : Heard::ready;
      } else if (starts_with(payload, R"({"t":"err")") || starts_with(payload, R"({"t":"disconnect")")) {
        heard.kind = Heard::refused;
      }
      return heard;
    case FanoutProtocol::socketio:
      // Engine.IO packet types: 0 open, 2 ping, 4 message; Socket.IO inside 4: 0 connect,
      // 2 event, 4 connect_error.
      if (starts_with(payload, "42[")) {
        heard.stamp_at = stamp_after_marker(payload, 3);
        heard.kind = heard.stamp_at ? Heard::publication : Heard::other;
      } else if (equals(payload, "2")) {
        heard.kind = Heard::answer;
        heard.reply = "3";
      } else if (starts_with(payload, "0{")) {
        heard.kind = Heard::answer;
        heard.reply = "40";
      } else if (starts_with(payload, "40")) {
        heard.kind = Heard::ready;
      } else if (starts_with(payload, "44") || starts_with(payload, "1")) {
        heard.kind = Heard::refused;
      }
      return heard;
  }
  return heard;
}

Bytes FanoutProtocolCodec::websocket_publication(uint32_t sequence, uint64_t sent_ns) {
  auto* bytes = reinterpret_cast<uint8_t*>(publication_.data());
  write_hex(bytes + publication_stamp_at_, sequence, kSequenceDigits);
  write_hex(bytes + publication_stamp_at_ + kSequenceDigits, sent_ns, kTimeDigits);
  if (protocol_ == FanoutProtocol::hub)
    write_decimal(publication_.data() + publication_id_at_, kFirstPublishId + sequence % kPublishIds, 8);
  return Bytes(bytes, publication_.size());
}

std::string_view FanoutProtocolCodec::api_publication(uint32_t sequence, uint64_t sent_ns) {
  auto* bytes = reinterpret_cast<uint8_t*>(api_body_.data());
  write_hex(bytes + api_stamp_at_, sequence, kSequenceDigits);
  write_hex(bytes + api_stamp_at_ + kSequenceDigits, sent_ns, kTimeDigits);
  return api_body_;
}

}  // namespace wshub::load
