// Echo mode: N connections each keep `depth` messages in flight against an echo route; every
// echo is checked and its round trip recorded. Throughput and latency come from the measured
// window only (after warmup).
//
// Payload k of a connection is pattern[k % kPatternSpan ...] (random letters, so text frames
// are valid UTF-8), which lets the check catch lost, duplicated or reordered echoes without
// carrying a sequence number. Send times sit in a per-connection ring of `depth` entries: a
// connection's echoes come back in order.
#include <algorithm>
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

constexpr uint64_t kPatternSpan = 4096;
// A full pipeline of small messages fits; big ones grow the buffer once, the first time
// (16 x 1 MB x 100 connections reserved up front would be 1.6 GB).
constexpr size_t kMaxReservedOutput = 256 * 1024;

struct EchoPlan {
  uint32_t size = 0;
  uint32_t depth = 1;
  proto::Opcode opcode = proto::Opcode::text;
  std::vector<uint8_t> pattern;  // size + kPatternSpan letters
  RunControl* control = nullptr;
};

class EchoDriver final : public LoopDriver {
 public:
  EchoDriver(const EchoPlan& plan, LoadLoop& loop, const OpenPlan& open, uint32_t thread_index)
      : plan_(plan),
        loop_(loop),
        progress_(plan.control->progress[thread_index]),
        opened_(loop.size(), 0),
        sent_(loop.size(), 0),
        received_(loop.size(), 0),
        send_ns_(loop.size() * plan.depth, 0) {
    opener_.configure(open, 0, uint32_t(loop.size()));
  }

  void on_open(ClientConnection& c, LoopContext& context) override {
    opener_.settled();
    opened_[c.slot()] = 1;
    ++opened_total_;
    c.reserve_output(std::min(kMaxReservedOutput, size_t(plan_.depth) * (plan_.size + proto::kMaxHeaderSize)));
    if (sending_) fill_pipeline(c, context);
  }

  void on_message(ClientConnection& c, proto::Opcode opcode, Bytes payload, LoopContext& context) override {
    const uint32_t slot = c.slot();
    if (received_[slot] == sent_[slot]) {
      errors_.add("an echo arrived with no message in flight");
      return;
    }
    const uint64_t sequence = received_[slot]++;
    if (opcode != plan_.opcode || !payload_matches(payload, sequence)) {
      errors_.add(payload.size() != plan_.size
                      ? "an echo came back with the wrong length"
                      : opcode != plan_.opcode ? "an echo came back with the wrong opcode"
                                               : "an echo came back with different bytes (lost, reordered or corrupted)");
    }
    ++echoes_;
    if (measuring_) {
      histogram_.record(context.now_ns - send_ns_[size_t(slot) * plan_.depth + sequence % plan_.depth]);
      ++messages_;
    }
    if (sending_) send_one(c, context);
  }

  void on_closed(ClientConnection& c, CloseCause cause, std::string_view why, LoopContext&) override {
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
    if (phase >= Phase::warmup && phase < Phase::stopping && !sending_) {
      sending_ = true;
      for (size_t slot = 0; slot < loop_.size(); ++slot) {
        ClientConnection& c = loop_.connection(slot);
        if (!c.is_open()) continue;
        fill_pipeline(c, context);
        c.flush(context, *this);
      }
    }
    measuring_ = phase == Phase::measuring;
    if (phase == Phase::stopping) sending_ = false, stopping_ = true;
    progress_.opened.store(opened_total_, std::memory_order_relaxed);
    progress_.failed.store(failed_, std::memory_order_relaxed);
    progress_.messages.store(echoes_, std::memory_order_relaxed);
    progress_.errors.store(errors_.count, std::memory_order_relaxed);
    return phase == Phase::opening ? 5 : 20;
  }

  bool finished() const override { return stopping_; }

  const LatencyHistogram& histogram() const { return histogram_; }
  uint64_t messages() const { return messages_; }
  const ErrorTally& errors() const { return errors_; }

 private:
  bool payload_matches(Bytes payload, uint64_t sequence) const {
    if (payload.size() != plan_.size) return false;
    const uint8_t* expected = plan_.pattern.data() + sequence % kPatternSpan;
    if (plan_.size <= 64) return std::memcmp(payload.data(), expected, plan_.size) == 0;
    // Large payloads: the ends are enough to catch a shifted or foreign message cheaply.
    return std::memcmp(payload.data(), expected, 32) == 0 &&
           std::memcmp(payload.data() + plan_.size - 32, expected + plan_.size - 32, 32) == 0;
  }

  void send_one(ClientConnection& c, LoopContext& context) {
    const uint32_t slot = c.slot();
    const uint64_t sequence = sent_[slot]++;
    send_ns_[size_t(slot) * plan_.depth + sequence % plan_.depth] = context.now_ns;
    c.queue_message(plan_.opcode, Bytes(plan_.pattern.data() + sequence % kPatternSpan, plan_.size),
                    context.rng.next_u32());
  }

  void fill_pipeline(ClientConnection& c, LoopContext& context) {
    const uint32_t slot = c.slot();
    while (sent_[slot] - received_[slot] < plan_.depth) send_one(c, context);
  }

