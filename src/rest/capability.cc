#include "rest/capability.h"

#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/json.h"
#include "rest/context.h"

namespace carechart::rest {

namespace {

// Carechart's own operations have no published OperationDefinition yet: a stable canonical
// prefix names them (docs/bulk-data.md, docs/access-policy.md describe them).
const std::string kCarechartOperations = "https://carechart.dev/fhir/OperationDefinition/";

json::Value Operation(std::string_view name, const std::string& definition) {
  auto op = json::Value::Object();
  op.set("name", json::Value::String(std::string(name)));
  op.set("definition", json::Value::String(definition));
  return op;
}

using json::Value;

Value Code(const char* name, const char* code) {
  auto v = Value::Object();
  v.set(name, Value::String(code));
  return v;
}

// Parameters the store indexes and searches: all but the special `near` and the parameters
// without an expression (_text, _content, _query; see kNotSupported).
bool IsSearchable(const fhir::SearchParamDef& p) {
  return p.type != fhir::SearchParamType::kSpecial && !p.expression.empty();
}

constexpr const char* kNotSupported =
    "Search parameters not supported (a 400 in strict handling, ignored and reported under "
    "Prefer: handling=lenient): _text and _content (no full-text index), _query (no named "
    "queries), Location near (no geographic index), _contained=true. Token :in/:not-in expand "
    "ValueSets stored on this server (by url; expansion.contains, else compose include/exclude "
    "with concepts, whole systems and is-a/descendent-of/in filters over stored CodeSystems); "
    "token :above/:below follow the concept nesting of a CodeSystem stored on this server (no "
    "other code system hierarchy is known).";

// What a parameter of this type accepts: its modifiers and prefixes (search.html).
std::string Documentation(const fhir::SearchParamDef& p) {
  using T = fhir::SearchParamType;
  std::string doc;
  switch (p.type) {
    case T::kString:
      doc = "modifiers :missing, :exact, :contains";
      break;
    case T::kToken:
      doc = "modifiers :missing, :not, :text, :in, :not-in, :above, :below";
      if (p.code == "identifier") {
        doc += ", :of-type";
      }
      break;
    case T::kReference:
      doc = "modifiers :missing, :[type], :identifier; chaining (" + std::string(p.code) +
            ".param=), _include/_revinclude";
      break;
    case T::kUri:
      doc = "modifiers :missing, :above, :below";
      break;
    case T::kDate:
    case T::kNumber:
    case T::kQuantity:
      doc = "modifier :missing; prefixes eq, ne, gt, lt, ge, le, sa, eb, ap";
      break;
    case T::kComposite: {
      doc = "modifier :missing; value ";
      for (size_t i = 0; i < p.components.size(); ++i) {
        doc += (i ? "$" : "") + std::string(fhir::SearchParamTypeName(p.components[i].type));
      }
      doc += " (each component with its type's prefixes, e.g. system|code$gt100)";
      break;
    }
    default:
      break;
  }
  return doc;
}

Value ResourceEntry(std::string_view type) {
  auto r = Value::Object();
  r.set("type", Value::String(std::string(type)));
  auto interactions = Value::Array();
  for (const char* i : {"read", "vread", "update", "patch", "delete", "history-instance",
                        "history-type", "create", "search-type"}) {
    interactions.push_back(Code("code", i));
  }
  r.set("interaction", std::move(interactions));
  r.set("versioning", Value::String("versioned-update"));
  r.set("readHistory", Value::Bool(true));
  r.set("updateCreate", Value::Bool(true));
  r.set("conditionalCreate", Value::Bool(true));
  r.set("conditionalRead", Value::String("not-supported"));
  r.set("conditionalUpdate", Value::Bool(true));
  r.set("conditionalDelete", Value::String("single"));
  auto params = Value::Array();
  std::vector<const fhir::SearchParamDef*> defs;
  for (const auto& p : fhir::SearchParams(type)) {
    defs.push_back(&p);
  }
  // SearchParameter resources stored when the server started (search_index.h).
  for (const fhir::SearchParamDef* p : fhir::CustomSearchParams(type)) {
    defs.push_back(p);
  }
  for (const fhir::SearchParamDef* def : defs) {
    const fhir::SearchParamDef& p = *def;
    if (!IsSearchable(p)) {
      continue;
    }
    auto sp = Value::Object();
    sp.set("name", Value::String(std::string(p.code)));
    if (!p.url.empty()) {
      sp.set("definition", Value::String(std::string(p.url)));
    }
    sp.set("type", Value::String(std::string(fhir::SearchParamTypeName(p.type))));
    sp.set("documentation", Value::String(Documentation(p)));
    params.push_back(std::move(sp));
  }
  r.set("searchParam", std::move(params));
  // _include: this type's reference parameters (and *); _revinclude: every type's reference
  // parameters that may refer to this type (with :iterate on both, kMaxIncludeDepth levels).
  auto includes = Value::Array();
  includes.push_back(Value::String("*"));
  for (const auto& p : fhir::SearchParams(type)) {
    if (p.type == fhir::SearchParamType::kReference) {
      includes.push_back(Value::String(std::string(type) + ":" + std::string(p.code)));
    }
  }
  r.set("searchInclude", std::move(includes));
  auto revincludes = Value::Array();
  for (std::string_view source : fhir::ResourceTypes()) {
    for (const auto& p : fhir::SearchParams(source)) {
      if (p.type != fhir::SearchParamType::kReference) {
        continue;
      }
      bool targets_type = p.targets.empty();
      for (std::string_view t : p.targets) {
        targets_type = targets_type || t == type || t == "Resource";
      }
      if (targets_type) {
        revincludes.push_back(Value::String(std::string(source) + ":" + std::string(p.code)));
      }
    }
  }
  r.set("searchRevInclude", std::move(revincludes));
  auto ops = Value::Array();
  auto validate = Value::Object();
  validate.set("name", Value::String("validate"));
  validate.set("definition",
               Value::String("http://hl7.org/fhir/OperationDefinition/Resource-validate"));
  ops.push_back(std::move(validate));
  if (type == "Patient") {
    ops.push_back(
        Operation("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"));
    ops.push_back(
        Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"));
    ops.push_back(Operation("emergency-access", kCarechartOperations + "emergency-access"));
    ops.push_back(Operation("summary", "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"));
  }
  if (type == "Appointment") {  // book a free Slot (docs/portal-api.md)
    ops.push_back(Operation("book", kCarechartOperations + "book"));
  }
  if (type == "ValueSet") {  // code search for the apps (terminology_ops.h)
    ops.push_back(Operation("expand", "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"));
    ops.push_back(Operation("validate-code",
                            "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code"));
  }
  if (type == "CodeSystem") {
    ops.push_back(Operation("lookup", "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"));
  }
  if (type == "Group") {
    ops.push_back(
        Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"));
  }
  if (type == "Basic") {  // a break-the-glass grant: the privacy officer's review
    ops.push_back(
        Operation("emergency-access-review", kCarechartOperations + "emergency-access-review"));
  }
  r.set("operation", std::move(ops));
  return r;
}

}  // namespace

std::string BuildCapabilityStatement(const ApiOptions& options) {
  auto cs = Value::Object();
  cs.set("resourceType", Value::String("CapabilityStatement"));
  cs.set("status", Value::String("active"));
  cs.set("date", Value::String(fhir::FormatInstant(NowMicros()).substr(0, 10)));
  cs.set("publisher", Value::String("Carechart"));
  cs.set("kind", Value::String("instance"));
  auto software = Value::Object();
  software.set("name", Value::String("Carechart"));
  software.set("version", Value::String(options.software_version));
  cs.set("software", std::move(software));
  auto implementation = Value::Object();
  implementation.set("description",
                     Value::String("Carechart FHIR R4 server, facility " + options.facility_id));
  if (!options.public_base_url.empty()) {
    implementation.set("url", Value::String(options.public_base_url));
  }
  cs.set("implementation", std::move(implementation));
  cs.set("fhirVersion", Value::String("4.0.1"));
  auto formats = Value::Array();
  formats.push_back(Value::String("application/fhir+json"));
  formats.push_back(Value::String("json"));
  cs.set("format", std::move(formats));
  auto patch_formats = Value::Array();
  patch_formats.push_back(Value::String("application/json-patch+json"));
  cs.set("patchFormat", std::move(patch_formats));

  auto rest = Value::Object();
  rest.set("mode", Value::String("server"));
  rest.set("documentation", Value::String(kNotSupported));
  auto resources = Value::Array();
  for (std::string_view type : fhir::ResourceTypes()) {
    resources.push_back(ResourceEntry(type));
  }
  rest.set("resource", std::move(resources));
  auto system = Value::Array();
  system.push_back(Code("code", "history-system"));
  system.push_back(Code("code", "search-system"));
  system.push_back(Code("code", "transaction"));
  system.push_back(Code("code", "batch"));
  rest.set("interaction", std::move(system));
  // System search (GET [base]?...): the parameters every type has (defined on Resource).
  auto common = Value::Array();
  for (const auto& p : fhir::SearchParams("Patient")) {
    if (p.code.starts_with("_") && IsSearchable(p)) {
      auto sp = Value::Object();
      sp.set("name", Value::String(std::string(p.code)));
      sp.set("definition", Value::String(std::string(p.url)));
      sp.set("type", Value::String(std::string(fhir::SearchParamTypeName(p.type))));
      sp.set("documentation", Value::String(Documentation(p)));
      common.push_back(std::move(sp));
    }
  }
  rest.set("searchParam", std::move(common));
  // System-level operations (Bulk Data, reindex, the break-the-glass review queue).
  auto system_ops = Value::Array();
  system_ops.push_back(
      Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"));
  system_ops.push_back(Operation("import", kCarechartOperations + "import"));
  system_ops.push_back(Operation("reindex", kCarechartOperations + "reindex"));
  system_ops.push_back(
      Operation("emergency-access-review", kCarechartOperations + "emergency-access-review"));
  rest.set("operation", std::move(system_ops));
  auto compartments = Value::Array();
  compartments.push_back(Value::String("http://hl7.org/fhir/CompartmentDefinition/patient"));
  rest.set("compartment", std::move(compartments));
  auto rest_list = Value::Array();
  rest_list.push_back(std::move(rest));
  cs.set("rest", std::move(rest_list));
  return json::Write(cs);
}

}  // namespace carechart::rest
