// Unit tests of the FHIRPath engine pieces (lexer/parser errors, decimals, dates, quantities,
// the type model, resolve, variables, threads) and a printed micro-measurement.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "fhir/definitions.h"
#include "fhir/structure.h"
#include "fhirpath/fhirpath.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

json::Value Json(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(*v);
}

const char* kObservation = R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
  "subject": {"reference": "Patient/p1"},
  "contained": [{"resourceType": "Patient", "id": "c1"}],
  "performer": [{"reference": "#c1"}],
  "effectiveDateTime": "2020-03-04T10:00:00+01:00",
  "valueQuantity": {"value": 185.50, "unit": "lbs", "system": "http://unitsofmeasure.org",
                    "code": "[lb_av]"}
})";

std::vector<std::string> Texts(std::string_view expr, const json::Value& resource,
                               const EvaluationContext& ctx = {}) {
  auto r = Evaluate(expr, resource, ctx);
  EXPECT_TRUE(r.ok()) << expr << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok()) {
    for (const Item& item : *r) {
      out.push_back(ToDisplayString(item));
    }
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(FhirPathParser, SyntaxErrorsCarryAPosition) {
  auto e = Compile("2 + 2 /");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(e.status().location(), "@7");
  EXPECT_FALSE(Compile("name.nosuchfunction()").ok());
  EXPECT_FALSE(Compile("value.as(NoSuchType)").ok());
  EXPECT_FALSE(Compile("'unterminated").ok());
  EXPECT_TRUE(Compile("Patient.name.where(use = 'official').given.first()").ok());
}

// Found by fuzz/fhirpath_fuzz: 280 nested parentheses overflowed the stack under ASan.
TEST(FhirPathParser, DeepNestingIsAnErrorNotAStackOverflow) {
  for (const std::string& open :
       {std::string("("), std::string("f("), std::string("-"), std::string("a[")}) {
    std::string text;
    for (int i = 0; i < 100000; ++i) {
      text += open;
    }
    text += "1";
    auto parsed = Compile(text);
    ASSERT_FALSE(parsed.ok()) << open;
    EXPECT_NE(parsed.status().message().find("nests more than"), std::string::npos)
        << parsed.status().ToString();
  }
  EXPECT_TRUE(Compile("((((((((((1))))))))))").ok());
}

TEST(FhirPathParser, PrecedenceAndComments) {
  const json::Value empty = json::Value::Object();
  EXPECT_EQ(Texts("1 + 2 * 3 // comment", empty), Strings{"7"});
  EXPECT_EQ(Texts("(1 | 1 is Integer).count()", empty), Strings{"2"});
  EXPECT_FALSE(Evaluate("-1.convertsToInteger()", empty).ok());
}

TEST(FhirPathDecimal, KeepsScaleAndIsExact) {
  const json::Value empty = json::Value::Object();
  EXPECT_EQ(Texts("1.50", empty), Strings{"1.50"});
  EXPECT_EQ(Texts("0.1 + 0.2 = 0.3", empty), Strings{"true"});
  EXPECT_EQ(Texts("1 / 4", empty), Strings{"0.25"});
  EXPECT_EQ(Texts("1.587.lowBoundary(2)", empty), Strings{"1.58"});
  EXPECT_EQ(Decimal::Parse("-12.340")->ToString(), "-12.340");
}

TEST(FhirPathDates, PrecisionRules) {
  const json::Value empty = json::Value::Object();
  EXPECT_EQ(Texts("@2018-03 < @2018-03-01", empty), Strings{});
  EXPECT_EQ(Texts("@2012-04-15T15:00:00+02:00 = @2012-04-15T16:00:00+03:00", empty),
            Strings{"true"});
  EXPECT_EQ(Texts("@1973-12-25 + 1 month", empty), Strings{"1974-01-25"});
  EXPECT_EQ(Texts("@T10:30.highBoundary(9)", empty), Strings{"10:30:59.999"});
}

TEST(FhirPathQuantity, UcumAndCalendarDurations) {
  const json::Value empty = json::Value::Object();
  EXPECT_EQ(Texts("4 'g' = 4000 'mg'", empty), Strings{"true"});
  EXPECT_EQ(Texts("7 days = 1 week", empty), Strings{"true"});
  EXPECT_EQ(Texts("1 year = 1 'a'", empty), Strings{});
  EXPECT_EQ(Texts("1 year ~ 1 'a'", empty), Strings{"true"});
  EXPECT_EQ(Texts("2.0 'cm' * 2.0 'm' = 0.040 'm2'", empty), Strings{"true"});
  EXPECT_EQ(FormatQuantity({Decimal{4, 0}, "mg"}), "4 'mg'");
}

// Exponents are applied by repeated multiplication, so they are bounded (|e| ≤ 16): a huge one
// is an unknown unit, answered at once (a fuzzer found one that looped for billions of steps).
TEST(FhirPathQuantity, UnitExponentsAreBounded) {
  EXPECT_TRUE(IsKnownUnit("m3"));
  EXPECT_TRUE(IsKnownUnit("s-2"));
  EXPECT_TRUE(IsKnownUnit("m16"));
  EXPECT_TRUE(IsKnownUnit("m-16"));
  EXPECT_FALSE(IsKnownUnit("m17"));
  EXPECT_FALSE(IsKnownUnit("m-17"));
  EXPECT_FALSE(IsKnownUnit("m00000000000976489565152287858"));
  const json::Value empty = json::Value::Object();
  EXPECT_EQ(Texts("1 'm3' = 1000 'L'", empty), Strings{"true"});
  EXPECT_EQ(Texts("2.0 'cm' * 2.0 'm00000000000976489565152287858'", empty), Strings{});
}

TEST(FhirPathModel, ChoiceTypesAndItemsReferIntoTheTree) {
  const json::Value obs = Json(kObservation);
  auto r = Evaluate("Observation.value", obs);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].node, obs.find("valueQuantity"));  // no copy
  EXPECT_EQ(FhirTypeName((*r)[0]), "Quantity");
  EXPECT_EQ(Texts("Observation.value = 185.5 '[lb_av]'", obs), Strings{"true"});
  EXPECT_EQ(Texts("Observation.value.value", obs), Strings{"185.50"});
  EXPECT_EQ(Texts("Observation.effective is dateTime", obs), Strings{"true"});
  EXPECT_EQ(Texts("Observation.code.coding.where(system = %loinc).code", obs), Strings{"29463-7"});
}

