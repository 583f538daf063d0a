// From a request body to a version ready for the store: parse, validate, stamp id and meta,
// serialise, extract index entries. All of it runs in the request's worker thread, so the store's
// writer only stores rows.
#pragma once

#include <optional>
#include <string>

#include "fhir/json.h"
#include "fhir/validator.h"
#include "http/message.h"
#include "rest/context.h"
#include "store/resource_store.h"

namespace carechart::rest {

// The system of the meta.tag that records the facility a version was written at.
inline constexpr const char* kFacilityTagSystem = "https://carechart.dev/fhir/CodeSystem/facility";
// The system of the meta.tag that records who wrote a version.
inline constexpr const char* kAuthorTagSystem = "https://carechart.dev/fhir/CodeSystem/recorded-by";

struct ParsedBody {
  std::optional<http::Response> error;  // set when the body is unusable
  json::Value resource;
};

// Checks Content-Type and parses the body as JSON, without looking at what the JSON holds.
ParsedBody ParseJsonBody(const RequestContext& ctx);

// Checks Content-Type, parses the body as JSON and validates it as a resource of `ctx.type`
// (or any type when ctx.type is empty). An unusable body yields a ready error response.
ParsedBody ParseResourceBody(const RequestContext& ctx);

// Checks that an already parsed `resource` is a FHIR resource (has a resourceType), of
// `expected_type` when that is not empty, and valid R4. Returns kInvalid for a missing or
// mismatched resourceType ("the URL's type" is how `expected_type` is named in messages), or
// kUnprocessable with every issue in `issues` when validation fails. Shared by single
// interactions (ParseResourceBody) and Bundle entries.
Status CheckResource(const json::Value& resource, const std::string& expected_type,
                     std::vector<fhir::ValidationIssue>* issues);

// Stamps `resource` with id, meta.versionId, meta.lastUpdated, meta.source and the facility and
// author tags, then serialises it, encodes it as ctx.store keeps it (ResourceStore::EncodeBody)
// and computes its index entries.
store::PreparedWrite PrepareVersion(json::Value resource, const RequestContext& ctx,
                                    const std::string& id, int64_t version,
                                    const std::string& method);

// A deletion marker version.
// The facility a resource was recorded at: the code of its kFacilityTagSystem meta.tag, or "".
std::string FacilityOf(const json::Value& resource);

store::PreparedWrite PrepareDeletion(const std::string& type, const std::string& id,
                                     int64_t version);

// The stored form of a prepared write, as a ResourceVersion (for responses). The second form
// moves the body out of `w` instead of copying it (a transaction's entries, once stored).
store::ResourceVersion AsVersion(const store::PreparedWrite& w);
store::ResourceVersion AsVersion(store::PreparedWrite&& w);

}  // namespace carechart::rest
