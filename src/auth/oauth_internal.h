// Internal to the auth module: what the OAuth endpoint files share.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth_store.h"
#include "core/html.h"  // HtmlEscape, for the pages auth renders
#include "fhir/json.h"
#include "http/message.h"

namespace carechart::auth {

using Form = std::vector<std::pair<std::string, std::string>>;

// The body of an application/x-www-form-urlencoded request, or nullopt when malformed.
std::optional<Form> ParseForm(const http::Request& request);
// First value of `name`, or empty.
std::string FormValue(const Form& form, std::string_view name);

// {"error": error, "error_description": description} with Cache-Control: no-store (RFC 6749 §5.2).
http::Response OAuthError(int status, std::string_view error, std::string_view description);
// A JSON body with Cache-Control: no-store.
http::Response NoStoreJson(const json::Value& body);
// A 302 to `location`.
http::Response Redirect(const std::string& location);
// `url` with `params` appended as a query (after '?' or '&').
std::string WithQuery(const std::string& url, const Form& params);

// The value of cookie `name` in the request, or empty.
std::string CookieValue(const http::Request& request, std::string_view name);
// A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/auth, Secure when `secure`.
std::string CookieHeader(std::string_view name, std::string_view value, int64_t max_age,
                         bool secure);

// BASE64URL(SHA256(verifier)) == challenge (RFC 7636 S256), verifier of 43-128 unreserved chars.
bool PkceMatches(std::string_view verifier, std::string_view challenge);

// Staff users' and patients' FHIR identity ("Practitioner/x", "Patient/y"), for fhirUser.
std::string FhirUserReference(const User& user);

}  // namespace carechart::auth
