#include "plugin/app/meeting_runner.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <utility>

#include "plugin/app/transport_failures.h"
#include "plugin/log/log.h"
#include "plugin/log/rate_limiter.h"
#include "plugin/log/token_filter.h"
#include "plugin/protocol/decoder.h"
#include "plugin/protocol/encoder.h"

namespace hme::app {
namespace {

using session::Clock;

// The loop sleeps until the session's next deadline (retry, heartbeat, heartbeat timeout,
// token refresh, Subscribe reply, end of meeting): a stop request wakes it through wake_fd_ and
// the status page counts the retry down itself (statusText), so nothing needs a periodic tick.
// Every phase the loop can wait in has a deadline today (the fetch and connect phases are
// answered inside execute()); this cap only bounds the damage if a future phase forgot one,
// at one wake-up a minute.
constexpr std::chrono::milliseconds kMaxWait{std::chrono::minutes(1)};

log::RateLimiter& frameErrorLimiter() {
  // Untrusted input: at most 5 lines per meeting and reason a minute.
  static log::RateLimiter limiter(5, std::chrono::minutes(1));
  return limiter;
}

std::optional<std::int64_t> positive(std::int64_t value) {
  return value > 0 ? std::optional<std::int64_t>(value) : std::nullopt;
}

}  // namespace

MeetingRunner::MeetingRunner(config::MeetingConfig meeting,
                             std::shared_ptr<const transport::RestClient> rest,
                             RunnerSettings settings, std::shared_ptr<metrics::MeetingStore> store,
                             std::uint64_t seed)
    : meeting_id_(meeting.id),
      meeting_(std::move(meeting)),
      rest_(std::move(rest)),
      settings_(std::move(settings)),
      store_(std::move(store)),
      seed_(seed),
      session_(meeting_id_, settings_.session, seed) {
  log::registerToken(meeting_.host_password);
}

MeetingRunner::~MeetingRunner() {
  requestStop();
  join();
  log::unregisterToken(meeting_.host_password);
  log::unregisterToken(control_token_);
  log::unregisterToken(ws_token_);
  if (holds_descriptor_slot_) settings_.descriptors->release();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

config::MeetingConfig MeetingRunner::meeting() const {
  std::lock_guard<std::mutex> lock(meeting_mutex_);
  return meeting_;
}

void MeetingRunner::setHostPassword(const config::Secret& password) {
  std::lock_guard<std::mutex> lock(meeting_mutex_);
  if (meeting_.host_password == password) return;
  log::registerToken(password);
  log::unregisterToken(meeting_.host_password);
  meeting_.host_password = password;
}

bool MeetingRunner::start() {
  try {
    thread_ = std::thread([this] { run(); });
    return true;
  } catch (const std::system_error& e) {
    // Out of threads (RLIMIT_NPROC, TasksMax): counted, and retried by the next start().
    const auto now = std::chrono::system_clock::now();
    const std::string detail = std::string("cannot start the session thread: ") + e.what();
    log::error("cannot start a meeting's session", {{"meeting_id", meeting_id_}, {"err", detail}});
    store_->apply(
        meeting_id_,
        metrics::Event{now, metrics::ConnectFailed{metrics::ConnectStage::ControlToken, detail}});
    store_->apply(meeting_id_, metrics::Event{now, metrics::SessionStateChanged{
                                                       metrics::SessionState::Backoff, false}});
    return false;
  }
}

void MeetingRunner::requestStop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  // The thread may be inside poll() on its socket, where the condition variable cannot reach
  // it. An eventfd counter only overflows after 2^64 - 2 writes; EAGAIN cannot happen here.
  // Without an eventfd yet the thread has no socket to wait on: the condition variable reached
  // it. The flag is stored before the descriptor is read and the thread stores the descriptor
  // before it reads the flag (both sequentially consistent), so one of the two sees the other.
  const int wake_fd = wake_fd_;
  if (wake_fd < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(wake_fd, &one, sizeof one);
  // Inside a frame the peer never finishes, the thread is blocked in a TLS read that polls
  // nothing: only ending the socket's read side reaches it.
  std::lock_guard<std::mutex> lock(connection_mutex_);
  if (connection_) connection_->interruptReceive();
}

void MeetingRunner::drainWake() noexcept {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto ignored = ::read(wake_fd_, &count, sizeof count);  // EAGAIN if empty
}

void MeetingRunner::join() {
  if (thread_.joinable()) thread_.join();
}

std::string MeetingRunner::statusText() const {
  session::StatusView status;
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    status = status_;
  }
  // The thread publishes only when it wakes, so the countdown is computed here.
  if (status.retry_at) {
    const auto remaining = std::max(Clock::duration::zero(), *status.retry_at - Clock::now());
    status.next_retry_in = std::chrono::ceil<std::chrono::seconds>(remaining);
  }
  return session::toText(status);
}

void MeetingRunner::publishStatus() {
  auto status = session_.status(Clock::now());
  std::lock_guard<std::mutex> lock(status_mutex_);
  status_ = std::move(status);
}

void MeetingRunner::run() {
  bool session_started = false;
  while (!stop_requested_) {
    try {
      if (!session_started) {
        session_started = true;
        execute(session_.start(Clock::now(), std::chrono::system_clock::now()));
        continue;
      }
      const auto deadline = session_.nextDeadline();
      auto wait = kMaxWait;
      if (deadline) {
        // Rounded up: waking just before the deadline would find nothing due and spin.
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
        wait = std::clamp(until, std::chrono::milliseconds(0), kMaxWait);
      }
      execute(receiveOrWait(wait));
      execute(session_.onTick(Clock::now()));
    } catch (const std::exception& e) {
      // The session may have been left between two steps: it cannot be trusted any more.
      restartSession(e.what());
      session_started = false;
    } catch (...) {
      restartSession("unknown exception");
      session_started = false;
    }
  }
  try {
    execute(session_.stop());
  } catch (const std::exception& e) {
    log::error("error while stopping a session", {{"meeting_id", meeting_id_}, {"err", e.what()}});
  }
  replaceConnection(nullptr, true);
}

void MeetingRunner::replaceConnection(std::unique_ptr<transport::WsConnection> next,
                                      bool close_old) {
  std::unique_ptr<transport::WsConnection> old;
  {
    std::lock_guard<std::mutex> lock(connection_mutex_);
    old = std::move(connection_);
    connection_ = std::move(next);
  }
  if (old && close_old) old->close();
}

void MeetingRunner::restartSession(const char* what) noexcept {
  const bool was_connected = connection_ != nullptr;
  try {
    replaceConnection(nullptr, true);
  } catch (...) {
  }
  // Reporting the failure allocates and may fail again (out of memory): the restart happens
  // regardless.
  try {
    const std::string detail = std::string("internal error: ") + what;
    log::error("session failed, restarting it after a backoff",
               {{"meeting_id", meeting_id_}, {"err", detail}});
    const auto now = std::chrono::system_clock::now();
    if (was_connected) {
      store_->apply(
          meeting_id_,
          metrics::Event{now, metrics::Disconnected{metrics::DisconnectReason::Error, detail}});
    } else {
      store_->apply(
          meeting_id_,
          metrics::Event{now, metrics::ConnectFailed{metrics::ConnectStage::Handshake, detail}});
    }
    store_->apply(meeting_id_, metrics::Event{now, metrics::SessionStateChanged{
                                                       metrics::SessionState::Backoff, false}});
  } catch (...) {
  }
  const auto cap = session::backoffCap(settings_.session.backoff_initial,
                                       settings_.session.backoff_max, session_restarts_);
  if (session_restarts_ < 32) ++session_restarts_;
  try {
    session_ = session::Session(meeting_id_, settings_.session, seed_ + session_restarts_);
  } catch (...) {
    // The old session stays; its start() is ignored, so the runner idles until it is stopped.
  }
  std::unique_lock<std::mutex> lock(wake_mutex_);
  wake_.wait_for(lock, cap, [this] { return stop_requested_.load(); });
}

void MeetingRunner::execute(session::Commands commands) {
  // Executing one command may answer the session, which returns further commands: run them
  // in order, breadth first, until nothing is left. The vector itself is the queue (appending
  // after `perform` returns, so the element it worked on is not moved under it): no deque
  // allocation per frame.
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto next = perform(commands[i]);
    for (auto& command : next) commands.push_back(std::move(command));
  }
  publishStatus();
}

