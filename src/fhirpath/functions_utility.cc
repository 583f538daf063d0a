// Tree navigation, utility, type and FHIR-specific functions: children, descendants, trace, now,
// today, timeOfDay, type, extension, hasValue, getValue, resolve, memberOf, conformsTo,
// lowBoundary, highBoundary, precision, comparable and the date component functions.
#include "fhir/structure.h"
#include "fhirpath/functions.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

FHIRPATH_FUNCTION(Children) {
  for (const Item& item : input) {
    AppendAllChildren(item, ev.use_model(), out);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Descendants) {
  // Breadth first, appending to `out` and walking what was appended.
  size_t next = out->size();
  for (const Item& item : input) {
    AppendAllChildren(item, ev.use_model(), out);
  }
  for (; next < out->size(); ++next) {
    const Item item = (*out)[next];  // a copy: appending may move the vector
    AppendAllChildren(item, ev.use_model(), out);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Trace) {
  std::string name;
  bool present = false;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, &name, &present));
  if (ev.context().trace) {
    if (call.args.size() > 1) {
      Collection projected;
      for (size_t i = 0; i < input.size(); ++i) {
        RETURN_IF_ERROR(
            ev.EvalFor(*call.args[1], input[i], static_cast<int64_t>(i), env, &projected));
      }
      ev.context().trace(name, projected);
    } else {
      ev.context().trace(name, input);
    }
  }
  out->insert(out->end(), input.begin(), input.end());
  return Status::Ok();
}

DateTimeValue NowValue(int64_t micros) {
  DateTimeValue v;
  const int64_t ms = micros / 1000;
  int64_t days = ms / 86400000, rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  // civil_from_days via AddCalendar from the epoch.
  DateTimeValue epoch;
  epoch.kind = DateKind::kDateTime;
  epoch.precision = DatePrecision::kMillisecond;
  epoch.year = 1970;
  epoch.frac_digits = 3;
  epoch.has_tz = true;
  v = *AddCalendar(epoch, days * 86400000 + rest, DatePrecision::kMillisecond);
  return v;
}

FHIRPATH_FUNCTION(Now) {
  DateTimeValue v = NowValue(ev.now_micros());
  if (call.name == "today") {
    v.kind = DateKind::kDate;
    v.precision = DatePrecision::kDay;
    v.has_tz = false;
  } else if (call.name == "timeOfDay") {
    v.kind = DateKind::kTime;
  }
  out->push_back(Item::FromDate(v));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Type) {
  for (const Item& item : input) {
    Item t;
    t.kind = ItemKind::kTypeInfo;
    TypeNameOf(item, &t.type_namespace, &t.text);
    out->push_back(std::move(t));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(ExtensionFn) {
  std::string url;
  bool present = false;
  RETURN_IF_ERROR(ArgString(ev, env, call, 0, &url, &present));
  if (!present) {
    return Status::Ok();
  }
  Collection extensions;
  for (const Item& item : input) {
    AppendChildren(item, "extension", ev.use_model(), &extensions);
  }
  for (Item& e : extensions) {
    if (e.node != nullptr && e.node->is_object() && e.node->string_at("url") == url) {
      out->push_back(std::move(e));
    }
  }
  return Status::Ok();
}

bool IsPrimitiveWithValue(const Item& item) {
  if (item.kind != ItemKind::kNode) {
    return true;
  }
  return item.node != nullptr && !item.node->is_null() && !item.node->is_object() &&
         !item.node->is_array();
}

FHIRPATH_FUNCTION(HasValue) {
  out->push_back(Item::Boolean(input.size() == 1 && IsPrimitiveWithValue(input[0])));
  return Status::Ok();
}

FHIRPATH_FUNCTION(GetValue) {
  if (input.size() == 1 && IsPrimitiveWithValue(input[0])) {
    Item v;
    if (ToSystem(input[0], &v)) {
      out->push_back(std::move(v));
    }
  }
  return Status::Ok();
}

// A reference resolved among contained resources and Bundle entries, then the callback.
const json::Value* ResolveReference(Evaluator& ev, std::string_view ref) {
  const json::Value& root = ev.resource();
  if (!ref.empty() && ref[0] == '#') {
    const json::Value* contained = ev.root_node()->find("contained");
    if (contained != nullptr && contained->is_array()) {
      for (const json::Value& r : contained->items()) {
        if (r.string_at("id") == ref.substr(1)) {
          return &r;
        }
      }
    }
    return nullptr;
  }
  if (const json::Value* entries = root.find("entry"); entries && entries->is_array()) {
    for (const json::Value& e : entries->items()) {
      const json::Value* res = e.find("resource");
      if (res == nullptr) {
        continue;
      }
      const std::string_view full = e.string_at("fullUrl");
      const std::string local =
          std::string(res->string_at("resourceType")) + "/" + std::string(res->string_at("id"));
      if (full == ref || ref == local ||
          (full.size() > ref.size() && full.ends_with(ref) &&
           full[full.size() - ref.size() - 1] == '/')) {
        return res;
      }
    }
  }
  return ev.context().resolve ? ev.context().resolve(ref) : nullptr;
}

FHIRPATH_FUNCTION(Resolve) {
  for (const Item& item : input) {
    std::string_view ref;
    Item scratch;
    if (item.kind == ItemKind::kNode && item.node != nullptr && item.node->is_object()) {
      ref = item.node->string_at("reference");
    } else if (const Item* v = SystemView(item, &scratch); v && v->kind == ItemKind::kString) {
      ref = item.kind == ItemKind::kString ? std::string_view(item.text)
                                           : std::string_view(item.node->text());
    }
    if (ref.empty()) {
      continue;
    }
    if (const json::Value* r = ResolveReference(ev, ref)) {
      out->push_back(ResourceItem(*r, ev.use_model()));
    }
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(NotImplemented) {
  return Status(StatusCode::kNotImplemented, "FHIRPath: " + call.name + "() is not supported",
                "@" + std::to_string(call.position));
}

FHIRPATH_FUNCTION(HtmlChecks) {
  out->push_back(Item::Boolean(true));
  return Status::Ok();
}

}  // namespace

// lowBoundary/highBoundary/precision/comparable and date components: functions_boundary.cc.
std::span<const FunctionDef> BoundaryFunctions();

namespace {

constexpr FunctionDef kFunctions[] = {
    {"children", 0, 0, Children},
    {"descendants", 0, 0, Descendants},
    {"trace", 1, 2, Trace},
    {"now", 0, 0, Now},
    {"today", 0, 0, Now},
    {"timeOfDay", 0, 0, Now},
    {"type", 0, 0, Type},
    {"extension", 1, 1, ExtensionFn},
    {"hasValue", 0, 0, HasValue},
    {"getValue", 0, 0, GetValue},
    {"resolve", 0, 0, Resolve},
    {"memberOf", 1, 1, NotImplemented},
    {"conformsTo", 1, 1, NotImplemented},
    {"htmlChecks", 0, 0, HtmlChecks},
};

}  // namespace

std::span<const FunctionDef> UtilityFunctions() {
  static const std::vector<FunctionDef> all = [] {
    std::vector<FunctionDef> v(std::begin(kFunctions), std::end(kFunctions));
    for (const FunctionDef& f : BoundaryFunctions()) {
      v.push_back(f);
    }
    return v;
  }();
  return all;
}

}  // namespace carechart::fhirpath
