#pragma once
/// `--probe=MEETING_ID`: one session against the real service, run on the calling thread for a
/// bounded time, with every step recorded and a report an operator can paste into a bug report
/// (docs/real-service.md lists what it checks). Drives the same session::Session, RestClient and
/// WsConnection as the exporter, without the metrics store.

#include <chrono>
#include <iosfwd>
#include <string>

#include "config/config.h"

namespace hme::app {

/// What to probe and for how long.
struct ProbeSettings {
  config::Config config;   ///< `api` and `session` settings; the meeting must be in `meetings`
  std::string meeting_id;  ///< the meeting to probe
  std::chrono::milliseconds duration{std::chrono::seconds(60)};  ///< how long to stay connected
};

/// How a probe ended.
struct ProbeOutcome {
  int exit_code = 1;        ///< 0: subscribed and stayed alive for the whole duration
  std::string failed_step;  ///< empty on success, else `config`, `control_token`, `ws_token`,
                            ///< `handshake`, `subscribe` or `live`
};

/// Runs the probe and writes the report to `report` line by line as the steps happen, then a
/// summary: each step's result and time, the push host's certificate (subject, names, verdict),
/// the Subscribe reply, the first push, HeartBeat echoes and their round trip, PONGs, every
/// frame type with its count and field shape (keys and JSON types only), the largest frame.
/// The report never contains the host password, the control token, the wsToken or any field
/// value of a push. Blocks for at most about `duration` plus `api.timeout`. Not thread-safe
/// with respect to `report`; never throws except std::bad_alloc.
ProbeOutcome runProbe(const ProbeSettings& settings, std::ostream& report);

}  // namespace hme::app
