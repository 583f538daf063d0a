// Operations the patient portal needs (docs/portal-api.md):
//   GET  Patient/[id]/$summary     an International Patient Summary document Bundle, or its
//                                  printable HTML (_format=html or Accept: text/html)
//   POST Appointment/$book         book a free Slot: the Slot becomes busy and the Appointment
//                                  is booked in one transaction
// Both run the same access checks as the rest of the API (rest/access_hooks.h).
#pragma once

#include <string>
#include <vector>

#include "fhir/json.h"
#include "http/message.h"
#include "rest/context.h"
#include "rest/write_support.h"

namespace carechart::rest {

http::Response HandlePatientSummary(RequestContext& ctx);
http::Response HandleAppointmentBook(RequestContext& ctx);
// When an update cancels Appointment `id`, plans its busy Slots back to free, to be committed
// with the cancellation (PlannedWrite::companions) so a cancelled visit never holds a time.
Status PlanSlotRelease(RequestContext& ctx, const json::Value& appointment, const std::string& id,
                       PlannedWrite* planned);

// True when the request asks for HTML (_format=html|text/html, or Accept naming text/html
// before any JSON type); only $summary answers HTML.
bool WantsHtml(const http::Request& request);

// The printable page for an IPS document Bundle (ips_html.cc).
std::string RenderSummaryHtml(const json::Value& document);

}  // namespace carechart::rest
