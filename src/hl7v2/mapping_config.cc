#include "hl7v2/mapping_config.h"

#include <fstream>
#include <sstream>

#include "fhir/json.h"

namespace carechart::hl7v2 {

extern const std::string_view kDefaultMappingJson;

namespace {

std::string Replace(std::string s, std::string_view key, std::string_view value) {
  size_t p = s.find(key);
  if (p != std::string::npos) {
    s.replace(p, key.size(), value);
  }
  return s;
}

Status StringTable(const json::Value& root, std::string_view key,
                   std::map<std::string, std::string>& out, const std::string& name) {
  const json::Value* t = root.find(key);
  if (!t) {
    return Status::Ok();
  }
  if (!t->is_object()) {
    return InvalidError(name + ": '" + std::string(key) + "' must be an object");
  }
  for (const auto& [k, v] : t->members()) {
    if (k.starts_with("_")) {
      continue;
    }
    if (!v.is_string()) {
      return InvalidError(name + ": " + std::string(key) + "." + k + " must be a string");
    }
    out[k] = v.text();
  }
  return Status::Ok();
}

Status ReadCoding(const json::Value& v, Coding& c, const std::string& where) {
  if (!v.is_object()) {
    return InvalidError(where + " must be an object {system, code, display}");
  }
  c.system = std::string(v.string_at("system"));
  c.code = std::string(v.string_at("code"));
  c.display = std::string(v.string_at("display"));
  if (c.code.empty()) {
    return InvalidError(where + ".code is missing");
  }
  return Status::Ok();
}

Status Overlay(MappingConfig& c, const json::Value& root, const std::string& name) {
  if (!root.is_object()) {
    return InvalidError(name + ": the mapping must be a JSON object");
  }
  auto str = [&](std::string_view key, std::string& out) {
    if (const auto* v = root.find(key); v && v->is_string()) {
      out = v->text();
    }
  };
  str("timezone", c.timezone);
  str("facility_id_prefix", c.facility_id_prefix);
  str("identifier_system_template", c.identifier_system_template);
  str("local_code_system_template", c.local_code_system_template);
  str("interpretation_system", c.interpretation_system);
  RETURN_IF_ERROR(StringTable(root, "identifier_systems", c.identifier_systems, name));
  RETURN_IF_ERROR(StringTable(root, "identifier_type_systems", c.identifier_type_systems, name));
  RETURN_IF_ERROR(StringTable(root, "coding_systems", c.coding_systems, name));
  RETURN_IF_ERROR(StringTable(root, "gender", c.gender, name));
  RETURN_IF_ERROR(StringTable(root, "name_use", c.name_use, name));
  RETURN_IF_ERROR(StringTable(root, "encounter_status", c.encounter_status, name));
  RETURN_IF_ERROR(StringTable(root, "observation_status", c.observation_status, name));
  RETURN_IF_ERROR(StringTable(root, "report_status", c.report_status, name));
  RETURN_IF_ERROR(StringTable(root, "order_status", c.order_status, name));
  RETURN_IF_ERROR(StringTable(root, "interpretation", c.interpretation, name));
  if (const auto* f = root.find("facilities")) {
    if (!f->is_object()) {
      return InvalidError(name + ": 'facilities' must be an object");
    }
    for (const auto& [k, v] : f->members()) {
      if (k.starts_with("_")) {
        continue;
      }
      FacilityEntry e;
      e.id = std::string(v.string_at("id"));
      e.name = std::string(v.string_at("name"));
      if (e.id.empty() || SanitizeId(e.id) != e.id) {
        return InvalidError(name + ": facilities." + k + ".id must be a valid FHIR id");
      }
      if (e.name.empty()) {
        e.name = k;
      }
      c.facilities[k] = e;
    }
  }
  if (const auto* pc = root.find("patient_class")) {
    if (!pc->is_object()) {
      return InvalidError(name + ": 'patient_class' must be an object");
    }
    for (const auto& [k, v] : pc->members()) {
      if (k.starts_with("_")) {
        continue;
      }
      Coding cd;
      RETURN_IF_ERROR(ReadCoding(v, cd, name + ": patient_class." + k));
      c.patient_class[k] = cd;
    }
  }
  if (const auto* dc = root.find("default_class")) {
    RETURN_IF_ERROR(ReadCoding(*dc, c.default_class, name + ": default_class"));
  }
  if (c.timezone != "Z" &&
      (c.timezone.size() != 6 || (c.timezone[0] != '+' && c.timezone[0] != '-') ||
       c.timezone[3] != ':')) {
    return InvalidError(name + ": timezone must be Z or +hh:mm / -hh:mm");
  }
  return Status::Ok();
}

}  // namespace

std::string SanitizeId(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    out += ok ? c : '-';
    if (out.size() >= 64) {
      break;
    }
  }
  return out;
}