session::Commands MeetingRunner::perform(session::Command& command) {
  const std::string& meeting_id = meeting_id_;
  if (auto* report = std::get_if<session::Report>(&command)) {
    // The event is applied once and then only looked at: move it rather than copy its pids.
    const metrics::Event event{std::chrono::system_clock::now(), std::move(report->event)};
    store_->apply(meeting_id, event);
    if (const auto* changed = std::get_if<metrics::SessionStateChanged>(&event.body)) {
      log::info("session state changed", {{"meeting_id", meeting_id},
                                          {"state", metrics::toLabel(changed->state)},
                                          {"up", changed->up ? "1" : "0"}});
    } else if (const auto* failed = std::get_if<metrics::ConnectFailed>(&event.body)) {
      log::warn("connect failed", {{"meeting_id", meeting_id},
                                   {"stage", metrics::toLabel(failed->stage)},
                                   {"err", failed->detail}});
    } else if (const auto* gone = std::get_if<metrics::Disconnected>(&event.body)) {
      log::warn("disconnected", {{"meeting_id", meeting_id},
                                 {"reason", metrics::toLabel(gone->reason)},
                                 {"detail", gone->detail}});
    }
    return {};
  }

  // REST calls and the handshake block this meeting's thread only; every meeting has its own.
  session::Commands next;
  if (const auto* fetch = std::get_if<session::FetchControlToken>(&command)) {
    std::string no_slot;
    if (!holdDescriptorSlot(no_slot)) {
      return session_.onControlToken(
          Clock::now(), session::RequestFailure{session::FailureKind::Network, no_slot});
    }
    const config::Secret password = meeting().host_password;
    auto result =
        rest_->getControlToken(meeting_id, password, fetch->current_token.value_or(Secret()));
    if (result.ok()) {
      const auto& token = result.value();
      rememberToken(control_token_, token.token);
      session::ControlTokenGrant grant{
          token.token, token.ws_url,
          session::tokenLifetime(positive(token.expire_time_ms), positive(token.validity_seconds),
                                 std::chrono::system_clock::now())};
      next = session_.onControlToken(Clock::now(), grant);
    } else {
      next = session_.onControlToken(Clock::now(), toRequestFailure(result.failure()));
    }
  } else if (const auto* ws_fetch = std::get_if<session::FetchWsToken>(&command)) {
    auto result = rest_->getWsToken(meeting_id, ws_fetch->control_token);
    if (result.ok()) {
      rememberToken(ws_token_, result.value());
      next = session_.onWsToken(Clock::now(), session::WsTokenGrant{result.value()});
    } else {
      next = session_.onWsToken(Clock::now(), toRequestFailure(result.failure()));
    }
  } else if (const auto* connect = std::get_if<session::Connect>(&command)) {
    std::string no_wake_fd;
    if (!ensureWakeFd(no_wake_fd)) return session_.onConnectFailed(Clock::now(), no_wake_fd);
    auto result = transport::WsConnection::open(connect->ws_url, meeting_id, connect->ws_token,
                                                settings_.websocket);
    if (result.ok()) {
      replaceConnection(std::make_unique<transport::WsConnection>(std::move(result).value()), true);
      next = session_.onConnected(Clock::now());
    } else {
      next = session_.onConnectFailed(Clock::now(), describeFailure(result.failure()));
    }
  } else if (const auto* subscribe = std::get_if<session::SendSubscribe>(&command)) {
    next = sendFrame(protocol::encodeSubscribe(subscribe->types, subscribe->control_token,
                                               subscribe->sequence, meeting_id));
  } else if (const auto* heartbeat = std::get_if<session::SendHeartbeat>(&command)) {
    next = sendFrame(protocol::encodeHeartbeat(heartbeat->sequence));
    // Counted once on the wire: a send that failed has closed the connection instead.
    if (connection_) {
      store_->apply(meeting_id,
                    metrics::Event{std::chrono::system_clock::now(), metrics::HeartbeatSent{}});
    }
  } else if (const auto* ping = std::get_if<session::SendPing>(&command)) {
    next = sendPing(ping->payload);
  } else if (std::holds_alternative<session::CloseConnection>(command)) {
    replaceConnection(nullptr, true);
  }
  return next;
}

