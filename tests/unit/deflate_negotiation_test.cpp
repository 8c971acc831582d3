// permessage-deflate negotiation (RFC 7692 §7.1): every parameter, the bare form, duplicates,
// invalid values, several offers in one header and across headers, and the fallback to no
// extension. The last test walks every combination of parameters and checks the rules hold.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/deflate_negotiation.h"

namespace wshub::test {
namespace {

using proto::DeflateDecline;
using proto::DeflateNegotiation;
using proto::DeflatePolicy;

DeflatePolicy on() {
  DeflatePolicy p;
  p.enabled = true;
  return p;
}

// Context takeover allowed both ways: the policy that answers offers most literally.
DeflatePolicy takeover() {
  DeflatePolicy p = on();
  p.server_no_context_takeover = false;
  p.client_no_context_takeover = false;
  return p;
}

DeflateNegotiation negotiate(std::vector<std::string_view> headers, const DeflatePolicy& policy) {
  return proto::negotiate_deflate(std::span<const std::string_view>(headers), policy);
}

std::string answer(std::vector<std::string_view> headers, const DeflatePolicy& policy) {
  return std::string(negotiate(std::move(headers), policy).response_value());
}

DeflateDecline declined(std::vector<std::string_view> headers, const DeflatePolicy& policy) {
  DeflateNegotiation n = negotiate(std::move(headers), policy);
  EXPECT_FALSE(n.accepted) << n.response_value();
  EXPECT_TRUE(n.response_value().empty());
  return n.first_decline;
}

TEST(DeflateNegotiation, OffNeverNegotiates) {
  DeflateNegotiation n = negotiate({"permessage-deflate"}, DeflatePolicy{});
  EXPECT_FALSE(n.accepted);
  EXPECT_EQ(n.response_value(), "");
}

TEST(DeflateNegotiation, NoOfferNoExtension) {
  DeflateNegotiation n = negotiate({}, on());
  EXPECT_FALSE(n.accepted);
  EXPECT_EQ(n.offers, 0);
  EXPECT_FALSE(negotiate({"x-webkit-deflate-frame"}, on()).accepted);
}

TEST(DeflateNegotiation, DefaultPolicyAsksForNoContextTakeoverBothWays) {
  DeflateNegotiation n = negotiate({"permessage-deflate"}, on());
  ASSERT_TRUE(n.accepted);
  EXPECT_EQ(n.response_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_TRUE(n.agreed.negotiated);
  EXPECT_TRUE(n.agreed.server_no_context_takeover);
  EXPECT_TRUE(n.agreed.client_no_context_takeover);
  EXPECT_EQ(n.agreed.server_window_bits, 15);
  EXPECT_EQ(n.agreed.client_window_bits, 15);
}

TEST(DeflateNegotiation, TakeoverPolicyAnswersABareOfferBare) {
  DeflateNegotiation n = negotiate({"permessage-deflate"}, takeover());
  ASSERT_TRUE(n.accepted);
  EXPECT_EQ(n.response_value(), "permessage-deflate");
  EXPECT_FALSE(n.agreed.server_no_context_takeover);
  EXPECT_FALSE(n.agreed.client_no_context_takeover);
}

TEST(DeflateNegotiation, ServerNoContextTakeoverIsHonoured) {
  DeflateNegotiation n = negotiate({"permessage-deflate; server_no_context_takeover"}, takeover());
  ASSERT_TRUE(n.accepted);
  EXPECT_EQ(n.response_value(), "permessage-deflate; server_no_context_takeover");
  EXPECT_TRUE(n.agreed.server_no_context_takeover);
  EXPECT_FALSE(n.agreed.client_no_context_takeover);
}

TEST(DeflateNegotiation, ClientNoContextTakeoverIsAccepted) {
  DeflateNegotiation n = negotiate({"permessage-deflate; client_no_context_takeover"}, takeover());
  ASSERT_TRUE(n.accepted);
  EXPECT_EQ(n.response_value(), "permessage-deflate; client_no_context_takeover");
  EXPECT_TRUE(n.agreed.client_no_context_takeover);
  EXPECT_FALSE(n.agreed.server_no_context_takeover);
}

TEST(DeflateNegotiation, ServerMaxWindowBitsIsAnsweredWithTheSameOrLess) {
  EXPECT_EQ(answer({"permessage-deflate; server_max_window_bits=10"}, takeover()),
            "permessage-deflate; server_max_window_bits=10");
  DeflatePolicy small = takeover();
  small.server_max_window_bits = 12;
  DeflateNegotiation n = negotiate({"permessage-deflate; server_max_window_bits=14"}, small);
  EXPECT_EQ(n.response_value(), "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(n.agreed.server_window_bits, 12);
  // Not requested: the server uses its smaller window without announcing it (a larger window
  // on the client's side always inflates it).
  n = negotiate({"permessage-deflate"}, small);
  EXPECT_EQ(n.response_value(), "permessage-deflate");
  EXPECT_EQ(n.agreed.server_window_bits, 12);
  EXPECT_EQ(negotiate({"permessage-deflate; server_max_window_bits=9"}, takeover())
                .agreed.server_window_bits, 9);
}

TEST(DeflateNegotiation, ServerMaxWindowBits8CannotBeHonouredSoTheOfferIsDeclined) {
  EXPECT_EQ(declined({"permessage-deflate; server_max_window_bits=8"}, on()),
            DeflateDecline::window_bits_8);
  // ... and the next offer is taken instead.
  DeflateNegotiation n =
      negotiate({"permessage-deflate; server_max_window_bits=8, permessage-deflate"}, takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate");
  EXPECT_EQ(n.first_decline, DeflateDecline::window_bits_8);
  EXPECT_EQ(n.offers, 2);
}

TEST(DeflateNegotiation, ClientMaxWindowBitsBareForm) {
  // Supported but unlimited on our side: nothing to say.
  DeflateNegotiation n = negotiate({"permessage-deflate; client_max_window_bits"}, takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate");
  EXPECT_EQ(n.agreed.client_window_bits, 15);
  DeflatePolicy small = takeover();
  small.client_max_window_bits = 10;
  n = negotiate({"permessage-deflate; client_max_window_bits"}, small);
  EXPECT_EQ(n.response_value(), "permessage-deflate; client_max_window_bits=10");
  EXPECT_EQ(n.agreed.client_window_bits, 10);
}

TEST(DeflateNegotiation, ClientMaxWindowBitsWithAValueIsAnsweredWithTheSameOrLess) {
  DeflateNegotiation n = negotiate({"permessage-deflate; client_max_window_bits=12"}, takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate; client_max_window_bits=12");
  EXPECT_EQ(n.agreed.client_window_bits, 12);
  DeflatePolicy small = takeover();
  small.client_max_window_bits = 9;
  EXPECT_EQ(answer({"permessage-deflate; client_max_window_bits=12"}, small),
            "permessage-deflate; client_max_window_bits=9");
  EXPECT_EQ(answer({"permessage-deflate; client_max_window_bits=8"}, takeover()),
            "permessage-deflate; client_max_window_bits=8");
  EXPECT_EQ(answer({"permessage-deflate; client_max_window_bits=15"}, takeover()),
            "permessage-deflate");
}

TEST(DeflateNegotiation, ClientWindowIsNeverLimitedWhenTheClientDidNotOfferTheParameter) {
  DeflatePolicy small = takeover();
  small.client_max_window_bits = 9;
  DeflateNegotiation n = negotiate({"permessage-deflate"}, small);
  EXPECT_EQ(n.response_value(), "permessage-deflate");  // §7.1.2.2: MUST NOT include it
  EXPECT_EQ(n.agreed.client_window_bits, 15);
}

TEST(DeflateNegotiation, AllFourParameters) {
  DeflateNegotiation n = negotiate(
      {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=11; client_max_window_bits=13"},
      on());
  ASSERT_TRUE(n.accepted);
  EXPECT_EQ(n.response_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=11; client_max_window_bits=13");
  EXPECT_LE(n.response_value().size(), proto::kMaxDeflateResponseSize);
  EXPECT_EQ(n.agreed.server_window_bits, 11);
  EXPECT_EQ(n.agreed.client_window_bits, 13);
}

TEST(DeflateNegotiation, DuplicateParametersDeclineTheOffer) {
  for (std::string_view offer :
       {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=99; server_max_window_bits=10"}) {
    SCOPED_TRACE(offer);
    DeflateDecline why = declined({offer}, on());
    EXPECT_TRUE(why == DeflateDecline::duplicate_parameter || why == DeflateDecline::invalid_value)
        << proto::deflate_decline_name(why);
  }
  EXPECT_EQ(declined({"permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
                     on()),
            DeflateDecline::duplicate_parameter);
}

TEST(DeflateNegotiation, InvalidValuesDeclineTheOffer) {
  for (std::string_view offer :
       {"permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        "permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=1a", "permessage-deflate; server_max_window_bits=\"\"",
        "permessage-deflate; server_max_window_bits=000000000010",
        "permessage-deflate; client_max_window_bits=0", "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=-9", "permessage-deflate; client_max_window_bits=\"9 \""}) {
    SCOPED_TRACE(offer);
    EXPECT_EQ(declined({offer}, on()), DeflateDecline::invalid_value);
  }
}

TEST(DeflateNegotiation, UnknownParameterDeclinesTheOffer) {
  EXPECT_EQ(declined({"permessage-deflate; mux"}, on()), DeflateDecline::unknown_parameter);
  EXPECT_EQ(declined({"permessage-deflate; client_max_window_bits; x=1"}, on()),
            DeflateDecline::unknown_parameter);
}

TEST(DeflateNegotiation, QuotedValuesAreUnquoted) {
  EXPECT_EQ(answer({"permessage-deflate; server_max_window_bits=\"10\""}, takeover()),
            "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(answer({"permessage-deflate; client_max_window_bits=\"1\\1\""}, takeover()),
            "permessage-deflate; client_max_window_bits=11");
}

TEST(DeflateNegotiation, NamesAreCaseInsensitiveAndWhitespaceIsAllowed) {
  EXPECT_EQ(answer({"PerMessage-Deflate ;\tServer_Max_Window_Bits = 10 ,foo"}, takeover()),
            "permessage-deflate; server_max_window_bits=10");
}

TEST(DeflateNegotiation, FirstAcceptableOfferInOneHeaderWins) {
  DeflateNegotiation n = negotiate(
      {"permessage-deflate; server_max_window_bits=10; unknown, "
       "permessage-deflate; server_max_window_bits=11, permessage-deflate"},
      takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate; server_max_window_bits=11");
  EXPECT_EQ(n.first_decline, DeflateDecline::unknown_parameter);
  EXPECT_EQ(n.offers, 2);  // the third was never looked at
}

TEST(DeflateNegotiation, OffersAcrossSeveralHeadersAreTakenInOrder) {
  DeflateNegotiation n = negotiate({"x-webkit-deflate-frame", "permessage-deflate; bogus",
                                    "permessage-deflate; client_max_window_bits=10",
                                    "permessage-deflate"},
                                   takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate; client_max_window_bits=10");
}

TEST(DeflateNegotiation, AMalformedHeaderIsIgnoredWholeAndTheNextOneStillCounts) {
  for (std::string_view bad :
       {"permessage-deflate; =1", "permessage-deflate; server_max_window_bits=\"10",
        "permessage-deflate server_no_context_takeover", "permessage-deflate;;",
        "permessage-deflate; a=", "permessage-deflate; a=\"\x01\"", ";permessage-deflate",
        "permessage-deflate, permessage-deflate; client_max_window_bits=@"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(declined({bad}, on()), DeflateDecline::malformed_header);
    EXPECT_TRUE(negotiate({bad, "permessage-deflate"}, on()).accepted);
  }
  // Empty list elements are fine.
  EXPECT_TRUE(negotiate({" , ,permessage-deflate,"}, on()).accepted);
}

TEST(DeflateNegotiation, NothingAcceptableMeansNoExtensionNotAFailure) {
  DeflateNegotiation n = negotiate(
      {"permessage-deflate; server_max_window_bits=8", "permessage-deflate; x", "foo; bar"}, on());
  EXPECT_FALSE(n.accepted);
  EXPECT_EQ(n.offers, 2);
  EXPECT_EQ(n.first_decline, DeflateDecline::window_bits_8);
}

TEST(DeflateNegotiation, ReadsTheHeadersOfARequestHead) {
  const std::string head =
      "GET /echo HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Extensions: x-foo\r\n"
      "Upgrade: websocket\r\nsec-websocket-extensions: permessage-deflate; "
      "client_max_window_bits=9\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  proto::HttpRequestHead parsed;
  ASSERT_EQ(proto::parse_complete_head(head, {}, parsed), proto::HttpHeadError::none);
  DeflateNegotiation n = proto::negotiate_deflate(parsed, takeover());
  EXPECT_EQ(n.response_value(), "permessage-deflate; client_max_window_bits=9");
}

// Every combination of the four parameters (each absent or in several forms) under several
// policies: an accepted offer obeys RFC 7692 §7.1 and its response says what was agreed.
TEST(DeflateNegotiation, EveryCombinationObeysTheRules) {
  const std::vector<std::string> snct = {"", "; server_no_context_takeover"};
  const std::vector<std::string> cnct = {"", "; client_no_context_takeover"};
  const std::vector<std::string> smwb = {"", "; server_max_window_bits=8", "; server_max_window_bits=9",
                                         "; server_max_window_bits=12", "; server_max_window_bits=15"};
  const std::vector<std::string> cmwb = {"", "; client_max_window_bits", "; client_max_window_bits=8",
                                         "; client_max_window_bits=11", "; client_max_window_bits=15"};
  std::vector<DeflatePolicy> policies;
  for (bool s : {false, true})
    for (bool c : {false, true})
      for (uint8_t bits : {9, 12, 15}) {
        DeflatePolicy p = on();
        p.server_no_context_takeover = s;
        p.client_no_context_takeover = c;
        p.server_max_window_bits = bits;
        p.client_max_window_bits = uint8_t(bits == 9 ? 8 : bits);
        policies.push_back(p);
      }
  int checked = 0;
  for (const DeflatePolicy& policy : policies)
    for (size_t a = 0; a < snct.size(); ++a)
      for (size_t b = 0; b < cnct.size(); ++b)
        for (size_t c = 0; c < smwb.size(); ++c)
          for (size_t d = 0; d < cmwb.size(); ++d) {
            const std::string offer = "permessage-deflate" + snct[a] + cnct[b] + smwb[c] + cmwb[d];
            SCOPED_TRACE(offer);
            DeflateNegotiation n = negotiate({offer}, policy);
            const std::string_view r = n.response_value();
            if (c == 1) {  // server_max_window_bits=8
              EXPECT_FALSE(n.accepted);
              continue;
            }
            ASSERT_TRUE(n.accepted);
            ++checked;
            const auto has = [&](std::string_view p) { return r.find(p) != std::string_view::npos; };
            EXPECT_EQ(r.substr(0, 18), "permessage-deflate");
            // server_no_context_takeover: requested means granted.
            if (a) {
              EXPECT_TRUE(n.agreed.server_no_context_takeover);
            }
            EXPECT_EQ(n.agreed.server_no_context_takeover, has("server_no_context_takeover"));
            EXPECT_EQ(n.agreed.server_no_context_takeover,
                      bool(a) || policy.server_no_context_takeover);
            EXPECT_EQ(n.agreed.client_no_context_takeover, has("client_no_context_takeover"));
            EXPECT_EQ(n.agreed.client_no_context_takeover,
                      bool(b) || policy.client_no_context_takeover);
            // server_max_window_bits: answered exactly when requested, never above the request.
            EXPECT_EQ(has("server_max_window_bits"), c != 0);
            if (c) {
              const int requested = std::stoi(smwb[c].substr(smwb[c].find('=') + 1));
              EXPECT_LE(n.agreed.server_window_bits, requested);
              EXPECT_TRUE(has("server_max_window_bits=" + std::to_string(n.agreed.server_window_bits)));
            }
            EXPECT_LE(n.agreed.server_window_bits, policy.server_max_window_bits);
            EXPECT_GE(n.agreed.server_window_bits, 9);
            // client_max_window_bits: only answered when offered; never above an offered value.
            if (d == 0) {
              EXPECT_FALSE(has("client_max_window_bits"));
            }
            if (d >= 2) {
              const int offered = std::stoi(cmwb[d].substr(cmwb[d].find('=') + 1));
              EXPECT_LE(n.agreed.client_window_bits, offered);
            }
            if (has("client_max_window_bits"))
              EXPECT_TRUE(has("client_max_window_bits=" + std::to_string(n.agreed.client_window_bits)));
            else
              EXPECT_EQ(n.agreed.client_window_bits, 15);
            EXPECT_LE(r.size(), proto::kMaxDeflateResponseSize);
          }
  EXPECT_EQ(checked, int(policies.size()) * 2 * 2 * 4 * 5);
}

}  // namespace
}  // namespace wshub::test
