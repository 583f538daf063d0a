// AuditEvent construction, the batching audit writer and the auditing store (audit.h).
#include "access/audit.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>

#include "access/policy.h"
#include "core/base64.h"
#include "fhir/datetime.h"
#include "fhir/search_index.h"

namespace carechart::access {
namespace {

constexpr size_t kMaxEntities = 100;  // per AuditEvent; a big transaction notes the rest
constexpr size_t kMaxBatch = 256;     // AuditEvents per write function

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    std::abort();  // no randomness: nothing safe to do
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

json::Value Coding(const char* system, std::string code, std::string display = {}) {
  auto c = json::Value::Object();
  c.set("system", json::Value::String(system));
  c.set("code", json::Value::String(std::move(code)));
  if (!display.empty()) {
    c.set("display", json::Value::String(std::move(display)));
  }
  return c;
}

json::Value Array1(json::Value v) {
  auto a = json::Value::Array();
  a.push_back(std::move(v));
  return a;
}

json::Value Reference(std::string ref, std::string display = {}) {
  auto r = json::Value::Object();
  r.set("reference", json::Value::String(std::move(ref)));
  if (!display.empty()) {
    r.set("display", json::Value::String(std::move(display)));
  }
  return r;
}

json::Value IdentifierRef(const char* system, std::string value, std::string display) {
  auto id = json::Value::Object();
  id.set("system", json::Value::String(system));
  id.set("value", json::Value::String(std::move(value)));
  auto r = json::Value::Object();
  r.set("identifier", std::move(id));
  if (!display.empty()) {
    r.set("display", json::Value::String(std::move(display)));
  }
  return r;
}

json::Value UserAgent(const AuditRecord& r) {
  const auth::Principal* p = r.who.get();
  auto agent = json::Value::Object();
  std::string user = p ? p->user_id : r.user_id;
  std::string display = p && !p->display.empty() ? p->display : user;
  if (p && !p->practitioner_id.empty()) {
    agent.set("who", Reference("Practitioner/" + p->practitioner_id, display));
  } else if (p && p->role == auth::Role::kPatient && !p->patient_id.empty()) {
    agent.set("who", Reference("Patient/" + p->patient_id, display));
  } else if (!user.empty()) {
    agent.set("who", IdentifierRef("https://carechart.dev/fhir/users", user, display));
  } else if (p && !p->client_id.empty()) {
    agent.set("who", IdentifierRef("https://carechart.dev/fhir/clients", p->client_id, display));
  } else {
    auto who = json::Value::Object();
    who.set("display", json::Value::String("Carechart server"));
    agent.set("who", std::move(who));
  }
  if (!display.empty()) {
    agent.set("name", json::Value::String(display));
  }
  if (!user.empty()) {
    agent.set("altId", json::Value::String(user));
  } else if (p && !p->client_id.empty()) {
    agent.set("altId", json::Value::String("client:" + p->client_id));
  }
  if (p) {
    auto role = json::Value::Object();
    role.set("text", json::Value::String(std::string(RoleName(p->role))));
    agent.set("role", Array1(std::move(role)));
  }
  agent.set("requestor", json::Value::Bool(true));
  std::string address =
      !r.remote_address.empty() ? r.remote_address : (p ? p->remote_address : std::string());
  if (!address.empty()) {
    auto net = json::Value::Object();
    net.set("address", json::Value::String(address));
    net.set("type", json::Value::String("2"));  // IP address
    agent.set("network", std::move(net));
  }
  if (p && !p->purpose_of_use.empty()) {
    auto pou = json::Value::Object();
    pou.set("coding", Array1(Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                    p->purpose_of_use)));
    agent.set("purposeOfUse", Array1(std::move(pou)));
  }
  return agent;
}

json::Value ClientAgent(const auth::Principal& p) {
  auto agent = json::Value::Object();
  auto type = json::Value::Object();
  type.set("coding",
           Array1(Coding("http://dicom.nema.org/resources/ontology/DCM", "110150", "Application")));
  agent.set("type", std::move(type));
  agent.set("who", IdentifierRef("https://carechart.dev/fhir/clients", p.client_id, ""));
  agent.set("requestor", json::Value::Bool(false));
  return agent;
}

json::Value Entity(const char* type_code, std::string reference, const char* role_code,
                   const char* role_display) {
  auto e = json::Value::Object();
  e.set("what", Reference(std::move(reference)));
  e.set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", type_code));
  e.set("role",
        Coding("http://terminology.hl7.org/CodeSystem/object-role", role_code, role_display));
  return e;
}

json::Value BuildAuditEvent(const AuditRecord& r, const std::string& id, int64_t recorded) {
  auto ev = json::Value::Object();
  ev.set("resourceType", json::Value::String("AuditEvent"));
  ev.set("id", json::Value::String(id));
  auto meta = json::Value::Object();
  meta.set("versionId", json::Value::String("1"));
  meta.set("lastUpdated", json::Value::String(fhir::FormatInstant(recorded)));
  meta.set("source", json::Value::String(std::string(store::kAuditEventSource)));
  if (!r.facility_id.empty()) {
    meta.set("tag", Array1(Coding(kFacilityTagSystem, r.facility_id)));
  }
  ev.set("meta", std::move(meta));
  if (r.type_code == "rest") {
    ev.set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                          "RESTful Operation"));
    ev.set("subtype", Array1(Coding("http://hl7.org/fhir/restful-interaction", r.subtype)));
  } else {
    ev.set("type", Coding("http://dicom.nema.org/resources/ontology/DCM", r.type_code));
    ev.set("subtype", Array1(Coding("http://dicom.nema.org/resources/ontology/DCM", r.subtype)));
  }
  ev.set("action", json::Value::String(std::string(1, r.action)));
  ev.set("recorded", json::Value::String(fhir::FormatInstant(recorded)));
  ev.set("outcome", json::Value::String(std::to_string(r.outcome)));
  std::string desc = r.outcome_desc;
  if (r.emergency) {
    desc += std::string(desc.empty() ? "" : "; ") + "emergency access (break-the-glass)" +
            (r.emergency_reason.empty() ? "" : ": " + r.emergency_reason);
  }
  if (!desc.empty()) {
    ev.set("outcomeDesc", json::Value::String(desc));
  }
  std::string purpose = r.emergency ? "ETREAT" : (r.who ? r.who->purpose_of_use : "");
  if (!purpose.empty()) {
    auto pou = json::Value::Object();
    pou.set("coding",
            Array1(Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", purpose)));
    ev.set("purposeOfEvent", Array1(std::move(pou)));
  }
  auto agents = json::Value::Array();
  agents.push_back(UserAgent(r));
  if (r.who && !r.who->client_id.empty() && !r.who->user_id.empty()) {
    agents.push_back(ClientAgent(*r.who));
  }
  ev.set("agent", std::move(agents));
  auto source = json::Value::Object();
  if (!r.facility_id.empty()) {
    source.set("site", json::Value::String(r.facility_id));
  }
  auto observer = json::Value::Object();
  observer.set("display", json::Value::String("Carechart"));
  source.set("observer", std::move(observer));
  source.set("type", Array1(Coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                   "4", "Application Server")));
  ev.set("source", std::move(source));
  auto entities = json::Value::Array();
  for (const std::string& pid : r.patient_ids) {
    entities.push_back(Entity("1", "Patient/" + pid, "1", "Patient"));
  }
  size_t n = 0;
  for (const std::string& ref : r.resources) {
    if (++n > kMaxEntities) {
      break;
    }
    entities.push_back(Entity("2", ref, "4", "Domain Resource"));
  }
  if (!r.query.empty()) {
    auto q = json::Value::Object();
    q.set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2"));
    q.set("role", Coding("http://terminology.hl7.org/CodeSystem/object-role", "24", "Query"));
    q.set("query", json::Value::String(Base64Encode(r.query)));
    entities.push_back(std::move(q));
  }
  if (r.resources.size() > kMaxEntities) {
    auto more = json::Value::Object();
    more.set("description", json::Value::String(std::to_string(r.resources.size() - kMaxEntities) +
                                                " more resources not listed"));
    entities.push_back(std::move(more));
  }
  if (!entities.items().empty()) {
    ev.set("entity", std::move(entities));
  }
  return ev;
}

