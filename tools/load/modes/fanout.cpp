// Fanout mode: N subscribers, and --messages publications --interval-ms apart, from one more
// connection or (hub, --publish api) from the backend HTTP API. Each publication carries its
// sequence number and send time (24 hex digits, so text frames stay valid UTF-8); what a
// protocol (raw broadcast, the hub, Socket.IO) sends and hears is modes/fanout_protocol.*.
// For every message, the "last delivery latency" is when the LAST subscriber got it; every
// delivery's own latency goes into a second histogram; lost and duplicate deliveries are
// counted per subscriber from the sequence numbers (a connection delivers in order).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "connection_opener.h"
#include "cpu_window.h"
#include "load_loop.h"
#include "modes/api_publisher.h"
#include "modes/fanout_protocol.h"
#include "modes/mode_common.h"
#include "modes/modes.h"
#include "supervisor.h"

namespace wshub::load {

namespace {

struct FanoutPlan {
  uint32_t size = 64;
  uint32_t messages = 0;
  uint64_t interval_ns = 0;
  proto::Opcode opcode = proto::Opcode::text;
  FanoutProtocolCodec* codec = nullptr;  // written to by the publishing thread only
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
        sent_ns_of_(plan.messages, 0) {
    opener_.configure(open, 0, uint32_t(loop.size()));
  }

  void on_open(ClientConnection& c, LoopContext& context) override {
    opener_.settled();
    opened_[c.slot()] = 1;
    const FanoutProtocolCodec& codec = *plan_.codec;
    if (codec.ready_at_open()) {
      ++opened_total_;
      return;
    }
    const std::string_view opening = codec.opening_message();
    if (!opening.empty())
      c.queue_message(proto::Opcode::text, Bytes(reinterpret_cast<const uint8_t*>(opening.data()), opening.size()),
                      context.rng.next_u32());
  }

  void on_message(ClientConnection& c, proto::Opcode opcode, Bytes payload, LoopContext& context) override {
    const HeardMessage heard = plan_.codec->classify(payload);
    switch (heard.kind) {
      case Heard::publication: break;
      case Heard::ready: ++opened_total_; return;
      case Heard::answer:
        c.queue_message(proto::Opcode::text,
                        Bytes(reinterpret_cast<const uint8_t*>(heard.reply.data()), heard.reply.size()),
                        context.rng.next_u32());
        return;
      case Heard::refused:
        errors_.add("the server refused: " +
                    std::string(reinterpret_cast<const char*>(payload.data()), std::min<size_t>(payload.size(), 300)));
        return;
      case Heard::other: return;
    }
    if (c.slot() >= subscribers_) return;  // the publisher's own copy
    uint64_t sequence = 0;
    uint64_t sent_ns = 0;
    const uint8_t* stamp = payload.data() + heard.stamp_at;
    const bool raw = plan_.codec->protocol() == FanoutProtocol::raw;
    if (opcode != plan_.opcode || (raw && payload.size() != plan_.size) || !read_hex(stamp, kSequenceDigits, sequence) ||
        !read_hex(stamp + kSequenceDigits, kTimeDigits, sent_ns) || sequence >= plan_.messages) {
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
    if (context.now_ns >= sent_ns) delivery_latency_.record(context.now_ns - sent_ns);
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
  const LatencyHistogram& delivery_latency() const { return delivery_latency_; }
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
      publisher.queue_message(plan_.opcode, plan_.codec->websocket_publication(published_, monotonic_ns()),
                              context.rng.next_u32());
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
  LatencyHistogram delivery_latency_;       // every delivery: send time to its arrival
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
  FanoutProtocolPlan protocol_plan;
  protocol_plan.protocol = o.protocol;
  protocol_plan.token = o.token;
  protocol_plan.channel = o.channel;
  protocol_plan.channels_per_connection = o.channels_per_connection;
  protocol_plan.size = o.size;
  FanoutProtocolCodec codec(protocol_plan);
  plan.codec = &codec;

  // With --publish api the publications come from an HTTP connection on its own thread, and
  // every WebSocket connection subscribes.
  const bool via_api = o.publish_via == PublishVia::api;
  ApiTarget api_target;
  std::unique_ptr<ApiPublisher> api_publisher;
  if (via_api) {
    std::string why;
    if (!parse_api_url(o.api_url, api_target, why)) {
      report.fatal = why;
      return;
    }
    api_target.key = o.api_key;
    api_publisher = std::make_unique<ApiPublisher>(
        ApiPublishPlan{&api_target, &codec, &control, o.messages, plan.interval_ns, o.api_depth});
    if (!api_publisher->connect(why)) {
      report.fatal = why;
      return;
    }
  }

  std::vector<std::unique_ptr<LoadLoop>> loops;
  std::vector<std::unique_ptr<FanoutDriver>> drivers;
  for (uint32_t t = 0; t < threads; ++t) {
    const uint32_t subscribers = share_of(o.subscribers, threads, t);
    const bool publishes = t == 0 && !via_api;
    loops.push_back(std::make_unique<LoadLoop>(subscribers + (publishes ? 1 : 0), 0xFA40 + t));
    OpenPlan open{&target, o.source_ips, t, threads, std::max(1u, o.concurrency / threads)};
    drivers.push_back(std::make_unique<FanoutDriver>(plan, *loops[t], open, t, subscribers, publishes));
  }
  const uint64_t wanted_open = uint64_t(o.subscribers) + (via_api ? 0 : 1);
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
  std::thread api_thread;
  if (via_api) api_thread = std::thread([&] { api_publisher->run(plan.published, plan.first_send_ns); });
  // Joined on every way out, after the phase has become `stopping` (or publishing ended).
  struct JoinAtExit {
    std::thread& thread;
    RunControl& control;
    ~JoinAtExit() {
      if (!thread.joinable()) return;
      control.set(Phase::stopping);
      thread.join();
    }
  } join_api_thread{api_thread, control};
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

  if (api_thread.joinable()) api_thread.join();  // the phase is `stopping`: it has returned or will now
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
  LatencyHistogram delivery_latency;
  for (auto& d : drivers) delivery_latency.merge(d->delivery_latency());
  if (via_api) {
    const ApiPublishResult& api = api_publisher->result();
    if (api.errors) {
      errors.add("API publish failed: " + api.first_error);
      errors.count += api.errors - 1;
    }
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
  if (delivery_latency.count()) report.delivery_us = LatencySummaryUs::from_ns(delivery_latency);
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
