#include "hl7v2/processor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "core/base64.h"
#include "fhir/datetime.h"
#include "fhir/json.h"
#include "hl7v2/mapper.h"
#include "http/message.h"
#include "rest/context.h"
#include "rest/fhir_api.h"
#include "rest/resource_prep.h"

namespace carechart::hl7v2 {

using json::Value;

namespace {

constexpr int kMaxAttempts = 8;

std::string Key(std::string_view type, std::string_view id) {
  std::string k(type);
  k += '/';
  k += id;
  return k;
}

// A valid FHIR code from any text (whitespace runs become '_').
std::string CodeOf(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += (c == ' ' || c == '\t' || c == '\r' || c == '\n') ? '_' : c;
  }
  if (out.empty()) {
    out = "none";
  }
  return out.substr(0, 200);
}

std::string EscapeSearch(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '|' || c == '$') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

Value Tag(const char* system, const std::string& code, const std::string& display) {
  Value t = Value::Object();
  t.set("system", Value::String(system));
  t.set("code", Value::String(code));
  if (!display.empty()) {
    t.set("display", Value::String(display));
  }
  return t;
}

Value RawBinary(std::string_view raw, Value tags) {
  Value b = Value::Object();
  b.set("resourceType", Value::String("Binary"));
  Value meta = Value::Object();
  meta.set("tag", std::move(tags));
  b.set("meta", std::move(meta));
  b.set("contentType", Value::String(kHl7ContentType));
  b.set("data", Value::String(Base64Encode(raw)));
  return b;
}

// AR (the message itself is unacceptable) rather than AE (it could not be applied).
bool IsReject(const Error& e) {
  return (e.code >= 200 && e.code <= 203) || (e.segment == "MSH" && e.field == 10 && e.code == 101);
}

}  // namespace

std::string MessageBinaryId(const std::string& sender, const std::string& control_id) {
  return "hl7m-" + Hash32(sender + "\x1f" + control_id);
}
std::string ErrorBinaryId(const std::string& sender, const std::string& control_id) {
  return "hl7e-" + Hash32(sender + "\x1f" + control_id);
}

struct Processor::Impl {
  store::ResourceStore& store;
  ProcessorOptions options;
  http::Request dummy_request;
  rest::ApiOptions api_options;
  std::mutex cache_mu;
  std::unordered_set<std::string> existing;  // "Type/id" known to exist (Ensure)

  Impl(store::ResourceStore& s, ProcessorOptions o) : store(s), options(std::move(o)) {}

  bool Exists(const std::string& key) {
    std::lock_guard<std::mutex> l(cache_mu);
    return existing.count(key) > 0;
  }
  void MarkExisting(const std::string& key) {
    std::lock_guard<std::mutex> l(cache_mu);
    if (existing.size() > 200000) {
      existing.clear();
    }
    existing.insert(key);
  }

  Outcome ProcessOne(const Message& m, const std::string& raw, const std::string& replay_id);
  // Every message of a parsed input, in order: the ACKs concatenated, the last one's status.
  Outcome ProcessAll(const Document& doc, const std::string& replay_id) {
    Outcome all;
    for (size_t i = 0; i < doc.messages.size(); ++i) {
      Message m = doc.MessageAt(i);
      Outcome o = ProcessOne(m, m.Serialize(), replay_id);
      all.ack += o.ack;
      all.code = o.code;
      all.duplicate = o.duplicate;
      all.error = o.error;
      all.error_id = o.error_id;
      for (auto& w : o.written) {
        all.written.push_back(std::move(w));
      }
    }
    return all;
  }
  Outcome Fail(const Message* m, std::string_view raw, const std::string& queue_id,
               const std::string& description, const Error& error, const FacilityEntry& fac,
               const std::string& actor, bool reject = false);
  Status Queue(std::string_view raw, const std::string& id, const std::string& description,
               const Error& error, const FacilityEntry& fac, const std::string& actor);
};

// The planning context of one attempt at one message.
class Plan : public MapContext {
 public:
  struct Entry {
    Value resource;
    std::string type, id;
    int64_t base = 0;
    std::string segment;
    int sequence = 0;
  };
  struct SearchCheck {
    store::SearchQuery query;
    std::vector<std::string> ids;
  };

  Plan(Processor::Impl& impl, const FacilityEntry& fac, const std::map<std::string, int64_t>& hints)
      : impl_(impl), fac_(fac), hints_(hints) {}

