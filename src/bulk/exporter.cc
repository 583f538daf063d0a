#include "bulk/exporter.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <unordered_set>

#include "bulk/export_read.h"
#include "bulk/scan_pipeline.h"
#include "fhir/definitions.h"
#include "fhir/json.h"
#include "fhir/summary.h"
#include "http/url.h"

namespace carechart::bulk {
namespace {

Status Cancelled() { return Status(StatusCode::kGone, "the export was cancelled"); }

std::string OutcomeLine(const std::string& text) {
  json::Value issue = json::Value::Object();
  issue.set("severity", json::Value::String("error"));
  issue.set("code", json::Value::String("processing"));
  issue.set("diagnostics", json::Value::String(text));
  json::Value issues = json::Value::Array();
  issues.push_back(std::move(issue));
  json::Value oo = json::Value::Object();
  oo.set("resourceType", json::Value::String("OperationOutcome"));
  oo.set("issue", std::move(issues));
  return json::Write(oo);
}

class ExportRun {
 public:
  ExportRun(store::ResourceStore& store, const ExportRequest& request, const std::string& dir,
            const ExportRunOptions& options)
      : store_(store), req_(request), dir_(dir), opt_(options), out_(dir, options.limits) {
    for (const TypeFilter& f : req_.type_filters) {
      filtered_types_.insert(f.type);
    }
  }

  StatusOr<ExportResult> Run() {
    if (req_.level == ExportLevel::kSystem) {
      RETURN_IF_ERROR(System());
    } else {
      dedup_ = true;
      std::vector<std::string> ids = req_.patient_ids;
      if (req_.level == ExportLevel::kGroup) {
        ASSIGN_OR_RETURN(ids, GroupPatientIds(store_, req_.group_id, &problems_));
      }
      if (req_.level == ExportLevel::kPatient && ids.empty()) {
        RETURN_IF_ERROR(AllPatients());
      } else {
        progress_.unit = "patients";
        progress_.total = static_cast<int64_t>(ids.size());
        RETURN_IF_ERROR(Patients(ids));
      }
    }
    ExportResult result;
    ASSIGN_OR_RETURN(result.files, out_.Finish());
    result.resources = out_.resources();
    result.bytes = out_.bytes();
    if (!problems_.empty()) {
      OutputLimits limits = opt_.limits;
      limits.gzip = false;
      std::error_code ec;
      std::filesystem::create_directories(dir_ + "/errors", ec);
      NdjsonOutput errors(dir_ + "/errors", limits);
      for (const std::string& p : problems_) {
        RETURN_IF_ERROR(errors.Append("OperationOutcome", OutcomeLine(p)));
      }
      ASSIGN_OR_RETURN(result.error_files, errors.Finish());
      for (OutputFile& f : result.error_files) {
        f.name = "errors/" + f.name;
      }
    }
    return result;
  }

 private:
  // Every exported version passes here.
  Status Emit(const store::ResourceVersion& v) {
    return Emit({v.type, v.id, v.last_updated_us, v.body});
  }
  Status Emit(const store::ScannedVersion& found) {
    if (req_.since_us && found.last_updated_us < *req_.since_us) {
      return Status::Ok();  // the store applies _since too; this keeps every path exact
    }
    bool changed_since_tt =
        opt_.transaction_time_us > 0 && found.last_updated_us > opt_.transaction_time_us;
    if (found.deleted && !changed_since_tt) {
      return Status::Ok();  // a scan passes only deletions after the transaction time; be sure
    }
    store::ScannedVersion v = found;
    store::ResourceVersion earlier;
    if (changed_since_tt) {
      // Changed after the export's transactionTime: export the version current at that instant.
      store::HistoryQuery hq;
      hq.type = std::string(v.type);
      hq.id = std::string(v.id);
      hq.at_us = opt_.transaction_time_us;
      hq.count = 1;
      ASSIGN_OR_RETURN(store::HistoryPage page, store_.History(hq));
      if (page.versions.empty() || page.versions.front().deleted) {
        return Status::Ok();  // created after the transaction time, or deleted at it
      }
      earlier = std::move(page.versions.front());
      v = {earlier.type, earlier.id, earlier.last_updated_us, earlier.body};
    }
    if (dedup_) {
      std::string key = std::string(v.type) + "/" + std::string(v.id);
      if (!seen_.insert(std::hash<std::string>{}(key)).second) {
        return Status::Ok();
      }
    }
    if (req_.elements.empty()) {
      return out_.Append(v.type, v.body);
    }
    std::vector<std::string> elements = ElementsFor(v.type);
    if (elements.empty()) {
      return out_.Append(v.type, v.body);
    }
    ASSIGN_OR_RETURN(json::Value doc, json::Parse(v.body));
    fhir::ApplyElements(doc, elements);
    return out_.Append(v.type, json::Write(doc));
  }

