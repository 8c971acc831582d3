#include "proto/http_body.h"

#include <algorithm>
#include <cstring>

namespace wshub::proto {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_whitespace(char c) { return c == ' ' || c == '\t'; }

// qdtext and the octet after a backslash in a quoted-string (RFC 9110 §5.6.4).
bool is_qdtext(uint8_t c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}
bool is_quoted_pair_char(uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), where the value is
// a token or a quoted-string (RFC 9112 §7.1.1). Whitespace is allowed only where BWS is, so a
// size line ending in a space is refused: every reader agrees on what it says.
bool valid_chunk_extensions(std::string_view ext) {
  const size_t n = ext.size();
  size_t i = 0;
  auto skip_whitespace = [&] {
    while (i < n && is_whitespace(ext[i])) ++i;
  };
  auto skip_token = [&] {
    const size_t start = i;
    while (i < n && is_http_token_char(ext[i])) ++i;
    return i > start;
  };
  while (i < n) {
    skip_whitespace();
    if (i == n || ext[i] != ';') return false;
    ++i;
    skip_whitespace();
    if (!skip_token()) return false;
    const size_t after_name = i;
    skip_whitespace();
    if (i == n || ext[i] != '=') {
      i = after_name;  // the whitespace must lead to the next ';'
      continue;
    }
    ++i;
    skip_whitespace();
    if (i < n && ext[i] == '"') {
      for (++i;; ++i) {
        if (i == n) return false;
        const uint8_t c = uint8_t(ext[i]);
        if (c == '"') break;
        if (c == '\\') {
          if (++i == n || !is_quoted_pair_char(uint8_t(ext[i]))) return false;
        } else if (!is_qdtext(c)) {
          return false;
        }
      }
      ++i;
    } else if (!skip_token()) {
      return false;
    }
  }
  return true;
}

HttpBodyStep need_more(size_t consumed) {
  return {HttpBodyStep::Kind::need_more, consumed, {}, {}};
}

HttpBodyStep done(size_t consumed) { return {HttpBodyStep::Kind::done, consumed, {}, {}}; }

HttpBodyStep data(size_t consumed, std::string_view bytes) {
  return {HttpBodyStep::Kind::data, consumed, bytes, {}};
}

}  // namespace

void HttpBodyReader::start(HttpBodyKind kind, uint64_t content_length) {
  *this = HttpBodyReader();
  switch (kind) {
    case HttpBodyKind::none: break;
    case HttpBodyKind::length:
      state_ = State::length;
      remaining_ = content_length;
      break;
    case HttpBodyKind::chunked: state_ = State::chunk_size_line; break;
    case HttpBodyKind::until_close: state_ = State::until_close; break;
  }
}

HttpBodyStep HttpBodyReader::fail(HttpMessageError error, size_t consumed) {
  state_ = State::failed;
  error_ = error;
  return {HttpBodyStep::Kind::error, consumed, {}, error};
}

// Looks for the LF ending the line that starts at input[0] within its first `budget` bytes.
// Bytes searched before are not searched again (the caller passes them again), so a line that
// trickles in byte by byte costs linear time.
HttpBodyReader::Line HttpBodyReader::find_line_end(std::string_view input, size_t budget,
                                                   size_t& lf_at) {
  const size_t limit = std::min(input.size(), budget);
  if (line_scanned_ < limit) {
    const void* lf = std::memchr(input.data() + line_scanned_, '\n', limit - line_scanned_);
    if (lf) {
      lf_at = size_t(static_cast<const char*>(lf) - input.data());
      line_scanned_ = 0;
      return Line::complete;
    }
    line_scanned_ = uint32_t(limit);
  }
  if (!input.empty() && input.size() >= budget) return Line::too_long;
  return Line::need_more;
}

HttpMessageError HttpBodyReader::parse_chunk_size_line(std::string_view line,
                                                       const HttpBodyLimits& limits) {
  uint64_t size = 0;
  size_t i = 0;
  for (int digit; i < line.size() && (digit = hex_value(line[i])) >= 0; ++i) {
    if (size >> 60) return HttpMessageError::chunk_size_overflow;
    size = size << 4 | uint64_t(digit);
  }
  if (i == 0) return HttpMessageError::bad_chunk_size;
  const std::string_view extensions = line.substr(i);
  if (!extensions.empty()) {
    if (extensions[0] != ';' && !is_whitespace(extensions[0]))
      return HttpMessageError::bad_chunk_size;
    extension_bytes_ += uint32_t(extensions.size());  // at most max_chunk_line_bytes per line
    if (extension_bytes_ > limits.max_chunk_extension_bytes)
      return HttpMessageError::chunk_extensions_too_large;
    if (!valid_chunk_extensions(extensions)) return HttpMessageError::bad_chunk_extension;
  }
  if (size == 0) {
    state_ = State::trailers;
    return HttpMessageError::none;
  }
  if (size > limits.max_body_bytes - std::min(received_, limits.max_body_bytes))
    return HttpMessageError::body_too_large;
  remaining_ = size;
  state_ = State::chunk_data;
  return HttpMessageError::none;
}