  const EchoPlan& plan_;
  LoadLoop& loop_;
  ThreadProgress& progress_;
  ConnectionOpener opener_;
  std::vector<uint8_t> opened_;
  std::vector<uint64_t> sent_;
  std::vector<uint64_t> received_;
  std::vector<uint64_t> send_ns_;  // ring of `depth` send times per connection
  LatencyHistogram histogram_;
  ErrorTally errors_;
  uint64_t messages_ = 0;  // echoes in the measured window
  uint64_t echoes_ = 0;    // all echoes, for the progress line
  uint64_t opened_total_ = 0;  // handshakes completed, including connections lost since
  uint64_t failed_ = 0;
  bool sending_ = false;
  bool measuring_ = false;
  bool stopping_ = false;
};

std::vector<uint8_t> make_pattern(size_t size) {
  std::vector<uint8_t> pattern(size + kPatternSpan);
  Xorshift64 rng(0x5EED);
  for (uint8_t& byte : pattern) byte = uint8_t('a' + rng.next() % 26);
  return pattern;
}

}  // namespace

void run_echo(const LoadOptions& o, const ConnectTarget& target, Report& report) {
  report = base_report(o);
  report.size = o.size;
  report.binary = o.binary;
  report.depth = o.depth;
  const uint32_t threads = std::min(o.threads, o.connections);
  report.threads = threads;

  RunControl control(threads);
  EchoPlan plan;
  plan.size = o.size;
  plan.depth = o.depth;
  plan.opcode = o.binary ? proto::Opcode::binary : proto::Opcode::text;
  plan.pattern = make_pattern(o.size);
  plan.control = &control;

  std::vector<std::unique_ptr<LoadLoop>> loops;
  std::vector<std::unique_ptr<EchoDriver>> drivers;
  for (uint32_t t = 0; t < threads; ++t) {
    loops.push_back(std::make_unique<LoadLoop>(share_of(o.connections, threads, t), 0xEC40 + t));
    OpenPlan open{&target, o.source_ips, t, threads, std::max(1u, o.concurrency / threads)};
    drivers.push_back(std::make_unique<EchoDriver>(plan, *loops[t], open, t));
  }

  const uint64_t start = monotonic_ns();
  const double budget_s = kOpenBudgetS + o.warmup_s + o.duration_s + kHardDeadlineGraceS;
  Supervisor supervisor("echo", control, start + seconds_to_ns(budget_s));
  supervisor.start_threads([&](uint32_t t) {
    loops[t]->run(*drivers[t]);
    loops[t]->close_all(*drivers[t]);
  });

  const auto opening_status = [&] {
    return "open " + std::to_string(control.sum(&ThreadProgress::opened)) + "/" + std::to_string(o.connections) +
           "  failed " + std::to_string(control.sum(&ThreadProgress::failed));
  };
  const bool opened_in_time = supervisor.wait_until(
      start + seconds_to_ns(kOpenBudgetS),
      [&] { return control.sum(&ThreadProgress::opened) + control.sum(&ThreadProgress::failed) >= o.connections; },
      opening_status);
  const uint64_t open_count = control.sum(&ThreadProgress::opened);
  const uint64_t still_opening = o.connections - std::min<uint64_t>(o.connections, open_count + control.sum(&ThreadProgress::failed));
  if (!opened_in_time || open_count == 0) {
    const bool joined = supervisor.stop_and_join();
    supervisor.end_progress();
    report.abandoned = !joined;
    ErrorTally errors;
    if (joined) for (auto& d : drivers) errors.merge(d->errors());
    if (still_opening) errors.add(std::to_string(still_opening) + " still in the handshake after 10 s");
    report.fatal = open_count == 0 ? "no connection could be opened" + (errors.first.empty() ? "" : ": " + errors.first)
                                   : deadline_message("opening connections", budget_s);
    return;
  }

  uint64_t last_messages = 0;
  uint64_t last_ns = monotonic_ns();
  const auto traffic_status = [&] {
    const uint64_t now = monotonic_ns();
    const uint64_t messages = control.sum(&ThreadProgress::messages);
    const double rate = double(messages - last_messages) * 1e9 / double(std::max<uint64_t>(now - last_ns, 1));
    last_messages = messages;
    last_ns = now;
    return std::string(control.current() == Phase::warmup ? "warmup" : "measuring") + "  open " +
           std::to_string(control.sum(&ThreadProgress::opened)) + "  " + human_count(rate) + " msg/s  errors " +
           std::to_string(control.sum(&ThreadProgress::errors));
  };
  control.set(Phase::warmup);
  bool on_time = supervisor.wait_until(monotonic_ns() + seconds_to_ns(o.warmup_s), nullptr, traffic_status);

  const MeasuredWindow window = measure_window(supervisor, control, o, nullptr, traffic_status);
  if (!finish_run(supervisor, report, on_time && window.on_time, "the echo run", budget_s)) return;

  LatencyHistogram latency;
  ErrorTally errors;
  uint64_t messages = 0;
  for (auto& d : drivers) {
    latency.merge(d->histogram());
    errors.merge(d->errors());
    messages += d->messages();
  }
  if (still_opening) {
    // The run went ahead with the connections that did open; each missing one is an error.
    errors.add(std::to_string(still_opening) + " connections were still in the handshake after 10 s");
    errors.count += still_opening - 1;
  }
  report.connections_open = open_count;
  report.duration_s = window.seconds();
  report.messages = messages;
  report.msgs_per_sec = double(messages) / report.duration_s;
  report.latency_us = LatencySummaryUs::from_ns(latency);
  report.errors = errors.count;
  report.first_error = errors.first;
  add_cpu_figures(report, window.cpu, messages, window.length_ns(), o.server_pid > 0);
}

}  // namespace wshub::load