FacilityEntry MappingConfig::FacilityFor(std::string_view msh4) const {
  auto it = facilities.find(std::string(msh4));
  if (it != facilities.end()) {
    return it->second;
  }
  FacilityEntry e;
  std::string base = msh4.empty() ? std::string("unknown") : std::string(msh4);
  e.id = SanitizeId(facility_id_prefix + base);
  e.name = base;
  return e;
}

std::string MappingConfig::IdentifierSystem(std::string_view authority,
                                            std::string_view universal_id,
                                            std::string_view universal_type,
                                            std::string_view id_type) const {
  if (!authority.empty()) {
    auto it = identifier_systems.find(std::string(authority));
    if (it != identifier_systems.end()) {
      return it->second;
    }
  }
  if (!universal_id.empty()) {
    auto it = identifier_systems.find(std::string(universal_id));
    if (it != identifier_systems.end()) {
      return it->second;
    }
    if (universal_type == "ISO") {
      return "urn:oid:" + std::string(universal_id);
    }
    if (universal_type == "URI") {
      return std::string(universal_id);
    }
  }
  if (!id_type.empty()) {
    auto it = identifier_type_systems.find(std::string(id_type));
    if (it != identifier_type_systems.end()) {
      return it->second;
    }
  }
  std::string a(authority.empty() ? universal_id : authority);
  if (a.empty()) {
    a = id_type.empty() ? "local" : std::string(id_type);
  }
  return Replace(identifier_system_template, "{authority}", SanitizeId(a));
}

std::string MappingConfig::CodeSystem(std::string_view hl7_system) const {
  if (hl7_system.empty()) {
    return {};
  }
  auto it = coding_systems.find(std::string(hl7_system));
  if (it != coding_systems.end()) {
    return it->second;
  }
  if (hl7_system.starts_with("HL7") && hl7_system.size() == 7) {
    return "http://terminology.hl7.org/CodeSystem/v2-" + std::string(hl7_system.substr(3));
  }
  return Replace(local_code_system_template, "{system}", SanitizeId(hl7_system));
}

StatusOr<MappingConfig> ParseMapping(std::string_view json_text, const std::string& name) {
  MappingConfig c = DefaultMapping();
  auto parsed = json::Parse(json_text);
  if (!parsed.ok()) {
    return InvalidError(name + ": " + parsed.status().message());
  }
  RETURN_IF_ERROR(Overlay(c, *parsed, name));
  return c;
}

const MappingConfig& DefaultMapping() {
  static const MappingConfig* config = [] {
    auto* c = new MappingConfig();
    auto parsed = json::Parse(kDefaultMappingJson);
    if (parsed.ok()) {
      (void)Overlay(*c, *parsed, "default_mapping.json");
    }
    return c;
  }();
  return *config;
}

StatusOr<MappingConfig> LoadMapping(const std::string& path) {
  if (path.empty()) {
    return DefaultMapping();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidError("cannot read the HL7 mapping file " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseMapping(ss.str(), path);
}

}  // namespace carechart::hl7v2