  const MappingConfig& config() const override { return impl_.options.mapping; }
  const FacilityEntry& facility() const override { return fac_; }
  void SetSource(const std::string& segment, int sequence) override {
    segment_ = segment;
    sequence_ = sequence;
  }

  StatusOr<std::optional<Value>> Get(const std::string& type, const std::string& id) override {
    std::string key = Key(type, id);
    if (auto it = index_.find(key); it != index_.end()) {
      return std::optional<Value>(writes_[it->second].resource);
    }
    auto r = impl_.store.Read(type, id);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) {
        expect_[key] = 0;
        return std::optional<Value>();
      }
      return r.status();
    }
    expect_[key] = r->version;
    if (r->deleted) {
      return std::optional<Value>();
    }
    auto parsed = json::Parse(r->body);
    if (!parsed.ok()) {
      return parsed.status();
    }
    return std::optional<Value>(std::move(*parsed));
  }

  Status Put(Value resource) override {
    std::string type(resource.string_at("resourceType")), id(resource.string_at("id"));
    std::string key = Key(type, id);
    if (auto it = index_.find(key); it != index_.end()) {
      writes_[it->second].resource = std::move(resource);
      return Status::Ok();
    }
    if (!expect_.count(key)) {
      auto cur = Get(type, id);
      if (!cur.ok()) {
        return cur.status();
      }
    }
    Add(std::move(resource), type, id, expect_[key]);
    return Status::Ok();
  }

  Status PutBlind(Value resource) override {
    std::string type(resource.string_at("resourceType")), id(resource.string_at("id"));
    std::string key = Key(type, id);
    if (auto it = index_.find(key); it != index_.end()) {
      writes_[it->second].resource = std::move(resource);
      return Status::Ok();
    }
    int64_t base = 0;
    if (auto h = hints_.find(key); h != hints_.end()) {
      base = h->second;
    }
    if (auto e = expect_.find(key); e != expect_.end()) {
      base = e->second;
    }
    expect_[key] = base;
    Add(std::move(resource), type, id, base);
    return Status::Ok();
  }

  Status Ensure(Value resource) override {
    std::string type(resource.string_at("resourceType")), id(resource.string_at("id"));
    std::string key = Key(type, id);
    if (index_.count(key) || impl_.Exists(key)) {
      return Status::Ok();
    }
    auto cur = Get(type, id);
    if (!cur.ok()) {
      return cur.status();
    }
    if (cur->has_value()) {
      impl_.MarkExisting(key);
      expect_.erase(key);  // its content does not matter: no need to re-check its version
      return Status::Ok();
    }
    ensured_.push_back(key);
    return Put(std::move(resource));
  }

  StatusOr<std::string> FindPatient(
      const std::vector<std::pair<std::string, std::string>>& identifiers) override {
    std::string value;
    for (const auto& [sys, val] : identifiers) {
      if (!value.empty()) {
        value += ",";
      }
      value += EscapeSearch(sys) + "|" + EscapeSearch(val);
    }
    auto q = store::ParseSearch("Patient", {{"identifier", value}, {"_count", "10"}});
    if (!q.ok()) {
      return q.status();
    }
    q->want_total = false;
    auto r = impl_.store.Search(*q);
    if (!r.ok()) {
      return r.status();
    }
    SearchCheck check;
    check.query = *q;
    for (const auto& v : r->matches) {
      check.ids.push_back(v.id);
    }
    std::sort(check.ids.begin(), check.ids.end());
    std::vector<std::string> candidates = check.ids;
    searches_.push_back(std::move(check));
    if (candidates.empty()) {
      return std::string();
    }
    // Prefer a patient that was not merged away; else follow replaced-by.
    std::string fallback;
    for (const auto& id : candidates) {
      std::string cur = id;
      for (int depth = 0; depth < 5; ++depth) {
        auto p = Get("Patient", cur);
        if (!p.ok()) {
          return p.status();
        }
        if (!*p) {
          break;
        }
        std::string next;
        if (const Value* links = (*p)->find("link"); links && links->is_array()) {
          for (const auto& l : links->items()) {
            if (l.string_at("type") == "replaced-by") {
              if (const Value* o = l.find("other")) {
                std::string ref(o->string_at("reference"));
                if (ref.starts_with("Patient/")) {
                  next = ref.substr(8);
                }
              }
            }
          }
        }
        if (next.empty() || next == cur) {
          if (cur == id) {
            return cur;
          }
          if (fallback.empty()) {
            fallback = cur;
          }
          break;
        }
        cur = next;
      }
    }
    return fallback.empty() ? candidates.front() : fallback;
  }

  StatusOr<std::vector<Value>> Compartment(const std::string& patient_id) override {
    store::SearchQuery q;
    q.compartment_type = "Patient";
    q.compartment_id = patient_id;
    q.count = 1000;
    q.want_total = false;
    auto r = impl_.store.Search(q);
    if (!r.ok()) {
      return r.status();
    }
    if (r->matches.size() >= 1000) {
      return Status(StatusCode::kTooLarge,
                    "the prior patient has 1000 or more resources: merge them in smaller steps");
    }
    std::vector<Value> out;
    for (const auto& v : r->matches) {
      std::string key = Key(v.type, v.id);
      if (auto it = index_.find(key); it != index_.end()) {
        out.push_back(writes_[it->second].resource);
        continue;
      }
      auto parsed = json::Parse(v.body);
      if (!parsed.ok()) {
        return parsed.status();
      }
      expect_[key] = v.version;
      out.push_back(std::move(*parsed));
    }
    return out;
  }

  void Add(Value resource, const std::string& type, const std::string& id, int64_t base) {
    index_[Key(type, id)] = writes_.size();
    writes_.push_back({std::move(resource), type, id, base, segment_, sequence_});
  }

  std::vector<Entry>& writes() { return writes_; }
  const std::map<std::string, int64_t>& expectations() const { return expect_; }
  const std::vector<SearchCheck>& searches() const { return searches_; }
  const std::vector<std::string>& ensured() const { return ensured_; }

 private:
  Processor::Impl& impl_;
  const FacilityEntry& fac_;
  const std::map<std::string, int64_t>& hints_;
  std::vector<Entry> writes_;
  std::map<std::string, size_t> index_;
  std::map<std::string, int64_t> expect_;  // "Type/id" -> version expected current (0: absent)
  std::vector<SearchCheck> searches_;
  std::vector<std::string> ensured_;
  std::string segment_ = "MSH";
  int sequence_ = 1;
};

