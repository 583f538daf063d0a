// Reference rewriting for transaction and batch Bundles (http.html#trules): references to an
// entry's fullUrl (urn:uuid:..., or an absolute URL) become that entry's Type/id, and conditional
// references (Organization?identifier=system|value) become the one resource they match.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::rest {

// Is `ref` a conditional reference: "Type?search" with a known R4 resource type?
bool IsConditionalReference(std::string_view ref);

// What references become.
struct ReferenceMap {
  std::map<std::string, std::string> full_urls;    // an entry's fullUrl → "Type/id"
  std::map<std::string, std::string> conditional;  // "Type?search" → "Type/id"
  // Appended to the message when a urn:uuid: reference names no entry (e.g. why a batch cannot
  // have references between its entries).
  std::string unresolved_hint;
};

// Collects the distinct conditional references of `resource` (the string `reference` of every
// object at any depth: Reference elements, extensions, contained resources).
void CollectConditionalReferences(const json::Value& resource, std::set<std::string>* out);

// Rewrites the `reference` string of every object in `resource` (at any depth) with `map`:
// fullUrls of entries and resolved conditional references are replaced; other references are
// kept. A `urn:uuid:`/`urn:oid:` reference that names no entry, or a conditional reference absent
// from the map, is kInvalid with its location ("<root>.subject.reference"). `root` names the
// resource in locations, e.g. "Bundle.entry[3].resource".
Status RewriteReferences(json::Value& resource, const std::string& root, const ReferenceMap& map);

}  // namespace carechart::rest
