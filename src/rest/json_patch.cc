#include "rest/json_patch.h"

#include <charconv>
#include <string>
#include <vector>

namespace carechart::rest {

namespace {

StatusOr<std::vector<std::string>> SplitPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) {
    return tokens;
  }
  if (pointer.front() != '/') {
    return InvalidError("JSON Pointer '" + std::string(pointer) + "' must start with '/'");
  }
  size_t pos = 1;
  while (true) {
    size_t next = pointer.find('/', pos);
    std::string_view raw =
        pointer.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token.push_back(raw[i + 1] == '0' ? '~' : '/');
        ++i;
      } else if (raw[i] == '~') {
        return InvalidError("JSON Pointer '" + std::string(pointer) + "' has a bad '~' escape");
      } else {
        token.push_back(raw[i]);
      }
    }
    tokens.push_back(std::move(token));
    if (next == std::string_view::npos) {
      break;
    }
    pos = next + 1;
  }
  return tokens;
}

bool ArrayIndex(const std::string& token, size_t size, bool allow_end, size_t* index) {
  if (token == "-" && allow_end) {
    *index = size;
    return true;
  }
  if (token.empty() || (token.size() > 1 && token[0] == '0')) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), *index);
  if (ec != std::errc() || ptr != token.data() + token.size()) {
    return false;
  }
  return allow_end ? *index <= size : *index < size;
}

// The value at `tokens` (all of them), or null when absent.
json::Value* Resolve(json::Value& root, const std::vector<std::string>& tokens, size_t count) {
  json::Value* cur = &root;
  for (size_t i = 0; i < count; ++i) {
    if (cur->is_object()) {
      cur = cur->find(tokens[i]);
    } else if (cur->is_array()) {
      size_t idx = 0;
      if (!ArrayIndex(tokens[i], cur->items().size(), false, &idx)) {
        return nullptr;
      }
      cur = &cur->items()[idx];
    } else {
      return nullptr;
    }
    if (!cur) {
      return nullptr;
    }
  }
  return cur;
}

Status Add(json::Value& root, const std::vector<std::string>& tokens, json::Value value,
           const std::string& where) {
  if (tokens.empty()) {
    root = std::move(value);
    return Status::Ok();
  }
  json::Value* parent = Resolve(root, tokens, tokens.size() - 1);
  if (!parent) {
    return UnprocessableError(where + ": the parent of the path does not exist");
  }
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    parent->set(last, std::move(value));
  } else if (parent->is_array()) {
    size_t idx = 0;
    if (!ArrayIndex(last, parent->items().size(), true, &idx)) {
      return UnprocessableError(where + ": array index '" + last + "' is out of range");
    }
    parent->items().insert(parent->items().begin() + static_cast<std::ptrdiff_t>(idx),
                           std::move(value));
  } else {
    return UnprocessableError(where + ": the parent of the path is not an object or array");
  }
  return Status::Ok();
}

StatusOr<json::Value> Remove(json::Value& root, const std::vector<std::string>& tokens,
                             const std::string& where) {
  if (tokens.empty()) {
    return UnprocessableError(where + ": cannot remove the whole resource");
  }
  json::Value* parent = Resolve(root, tokens, tokens.size() - 1);
  const std::string& last = tokens.back();
  if (parent && parent->is_object()) {
    if (json::Value* v = parent->find(last)) {
      json::Value out = std::move(*v);
      parent->erase(last);
      return out;
    }
  } else if (parent && parent->is_array()) {
    size_t idx = 0;
    if (ArrayIndex(last, parent->items().size(), false, &idx)) {
      json::Value out = std::move(parent->items()[idx]);
      parent->items().erase(parent->items().begin() + static_cast<std::ptrdiff_t>(idx));
      return out;
    }
  }
  return UnprocessableError(where + ": the path does not exist");
}

Status ApplyOne(const json::Value& op, json::Value& target, size_t index) {
  std::string where = "patch operation " + std::to_string(index);
  if (!op.is_object()) {
    return InvalidError(where + " is not an object");
  }
  std::string_view name = op.string_at("op");
  const json::Value* path_value = op.find("path");
  if (!path_value || !path_value->is_string()) {
    return InvalidError(where + " has no string 'path'");
  }
  ASSIGN_OR_RETURN(auto path, SplitPointer(path_value->text()));
  where += " (" + std::string(name) + " " + path_value->text() + ")";
  auto from_tokens = [&]() -> StatusOr<std::vector<std::string>> {
    const json::Value* from = op.find("from");
    if (!from || !from->is_string()) {
      return InvalidError(where + " needs a string 'from'");
    }
    return SplitPointer(from->text());
  };
  const json::Value* value = op.find("value");
  if (name == "add" || name == "replace" || name == "test") {
    if (!value) {
      return InvalidError(where + " needs a 'value'");
    }
  }
  if (name == "add") {
    return Add(target, path, *value, where);
  }
  if (name == "remove") {
    return Remove(target, path, where).status();
  }
  if (name == "replace") {
    json::Value* existing = Resolve(target, path, path.size());
    if (!existing) {
      return UnprocessableError(where + ": the path does not exist");
    }
    *existing = *value;
    return Status::Ok();
  }
  if (name == "move") {
    ASSIGN_OR_RETURN(auto from, from_tokens());
    ASSIGN_OR_RETURN(json::Value moved, Remove(target, from, where));
    return Add(target, path, std::move(moved), where);
  }
  if (name == "copy") {
    ASSIGN_OR_RETURN(auto from, from_tokens());
    json::Value* src = Resolve(target, from, from.size());
    if (!src) {
      return UnprocessableError(where + ": 'from' does not exist");
    }
    json::Value copy = *src;
    return Add(target, path, std::move(copy), where);
  }
  if (name == "test") {
    json::Value* existing = Resolve(target, path, path.size());
    if (!existing || !(*existing == *value)) {
      return UnprocessableError(where + ": test failed, the value differs");
    }
    return Status::Ok();
  }
  return InvalidError(where + ": unknown op '" + std::string(name) +
                      "' (expected add, remove, replace, move, copy or test)");
}

}  // namespace

Status ApplyJsonPatch(const json::Value& patch, json::Value& target) {
  if (!patch.is_array()) {
    return InvalidError("a JSON Patch document must be a JSON array");
  }
  for (size_t i = 0; i < patch.items().size(); ++i) {
    RETURN_IF_ERROR(ApplyOne(patch.items()[i], target, i));
  }
  return Status::Ok();
}

}  // namespace carechart::rest