Status Processor::Impl::Queue(std::string_view raw, const std::string& id,
                              const std::string& description, const Error& error,
                              const FacilityEntry& fac, const std::string& actor) {
  rest::RequestContext ctx(dummy_request, store, api_options);
  ctx.facility_id = fac.id;
  ctx.facility_name = fac.name;
  ctx.actor = actor;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    int64_t version = 0;
    auto cur = store.Read("Binary", id);
    if (cur.ok()) {
      version = cur->version;
    } else if (cur.status().code() != StatusCode::kNotFound) {
      return cur.status();
    }
    Value tags = Value::Array();
    tags.push_back(Tag(kStatusTagSystem, "error", error.ToString().substr(0, 1000)));
    tags.push_back(Tag(kMessageTagSystem, CodeOf(description), description));
    store::PreparedWrite w = rest::PrepareVersion(RawBinary(raw, std::move(tags)), ctx, id,
                                                  version + 1, version ? "PUT" : "POST");
    Status s = store.Write([&](store::WriteTxn& txn) -> Status {
      ASSIGN_OR_RETURN(auto c, txn.Current("Binary", id));
      if (c.version != version) {
        return ConflictError("changed");
      }
      return txn.Put(w);
    });
    if (s.code() == StatusCode::kConflict) {
      continue;
    }
    return s;
  }
  return ConflictError("the error queue entry " + id + " kept changing");
}

Outcome Processor::Impl::Fail(const Message* m, std::string_view raw, const std::string& queue_id,
                              const std::string& description, const Error& error,
                              const FacilityEntry& fac, const std::string& actor, bool reject) {
  Outcome o;
  o.error = error;
  o.code = reject || IsReject(error) ? "AR" : "AE";
  Status qs = Queue(raw, queue_id, description, error, fac, actor);
  if (qs.ok()) {
    o.error_id = queue_id;
  } else {
    spdlog::error("hl7: cannot queue failed message {}: {}", description, qs.ToString());
  }
  spdlog::warn("hl7: {} {}: {}", o.code, description, error.ToString());
  if (m) {
    AckOptions ao;
    ao.code = o.code;
    ao.text = error.text;
    ao.errors.push_back(error);
    o.ack = BuildAck(*m, ao);
  } else {
    o.ack = BuildRejectForUnparsable(raw, error);
  }
  return o;
}