HttpMessageError HttpBodyReader::parse_trailer_line(std::string_view line,
                                                    const HttpBodyLimits& limits) {
  if (line.find('\r') != std::string_view::npos) return HttpMessageError::bad_trailer;
  if (trailer_count_ >= limits.max_trailers) return HttpMessageError::too_many_trailers;
  // Trailers are checked and then dropped: RFC 9112 §7.1.2 lets a recipient discard them, and
  // none of them may change how the message was framed.
  HttpHeader field;
  uint32_t count = 0;
  if (parse_header_line(line, 1, &field, count) != HttpHeadError::none)
    return HttpMessageError::bad_trailer;
  ++trailer_count_;
  return HttpMessageError::none;
}

HttpBodyStep HttpBodyReader::next(std::string_view input, const HttpBodyLimits& limits) {
  size_t pos = 0;
  for (;;) {
    const std::string_view rest = input.substr(pos);
    switch (state_) {
      case State::idle: return done(pos);
      case State::failed: return {HttpBodyStep::Kind::error, 0, {}, error_};
      case State::length: {
        if (remaining_ == 0) {
          state_ = State::idle;
          return done(pos);
        }
        if (remaining_ > limits.max_body_bytes - std::min(received_, limits.max_body_bytes))
          return fail(HttpMessageError::body_too_large, pos);
        if (rest.empty()) return need_more(pos);
        const size_t take = size_t(std::min<uint64_t>(remaining_, rest.size()));
        remaining_ -= take;
        received_ += take;
        return data(pos + take, rest.substr(0, take));
      }
      case State::until_close: {
        if (rest.empty()) return need_more(pos);
        const uint64_t room = limits.max_body_bytes - std::min(received_, limits.max_body_bytes);
        if (room == 0) return fail(HttpMessageError::body_too_large, pos);
        const size_t take = size_t(std::min<uint64_t>(room, rest.size()));
        received_ += take;
        return data(pos + take, rest.substr(0, take));
      }
      case State::chunk_size_line: {
        size_t lf = 0;
        switch (find_line_end(rest, size_t(limits.max_chunk_line_bytes) + 2, lf)) {
          case Line::need_more: return need_more(pos);
          case Line::too_long: return fail(HttpMessageError::chunk_line_too_long, pos);
          case Line::complete: break;
        }
        if (lf == 0 || rest[lf - 1] != '\r') return fail(HttpMessageError::bad_chunk_size, pos);
        if (auto e = parse_chunk_size_line(rest.substr(0, lf - 1), limits);
            e != HttpMessageError::none)
          return fail(e, pos);
        pos += lf + 1;
        continue;
      }
      case State::chunk_data: {
        if (rest.empty()) return need_more(pos);
        const size_t take = size_t(std::min<uint64_t>(remaining_, rest.size()));
        remaining_ -= take;
        received_ += take;
        if (remaining_ == 0) state_ = State::chunk_data_end;
        return data(pos + take, rest.substr(0, take));
      }
      case State::chunk_data_end: {
        if (rest.empty()) return need_more(pos);
        if (rest[0] != '\r') return fail(HttpMessageError::bad_chunk_end, pos);
        if (rest.size() < 2) return need_more(pos);
        if (rest[1] != '\n') return fail(HttpMessageError::bad_chunk_end, pos);
        pos += 2;
        state_ = State::chunk_size_line;
        continue;
      }
      case State::trailers: {
        size_t lf = 0;
        switch (find_line_end(rest, limits.max_trailer_bytes - trailer_bytes_, lf)) {
          case Line::need_more: return need_more(pos);
          case Line::too_long: return fail(HttpMessageError::trailers_too_large, pos);
          case Line::complete: break;
        }
        if (lf == 0 || rest[lf - 1] != '\r') return fail(HttpMessageError::bad_trailer, pos);
        trailer_bytes_ += uint32_t(lf + 1);
        const std::string_view line = rest.substr(0, lf - 1);
        if (line.empty()) {
          state_ = State::idle;
          return done(pos + lf + 1);
        }
        if (auto e = parse_trailer_line(line, limits); e != HttpMessageError::none)
          return fail(e, pos);
        pos += lf + 1;
        continue;
      }
    }
  }
}

HttpBodyStep HttpBodyReader::finish() {
  switch (state_) {
    case State::idle: return done(0);
    case State::until_close: state_ = State::idle; return done(0);
    case State::failed: return {HttpBodyStep::Kind::error, 0, {}, error_};
    default: return fail(HttpMessageError::incomplete_message, 0);
  }
}

HttpCollectResult collect_body(HttpBodyReader& reader, std::string_view input,
                               const HttpBodyLimits& limits, std::string& store) {
  HttpCollectResult out;
  std::string_view uncopied;  // the body so far, still where it lies in `input`
  bool in_place = false;
  size_t pos = 0;
  for (;;) {
    const HttpBodyStep step = reader.next(input.substr(pos), limits);
    pos += step.consumed;
    out.consumed = pos;
    switch (step.kind) {
      case HttpBodyStep::Kind::data:
        if (store.empty() && !in_place) {
          uncopied = step.data;
          in_place = true;
        } else {
          if (in_place) store.append(uncopied);
          in_place = false;
          store.append(step.data);
        }
        continue;
      case HttpBodyStep::Kind::done:
        out.kind = HttpBodyStep::Kind::done;
        out.body = in_place ? uncopied : std::string_view(store);
        return out;
      case HttpBodyStep::Kind::need_more:
        if (in_place) store.append(uncopied);
        out.kind = HttpBodyStep::Kind::need_more;
        return out;
      case HttpBodyStep::Kind::error:
        out.kind = HttpBodyStep::Kind::error;
        out.error = step.error;
        return out;
    }
  }
}

}  // namespace wshub::proto
