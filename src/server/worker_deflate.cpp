// The permessage-deflate side of a worker (RFC 7692 §6-§7): inflating what a connection sent,
// compressing what it is sent, and picking a fan-out frame's variant. Control frames never come
// here: they are neither compressed nor inflated.
#include "base/single_writer_counter.h"
#include "server/worker.h"

namespace wshub::server {

bool Worker::inflate_message(Connection& c, proto::ReadEvent& event) {
  Bytes message;
  const proto::ReaderError error = compression_.inflate(
      c, event.opcode, event.payload, context_.config().limits.max_message_bytes, message);
  if (error != proto::ReaderError::none) {
    fail(c, error);
    return false;
  }
  event.payload = message;
  return true;
}

bool Worker::send_compressed(Connection& c, proto::Opcode opcode, Bytes payload) {
  Bytes body;
  uint8_t rsv = 0;
  switch (compression_.compress(c, payload, body)) {
    case WorkerCompression::Compressed::yes: rsv = proto::kRsv1; break;
    case WorkerCompression::Compressed::no: body = payload; break;
    case WorkerCompression::Compressed::failed:
      context_.log_peer_error("{} closed with 1011: compressing a message failed (out of memory?)",
                             describe_peer(c));
      close_connection(c, 1011, "the server could not compress a message");
      return false;
  }
  // RSV1 marks the message, so it sits on its only frame (messages are sent unfragmented).
  uint8_t header[proto::kMaxHeaderSize];
  const size_t header_size =
      proto::write_frame_header(header, opcode, body.size(), /*fin=*/true, rsv);
  iovec iov[2] = {{header, header_size}, {const_cast<uint8_t*>(body.data()), body.size()}};
  const bool sent = after_send(c, reactor_->send(c, iov, body.empty() ? 1 : 2));
  compression_.after_message();
  return sent;
}

bool Worker::send_variants(Connection& c, const proto::FrameVariants& frame) {
  if (c.state != ConnectionState::open) return false;
  if (!c.deflate || !compression_.worth_compressing(frame.payload().size()))
    return send_frame(c, frame.plain());
  if (c.deflate->agreed.server_no_context_takeover) {
    // Compressed once for every receiver with this window, on whichever thread needed it first.
    const SharedBuffer* compressed =
        frame.compressed(c.deflate->agreed.server_window_bits, compression_.shared_deflaters());
    if (!compressed) return send_frame(c, frame.plain());
    add_single_writer(compression_.counters().shared_frames_sent);
    return send_frame(c, *compressed);
  }
  // Context takeover: this connection's stream holds its own history; nothing can be shared.
  return send_compressed(c, frame.opcode(), frame.payload());
}


}  // namespace wshub::server
