// Signature vectors of enterprise mode: the App ID login signature and the webhook receiver's
// verdicts. Expected digests were computed independently with `openssl dgst -sha256 -hmac`.

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <string>

#include "plugin/discovery/management_api.h"
#include "plugin/discovery/signature.h"
#include "plugin/discovery/webhook.h"

namespace d = hme::discovery;
namespace cfg = hme::config;

namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000;
const std::string kEventInfo =
    "{\"event\": \"meeting.started\", \"timestamp\": 1700000000000, \"payload\": "
    "{\"meetingInfo\": {\"meetingID\": \"987446316\", \"meetingUUID\": \"u-1\", "
    "\"meetingCycleSubID\": \"\"}}}";
// openssl dgst -sha256 -hmac subscriber-key over "hme-sub" + "1700000000000" + "60426560" +
// kEventInfo.
const std::string kEventSignature =
    "820de89a6b7f35498ec62251b4f69058865c46db22eda9950b2d27ec97c63b88";

cfg::WebhookConfig webhookConfig(const std::string& key = "subscriber-key") {
  return cfg::WebhookConfig{"/hook", "hme-sub", cfg::Secret(key)};
}

std::string body(const std::string& signature, const std::string& timestamp = "1700000000000",
                 const std::string& event_info = kEventInfo,
                 const std::string& app_id = "hme-sub") {
  return "{\"appID\":\"" + app_id + "\",\"timestamp\":" + timestamp +
         ",\"nonce\":\"60426560\",\"signature\":\"" + signature + "\",\"eventInfo\":" + event_info +
         "}";
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery_signature)

