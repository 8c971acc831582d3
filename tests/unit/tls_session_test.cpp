// TlsSession against an OpenSSL client over memory: handshake, the switch to the compact TLS
// 1.3 record layer, data both ways split at every size, KeyUpdate, close_notify, TLS 1.2, SNI,
// tampering, reload.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/tls_context.h"
#include "tls/tls_session.h"
#include "tls_test_support.h"

namespace wshub::tls {
namespace {

using testing::MemoryClient;
using testing::RecordingOutput;
using testing::TempDir;

struct Fixture {
  TempDir dir;
  std::string certs = testing::write_certs(dir, "main", testing::make_certs({"test.ws.com", "127.0.0.1"}));
  std::unique_ptr<TlsContext> context;
  explicit Fixture(TlsConfig config = {}) {
    if (config.files.cert.empty()) config.files = {certs + "/cert.pem", certs + "/key.pem"};
    context = std::make_unique<TlsContext>(config, "test");
  }
};

// Feeds `bytes` to the session in pieces of `chunk` bytes.
bool feed(TlsSession& session, const std::string& bytes, RecordingOutput& out, size_t chunk = 1 << 20) {
  std::vector<uint8_t> scratch(256 * 1024);
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    std::vector<uint8_t> piece(bytes.begin() + long(at),
                               bytes.begin() + long(std::min(bytes.size(), at + chunk)));
    if (!session.on_input(piece, scratch, out)) return false;
  }
  return true;
}

bool handshake(TlsSession& session, MemoryClient& client, RecordingOutput& out, size_t chunk = 1 << 20) {
  for (int round = 0; round < 10; ++round) {
    int r = SSL_do_handshake(client.ssl);
    if (!feed(session, client.take_output(), out, chunk)) return false;
    client.give_input(out.to_client);
    out.to_client.clear();
    if (r == 1 && session.established()) return true;
    ERR_clear_error();
  }
  return false;
}

TEST(TlsSession, Tls13HandshakeFreesTheSslObjectAndCarriesDataBothWays) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
  RecordingOutput out;
  ASSERT_TRUE(handshake(*session, client, out));
  EXPECT_TRUE(session->compact());
  EXPECT_STREQ(SSL_get_version(client.ssl), "TLSv1.3");
  const unsigned char* alpn = nullptr;
  unsigned int alpn_size = 0;
  SSL_get0_alpn_selected(client.ssl, &alpn, &alpn_size);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_size), "http/1.1");
  // The client reads the session ticket first: its sequence number was accounted for.
  ASSERT_TRUE(client.write("GET /echo HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(feed(*session, client.take_output(), out));
  EXPECT_EQ(out.plain, "GET /echo HTTP/1.1\r\n\r\n");
  const std::string reply = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  iovec iov{const_cast<char*>(reply.data()), reply.size()};
  ASSERT_TRUE(session->on_output(&iov, 1, out));
  client.give_input(out.to_client);
  EXPECT_EQ(client.read_all(), reply);
  EXPECT_EQ(f.context->counters().handshakes.load(), 1u);
  EXPECT_EQ(f.context->counters().tls13.load(), 1u);
}

TEST(TlsSession, InputSplitAtEverySizeAndLargeWrites) {
  for (size_t chunk : {size_t(1), size_t(2), size_t(5), size_t(6), size_t(100), size_t(16401), size_t(70000)}) {
    Fixture f;
    std::unique_ptr<TlsSession> session(f.context->new_session());
    MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
    RecordingOutput out;
    ASSERT_TRUE(handshake(*session, client, out, chunk)) << chunk;
    std::string message(200000, '\0');
    for (size_t i = 0; i < message.size(); ++i) message[i] = char(i * 7 + i / 251);
    ASSERT_TRUE(client.write(message));
    ASSERT_TRUE(feed(*session, client.take_output(), out, chunk)) << chunk;
    EXPECT_EQ(out.plain, message) << chunk;
    // A gather of many small pieces and one large one, as the reactor passes them.
    std::vector<iovec> iov;
    std::string small = "0123456789";
    for (int i = 0; i < 20; ++i) iov.push_back({small.data(), small.size()});
    iov.push_back({message.data(), message.size()});
    ASSERT_TRUE(session->on_output(iov.data(), int(iov.size()), out));
    client.give_input(out.to_client);
    std::string expected;
    for (int i = 0; i < 20; ++i) expected += small;
    expected += message;
    EXPECT_EQ(client.read_all(), expected) << chunk;
  }
}

TEST(TlsSession, KeyUpdateFromTheClientBothWays) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
  RecordingOutput out;
  ASSERT_TRUE(handshake(*session, client, out));
  client.give_input(out.to_client);
  out.to_client.clear();
  client.read_all();
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(SSL_key_update(client.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
    ASSERT_TRUE(client.write("after update " + std::to_string(round)));
    ASSERT_TRUE(feed(*session, client.take_output(), out));
    EXPECT_EQ(out.plain, "after update " + std::to_string(round));
    out.plain.clear();
    const std::string reply = "reply " + std::to_string(round);
    iovec iov{const_cast<char*>(reply.data()), reply.size()};
    ASSERT_TRUE(session->on_output(&iov, 1, out));
    client.give_input(out.to_client);
    out.to_client.clear();
    EXPECT_EQ(client.read_all(), reply);
  }
}

TEST(TlsSession, CloseNotifyBothWays) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
  RecordingOutput out;
  ASSERT_TRUE(handshake(*session, client, out));
  session->on_close(out);
  client.give_input(out.to_client);
  client.read_all();
  EXPECT_TRUE(SSL_get_shutdown(client.ssl) & SSL_RECEIVED_SHUTDOWN);
  SSL_shutdown(client.ssl);
  EXPECT_FALSE(feed(*session, client.take_output(), out));  // the peer is done: hang up
  EXPECT_EQ(session->failure(), TlsFailure::none);
}

