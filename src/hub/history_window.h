// What a history page says about the window a request asked for, shared by the `history` and
// `subscribe` requests and GET /api/history. Pure functions of the page; no I/O.
#pragma once

#include <cstdint>

#include "hub/broker.h"

namespace wshub::hub {

// Publications one history answer carries at most, by count and by data bytes (the first
// always comes): a page must fit well under a connection's buffered-bytes cap (1 MiB).
inline constexpr uint32_t kHistoryDefaultLimit = 100;
inline constexpr uint32_t kHistoryMaxLimit = 1000;
inline constexpr uint64_t kHistoryPageBytes = 512 * 1024;

// Where a read starts: after `since` when given, else `limit` publications before `current`.
inline uint64_t history_after(bool has_since, uint64_t since, uint32_t limit, uint64_t current) {
  if (has_since) return since;
  return current > limit ? current - limit : 0;
}

// True when the page continues right after `after`: its first publication is the next one, or
// nothing was published after `after`. False when publications in between are gone.
inline bool history_unbroken(const HistoryPage& page, uint64_t after) {
  if (!page.error.empty()) return false;
  if (page.pubs.empty()) return after >= page.stored.offset;
  return page.pubs.front().offset == after + 1;
}

// True when publications after the page's last one are kept or still to come.
inline bool history_more(const HistoryPage& page, uint64_t after) {
  const uint64_t last = page.pubs.empty() ? after : page.pubs.back().offset;
  return last < page.stored.offset;
}

}  // namespace wshub::hub
