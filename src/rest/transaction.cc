// The transaction interaction (http.html#transaction): every entry or none.
//
// Each attempt resolves what every entry means against committed data (conditional creates,
// updates, deletes and references, then the current versions of every target in one ReadMany),
// validates and prepares each entry's version outside the writer in one pass (validation, ids,
// reference rewriting, stamping, serialisation, index entries: each resource tree is walked while
// it is still in the CPU's caches, D107), then runs ONE write function
// that re-checks each version and search the attempt relied on and stores everything. If one of
// them changed meanwhile the attempt is thrown away and the transaction prepared again (up to
// kMaxTransactionAttempts); an entry with ifMatch gets 412 instead.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "fhir/json.h"
#include "fhir/search_index.h"
#include "rest/access_hooks.h"
#include "rest/bundle_processing.h"
#include "rest/interactions.h"
#include "rest/json_patch.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/reference_rewrite.h"
#include "rest/resource_prep.h"
#include "rest/unchanged_content.h"
#include "rest/write_support.h"

namespace carechart::rest {

namespace {

enum class Action {
  kNone,     // GET/HEAD: dispatched after the commit
  kCreate,   // POST
  kMatched,  // POST with ifNoneExist that matched: nothing written
  kUpdate,   // PUT (plain or conditional)
  kDelete,   // DELETE (plain or conditional)
  kPatch,    // PATCH
  kNoop,     // conditional DELETE matching nothing, DELETE of a deleted resource
};

struct Plan {
  Action action = Action::kNone;
  std::string id;
  int64_t expected = 0;  // the current version this plan was made against
  bool check_version = false;
  bool has_if_match = false;
  bool writes = false;
  bool unchanged = false;  // an update skipped because its content is already stored
  store::PreparedWrite write;
  // Written with `write`, each checked against the version it was planned from: the Slots a
  // cancelled Appointment gives back.
  std::vector<std::pair<store::PreparedWrite, int64_t>> companions;
  int status = 200;
  std::optional<store::ResourceVersion> version;
};

// A search the attempt relied on, re-run inside the write.
struct SearchCheck {
  store::SearchQuery query;
  std::vector<std::string> ids;  // sorted
  size_t entry = 0;
};

Status AtEntry(const BundleEntry& e, const Status& s, const std::string& location = {}) {
  return Status(s.code(), e.Where() + " (" + e.method + " " + e.url + "): " + s.message(),
                location.empty() ? s.location() : location);
}

class Transaction {
 public:
  Transaction(RequestContext& ctx, ParsedBundle& bundle)
      : ctx_(ctx), bundle_(bundle), entries_(bundle.entries), validated_(entries_.size(), false) {}

  // After an attempt that raced: the entries as they were parsed, when that attempt moved their
  // resources away (ParsedBundle::source).
  Status RestoreEntries() { return ReparseEntries(bundle_); }

  // One attempt; `raced` tells a retry may succeed.
  StatusOr<TransactionResult> Attempt(bool* raced, TransactionError* error) {
    std::optional<ResourceLocks> locks;  // held until the commit (D66)
    if (Status s = PrepareAll(&locks, error); !s.ok()) {
      // An invalid resource is reported before any other error, wherever it is in the Bundle,
      // as when every resource was validated before anything else was looked at.
      RETURN_IF_ERROR(ValidateTheRest(error));
      return s;
    }
    RETURN_IF_ERROR(Commit(raced));
    TransactionResult result;
    result.entries.resize(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) {
      Plan& p = plans_[i];
      EntryResult& r = result.entries[i];
      r.status = p.status;
      if (p.writes) {
        r.version = AsVersion(std::move(p.write));  // stored: the plan is not used again
        ++result.written;
      } else if (p.version) {
        result.unchanged += p.unchanged ? 1 : 0;
        r.version = std::move(p.version);
      }
    }
    return result;
  }

