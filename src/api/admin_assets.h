// The admin page's files (HTML, CSS, JS and the JS SDK's single-file build), embedded in the
// binary at build time by cmake/embed_files.cmake from src/api/admin/: nothing is read from
// disk at run time and nothing comes from a CDN.
#pragma once

#include <cstddef>
#include <string_view>

namespace wshub::api {

struct AdminAsset {
  std::string_view name;  // the file name: "index.html", "admin.js", "wshub.js", ...
  std::string_view bytes;
};

// Defined in the generated admin_assets.cpp.
extern const AdminAsset kAdminAssets[];
extern const size_t kAdminAssetCount;

// The asset called `name`, or null.
const AdminAsset* find_admin_asset(std::string_view name);
// The Content-Type for an asset's name, by its extension.
std::string_view admin_content_type(std::string_view name);

}  // namespace wshub::api
