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
#include "plugin/session/session.h"
#include "plugin/transport/rest_client.h"
#include "plugin/transport/ws_connection.h"

namespace hme::app {

/// Settings shared by every meeting of one config.
struct RunnerSettings {
  session::SessionOptions session;
  transport::WsOptions websocket;
};

/// One meeting's session thread. Thread-safe: start/requestStop/join/status may be called from
/// any thread. The socket is used by the runner's thread only (OpenSSL forbids concurrent reads
/// and writes on one TLS socket), so heartbeats are sent between receives. The thread sleeps
/// until the session's next deadline; requestStop wakes it through an eventfd that the receive
/// wait polls together with the socket (one extra descriptor per runner), and shuts the read side
/// of a connection down for a read stuck inside a frame (one more descriptor per connection).
class MeetingRunner {
 public:
  /// `rest` and `store` are shared with other runners; `seed` seeds the backoff jitter.
  /// Throws std::system_error if the wake-up eventfd cannot be created (e.g. out of
  /// descriptors).
  MeetingRunner(config::MeetingConfig meeting, std::shared_ptr<const transport::RestClient> rest,
                RunnerSettings settings, std::shared_ptr<metrics::MeetingStore> store,
                std::uint64_t seed);
  /// Stops and joins the thread.
  ~MeetingRunner();
  MeetingRunner(const MeetingRunner&) = delete;
  MeetingRunner& operator=(const MeetingRunner&) = delete;

  /// Starts the thread. Call once.
  void start();
  /// Asks the thread to close its socket and end; returns at once. Wakes the thread whether it
  /// waits for the socket or for a retry.
  void requestStop();
  /// Waits for the thread to end (after requestStop). A REST call in flight finishes first,
  /// so this takes at most about `api.timeout`.
  void join();

  /// The meeting ID.
  const std::string& meetingId() const { return meeting_.id; }
  /// The meeting's config (with its password: never print it).
  const config::MeetingConfig& meeting() const { return meeting_; }
  /// A status-page line: state, attempt, next retry (counted down to the time of this call),
  /// last error. No secrets.
  std::string statusText() const;

 private:
  void run();
  void execute(session::Commands commands);
  /// Executes `command`; a Report's event is moved out of it.
  session::Commands perform(session::Command& command);
  session::Commands receiveOrWait(std::chrono::milliseconds wait);
  /// Empties the wake-up eventfd after a wake-up, so the next wait blocks again.
  void drainWake() noexcept;
  /// Sends one frame; a failed send ends the connection and tells the session.
  session::Commands sendFrame(const std::string& text);
  /// Sends a WebSocket PING; a failed send ends the connection and tells the session.
  session::Commands sendPing(const std::string& payload);
  void rememberSecret(std::string& slot, const std::string& secret);
  void publishStatus();

  config::MeetingConfig meeting_;
  std::shared_ptr<const transport::RestClient> rest_;
  RunnerSettings settings_;
  std::shared_ptr<metrics::MeetingStore> store_;

  session::Session session_;  // runner thread only
  /// Replaces connection_ (runner thread only) under connection_mutex_; the old connection is
  /// closed gracefully if `close_old`, and destroyed after the lock is released.
  void replaceConnection(std::unique_ptr<transport::WsConnection> next, bool close_old);

  // Used and replaced by the runner thread only; requestStop reads it under connection_mutex_
  // to interrupt a read the wake-up descriptor cannot reach (inside a stalled frame).
  std::unique_ptr<transport::WsConnection> connection_;
  std::mutex connection_mutex_;
  std::string control_token_secret_;  // registered for log redaction
  std::string ws_token_secret_;

  mutable std::mutex status_mutex_;  // guards status_
  session::StatusView status_;       // the session's status as of its last input
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_requested_{false};
  int wake_fd_ = -1;  // eventfd written by requestStop, polled with the socket; owned
  std::thread thread_;
};

}  // namespace hme::app
