// POST Appointment/$book (after the Argonaut Scheduling IG's operation of that name): the body
// is an Appointment naming the Slot (Appointment.slot) and the patient (a participant actor
// Patient/...), bare or as the resource of a Parameters parameter "appt-resource". In one store
// transaction the Slot, still free and unchanged since it was read, becomes busy and the
// Appointment is stored as booked with the Slot's start and end and the Schedule's actors as
// participants. A patient or proxy may book only for their own records (the same guard as a
// write of the Appointment as a request); the Slot itself is written by the server.
#include "rest/access_hooks.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/resource_prep.h"
#include "rest/write_support.h"

namespace carechart::rest {

namespace {

std::string IdAfter(std::string_view ref, std::string_view type) {
  std::string prefix = std::string(type) + "/";
  size_t at = ref.rfind(prefix);
  if (at == std::string_view::npos || (at > 0 && ref[at - 1] != '/')) {
    return {};
  }
  std::string id(ref.substr(at + prefix.size()));
  return IsValidId(id) ? id : "";
}

json::Value Participant(const json::Value& actor, const char* status) {
  json::Value p = json::Value::Object();
  p.set("actor", actor);
  p.set("required", json::Value::String("required"));
  p.set("status", json::Value::String(status));
  return p;
}

}  // namespace

http::Response HandleAppointmentBook(RequestContext& ctx) {
  if (ctx.http.method != "POST") {
    http::Response r = ErrorResponse({StatusCode::kMethodNotAllowed,
                                      ctx.http.method + " is not allowed on $book; allowed: POST"});
    r.set_header("Allow", "POST");
    return r;
  }
  ParsedBody body = ParseJsonBody(ctx);
  if (body.error) {
    return *body.error;
  }
  json::Value appt = std::move(body.resource);
  if (appt.string_at("resourceType") == "Parameters") {
    json::Value found;
    if (const json::Value* params = appt.find("parameter"); params && params->is_array()) {
      for (const json::Value& p : params->items()) {
        if (p.string_at("name") == "appt-resource" && p.find("resource")) {
          found = *p.find("resource");
        }
      }
    }
    appt = std::move(found);
  }
  if (appt.string_at("resourceType") != "Appointment") {
    return ErrorResponse(
        InvalidError("$book takes an Appointment (or Parameters with parameter 'appt-resource')",
                     "Parameters.parameter.where(name='appt-resource').resource"));
  }
  const json::Value* slots = appt.find("slot");
  if (slots == nullptr || !slots->is_array() || slots->items().size() != 1) {
    return ErrorResponse(InvalidError(
        "name exactly one Slot to book: Appointment.slot[0].reference", "Appointment.slot"));
  }
  std::string slot_id = IdAfter(slots->items().front().string_at("reference"), "Slot");
  if (slot_id.empty()) {
    return ErrorResponse(InvalidError("Appointment.slot[0].reference must be Slot/<id>",
                                      "Appointment.slot[0].reference"));
  }
  bool has_patient = false;
  if (const json::Value* parts = appt.find("participant"); parts && parts->is_array()) {
    for (const json::Value& p : parts->items()) {
      const json::Value* actor = p.find("actor");
      has_patient =
          has_patient || (actor && !IdAfter(actor->string_at("reference"), "Patient").empty());
    }
  }
  if (!has_patient) {
    return ErrorResponse(InvalidError("name the patient: a participant with actor Patient/<id>",
                                      "Appointment.participant.actor"));
  }
  // The caller must be allowed to write this Appointment as a request (patients: only for
  // themselves); booking then goes beyond what they may write directly.
  json::Value as_request = appt;
  as_request.set("status", json::Value::String("proposed"));
  if (auto denied = GuardWrite(ctx, access::Action::kCreate, &as_request, nullptr)) {
    return *denied;
  }
  auto slot = ctx.store.Read("Slot", slot_id);
  if (!slot.ok() || slot->deleted) {
    return ErrorResponse(NotFoundError("Slot/" + slot_id + " is not known"));
  }
  auto slot_json = json::Parse(slot->body);
  if (!slot_json.ok()) {
    return ErrorResponse(slot_json.status());
  }
  if (slot_json->string_at("status") != "free") {
    return ErrorResponse(ConflictError("Slot/" + slot_id + " is not free (status " +
                                       std::string(slot_json->string_at("status")) +
                                       "); choose another time"));
  }
  // The Schedule's actors (practitioner, location, service) take part in the appointment.
  json::Value participants = json::Value::Array();
  if (const json::Value* parts = appt.find("participant"); parts && parts->is_array()) {
    for (const json::Value& p : parts->items()) {
      json::Value copy = p;
      copy.set("status", json::Value::String("accepted"));
      participants.push_back(std::move(copy));
    }
  }
  if (const json::Value* sched = slot_json->find("schedule")) {
    std::string schedule_id = IdAfter(sched->string_at("reference"), "Schedule");
    auto schedule = schedule_id.empty() ? StatusOr<store::ResourceVersion>(NotFoundError(""))
                                        : ctx.store.Read("Schedule", schedule_id);
    if (schedule.ok() && !schedule->deleted) {
      if (auto s = json::Parse(schedule->body); s.ok()) {
        if (const json::Value* actors = s->find("actor"); actors && actors->is_array()) {
          for (const json::Value& a : actors->items()) {
            participants.push_back(Participant(a, "accepted"));
          }
        }
      }
    }
  }
  appt.erase("id");
  appt.erase("meta");
  appt.set("status", json::Value::String("booked"));
  appt.set("start", json::Value::String(std::string(slot_json->string_at("start"))));
  appt.set("end", json::Value::String(std::string(slot_json->string_at("end"))));
  if (appt.find("serviceType") == nullptr && slot_json->find("serviceType") != nullptr) {
    appt.set("serviceType", *slot_json->find("serviceType"));
  }
  appt.set("participant", std::move(participants));
  std::vector<fhir::ValidationIssue> issues;
  if (Status s = CheckResource(appt, "Appointment", &issues); !s.ok()) {
    return issues.empty() ? ErrorResponse(s) : IssuesResponse(issues, HttpStatusFor(s.code()));
  }
  slot_json->set("status", json::Value::String("busy"));
  store::PreparedWrite slot_write =
      PrepareVersion(std::move(*slot_json), ctx, slot_id, slot->version + 1, "PUT");
  store::PreparedWrite appt_write = PrepareVersion(std::move(appt), ctx, NewId(), 1, "POST");
  int64_t read_version = slot->version;
  Status s = ctx.store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current("Slot", slot_id));
    if (cur.deleted || cur.version != read_version) {
      return ConflictError("Slot/" + slot_id + " was just taken or changed; choose another time");
    }
    ASSIGN_OR_RETURN(store::CurrentVersion fresh, txn.Current("Appointment", appt_write.id));
    if (fresh.version != 0) {
      return ConflictError("generated id collided; retry");
    }
    RETURN_IF_ERROR(txn.Put(slot_write));
    return txn.Put(appt_write);
  });
  if (!s.ok()) {
    return ErrorResponse(s);
  }
  return WriteResponse(201, AsVersion(appt_write), ctx, true);
}

