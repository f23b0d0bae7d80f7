#pragma once
/// The decisions of one discovery pass (spec/discovery.md §4–5), apart from the I/O: which
/// listed meetings to watch, with which host password, and which to skip and why. Pure except
/// for the injected confDetail call.

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "plugin/discovery/management_api.h"

namespace hme::discovery {

/// One occurrence of a meeting: the ID plus `confUUID` (empty when the list has none).
using MeetingKey = std::pair<std::string, std::string>;

/// Where a watched meeting's host password came from.
enum class PasswordSource { List, Detail, Webinar, Static };
/// `list`, `detail`, `webinar` or `static`.
const char* toLabel(PasswordSource source);

/// A meeting to watch: handed to the supervisor.
struct WatchedMeeting {
  std::string meeting_id;
  std::string conf_uuid;
  std::string subject;
  bool webinar = false;
  config::Secret host_password;
  PasswordSource source = PasswordSource::List;
};

/// Why a listed meeting is not watched (the `reason` label of
/// huawei_meeting_exporter_discovery_skipped_meetings).
enum class SkipReason { NoHostPassword, Filtered, Limit };
/// Every reason, in label order.
inline constexpr std::array<SkipReason, 3> kSkipReasons = {SkipReason::NoHostPassword,
                                                           SkipReason::Filtered, SkipReason::Limit};
/// `no_host_password`, `filtered` or `limit`.
const char* toLabel(SkipReason reason);

/// A listed meeting that is not watched, for the status page. No secrets.
struct SkippedMeeting {
  std::string meeting_id;
  std::string subject;
  std::string scheduler;
  SkipReason reason = SkipReason::NoHostPassword;
  std::string detail;  ///< a sentence for the status page
};

/// The answer to one confDetail call: the chair password (empty if the answer had none), or an
/// error (a short, secret-free text).
struct DetailAnswer {
  bool ok = false;
  config::Secret chair_password;
  std::string error;
};

/// Calls `online/confDetail` for a meeting ID.
using FetchDetail = std::function<DetailAnswer(const std::string& meeting_id)>;

/// What one pass decided.
struct PassDecision {
  std::size_t found = 0;  ///< distinct meetings and webinars listed (excluding ended ones)
  std::vector<WatchedMeeting> watch;
  std::vector<SkippedMeeting> skipped;
  std::array<std::size_t, kSkipReasons.size()> skipped_by_reason{};  ///< by kSkipReasons index
  std::size_t detail_calls = 0;
  std::size_t detail_failures = 0;
};

/// Remembers what earlier passes learnt (each occurrence's server-given password, which
/// occurrences confDetail had no password for, which are watched, which have ended) and decides
/// each pass. Not thread-safe: one discovery thread owns it.
class Planner {
 public:
  /// Applies the `discovery` settings and the static meetings (their passwords are the
  /// fallback). Throws std::regex_error for a filter that does not compile (the config loader
  /// has checked them already).
  void configure(const config::DiscoveryConfig& discovery,
                 const std::vector<config::MeetingConfig>& static_meetings);

  /// Decides one pass over `online` (the online-meeting list) and `webinars` (the ongoing
  /// webinar list; ignored unless include_webinars):
  ///  - items flagged `webinar` in the online list and items in state `Destroyed` are ignored;
  ///    a meeting ID listed twice counts once (the first listing wins);
  ///  - include/exclude filters on subject and scheduler → skipped `filtered`;
  ///  - beyond max_meetings → skipped `limit`; meetings already watched keep their place;
  ///  - host password: the list's `chair` entry (or the webinar's `chairPasswd`), else
  ///    confDetail's `chair` entry (asked once per occurrence; asked again next pass only if
  ///    the call failed), else the static meeting's password, else skipped
  ///    `no_host_password`;
  ///  - an occurrence reported ended (noteEnded) is not watched again.
  /// Calls `fetch_detail` at most once per meeting and pass. Never throws except
  /// std::bad_alloc and what `fetch_detail` throws.
  PassDecision decide(const std::vector<ListedMeeting>& online,
                      const std::vector<ListedMeeting>& webinars, const FetchDetail& fetch_detail);

  /// Records occurrences whose sessions ended: they are not watched again while listed.
  void noteEnded(const std::vector<MeetingKey>& ended);

  /// Forgets everything learnt (e.g. when discovery is turned off).
  void reset();

 private:
  struct Known {
    config::Secret password;   // server-given chair password; empty if none yet
    bool detail_none = false;  // confDetail answered without a chair password
  };

  bool passesFilters(const ListedMeeting& meeting, std::string* why) const;

  bool include_webinars_ = true;
  std::size_t max_meetings_ = 0;
  std::optional<std::regex> include_subject_, exclude_subject_, include_scheduler_,
      exclude_scheduler_;
  std::map<std::string, config::Secret> static_passwords_;
  std::map<MeetingKey, Known> known_;
  std::set<MeetingKey> watched_;
  std::set<MeetingKey> ended_;
};

}  // namespace hme::discovery
