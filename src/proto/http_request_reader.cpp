#include "proto/http_request_reader.h"

namespace wshub::proto {

HttpRequestReader::HttpRequestReader(const HttpMessageLimits& limits)
    : limits_(limits), head_parser_(limits.head) {}

HttpReadEvent HttpRequestReader::next(std::string_view input, HttpRequestHead& head) {
  return read(input, head, nullptr);
}

HttpReadEvent HttpRequestReader::next(std::string_view input, HttpRequestHead& head,
                                      std::string& body_store) {
  return read(input, head, &body_store);
}

HttpReadEvent HttpRequestReader::fail(HttpReadError error, size_t consumed) {
  state_ = State::failed;
  error_ = error;
  return {HttpReadEvent::Kind::error, consumed, {}, error};
}

HttpReadEvent HttpRequestReader::read_head(std::string_view input, HttpRequestHead& head,
                                           std::string* store) {
  const HttpHeadParser::Status status = head_parser_.parse(input, head);
  if (status == HttpHeadParser::Status::need_more) {
    partial_head_ = !input.empty();
    return {};
  }
  if (status == HttpHeadParser::Status::error) return fail({head_parser_.error(), {}}, 0);
  head_parser_.reset();
  partial_head_ = false;
  if (auto e = frame_request(head, limits_.body.max_body_bytes, framing_);
      e != HttpMessageError::none)
    return fail({{}, e}, head.head_size);
  body_.start(framing_.body, framing_.content_length);
  if (store) store->clear();
  state_ = State::body;
  return {HttpReadEvent::Kind::head, head.head_size, {}, {}};
}

HttpReadEvent HttpRequestReader::read(std::string_view input, HttpRequestHead& head,
                                      std::string* store) {
  switch (state_) {
    case State::failed: return {HttpReadEvent::Kind::error, 0, {}, error_};
    case State::head: return read_head(input, head, store);
    case State::body: break;
  }
  if (store) {
    const HttpCollectResult r = collect_body(body_, input, limits_.body, *store);
    switch (r.kind) {
      case HttpBodyStep::Kind::done:
        state_ = State::head;
        return {HttpReadEvent::Kind::complete, r.consumed, r.body, {}};
      case HttpBodyStep::Kind::error: return fail({{}, r.error}, r.consumed);
      default: return {HttpReadEvent::Kind::need_more, r.consumed, {}, {}};
    }
  }
  const HttpBodyStep step = body_.next(input, limits_.body);
  switch (step.kind) {
    case HttpBodyStep::Kind::data: return {HttpReadEvent::Kind::body, step.consumed, step.data, {}};
    case HttpBodyStep::Kind::done:
      state_ = State::head;
      return {HttpReadEvent::Kind::complete, step.consumed, {}, {}};
    case HttpBodyStep::Kind::error: return fail({{}, step.error}, step.consumed);
    case HttpBodyStep::Kind::need_more: break;
  }
  return {HttpReadEvent::Kind::need_more, step.consumed, {}, {}};
}

}  // namespace wshub::proto
