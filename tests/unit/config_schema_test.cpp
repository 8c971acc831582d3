// The config tables on their own: a section shaped like the hub's ([hub] with a sub-table, an
// array of tables and every key type) declared with ConfigFields, read through the same reader
// as wshub's file, with each error's FILE:LINE:COLUMN, key and sentence, and its reference.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cctype>
#include <optional>

#include "app/config_file.h"
#include "app/config_schema.h"

namespace wshub::app {
namespace {

enum class Durability : uint8_t { none, batch, sync };

struct Webhook {
  std::string url;
  uint32_t timeout_ms = 2000;
};

struct Namespace {
  std::string name;
  bool allow_publish = false;
  std::vector<std::string> channels;
};

struct HubSettings {
  uint32_t history = 100;
  uint64_t max_payload = 64 << 10;
  uint32_t presence_ttl_ms = 30000;
  bool presence = true;
  std::string secret;
  std::string key_file;
  Durability durability = Durability::batch;
  std::optional<Webhook> connect_webhook;
  std::vector<Namespace> namespaces;
  std::vector<std::string> origins;  // lower-cased by its setter
};

struct Root {
  HubSettings hub;
};

bool check_namespace_name(std::string& name, std::string& why) {
  if (!name.empty() && name.find(':') == std::string::npos) return true;
  why = fmt::format("'{}' is not a namespace name (no ':', not empty)", name);
  return false;
}

const ConfigTable& webhook_table() {
  static const ConfigTable table =
      ConfigFields<Webhook>()
          .text("url", &Webhook::url, "where to POST", {.required = true, .expected = "a URL"})
          .duration_ms("timeout_ms", &Webhook::timeout_ms, 100, 60000, "per attempt")
          .build();
  return table;
}

const ConfigTable& namespace_table() {
  static const ConfigTable table =
      ConfigFields<Namespace>()
          .text("name", &Namespace::name, "channel prefix",
                {.required = true, .check = check_namespace_name})
          .flag("allow_publish", &Namespace::allow_publish, "clients may publish")
          .text_list("channels", &Namespace::channels, "channels made at start")
          .build();
  return table;
}

bool unique_namespaces(const HubSettings& hub, ListCheck& list) {
  for (size_t later = 1; later < hub.namespaces.size(); ++later)
    for (size_t earlier = 0; earlier < later; ++earlier)
      if (hub.namespaces[later].name == hub.namespaces[earlier].name)
        return list.fail(later, "name",
                         fmt::format("'{}' is already the name of the namespace at line {}",
                                     hub.namespaces[later].name, list.line_of(earlier, "name")));
  return true;
}

const ConfigTable& hub_table() {
  static const ConfigTable table =
      ConfigFields<HubSettings>()
          .count("history", &HubSettings::history, 0, 10000, "publications kept per channel")
          .size("max_payload", &HubSettings::max_payload, 1, 1 << 20, "largest publication")
          .duration_ms("presence_ttl_ms", &HubSettings::presence_ttl_ms, 0, 3600000,
                       "how long presence outlives a connection")
          .flag("presence", &HubSettings::presence, "track who is connected")
          .text("secret", &HubSettings::secret, "HS256 key for tokens")
          .path("key_file", &HubSettings::key_file, "RS256 public key")
          .choice("durability", &HubSettings::durability,
                  {{"none", Durability::none}, {"batch", Durability::batch}, {"sync", Durability::sync}},
                  "when a publish is answered")
          .table("connect_webhook", &HubSettings::connect_webhook, webhook_table(),
                 "asked before a client connects", {.shown_default = "none"})
          .table_list("namespace", &HubSettings::namespaces, namespace_table(), "channel groups",
                      {}, unique_namespaces)
          .text_list("origins",
                     [](HubSettings& hub, std::vector<std::string> list) {
                       for (std::string& origin : list)
                         for (char& ch : origin) ch = char(std::tolower(static_cast<unsigned char>(ch)));
                       hub.origins = std::move(list);
                     },
                     "allowed origins", {.shown_default = "[]"})
          .check([](const HubSettings& hub, TableCheck& check) {
            if (!hub.presence && check.given("presence_ttl_ms"))
              return check.fail("presence_ttl_ms", "means nothing with presence = false");
            return true;
          })
          .build();
  return table;
}

const ConfigTable& root_table() {
  static const ConfigTable table =
      ConfigFields<Root>().table("hub", &Root::hub, hub_table(), "the push hub").build();
  return table;
}

class ConfigSchema : public ::testing::Test {
 protected:
  bool load(std::string_view text) {
    root = Root{};
    error = {};
    return load_table_text(text, "/etc/wshub/hub.toml", root_table(), &root, files, error);
  }
  std::string error_of(std::string_view text) {
    EXPECT_FALSE(load(text)) << text;
    return error.message;
  }
  Root root;
  std::vector<ConfigFileReference> files;
  ConfigError error;
};

TEST_F(ConfigSchema, ReadsEveryTypeIntoItsField) {
  ASSERT_TRUE(load(R"([hub]
history = 500
max_payload = "256 KiB"
presence_ttl_ms = 5000
secret = "s3cret"
key_file = "keys/rs256.pem"
durability = "sync"
origins = ["https://A.example"]
connect_webhook = { url = "http://127.0.0.1:9000/connect", timeout_ms = 1500 }
[[hub.namespace]]
name = "devices"
allow_publish = true
channels = ["alerts", "reports"]
[[hub.namespace]]
name = "people"
)")) << error.message;
  const HubSettings& hub = root.hub;
  EXPECT_EQ(hub.history, 500u);
  EXPECT_EQ(hub.max_payload, 256u << 10);
  EXPECT_EQ(hub.presence_ttl_ms, 5000u);
  EXPECT_TRUE(hub.presence);  // absent: the struct's default
  EXPECT_EQ(hub.secret, "s3cret");
  EXPECT_EQ(hub.key_file, "/etc/wshub/keys/rs256.pem");  // from the config's directory
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].key, "hub.key_file");
  EXPECT_EQ(files[0].line, 6u);
  EXPECT_EQ(hub.durability, Durability::sync);
  EXPECT_EQ(hub.origins, std::vector<std::string>{"https://a.example"});
  ASSERT_TRUE(hub.connect_webhook.has_value());
  EXPECT_EQ(hub.connect_webhook->url, "http://127.0.0.1:9000/connect");
  EXPECT_EQ(hub.connect_webhook->timeout_ms, 1500u);
  ASSERT_EQ(hub.namespaces.size(), 2u);
  EXPECT_EQ(hub.namespaces[0].name, "devices");
  EXPECT_TRUE(hub.namespaces[0].allow_publish);
  EXPECT_EQ(hub.namespaces[0].channels, (std::vector<std::string>{"alerts", "reports"}));
  EXPECT_FALSE(hub.namespaces[1].allow_publish);