Status PlanSlotRelease(RequestContext& ctx, const json::Value& appointment, const std::string& id,
                       PlannedWrite* planned) {
  const json::Value* slots = appointment.find("slot");
  if (appointment.string_at("status") != "cancelled" || !slots || !slots->is_array()) {
    return Status::Ok();
  }
  if (auto before = ctx.store.Read("Appointment", id); before.ok() && !before->deleted) {
    auto old = json::Parse(before->body);
    if (old.ok() && old->string_at("status") == "cancelled") {
      return Status::Ok();  // already cancelled: its Slots were given back then
    }
  }
  for (const json::Value& ref : slots->items()) {
    std::string slot_id = IdAfter(ref.string_at("reference"), "Slot");
    auto slot = slot_id.empty() ? StatusOr<store::ResourceVersion>(NotFoundError(""))
                                : ctx.store.Read("Slot", slot_id);
    if (!slot.ok() || slot->deleted) {
      continue;  // a Slot that is gone holds no time
    }
    ASSIGN_OR_RETURN(json::Value slot_json, json::Parse(slot->body));
    if (slot_json.string_at("status") != "busy") {
      continue;
    }
    slot_json.set("status", json::Value::String("free"));
    planned->companions.emplace_back(
        PrepareVersion(std::move(slot_json), ctx, slot_id, slot->version + 1, "PUT"),
        slot->version);
  }
  return Status::Ok();
}

}  // namespace carechart::rest
