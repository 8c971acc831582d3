#include "proto/deflate_negotiation.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace wshub::proto {

namespace {

constexpr std::string_view kDeclineNames[] = {
    "none",          "malformed_header", "unknown_parameter", "duplicate_parameter",
    "invalid_value", "window_bits_8",
};
static_assert(std::size(kDeclineNames) == size_t(DeflateDecline::count_));

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// A parameter value after unquoting. Values longer than the buffer cannot be valid window
// sizes, so they are only marked, never stored.
struct ParamValue {
  bool present = false;
  bool too_long = false;
  uint8_t size = 0;
  char text[8];
  std::string_view view() const { return {text, size}; }
  void push(char c) {
    if (size == sizeof text) too_long = true;
    else text[size++] = c;
  }
};

// One pass over an extension list (RFC 6455 §9.1):
//   extension-list = 1#extension
//   extension = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
// calling visitor.begin(name), visitor.param(name, value) and visitor.end() for each extension.
// Returns false, having stopped, when the text does not follow that grammar.
class ListParser {
 public:
  explicit ListParser(std::string_view text) : s_(text) {}

  template <typename Visitor>
  bool parse(Visitor& visitor) {
    for (;;) {
      skip_ows();
      while (peek(',')) {  // empty list elements are allowed (RFC 9110 §5.6.1)
        ++i_;
        skip_ows();
      }
      if (i_ == s_.size()) return true;
      std::string_view name = token();
      if (name.empty()) return false;
      visitor.begin(name);
      skip_ows();
      while (peek(';')) {
        ++i_;
        skip_ows();
        std::string_view param = token();
        if (param.empty()) return false;
        skip_ows();
        ParamValue value;
        if (peek('=')) {
          ++i_;
          skip_ows();
          if (!read_value(value)) return false;
          skip_ows();
        }
        visitor.param(param, value);
      }
      if (visitor.end()) return true;  // the visitor has what it wanted
      if (i_ == s_.size()) return true;
      if (!peek(',')) return false;
    }
  }

 private:
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  void skip_ows() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  std::string_view token() {
    const size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  bool read_value(ParamValue& value) {
    value.present = true;
    if (!peek('"')) {
      std::string_view t = token();
      if (t.empty()) return false;
      for (char c : t) value.push(c);
      return true;
    }
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (i_ == s_.size()) return false;
        c = s_[i_++];
      }
      if (uint8_t(c) < 0x20 && c != '\t') return false;
      if (c == 0x7F) return false;
      value.push(c);
    }
    return false;  // no closing quote
  }

  std::string_view s_;
  size_t i_ = 0;
};

struct SyntaxCheck {
  void begin(std::string_view) {}
  void param(std::string_view, const ParamValue&) {}
  bool end() { return false; }
};

// "8".."15": decimal digits without a leading zero (RFC 7692 §7.1.2.1). 0 when invalid.
uint8_t window_bits_of(const ParamValue& value) {
  if (value.too_long) return 0;
  std::string_view v = value.view();
  if (v.empty() || v.size() > 2 || v[0] == '0') return 0;
  unsigned n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + unsigned(c - '0');
  }
  return n >= 8 && n <= 15 ? uint8_t(n) : 0;
}

// The parameters of one permessage-deflate offer, checked as they are read.
struct Offer {
  DeflateDecline decline = DeflateDecline::none;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 0;  // 0: absent
  bool has_client_max_window_bits = false;
  uint8_t client_max_window_bits = 0;  // 0: the bare form, or absent

  void refuse(DeflateDecline why) {
    if (decline == DeflateDecline::none) decline = why;
  }
  void flag(bool& seen, const ParamValue& value) {
    if (seen) return refuse(DeflateDecline::duplicate_parameter);
    seen = true;
    if (value.present) refuse(DeflateDecline::invalid_value);
  }
  void param(std::string_view name, const ParamValue& value) {
    if (equals_ignore_case(name, "server_no_context_takeover")) {
      flag(server_no_context_takeover, value);
    } else if (equals_ignore_case(name, "client_no_context_takeover")) {
      flag(client_no_context_takeover, value);
    } else if (equals_ignore_case(name, "server_max_window_bits")) {
      if (server_max_window_bits) return refuse(DeflateDecline::duplicate_parameter);
      server_max_window_bits = window_bits_of(value);
      if (!server_max_window_bits) {
        server_max_window_bits = 0xFF;  // seen, so a second one is still a duplicate
        refuse(DeflateDecline::invalid_value);
      }
    } else if (equals_ignore_case(name, "client_max_window_bits")) {
      if (has_client_max_window_bits) return refuse(DeflateDecline::duplicate_parameter);
      has_client_max_window_bits = true;
      if (value.present) {  // the bare form means "I support the parameter" (§7.1.2.2)
        client_max_window_bits = window_bits_of(value);
        if (!client_max_window_bits) refuse(DeflateDecline::invalid_value);
      }
    } else {
      refuse(DeflateDecline::unknown_parameter);
    }
  }
};

void append(DeflateNegotiation& n, std::string_view text) {
  std::memcpy(n.response + n.response_size, text.data(), text.size());
  n.response_size = uint8_t(n.response_size + text.size());
}

void append_bits(DeflateNegotiation& n, std::string_view name, uint8_t bits) {
  append(n, name);
  char digits[2] = {char('0' + bits / 10), char('0' + bits % 10)};
  append(n, bits >= 10 ? std::string_view(digits, 2) : std::string_view(digits + 1, 1));
}

