// The FHIR interactions, one function each. Internal to the rest module; the router in
// fhir_api.cc picks one per request.
#pragma once

#include "http/message.h"
#include "rest/context.h"

namespace carechart::rest {

http::Response HandleRead(RequestContext& ctx);
http::Response HandleVread(RequestContext& ctx);
http::Response HandleCreate(RequestContext& ctx);
http::Response HandleUpdate(RequestContext& ctx);             // PUT [type]/[id]
http::Response HandleConditionalUpdate(RequestContext& ctx);  // PUT [type]?search
http::Response HandlePatch(RequestContext& ctx);              // PATCH [type]/[id] or [type]?search
http::Response HandleDelete(RequestContext& ctx);             // DELETE [type]/[id]
http::Response HandleConditionalDelete(RequestContext& ctx);  // DELETE [type]?search
http::Response HandleHistory(RequestContext& ctx);            // instance, type or system
http::Response HandleSearch(RequestContext& ctx);             // GET [type]? / POST [type]/_search
http::Response HandleValidate(RequestContext& ctx);           // [type](/[id])/$validate

// Parses an If-Match header value (W/"3", "3" or 3). Returns false when absent or malformed.
bool ParseIfMatch(std::string_view header, int64_t* version);

}  // namespace carechart::rest
