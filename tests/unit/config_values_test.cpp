// Config values: counts and durations are whole numbers, sizes may carry a unit, and the
// files a config names are checked with the line that names them.
#include <gtest/gtest.h>

#include "app/config_file.h"

namespace wshub::app {
namespace {

std::string error_of(std::string_view text) {
  AppConfig config;
  ConfigError error;
  EXPECT_FALSE(load_config_text(text, "/etc/wshub/wshub.toml", config, error)) << text;
  return error.message;
}

TEST(ConfigValues, CountsAndDurationsAreWholeNumbersNotSizes) {
  EXPECT_EQ(error_of("[server]\nthreads = \"4\"\n"),
            "/etc/wshub/wshub.toml:2:11: server.threads: expected a whole number");
  EXPECT_EQ(error_of("[server]\nthreads = 2.5\n"),
            "/etc/wshub/wshub.toml:2:11: server.threads: expected a whole number");
  EXPECT_EQ(error_of("[limits]\nhandshake_timeout_ms = \"10s\"\n"),
            "/etc/wshub/wshub.toml:2:24: limits.handshake_timeout_ms: expected a whole number of "
            "milliseconds");
  EXPECT_EQ(error_of("[server]\nthreads = 1025\n"),
            "/etc/wshub/wshub.toml:2:11: server.threads: must be between 0 and 1024");
}

TEST(ConfigValues, SizesTakeAUnit) {
  AppConfig config;
  ConfigError error;
  ASSERT_TRUE(load_config_text("[limits]\nmax_frame_bytes = \"2MiB\"\nmax_message_bytes = 4194304\n"
                               "[compression]\nmin_message_bytes = \"1 KiB\"\n",
                               "/etc/wshub/wshub.toml", config, error))
      << error.message;
  EXPECT_EQ(config.server.limits.max_frame_bytes, 2u << 20);
  EXPECT_EQ(config.server.limits.max_message_bytes, 4u << 20);
  EXPECT_EQ(config.server.compression.min_message_bytes, 1024u);
  EXPECT_EQ(error_of("[limits]\nmax_frame_bytes = \"2 parsecs\"\n"),
            "/etc/wshub/wshub.toml:2:19: limits.max_frame_bytes: expected a whole number of bytes "
            "or a size such as \"16MiB\"");
}

TEST(ConfigValues, AMissingCertificateFileIsReportedAtItsLine) {
  AppConfig config;
  ConfigError error;
  ASSERT_TRUE(load_config_text("[[listen]]\naddress = \"127.0.0.1:0\"\n[[listen]]\n"
                               "address = \"127.0.0.1:1\"\n[listen.tls]\ncert = \"/nonexistent/c.pem\"\n"
                               "key = \"k.pem\"\n",
                               "/nonexistent-dir/wshub.toml", config, error))
      << error.message;
  ASSERT_EQ(config.files.size(), 2u);
  EXPECT_EQ(config.files[1].key, "listen.tls.key");
  EXPECT_EQ(config.files[1].path, "/nonexistent-dir/k.pem");
  EXPECT_EQ(config.files[1].entry, 1u);
  EXPECT_FALSE(check_config_files(config, error));
  EXPECT_EQ(error.message, "/nonexistent-dir/wshub.toml:6:8: listen.tls.cert: cannot open "
                           "/nonexistent/c.pem: No such file or directory");
}

}  // namespace
}  // namespace wshub::app
