#pragma once
/// Realistic push frames for the benchmarks, shaped like the official ParticipantsNotify example
/// (protocol.md §5): every `pinfoMap` value a string, 32-character base-36 pids, members in the
/// official order unless asked otherwise.

#include <cstddef>
#include <cstdint>
#include <string>

namespace hme::bench {

/// A 32-character base-36 pid, unique for each `n`.
inline std::string pidFor(std::uint64_t n) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string pid(32, '0');
  std::uint64_t x = n * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
  for (std::size_t i = 0; i < pid.size(); ++i) {
    if (i % 12 == 0) x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ULL, x ^= n + i;
    pid[i] = kDigits[x % 36];
    x /= 36;
  }
  return pid;
}

/// One ParticipantsNotify item (≈ 340 bytes) for participant number `n`.
inline std::string participantItem(std::uint64_t n) {
  const char* clients[] = {"Desktop", "Mobile", "Pad", "OtherType"};
  const std::string number = std::to_string(n);
  return R"({"pid":")" + pidFor(n) + R"(","mode":0,"pinfoMap":{"NAME":"Participant )" + number +
         R"(","TEL":"+8657100)" + number + R"(","ROLE":")" + (n == 0 ? "1" : "0") +
         R"(","STATE":"0","MUTE":")" + (n % 3 == 0 ? "1" : "0") + R"(","VIDEO":")" +
         (n % 2 == 0 ? "1" : "0") + R"(","CAMERASTATE":"1","HAND":"0","SHARE":"0",)" +
         R"("BROADCAST":"0","ROLLCALL":"0","IS_COHOST":"0","ADDTIME":"1611988486336",)" +
         R"("ANONYMOUS":"0","CLIENT_LOGIN_TYPE":")" + clients[n % 4] +
         R"(","ORG_ID":"ff8080817"}})";
}

/// The order of a push's members. protocol.md §4: every official example puts `data` first and
/// `action` last; a decoder must take both orders alike.
enum class MemberOrder {
  Official,     ///< data, confID, msgID, msgMode, version, createTime, action
  ActionFirst,  ///< action, confID, msgID, msgMode, version, createTime, data
};

/// A full (msgMode 0) push of `action` whose `data` is the JSON array `data`.
inline std::string fullPush(const std::string& action, const std::string& meeting_id,
                            const std::string& data, MemberOrder order) {
  const std::string envelope = R"("confID":")" + meeting_id +
                               R"(","msgID":"23a429e8c4b2a1f0e9d8c7b6a5f4e3d2","msgMode":0,)" +
                               R"("version":1611993595058,"createTime":1611993595058)";
  if (order == MemberOrder::Official) {
    return R"({"data":)" + data + "," + envelope + R"(,"action":")" + action + R"("})";
  }
  return R"({"action":")" + action + R"(",)" + envelope + R"(,"data":)" + data + "}";
}

/// A full ParticipantsNotify listing participants first … first + count − 1.
inline std::string participantsFrame(const std::string& meeting_id, std::uint64_t first,
                                     std::size_t count, MemberOrder order = MemberOrder::Official) {
  std::string data = "[";
  for (std::size_t i = 0; i < count; ++i) {
    data += (i == 0 ? "" : ",") + participantItem(first + i);
  }
  return fullPush("ParticipantsNotify", meeting_id, data + "]", order);
}

/// The largest full ParticipantsNotify (participants 0, 1, …) of at most `max_bytes` bytes;
/// `count` receives the number of participants it lists.
inline std::string participantsFrameUpTo(const std::string& meeting_id, std::size_t max_bytes,
                                         std::size_t& count,
                                         MemberOrder order = MemberOrder::Official) {
  const std::size_t overhead = fullPush("ParticipantsNotify", meeting_id, "[]", order).size();
  std::string data = "[";
  count = 0;
  for (;;) {
    const std::string item = participantItem(count);
    if (overhead + data.size() + item.size() + 1 > max_bytes) break;
    data += (count == 0 ? "" : ",") + item;
    ++count;
  }
  return fullPush("ParticipantsNotify", meeting_id, data + "]", order);
}

/// One NetConditionNotify item (all figures, strings except bandwidth) for participant `n`.
inline std::string netConditionItem(std::uint64_t n) {
  const std::string d = std::to_string(20 + n % 200);
  return R"({"participantID":")" + pidFor(n) + R"(","mode":0,"netInfo":"good","delay":")" + d +
         R"(","jitter":"3","outJitter":"5","lostPacketRate":"10","audioOutLossPacketRate":"0",)" +
         R"("videoInLossPacketRate":"25","videoOutLossPacketRate":"130",)" +
         R"("assistVideoInLossPacketRate":"0","assistVideoOutLossPacketRate":"0",)" +
         R"("fluxIn":"2","fluxOut":"3","videoFluxIn":"9800","videoFluxOut":"12000",)" +
         R"("assistVideoFluxIn":"0","assistVideoFluxOut":"0","bandwidth":61440,)" +
         R"("audioCodecType":"AACLD","videoCodecType":"H264HP"})";
}

/// A full NetConditionNotify for participants first … first + count − 1.
inline std::string netConditionFrame(const std::string& meeting_id, std::uint64_t first,
                                     std::size_t count, MemberOrder order = MemberOrder::Official) {
  std::string data = "[";
  for (std::size_t i = 0; i < count; ++i) {
    data += (i == 0 ? "" : ",") + netConditionItem(first + i);
  }
  return fullPush("NetConditionNotify", meeting_id, data + "]", order);
}

}  // namespace hme::bench