BOOST_AUTO_TEST_CASE(hmac_matches_rfc_4231_case_2) {
  BOOST_TEST(d::hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(app_auth_signature_keeps_both_colons_for_the_default_admin) {
  // openssl: echo -n "hme-app::1700000600:0123…cdef" | openssl dgst -sha256 -hmac app-key-secret
  BOOST_TEST(d::appAuthSignature("hme-app", "", 1700000600, "0123456789abcdef0123456789abcdef",
                                 "app-key-secret") ==
             "4d37dfb6c4d376c84599e3622826c7a98beb24f0e0cd777bbac5b58fd5c3d10a");
  BOOST_TEST(d::appAuthAuthorization("hme-app", 1700000600, "0123456789abcdef0123456789abcdef",
                                     cfg::Secret("app-key-secret")) ==
             "HMAC-SHA256 signature="
             "4d37dfb6c4d376c84599e3622826c7a98beb24f0e0cd777bbac5b58fd5c3d10a");
  BOOST_TEST(d::appAuthSignature("hme-app", "user1", 1700000600, "n", "k") !=
             d::appAuthSignature("hme-app", "", 1700000600, "n", "k"));
}

BOOST_AUTO_TEST_CASE(login_body_names_the_admin_with_an_empty_user_id) {
  BOOST_TEST(d::appAuthBody("hme-app", 1700000600, "abc") ==
             "{\"appId\":\"hme-app\",\"clientType\":72,\"expireTime\":1700000600,\"nonce\":"
             "\"abc\",\"userId\":\"\"}");
  const std::string nonce = d::newNonce();
  BOOST_TEST(nonce.size() == 32u);
  BOOST_TEST(nonce != d::newNonce());
}

BOOST_AUTO_TEST_CASE(hex_comparison_ignores_case_and_refuses_non_hex) {
  BOOST_TEST(d::hexEqualsIgnoreCase("00afBC", "00AFbc"));
  BOOST_TEST(!d::hexEqualsIgnoreCase("00afbc", "00afbd"));
  BOOST_TEST(!d::hexEqualsIgnoreCase("00afbc", "00afb"));
  // 0x11 | 0x20 == '1': only a hex check keeps control characters from matching digits.
  BOOST_TEST(!d::hexEqualsIgnoreCase(std::string("\x11"), "1"));
  BOOST_TEST(!d::hexEqualsIgnoreCase("g0", "G0"));
  BOOST_TEST(d::hexEqualsIgnoreCase("", ""));
}

BOOST_AUTO_TEST_CASE(good_signature_is_accepted_and_triggers_a_pass) {
  BOOST_TEST(d::webhookSignature("subscriber-key", "hme-sub", "1700000000000", "60426560",
                                 kEventInfo) == kEventSignature);
  const auto verdict = d::evaluateWebhook(body(kEventSignature), webhookConfig(), kNowMs);
  BOOST_TEST(verdict.status == 200);
  BOOST_TEST(verdict.result == "ok");
  BOOST_TEST(verdict.event == "meeting.started");
  BOOST_TEST(verdict.meeting_id == "987446316");
  BOOST_TEST(verdict.trigger_pass);
  BOOST_TEST(verdict.body == "{\"result\":\"ok\"}");
}

BOOST_AUTO_TEST_CASE(upper_and_lower_case_hex_are_both_accepted) {
  BOOST_TEST(d::evaluateWebhook(body(upper(kEventSignature)), webhookConfig(), kNowMs).status ==
             200);
  std::string mixed = kEventSignature;
  for (std::size_t i = 0; i < mixed.size(); i += 2) {
    mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
  }
  BOOST_TEST(d::evaluateWebhook(body(mixed), webhookConfig(), kNowMs).status == 200);
}

BOOST_AUTO_TEST_CASE(wrong_key_or_app_id_is_refused_with_401) {
  const auto wrong_key =
      d::evaluateWebhook(body(kEventSignature), webhookConfig("another-key"), kNowMs);
  BOOST_TEST(wrong_key.status == 401);
  BOOST_TEST(wrong_key.result == "bad_signature");
  BOOST_TEST(!wrong_key.trigger_pass);
  BOOST_TEST(wrong_key.event == "meeting.started");  // the label is read, nothing is done

  // The same signature for another appID: both the app check and the signature fail.
  const auto other_app = d::evaluateWebhook(
      body(kEventSignature, "1700000000000", kEventInfo, "intruder"), webhookConfig(), kNowMs);
  BOOST_TEST(other_app.status == 401);
  BOOST_TEST(other_app.result == "bad_signature");
  // A signature made for the intruder's appID with the right key still names the wrong app.
  const std::string intruder_signature =
      d::webhookSignature("subscriber-key", "intruder", "1700000000000", "60426560", kEventInfo);
  BOOST_TEST(d::evaluateWebhook(body(intruder_signature, "1700000000000", kEventInfo, "intruder"),
                                webhookConfig(), kNowMs)
                 .status == 401);
}

BOOST_AUTO_TEST_CASE(a_reserialized_event_does_not_verify) {
  // The signature covers the raw text: the same event without the spaces is another message.
  const std::string compact =
      "{\"event\":\"meeting.started\",\"timestamp\":1700000000000,\"payload\":{\"meetingInfo\":{"
      "\"meetingID\":\"987446316\",\"meetingUUID\":\"u-1\",\"meetingCycleSubID\":\"\"}}}";
  BOOST_TEST(
      d::evaluateWebhook(body(kEventSignature, "1700000000000", compact), webhookConfig(), kNowMs)
          .status == 401);
}

BOOST_AUTO_TEST_CASE(stale_and_future_timestamps_are_refused_with_401) {
  const auto stale =
      d::evaluateWebhook(body(kEventSignature), webhookConfig(), kNowMs + 5 * 60 * 1000 + 1);
  BOOST_TEST(stale.status == 401);
  BOOST_TEST(stale.result == "stale");
  BOOST_TEST(!stale.trigger_pass);
  BOOST_TEST(
      d::evaluateWebhook(body(kEventSignature), webhookConfig(), kNowMs + 5 * 60 * 1000).status ==
      200);
  BOOST_TEST(d::evaluateWebhook(body(kEventSignature), webhookConfig(), kNowMs - 5 * 60 * 1000 - 1)
                 .result == "stale");
  // Seconds instead of milliseconds are understood, not taken for 1970.
  const std::string seconds_signature =
      d::webhookSignature("subscriber-key", "hme-sub", "1700000000", "60426560", kEventInfo);
  BOOST_TEST(
      d::evaluateWebhook(body(seconds_signature, "1700000000"), webhookConfig(), kNowMs).status ==
      200);
}

BOOST_AUTO_TEST_CASE(verify_echoes_the_top_level_nonce) {
  const std::string info = "{\"event\":\"meeting.verify\",\"timestamp\":1700000000000}";
  const std::string signature =
      d::webhookSignature("subscriber-key", "hme-sub", "1700000000000", "60426560", info);
  const auto verdict =
      d::evaluateWebhook(body(signature, "1700000000000", info), webhookConfig(), kNowMs);
  BOOST_TEST(verdict.status == 200);
  BOOST_TEST(verdict.event == "meeting.verify");
  BOOST_TEST(verdict.body == "{\"event\":\"meeting.verify\",\"nonce\":\"60426560\"}");
  BOOST_TEST(!verdict.trigger_pass);
}

BOOST_AUTO_TEST_CASE(event_info_as_a_string_and_timestamp_as_a_string_are_understood) {
  const std::string info = "{\"event\":\"meeting.end\",\"payload\":{}}";
  const std::string signature =
      d::webhookSignature("subscriber-key", "hme-sub", "1700000000000", "60426560", info);
  const std::string text =
      "{\"appID\":\"hme-sub\",\"timestamp\":\"1700000000000\",\"nonce\":\"60426560\","
      "\"signature\":\"" +
      signature + "\",\"eventInfo\":\"{\\\"event\\\":\\\"meeting.end\\\",\\\"payload\\\":{}}\"}";
  const auto verdict = d::evaluateWebhook(text, webhookConfig(), kNowMs);
  BOOST_TEST(verdict.status == 200);
  BOOST_TEST(verdict.event == "meeting.end");
  BOOST_TEST(verdict.trigger_pass);
}

BOOST_AUTO_TEST_CASE(only_start_and_end_events_trigger_a_pass) {
  for (const auto& [event, triggers, label] :
       std::initializer_list<std::tuple<std::string, bool, std::string>>{
           {"meeting.conclude", true, "meeting.conclude"},
           {"meeting.join", false, "meeting.join"},
           {"record.finish", false, "record.finish"},
           {"meeting.something", false, "other"}}) {
    const std::string info = "{\"event\":\"" + event + "\"}";
    const std::string signature =
        d::webhookSignature("subscriber-key", "hme-sub", "1700000000000", "60426560", info);
    const auto verdict =
        d::evaluateWebhook(body(signature, "1700000000000", info), webhookConfig(), kNowMs);
    BOOST_TEST_CONTEXT(event) {
      BOOST_TEST(verdict.status == 200);
      BOOST_TEST(verdict.trigger_pass == triggers);
      BOOST_TEST(verdict.event == label);
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_400_and_never_crash) {
  const std::string info = "{\"event\":\"meeting.started\"}";
  const std::string good_signature =
      d::webhookSignature("subscriber-key", "hme-sub", "1700000000000", "60426560", info);
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "[]",
      "{}",
      "{\"appID\":\"hme-sub\"}",
      // a repeated key could be read one way by the scanner and another by the parser
      "{\"appID\":\"hme-sub\",\"timestamp\":1700000000000,\"nonce\":\"60426560\",\"signature\":"
      "\"" +
          good_signature + "\",\"eventInfo\":" + info + ",\"eventInfo\":{\"event\":\"x\"}}",
      "{\"appID\":\"hme-sub\",\"timestamp\":1700000000000,\"nonce\":\"60426560\",\"signature\":"
      "\"" +
          good_signature + "\",\"\\u0065ventInfo\":" + info + "}",
      "{\"appID\":\"hme-sub\",\"timestamp\":\"soon\",\"nonce\":\"60426560\",\"signature\":\"" +
          good_signature + "\",\"eventInfo\":" + info + "}",
      "{\"appID\":\"hme-sub\",\"timestamp\":1700000000000,\"nonce\":\"60426560\",\"signature\":"
      "\"" +
          good_signature + "\",\"eventInfo\":{\"payload\":1}}",
      "{\"appID\":\"hme-sub\",\"timestamp\":1700000000000,\"nonce\":60426560,\"signature\":\"" +
          good_signature + "\",\"eventInfo\":" + info + "}",
      "{\"appID\":\"hme-sub\",\"timestamp\":1700000000000,\"nonce\":\"60426560\",\"signature\":"
      "\"" +
          good_signature + "\",\"eventInfo\":" + info + "} trailing",
      std::string(70 * 1024, '{'),
      std::string(200, '[') + std::string(200, ']'),
  };
  for (const auto& text : bodies) {
    BOOST_TEST_CONTEXT(text.substr(0, 120)) {
      const auto verdict = d::evaluateWebhook(text, webhookConfig(), kNowMs);
      BOOST_TEST(verdict.status == 400);
      BOOST_TEST(verdict.result == "invalid");
      BOOST_TEST(!verdict.trigger_pass);
    }
  }
  // The well-formed version of the same request passes, so the rows above fail for their flaw.
  BOOST_TEST(
      d::evaluateWebhook(body(good_signature, "1700000000000", info), webhookConfig(), kNowMs)
          .status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
