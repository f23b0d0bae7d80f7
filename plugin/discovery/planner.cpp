#include "plugin/discovery/planner.h"

#include <algorithm>

namespace hme::discovery {
namespace {

std::optional<std::regex> compile(const std::string& pattern) {
  if (pattern.empty()) {
    return std::nullopt;
  }
  return std::regex(pattern, std::regex::ECMAScript);
}

std::size_t indexOf(SkipReason reason) {
  for (std::size_t i = 0; i < kSkipReasons.size(); ++i) {
    if (kSkipReasons[i] == reason) {
      return i;
    }
  }
  return 0;
}

}  // namespace

const char* toLabel(PasswordSource source) {
  switch (source) {
    case PasswordSource::List:
      return "list";
    case PasswordSource::Detail:
      return "detail";
    case PasswordSource::Webinar:
      return "webinar";
    case PasswordSource::Static:
      return "static";
  }
  return "list";
}

const char* toLabel(SkipReason reason) {
  switch (reason) {
    case SkipReason::NoHostPassword:
      return "no_host_password";
    case SkipReason::Filtered:
      return "filtered";
    case SkipReason::Limit:
      return "limit";
  }
  return "no_host_password";
}

void Planner::configure(const config::DiscoveryConfig& discovery,
                        const std::vector<config::MeetingConfig>& static_meetings) {
  include_subject_ = compile(discovery.include_subject);
  exclude_subject_ = compile(discovery.exclude_subject);
  include_scheduler_ = compile(discovery.include_scheduler);
  exclude_scheduler_ = compile(discovery.exclude_scheduler);
  include_webinars_ = discovery.include_webinars;
  max_meetings_ = discovery.max_meetings;
  static_passwords_.clear();
  for (const auto& meeting : static_meetings) {
    static_passwords_[meeting.id] = meeting.host_password;
  }
}

bool Planner::passesFilters(const ListedMeeting& meeting, std::string* why) const {
  if (include_subject_ && !std::regex_search(meeting.subject, *include_subject_)) {
    *why = "subject does not match include_subject";
    return false;
  }
  if (exclude_subject_ && std::regex_search(meeting.subject, *exclude_subject_)) {
    *why = "subject matches exclude_subject";
    return false;
  }
  if (include_scheduler_ && !std::regex_search(meeting.scheduler, *include_scheduler_)) {
    *why = "scheduler does not match include_scheduler";
    return false;
  }
  if (exclude_scheduler_ && std::regex_search(meeting.scheduler, *exclude_scheduler_)) {
    *why = "scheduler matches exclude_scheduler";
    return false;
  }
  return true;
}

PassDecision Planner::decide(const std::vector<ListedMeeting>& online,
                             const std::vector<ListedMeeting>& webinars,
                             const FetchDetail& fetch_detail) {
  PassDecision decision;
  const auto skip = [&decision](const ListedMeeting& meeting, SkipReason reason,
                                std::string detail) {
    decision.skipped.push_back(
        {meeting.meeting_id, meeting.subject, meeting.scheduler, reason, std::move(detail)});
    ++decision.skipped_by_reason[indexOf(reason)];
  };

  // The candidates in list order (start time ascending), one per meeting ID.
  std::vector<const ListedMeeting*> candidates;
  std::set<std::string> seen_ids;
  std::set<MeetingKey> listed;
  const auto consider = [&](const ListedMeeting& meeting) {
    if (meeting.state == "Destroyed" || !seen_ids.insert(meeting.meeting_id).second) {
      return;
    }
    const MeetingKey key{meeting.meeting_id, meeting.conf_uuid};
    listed.insert(key);
    if (ended_.count(key) != 0) {
      return;
    }
    candidates.push_back(&meeting);
  };
  for (const auto& meeting : online) {
    // Webinars are taken from the webinar list only (spec/discovery.md §4).
    if (!meeting.webinar) {
      consider(meeting);
    }
  }
  if (include_webinars_) {
    for (const auto& meeting : webinars) {
      consider(meeting);
    }
  }
  decision.found = candidates.size();

  // Occurrences no longer listed are forgotten: a new occurrence gets a new confUUID anyway.
  for (auto it = known_.begin(); it != known_.end();) {
    it = listed.count(it->first) != 0 ? std::next(it) : known_.erase(it);
  }
  for (auto it = ended_.begin(); it != ended_.end();) {
    it = listed.count(*it) != 0 ? std::next(it) : ended_.erase(it);
  }

  std::vector<const ListedMeeting*> eligible;
  for (const ListedMeeting* meeting : candidates) {
    std::string why;
    if (passesFilters(*meeting, &why)) {
      eligible.push_back(meeting);
    } else {
      skip(*meeting, SkipReason::Filtered, why);
    }
  }
  // Under max_meetings, the meetings watched already keep their place so the set does not churn.
  std::stable_partition(eligible.begin(), eligible.end(), [this](const ListedMeeting* meeting) {
    return watched_.count({meeting->meeting_id, meeting->conf_uuid}) != 0;
  });

  std::set<MeetingKey> watched;
  for (const ListedMeeting* meeting : eligible) {
    const MeetingKey key{meeting->meeting_id, meeting->conf_uuid};
    if (max_meetings_ != 0 && decision.watch.size() >= max_meetings_) {
      skip(*meeting, SkipReason::Limit,
           "max_meetings (" + std::to_string(max_meetings_) + ") reached");
      continue;
    }
    Known& known = known_[key];
    WatchedMeeting watch{
        meeting->meeting_id, meeting->conf_uuid, meeting->subject, meeting->webinar, {},
        PasswordSource::List};
    std::string detail_error;
    if (!known.password.empty()) {
      watch.host_password = known.password;
      watch.source = meeting->webinar ? PasswordSource::Webinar : PasswordSource::List;
    } else if (!meeting->chair_password.empty()) {
      known.password = meeting->chair_password;
      watch.host_password = known.password;
      watch.source = meeting->webinar ? PasswordSource::Webinar : PasswordSource::List;
    } else if (!known.detail_none) {
      ++decision.detail_calls;
      const DetailAnswer answer = fetch_detail(meeting->meeting_id);
      if (!answer.ok) {
        ++decision.detail_failures;
        detail_error = answer.error;
      } else if (answer.chair_password.empty()) {
        known.detail_none = true;
      } else {
        known.password = answer.chair_password;
        watch.host_password = known.password;
        watch.source = PasswordSource::Detail;
      }
    }
    if (watch.host_password.empty()) {
      const auto fallback = static_passwords_.find(meeting->meeting_id);
      if (fallback != static_passwords_.end()) {
        watch.host_password = fallback->second;
        watch.source = PasswordSource::Static;
      }
    }
    if (watch.host_password.empty()) {
      skip(*meeting, SkipReason::NoHostPassword,
           detail_error.empty()
               ? "no chair password in the list or confDetail; configure the meeting with a "
                 "host password to watch it"
               : "confDetail failed (" + detail_error + "); retrying next pass");
      continue;
    }
    watched.insert(key);
    decision.watch.push_back(std::move(watch));
  }
  watched_ = std::move(watched);
  return decision;
}

void Planner::noteEnded(const std::vector<MeetingKey>& ended) {
  for (const auto& key : ended) {
    ended_.insert(key);
    watched_.erase(key);
  }
}

void Planner::reset() {
  known_.clear();
  watched_.clear();
  ended_.clear();
}

}  // namespace hme::discovery