TEST(TlsSession, TamperedRecordIsRefusedWithAnAlert) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
  RecordingOutput out;
  ASSERT_TRUE(handshake(*session, client, out));
  out.to_client.clear();
  ASSERT_TRUE(client.write("hello"));
  std::string record = client.take_output();
  record[record.size() - 3] ^= 1;
  EXPECT_FALSE(feed(*session, record, out));
  EXPECT_EQ(out.plain, "");
  EXPECT_FALSE(out.to_client.empty());  // the bad_record_mac alert
}

TEST(TlsSession, Tls12KeepsOpenSsl) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client(f.certs + "/ca.pem", "test.ws.com", TLS1_2_VERSION);
  RecordingOutput out;
  ASSERT_TRUE(handshake(*session, client, out));
  EXPECT_FALSE(session->compact());
  EXPECT_STREQ(SSL_get_version(client.ssl), "TLSv1.2");
  ASSERT_TRUE(client.write("ping"));
  ASSERT_TRUE(feed(*session, client.take_output(), out));
  EXPECT_EQ(out.plain, "ping");
  const std::string reply = "pong";
  iovec iov[2] = {{const_cast<char*>(reply.data()), 2}, {const_cast<char*>(reply.data() + 2), 2}};
  ASSERT_TRUE(session->on_output(iov, 2, out));
  client.give_input(out.to_client);
  EXPECT_EQ(client.read_all(), "pong");
}

TEST(TlsSession, OldProtocolVersionsAreRefusedByName) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  MemoryClient client("", "", TLS1_1_VERSION);
  SSL_set_security_level(client.ssl, 0);
  SSL_set_min_proto_version(client.ssl, TLS1_VERSION);
  RecordingOutput out;
  EXPECT_FALSE(handshake(*session, client, out));
  EXPECT_EQ(session->failure(), TlsFailure::unsupported_version);
  EXPECT_EQ(f.context->counters().failures[size_t(TlsFailure::unsupported_version)].load(), 1u);
  // The refusal is told to the client as a protocol_version alert (70), not a bare close.
  client.give_input(out.to_client);
  ERR_clear_error();
  EXPECT_NE(SSL_do_handshake(client.ssl), 1);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  ERR_clear_error();
}