Outcome Processor::Impl::ProcessOne(const Message& m, const std::string& raw,
                                    const std::string& replay_id) {
  const Segment& msh = m.msh();
  std::string sender = m.Get(msh, 3) + "|" + m.Get(msh, 4);
  std::string ctrl = m.ControlId();
  FacilityEntry fac = options.mapping.FacilityFor(m.Get(msh, 4));
  std::string actor = "hl7v2:" + CodeOf(sender);
  std::string description =
      m.MessageType() + "^" + m.TriggerEvent() + " " + ctrl + " from " + sender;
  std::string err_id = ErrorBinaryId(sender, ctrl);
  if (ctrl.empty()) {
    Error e{"MSH", 1, 10, 101, "MSH-10 (message control id) is empty"};
    std::string id = !replay_id.empty() ? replay_id : "hl7e-" + Hash32("nocontrol\x1f" + raw);
    return Fail(&m, raw, id, description, e, fac, actor);
  }
  if (!replay_id.empty()) {
    err_id = replay_id;
  }
  Error err;
  if (!IsSupported(m, &err)) {
    return Fail(&m, raw, err_id, description, err, fac, actor);
  }

  std::string raw_id = MessageBinaryId(sender, ctrl);
  auto duplicate_ack = [&]() {
    Outcome o;
    o.code = "AA";
    o.duplicate = true;
    AckOptions ao;
    ao.text = "duplicate of an already applied message; not applied again";
    o.ack = BuildAck(m, ao);
    return o;
  };
  if (auto done = store.Read("Binary", raw_id); done.ok()) {
    return duplicate_ack();
  }

  rest::RequestContext ctx(dummy_request, store, api_options);
  ctx.facility_id = fac.id;
  ctx.facility_name = fac.name;
  ctx.actor = actor;
  std::map<std::string, int64_t> hints;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Plan plan(*this, fac, hints);
    if (!MapMessage(m, plan, &err)) {
      return Fail(&m, raw, err_id, description, err, fac, actor);
    }
    std::vector<store::PreparedWrite> prepared;
    prepared.reserve(plan.writes().size() + 2);
    for (auto& e : plan.writes()) {
      if (options.validate) {
        std::vector<fhir::ValidationIssue> issues;
        Status s = rest::CheckResource(e.resource, e.type, &issues);
        if (!s.ok()) {
          Error ve{e.segment, e.sequence, 0, 207,
                   "the " + e.type + " mapped from this segment is not valid FHIR: " + s.message() +
                       (s.location().empty() ? "" : " (at " + s.location() + ")")};
          return Fail(&m, raw, err_id, description, ve, fac, actor);
        }
      }
      prepared.push_back(rest::PrepareVersion(std::move(e.resource), ctx, e.id, e.base + 1,
                                              e.base == 0 ? "POST" : "PUT"));
    }
    // The raw message, and the error-queue entry it resolves (a resend or a replay).
    Value tags = Value::Array();
    tags.push_back(Tag(kStatusTagSystem, "processed", ""));
    tags.push_back(Tag(kMessageTagSystem, CodeOf(ctrl), description));
    prepared.push_back(
        rest::PrepareVersion(RawBinary(raw, std::move(tags)), ctx, raw_id, 1, "POST"));
    int64_t err_version = 0;
    if (auto queued = store.Read("Binary", err_id); queued.ok() && !queued->deleted) {
      err_version = queued->version;
      auto parsed = json::Parse(queued->body);
      if (parsed.ok() && parsed->find("data")) {
        Value resolved_tags = Value::Array();
        resolved_tags.push_back(
            Tag(kStatusTagSystem, "resolved", "applied " + fhir::FormatInstant(rest::NowMicros())));
        resolved_tags.push_back(Tag(kMessageTagSystem, CodeOf(ctrl), description));
        Value b = RawBinary(raw, std::move(resolved_tags));
        prepared.push_back(rest::PrepareVersion(std::move(b), ctx, err_id, err_version + 1, "PUT"));
      } else {
        err_version = 0;
      }
    }
    bool duplicate = false;
    std::map<std::string, int64_t> actual;
    Status s = store.Write([&](store::WriteTxn& txn) -> Status {
      ASSIGN_OR_RETURN(auto done, txn.Current("Binary", raw_id));
      if (done.version != 0) {
        duplicate = true;
        return Status::Ok();
      }
      bool conflict = false;
      for (const auto& [key, version] : plan.expectations()) {
        size_t slash = key.find('/');
        ASSIGN_OR_RETURN(auto c, txn.Current(key.substr(0, slash), key.substr(slash + 1)));
        if (c.version != version) {
          actual[key] = c.version;
          conflict = true;
        }
      }
      if (err_version) {
        ASSIGN_OR_RETURN(auto c, txn.Current("Binary", err_id));
        if (c.version != err_version) {
          conflict = true;
        }
      }
      if (conflict) {
        return ConflictError("a resource changed while the message was mapped");
      }
      for (const auto& check : plan.searches()) {
        ASSIGN_OR_RETURN(auto ids, txn.SearchIds(check.query, 10));
        std::sort(ids.begin(), ids.end());
        if (ids != check.ids) {
          return ConflictError("the patient lookup changed");
        }
      }
      for (const auto& w : prepared) {
        RETURN_IF_ERROR(txn.Put(w));
      }
      return Status::Ok();
    });
    if (s.code() == StatusCode::kConflict && attempt + 1 < kMaxAttempts) {
      for (auto& [k, v] : actual) {
        hints[k] = v;
      }
      continue;
    }
    if (!s.ok()) {
      Error se{"MSH", 1, 0, s.code() == StatusCode::kConflict ? 206 : 207,
               "could not be stored: " + s.message()};
      return Fail(&m, raw, err_id, description, se, fac, actor);
    }
    if (duplicate) {
      return duplicate_ack();
    }
    for (const auto& k : plan.ensured()) {
      MarkExisting(k);
    }
    Outcome o;
    o.code = "AA";
    for (const auto& w : prepared) {
      o.written.push_back(w.type + "/" + w.id + "/_history/" + std::to_string(w.version));
    }
    AckOptions ao;
    o.ack = BuildAck(m, ao);
    return o;
  }
  Error se{"MSH", 1, 0, 206, "resources kept changing while the message was applied"};
  return Fail(&m, raw, err_id, description, se, fac, actor);
}