  std::vector<std::string> ElementsFor(std::string_view type) const {
    std::vector<std::string> out;
    for (const std::string& e : req_.elements) {
      size_t dot = e.find('.');
      if (dot == std::string::npos) {
        out.push_back(e);
      } else if (std::string_view(e).substr(0, dot) == type) {
        out.push_back(e.substr(dot + 1));
      }
    }
    return out;
  }

  // Runs `query` page by page, emitting every match.
  Status Drain(store::SearchQuery query, bool count_resources) {
    query.count = opt_.page_size;
    query.want_total = false;
    query.offset = 0;
    query.since_us = req_.since_us;
    while (true) {
      if (opt_.cancel != nullptr && opt_.cancel->load()) {
        return Cancelled();
      }
      ASSIGN_OR_RETURN(store::SearchResult page, ReadExportPage(store_, query));
      for (const store::ResourceVersion& v : page.matches) {
        RETURN_IF_ERROR(Emit(v));
        progress_.done += count_resources ? 1 : 0;
      }
      Report();
      if (!page.next) {
        return Status::Ok();
      }
      query.after = std::move(page.next);
    }
  }

  void Report() {
    if (opt_.progress) {
      progress_.resources = out_.resources();
      progress_.bytes = out_.bytes();
      opt_.progress(progress_);
    }
  }

  // The types one pass covers: requested (or all) minus those that have filters.
  std::vector<std::string> UnfilteredTypes(bool compartment_only) const {
    std::vector<std::string> out;
    for (std::string_view t : fhir::ResourceTypes()) {
      std::string type(t);
      if (ExportsType(req_, type) && !filtered_types_.count(type) &&
          (!compartment_only || type == "Patient" ||
           !fhir::PatientCompartmentParams(type).empty())) {
        out.push_back(type);
      }
    }
    return out;
  }

  // The _typeFilter searches, each run on its own; a type with several filters is deduplicated.
  Status Filters(const std::string& compartment_id) {
    for (const std::string& type : filtered_types_) {
      if (!ExportsType(req_, type)) {
        continue;
      }
      int filters = 0;
      for (const TypeFilter& f : req_.type_filters) {
        filters += f.type == type ? 1 : 0;
      }
      bool was_dedup = dedup_;
      dedup_ = dedup_ || filters > 1;
      for (const TypeFilter& f : req_.type_filters) {
        if (f.type != type) {
          continue;
        }
        auto pairs = http::ParseQuery(f.query);
        if (!pairs) {
          return InvalidError("_typeFilter " + f.type + "?" + f.query + " is malformed",
                              "_typeFilter");
        }
        ASSIGN_OR_RETURN(store::SearchQuery q, store::ParseSearch(type, *pairs));
        if (!compartment_id.empty()) {
          q.compartment_type = "Patient";
          q.compartment_id = compartment_id;
          q.include_owner = type == "Patient";
        }
        RETURN_IF_ERROR(Drain(std::move(q), compartment_id.empty()));
      }
      if (!was_dedup && req_.level == ExportLevel::kSystem) {
        seen_.clear();  // system level: resources of different types never repeat
      }
      dedup_ = was_dedup;
    }
    return Status::Ok();
  }

  // One scan of the store (ResourceStore::ScanCurrent: on SQLite one snapshot, a table scan or
  // type by type in key order, whichever reads less), read on a thread of its own while this
  // one writes the files (scan_pipeline.h, decisions D54). The audit trail is left out
  // (decisions D21).
  Status System() {
    std::vector<std::string> types = UnfilteredTypes(false);
    std::erase(types, std::string("AuditEvent"));
    bool everything = req_.types.empty() && filtered_types_.empty();
    if (types.empty()) {
      return Filters("");
    }
    // A count first, for X-Progress (one index scan; cheap next to the export).
    store::SearchQuery count;
    if (!everything) {
      count.types = types;  // every type but the audit trail: the statement leaves it out itself
    }
    count.count = 0;
    count.since_us = req_.since_us;
    ASSIGN_OR_RETURN(store::SearchResult counted, store_.Search(count));
    progress_.total = filtered_types_.empty() ? counted.total : -1;
    store::CurrentScan scan;
    if (!everything) {
      scan.types = types;
    }
    scan.since_us = req_.since_us;
    if (opt_.transaction_time_us > 0) {
      // Chunks, each its own snapshot, that pass deletions after the transaction time too (D91):
      // Emit turns a version newer than the transaction time back into the one current then,
      // and a deletion after it into what it deleted.
      scan.as_of_us = opt_.transaction_time_us;
      scan.chunk_rows = opt_.scan_chunk_rows;
    }
    auto write = [&](const store::ScannedVersion& v) -> Status {
      if (opt_.cancel != nullptr && opt_.cancel->load(std::memory_order_relaxed)) {
        return Cancelled();
      }
      ++progress_.done;
      return Emit(v);
    };
    auto after_batch = [&] { Report(); };
    RETURN_IF_ERROR(RunScanPipeline(store_, scan, write, after_batch));
    return Filters("");
  }

