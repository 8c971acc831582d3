// Fanout mode: N subscribers on a broadcast route, one more connection publishes --messages
// messages, --interval-ms apart. Each payload starts with its sequence number and send time
// (24 hex digits, so text frames stay valid UTF-8). For every message, the "last delivery
// latency" is when the LAST subscriber got it; lost and duplicate deliveries are counted per
// subscriber from the sequence numbers (a connection delivers in order).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "connection_opener.h"
#include "cpu_window.h"
#include "load_loop.h"
#include "modes/mode_common.h"
#include "modes/modes.h"
#include "supervisor.h"

namespace wshub::load {

namespace {

constexpr size_t kSequenceDigits = 8;
constexpr size_t kTimeDigits = 16;

void write_hex(uint8_t* out, uint64_t value, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = digits; i-- > 0; value >>= 4) out[i] = uint8_t(kHex[value & 15]);
}

bool read_hex(const uint8_t* in, size_t digits, uint64_t& value) {
  value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const uint8_t c = in[i];
    const int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (nibble < 0) return false;
    value = value << 4 | uint64_t(nibble);
  }
  return true;
}

struct FanoutPlan {
  uint32_t size = 64;
  uint32_t messages = 0;
  uint64_t interval_ns = 0;
  proto::Opcode opcode = proto::Opcode::text;
  RunControl* control = nullptr;
  std::atomic<uint32_t> published{0};
  std::atomic<uint64_t> first_send_ns{0};
};

class FanoutDriver final : public LoopDriver {
 public:
  // Slots [0, subscribers) subscribe; on the publishing thread one more slot publishes.
  FanoutDriver(FanoutPlan& plan, LoadLoop& loop, const OpenPlan& open, uint32_t thread_index, uint32_t subscribers,
               bool publishes)
      : plan_(plan),
        loop_(loop),
        progress_(plan.control->progress[thread_index]),
        subscribers_(subscribers),
        publishes_(publishes),
        opened_(loop.size(), 0),
        expected_(subscribers, 0),
        deliveries_(plan.messages, 0),
        last_delivery_ns_(plan.messages, 0),
        sent_ns_of_(plan.messages, 0),
        payload_(plan.size, uint8_t('.')) {
    opener_.configure(open, 0, uint32_t(loop.size()));
  }

  void on_open(ClientConnection& c, LoopContext&) override {
    opener_.settled();
    opened_[c.slot()] = 1;
    ++opened_total_;
  }

  void on_message(ClientConnection& c, proto::Opcode opcode, Bytes payload, LoopContext& context) override {
    if (c.slot() >= subscribers_) return;  // the publisher's own copy
    uint64_t sequence = 0;
    uint64_t sent_ns = 0;
    if (opcode != plan_.opcode || payload.size() != plan_.size || !read_hex(payload.data(), kSequenceDigits, sequence) ||
        !read_hex(payload.data() + kSequenceDigits, kTimeDigits, sent_ns) || sequence >= plan_.messages) {
      errors_.add("a subscriber received a message that is not one of ours (wrong opcode, size or header)");
      return;
    }
    uint32_t& expected = expected_[c.slot()];
    if (sequence < expected) {
      ++duplicates_;
      return;
    }
    lost_ += sequence - expected;  // skipped messages never come later on an ordered stream
    expected = uint32_t(sequence + 1);
    ++deliveries_[sequence];
    ++delivered_;
    last_delivery_ns_[sequence] = std::max(last_delivery_ns_[sequence], context.now_ns);
    sent_ns_of_[sequence] = sent_ns;
  }

  void on_closed(ClientConnection& c, CloseCause, std::string_view why, LoopContext&) override {
    if (!opened_[c.slot()]) {
      opener_.settled();
      ++failed_;
      errors_.add(why);
      return;
    }
    opened_[c.slot()] = 0;
    if (!stopping_) errors_.add("a connection closed during the run: " + std::string(why));
  }

  int on_turn(LoopContext& context) override {
    const Phase phase = plan_.control->current();
    if (phase == Phase::opening) opener_.pump(loop_, errors_);
    stopping_ = phase == Phase::stopping;
    int wait_ms = phase == Phase::opening ? 5 : 20;
    if (publishes_ && phase == Phase::measuring) wait_ms = publish_due(context);
    progress_.opened.store(opened_total_, std::memory_order_relaxed);
    progress_.failed.store(failed_, std::memory_order_relaxed);
    progress_.messages.store(delivered_, std::memory_order_relaxed);
    progress_.errors.store(errors_.count, std::memory_order_relaxed);
    return wait_ms;
  }

  bool finished() const override { return stopping_; }