thread_local const RequestAudit* tls_request_audit = nullptr;

// Records the Puts of a write function (and passes everything to the real transaction).
class RecordingTxn : public store::WriteTxn {
 public:
  explicit RecordingTxn(store::WriteTxn& inner) : inner_(inner) {}
  StatusOr<store::CurrentVersion> Current(const std::string& type, const std::string& id) override {
    return inner_.Current(type, id);
  }
  StatusOr<std::vector<std::string>> SearchIds(const store::SearchQuery& query,
                                               int limit) override {
    return inner_.SearchIds(query, limit);
  }
  Status Prefetch(const std::vector<std::pair<std::string, std::string>>& keys) override {
    return inner_.Prefetch(keys);
  }
  Status Put(const store::PreparedWrite& w) override {
    RETURN_IF_ERROR(inner_.Put(w));
    puts.push_back({w.type, w.id, w.version, w.method, w.patient_id});
    return Status::Ok();
  }
  Status AppendAudit(const store::AuditLogEntry& entry) override {
    return inner_.AppendAudit(entry);
  }

  struct Put_ {
    std::string type, id;
    int64_t version;
    std::string method, patient_id;
  };
  std::vector<Put_> puts;

 private:
  store::WriteTxn& inner_;
};

char ActionOf(const std::vector<RecordingTxn::Put_>& puts) {
  bool all_create = true, all_delete = true;
  for (const auto& p : puts) {
    all_create = all_create && p.method == "POST";
    all_delete = all_delete && p.method == "DELETE";
  }
  return all_create ? 'C' : all_delete ? 'D' : 'U';
}

}  // namespace