TEST(TlsSession, AClientThatClosesIsToldApartByWhetherItSawTheCertificate) {
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    Fixture f;
    // Closed before sending anything, and after half a ClientHello: probes and scanners.
    std::unique_ptr<TlsSession> silent(f.context->new_session());
    silent->note_peer_closed();
    EXPECT_EQ(silent->failure(), TlsFailure::closed_in_handshake);
    std::unique_ptr<TlsSession> partial(f.context->new_session());
    MemoryClient early("", "test.ws.com", version);
    SSL_do_handshake(early.ssl);
    ERR_clear_error();
    const std::string hello = early.take_output();
    RecordingOutput out;
    ASSERT_TRUE(feed(*partial, hello.substr(0, hello.size() / 2), out));
    EXPECT_TRUE(out.to_client.empty());
    partial->note_peer_closed();
    EXPECT_EQ(partial->failure(), TlsFailure::closed_in_handshake);
    // Closed after the server's flight with the certificate: a client that does not trust it.
    std::unique_ptr<TlsSession> session(f.context->new_session());
    MemoryClient client("", "test.ws.com", version);
    SSL_do_handshake(client.ssl);
    ERR_clear_error();
    ASSERT_TRUE(feed(*session, client.take_output(), out));
    EXPECT_TRUE(session->handshaking());
    session->note_peer_closed();
    EXPECT_EQ(session->failure(), TlsFailure::closed_after_certificate) << version;
    const auto& failures = f.context->counters().failures;
    EXPECT_EQ(failures[size_t(TlsFailure::closed_in_handshake)].load(), 2u);
    EXPECT_EQ(failures[size_t(TlsFailure::closed_after_certificate)].load(), 1u);
    EXPECT_NE(tls_failure_sentence(TlsFailure::closed_after_certificate).find("does not trust"),
              std::string_view::npos);
  }
}

TEST(TlsSession, PlainHttpOnTheTlsPortIsNamed) {
  Fixture f;
  std::unique_ptr<TlsSession> session(f.context->new_session());
  RecordingOutput out;
  EXPECT_FALSE(feed(*session, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", out));
  EXPECT_EQ(session->failure(), TlsFailure::plain_http);
  EXPECT_NE(tls_failure_sentence(session->failure()).find("wss://"), std::string_view::npos);
}

TEST(TlsSession, SniChoosesTheCertificateByName) {
  TempDir dir;
  const std::string a = testing::write_certs(dir, "a", testing::make_certs({"a.example.test"}));
  const std::string b = testing::write_certs(dir, "b", testing::make_certs({"b.example.test"}));
  const std::string w = testing::write_certs(dir, "w", testing::make_certs({"*.wild.test"}));
  TlsConfig config;
  config.files = {a + "/cert.pem", a + "/key.pem"};
  config.sni.push_back({"b.example.test", {b + "/cert.pem", b + "/key.pem"}});
  config.sni.push_back({"*.wild.test", {w + "/cert.pem", w + "/key.pem"}});
  TlsContext context(config, "sni");
  auto name_for = [&](const std::string& sni) {
    std::unique_ptr<TlsSession> session(context.new_session());
    MemoryClient client("", sni);
    RecordingOutput out;
    EXPECT_TRUE(handshake(*session, client, out)) << sni;
    return testing::peer_common_name(client.ssl);
  };
  EXPECT_EQ(name_for("b.example.test"), "b.example.test");
  EXPECT_EQ(name_for("B.Example.Test"), "b.example.test");
  EXPECT_EQ(name_for("x.wild.test"), "*.wild.test");
  EXPECT_EQ(name_for("a.b.wild.test"), "a.example.test");  // a wildcard covers one label
  EXPECT_EQ(name_for("other.test"), "a.example.test");
  EXPECT_EQ(name_for(""), "a.example.test");
}

// Resumption itself is exercised over real sockets (tests/proxy/test_direct_wss.py); here:
// every full handshake hands the client one resumable ticket, before and after a reload.
TEST(TlsSession, IssuesOneResumableTicketBeforeAndAfterAReload) {
  Fixture f;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<TlsSession> session(f.context->new_session());
    MemoryClient client(f.certs + "/ca.pem", "test.ws.com");
    RecordingOutput out;
    ASSERT_TRUE(handshake(*session, client, out));
    client.read_all();  // takes the NewSessionTicket
    SSL_SESSION* saved = SSL_get1_session(client.ssl);
    ASSERT_TRUE(saved);
    EXPECT_TRUE(SSL_SESSION_is_resumable(saved));
    EXPECT_TRUE(SSL_SESSION_has_ticket(saved));
    SSL_SESSION_free(saved);
    // The ticket took the server's first application sequence number; data still flows.
    const std::string reply = "after the ticket";
    iovec iov{const_cast<char*>(reply.data()), reply.size()};
    ASSERT_TRUE(session->on_output(&iov, 1, out));
    client.give_input(out.to_client);
    EXPECT_EQ(client.read_all(), reply);
    std::string why;
    ASSERT_TRUE(f.context->reload(why)) << why;
  }
}

}  // namespace
}  // namespace wshub::tls
