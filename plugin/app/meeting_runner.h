#pragma once
/// Runs one meeting's session on its own thread: executes the session's commands with the
/// transport, feeds received frames back into the session, and applies the reported events to
/// the metrics store. The only place where a session, a socket and a thread meet.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.h"
#include "metrics/store.h"
#include "plugin/app/resource_limits.h"
#include "plugin/session/session.h"
#include "plugin/transport/rest_client.h"
#include "plugin/transport/ws_connection.h"

namespace hme::app {

/// Settings shared by every meeting of one config.
struct RunnerSettings {
  session::SessionOptions session;
  transport::WsOptions websocket;
  /// Admits the meeting to the network; null: no limit.
  std::shared_ptr<DescriptorBudget> descriptors;
};

/// One meeting's session thread. Thread-safe: start/requestStop/join/status may be called from
/// any thread. The socket is used by the runner's thread only (OpenSSL forbids concurrent reads
/// and writes on one TLS socket), so heartbeats are sent between receives. The thread sleeps
/// until the session's next deadline; requestStop wakes it through an eventfd that the receive
/// wait polls together with the socket (one extra descriptor per runner, created before the
/// first connection), and shuts the read side of a connection down for a read stuck inside a
/// frame (one more descriptor per connection).
///
/// Running out of descriptors never ends the thread: a meeting that gets no slot of the
/// DescriptorBudget, no eventfd or no socket reports a counted connect failure saying so and
/// retries with backoff. An exception escaping the session's processing (e.g. std::bad_alloc)
/// ends that session with a counted error and starts a new one after a backoff.
class MeetingRunner {
 public:
  /// `rest` and `store` are shared with other runners; `seed` seeds the backoff jitter.
  MeetingRunner(config::MeetingConfig meeting, std::shared_ptr<const transport::RestClient> rest,
                RunnerSettings settings, std::shared_ptr<metrics::MeetingStore> store,
                std::uint64_t seed);
  /// Stops and joins the thread.
  ~MeetingRunner();
  MeetingRunner(const MeetingRunner&) = delete;
  MeetingRunner& operator=(const MeetingRunner&) = delete;

  /// Starts the thread. False when it cannot be started (out of threads): the failure is
  /// counted and start() may be called again later. Call again only after false.
  bool start();
  /// Whether the thread was started.
  bool started() const { return thread_.joinable(); }
  /// Asks the thread to close its socket and end; returns at once. Wakes the thread whether it
  /// waits for the socket or for a retry.
  void requestStop();
  /// Waits for the thread to end (after requestStop). A REST call in flight finishes first,
  /// so this takes at most about `api.timeout`.
  void join();

  /// The meeting ID.
  const std::string& meetingId() const { return meeting_id_; }
  /// The meeting's config (with its password: never print it).
  config::MeetingConfig meeting() const;
  /// Replaces the host password used from the next control-token call on, without
  /// reconnecting (the meeting's entry moved between `meetings:` and discovery).
  void setHostPassword(const config::Secret& password);
  /// A status-page line: state, attempt, next retry (counted down to the time of this call),
  /// last error. No secrets.
  std::string statusText() const;

 private:
  void run();
  /// Starts a fresh session after the last one threw `what`: counts the error, closes the
  /// connection and waits a backoff first.
  void restartSession(const char* what) noexcept;
  void execute(session::Commands commands);
  /// Takes a descriptor slot if none is held; false (and a reason) when none is free.
  bool holdDescriptorSlot(std::string& reason);
  /// Creates the wake-up eventfd if there is none; false (and a reason) when it cannot.
  bool ensureWakeFd(std::string& reason);
  /// Executes `command`; a Report's event is moved out of it.
  session::Commands perform(session::Command& command);
  session::Commands receiveOrWait(std::chrono::milliseconds wait);
  /// Empties the wake-up eventfd after a wake-up, so the next wait blocks again.
  void drainWake() noexcept;
  /// Sends one frame; a failed send ends the connection and tells the session.
  session::Commands sendFrame(const std::string& text);
  /// Keeps `token` in `slot` and in the logger's token net (plugin/log/token_filter.h), in
  /// place of the token `slot` held before.
  void rememberToken(Secret& slot, const Secret& token);
  /// Sends a WebSocket PING; a failed send ends the connection and tells the session.
  session::Commands sendPing(const std::string& payload);
  void publishStatus();

  const std::string meeting_id_;
  mutable std::mutex meeting_mutex_;  // guards meeting_ (its password may be replaced)
  config::MeetingConfig meeting_;
  std::shared_ptr<const transport::RestClient> rest_;
  RunnerSettings settings_;
  std::shared_ptr<metrics::MeetingStore> store_;

  std::uint64_t seed_;
  session::Session session_;            // runner thread only
  unsigned session_restarts_ = 0;       // runner thread only
  bool holds_descriptor_slot_ = false;  // runner thread only
  /// Replaces connection_ (runner thread only) under connection_mutex_; the old connection is
  /// closed gracefully if `close_old`, and destroyed after the lock is released.
  void replaceConnection(std::unique_ptr<transport::WsConnection> next, bool close_old);

  // Used and replaced by the runner thread only; requestStop reads it under connection_mutex_
  // to interrupt a read the wake-up descriptor cannot reach (inside a stalled frame).
  std::unique_ptr<transport::WsConnection> connection_;
  std::mutex connection_mutex_;
  Secret control_token_;  // the latest tokens, registered with the logger's token net
  Secret ws_token_;

  mutable std::mutex status_mutex_;  // guards status_
  session::StatusView status_;       // the session's status as of its last input
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_requested_{false};
  // eventfd written by requestStop, polled with the socket; owned. Created by the runner thread
  // before its first connection, read by requestStop from any thread.
  std::atomic<int> wake_fd_{-1};
  std::thread thread_;
};

}  // namespace hme::app
