// read, vread, create, update, delete (and their conditional forms).
#include <charconv>

#include "rest/access_hooks.h"
#include "rest/interactions.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/resource_prep.h"
#include "rest/write_support.h"

namespace carechart::rest {

namespace {

Status GoneError(const std::string& type, const std::string& id) {
  return {StatusCode::kGone, type + "/" + id + " has been deleted"};
}

// The id a PUT body carries must be the URL's id (http.html#update).
std::optional<http::Response> CheckBodyId(const json::Value& resource, const std::string& id) {
  const json::Value* body_id = resource.find("id");
  if (!body_id) {
    return ErrorResponse(
        InvalidError("the resource has no id; an update must carry the id "
                     "of the URL ('" +
                         id + "')",
                     "id"));
  }
  if (!body_id->is_string() || body_id->text() != id) {
    return ErrorResponse(InvalidError(
        "the resource id '" + body_id->text() + "' does not match the id in the URL ('" + id + "')",
        "id"));
  }
  return std::nullopt;
}

std::optional<int64_t> RequiredVersion(const RequestContext& ctx,
                                       std::optional<http::Response>* error) {
  std::string_view h = ctx.http.header("if-match");
  if (h.empty()) {
    return std::nullopt;
  }
  int64_t v = 0;
  if (!ParseIfMatch(h, &v)) {
    *error = ErrorResponse(InvalidError("If-Match must be a version ETag such as W/\"3\""));
    return std::nullopt;
  }
  return v;
}

http::Response UpdateWithId(RequestContext& ctx, json::Value resource, const std::string& id) {
  std::optional<http::Response> error;
  auto required = RequiredVersion(ctx, &error);
  if (error) {
    return *error;
  }
  if (Guard(ctx).enforced()) {
    auto existing = ctx.store.Read(ctx.type, id);
    bool exists = existing.ok() && !existing->deleted;
    if (auto denied = GuardWrite(ctx, exists ? access::Action::kUpdate : access::Action::kCreate,
                                 &resource, exists ? &*existing : nullptr)) {
      return *denied;
    }
  }
  auto planned =
      CommitVersion(ctx.store, ctx.type, id, required,
                    [&](const store::CurrentVersion& current) -> StatusOr<PlannedWrite> {
                      PlannedWrite p;
                      p.write = PrepareVersion(resource, ctx, id, current.version + 1, "PUT");
                      p.http_status = (current.version == 0 || current.deleted) ? 201 : 200;
                      if (ctx.type == "Appointment") {
                        RETURN_IF_ERROR(PlanSlotRelease(ctx, resource, id, &p));
                      }
                      return p;
                    });
  if (!planned.ok()) {
    return ErrorResponse(planned.status());
  }
  return WriteResponse(planned->http_status, AsVersion(planned->write), ctx, true);
}

}  // namespace

bool ParseIfMatch(std::string_view h, int64_t* version) {
  if (h.starts_with("W/")) {
    h.remove_prefix(2);
  }
  if (h.size() >= 2 && h.front() == '"' && h.back() == '"') {
    h = h.substr(1, h.size() - 2);
  }
  if (h.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(h.data(), h.data() + h.size(), *version);
  return ec == std::errc() && ptr == h.data() + h.size() && *version >= 0;
}

http::Response HandleRead(RequestContext& ctx) {
  auto v = ctx.store.Read(ctx.type, ctx.id);
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) {
      return ErrorResponse(NotFoundError(ctx.type + "/" + ctx.id + " is not known"));
    }
    return ErrorResponse(v.status());
  }
  if (v->deleted) {
    http::Response r = ErrorResponse(GoneError(ctx.type, ctx.id));
    r.set_header("ETag", "W/\"" + std::to_string(v->version) + "\"");
    return r;
  }
  if (auto denied = GuardRead(ctx, *v)) {
    return *denied;
  }
  // Conditional read: a client holding the current version gets 304.
  std::string etag = "W/\"" + std::to_string(v->version) + "\"";
  if (ctx.http.header("if-none-match") == etag) {
    http::Response r;
    r.status = 304;
    r.set_header("ETag", etag);
    return r;
  }
  return VersionResponse(200, *v, ctx);
}

http::Response HandleVread(RequestContext& ctx) {
  int64_t version = 0;
  auto [ptr, ec] =
      std::from_chars(ctx.version.data(), ctx.version.data() + ctx.version.size(), version);
  if (ec != std::errc() || ptr != ctx.version.data() + ctx.version.size() || version <= 0) {
    return ErrorResponse(InvalidError("version id '" + ctx.version + "' is not a positive number"));
  }
  auto v = ctx.store.ReadVersion(ctx.type, ctx.id, version);
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) {
      return ErrorResponse(
          NotFoundError(ctx.type + "/" + ctx.id + " has no version " + ctx.version));
    }
    return ErrorResponse(v.status());
  }
  if (v->deleted) {
    return ErrorResponse(GoneError(ctx.type, ctx.id));
  }
  if (auto denied = GuardRead(ctx, *v)) {
    return *denied;
  }
  return VersionResponse(200, *v, ctx);
}