  // Merged by the main thread after the run.
  const std::vector<uint32_t>& deliveries() const { return deliveries_; }
  const std::vector<uint64_t>& last_delivery_ns() const { return last_delivery_ns_; }
  const std::vector<uint64_t>& sent_ns_of() const { return sent_ns_of_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t duplicates() const { return duplicates_; }
  // Losses seen so far plus every message a subscriber never got to.
  uint64_t lost() const {
    uint64_t lost = lost_;
    for (uint32_t expected : expected_) lost += plan_.messages - expected;
    return lost;
  }
  const ErrorTally& errors() const { return errors_; }

 private:
  // Sends every message whose time has come; returns how long the loop may sleep.
  int publish_due(LoopContext& context) {
    ClientConnection& publisher = loop_.connection(subscribers_);
    if (!publisher.is_open()) return 20;
    if (publish_start_ns_ == 0) {
      publish_start_ns_ = context.now_ns;
      plan_.first_send_ns.store(publish_start_ns_, std::memory_order_relaxed);
    }
    while (published_ < plan_.messages && context.now_ns >= publish_start_ns_ + published_ * plan_.interval_ns) {
      write_hex(payload_.data(), published_, kSequenceDigits);
      write_hex(payload_.data() + kSequenceDigits, monotonic_ns(), kTimeDigits);
      publisher.queue_message(plan_.opcode, Bytes(payload_.data(), payload_.size()), context.rng.next_u32());
      // Each message leaves at its own time, not batched with the next one.
      publisher.flush(context, *this);
      ++published_;
      context.now_ns = monotonic_ns();
    }
    plan_.published.store(published_, std::memory_order_release);
    if (published_ >= plan_.messages) return 20;
    const uint64_t next = publish_start_ns_ + published_ * plan_.interval_ns;
    return next <= context.now_ns ? 0 : int((next - context.now_ns + 999'999) / 1'000'000);
  }

  FanoutPlan& plan_;
  LoadLoop& loop_;
  ThreadProgress& progress_;
  ConnectionOpener opener_;
  uint32_t subscribers_;
  bool publishes_;
  std::vector<uint8_t> opened_;
  std::vector<uint32_t> expected_;          // per subscriber: the next sequence number due
  std::vector<uint32_t> deliveries_;        // per message: subscribers on this thread that got it
  std::vector<uint64_t> last_delivery_ns_;  // per message: the latest delivery on this thread
  std::vector<uint64_t> sent_ns_of_;        // per message: its send time, from the payload
  std::vector<uint8_t> payload_;
  ErrorTally errors_;
  uint64_t delivered_ = 0;
  uint64_t lost_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t opened_total_ = 0;  // handshakes completed, including connections lost since
  uint64_t failed_ = 0;
  uint64_t publish_start_ns_ = 0;
  uint32_t published_ = 0;
  bool stopping_ = false;
};

}  // namespace

void run_fanout(const LoadOptions& o, const ConnectTarget& target, Report& report) {
  report = base_report(o);
  report.subscribers = o.subscribers;
  report.size = o.size;
  report.binary = o.binary;
  const uint32_t threads = std::min(o.threads, o.subscribers);
  report.threads = threads;

  RunControl control(threads);
  FanoutPlan plan;
  plan.size = o.size;
  plan.messages = o.messages;
  plan.interval_ns = uint64_t(o.interval_ms) * 1'000'000;
  plan.opcode = o.binary ? proto::Opcode::binary : proto::Opcode::text;
  plan.control = &control;

  std::vector<std::unique_ptr<LoadLoop>> loops;
  std::vector<std::unique_ptr<FanoutDriver>> drivers;
  for (uint32_t t = 0; t < threads; ++t) {
    const uint32_t subscribers = share_of(o.subscribers, threads, t);
    const bool publishes = t == 0;
    loops.push_back(std::make_unique<LoadLoop>(subscribers + (publishes ? 1 : 0), 0xFA40 + t));
    OpenPlan open{&target, o.source_ips, t, threads, std::max(1u, o.concurrency / threads)};
    drivers.push_back(std::make_unique<FanoutDriver>(plan, *loops[t], open, t, subscribers, publishes));
  }
  const uint64_t wanted_open = uint64_t(o.subscribers) + 1;
  const uint64_t wanted_deliveries = uint64_t(o.subscribers) * o.messages;
  ProcMemory before;
  std::string memory_error;
  const bool measure_memory = o.server_pid > 0 && read_process_memory(pid_t(o.server_pid), before, memory_error);

  const uint64_t start = monotonic_ns();
  const double budget_s = kOpenBudgetS + o.warmup_s + o.duration_s + kHardDeadlineGraceS;
  Supervisor supervisor("fanout", control, start + seconds_to_ns(budget_s));
  supervisor.start_threads([&](uint32_t t) {
    loops[t]->run(*drivers[t]);
    loops[t]->close_all(*drivers[t]);
  });
  const auto status = [&] {
    return std::string(control.current() == Phase::opening ? "subscribing" : "publishing") + "  open " +
           std::to_string(control.sum(&ThreadProgress::opened)) + "/" + std::to_string(wanted_open) + "  published " +
           std::to_string(plan.published.load(std::memory_order_relaxed)) + "/" + std::to_string(o.messages) +
           "  delivered " + std::to_string(control.sum(&ThreadProgress::messages)) + "/" +
           std::to_string(wanted_deliveries) + "  errors " + std::to_string(control.sum(&ThreadProgress::errors));
  };
  bool on_time = supervisor.wait_until(
      start + seconds_to_ns(kOpenBudgetS),
      [&] { return control.sum(&ThreadProgress::opened) + control.sum(&ThreadProgress::failed) >= wanted_open; },
      status);
  const uint64_t open_count = control.sum(&ThreadProgress::opened);
  if (!on_time || open_count < wanted_open) {
    const bool joined = supervisor.stop_and_join();
    supervisor.end_progress();
    report.abandoned = !joined;
    ErrorTally errors;
    if (joined) for (auto& d : drivers) errors.merge(d->errors());
    report.fatal = "only " + std::to_string(open_count) + " of " + std::to_string(wanted_open) +
                   " connections (subscribers + publisher) opened" + (errors.first.empty() ? "" : ": " + errors.first);
    return;
  }

  // Warmup: let every subscription settle on the server before the first publish.
  control.set(Phase::warmup);
  on_time = supervisor.wait_until(monotonic_ns() + seconds_to_ns(o.warmup_s), nullptr, status);
  const MeasuredWindow window = measure_window(
      supervisor, control, o, [&] { return control.sum(&ThreadProgress::messages) >= wanted_deliveries; }, status);
  // With every subscriber still open and every message delivered: what subscribing and the
  // traffic left behind.
  ProcMemory after;
  const bool have_after = measure_memory && read_process_memory(pid_t(o.server_pid), after, memory_error);
  if (!finish_run(supervisor, report, on_time && window.on_time, "the fanout run", budget_s)) return;

  // Per message: deliveries summed over threads, the latest delivery, and its send time.
  std::vector<uint64_t> deliveries(o.messages, 0);
  std::vector<uint64_t> last_delivery(o.messages, 0);
  std::vector<uint64_t> sent(o.messages, 0);
  ErrorTally errors;
  uint64_t delivered = 0, lost = 0, duplicates = 0;
  for (auto& d : drivers) {
    for (uint32_t m = 0; m < o.messages; ++m) {
      deliveries[m] += d->deliveries()[m];
      last_delivery[m] = std::max(last_delivery[m], d->last_delivery_ns()[m]);
      if (d->sent_ns_of()[m]) sent[m] = d->sent_ns_of()[m];
    }
    delivered += d->delivered();
    lost += d->lost();
    duplicates += d->duplicates();
    errors.merge(d->errors());
  }
  LatencyHistogram last_delivery_latency;
  uint64_t latest = 0;
  for (uint32_t m = 0; m < o.messages; ++m) {
    latest = std::max(latest, last_delivery[m]);
    if (deliveries[m] == o.subscribers && last_delivery[m] >= sent[m]) last_delivery_latency.record(last_delivery[m] - sent[m]);
  }
  const uint64_t first_send = plan.first_send_ns.load();
  const double span_s = latest > first_send ? double(latest - first_send) / 1e9 : 0.0;

  report.connections_open = open_count;
  report.duration_s = span_s;
  report.messages = plan.published.load();
  report.msgs_per_sec = span_s > 0 ? double(report.messages) / span_s : 0.0;
  report.deliveries = delivered;
  report.deliveries_per_sec = span_s > 0 ? double(delivered) / span_s : 0.0;
  if (last_delivery_latency.count()) report.last_delivery_us = LatencySummaryUs::from_ns(last_delivery_latency);
  report.lost = lost;
  report.duplicates = duplicates;
  // Every lost or duplicate delivery is an error; the first one's text says how many.
  if (lost) {
    errors.add(std::to_string(lost) + " deliveries lost (is --url a broadcast route?)");
    errors.count += lost - 1;
  }
  if (duplicates) {
    errors.add(std::to_string(duplicates) + " duplicate deliveries");
    errors.count += duplicates - 1;
  }
  report.errors = errors.count;
  report.first_error = errors.first;
  // CPU per delivery: the server's work scales with subscribers x messages.
  add_cpu_figures(report, window.cpu, delivered, window.length_ns(), o.server_pid > 0);
  if (o.server_pid > 0)
    add_memory_figures(report, measure_memory ? &before : nullptr, have_after ? &after : nullptr, o.subscribers,
                       memory_error);
}

}  // namespace wshub::load