bool MeetingRunner::holdDescriptorSlot(std::string& reason) {
  if (holds_descriptor_slot_ || !settings_.descriptors) return true;
  if (!settings_.descriptors->tryAcquire()) {
    reason = settings_.descriptors->refusal();
    return false;
  }
  holds_descriptor_slot_ = true;
  return true;
}

bool MeetingRunner::ensureWakeFd(std::string& reason) {
  if (wake_fd_ >= 0) return true;
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int error = errno;
    reason = "cannot create the wake-up eventfd: " + std::string(std::strerror(error));
    if (error == EMFILE || error == ENFILE) {
      reason += " (out of file descriptors: raise LimitNOFILE / ulimit -n)";
    }
    return false;
  }
  wake_fd_ = wake_fd;
  return true;
}

session::Commands MeetingRunner::sendFrame(const std::string& text) {
  if (!connection_) return {};
  const auto sent = connection_->send(text);
  if (sent.ok()) return {};
  replaceConnection(nullptr, false);
  return session_.onClosed(
      Clock::now(), {session::CloseCause::Error, std::nullopt, describeFailure(sent.failure())});
}

session::Commands MeetingRunner::sendPing(const std::string& payload) {
  if (!connection_) return {};
  const auto sent = connection_->sendPing(payload);
  if (sent.ok()) return {};
  replaceConnection(nullptr, false);
  return session_.onClosed(
      Clock::now(), {session::CloseCause::Error, std::nullopt, describeFailure(sent.failure())});
}

