#pragma once
/// Realistic push frames for the benchmarks, shaped like the official ParticipantsNotify example
/// (protocol.md §5): every `pinfoMap` value a string, 32-character base-36 pids.

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

/// A full ParticipantsNotify listing participants first … first + count − 1.
inline std::string participantsFrame(const std::string& meeting_id, std::uint64_t first,
                                     std::size_t count) {
  std::string frame = R"({"action":"ParticipantsNotify","confID":")" + meeting_id +
                      R"(","msgID":"23a429e8c4b2a1f0e9d8c7b6a5f4e3d2","msgMode":0,)" +
                      R"("version":1611993595058,"createTime":1611993595058,"data":[)";
  for (std::size_t i = 0; i < count; ++i) {
    frame += (i == 0 ? "" : ",") + participantItem(first + i);
  }
  return frame + "]}";
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
                                     std::size_t count) {
  std::string frame = R"({"action":"NetConditionNotify","confID":")" + meeting_id +
                      R"(","msgID":"9f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99","msgMode":0,)" +
                      R"("version":1611993595058,"createTime":1611993595058,"data":[)";
  for (std::size_t i = 0; i < count; ++i) {
    frame += (i == 0 ? "" : ",") + netConditionItem(first + i);
  }
  return frame + "]}";
}

}  // namespace hme::bench
