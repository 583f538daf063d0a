// An ordered, editable JSON tree for FHIR resources.
//
// Why our own tree: FHIR needs (1) key order kept so that a resource read back is the resource
// stored, (2) decimals kept exactly as sent (`1.50` stays `1.50`), and (3) cheap edits of `id` and
// `meta`. Parsing is done by simdjson (fast, validates UTF-8), writing by RapidJSON's Writer;
// neither header leaks out of json.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace carechart::json {

enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

class Value {
 public:
  using Member = std::pair<std::string, Value>;

  Value() = default;
  static Value Null() { return Value(); }
  static Value Bool(bool b) {
    Value v(Kind::kBool);
    v.bool_ = b;
    return v;
  }
  // `raw` is the number's JSON text exactly as it must be written (e.g. "1.50").
  static Value Number(std::string raw) {
    Value v(Kind::kNumber);
    v.text_ = std::move(raw);
    return v;
  }
  static Value Int(int64_t i) { return Number(std::to_string(i)); }
  static Value String(std::string s) {
    Value v(Kind::kString);
    v.text_ = std::move(s);
    return v;
  }
  static Value Array() { return Value(Kind::kArray); }
  static Value Object() { return Value(Kind::kObject); }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return bool_; }
  // String value (unescaped) for strings, raw JSON text for numbers, empty otherwise.
  const std::string& text() const { return text_; }
  std::string& mutable_text() { return text_; }

  // Arrays.
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  Value& push_back(Value v) {
    items_.push_back(std::move(v));
    return items_.back();
  }

  // Objects: members in document order. Lookups are linear: FHIR objects are small.
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // The string at `key`, or empty when absent or not a string.
  std::string_view string_at(std::string_view key) const;
  // Sets `key` (replacing in place when present, appending otherwise); returns the stored value.
  Value& set(std::string_view key, Value v);
  // Sets `key` but, when absent, inserts it at `position` (used to keep `id`/`meta` near the top).
  Value& set_at(std::string_view key, Value v, size_t position);
  bool erase(std::string_view key);

  bool operator==(const Value& other) const;

 private:
  explicit Value(Kind k) : kind_(k) {}

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseOptions {
  // Deeper documents are rejected (a nesting bomb must not exhaust the stack).
  int max_depth = 64;
  // Reject an object holding the same key twice (FHIR JSON forbids it).
  bool reject_duplicate_keys = true;
};

// Parses UTF-8 JSON text. Errors are kInvalid with a message naming the problem and, in
// location(), the JSON path where parsing stopped.
StatusOr<Value> Parse(std::string_view text, const ParseOptions& options = {});

struct WriteOptions {
  bool pretty = false;
};
std::string Write(const Value& value, const WriteOptions& options = {});

// One step of a walk through a JSON tree: a member's name, or (key == nullptr) an array item.
// Walks keep a stack of these and write out a path only for an error message, so that input
// without errors pays a push and a pop per value instead of string edits (D100).
struct PathStep {
  const std::string* key;
  size_t index;
};

// "root.a.b[2]" ("a.b[2]" for an empty root): the path an error names in its location.
std::string FormatPath(std::string_view root, const std::vector<PathStep>& steps);

}  // namespace carechart::json
