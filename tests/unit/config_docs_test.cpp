// docs/config.md and the config tables name the same keys: a key the tables have and the page
// does not, or one the page lists and the tables do not, fails here with its name.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "app/config_sections.h"

namespace wshub::app {
namespace {

// The keys a config.md-style page documents: every heading whose title is a table in backticks
// (`[server]`, `[[listen]]`, then `tls` one level down: listen.tls), and the first column of
// every "| key | ..." table under such a heading.
std::set<std::string> documented_keys(const std::string& markdown) {
  std::set<std::string> keys;
  std::vector<std::string> path;  // the heading names at levels 2, 3, 4, ...
  bool in_key_table = false;
  std::istringstream lines(markdown);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("##", 0) == 0) {
      const size_t level = line.find_first_not_of('#');
      const size_t open = line.find('`');
      const size_t close = open == std::string::npos ? open : line.find('`', open + 1);
      std::string name;
      if (close != std::string::npos) {
        name = line.substr(open + 1, close - open - 1);
        while (!name.empty() && name.front() == '[') name.erase(0, 1);
        while (!name.empty() && name.back() == ']') name.pop_back();
      }
      path.resize(level - 1);
      path[level - 2] = name;
      in_key_table = false;
      if (!name.empty()) {
        std::string full;
        for (const std::string& part : path) full += (full.empty() ? "" : ".") + part;
        keys.insert(full);
      }
      continue;
    }
    if (line.rfind("| key |", 0) == 0) {
      in_key_table = !path.empty() && !path.back().empty();
      continue;
    }
    if (line.empty() || line[0] != '|') {
      in_key_table = false;
      continue;
    }
    if (!in_key_table || line.rfind("| `", 0) != 0) continue;
    const size_t end = line.find('`', 3);
    std::string full;
    for (const std::string& part : path) full += part + ".";
    keys.insert(full + line.substr(3, end - 3));
  }
  return keys;
}

std::set<std::string> table_keys() {
  std::set<std::string> keys;
  for (const KeyReference& row : app_config_reference()) keys.insert(row.key);
  return keys;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConfigDocs, ReadsKeysFromHeadingsAndKeyTables) {
  const std::string page =
      "# Configuration\n\n## `[server]`\n\n| key | default | meaning |\n|---|---|---|\n"
      "| `threads` | 1 | x |\n\n## Not a table\n\n| key | meaning |\n|---|---|\n| `stray` | x |\n\n"
      "## `[[listen]]`\n\n| key | default |\n|---|---|\n| `address` | x |\n\n### `tls`\n\n"
      "| key | meaning |\n|---|---|\n| `cert` | x |\n\n| counter | cause |\n|---|---|\n"
      "| `plain_http` | x |\n";
  EXPECT_EQ(documented_keys(page),
            (std::set<std::string>{"server", "server.threads", "listen", "listen.address",
                                   "listen.tls", "listen.tls.cert"}));
}

TEST(ConfigDocs, ConfigMdListsExactlyTheKeysOfTheTables) {
  const std::string page = read_file(WSHUB_SOURCE_DIR "/docs/config.md");
  ASSERT_FALSE(page.empty()) << "cannot read docs/config.md";
  const std::set<std::string> documented = documented_keys(page);
  const std::set<std::string> declared = table_keys();
  for (const std::string& key : declared)
    EXPECT_TRUE(documented.count(key)) << key << " is a config key but docs/config.md does not "
                                       << "list it (`wshub check-config --keys` prints its row)";
  for (const std::string& key : documented)
    EXPECT_TRUE(declared.count(key)) << "docs/config.md lists " << key
                                     << ", which is not a config key";
}

}  // namespace
}  // namespace wshub::app