 private:
  // Resolves every entry, locks and reads the current versions of the targets, then validates and
  // prepares the entries in Bundle order. The first invalid resource stops it.
  Status PrepareAll(std::optional<ResourceLocks>* locks, TransactionError* error) {
    plans_.assign(entries_.size(), Plan{});
    checks_.clear();
    refs_ = ReferenceMap{};
    touched_.clear();
    released_slots_.clear();
    RETURN_IF_ERROR(ResolveTargets());
    RETURN_IF_ERROR(ResolveConditionalReferences());
    std::vector<std::pair<std::string, std::string>> target_keys;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (ReadsCurrent(plans_[i].action)) {
        target_keys.emplace_back(entries_[i].type, plans_[i].id);
      }
    }
    locks->emplace(target_keys);
    RETURN_IF_ERROR(ReadCurrentVersions(target_keys));
    for (size_t i = 0; i < entries_.size(); ++i) {
      RETURN_IF_ERROR(ValidateOnce(entries_[i], error));
      RETURN_IF_ERROR(Prepare(entries_[i], error));
    }
    return Status::Ok();
  }

  static bool ReadsCurrent(Action a) {
    return a == Action::kUpdate || a == Action::kDelete || a == Action::kPatch;
  }

  // The current version of every entry that updates, deletes or patches, in one store call
  // (D106); read again by every attempt, since a retry follows a concurrent change.
  Status ReadCurrentVersions(const std::vector<std::pair<std::string, std::string>>& keys) {
    current_.assign(entries_.size(), std::nullopt);
    if (keys.empty()) {
      return Status::Ok();
    }
    auto read = ctx_.store.ReadMany(keys);
    size_t k = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (!ReadsCurrent(plans_[i].action)) {
        continue;
      }
      if (!read.ok()) {
        return AtEntry(entries_[i], read.status());  // the first entry that needed a read
      }
      current_[i] = std::move((*read)[k++]);
    }
    return Status::Ok();
  }

  // Validates the resource of `e` unless an earlier attempt did (the text a retry parses again is
  // the same). References are rewritten afterwards, to Type/id, which keeps them valid. A PATCH
  // entry's result is validated by Prepare.
  Status ValidateOnce(const BundleEntry& e, TransactionError* error) {
    if (validated_[e.index] || !e.has_resource || e.method == "PATCH") {
      return Status::Ok();
    }
    std::vector<fhir::ValidationIssue> issues;
    Status s = CheckResource(e.resource, e.type, &issues);
    if (!s.ok()) {
      for (auto& i : issues) {
        i.message = e.Where() + ".resource (" + e.type + "): " + i.message;
      }
      error->issues = std::move(issues);
      return AtEntry(e, s);
    }
    validated_[e.index] = true;
    return Status::Ok();
  }

  // After an error: validates the resources not validated yet, in Bundle order, so that the
  // first invalid one is reported. The resources of entries not yet validated are still in
  // place: only validated ones are moved into prepared versions.
  Status ValidateTheRest(TransactionError* error) {
    for (const BundleEntry& e : entries_) {
      RETURN_IF_ERROR(ValidateOnce(e, error));
    }
    return Status::Ok();
  }

  Status Touch(const BundleEntry& e, const std::string& id) {
    std::string key = e.type + "/" + id;
    auto [it, inserted] = touched_.emplace(key, e.index);
    if (inserted) {
      return Status::Ok();
    }
    const BundleEntry& other = entries_[it->second];
    return InvalidError(other.Where() + " and " + e.Where() + " both touch " + key +
                            "; a transaction may change a resource only once",
                        e.Where() + ".request.url");
  }

  // Conditional search of an entry (ifNoneExist or the url's query), recorded for the re-check.
  StatusOr<std::vector<std::string>> Search(const BundleEntry& e, bool if_none_exist) {
    std::string where = e.Where() + (if_none_exist ? ".request.ifNoneExist" : ".request.url");
    auto query = if_none_exist ? ParseConditional(e.type, e.if_none_exist)
                               : ParseConditional(e.type, e.query);
    if (!query.ok()) {
      return AtEntry(e, query.status(), where);
    }
    auto ids = MatchConditional(ctx_.store, e.type, *query);
    if (!ids.ok()) {
      return AtEntry(e, ids.status(), where);
    }
    std::vector<std::string> sorted = *ids;
    std::sort(sorted.begin(), sorted.end());
    checks_.push_back({std::move(*query), sorted, e.index});
    return ids;
  }

