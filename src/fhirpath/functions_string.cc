// String manipulation functions (spec 5.6) and encode/decode/escape/unescape.
#include <re2/re2.h>

#include <cctype>

#include "fhirpath/functions.h"
#include "fhirpath/model.h"
#include "fhirpath/regex_cache.h"

namespace carechart::fhirpath {
namespace {

// Input string and string argument `i` (both required): *skip when either is empty.
Status StringAndArg(Evaluator& ev, const Env& env, const Node& call, const Collection& input,
                    Item* scratch, const Item** s, std::string* arg, bool* skip) {
  RETURN_IF_ERROR(InputString(call, input, scratch, s));
  bool present = false;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, arg, &present));
  *skip = *s == nullptr || !present;
  return Status::Ok();
}

FHIRPATH_FUNCTION(IndexOf) {
  Item scratch;
  const Item* s;
  std::string sub;
  bool skip;
  RETURN_IF_ERROR(StringAndArg(ev, env, call, input, &scratch, &s, &sub, &skip));
  if (skip) {
    return Status::Ok();
  }
  const size_t p = call.name == "indexOf" ? s->text.find(sub) : s->text.rfind(sub);
  out->push_back(Item::Integer(p == std::string::npos ? -1 : static_cast<int64_t>(p)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Substring) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  int64_t start = 0, length = 0;
  bool has_start = false, has_length = false;
  RETURN_IF_ERROR(ArgInteger(ev, env, call, 0, &start, &has_start));
  if (call.args.size() > 1) {
    RETURN_IF_ERROR(ArgInteger(ev, env, call, 1, &length, &has_length));
  }
  if (s == nullptr || !has_start) {
    return Status::Ok();
  }
  const int64_t size = static_cast<int64_t>(s->text.size());
  if (start < 0 || start >= size) {
    return Status::Ok();
  }
  if (has_length && length <= 0) {
    out->push_back(Item::String(""));
    return Status::Ok();
  }
  out->push_back(Item::String(has_length ? s->text.substr(start, length) : s->text.substr(start)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(StartsEndsContains) {
  Item scratch;
  const Item* s;
  std::string sub;
  bool skip;
  RETURN_IF_ERROR(StringAndArg(ev, env, call, input, &scratch, &s, &sub, &skip));
  if (skip) {
    return Status::Ok();
  }
  const std::string_view t = s->text;
  bool r;
  if (call.name == "startsWith") {
    r = t.starts_with(sub);
  } else if (call.name == "endsWith") {
    r = t.ends_with(sub);
  } else {
    r = t.find(sub) != std::string_view::npos;
  }
  out->push_back(Item::Boolean(r));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Case) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  if (s == nullptr) {
    return Status::Ok();
  }
  std::string r = s->text;
  const bool upper = call.name == "upper";
  for (char& c : r) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  }
  out->push_back(Item::String(std::move(r)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Replace) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  std::string pattern, with;
  bool has_pattern = false, has_with = false;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, &pattern, &has_pattern));
  RETURN_IF_ERROR(ArgString(ev, env, call, 1, &with, &has_with));
  if (s == nullptr || !has_pattern || !has_with) {
    return Status::Ok();
  }
  std::string r;
  const std::string& t = s->text;
  if (pattern.empty()) {
    r = with;
    for (const char c : t) {
      r.push_back(c);
      r += with;
    }
  } else {
    size_t pos = 0;
    while (true) {
      const size_t hit = t.find(pattern, pos);
      r.append(t, pos, hit == std::string::npos ? std::string::npos : hit - pos);
      if (hit == std::string::npos) {
        break;
      }
      r += with;
      pos = hit + pattern.size();
    }
  }
  out->push_back(Item::String(std::move(r)));
  return Status::Ok();
}

// The compiled pattern of argument 0 (compiled at Compile time when it is a literal).
Status PatternOf(Evaluator& ev, const Env& env, const Node& call, bool full,
                 std::shared_ptr<const re2::RE2>* re, bool* present) {
  if (call.regex != nullptr) {
    *re = call.regex;
    *present = true;
    return Status::Ok();
  }
  std::string pattern, flags;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, &pattern, present));
  bool has_flags = false;
  if (call.name != "replaceMatches" && call.args.size() > 1) {
    RETURN_IF_ERROR(ArgString(ev, env, call, 1, &flags, &has_flags));
  }
  if (!*present) {
    return Status::Ok();
  }
  *re = CompileRegex(pattern, full, flags);
  if (*re == nullptr) {
    return EvalError("invalid regular expression", call.args[0]->position);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Matches) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  std::shared_ptr<const re2::RE2> re;
  bool present = false;
  RETURN_IF_ERROR(PatternOf(ev, env, call, call.name == "matchesFull", &re, &present));
  if (s == nullptr || !present) {
    return Status::Ok();
  }
  out->push_back(Item::Boolean(re2::RE2::PartialMatch(s->text, *re)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(ReplaceMatches) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  std::shared_ptr<const re2::RE2> re;
  bool present = false, has_with = false;
  RETURN_IF_ERROR(PatternOf(ev, env, call, false, &re, &present));
  std::string with;
  RETURN_IF_ERROR(ArgString(ev, env, call, 1, &with, &has_with));
  if (s == nullptr || !present || !has_with) {
    return Status::Ok();
  }
  // FHIRPath writes group references as $1; RE2 as \1.
  std::string rewrite;
  for (size_t i = 0; i < with.size(); ++i) {
    if (with[i] == '$' && i + 1 < with.size() &&
        std::isdigit(static_cast<unsigned char>(with[i + 1]))) {
      rewrite += '\\';
    } else if (with[i] == '\\') {
      rewrite += "\\\\";
    } else {
      rewrite += with[i];
    }
  }
  std::string r = s->text;
  if (re->pattern().empty()) {
    out->push_back(Item::String(std::move(r)));
    return Status::Ok();
  }
  re2::RE2::GlobalReplace(&r, *re, rewrite);
  out->push_back(Item::String(std::move(r)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Length) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  if (s != nullptr) {
    out->push_back(Item::Integer(static_cast<int64_t>(s->text.size())));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(ToChars) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  if (s == nullptr) {
    return Status::Ok();
  }
  for (const char c : s->text) {
    out->push_back(Item::String(std::string(1, c)));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Trim) {
  Item scratch;
  const Item* s;
  RETURN_IF_ERROR(InputString(call, input, &scratch, &s));
  if (s == nullptr) {
    return Status::Ok();
  }
  const std::string_view t = s->text;
  const size_t b = t.find_first_not_of(" \t\r\n");
  const size_t e = t.find_last_not_of(" \t\r\n");
  out->push_back(
      Item::String(b == std::string_view::npos ? "" : std::string(t.substr(b, e - b + 1))));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Split) {
  Item scratch;
  const Item* s;
  std::string sep;
  bool skip;
  RETURN_IF_ERROR(StringAndArg(ev, env, call, input, &scratch, &s, &sep, &skip));
  if (skip) {
    return Status::Ok();
  }
  const std::string& t = s->text;
  if (sep.empty()) {
    for (const char c : t) {
      out->push_back(Item::String(std::string(1, c)));
    }
    return Status::Ok();
  }
  size_t pos = 0;
  while (true) {
    const size_t hit = t.find(sep, pos);
    out->push_back(
        Item::String(t.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos)));
    if (hit == std::string::npos) {
      break;
    }
    pos = hit + sep.size();
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Join) {
  std::string sep;
  bool present = false;
  if (!call.args.empty()) {
    RETURN_IF_ERROR(ArgString(ev, env, call, 0, &sep, &present));
  }
  if (input.empty()) {
    return Status::Ok();
  }
  std::string r;
  bool first = true;
  for (const Item& item : input) {
    Item scratch;
    const Item* v = SystemView(item, &scratch);
    if (v == nullptr) {
      continue;  // primitives with only an extension
    }
    if (v->kind != ItemKind::kString) {
      return EvalError("join() expects strings", call.position);
    }
    if (!first) {
      r += sep;
    }
    first = false;
    r += v->text;
  }
  out->push_back(Item::String(std::move(r)));
  return Status::Ok();
}

}  // namespace

// encode/decode/escape/unescape live in functions_encoding.cc.
FHIRPATH_FUNCTION(EncodingFunction);

namespace {

constexpr FunctionDef kFunctions[] = {
    {"indexOf", 1, 1, IndexOf},
    {"lastIndexOf", 1, 1, IndexOf},
    {"substring", 1, 2, Substring},
    {"startsWith", 1, 1, StartsEndsContains},
    {"endsWith", 1, 1, StartsEndsContains},
    {"contains", 1, 1, StartsEndsContains},
    {"upper", 0, 0, Case},
    {"lower", 0, 0, Case},
    {"replace", 2, 2, Replace},
    {"matches", 1, 2, Matches},
    {"matchesFull", 1, 2, Matches},
    {"replaceMatches", 2, 2, ReplaceMatches},
    {"length", 0, 0, Length},
    {"toChars", 0, 0, ToChars},
    {"trim", 0, 0, Trim},
    {"split", 1, 1, Split},
    {"join", 0, 1, Join},
    {"encode", 1, 1, EncodingFunction},
    {"decode", 1, 1, EncodingFunction},
    {"escape", 1, 1, EncodingFunction},
    {"unescape", 1, 1, EncodingFunction},
};

}  // namespace

std::span<const FunctionDef> StringFunctions() { return kFunctions; }

}  // namespace carechart::fhirpath
