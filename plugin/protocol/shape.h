#pragma once
/// The field shape of JSON frames: key names and JSON types only, never values. Used by the
/// `--probe` report so an operator can show how the real service's pushes are built without
/// disclosing names, numbers, passwords or tokens. Pure: no sockets, no clocks.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hme::protocol {

/// The union of the shapes of one or more JSON values. Value type; not synchronized.
///
/// An object lists its keys with their shapes; an array is summarised by the union of its
/// items' shapes. Keys that do not look like field names — camelCase or upper-case ASCII
/// identifiers of at most 40 characters with at most 4 digits (`pinfoMap`, `CLIENT_LOGIN_TYPE`,
/// `returnDesc`) — are taken for data used as keys (participant IDs, phone numbers, names) and
/// are all merged into one `<key>` entry, so they never appear in the text.
struct Shape {
  /// Bits of the JSON types seen (see kNull … kArray).
  unsigned types = 0;
  /// How many objects were merged into this shape (to mark keys missing from some of them).
  std::size_t objects = 0;
  /// Object members by key (sorted), each with the number of merged objects that had it.
  std::vector<std::pair<std::string, std::pair<std::size_t, Shape>>> members;
  /// The union of all array items' shapes: empty, or exactly one element.
  std::vector<Shape> items;
  /// Some nesting or keys were left out (too deep or too many keys).
  bool truncated = false;

  static constexpr unsigned kNull = 1U << 0U;    ///< JSON null
  static constexpr unsigned kBool = 1U << 1U;    ///< true / false
  static constexpr unsigned kNumber = 1U << 2U;  ///< any JSON number
  static constexpr unsigned kString = 1U << 3U;  ///< a string
  static constexpr unsigned kObject = 1U << 4U;  ///< an object
  static constexpr unsigned kArray = 1U << 5U;   ///< an array
};

/// The stand-in for keys that are data rather than field names.
inline constexpr std::string_view kDataKey = "<key>";

/// True if `key` (without surrounding spaces) reads as a field name rather than as data (see
/// Shape). Never throws.
bool isFieldNameKey(std::string_view key) noexcept;

/// The shape of the JSON text `json`, or nullopt if it is not valid JSON. Nesting below 16
/// levels and keys beyond the 100th distinct key of one object are summarised as `...`.
/// Thread-safe; never throws except std::bad_alloc.
std::optional<Shape> shapeOf(std::string_view json);

/// The top-level `action` string of the JSON object `json` (spaces around it removed) when it
/// reads as a type name (an identifier like a field name, capitalised words allowed:
/// `ParticipantsNotify`), so an action the decoder does not know can be named without printing
/// arbitrary server text; nullopt otherwise. Thread-safe; never throws except
/// std::bad_alloc.
std::optional<std::string> actionName(std::string_view json);

/// Merges `from` into `into` (union of types, keys and item shapes).
void merge(Shape& into, const Shape& from);

/// The shape as text: `{action:string, data:[{mode:number, pid:string}], ...}` with keys in
/// sorted order, types joined by `|` (`number|string`), keys that some merged objects lacked
/// marked `?` (`MUTE?:string`), keys with surrounding spaces quoted (`"returnDesc ":string`), an
/// empty array as `[]`. Contains no JSON values.
std::string toText(const Shape& shape);

}  // namespace hme::protocol