  static Status Several(const BundleEntry& e, const std::string& what) {
    return AtEntry(
        e, Status(StatusCode::kPreconditionFailed,
                  what + " matches more than one " + e.type + "; make the criteria selective"));
  }

  // Decides what each write entry does and to which id; maps fullUrls to Type/id.
  Status ResolveTargets() {
    for (const BundleEntry& e : entries_) {
      Plan& p = plans_[e.index];
      if (e.method == "GET" || e.method == "HEAD") {
        continue;
      }
      if (e.method == "POST") {
        if (!e.if_none_exist.empty()) {
          ASSIGN_OR_RETURN(auto ids, Search(e, true));
          if (ids.size() > 1) {
            return Several(e, "ifNoneExist '" + e.if_none_exist + "'");
          }
          if (ids.size() == 1) {
            auto v = ctx_.store.Read(e.type, ids[0]);
            if (!v.ok()) {
              return AtEntry(e, v.status());
            }
            p.action = Action::kMatched;
            p.id = ids[0];
            p.status = 200;
            p.version = std::move(*v);
            RETURN_IF_ERROR(Touch(e, p.id));
          }
        }
        if (p.action == Action::kNone) {
          p.action = Action::kCreate;
          p.id = NewId();
          p.status = 201;
        }
      } else if (e.method == "PUT") {
        std::string body_id(e.resource.string_at("id"));
        p.action = Action::kUpdate;
        if (e.conditional()) {
          ASSIGN_OR_RETURN(auto ids, Search(e, false));
          if (ids.size() > 1) {
            return Several(e, "the conditional update");
          }
          if (ids.size() == 1 && !body_id.empty() && body_id != ids[0]) {
            return AtEntry(e,
                           InvalidError("the resource id '" + body_id +
                                        "' differs from the id of the match ('" + ids[0] + "')"),
                           e.Where() + ".resource.id");
          }
          p.id = ids.size() == 1 ? ids[0] : (body_id.empty() ? NewId() : body_id);
        } else {
          if (body_id != e.id) {
            return AtEntry(
                e,
                InvalidError(body_id.empty()
                                 ? "the resource has no id; an update must carry the "
                                   "id of the URL ('" +
                                       e.id + "')"
                                 : "the resource id '" + body_id +
                                       "' does not match the id in the URL ('" + e.id + "')"),
                e.Where() + ".resource.id");
          }
          p.id = e.id;
        }
        RETURN_IF_ERROR(Touch(e, p.id));
      } else {  // DELETE, PATCH
        p.action = e.method == "DELETE" ? Action::kDelete : Action::kPatch;
        if (e.conditional()) {
          ASSIGN_OR_RETURN(auto ids, Search(e, false));
          std::string what = "the conditional " + e.method;
          if (ids.size() > 1) {
            return Several(e, what);
          }
          if (ids.empty() && p.action == Action::kPatch) {
            return AtEntry(e, NotFoundError(what + " matches no " + e.type));
          }
          if (ids.empty()) {
            p.action = Action::kNoop;
            p.status = 204;
            continue;
          }
          p.id = ids[0];
        } else {
          p.id = e.id;
        }
        RETURN_IF_ERROR(Touch(e, p.id));
      }
      if (!e.full_url.empty() && !p.id.empty()) {
        refs_.full_urls[e.full_url] = e.type + "/" + p.id;
      }
    }
    return Status::Ok();
  }

  Status ResolveConditionalReferences() {
    std::map<std::string, size_t> resolved;  // reference → position in checks_
    for (const BundleEntry& e : entries_) {
      Action a = plans_[e.index].action;
      if (a != Action::kCreate && a != Action::kUpdate) {
        continue;
      }
      std::set<std::string> refs;
      CollectConditionalReferences(e.resource, &refs);
      for (const std::string& ref : refs) {
        if (refs_.conditional.count(ref)) {
          continue;
        }
        store::SearchQuery query;
        auto target = ResolveConditionalReference(ctx_.store, ref, &query);
        if (!target.ok()) {
          return AtEntry(e, target.status(), e.Where() + ".resource");
        }
        refs_.conditional[ref] = *target;
        checks_.push_back({std::move(query), {target->substr(target->find('/') + 1)}, e.index});
      }
    }
    return Status::Ok();
  }