store::PreparedWrite PrepareAuditEvent(const AuditRecord& record) {
  int64_t recorded = record.recorded_us ? record.recorded_us : NowUs();
  store::PreparedWrite w;
  w.type = "AuditEvent";
  w.id = RandomId();
  w.version = 1;
  w.last_updated_us = recorded;
  w.method = "POST";
  json::Value ev = BuildAuditEvent(record, w.id, recorded);
  w.index = fhir::ExtractIndex(ev);
  w.patient_id = record.patient_ids.empty() ? std::string() : record.patient_ids.front();
  w.body = json::Write(ev);
  return w;
}

Status StoreAuditEvents(store::WriteTxn& txn, const std::vector<store::PreparedWrite>& events) {
  for (const store::PreparedWrite& w : events) {
    RETURN_IF_ERROR(txn.Put(w));
    RETURN_IF_ERROR(txn.AppendAudit({w.last_updated_us, w.id, w.body}));
  }
  return Status::Ok();
}

AuditTrail::AuditTrail(store::ResourceStore& store, std::chrono::milliseconds commit_interval)
    : store_(store), commit_interval_(commit_interval), thread_([this] { Run(); }) {}

AuditTrail::~AuditTrail() {
  Flush();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AuditTrail::Record(AuditRecord record) {
  if (record.recorded_us == 0) {
    record.recorded_us = NowUs();
  }
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(record));
    ++queued_;
    // The thread waits for a first event, then for the interval or a full batch: wake it only
    // then, not once per request.
    wake = queue_.size() == 1 || queue_.size() == kMaxBatch;
  }
  if (wake) {
    wake_.notify_one();
  }
}

void AuditTrail::Flush() {
  std::unique_lock lock(mu_);
  int64_t target = queued_;
  ++flush_waiters_;
  wake_.notify_one();  // no waiting out the commit interval
  done_.wait(lock, [&] { return stored_ >= target || stop_; });
  --flush_waiters_;
}

int64_t AuditTrail::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void AuditTrail::Run() {
  // Each commit makes every SQLite reader connection drop its page cache at its next read
  // (WAL), so the next search starts cold: at most one commit per interval while requests keep
  // coming, and at once for the first event after a quiet interval (decisions D45).
  auto last_commit = std::chrono::steady_clock::time_point{};
  while (true) {
    std::vector<AuditRecord> batch;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) {
        return;
      }
      wake_.wait_until(lock, last_commit + commit_interval_,
                       [&] { return stop_ || flush_waiters_ > 0 || queue_.size() >= kMaxBatch; });
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<store::PreparedWrite> events;
    events.reserve(batch.size());
    for (const AuditRecord& r : batch) {
      events.push_back(PrepareAuditEvent(r));
    }
    Status s = store_.Write([&](store::WriteTxn& txn) { return StoreAuditEvents(txn, events); });
    last_commit = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      if (!s.ok()) {
        ++failures_;
        std::fprintf(stderr, "carechart: could not store %zu audit events: %s\n", events.size(),
                     s.message().c_str());
      }
      stored_ += static_cast<int64_t>(batch.size());
    }
    done_.notify_all();
  }
}

RequestAuditScope::RequestAuditScope(const RequestAudit* audit) : previous_(tls_request_audit) {
  tls_request_audit = audit;
}
RequestAuditScope::~RequestAuditScope() { tls_request_audit = previous_; }
const RequestAudit* RequestAuditScope::Current() { return tls_request_audit; }

Status AuditedStore::Write(store::WriteFunction fn) {
  const RequestAudit* current = RequestAuditScope::Current();
  if (current == nullptr || !current->who) {
    return inner_.Write(std::move(fn));  // in-process work (import, HL7, start-up)
  }
  RequestAudit who = *current;  // the write function runs on the writer thread
  return inner_.Write([fn = std::move(fn), who](store::WriteTxn& txn) -> Status {
    RecordingTxn recording(txn);
    RETURN_IF_ERROR(fn(recording));
    if (recording.puts.empty()) {
      return Status::Ok();
    }
    AuditRecord r;
    r.action = ActionOf(recording.puts);
    r.subtype = r.action == 'C' ? "create" : r.action == 'D' ? "delete" : "update";
    if (recording.puts.size() > 1) {
      r.subtype = "transaction";
    }
    r.who = who.who;
    r.facility_id = who.facility_id;
    r.remote_address = who.remote_address;
    r.emergency = who.emergency;
    r.emergency_reason = who.emergency_reason;
    for (const auto& p : recording.puts) {
      r.resources.push_back(p.type + "/" + p.id + "/_history/" + std::to_string(p.version));
      if (!p.patient_id.empty() && std::find(r.patient_ids.begin(), r.patient_ids.end(),
                                             p.patient_id) == r.patient_ids.end()) {
        r.patient_ids.push_back(p.patient_id);
      }
    }
    return StoreAuditEvents(txn, {PrepareAuditEvent(r)});
  });
}

}  // namespace carechart::access
