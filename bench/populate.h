#pragma once
/// Fills a MeetingStore with meetings whose participants all report network figures, through
/// the same events a session would apply (no JSON involved).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "bench/frames.h"
#include "metrics/events.h"
#include "metrics/store.h"

namespace hme::bench {

/// The meeting_id of meeting number `n` (9 digits, like the service's).
inline std::string meetingIdFor(std::size_t n) { return std::to_string(900000000 + n); }

/// Adds `meetings` subscribed meetings with `participants` each to `store`; with `net`, every
/// participant also gets a full set of network figures.
inline void populate(metrics::MeetingStore& store, std::size_t meetings, std::size_t participants,
                     bool net) {
  namespace m = hme::metrics;
  const auto at = std::chrono::system_clock::now();
  for (std::size_t i = 0; i < meetings; ++i) {
    const std::string meeting_id = meetingIdFor(i);
    store.addMeeting(meeting_id, at);
    store.apply(meeting_id,
                m::Event{at, m::SessionStateChanged{m::SessionState::Subscribed, true}});
    store.apply(meeting_id, m::Event{at, m::Subscribed{}});
    m::ConfBasicInfo info;
    info.display_id = meeting_id;
    info.title = "Benchmark meeting " + std::to_string(i);
    info.conf_mode = "COMMON";
    info.media = 2;
    info.start_time_ms = 1702458900000;
    store.apply(meeting_id, m::Event{at, info});
    m::ConfDynamicInfo flags;
    flags.state = "Created";
    flags.lock = 0;
    flags.mute = 1;
    flags.rec_state = 0;
    store.apply(meeting_id, m::Event{at, flags});

    m::ParticipantsUpdate people;
    people.full = true;
    m::NetConditionUpdate figures;
    figures.full = true;
    for (std::size_t p = 0; p < participants; ++p) {
      const std::uint64_t n = i * participants + p;
      m::ParticipantChange change;
      change.pid = pidFor(n);
      change.fields.name = "Participant " + std::to_string(n);
      change.fields.role = p == 0 ? 1 : 0;
      change.fields.state = 0;
      change.fields.muted = p % 3 == 0;
      change.fields.video = p % 2 == 0;
      change.fields.client = static_cast<m::ClientType>(p % 4);
      people.items.push_back(std::move(change));
      if (net) {
        m::NetConditionChange item;
        item.pid = pidFor(n);
        auto& f = item.figures;
        f.net_info = p % 10 == 0 ? "bad" : "good";
        f.delay_ms = static_cast<double>(20 + n % 200);
        f.jitter_up_ms = 3;
        f.jitter_down_ms = 5;
        f.audio_loss_up = 10;
        f.audio_loss_down = 0;
        f.video_loss_up = 25;
        f.video_loss_down = 130;
        f.screen_loss_up = 0;
        f.screen_loss_down = 0;
        f.audio_flux_up = 3;
        f.audio_flux_down = 2;
        f.video_flux_up = 12000;
        f.video_flux_down = 9800;
        f.screen_flux_up = 0;
        f.screen_flux_down = 0;
        figures.items.push_back(std::move(item));
      }
    }
    store.apply(meeting_id, m::Event{at, std::move(people)});
    if (net) store.apply(meeting_id, m::Event{at, std::move(figures)});
  }
}

}  // namespace hme::bench
