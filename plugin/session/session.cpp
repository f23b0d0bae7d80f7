#include "plugin/session/session.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>
#include <utility>

namespace hme::session {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kDefaultTokenLifetime = std::chrono::minutes(30);
constexpr milliseconds kMaxPlausibleLifetime = std::chrono::hours(24);
// A server granting (near) zero lifetimes must not make us refresh in a tight loop.
// A refresh is never scheduled sooner than this after a grant, so a server granting tiny
// lifetimes cannot drive a refresh loop.
constexpr milliseconds kMinRefreshDelay = std::chrono::seconds(2);
// Echoes of older heartbeats are matched only this far back; one more than this and the oldest
// is forgotten (its late echo then yields no RTT, which is the right answer for a lost echo).
constexpr std::size_t kMaxOutstandingHeartbeats = 16;
constexpr std::size_t kSequenceDigits = 30;
constexpr std::size_t kMaxServerTextChars = 64;

std::string formatDuration(milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + " s";
  }
  return std::to_string(d.count()) + " ms";
}

// Server-supplied text (Subscribe returnDesc) goes to the status page and logs: keep it short
// and printable so a hostile or broken server cannot inject markup-breaking or huge content.
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kMaxServerTextChars) {
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

bool isDestroyed(const metrics::EventBody& event) {
  const auto* info = std::get_if<metrics::ConfDynamicInfo>(&event);
  if (info == nullptr || !info->state) {
    return false;
  }
  const std::string& state = *info->state;
  static constexpr char kDestroyed[] = "destroyed";
  return std::equal(
      state.begin(), state.end(), std::begin(kDestroyed), std::end(kDestroyed) - 1,
      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::string closeDetail(const ClosedInfo& info) {
  std::string out;
  switch (info.cause) {
    case CloseCause::ServerClosed:
      out = "closed by server";
      break;
    case CloseCause::FrameTooLarge:
      out = "frame too large";
      break;
    case CloseCause::Error:
      out = "connection error";
      break;
    case CloseCause::IncompleteMessage:
      out = "message left incomplete";
      break;
  }
  if (info.code) {
    out += " (code " + std::to_string(*info.code) + ")";
  }
  if (!info.detail.empty()) {
    out += ": " + info.detail;
  }
  return out;
}

}  // namespace

std::chrono::milliseconds tokenLifetime(std::optional<std::int64_t> expire_time_ms,
                                        std::optional<std::int64_t> valid_seconds,
                                        metrics::TimePoint wall_now) {
  std::optional<milliseconds> best;
  const auto keep = [&best](milliseconds candidate) {
    if (candidate > milliseconds::zero() && candidate <= kMaxPlausibleLifetime) {
      best = best ? std::min(*best, candidate) : candidate;
    }
  };
  if (expire_time_ms) {
    const std::int64_t now_ms =
        std::chrono::duration_cast<milliseconds>(wall_now.time_since_epoch()).count();
    // Compare before subtracting: the server's value is untrusted and may be near INT64_MIN.
    if (*expire_time_ms > now_ms && *expire_time_ms <= now_ms + kMaxPlausibleLifetime.count()) {
      keep(milliseconds(*expire_time_ms - now_ms));
    }
  }
  if (valid_seconds && *valid_seconds > 0 &&
      *valid_seconds <=
          std::chrono::duration_cast<std::chrono::seconds>(kMaxPlausibleLifetime).count()) {
    keep(std::chrono::seconds(*valid_seconds));
  }
  return best.value_or(kDefaultTokenLifetime);
}

std::chrono::milliseconds backoffCap(std::chrono::milliseconds initial,
                                     std::chrono::milliseconds max, unsigned attempt) {
  if (initial <= milliseconds::zero() || max <= milliseconds::zero()) {
    return std::max(milliseconds::zero(), std::min(initial, max));
  }
  milliseconds cap = initial;
  for (unsigned i = 0; i < attempt && cap < max; ++i) {
    cap = cap > max / 2 ? max : cap * 2;  // never doubles past max, so never overflows
  }
  return std::min(cap, max);
}

std::string toText(const StatusView& status) {
  std::string out = metrics::toLabel(status.state);
  if (status.up) {
    out += ", up";
  }
  out += " (";
  out += status.activity;
  out += ")";
  if (status.attempt > 0) {
    out += ", attempt " + std::to_string(status.attempt);
  }
  if (status.next_retry_in) {
    out += ", next retry in " + std::to_string(status.next_retry_in->count()) + " s";
  }
  if (!status.last_error.empty()) {
    out += ", last error: " + status.last_error;
  }
  return out;
}

Session::Session(std::string meeting_id, SessionOptions options, std::uint64_t seed)
    : meeting_id_(std::move(meeting_id)), options_(std::move(options)), rng_(seed) {}

Commands Session::start(TimePoint now, metrics::TimePoint wall_now) {
  if (phase_ != Phase::Idle) {
    return {};
  }
  steady_origin_ = now;
  wall_origin_ms_ = std::chrono::duration_cast<milliseconds>(wall_now.time_since_epoch()).count();
  Commands out;
  setState(out, metrics::SessionState::Connecting, false);
  beginAttempt(out, now);
  return out;
}

Commands Session::stop() {
  Commands out;
  if (phase_ == Phase::AwaitConnect || phase_ == Phase::AwaitSubscribeReply ||
      phase_ == Phase::Live || phase_ == Phase::Ending) {
    out.emplace_back(CloseConnection{});
  }
  phase_ = Phase::Stopped;
  return out;
}

Commands Session::onControlToken(TimePoint now, const ControlTokenResult& result) {
  if (phase_ == Phase::Idle || phase_ == Phase::Stopped || !control_fetch_in_flight_) {
    return {};
  }
  control_fetch_in_flight_ = false;
  const bool was_refresh = control_fetch_is_refresh_;
  Commands out;

  const auto* grant = std::get_if<ControlTokenGrant>(&result);
  if (grant != nullptr && !grant->token.empty() && !grant->ws_url.empty()) {
    // A token that arrives after the meeting was destroyed belongs to the ended meeting.
    if (state_ == metrics::SessionState::Ended && phase_ != Phase::AwaitControlToken) {
      return out;
    }
    cacheToken(now, *grant);
    if (was_refresh) {
      out.emplace_back(Report{metrics::TokenRefreshed{}});
    }
    if (phase_ == Phase::AwaitControlToken) {
      phase_ = Phase::AwaitWsToken;
      attempt_token_ = token_->token;
      attempt_ws_url_ = token_->ws_url;
      setState(out, metrics::SessionState::Connecting, false);
      out.emplace_back(FetchWsToken{attempt_token_});
    }
    return out;
  }

  const RequestFailure failure =
      grant != nullptr
          ? RequestFailure{FailureKind::ServerError, "token response without token or wsURL"}
          : std::get<RequestFailure>(result);
  if (phase_ == Phase::AwaitControlToken) {
    if (failure.kind == FailureKind::Rejected) {
      token_.reset();
    }
    // The service answers "not started", "not found" and "wrong password" alike with a 4xx, so
    // a rejection means "waiting"; an ended meeting stays "ended" until it runs again.
    const metrics::SessionState shown =
        state_ == metrics::SessionState::Ended  ? metrics::SessionState::Ended
        : failure.kind == FailureKind::Rejected ? metrics::SessionState::Waiting
                                                : metrics::SessionState::Backoff;
    failAttempt(out, now, metrics::ConnectStage::ControlToken, failure.detail, shown);
    return out;
  }
  // A background refresh failed: the live connection stays until the token actually expires.
  last_error_ = "token refresh: " + failure.detail;
  if (phase_ == Phase::Live) {
    refresh_retry_at_ =
        now + jitter(backoffCap(options_.backoff_initial, options_.backoff_max, refresh_attempt_));
    ++refresh_attempt_;
  }
  return out;
}

Commands Session::onWsToken(TimePoint now, const WsTokenResult& result) {
  if (phase_ != Phase::AwaitWsToken) {
    return {};
  }
  Commands out;
  const auto* grant = std::get_if<WsTokenGrant>(&result);
  if (grant != nullptr && !grant->ws_token.empty()) {
    phase_ = Phase::AwaitConnect;
    out.emplace_back(Connect{attempt_ws_url_, grant->ws_token});
    return out;
  }
  const RequestFailure failure =
      grant != nullptr ? RequestFailure{FailureKind::ServerError, "empty wsToken response"}
                       : std::get<RequestFailure>(result);
  if (failure.kind == FailureKind::Rejected) {
    token_.reset();  // the control token itself is likely no longer accepted
  }
  failAttempt(out, now, metrics::ConnectStage::WsToken, failure.detail,
              metrics::SessionState::Backoff);
  return out;
}

Commands Session::onConnected(TimePoint now) {
  if (phase_ != Phase::AwaitConnect) {
    return {};
  }
  phase_ = Phase::AwaitSubscribeReply;
  subscribe_deadline_ = now + options_.subscribe_timeout;
  last_activity_ = now;
  Commands out;
  out.emplace_back(SendSubscribe{nextSequence(now), options_.subscribe_types, attempt_token_});
  return out;
}

Commands Session::onConnectFailed(TimePoint now, const std::string& detail) {
  if (phase_ != Phase::AwaitConnect) {
    return {};
  }
  Commands out;
  failAttempt(out, now, metrics::ConnectStage::Handshake, detail, metrics::SessionState::Backoff);
  return out;
}

Commands Session::onFrame(TimePoint now, protocol::Decoded frame) {
  if (phase_ != Phase::AwaitSubscribeReply && phase_ != Phase::Live && phase_ != Phase::Ending) {
    return {};
  }
  last_activity_ = now;
  Commands out;
  if (!frame.action.empty()) {
    out.emplace_back(Report{metrics::FrameReceived{std::move(frame.action)}});
  }

  if (const auto* reply = std::get_if<protocol::SubscribeReply>(&frame.message)) {
    if (phase_ != Phase::AwaitSubscribeReply) {
      return out;  // a repeated reply on a live connection changes nothing
    }
    if (reply->return_code == 0) {
      goLive(out, now);
      return out;
    }
    std::string detail = "returnCode " + std::to_string(reply->return_code);
    const std::string desc = printable(reply->return_desc);
    if (!desc.empty()) {
      detail += " (" + desc + ")";
    }
    // The server refused the control token in the Subscribe frame: reusing it until its refresh
    // time would only be refused again, so the next attempt fetches a new one.
    token_.reset();
    dropConnection(out, now, metrics::DisconnectReason::Error, detail, true);
  } else if (const auto* echo = std::get_if<protocol::HeartbeatEcho>(&frame.message)) {
    onHeartbeatAnswer(out, now, echo->sequence);
  } else if (auto* push = std::get_if<protocol::Push>(&frame.message)) {
    if (phase_ == Phase::AwaitSubscribeReply) {
      // The Subscribe reply is documented by one example only and official clients never read
      // it: a push proves the subscription just as well.
      goLive(out, now);
    }
    const bool destroyed = isDestroyed(push->event);
    out.emplace_back(Report{std::move(push->event)});
    if (phase_ != Phase::Ending && destroyed) {
      // The server closes the socket itself after `Destroyed`; wait a little for the last pushes.
      phase_ = Phase::Ending;
      end_deadline_ = now + options_.end_grace;
      token_.reset();
      setState(out, metrics::SessionState::Ended, false);
    }
  } else if (const auto* rejection = std::get_if<protocol::Rejection>(&frame.message)) {
    out.emplace_back(Report{metrics::FrameRejected{rejection->reason}});
    if (rejection->reason == metrics::RejectReason::TooLarge) {
      dropConnection(out, now, metrics::DisconnectReason::Error, "frame too large", true);
    }
  }
  return out;
}

Commands Session::onPong(TimePoint now, const std::string& payload) {
  if (phase_ != Phase::AwaitSubscribeReply && phase_ != Phase::Live && phase_ != Phase::Ending) {
    return {};
  }
  last_activity_ = now;
  Commands out;
  out.emplace_back(Report{metrics::PongReceived{}});
  onHeartbeatAnswer(out, now, payload);
  return out;
}

Commands Session::onClosed(TimePoint now, const ClosedInfo& info) {
  if (phase_ != Phase::AwaitSubscribeReply && phase_ != Phase::Live && phase_ != Phase::Ending) {
    return {};
  }
  Commands out;
  if (info.cause == CloseCause::FrameTooLarge) {
    out.emplace_back(Report{metrics::FrameRejected{metrics::RejectReason::TooLarge}});
  }
  const auto reason =
      info.cause == CloseCause::ServerClosed        ? metrics::DisconnectReason::ServerClosed
      : info.cause == CloseCause::IncompleteMessage ? metrics::DisconnectReason::IncompleteMessage
                                                    : metrics::DisconnectReason::Error;
  dropConnection(out, now, reason, closeDetail(info), false);
  return out;
}

Commands Session::onTick(TimePoint now) {
  Commands out;
  switch (phase_) {
    case Phase::Retrying:
      if (now >= retry_at_) {
        beginAttempt(out, now);
      }
      break;
    case Phase::AwaitSubscribeReply:
      if (now >= subscribe_deadline_) {
        dropConnection(
            out, now, metrics::DisconnectReason::Error,
            "no Subscribe reply and no push within " + formatDuration(options_.subscribe_timeout),
            true);
      }
      break;
    case Phase::Live:
      tickLive(out, now);
      break;
    case Phase::Ending:
      if (now >= end_deadline_) {
        dropConnection(out, now, metrics::DisconnectReason::MeetingEnded,
                       "no close within " + formatDuration(options_.end_grace) + " of Destroyed",
                       true);
      }
      break;
    case Phase::Idle:
    case Phase::AwaitControlToken:
    case Phase::AwaitWsToken:
    case Phase::AwaitConnect:
    case Phase::Stopped:
      break;
  }
  return out;
}

std::optional<TimePoint> Session::nextDeadline() const {
  switch (phase_) {
    case Phase::Retrying:
      return retry_at_;
    case Phase::AwaitSubscribeReply:
      return subscribe_deadline_;
    case Phase::Ending:
      return end_deadline_;
    case Phase::Live: {
      TimePoint next = std::min(next_heartbeat_at_, last_activity_ + options_.heartbeat_timeout);
      if (token_) {
        next = std::min(next, token_->expires_at);
        if (!control_fetch_in_flight_) {
          next = std::min(next, refresh_retry_at_.value_or(token_->refresh_at));
        }
      }
      return next;
    }
    case Phase::Idle:
    case Phase::AwaitControlToken:
    case Phase::AwaitWsToken:
    case Phase::AwaitConnect:
    case Phase::Stopped:
      break;
  }
  return std::nullopt;
}

StatusView Session::status(TimePoint now) const {
  StatusView view;
  view.state = state_;
  view.up = up_;
  view.activity = activityName(phase_);
  view.attempt = attempt_;
  if (phase_ == Phase::Retrying) {
    const auto remaining = std::max(Clock::duration::zero(), retry_at_ - now);
    view.next_retry_in = std::chrono::ceil<std::chrono::seconds>(remaining);
    view.retry_at = retry_at_;
  }
  view.last_error = last_error_;
  return view;
}

const char* Session::activityName(Phase phase) {
  switch (phase) {
    case Phase::Idle:
      return "not started";
    case Phase::Retrying:
      return "waiting to retry";
    case Phase::AwaitControlToken:
      return "fetching control token";
    case Phase::AwaitWsToken:
      return "fetching wsToken";
    case Phase::AwaitConnect:
      return "connecting";
    case Phase::AwaitSubscribeReply:
      return "subscribing";
    case Phase::Live:
      return "live";
    case Phase::Ending:
      return "meeting ended, waiting for close";
    case Phase::Stopped:
      return "stopped";
  }
  return "unknown";
}

void Session::setState(Commands& out, metrics::SessionState state, bool up) {
  if (state_reported_ && state == state_ && up == up_) {
    return;
  }
  state_reported_ = true;
  state_ = state;
  up_ = up;
  out.emplace_back(Report{metrics::SessionStateChanged{state, up}});
}

void Session::beginAttempt(Commands& out, TimePoint now) {
  // The control token is reused while it is not yet due for refresh; the wsToken never is.
  if (token_ && now < token_->refresh_at) {
    phase_ = Phase::AwaitWsToken;
    attempt_token_ = token_->token;
    attempt_ws_url_ = token_->ws_url;
    setState(out, metrics::SessionState::Connecting, false);
    out.emplace_back(FetchWsToken{attempt_token_});
    return;
  }
  phase_ = Phase::AwaitControlToken;
  // `waiting` and `ended` stay as they are until the token call shows the meeting is running.
  if (state_ == metrics::SessionState::Backoff) {
    setState(out, metrics::SessionState::Connecting, false);
  }
  if (control_fetch_in_flight_) {
    return;  // a background refresh is under way: its answer continues this attempt
  }
  control_fetch_in_flight_ = true;
  if (token_ && now < token_->expires_at) {
    control_fetch_is_refresh_ = true;
    out.emplace_back(FetchControlToken{token_->token});
  } else {
    token_.reset();
    control_fetch_is_refresh_ = false;
    out.emplace_back(FetchControlToken{});
  }
}

void Session::scheduleRetry(Commands& out, TimePoint now, metrics::SessionState shown) {
  phase_ = Phase::Retrying;
  outstanding_.clear();
  refresh_retry_at_.reset();
  refresh_attempt_ = 0;
  // An ended meeting is polled at the slow end so a recurring meeting room is found again
  // without hammering the API while nobody is in it.
  const milliseconds delay =
      shown == metrics::SessionState::Ended
          ? options_.backoff_max
          : jitter(backoffCap(options_.backoff_initial, options_.backoff_max, attempt_));
  if (attempt_ < std::numeric_limits<unsigned>::max()) {
    ++attempt_;
  }
  retry_at_ = now + delay;
  setState(out, shown, false);
}

void Session::dropConnection(Commands& out, TimePoint now, metrics::DisconnectReason reason,
                             const std::string& detail, bool close) {
  if (close) {
    out.emplace_back(CloseConnection{});
  }
  if (phase_ == Phase::Ending) {
    out.emplace_back(
        Report{metrics::Disconnected{metrics::DisconnectReason::MeetingEnded, detail}});
    scheduleRetry(out, now, metrics::SessionState::Ended);
    return;
  }
  if (phase_ == Phase::AwaitSubscribeReply) {
    failAttempt(out, now, metrics::ConnectStage::Subscribe, detail, metrics::SessionState::Backoff);
    return;
  }
  out.emplace_back(Report{metrics::Disconnected{reason, detail}});
  last_error_ = std::string(metrics::toLabel(reason)) + ": " + detail;
  scheduleRetry(out, now, metrics::SessionState::Backoff);
}

void Session::failAttempt(Commands& out, TimePoint now, metrics::ConnectStage stage,
                          const std::string& detail, metrics::SessionState shown) {
  out.emplace_back(Report{metrics::ConnectFailed{stage, detail}});
  last_error_ = std::string(metrics::toLabel(stage)) + ": " + detail;
  scheduleRetry(out, now, shown);
}

void Session::cacheToken(TimePoint now, const ControlTokenGrant& grant) {
  // The real expiry is kept (a reconnect after it needs a new token); only the refresh time
  // has a floor.
  const milliseconds lifetime = std::max(grant.lifetime, milliseconds(0));
  CachedToken cached{grant.token, grant.ws_url, {}, now + lifetime};
  cached.refresh_at = lifetime < 2 * options_.token_refresh_before
                          ? now + std::max(lifetime / 2, kMinRefreshDelay)
                          : cached.expires_at - options_.token_refresh_before;
  token_ = std::move(cached);
  refresh_attempt_ = 0;
  refresh_retry_at_.reset();
}

void Session::goLive(Commands& out, TimePoint now) {
  out.emplace_back(Report{metrics::Subscribed{}});
  phase_ = Phase::Live;
  next_heartbeat_at_ = now + options_.heartbeat_interval;
  outstanding_.clear();
  stable_ = false;
  setState(out, metrics::SessionState::Subscribed, true);
}

void Session::onHeartbeatAnswer(Commands& out, TimePoint now, const std::string& sequence) {
  const auto found =
      std::find_if(outstanding_.begin(), outstanding_.end(),
                   [&sequence](const OutstandingHeartbeat& h) { return h.sequence == sequence; });
  if (found == outstanding_.end()) {
    return;  // the second answer (echo after PONG or the reverse), or one we forgot
  }
  const double rtt = std::chrono::duration<double>(now - found->sent_at).count();
  out.emplace_back(Report{metrics::HeartbeatAnswered{rtt}});
  // Older heartbeats still outstanding lost their answers; this one supersedes them.
  outstanding_.erase(outstanding_.begin(), found + 1);
  if (!stable_) {
    // The connection carried a full heartbeat round trip: count it as a stable subscription.
    stable_ = true;
    attempt_ = 0;
  }
}

void Session::tickLive(Commands& out, TimePoint now) {
  if (token_ && now >= token_->expires_at) {
    token_.reset();
    dropConnection(out, now, metrics::DisconnectReason::Error,
                   "control token expired before it could be refreshed", true);
    return;
  }
  if (now - last_activity_ >= options_.heartbeat_timeout) {
    dropConnection(out, now, metrics::DisconnectReason::HeartbeatTimeout,
                   "no frame, echo or PONG for " + formatDuration(options_.heartbeat_timeout),
                   true);
    return;
  }
  if (now >= next_heartbeat_at_) {
    if (outstanding_.size() == kMaxOutstandingHeartbeats) {
      outstanding_.erase(outstanding_.begin());
    }
    OutstandingHeartbeat sent{nextSequence(now), now};
    out.emplace_back(SendHeartbeat{sent.sequence});
    // The PING carries the same sequence, so its PONG answers this heartbeat like an echo.
    out.emplace_back(SendPing{sent.sequence});
    outstanding_.push_back(std::move(sent));
    // Scheduled from the actual send time: a late tick never causes a burst of heartbeats.
    next_heartbeat_at_ = now + options_.heartbeat_interval;
  }
  if (token_ && !control_fetch_in_flight_ &&
      now >= refresh_retry_at_.value_or(token_->refresh_at)) {
    control_fetch_in_flight_ = true;
    control_fetch_is_refresh_ = true;
    refresh_retry_at_.reset();
    out.emplace_back(FetchControlToken{token_->token});
  }
}

std::chrono::milliseconds Session::jitter(std::chrono::milliseconds cap) {
  if (cap <= milliseconds::zero()) {
    return milliseconds::zero();
  }
  std::uniform_int_distribution<std::int64_t> uniform(0, cap.count());
  return milliseconds(uniform(rng_));
}

std::string Session::nextSequence(TimePoint now) {
  const std::int64_t elapsed =
      std::chrono::duration_cast<milliseconds>(now - steady_origin_).count();
  // Strictly increasing, so two frames in the same millisecond still get distinct sequences.
  const std::int64_t ms = std::max(wall_origin_ms_ + elapsed, last_sequence_ms_ + 1);
  last_sequence_ms_ = ms;
  const std::string digits = std::to_string(ms);
  return std::string(kSequenceDigits - std::min(kSequenceDigits, digits.size()), '0') + digits;
}

}  // namespace hme::session