  // The resource of a create or update entry, to be stamped and stored: moved out of the entry
  // when the Bundle can be parsed again for a retry, else copied (D57).
  json::Value TakeResource(BundleEntry& e) {
    if (bundle_.source != nullptr) {
      return std::move(e.resource);
    }
    return e.resource;
  }

  Status Prepare(BundleEntry& e, TransactionError* error) {
    Plan& p = plans_[e.index];
    if (p.action == Action::kNone || p.action == Action::kMatched || p.action == Action::kNoop) {
      return Status::Ok();
    }
    const std::string type = e.type;
    if (p.action == Action::kCreate) {
      json::Value resource = TakeResource(e);
      RETURN_IF_ERROR(RewriteReferences(resource, e.Where() + ".resource", refs_));
      if (Status s = GuardEntry(ctx_, access::Action::kCreate, &resource, nullptr); !s.ok()) {
        return AtEntry(e, s);
      }
      p.write = PrepareVersion(std::move(resource), ctx_, p.id, 1, "POST");
      p.expected = 0;
      p.check_version = true;
      p.writes = true;
      return Status::Ok();
    }
    store::CurrentVersion current;
    std::optional<store::ResourceVersion>& read = current_[e.index];
    if (read) {
      current.version = read->version;
      current.deleted = read->deleted;
    }
    p.expected = current.version;
    p.check_version = true;
    if (!e.if_match.empty()) {
      int64_t wanted = 0;
      if (!ParseIfMatch(e.if_match, &wanted)) {
        return AtEntry(e, InvalidError("ifMatch must be a version ETag such as W/\"3\""),
                       e.Where() + ".request.ifMatch");
      }
      if (wanted != current.version) {
        return AtEntry(e,
                       Status(StatusCode::kPreconditionFailed,
                              "ifMatch asks for version " + std::to_string(wanted) + " but " +
                                  type + "/" + p.id + " is at version " +
                                  std::to_string(current.version) + "; read it again and retry"),
                       e.Where() + ".request.ifMatch");
      }
      p.has_if_match = true;
    }
    switch (p.action) {
      case Action::kUpdate: {
        json::Value resource = TakeResource(e);
        RETURN_IF_ERROR(RewriteReferences(resource, e.Where() + ".resource", refs_));
        bool exists = read && !read->deleted;
        if (Status s = GuardEntry(ctx_, exists ? access::Action::kUpdate : access::Action::kCreate,
                                  &resource, exists ? &*read : nullptr);
            !s.ok()) {
          return AtEntry(e, s);
        }
        if (type == "Appointment") {
          RETURN_IF_ERROR(PlanSlotReleases(e, resource, p));
        }
        p.write = PrepareVersion(std::move(resource), ctx_, p.id, current.version + 1, "PUT");
        p.status = (current.version == 0 || current.deleted) ? 201 : 200;
        p.writes = true;
        if (ctx_.skip_unchanged_updates && read && !read->deleted &&
            SameContentIgnoringVersion(read->body, p.write.body)) {
          p.writes = false;  // still version-checked in Commit, so the answer stays consistent
          p.unchanged = true;
          p.version = std::move(*read);
        }
        break;
      }
      case Action::kDelete:
        if (current.version == 0) {
          return AtEntry(e, NotFoundError(type + "/" + p.id + " is not known"));
        }
        p.status = 204;
        if (current.deleted) {  // deleting a deleted resource changes nothing (http.html#delete)
          p.action = Action::kNoop;
          break;
        }
        if (Status s = GuardEntry(ctx_, access::Action::kDelete, nullptr, &*read); !s.ok()) {
          return AtEntry(e, s);
        }
        p.write = PrepareDeletion(type, p.id, current.version + 1);
        p.writes = true;
        break;
      case Action::kPatch: {
        if (current.version == 0) {
          return AtEntry(e, NotFoundError(type + "/" + p.id + " is not known"));
        }
        if (current.deleted) {
          return AtEntry(e, Status(StatusCode::kGone, type + "/" + p.id + " has been deleted"));
        }
        auto parsed = json::Parse(read->body);
        if (!parsed.ok()) {
          return AtEntry(e, parsed.status());
        }
        json::Value resource = std::move(*parsed);
        if (Status s = ApplyJsonPatch(e.resource, resource); !s.ok()) {
          return AtEntry(e, s);
        }
        if (resource.string_at("resourceType") != type || resource.string_at("id") != p.id) {
          return AtEntry(e, UnprocessableError("a patch may not change resourceType or id"));
        }
        std::vector<fhir::ValidationIssue> issues;
        if (Status s = CheckResource(resource, type, &issues); !s.ok()) {
          for (auto& i : issues) {
            i.message = e.Where() + " (PATCH " + e.url + "): " + i.message;
          }
          error->issues = std::move(issues);
          return AtEntry(e, s);
        }
        if (Status s = GuardEntry(ctx_, access::Action::kUpdate, &resource, &*read); !s.ok()) {
          return AtEntry(e, s);
        }
        if (type == "Appointment") {
          RETURN_IF_ERROR(PlanSlotReleases(e, resource, p));
        }
        p.write = PrepareVersion(std::move(resource), ctx_, p.id, current.version + 1, "PATCH");
        p.status = 200;
        p.writes = true;
        break;
      }
      default:
        break;
    }
    return Status::Ok();
  }

