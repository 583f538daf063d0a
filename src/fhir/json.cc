#include "fhir/json.h"

#include <simdjson.h>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "fhir/json_members.h"

namespace carechart::json {

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  for (auto& [k, v] : members_) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

std::string_view Value::string_at(std::string_view key) const {
  const Value* v = find(key);
  return v && v->is_string() ? std::string_view(v->text()) : std::string_view();
}

Value& Value::set(std::string_view key, Value v) {
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members_.emplace_back(std::string(key), std::move(v));
  return members_.back().second;
}

Value& Value::set_at(std::string_view key, Value v, size_t position) {
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  position = std::min(position, members_.size());
  auto it = members_.emplace(members_.begin() + static_cast<std::ptrdiff_t>(position),
                             std::string(key), std::move(v));
  return it->second;
}

bool Value::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

bool Value::operator==(const Value& o) const {
  return kind_ == o.kind_ && bool_ == o.bool_ && text_ == o.text_ && items_ == o.items_ &&
         members_ == o.members_;
}

namespace {

namespace od = simdjson::ondemand;

// JSON number grammar (RFC 8259 §6); raw_json_token() does not check it for us.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
    }
    return i > start;
  };
  if (i < s.size() && s[i] == '-') {
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  return i == s.size();
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

class Builder {
 public:
  explicit Builder(const ParseOptions& options) : options_(options) {}

  Status Convert(od::value v, Value& out, int depth) {
    if (depth > options_.max_depth) {
      return Error("JSON nesting is deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    od::json_type type;
    if (auto err = v.type().get(type)) {
      return SimdError(err);
    }
    switch (type) {
      case od::json_type::object:
        return ConvertObject(v, out, depth);
      case od::json_type::array:
        return ConvertArray(v, out, depth);
      case od::json_type::number: {
        std::string_view raw = TrimRight(v.raw_json_token());
        if (!IsJsonNumber(raw)) {
          return Error("invalid number '" + std::string(raw) + "'");
        }
        out = Value::Number(std::string(raw));
        return Status::Ok();
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) {
          return SimdError(err);
        }
        out = Value::String(std::string(s));
        return Status::Ok();
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto err = v.get_bool().get(b)) {
          return SimdError(err);
        }
        out = Value::Bool(b);
        return Status::Ok();
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = v.is_null().get(is_null)) {
          return SimdError(err);
        }
        if (!is_null) {
          return Error("invalid literal (expected null)");
        }
        out = Value::Null();
        return Status::Ok();
      }
    }
    return Error("unknown JSON value");
  }

  // Members and items are gathered on the builder's stacks while their values are converted
  // (nested ones above them), then moved into their container at its exact size: one
  // allocation per container instead of one per doubling, a fifth of building the tree.
  Status ConvertObject(od::value v, Value& out, int depth) {
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
      return SimdError(err);
    }
    const size_t base = members_.size();
    std::unordered_set<std::string> seen;  // only used for large objects
    for (auto field_result : obj) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) {
        return Unwind(base, items_.size(), SimdError(err));
      }
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) {
        return Unwind(base, items_.size(), SimdError(err));
      }
      if (options_.reject_duplicate_keys && IsDuplicate(base, key, seen)) {
        std::string name(key);
        steps_.push_back({&name, 0});
        Status s = Error("duplicate property '" + name + "'");
        steps_.pop_back();
        return Unwind(base, items_.size(), std::move(s));
      }
      std::string name(key);
      Value value;
      steps_.push_back({&name, 0});
      if (Status s = Convert(field.value(), value, depth + 1); !s.ok()) {
        return Unwind(base, items_.size(), std::move(s));
      }
      steps_.pop_back();
      members_.emplace_back(std::move(name), std::move(value));
    }
    out = Value::Object();
    MoveGathered(members_, base, out.members());
    return Status::Ok();
  }

  Status ConvertArray(od::value v, Value& out, int depth) {
    od::array arr;
    if (auto err = v.get_array().get(arr)) {
      return SimdError(err);
    }
    const size_t base = items_.size();
    size_t index = 0;
    for (auto item_result : arr) {
      od::value item;
      if (auto err = std::move(item_result).get(item)) {
        return Unwind(members_.size(), base, SimdError(err));
      }
      Value value;
      steps_.push_back({nullptr, index++});
      if (Status s = Convert(item, value, depth + 1); !s.ok()) {
        return Unwind(members_.size(), base, std::move(s));
      }
      steps_.pop_back();
      items_.push_back(std::move(value));
    }
    out = Value::Array();
    MoveGathered(items_, base, out.items());
    return Status::Ok();
  }

  Status SimdError(simdjson::error_code err) {
    return Error(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  Status Error(std::string message) {
    std::string path = Path();
    return InvalidError(std::move(message), path.empty() ? std::string("$") : path);
  }

 private:
  // Whether `key` is among the members gathered since `base` (the object being built).
  bool IsDuplicate(size_t base, std::string_view key, std::unordered_set<std::string>& seen) {
    const size_t count = members_.size() - base;
    if (count < 16) {
      for (size_t i = base; i < members_.size(); ++i) {
        if (members_[i].first == key) {
          return true;
        }
      }
      return false;
    }
    if (seen.empty()) {
      for (size_t i = base; i < members_.size(); ++i) {
        seen.insert(members_[i].first);
      }
    }
    return !seen.insert(std::string(key)).second;
  }
  // Moves what a container gathered on `stack` since `base` into `into`, at its exact size.
  template <typename T>
  static void MoveGathered(std::vector<T>& stack, size_t base, std::vector<T>& into) {
    into.reserve(stack.size() - base);
    std::move(stack.begin() + static_cast<std::ptrdiff_t>(base), stack.end(),
              std::back_inserter(into));
    stack.resize(base);
  }
  // Drops what a failed container had gathered (the error is returned as it is).
  Status Unwind(size_t members, size_t items, Status error) {
    members_.resize(std::min(members, members_.size()));
    items_.resize(std::min(items, items_.size()));
    return error;
  }
  // Where parsing is, as "a.b[2].c" (D100).
  std::string Path() const { return FormatPath("", steps_); }

  const ParseOptions& options_;
  std::vector<PathStep> steps_;
  // Members of the objects and items of the arrays being built, innermost last: the thread's,
  // kept from one parse to the next (each parse leaves them as it found them).
  struct Stacks {
    std::vector<Value::Member> members;
    std::vector<Value> items;
  };
  static Stacks& ThreadStacks() {
    thread_local Stacks stacks;
    return stacks;
  }
  std::vector<Value::Member>& members_ = ThreadStacks().members;
  std::vector<Value>& items_ = ThreadStacks().items;
};

template <typename Writer>
void WriteValue(const Value& v, Writer& w) {
  switch (v.kind()) {
    case Kind::kNull:
      w.Null();
      break;
    case Kind::kBool:
      w.Bool(v.as_bool());
      break;
    case Kind::kNumber:
      w.RawValue(v.text().data(), v.text().size(), rapidjson::kNumberType);
      break;
    case Kind::kString:
      w.String(v.text().data(), static_cast<rapidjson::SizeType>(v.text().size()));
      break;
    case Kind::kArray:
      w.StartArray();
      for (const auto& item : v.items()) {
        WriteValue(item, w);
      }
      w.EndArray();
      break;
    case Kind::kObject:
      w.StartObject();
      for (const auto& [k, m] : v.members()) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        WriteValue(m, w);
      }
      w.EndObject();
      break;
  }
}

}  // namespace

