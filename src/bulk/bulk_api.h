// The HTTP side of Bulk Data (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off of
// $export (system, Patient, Group/[id]) and $import, the status URL (poll, DELETE to cancel) and
// the output files, all under the FHIR base:
//   GET    [base]/$export, [base]/Patient/$export, [base]/Group/[id]/$export   → 202
//   POST   the same URLs with a Parameters body (Bulk Data v2)                  → 202
//   POST   [base]/$import (application/fhir+ndjson body)                         → 202
//   GET    [base]/_bulk/[job]              → 202 + X-Progress / 200 + manifest / 4xx-5xx outcome
//   DELETE [base]/_bulk/[job]              → 202 (cancelled, files removed)
//   GET    [base]/_bulk/[job]/[file]       → the NDJSON file, streamed from disk (gzip when
//                                            accepted: a .gz copy made once and reused)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/principal.h"
#include "bulk/bulk_jobs.h"
#include "http/message.h"

namespace carechart::bulk {

// Handles a request whose path segments under /fhir are `parts`, when they are a Bulk Data
// route; nullopt otherwise (the FHIR router goes on). `principal` (null without authentication)
// is who asks: a job belongs to the client that started it, and only that client may poll,
// cancel or download it.
std::optional<http::Response> HandleBulkRequest(BulkJobs& jobs, store::ResourceStore& store,
                                                const http::Request& request,
                                                const std::string& base_url,
                                                const std::vector<std::string>& parts,
                                                const auth::Principal* principal = nullptr);

// gzip (RFC 1952) of `data` at a fast level, for downloads of clients that accept it.
std::string Gzip(const std::string& data);

}  // namespace carechart::bulk