  // A cancelled Appointment gives its busy Slots back in the same transaction, as a PUT or PATCH
  // of it alone does (PlanSlotRelease), except Slots an entry of this bundle writes itself (that
  // entry decides) or that an earlier entry already gives back.
  Status PlanSlotReleases(const BundleEntry& e, const json::Value& appointment, Plan& p) {
    PlannedWrite planned;
    if (Status s = PlanSlotRelease(ctx_, appointment, p.id, &planned); !s.ok()) {
      return AtEntry(e, s);
    }
    for (auto& companion : planned.companions) {
      std::string key = "Slot/" + companion.first.id;
      if (touched_.count(key) == 0 && released_slots_.insert(key).second) {
        p.companions.push_back(std::move(companion));
      }
    }
    return Status::Ok();
  }

 public:
  // Preparing a SearchParameter version makes it live at once (so that the entries after it
  // are indexed for it); when the transaction is not stored after all, each one touched goes
  // back to what is stored.
  void RestoreSearchParameters() {
    for (const Plan& p : plans_) {
      if (p.write.type != "SearchParameter" || p.id.empty()) {
        continue;
      }
      bool restored = false;
      if (auto stored = ctx_.store.Read("SearchParameter", p.id); stored.ok() && !stored->deleted) {
        if (auto body = json::Parse(stored->body); body.ok()) {
          (void)fhir::ApplySearchParameterResource(*body);
          restored = true;
        }
      }
      if (!restored) {
        fhir::ForgetSearchParameterResource(p.id);
      }
    }
  }