  ASSERT_TRUE(load("")) << error.message;
  EXPECT_EQ(root.hub.history, 100u);
  EXPECT_FALSE(root.hub.connect_webhook.has_value());
}

TEST_F(ConfigSchema, WrongTypesSayWhatWasExpected) {
  EXPECT_EQ(error_of("[hub]\nhistory = \"many\"\n"),
            "/etc/wshub/hub.toml:2:11: hub.history: expected a whole number");
  EXPECT_EQ(error_of("[hub]\nmax_payload = \"lots\"\n"),
            "/etc/wshub/hub.toml:2:15: hub.max_payload: expected a whole number of bytes or a size "
            "such as \"16MiB\"");
  EXPECT_EQ(error_of("[hub]\npresence_ttl_ms = 1.5\n"),
            "/etc/wshub/hub.toml:2:19: hub.presence_ttl_ms: expected a whole number of milliseconds");
  EXPECT_EQ(error_of("[hub]\npresence = \"yes\"\n"),
            "/etc/wshub/hub.toml:2:12: hub.presence: expected true or false");
  EXPECT_EQ(error_of("[hub]\nsecret = 7\n"), "/etc/wshub/hub.toml:2:10: hub.secret: expected a string");
  EXPECT_EQ(error_of("[hub]\nkey_file = \"\"\n"),
            "/etc/wshub/hub.toml:2:12: hub.key_file: expected a file path");
  EXPECT_EQ(error_of("[hub]\ndurability = \"always\"\n"),
            "/etc/wshub/hub.toml:2:14: hub.durability: expected \"none\", \"batch\" or \"sync\"");
  EXPECT_EQ(error_of("[hub]\norigins = [\"a\", 2]\n"),
            "/etc/wshub/hub.toml:2:17: hub.origins: expected a list of strings");
  EXPECT_EQ(error_of("[hub]\nconnect_webhook = \"http://x\"\n"),
            "/etc/wshub/hub.toml:2:19: hub.connect_webhook: expected a [hub.connect_webhook] table");
  EXPECT_EQ(error_of("[hub]\nnamespace = { name = \"a\" }\n"),
            "/etc/wshub/hub.toml:2:13: hub.namespace: expected [[hub.namespace]] tables");
  EXPECT_EQ(error_of("hub = 3\n"), "/etc/wshub/hub.toml:1:7: hub: expected a [hub] table");
}

TEST_F(ConfigSchema, BoundsRequiredAndUnknownKeys) {
  EXPECT_EQ(error_of("[hub]\nhistory = 10001\n"),
            "/etc/wshub/hub.toml:2:11: hub.history: must be between 0 and 10000");
  EXPECT_EQ(error_of("[hub]\nhistory = -1\n"),
            "/etc/wshub/hub.toml:2:11: hub.history: must be between 0 and 10000");
  EXPECT_EQ(error_of("[hub]\nmax_payload = \"2MiB\"\n"),
            "/etc/wshub/hub.toml:2:15: hub.max_payload: must be between 1 and 1048576");
  EXPECT_EQ(error_of("[hub.connect_webhook]\nurl = \"http://x\"\ntimeout_ms = 50\n"),
            "/etc/wshub/hub.toml:3:14: hub.connect_webhook.timeout_ms: must be between 100 and 60000");
  EXPECT_EQ(error_of("[hub.connect_webhook]\ntimeout_ms = 500\n"),
            "/etc/wshub/hub.toml:1:1: hub.connect_webhook.url: missing; expected a URL");
  EXPECT_EQ(error_of("[hub]\nhistroy = 5\n"),
            "/etc/wshub/hub.toml:2:1: hub.histroy: unknown key; known keys here: history, "
            "max_payload, presence_ttl_ms, presence, secret, key_file, durability, "
            "connect_webhook, namespace, origins");
  EXPECT_EQ(error_of("[hub]\n[[hub.namespace]]\nname = \"a\"\nchanels = []\n"),
            "/etc/wshub/hub.toml:4:1: hub.namespace.chanels: unknown key; known keys here: name, "
            "allow_publish, channels");
  EXPECT_EQ(error_of("[hubs]\n"), "/etc/wshub/hub.toml:1:2: hubs: unknown key; known keys here: hub");
}

TEST_F(ConfigSchema, ChecksOnTextsListsAndTables) {
  EXPECT_EQ(error_of("[[hub.namespace]]\nname = \"a:b\"\n"),
            "/etc/wshub/hub.toml:2:8: hub.namespace.name: 'a:b' is not a namespace name (no ':', "
            "not empty)");
  EXPECT_EQ(error_of("[[hub.namespace]]\nname = \"a\"\n\n[[hub.namespace]]\nname = \"b\"\n\n"
                     "[[hub.namespace]]\nname = \"a\"\n"),
            "/etc/wshub/hub.toml:8:8: hub.namespace.name: 'a' is already the name of the namespace "
            "at line 2");
  EXPECT_EQ(error_of("[hub]\npresence = false\npresence_ttl_ms = 10\n"),
            "/etc/wshub/hub.toml:3:19: hub.presence_ttl_ms: means nothing with presence = false");
}

TEST_F(ConfigSchema, ReferenceListsEveryKeyWithItsDefault) {
  Root defaults;
  const std::vector<KeyReference> reference = table_reference(root_table(), &defaults);
  std::vector<std::string> keys;
  for (const KeyReference& row : reference) keys.push_back(row.key);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "hub", "hub.history", "hub.max_payload", "hub.presence_ttl_ms",
                      "hub.presence", "hub.secret", "hub.key_file", "hub.durability",
                      "hub.connect_webhook", "hub.connect_webhook.url",
                      "hub.connect_webhook.timeout_ms", "hub.namespace", "hub.namespace.name",
                      "hub.namespace.allow_publish", "hub.namespace.channels", "hub.origins"}));
  auto row = [&](std::string_view key) {
    for (const KeyReference& r : reference)
      if (r.key == key) return r;
    ADD_FAILURE() << key;
    return KeyReference{};
  };
  EXPECT_EQ(row("hub.max_payload").default_value, "64KiB");
  EXPECT_EQ(row("hub.max_payload").type, "size, 1–1MiB");
  EXPECT_EQ(row("hub.durability").default_value, "\"batch\"");
  EXPECT_EQ(row("hub.durability").type, "one of \"none\", \"batch\", \"sync\"");
  EXPECT_EQ(row("hub.connect_webhook.timeout_ms").default_value, "2000");
  EXPECT_EQ(row("hub.connect_webhook.url").default_value, "required");
  EXPECT_EQ(row("hub.namespace.channels").default_value, "[]");
  EXPECT_EQ(row("hub.origins").default_value, "[]");
  const std::string markdown = reference_markdown(reference);
  EXPECT_NE(markdown.find("## `[[hub.namespace]]`\n\nchannel groups.\n"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| `history` | count, 0–10000 | `100` | publications kept per channel |"),
            std::string::npos)
      << markdown;
}

TEST(ConfigSchemaDeclaration, BoundsThatDoNotFitTheFieldAreRefused) {
  struct Small {
    uint8_t level = 1;
  };
  EXPECT_THROW(ConfigFields<Small>().count("level", &Small::level, 0, 256, "too wide"),
               std::logic_error);
}

}  // namespace
}  // namespace wshub::app