TEST(FhirPathModel, ResolveContainedAndCallback) {
  const json::Value obs = Json(kObservation);
  EXPECT_EQ(Texts("Observation.performer.resolve().id", obs), Strings{"c1"});
  const json::Value patient = Json(R"({"resourceType": "Patient", "id": "p1"})");
  EvaluationContext ctx;
  ctx.resolve = [&](std::string_view ref) { return ref == "Patient/p1" ? &patient : nullptr; };
  EXPECT_EQ(Texts("Observation.subject.resolve() is Patient", obs, ctx), Strings{"true"});
  EXPECT_EQ(Texts("Observation.subject.where(resolve() is Patient).reference", obs, ctx),
            Strings{"Patient/p1"});
}

TEST(FhirPathEvaluate, VariablesAndUnsupported) {
  const json::Value obs = Json(kObservation);
  EvaluationContext ctx;
  ctx.variables.emplace_back("limit", Collection{Item::Integer(3)});
  EXPECT_EQ(Texts("%limit + 1", obs, ctx), Strings{"4"});
  EXPECT_EQ(Texts("%resource.id", obs), Strings{"o1"});
  auto r = Evaluate("code.memberOf('http://hl7.org/fhir/ValueSet/x')", obs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
  EXPECT_FALSE(Evaluate("%undefined", obs).ok());
}

TEST(FhirPathEvaluate, OneCompiledExpressionManyThreads) {
  const json::Value obs = Json(kObservation);
  auto e =
      Compile("Observation.value.as(Quantity).value > 100 and code.coding.code.matches('^29')");
  ASSERT_TRUE(e.ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = Evaluate(*e, obs);
        if (r.ok() && r->size() == 1 && (*r)[0].boolean) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 800);
}

// Every R4 SearchParameter expression compiles and evaluates on an empty resource of its type.
TEST(FhirPathSearchParameters, AllR4ExpressionsCompileAndRun) {
  int compiled = 0, failed = 0;
  for (const std::string_view type : fhir::ResourceTypes()) {
    json::Value resource = json::Value::Object();
    resource.set("resourceType", json::Value::String(std::string(type)));
    for (const fhir::SearchParamDef& p : fhir::SearchParams(type)) {
      if (p.expression.empty()) {
        continue;
      }
      auto e = Compile(p.expression);
      if (!e.ok()) {
        ++failed;
        ADD_FAILURE() << type << "." << p.code << ": " << e.status().ToString();
        continue;
      }
      auto r = Evaluate(*e, resource);
      EXPECT_TRUE(r.ok()) << type << "." << p.code << ": " << r.status().ToString();
      ++compiled;
    }
  }
  std::cout << "fhirpath: " << compiled << " SearchParameter expressions compiled, " << failed
            << " failed\n";
  EXPECT_GT(compiled, 1000);
}

// MemberPath: which expressions are plain member paths, and that walking one gives Evaluate's
// items (same nodes, same order, unions deduplicated, `as` on several items failing unless
// collections are filtered).
Strings Walked(std::string_view text, std::string_view focus_type, const json::Value& resource,
               const Item& focus, const EvaluationContext& ctx) {
  auto e = Compile(text);
  EXPECT_TRUE(e.ok()) << text;
  const auto path = MemberPath::Plan(*e, focus_type);
  EXPECT_TRUE(path.has_value()) << text;
  EvaluationContext walk_ctx = ctx;
  walk_ctx.focus = &focus;
  Collection walked, evaluated;
  const Status walk_status = path->Select(focus, walk_ctx, &walked);
  const Status eval_status = Evaluate(*e, resource, walk_ctx, &evaluated);
  EXPECT_EQ(walk_status.ok(), eval_status.ok()) << text;
  if (!walk_status.ok()) {
    return {"error"};
  }
  EXPECT_EQ(walked.size(), evaluated.size()) << text;
  Strings out;
  for (size_t i = 0; i < walked.size() && i < evaluated.size(); ++i) {
    EXPECT_EQ(walked[i].node, evaluated[i].node) << text << " item " << i;
    EXPECT_EQ(walked[i].type, evaluated[i].type) << text << " item " << i;
    out.push_back(ToDisplayString(walked[i]));
  }
  return out;
}

TEST(FhirPathMemberPath, PlansOnlyNavigation) {
  auto planned = [](std::string_view text, std::string_view type) {
    auto e = Compile(text);
    EXPECT_TRUE(e.ok()) << text;
    return MemberPath::Plan(*e, type).has_value();
  };
  EXPECT_TRUE(planned("Observation.code", "Observation"));
  EXPECT_TRUE(planned("Resource.meta.tag", "Observation"));
  EXPECT_TRUE(planned("(Observation.value as Quantity) | (Observation.value as SampledData)",
                      "Observation"));
  EXPECT_TRUE(planned("code", ""));
  EXPECT_FALSE(planned("Patient.name", "Observation"));  // the focus is not a Patient
  EXPECT_FALSE(planned("Observation.code", ""));
  EXPECT_FALSE(planned("Observation.subject.where(resolve() is Patient)", "Observation"));
  EXPECT_FALSE(planned("value.as(Quantity)", ""));
  EXPECT_FALSE(planned("Observation.value is Quantity", "Observation"));
  EXPECT_FALSE(planned("Observation.code.coding[0]", "Observation"));
  EXPECT_FALSE(planned("%resource.id", "Observation"));
}

TEST(FhirPathMemberPath, WalkGivesTheEvaluatorsItems) {
  const json::Value obs = Json(R"({
    "resourceType": "Observation", "id": "o1", "status": "final",
    "meta": {"tag": [{"code": "a"}, {"code": "b"}]},
    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"},
                        {"system": "http://loinc.org", "code": "29463-7"}]},
    "subject": {"reference": "Patient/p1"},
    "_status": {"extension": [{"url": "http://x", "valueString": "y"}]},
    "valueQuantity": {"value": 185.50, "code": "[lb_av]"},
    "component": [{"code": {"text": "c1"}, "valueQuantity": {"value": 1}},
                  {"code": {"text": "c2"}, "valueString": "two"},
                  {"code": {"text": "c3"}, "valueQuantity": {"value": 3}}]})");
  const Item root = Item::Node(&obs, fhir::structure::FindType("Observation"));
  EvaluationContext filter;
  filter.as_filters_collections = true;
  EXPECT_EQ(Walked("Observation.code.coding.code", "Observation", obs, root, filter),
            (Strings{"29463-7", "29463-7"}));
  EXPECT_EQ(
      Walked("Observation.code.coding.code | Observation.status", "Observation", obs, root, filter),
      (Strings{"29463-7", "final"}));  // the union removes the duplicate
  EXPECT_EQ(Walked("Resource.id", "Observation", obs, root, filter), Strings{"o1"});
  EXPECT_EQ(Walked("Resource.meta.tag.code", "Observation", obs, root, filter),
            (Strings{"a", "b"}));
  EXPECT_EQ(
      Walked("(Observation.component.value as Quantity).value", "Observation", obs, root, filter),
      (Strings{"1", "3"}));
  EXPECT_EQ(Walked("Observation.component.value as Quantity", "Observation", obs, root, {}),
            Strings{"error"});  // several items without filtering: the evaluator fails too
  EXPECT_EQ(Walked("Observation.value as Quantity", "Observation", obs, root, {}).size(), 1u);
  EXPECT_EQ(Walked("Observation.focus", "Observation", obs, root, filter), Strings{});
  EXPECT_EQ(Walked("Observation", "Observation", obs, root, filter).size(), 1u);
  // From an element, as a composite's components are: the element is the focus.
  Collection components;
  ASSERT_TRUE(Evaluate(*Compile("Observation.component"), obs, {}, &components).ok());
  ASSERT_EQ(components.size(), 3u);
  EXPECT_EQ(Walked("code.text", "", obs, components[1], filter), Strings{"c2"});
  EXPECT_EQ(Walked("value as string", "", obs, components[1], filter), Strings{"two"});
}