http::Response HandleCreate(RequestContext& ctx) {
  ParsedBody body = ParseResourceBody(ctx);
  if (body.error) {
    return *body.error;
  }
  if (auto denied = GuardWrite(ctx, access::Action::kCreate, &body.resource, nullptr)) {
    return *denied;
  }
  // The server assigns the id of a create; a client id in the body is ignored (http.html#create).
  std::optional<store::SearchQuery> condition;
  if (auto h = ctx.http.header("if-none-exist"); !h.empty()) {
    auto q = ParseConditional(ctx.type, h);
    if (!q.ok()) {
      return ErrorResponse(q.status());
    }
    condition = std::move(*q);
  }
  const std::string id = NewId();
  store::PreparedWrite w = PrepareVersion(std::move(body.resource), ctx, id, 1, "POST");
  std::string existing;
  Status s = ctx.store.Write([&](store::WriteTxn& txn) -> Status {
    if (condition) {
      ASSIGN_OR_RETURN(auto ids, txn.SearchIds(*condition, 2));
      if (ids.size() > 1) {
        return {StatusCode::kPreconditionFailed, "If-None-Exist matches more than one " + ctx.type +
                                                     "; make the criteria selective"};
      }
      if (ids.size() == 1) {
        existing = ids[0];
        return Status::Ok();
      }
    }
    ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current(w.type, w.id));
    if (cur.version != 0) {
      return ConflictError("generated id collided; retry");
    }
    return txn.Put(w);
  });
  if (!s.ok()) {
    return ErrorResponse(s);
  }
  if (!existing.empty()) {
    auto v = ctx.store.Read(ctx.type, existing);
    if (!v.ok()) {
      return ErrorResponse(v.status());
    }
    return WriteResponse(200, *v, ctx, true);
  }
  return WriteResponse(201, AsVersion(w), ctx, true);
}

http::Response HandleUpdate(RequestContext& ctx) {
  ParsedBody body = ParseResourceBody(ctx);
  if (body.error) {
    return *body.error;
  }
  if (auto e = CheckBodyId(body.resource, ctx.id)) {
    return *e;
  }
  return UpdateWithId(ctx, std::move(body.resource), ctx.id);
}

http::Response HandleConditionalUpdate(RequestContext& ctx) {
  ParsedBody body = ParseResourceBody(ctx);
  if (body.error) {
    return *body.error;
  }
  auto ids = MatchConditionalRequest(ctx, "update");
  if (!ids.ok()) {
    return ErrorResponse(ids.status());
  }
  std::string body_id(body.resource.string_at("id"));
  if (ids->size() == 1) {
    if (!body_id.empty() && body_id != (*ids)[0]) {
      return ErrorResponse(InvalidError("the resource id '" + body_id +
                                            "' differs from the id of "
                                            "the match ('" +
                                            (*ids)[0] + "')",
                                        "id"));
    }
    return UpdateWithId(ctx, std::move(body.resource), (*ids)[0]);
  }
  // No match: create, with the client's id when it gave one.
  return UpdateWithId(ctx, std::move(body.resource), body_id.empty() ? NewId() : body_id);
}

http::Response HandleDelete(RequestContext& ctx) {
  if (Guard(ctx).enforced()) {
    auto existing = ctx.store.Read(ctx.type, ctx.id);
    std::optional<http::Response> denied =
        existing.ok() ? GuardWrite(ctx, access::Action::kDelete, nullptr, &*existing)
                      : DenyType(ctx, access::Action::kDelete, ctx.type);
    if (denied) {
      return *denied;
    }
  }
  bool never_existed = false;
  auto planned = CommitVersion(ctx.store, ctx.type, ctx.id, std::nullopt,
                               [&](const store::CurrentVersion& current) -> StatusOr<PlannedWrite> {
                                 if (current.version == 0) {
                                   never_existed = true;
                                   return NotFoundError(ctx.type + "/" + ctx.id + " is not known");
                                 }
                                 if (current.deleted) {
                                   return Status(StatusCode::kGone, "already deleted");
                                 }
                                 PlannedWrite p;
                                 p.write = PrepareDeletion(ctx.type, ctx.id, current.version + 1);
                                 return p;
                               });
  http::Response r;
  r.status = 204;
  if (!planned.ok()) {
    if (never_existed) {
      return ErrorResponse(planned.status());
    }
    // Deleting a deleted resource changes nothing and succeeds (http.html#delete).
    if (planned.status().code() != StatusCode::kGone) {
      return ErrorResponse(planned.status());
    }
    return r;
  }
  r.set_header("ETag", "W/\"" + std::to_string(planned->write.version) + "\"");
  return r;
}

http::Response HandleConditionalDelete(RequestContext& ctx) {
  auto ids = MatchConditionalRequest(ctx, "delete");
  if (!ids.ok()) {
    return ErrorResponse(ids.status());
  }
  if (ids->empty()) {
    http::Response r;
    r.status = 204;
    return r;
  }
  ctx.id = (*ids)[0];
  return HandleDelete(ctx);
}

}  // namespace carechart::rest