Processor::Processor(store::ResourceStore& store, ProcessorOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
Processor::~Processor() = default;

Outcome Processor::Process(std::string_view raw) {
  Document doc;
  Error err;
  if (!Parse(raw, &doc, &err)) {
    FacilityEntry fac = impl_->options.mapping.FacilityFor("");
    std::string id = "hl7e-" + Hash32(std::string("unparsable\x1f") + std::string(raw));
    return impl_->Fail(nullptr, raw, id, "unparsable input", err, fac, "hl7v2:unknown", true);
  }
  return impl_->ProcessAll(doc, "");
}

StatusOr<Outcome> Processor::Replay(const std::string& error_id) {
  auto r = impl_->store.Read("Binary", error_id);
  if (!r.ok() || r->deleted) {
    return NotFoundError("no queued HL7 message " + error_id);
  }
  ASSIGN_OR_RETURN(Value b, json::Parse(r->body));
  if (b.string_at("contentType") != kHl7ContentType) {
    return InvalidError("Binary/" + error_id + " is not an HL7 v2 message");
  }
  std::optional<std::string> decoded = Base64Decode(b.string_at("data"));
  if (!decoded) {
    return InvalidError("Binary/" + error_id + " holds invalid Base64 data");
  }
  std::string raw = std::move(*decoded);
  Document doc;
  Error err;
  if (!Parse(raw, &doc, &err)) {
    Outcome o;
    o.code = "AR";
    o.error = err;
    o.error_id = error_id;
    o.ack = BuildRejectForUnparsable(raw, err);
    return o;
  }
  return impl_->ProcessAll(doc, error_id);
}

StatusOr<std::vector<ErrorEntry>> Processor::ListErrors(int limit, bool all) {
  std::vector<std::pair<std::string, std::string>> params = {{"_count", std::to_string(limit)},
                                                             {"_sort", "-_lastUpdated"}};
  params.push_back({"_tag", std::string(kStatusTagSystem) + "|error" +
                                (all ? std::string(",") + kStatusTagSystem + "|resolved" : "")});
  ASSIGN_OR_RETURN(auto q, store::ParseSearch("Binary", params));
  q.want_total = false;
  ASSIGN_OR_RETURN(auto res, impl_->store.Search(q));
  std::vector<ErrorEntry> out;
  for (const auto& v : res.matches) {
    auto parsed = json::Parse(v.body);
    if (!parsed.ok()) {
      continue;
    }
    ErrorEntry e;
    e.id = v.id;
    if (const Value* meta = parsed->find("meta")) {
      e.last_updated = std::string(meta->string_at("lastUpdated"));
      if (const Value* tags = meta->find("tag")) {
        for (const auto& t : tags->items()) {
          if (t.string_at("system") == kStatusTagSystem) {
            e.status = std::string(t.string_at("code"));
            e.text = std::string(t.string_at("display"));
          } else if (t.string_at("system") == kMessageTagSystem) {
            e.message = std::string(t.string_at("display"));
          }
        }
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace carechart::hl7v2