std::string FormatPath(std::string_view root, const std::vector<PathStep>& steps) {
  std::string path(root);
  for (const PathStep& step : steps) {
    if (step.key != nullptr) {
      if (!path.empty()) {
        path += '.';
      }
      path += *step.key;
    } else {
      path += '[' + std::to_string(step.index) + ']';
    }
  }
  return path;
}

StatusOr<Value> Parse(std::string_view text, const ParseOptions& options) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    return InvalidError("the body starts with a UTF-8 byte order mark; send JSON without a BOM",
                        "$");
  }
  // One parser per thread: simdjson parsers are reusable and expensive to create.
  thread_local od::parser parser;
  // simdjson reads past the end: the text is copied with padding, into the thread's buffer for
  // the usual body (no allocation), into one of its own for a large one (not kept afterwards).
  constexpr size_t kKeptBuffer = size_t{1} << 20;
  thread_local std::string buffer;
  simdjson::padded_string own;
  simdjson::padded_string_view padded;
  if (text.size() <= kKeptBuffer) {
    buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(text);
    padded = simdjson::padded_string_view(buffer.data(), buffer.size(), buffer.capacity());
  } else {
    own = simdjson::padded_string(text);
    padded = own;
  }
  od::document doc;
  if (auto err = parser.iterate(padded).get(doc)) {
    return InvalidError(std::string("invalid JSON: ") + simdjson::error_message(err), "$");
  }
  Builder builder(options);
  od::json_type root_type;
  if (auto err = doc.type().get(root_type)) {
    return builder.SimdError(err);
  }
  if (root_type != od::json_type::object && root_type != od::json_type::array) {
    return InvalidError("expected a JSON object at the top level", "$");
  }
  od::value root;
  if (auto err = doc.get_value().get(root)) {
    return builder.SimdError(err);
  }
  Value out;
  RETURN_IF_ERROR(builder.Convert(root, out, 1));
  // current_location() fails (OUT_OF_BOUNDS) once the whole input has been consumed.
  if (!doc.current_location().error()) {
    return InvalidError("invalid JSON: unexpected content after the end of the document", "$");
  }
  return out;
}

StatusOr<Value> ParseTopLevelMembers(std::string_view text,
                                     const std::function<bool(std::string_view)>& keep) {
  // One parser and one padded copy per thread: bodies are served one after the other.
  thread_local od::parser parser;
  thread_local std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  od::document doc;
  if (auto err = parser
                     .iterate(simdjson::padded_string_view(padded.data(), padded.size(),
                                                           padded.capacity()))
                     .get(doc)) {
    return InvalidError(std::string("invalid JSON: ") + simdjson::error_message(err), "$");
  }
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidError("expected a JSON object at the top level", "$");
  }
  const ParseOptions options;
  Builder builder(options);
  Value out = Value::Object();
  for (auto field_result : obj) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) {
      return builder.SimdError(err);
    }
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) {
      return builder.SimdError(err);
    }
    if (!keep(key)) {
      continue;  // on-demand skips the value when the loop moves on
    }
    auto& member = out.members().emplace_back(std::string(key), Value());
    RETURN_IF_ERROR(builder.Convert(field.value(), member.second, 2));
  }
  return out;
}

std::string Write(const Value& value, const WriteOptions& options) {
  rapidjson::StringBuffer buffer;
  if (options.pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    WriteValue(value, w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    WriteValue(value, w);
  }
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace carechart::json
