#include "report.h"

#include <cmath>
#include <cstdio>

namespace wshub::load {

namespace {

std::string number(double value, int decimals) {
  if (!std::isfinite(value)) return "null";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

// Appends "key":value pairs to one flat JSON object.
class JsonObject {
 public:
  void raw(const char* key, const std::string& value) {
    text_ += text_.empty() ? "{" : ",";
    text_ += quoted(key) + ":" + value;
  }
  void field(const char* key, const std::string& value) { raw(key, quoted(value)); }
  void field(const char* key, uint64_t value) { raw(key, std::to_string(value)); }
  void field(const char* key, double value, int decimals) { raw(key, number(value, decimals)); }
  void field(const char* key, bool value) { raw(key, value ? "true" : "false"); }
  std::string done() { return (text_.empty() ? "{" : text_) + "}"; }

 private:
  std::string text_;
};

std::string latency_json(const LatencySummaryUs& l, bool with_p999) {
  JsonObject o;
  o.field("p50", l.p50, 1);
  o.field("p99", l.p99, 1);
  if (with_p999) o.field("p999", l.p999, 1);
  o.field("max", l.max, 1);
  return o.done();
}

}  // namespace

LatencySummaryUs LatencySummaryUs::from_ns(const LatencyHistogram& h) {
  return {double(h.value_at_percentile(50)) / 1000.0, double(h.value_at_percentile(99)) / 1000.0,
          double(h.value_at_percentile(99.9)) / 1000.0, double(h.max()) / 1000.0};
}

std::string report_json(const Report& r) {
  JsonObject o;
  o.field("mode", r.mode);
  o.field("url", r.url);
  o.field("connections", r.connections);
  if (r.connections_open) o.field("connections_open", *r.connections_open);
  if (r.subscribers) o.field("subscribers", *r.subscribers);
  if (r.size) o.field("size", *r.size);
  if (r.binary) o.field("binary", *r.binary);
  if (r.depth) o.field("depth", *r.depth);
  o.field("threads", uint64_t(r.threads));
  o.field("duration_s", r.duration_s, 3);
  o.field("messages", r.messages);
  o.field("msgs_per_sec", r.msgs_per_sec, 1);
  if (r.latency_us) o.raw("latency_us", latency_json(*r.latency_us, true));
  o.field("errors", r.errors);
  if (r.errors) o.field("first_error", r.first_error);
  if (r.server_cpu_us_per_msg) o.field("server_cpu_us_per_msg", *r.server_cpu_us_per_msg, 3);
  if (r.client_cpu_us_per_msg) o.field("client_cpu_us_per_msg", *r.client_cpu_us_per_msg, 3);
  if (!r.server_stats_error.empty()) o.field("server_stats_error", r.server_stats_error);
  if (r.server_rss_kib_before) o.field("server_rss_kib_before", *r.server_rss_kib_before);
  if (r.server_rss_kib_after) o.field("server_rss_kib_after", *r.server_rss_kib_after);
  if (r.rss_per_conn_kib) o.field("rss_per_conn_kib", *r.rss_per_conn_kib, 3);
  if (r.server_anon_kib_before) o.field("server_anon_kib_before", *r.server_anon_kib_before);
  if (r.server_anon_kib_after) o.field("server_anon_kib_after", *r.server_anon_kib_after);
  if (r.anon_per_conn_kib) o.field("anon_per_conn_kib", *r.anon_per_conn_kib, 3);
  if (r.server_pss_kib_before) o.field("server_pss_kib_before", *r.server_pss_kib_before);
  if (r.server_pss_kib_after) o.field("server_pss_kib_after", *r.server_pss_kib_after);
  if (r.pss_per_conn_kib) o.field("pss_per_conn_kib", *r.pss_per_conn_kib, 3);
  if (r.server_private_kib_before) o.field("server_private_kib_before", *r.server_private_kib_before);
  if (r.server_private_kib_after) o.field("server_private_kib_after", *r.server_private_kib_after);
  if (r.private_per_conn_kib) o.field("private_per_conn_kib", *r.private_per_conn_kib, 3);
  if (r.open_time_ms) o.field("open_time_ms", *r.open_time_ms, 1);
  if (r.handshakes_per_sec) o.field("handshakes_per_sec", *r.handshakes_per_sec, 1);
  if (r.deliveries) o.field("deliveries", *r.deliveries);
  if (r.deliveries_per_sec) o.field("deliveries_per_sec", *r.deliveries_per_sec, 1);
  if (r.last_delivery_us) o.raw("last_delivery_us", latency_json(*r.last_delivery_us, false));
  if (r.delivery_us) o.raw("delivery_us", latency_json(*r.delivery_us, false));
  if (r.lost) o.field("lost", *r.lost);
  if (r.duplicates) o.field("duplicates", *r.duplicates);
  if (!r.fatal.empty()) o.field("error", r.fatal);
  return o.done() + "\n";
}

std::string report_text(const Report& r) {
  std::string out;
  char line[512];
  auto add = [&out, &line] { out += line; };
  std::snprintf(line, sizeof line, "%s %s: %llu connections, %u threads, %.2f s measured\n", r.mode.c_str(),
                r.url.c_str(), (unsigned long long)r.connections, r.threads, r.duration_s);
  add();
  if (r.connections_open) {
    std::snprintf(line, sizeof line, "  open:        %llu of %llu\n", (unsigned long long)*r.connections_open,
                  (unsigned long long)r.connections);
    add();
  }
  if (r.mode != "idle") {
    std::snprintf(line, sizeof line, "  throughput:  %.0f %s/s (%llu in the window)\n", r.msgs_per_sec,
                  r.mode == "connect" ? "handshakes" : r.mode == "fanout" ? "deliveries" : "msgs",
                  (unsigned long long)r.messages);
    add();
  }
  if (r.latency_us) {
    std::snprintf(line, sizeof line, "  latency us:  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", r.latency_us->p50,
                  r.latency_us->p99, r.latency_us->p999, r.latency_us->max);
    add();
  }
  if (r.last_delivery_us) {
    std::snprintf(line, sizeof line, "  last delivery us:  p50 %.1f  p99 %.1f  max %.1f (lost %llu, duplicates %llu)\n",
                  r.last_delivery_us->p50, r.last_delivery_us->p99, r.last_delivery_us->max,
                  (unsigned long long)r.lost.value_or(0), (unsigned long long)r.duplicates.value_or(0));
    add();
  }
  if (r.delivery_us) {
    std::snprintf(line, sizeof line, "  each delivery us:  p50 %.1f  p99 %.1f  max %.1f\n", r.delivery_us->p50,
                  r.delivery_us->p99, r.delivery_us->max);
    add();
  }
  if (r.open_time_ms) {
    std::snprintf(line, sizeof line, "  opened in:   %.1f ms\n", *r.open_time_ms);
    add();
  }
  if (r.server_cpu_us_per_msg) {
    std::snprintf(line, sizeof line, "  server CPU:  %.3f us per %s\n", *r.server_cpu_us_per_msg,
                  r.mode == "connect" ? "handshake" : r.mode == "fanout" ? "delivery" : "message");
    add();
  }
  if (r.client_cpu_us_per_msg) {
    std::snprintf(line, sizeof line, "  client CPU:  %.3f us per %s\n", *r.client_cpu_us_per_msg,
                  r.mode == "connect" ? "handshake" : r.mode == "fanout" ? "delivery" : "message");
    add();
  }
  if (!r.server_stats_error.empty()) out += "  server stats: " + r.server_stats_error + "\n";
  if (r.server_rss_kib_before && r.server_rss_kib_after) {
    std::snprintf(line, sizeof line, "  server RSS:  %llu KiB before, %llu KiB after", (unsigned long long)*r.server_rss_kib_before,
                  (unsigned long long)*r.server_rss_kib_after);
    add();
    if (r.rss_per_conn_kib) {
      std::snprintf(line, sizeof line, ", %.3f KiB per connection", *r.rss_per_conn_kib);
      add();
    }
    if (r.anon_per_conn_kib) {
      std::snprintf(line, sizeof line, " (anonymous: %.3f", *r.anon_per_conn_kib);
      add();
      if (r.pss_per_conn_kib && r.private_per_conn_kib) {
        std::snprintf(line, sizeof line, ", Pss: %.3f, private: %.3f", *r.pss_per_conn_kib, *r.private_per_conn_kib);
        add();
      }
      out += " KiB per connection)";
    }
    out += "\n";
  }
  std::snprintf(line, sizeof line, "  errors:      %llu%s%s\n", (unsigned long long)r.errors, r.errors ? " (first: " : "",
                r.errors ? (r.first_error + ")").c_str() : "");
  add();
  if (!r.fatal.empty()) out += "  FAILED: " + r.fatal + "\n";
  return out;
}

}  // namespace wshub::load
