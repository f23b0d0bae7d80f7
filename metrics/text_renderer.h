#pragma once
/// TextExposition: writes the Prometheus text format 0.0.4 directly, sample by sample, with the
/// same bytes as prometheus-cpp 1.0's TextSerializer over the equivalent MetricFamily list — but
/// without building that list (no per-sample label vectors or strings). The Collector uses it for
/// the /metrics body; at 100k series it is several times cheaper than Collect() + TextSerializer.

#include <prometheus/metric_type.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace hme::metrics {

/// One label of a sample. The value is escaped when written; the name is written as is (label
/// names are fixed by the catalogue).
struct LabelRef {
  std::string_view name;
  std::string_view value;
};

/// Appends `value` as TextSerializer does: `Nan`, `+Inf`, `-Inf`, else printf's `%.16g`
/// (integral values below 1e16 take a faster route with the same result). Never throws except
/// std::bad_alloc.
void appendSampleValue(std::string& out, double value);

/// Appends a label value escaped for the text format (`\` → `\\`, `"` → `\"`, newline → `\n`).
/// Never throws except std::bad_alloc.
void appendEscapedLabelValue(std::string& out, std::string_view value);

/// An exposition being written. Families are declared up front in exposition order; samples may
/// then be added to any family in any order, and each family's samples keep their order.
/// Families without samples are left out, like TextSerializer does for an empty family list of
/// the Collector. Not thread-safe: one writer per exposition.
class TextExposition {
 public:
  /// Room for `families` families (indices 0 … families − 1).
  explicit TextExposition(std::size_t families);

  /// Names family `index`. `name` and `help` must outlive the exposition; `help` must not
  /// contain a backslash or newline (TextSerializer 1.0 writes HELP unescaped, and so does this).
  void declare(std::size_t index, std::string_view name, std::string_view help,
               prometheus::MetricType type);

  /// Appends one sample `name{labels…} value` to family `index` (Gauge, Counter or Untyped).
  void add(std::size_t index, std::initializer_list<LabelRef> labels, double value);

  /// Appends one sample whose labels are `labels` followed by `extra`.
  void add(std::size_t index, const std::vector<LabelRef>& labels,
           std::initializer_list<LabelRef> extra, double value);

  /// Reserves room for `bytes` of sample lines in family `index` (e.g. the size of the previous
  /// exposition's family), so that growing it does not copy.
  void reserve(std::size_t index, std::size_t bytes);

  /// Bytes of sample lines written to family `index` so far.
  std::size_t size(std::size_t index) const { return families_[index].lines.size(); }

  /// Number of samples added so far.
  std::size_t samples() const { return samples_; }

  /// The whole exposition: each family with samples as `# HELP`, `# TYPE` and its sample lines.
  std::string finish() &&;

 private:
  struct Family {
    std::string_view name;
    std::string_view help;
    prometheus::MetricType type = prometheus::MetricType::Untyped;
    std::string lines;
  };
  template <typename Labels>
  void writeLabels(std::string& out, const Labels& labels, bool& first);

  std::vector<Family> families_;
  std::size_t samples_ = 0;
};

}  // namespace hme::metrics