// Printed, not asserted: the cost of one typical search-index expression on an Observation.
TEST(FhirPathMicro, SearchParameterOnObservation) {
  const json::Value obs = Json(kObservation);
  const fhir::SearchParamDef* p = fhir::FindSearchParam("Observation", "value-quantity");
  ASSERT_NE(p, nullptr);
  auto e = Compile(p->expression);
  ASSERT_TRUE(e.ok());
  constexpr int kRuns = 100000;
  size_t items = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    auto r = Evaluate(*e, obs);
    items += r->size();
  }
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "fhirpath: '" << p->expression << "' on an Observation: " << ns / kRuns
            << " ns per evaluation (" << items / kRuns << " item)\n";
}

// AnalyzeAbsence: which members' absence decides a result, checked against evaluation.
TEST(FhirPathAbsence, RulesAndTheirEvaluations) {
  using Outcome = AbsenceRule::Outcome;
  struct Case {
    const char* expr;
    Outcome outcome;
    std::vector<std::string> members;
  };
  const Case cases[] = {
      {"Observation.code", Outcome::kEmpty, {"code"}},
      {"Observation.subject.where(resolve() is Patient)", Outcome::kEmpty, {"subject"}},
      {"(Observation.value as Quantity) | (Observation.component.value as Quantity)",
       Outcome::kEmpty,
       {"value", "component"}},
      {"Observation.basedOn[0]", Outcome::kEmpty, {"basedOn"}},
      {"contained.meta.security.empty()", Outcome::kTrue, {"contained"}},
      {"contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
       Outcome::kTrue,
       {"contained", "contained"}},
      {"reference.exists() implies reference.startsWith('#').not()", Outcome::kTrue, {"reference"}},
      {"method.exists().not() or code.exists()", Outcome::kTrue, {"method"}},
      {"Patient.name", Outcome::kUnknown, {}},  // another type's name: not known
      {"%resource.code", Outcome::kUnknown, {}},
      {"code.exists()", Outcome::kUnknown, {}},
      {"hasValue() or (children().count() > id.count())", Outcome::kUnknown, {}},
      {"code.count() > 0", Outcome::kUnknown, {}},
  };
  const json::Value empty = Json(R"({"resourceType": "Observation"})");
  const json::Value obs = Json(kObservation);
  for (const Case& c : cases) {
    auto expr = Compile(c.expr);
    ASSERT_TRUE(expr.ok()) << c.expr;
    const AbsenceRule rule = AnalyzeAbsence(*expr, "Observation");
    EXPECT_EQ(rule.outcome, c.outcome) << c.expr;
    EXPECT_EQ(rule.members, c.members) << c.expr;
    if (rule.outcome == Outcome::kUnknown) {
      continue;
    }
    // On a resource without the members the rule applies, and evaluation agrees with it.
    ASSERT_TRUE(rule.Applies(&empty)) << c.expr;
    auto result = Evaluate(*expr, empty);
    ASSERT_TRUE(result.ok()) << c.expr;
    if (rule.outcome == Outcome::kEmpty) {
      EXPECT_TRUE(result->empty()) << c.expr;
    } else {
      ASSERT_EQ(result->size(), 1u) << c.expr;
      EXPECT_TRUE((*result)[0].boolean) << c.expr;
    }
  }
  // Present members (a choice type's valueQuantity, a primitive's _name) stop the rule.
  auto value = Compile("Observation.value");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(AnalyzeAbsence(*value, "Observation").Applies(&obs));
  auto birth = Compile("Patient.birthDate");
  ASSERT_TRUE(birth.ok());
  const json::Value patient = Json(R"({"resourceType": "Patient", "_birthDate": {"id": "x"}})");
  EXPECT_FALSE(AnalyzeAbsence(*birth, "Patient").Applies(&patient));
}

}  // namespace
}  // namespace carechart::fhirpath