  Status OnePatient(const std::string& id) {
    std::vector<std::string> types = UnfilteredTypes(true);
    if (!types.empty()) {
      store::SearchQuery q;
      q.types = types;
      q.compartment_type = "Patient";
      q.compartment_id = id;
      q.include_owner = true;
      RETURN_IF_ERROR(Drain(std::move(q), false));
    }
    return Filters(id);
  }

  Status Patients(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      auto owner = store_.Read("Patient", id);
      if (!owner.ok() || owner->deleted) {
        problems_.push_back("Patient/" + id + " is not known; nothing exported for it");
        ++progress_.done;
        continue;
      }
      RETURN_IF_ERROR(OnePatient(id));
      ++progress_.done;
      Report();
    }
    return Status::Ok();
  }

  Status AllPatients() {
    progress_.unit = "patients";
    store::SearchQuery count;
    count.type = "Patient";
    count.count = 0;
    ASSIGN_OR_RETURN(store::SearchResult counted, store_.Search(count));
    progress_.total = counted.total;
    store::SearchQuery q;
    q.type = "Patient";
    q.count = 200;
    q.want_total = false;
    while (true) {
      if (opt_.cancel != nullptr && opt_.cancel->load()) {
        return Cancelled();
      }
      ASSIGN_OR_RETURN(store::SearchResult page, ReadExportPage(store_, q));
      for (const store::ResourceVersion& p : page.matches) {
        RETURN_IF_ERROR(OnePatient(p.id));
        ++progress_.done;
      }
      Report();
      if (!page.next) {
        return Status::Ok();
      }
      q.after = std::move(page.next);
    }
  }

  store::ResourceStore& store_;
  const ExportRequest& req_;
  std::string dir_;
  const ExportRunOptions& opt_;
  NdjsonOutput out_;
  std::set<std::string> filtered_types_;
  bool dedup_ = false;
  std::unordered_set<size_t> seen_;
  std::vector<std::string> problems_;
  ExportProgress progress_;
};

}  // namespace

StatusOr<std::vector<std::string>> GroupPatientIds(store::ResourceStore& store,
                                                   const std::string& group_id,
                                                   std::vector<std::string>* problems) {
  auto group = store.Read("Group", group_id);
  if (!group.ok() || group->deleted) {
    return NotFoundError("Group/" + group_id + " is not known");
  }
  ASSIGN_OR_RETURN(json::Value doc, json::Parse(group->body));
  std::vector<std::string> ids;
  const json::Value* members = doc.find("member");
  if (members == nullptr || !members->is_array()) {
    return ids;
  }
  for (const json::Value& m : members->items()) {
    if (const json::Value* inactive = m.find("inactive"); inactive && inactive->as_bool()) {
      continue;
    }
    const json::Value* entity = m.find("entity");
    std::string ref = entity ? std::string(entity->string_at("reference")) : "";
    // Relative ("Patient/1") or absolute (".../Patient/1") references to a Patient.
    size_t at = ref.rfind("Patient/");
    std::string id = at == std::string::npos ? "" : ref.substr(at + 8);
    if (id.empty() || id.find('/') != std::string::npos || (at > 0 && ref[at - 1] != '/')) {
      if (problems) {
        problems->push_back("Group/" + group_id + " member '" + ref +
                            "' is not a Patient reference; it is not exported");
      }
      continue;
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      ids.push_back(id);
    }
  }
  return ids;
}

StatusOr<ExportResult> RunExport(store::ResourceStore& store, const ExportRequest& request,
                                 const std::string& out_dir, const ExportRunOptions& options) {
  ExportRun run(store, request, out_dir, options);
  return run.Run();
}

}  // namespace carechart::bulk
