#include "metrics/text_renderer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace hme::metrics {

void appendSampleValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buffer[64];
  // Counts, flags and timestamps are integral: printing them as integers is what %.16g does
  // below 1e16 (16 significant digits, no exponent), minus the cost of a floating-point format.
  // -0 keeps its sign through the general route.
  if (std::trunc(value) == value && std::fabs(value) < 1e16 &&
      !(value == 0 && std::signbit(value))) {
    const auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
    out.append(buffer, end);
    return;
  }
  // prometheus-cpp 1.0 formats with snprintf("%.*g", max_digits10 - 1); to_chars with the general
  // format and a precision is specified as that printf conversion.
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16);
  out.append(buffer, end);
}

namespace {

// True when one of the 8 bytes of `word` is `\`, `"` or a newline (the has-zero-byte trick on
// word XOR the byte repeated). Label values are mostly ids and short words without any of them.
bool hasSpecialByte(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto zeroByte = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHighs) != 0; };
  const auto repeated = [](char c) { return kOnes * static_cast<std::uint64_t>(c); };
  return zeroByte(word ^ repeated('\\')) || zeroByte(word ^ repeated('"')) ||
         zeroByte(word ^ repeated('\n'));
}

}  // namespace

void appendEscapedLabelValue(std::string& out, std::string_view value) {
  std::size_t i = 0;
  for (; i + 8 <= value.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, value.data() + i, sizeof word);
    if (hasSpecialByte(word)) break;
  }
  std::size_t plain = 0;
  for (; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.data() + plain, i - plain);
    out += c == '\n' ? "\\n" : (c == '\\' ? "\\\\" : "\\\"");
    plain = i + 1;
  }
  out.append(value.data() + plain, value.size() - plain);
}

TextExposition::TextExposition(std::size_t families) : families_(families) {}

void TextExposition::declare(std::size_t index, std::string_view name, std::string_view help,
                             prometheus::MetricType type) {
  Family& family = families_.at(index);
  family.name = name;
  family.help = help;
  family.type = type;
}

void TextExposition::reserve(std::size_t index, std::size_t bytes) {
  families_.at(index).lines.reserve(bytes);
}

template <typename Labels>
void TextExposition::writeLabels(std::string& out, const Labels& labels, bool& first) {
  for (const LabelRef& label : labels) {
    out += first ? '{' : ',';
    first = false;
    out += label.name;
    out += "=\"";
    appendEscapedLabelValue(out, label.value);
    out += '"';
  }
}

void TextExposition::add(std::size_t index, std::initializer_list<LabelRef> labels, double value) {
  Family& family = families_[index];
  std::string& out = family.lines;
  out += family.name;
  bool first = true;
  writeLabels(out, labels, first);
  out += first ? " " : "} ";
  appendSampleValue(out, value);
  out += '\n';
  ++samples_;
}

void TextExposition::add(std::size_t index, const std::vector<LabelRef>& labels,
                         std::initializer_list<LabelRef> extra, double value) {
  Family& family = families_[index];
  std::string& out = family.lines;
  out += family.name;
  bool first = true;
  writeLabels(out, labels, first);
  writeLabels(out, extra, first);
  out += first ? " " : "} ";
  appendSampleValue(out, value);
  out += '\n';
  ++samples_;
}

std::string TextExposition::finish() && {
  std::size_t size = 0;
  for (const Family& family : families_) size += family.lines.size() + 2 * family.name.size() + 64;
  std::string out;
  out.reserve(size);
  for (const Family& family : families_) {
    if (family.lines.empty()) continue;
    if (!family.help.empty()) {
      out += "# HELP ";
      out += family.name;
      out += ' ';
      out += family.help;
      out += '\n';
    }
    out += "# TYPE ";
    out += family.name;
    switch (family.type) {
      case prometheus::MetricType::Counter:
        out += " counter\n";
        break;
      case prometheus::MetricType::Gauge:
        out += " gauge\n";
        break;
      case prometheus::MetricType::Summary:
        out += " summary\n";
        break;
      case prometheus::MetricType::Histogram:
        out += " histogram\n";
        break;
      default:
        out += " untyped\n";
        break;
    }
    out += family.lines;
  }
  return out;
}

}  // namespace hme::metrics