// Decides one offer against the policy (RFC 7692 §7.1). True when it can be accepted; then
// `n` holds the agreement and the response.
bool accept_offer(const Offer& offer, const DeflatePolicy& policy, DeflateNegotiation& n) {
  DeflateAgreement a;
  a.negotiated = true;
  // §7.1.2.1: a requested limit on our window must be answered with the same or a smaller one.
  // zlib refuses raw deflate with 8 bits (since 1.2.9), so a request for 8 cannot be honoured.
  a.server_window_bits = std::clamp<uint8_t>(policy.server_max_window_bits, 9, 15);
  if (offer.server_max_window_bits) {
    if (offer.server_max_window_bits == 8) {
      if (n.first_decline == DeflateDecline::none) n.first_decline = DeflateDecline::window_bits_8;
      return false;
    }
    a.server_window_bits = std::min(a.server_window_bits, offer.server_max_window_bits);
  }
  // §7.1.1.1: requested, it must be honoured; unrequested, the server may still declare it.
  a.server_no_context_takeover =
      offer.server_no_context_takeover || policy.server_no_context_takeover;
  // §7.1.1.2: the server may always ask the client not to take over context.
  a.client_no_context_takeover =
      offer.client_no_context_takeover || policy.client_no_context_takeover;
  // §7.1.2.2: the client's window can only be limited when it offered the parameter; a value in
  // the offer is the most it will use, and our answer may only lower it.
  uint8_t client_bits = 15;
  bool answer_client_bits = false;
  if (offer.has_client_max_window_bits) {
    const uint8_t offered = offer.client_max_window_bits ? offer.client_max_window_bits : 15;
    client_bits = std::min<uint8_t>(offered, std::clamp<uint8_t>(policy.client_max_window_bits, 8, 15));
    answer_client_bits = client_bits < 15;
  }
  a.client_window_bits = client_bits;

  n.accepted = true;
  n.agreed = a;
  n.response_size = 0;
  append(n, "permessage-deflate");
  if (a.server_no_context_takeover) append(n, "; server_no_context_takeover");
  if (a.client_no_context_takeover) append(n, "; client_no_context_takeover");
  if (offer.server_max_window_bits) append_bits(n, "; server_max_window_bits=", a.server_window_bits);
  if (answer_client_bits) append_bits(n, "; client_max_window_bits=", a.client_window_bits);
  return true;
}

// Walks one header's extensions, deciding each permessage-deflate offer until one is accepted.
struct OfferPicker {
  const DeflatePolicy& policy;
  DeflateNegotiation& n;
  bool in_deflate = false;
  Offer offer;

  void begin(std::string_view name) {
    in_deflate = equals_ignore_case(name, "permessage-deflate");
    offer = Offer{};
    if (in_deflate && n.offers < 255) ++n.offers;
  }
  void param(std::string_view name, const ParamValue& value) {
    if (in_deflate) offer.param(name, value);
  }
  bool end() {
    if (!in_deflate) return false;
    if (offer.decline != DeflateDecline::none) {
      if (n.first_decline == DeflateDecline::none) n.first_decline = offer.decline;
      return false;
    }
    return accept_offer(offer, policy, n);
  }
};

template <typename Values>
DeflateNegotiation negotiate(const Values& values, const DeflatePolicy& policy) {
  DeflateNegotiation n;
  if (!policy.enabled) return n;
  for (std::string_view value : values) {
    // A header that does not parse is ignored as a whole: which of its offers were meant is
    // anyone's guess, and declining is always safe.
    SyntaxCheck check;
    if (!ListParser(value).parse(check)) {
      if (n.first_decline == DeflateDecline::none) n.first_decline = DeflateDecline::malformed_header;
      continue;
    }
    OfferPicker picker{policy, n, false, {}};
    ListParser(value).parse(picker);
    if (n.accepted) break;
  }
  return n;
}

// The values of every Sec-WebSocket-Extensions header in `head`, in order.
class ExtensionHeaders {
 public:
  explicit ExtensionHeaders(const HttpRequestHead& head) : head_(head) {}
  class iterator {
   public:
    iterator(const HttpRequestHead& head, uint32_t i) : head_(head), i_(i) { skip(); }
    std::string_view operator*() const { return head_.headers[i_].value; }
    iterator& operator++() {
      ++i_;
      skip();
      return *this;
    }
    bool operator!=(const iterator& other) const { return i_ != other.i_; }

   private:
    void skip() {
      while (i_ < head_.header_count &&
             !equals_ignore_case(head_.headers[i_].name, "Sec-WebSocket-Extensions"))
        ++i_;
    }
    const HttpRequestHead& head_;
    uint32_t i_;
  };
  iterator begin() const { return {head_, 0}; }
  iterator end() const { return {head_, head_.header_count}; }

 private:
  const HttpRequestHead& head_;
};

}  // namespace

std::string_view deflate_decline_name(DeflateDecline reason) {
  return kDeclineNames[size_t(reason)];
}

DeflateNegotiation negotiate_deflate(const HttpRequestHead& head, const DeflatePolicy& policy) {
  return negotiate(ExtensionHeaders(head), policy);
}

DeflateNegotiation negotiate_deflate(std::span<const std::string_view> header_values,
                                     const DeflatePolicy& policy) {
  return negotiate(header_values, policy);
}

}  // namespace wshub::proto