session::Commands MeetingRunner::receiveOrWait(std::chrono::milliseconds wait) {
  if (!connection_) {
    std::unique_lock<std::mutex> lock(wake_mutex_);
    wake_.wait_for(lock, wait, [this] { return stop_requested_.load(); });
    return {};
  }
  const transport::WsEvent event = connection_->receive(wait, wake_fd_);
  const auto now = Clock::now();
  if (const auto* text = std::get_if<transport::WsText>(&event)) {
    protocol::Decoded decoded = protocol::decode(text->text);
    if (const auto* rejection = std::get_if<protocol::Rejection>(&decoded.message)) {
      const std::string key = meeting_id_ + "/" + metrics::toLabel(rejection->reason);
      log::limited(frameErrorLimiter(), key, log::Level::Warn, "frame rejected",
                   {{"meeting_id", meeting_id_},
                    {"reason", metrics::toLabel(rejection->reason)},
                    {"detail", rejection->detail}});
    } else if (decoded.unrecognized_shape) {
      log::limited(frameErrorLimiter(), meeting_id_ + "/shape/" + decoded.action, log::Level::Info,
                   "push not understood, counted only",
                   {{"meeting_id", meeting_id_},
                    {"action", decoded.action},
                    {"shape", *decoded.unrecognized_shape}});
    }
    return session_.onFrame(now, std::move(decoded));
  }
  if (const auto* binary = std::get_if<transport::WsBinary>(&event)) {
    protocol::Decoded decoded;
    decoded.message = protocol::Rejection{metrics::RejectReason::BinaryFrame,
                                          std::to_string(binary->bytes) + " bytes"};
    log::limited(frameErrorLimiter(), meeting_id_ + "/binary_frame", log::Level::Warn,
                 "frame rejected",
                 {{"meeting_id", meeting_id_},
                  {"reason", metrics::toLabel(metrics::RejectReason::BinaryFrame)},
                  {"bytes", binary->bytes}});
    return session_.onFrame(now, std::move(decoded));
  }
  if (const auto* pong = std::get_if<transport::WsPong>(&event)) {
    return session_.onPong(now, pong->payload);
  }
  if (const auto* incomplete = std::get_if<transport::WsIncompleteMessage>(&event)) {
    replaceConnection(nullptr, false);
    return session_.onClosed(
        now, {session::CloseCause::IncompleteMessage, std::nullopt,
              "fragmented message unfinished after " +
                  std::to_string(settings_.websocket.message_timeout.count()) + " ms (" +
                  std::to_string(incomplete->bytes_received) + " bytes received)"});
  }
  if (std::holds_alternative<transport::WsTimeout>(event)) {
    // A deadline or a wake-up (receive does not say which): an empty eventfd costs one read.
    drainWake();
    return {};
  }
  if (const auto* closed = std::get_if<transport::WsClosed>(&event)) {
    replaceConnection(nullptr, false);
    return session_.onClosed(now, {session::CloseCause::ServerClosed, closed->code,
                                   "close " + std::to_string(closed->code) +
                                       (closed->reason.empty() ? "" : " " + closed->reason)});
  }
  const auto& failure = std::get<transport::Failure>(event);
  replaceConnection(nullptr, false);
  const auto cause = failure.error == transport::TransportError::TooLarge
                         ? session::CloseCause::FrameTooLarge
                         : session::CloseCause::Error;
  return session_.onClosed(now, {cause, std::nullopt, describeFailure(failure)});
}

void MeetingRunner::rememberToken(Secret& slot, const Secret& token) {
  if (slot == token) return;
  log::unregisterToken(slot);
  slot = token;
  log::registerToken(slot);
}

}  // namespace hme::app