 private:
  // The one write: re-check everything the attempt relied on, then store every version in the
  // spec's order. Any error rolls the whole function back.
  Status Commit(bool* raced) {
    bool any = false;
    for (const Plan& p : plans_) {
      any = any || p.writes;
    }
    if (!any) {
      return Status::Ok();  // only reads and matches: nothing to store
    }
    std::vector<size_t> order = ProcessingOrder(entries_);
    Status changed_if_match = Status::Ok();
    Status s = ctx_.store.Write([&](store::WriteTxn& txn) -> Status {
      // The version a plan was made against must still be current. Entries that write are
      // checked right before their Put (each resource is touched by one entry only, so no Put
      // of this transaction changes another entry's version, and a failure rolls all back):
      // the store then finds the row once for both.
      auto check_version = [&](size_t i) -> Status {
        const Plan& p = plans_[i];
        ASSIGN_OR_RETURN(store::CurrentVersion now, txn.Current(entries_[i].type, p.id));
        if (now.version != p.expected) {
          std::string key = entries_[i].type + "/" + p.id;
          if (p.has_if_match) {
            changed_if_match =
                AtEntry(entries_[i],
                        Status(StatusCode::kPreconditionFailed,
                               key + " changed concurrently; read it again and retry"),
                        entries_[i].Where() + ".request.ifMatch");
            return changed_if_match;
          }
          *raced = true;
          return ConflictError(key + " changed while the transaction was being processed");
        }
        return Status::Ok();
      };
      for (size_t i = 0; i < plans_.size(); ++i) {
        if (plans_[i].check_version && !plans_[i].writes) {
          RETURN_IF_ERROR(check_version(i));
        }
      }
      for (const Plan& p : plans_) {
        for (const auto& [companion, planned_from] : p.companions) {
          ASSIGN_OR_RETURN(store::CurrentVersion c, txn.Current(companion.type, companion.id));
          if (c.version != planned_from) {
            *raced = true;
            return ConflictError(companion.type + "/" + companion.id + " changed meanwhile");
          }
        }
      }
      for (const SearchCheck& c : checks_) {
        ASSIGN_OR_RETURN(std::vector<std::string> ids, txn.SearchIds(c.query, 2));
        std::sort(ids.begin(), ids.end());
        if (ids != c.ids) {
          *raced = true;
          return ConflictError(entries_[c.entry].Where() +
                               ": the resources a conditional search matches changed while the "
                               "transaction was being processed");
        }
      }
      for (size_t i : order) {
        if (plans_[i].writes) {
          if (plans_[i].check_version) {
            RETURN_IF_ERROR(check_version(i));
          }
          RETURN_IF_ERROR(txn.Put(plans_[i].write));
          for (const auto& companion : plans_[i].companions) {
            RETURN_IF_ERROR(txn.Put(companion.first));
          }
        }
      }
      return Status::Ok();
    });
    if (!changed_if_match.ok()) {
      return changed_if_match;
    }
    return s;
  }

  RequestContext& ctx_;
  ParsedBundle& bundle_;
  std::vector<BundleEntry>& entries_;
  std::vector<Plan> plans_;
  // Per entry: the current version of its target as read by this attempt (nullopt: none, or
  // the entry reads none).
  std::vector<std::optional<store::ResourceVersion>> current_;
  // Per entry: its resource passed validation (in any attempt).
  std::vector<bool> validated_;
  std::vector<SearchCheck> checks_;
  ReferenceMap refs_;
  std::map<std::string, size_t> touched_;  // Type/id → entry index
  std::set<std::string> released_slots_;   // "Slot/id" given back by a cancelled Appointment
};

}  // namespace

StatusOr<TransactionResult> RunTransaction(RequestContext& ctx, ParsedBundle& bundle,
                                           const Dispatch& dispatch, TransactionError* error) {
  Transaction txn(ctx, bundle);
  for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
    bool raced = false;
    error->issues.clear();
    auto result = txn.Attempt(&raced, error);
    if (result.ok()) {
      // Reads see the transaction's writes (http.html#trules: GET entries are processed last).
      for (size_t i : ProcessingOrder(bundle.entries)) {
        const BundleEntry& e = bundle.entries[i];
        if (e.method != "GET" && e.method != "HEAD") {
          continue;
        }
        http::Request r;
        r.method = e.method;
        r.path = "/fhir/" + e.path;
        r.target = "/fhir/" + e.url;
        r.query = e.query;
        if (auto host = ctx.http.header("host"); !host.empty()) {
          r.headers.emplace_back("host", std::string(host));
        }
        if (!e.if_none_match.empty()) {
          r.headers.emplace_back("if-none-match", e.if_none_match);
        }
        if (!e.if_modified_since.empty()) {
          r.headers.emplace_back("if-modified-since", e.if_modified_since);
        }
        result->entries[i].response = dispatch(r);
        result->entries[i].status = result->entries[i].response->status;
      }
      return result;
    }
    txn.RestoreSearchParameters();
    if (!raced) {
      error->status = result.status();
      return result.status();
    }
    if (Status s = txn.RestoreEntries(); !s.ok()) {
      error->status = s;
      return s;
    }
  }
  error->status = ConflictError(
      "the resources of this transaction are being changed by many requests at once; retry");
  return error->status;
}

}  // namespace carechart::rest
