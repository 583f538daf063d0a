// Search semantics of the SQL compiler over the SQLite store, with hand-built index entries and
// hand-built queries (independent of the extractor and of ParseSearch).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <set>

#include "store/date_driver.h"
#include "store/postgres/pg_conn.h"
#include "store/resource_store.h"
#include "store/search_sql.h"
#include "store/sqlite_db.h"
#include "store/sqlite_patient_walk.h"
#include "store/sqlite_readers.h"
#include "store/sqlite_token_systems.h"
#include "store/sqlite_tuple_estimates.h"
#include "store/store_test_util.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;
using testing::MakeWrite;
using testing::OpenOrDie;
using testing::PutNext;
using testing::TempDbPath;

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t k2020 = 1'577'836'800'000'000;  // 2020-01-01T00:00:00Z

SearchValue Val(std::string raw) {
  SearchValue v;
  v.raw = v.code = raw;
  return v;
}
SearchValue Token(std::string system, std::string code) {
  SearchValue v = Val(code);
  v.has_system = true;
  v.system = std::move(system);
  return v;
}
SearchValue Date(Prefix p, int64_t low, int64_t high) {
  SearchValue v;
  v.prefix = p;
  v.low = low;
  v.high = high;
  return v;
}
SearchValue Num(Prefix p, double n, double half = 0) {
  SearchValue v;
  v.prefix = p;
  v.number = n;
  v.number_low = half ? n - half : 0;
  v.number_high = half ? n + half : 0;
  return v;
}
SearchValue Ref(std::string type, std::string id, std::string raw = "") {
  SearchValue v;
  v.ref_type = std::move(type);
  v.ref_id = std::move(id);
  v.raw = std::move(raw);
  return v;
}
SearchClause Clause(std::string param, SearchParamType type, std::vector<SearchValue> values,
                    std::string modifier = "") {
  SearchClause c;
  c.param = std::move(param);
  c.modifier = std::move(modifier);
  c.type = type;
  c.values = std::move(values);
  return c;
}

// Every page of a search, followed by its cursors: the ids in order and the first page's total
// (-2 when the first page failed).
struct PagedIds {
  std::vector<std::string> ids;
  int64_t total = -2;
  bool operator==(const PagedIds&) const = default;
};
// `run_page` answers one page of `q` (a store's Search, or RunSearch on one connection); at most
// `max_pages` are read, so a cursor that never ends fails the test instead of hanging it.
template <typename RunPage>
PagedIds AllPages(SearchQuery q, RunPage run_page, int max_pages = 20) {
  PagedIds out;
  for (int page = 0; page < max_pages; ++page) {
    auto r = run_page(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) {
      break;
    }
    if (page == 0) {
      out.total = r->total;
    }
    for (const auto& m : r->matches) {
      out.ids.push_back(m.id);
    }
    if (!r->next) {
      break;
    }
    q.after = r->next;
  }
  return out;
}

class SearchSql : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(TempDbPath("search"));
    // Patients: a (Smith, 1980-05-01, male, MRN 1), b (Smyth, 1990, female), c (Jones, no
    // birthdate, male, MRN 3), d (deleted Smith).
    Patient("a", "Smith", "John", k2020 - 40 * 365 * kDay, "male", "1", 1);
    Patient("b", "Smyth", "Anna", k2020 - 30 * 365 * kDay, "female", "2", 2);
    Patient("c", "Jones", "Émile", 0, "male", "3", 3);
    Patient("d", "Smith", "Dead", k2020, "male", "4", 4);
    PreparedWrite del = MakeWrite("Patient", "d", k2020 + 5);
    del.deleted = true;
    ASSERT_TRUE(PutNext(*store_, del).ok());
    // Observations of a: glucose 5.4 mmol/L on 2020-01-10, weight 80 kg on 2020-02-01 (a
    // period); of b: glucose 7.0 on 2020-03-01.
    Obs("o1", "a", "15074-8", "glucose", 5.4, "mmol/L", k2020 + 9 * kDay, k2020 + 10 * kDay - 1);
    Obs("o2", "a", "29463-7", "body weight", 80, "kg", k2020 + 31 * kDay, k2020 + 40 * kDay);
    Obs("o3", "b", "15074-8", "Glucose", 7.0, "mmol/L", k2020 + 60 * kDay, k2020 + 61 * kDay - 1);
  }

  void Patient(const std::string& id, const std::string& family, const std::string& given,
               int64_t birth, const std::string& gender, const std::string& mrn, int64_t lu) {
    fhir::IndexEntries ix;
    ix.strings.push_back({"family", Lower(family), family});
    ix.strings.push_back({"name", Lower(family), family});
    ix.strings.push_back({"name", Lower(given), given});
    if (birth) {
      ix.dates.push_back({"birthdate", birth, birth + kDay - 1});
    }
    ix.tokens.push_back({"gender", "http://hl7.org/fhir/administrative-gender", gender, ""});
    ix.tokens.push_back({"identifier", "urn:mrn", mrn, ""});
    ix.uris.push_back({"_profile", "http://example.org/fhir/StructureDefinition/p-" + id});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Patient", id, k2020 + lu, ix)).ok());
  }
  void Obs(const std::string& id, const std::string& patient, const std::string& code,
           const std::string& text, double value, const std::string& unit, int64_t low,
           int64_t high) {
    fhir::IndexEntries ix;
    // The :text column as fhir::ExtractIndex writes it: each text after a '\x1f'.
    ix.tokens.push_back({"code", "http://loinc.org", code, "\x1f" + text});
    ix.references.push_back({"subject", "Patient", patient, ""});
    ix.references.push_back({"patient", "Patient", patient, ""});
    ix.dates.push_back({"date", low, high});
    ix.quantities.push_back({"value-quantity", value, "http://unitsofmeasure.org", unit, unit});
    // The code-value-quantity tuple the extractor writes beside them (the store answers
    // code&value-quantity from it, decisions D58).
    ix.composites.push_back({"code-value-quantity",
                             {{"http://loinc.org", code, "\x1f" + text, 0, false, 0, 0},
                              {"http://unitsofmeasure.org", unit, unit, value, false, 0, 0}}});
    ix.numbers.push_back({"probability", value});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", id, k2020 + 100, ix)).ok());
  }
  static std::string Lower(std::string s) {
    for (char& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  }

  std::vector<std::string> Find(const std::string& type, std::vector<SearchClause> clauses,
                                std::vector<SortKey> sort = {}, int count = 100,
                                int64_t offset = 0) {
    SearchQuery q;
    q.type = type;
    q.clauses = std::move(clauses);
    q.sort = std::move(sort);
    q.count = count;
    q.offset = offset;
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    if (r.ok()) {
      for (auto& m : r->matches) {
        ids.push_back(m.id);
      }
      last_total_ = r->total;
    }
    return ids;
  }
  using Ids = std::vector<std::string>;
  // Adds a Practitioner pr1 ("House"), Patient g (general-practitioner pr1, identifier urn:mrn|7)
  // and its Observation o4 (code 8867-4), whose subject also carries g's identifier.
  void AddLinked() {
    fhir::IndexEntries pr;
    pr.strings.push_back({"name", "house", "House"});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Practitioner", "pr1", k2020, pr)).ok());
    fhir::IndexEntries g;
    g.strings.push_back({"name", "grey", "Grey"});
    g.references.push_back({"general-practitioner", "Practitioner", "pr1", ""});
    g.tokens.push_back({"identifier", "urn:mrn", "7", ""});
    g.tokens.push_back({"_tag", "urn:tags", "vip", ""});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Patient", "g", k2020 + 7, g)).ok());
    fhir::IndexEntries o;
    o.tokens.push_back({"code", "http://loinc.org", "8867-4", "heart rate"});
    o.tokens.push_back({"subject", "urn:mrn", "7", ""});  // Reference.identifier
    o.tokens.push_back({"_tag", "urn:tags", "vip", ""});
    o.references.push_back({"subject", "Patient", "g", ""});
    o.references.push_back({"patient", "Patient", "g", ""});
    o.references.push_back({"performer", "Practitioner", "pr1", ""});
    o.dates.push_back({"date", k2020 + 90 * kDay, k2020 + 90 * kDay});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", "o4", k2020 + 100, o)).ok());
  }

  SearchResult Run(SearchQuery q) {
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SearchResult{};
  }
  static Ids IdsOf(const std::vector<ResourceVersion>& versions) {
    Ids out;
    for (const auto& v : versions) {
      out.push_back(v.type + "/" + v.id);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<ResourceStore> store_;
  int64_t last_total_ = -1;
};

SearchClause Linked(ClauseLink link, std::string param, std::string target, SearchClause inner) {
  inner.target_type = std::move(target);
  SearchClause c;
  c.param = std::move(param);
  c.type = SearchParamType::kReference;
  c.link = link;
  c.linked.push_back(std::move(inner));
  return c;
}
SearchValue Str(std::string v) {
  SearchValue sv = Val(v);
  sv.normalized = v;
  return sv;
}

TEST_F(SearchSql, Token) {
  auto code = [](std::vector<SearchValue> v, std::string mod = "") {
    return Clause("code", SearchParamType::kToken, std::move(v), std::move(mod));
  };
  EXPECT_EQ(Find("Observation", {code({Token("http://loinc.org", "15074-8")})}), (Ids{"o1", "o3"}));
  EXPECT_EQ(Find("Observation", {code({Val("29463-7")})}), (Ids{"o2"}));
  EXPECT_EQ(Find("Observation", {code({Token("http://other", "29463-7")})}), (Ids{}));
  EXPECT_EQ(Find("Observation", {code({Token("", "29463-7")})}), (Ids{}));  // |code: no system
  EXPECT_EQ(Find("Observation", {code({Token("http://loinc.org", "")})}), (Ids{"o1", "o2", "o3"}));
  EXPECT_EQ(Find("Observation", {code({Val("29463-7"), Val("15074-8")})}),
            (Ids{"o1", "o2", "o3"}));  // OR
  EXPECT_EQ(Find("Observation", {code({Val("15074-8")}, "not")}), (Ids{"o2"}));
  EXPECT_EQ(Find("Observation", {code({Val("GLUC")}, "text")}), (Ids{"o1", "o3"}));
  EXPECT_EQ(Find("Patient", {Clause("gender", SearchParamType::kToken, {Val("male")})}),
            (Ids{"a", "c"}));  // d is deleted
  EXPECT_EQ(
      Find("Patient", {Clause("gender", SearchParamType::kToken, {Val("male")}),
                       Clause("identifier", SearchParamType::kToken, {Token("urn:mrn", "3")})}),
      (Ids{"c"}));  // AND
  EXPECT_EQ(Find("Patient", {Clause("gender", SearchParamType::kToken, {Val("' OR 1=1 --")})}),
            (Ids{}));
}

TEST_F(SearchSql, String) {
  auto name = [](std::string v, std::string mod = "") {
    SearchValue sv = Val(v);
    sv.normalized = SearchSql::Lower(v);
    return Clause("name", SearchParamType::kString, {sv}, std::move(mod));
  };
  EXPECT_EQ(Find("Patient", {name("Sm")}), (Ids{"a", "b"}));
  EXPECT_EQ(Find("Patient", {name("smith")}), (Ids{"a"}));
  EXPECT_EQ(Find("Patient", {name("mit")}), (Ids{}));
  EXPECT_EQ(Find("Patient", {name("mit", "contains")}), (Ids{"a"}));
  EXPECT_EQ(Find("Patient", {name("Smith", "exact")}), (Ids{"a"}));
  EXPECT_EQ(Find("Patient", {name("smith", "exact")}), (Ids{}));
  EXPECT_EQ(Find("Patient", {name("%", "contains")}), (Ids{}));  // LIKE wildcards are escaped
  EXPECT_EQ(Find("Patient", {name("jo")}), (Ids{"a", "c"}));     // John, Jones
}

TEST_F(SearchSql, DatePrefixesFollowRangeSemantics) {
  auto date = [](SearchValue v) { return Clause("date", SearchParamType::kDate, {v}); };
  int64_t jan = k2020, jan_end = k2020 + 31 * kDay - 1;  // "2020-01"
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kEq, jan, jan_end))}), (Ids{"o1"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kNe, jan, jan_end))}), (Ids{"o2", "o3"}));
  // o2 runs 02-01..02-10: eq 2020-02-05 does not contain it, but gt/lt overlap rules apply.
  int64_t feb5 = k2020 + 35 * kDay, feb5_end = feb5 + kDay - 1;
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kEq, feb5, feb5_end))}), (Ids{}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kGt, feb5, feb5_end))}), (Ids{"o2", "o3"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kLt, feb5, feb5_end))}), (Ids{"o1", "o2"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kGe, jan, jan_end))}), (Ids{"o1", "o2", "o3"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kLe, jan, jan_end))}), (Ids{"o1"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kSa, jan, jan_end))}), (Ids{"o2", "o3"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kEb, feb5, feb5_end))}), (Ids{"o1"}));
  // ap widens by 10% of the distance from now (years here): 2020-03-01 catches all three,
  // 2021-06-01 (widened by ~0.5 year) none.
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kAp, k2020 + 60 * kDay, k2020 + 61 * kDay))}),
            (Ids{"o1", "o2", "o3"}));
  EXPECT_EQ(Find("Observation", {date(Date(Prefix::kAp, k2020 + 517 * kDay, k2020 + 518 * kDay))}),
            (Ids{}));
  // _lastUpdated is a date on the resource row: a (lu +1 µs), b (+2), c (+3).
  EXPECT_EQ(Find("Patient", {Clause("_lastUpdated", SearchParamType::kDate,
                                    {Date(Prefix::kGt, k2020 + 1, k2020 + 1)})}),
            (Ids{"b", "c"}));
  EXPECT_EQ(Find("Patient", {Clause("birthdate", SearchParamType::kDate,
                                    {Date(Prefix::kLt, k2020 - 35 * 365 * kDay, k2020)})}),
            (Ids{"a"}));
}

TEST_F(SearchSql, ReferenceNumberQuantityUri) {
  auto subject = [](SearchValue v, std::string mod = "") {
    return Clause("subject", SearchParamType::kReference, {v}, std::move(mod));
  };
  EXPECT_EQ(Find("Observation", {subject(Ref("Patient", "a"))}), (Ids{"o1", "o2"}));
  EXPECT_EQ(Find("Observation", {subject(Ref("", "b"))}), (Ids{"o3"}));
  EXPECT_EQ(Find("Observation", {subject(Ref("", "b"), "Patient")}), (Ids{"o3"}));
  EXPECT_EQ(Find("Observation", {subject(Ref("", "b"), "Group")}), (Ids{}));
  EXPECT_EQ(Find("Observation", {subject(Ref("Patient", "a", "http://x.org/fhir/Patient/a"))}),
            (Ids{"o1", "o2"}));

  auto prob = [](SearchValue v) { return Clause("probability", SearchParamType::kNumber, {v}); };
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kEq, 5, 0.5))}), (Ids{"o1"}));  // "5"
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kEq, 5.0, 0.05))}), (Ids{}));   // "5.0"
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kGt, 7))}), (Ids{"o2"}));
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kGe, 7))}), (Ids{"o2", "o3"}));
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kLe, 7))}), (Ids{"o1", "o3"}));
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kNe, 7))}), (Ids{"o1", "o2"}));
  EXPECT_EQ(Find("Observation", {prob(Num(Prefix::kAp, 80))}), (Ids{"o2"}));

  SearchValue q = Num(Prefix::kLt, 6);
  q.has_system = true;
  q.system = "http://unitsofmeasure.org";
  q.code = "mmol/L";
  auto qty = [](SearchValue v) {
    return Clause("value-quantity", SearchParamType::kQuantity, {v});
  };
  EXPECT_EQ(Find("Observation", {qty(q)}), (Ids{"o1"}));
  q.prefix = Prefix::kGt;
  q.number = 1;
  EXPECT_EQ(Find("Observation", {qty(q)}), (Ids{"o1", "o3"}));
  q.system.clear();
  q.has_system = false;
  q.code = "kg";
  EXPECT_EQ(Find("Observation", {qty(q)}), (Ids{"o2"}));

  auto profile = [](std::string v, std::string mod = "") {
    return Clause("_profile", SearchParamType::kUri, {Val(v)}, std::move(mod));
  };
  EXPECT_EQ(Find("Patient", {profile("http://example.org/fhir/StructureDefinition/p-b")}),
            (Ids{"b"}));
  EXPECT_EQ(Find("Patient", {profile("http://example.org/fhir/", "below")}), (Ids{"a", "b", "c"}));
  EXPECT_EQ(
      Find("Patient", {profile("http://example.org/fhir/StructureDefinition/p-a/x/y", "above")}),
      (Ids{"a"}));
  EXPECT_EQ(Find("Patient", {profile("http://example.org/fhir/StructureDefinition/p-", "above")}),
            (Ids{}));
}

TEST_F(SearchSql, CompositeComponentsMatchWithinOneTuple) {
  // A blood pressure panel bp1: (8480-6, 120 mmHg) and (8462-4, 80 mmHg); bp2: (8480-6, 95),
  // (8462-4, 130) — a crossed match (systolic code, the other component's value) must not count.
  auto bp = [&](const std::string& id, double sys, double dia, int64_t when) {
    fhir::IndexEntries ix;
    auto part = [](std::string code, double value) {
      return std::vector<fhir::CompositePart>{
          {"http://loinc.org", code, "", 0, false, 0, 0},
          {"http://unitsofmeasure.org", "mm[Hg]", "mmHg", value, false, 0, 0}};
    };
    ix.composites.push_back({"component-code-value-quantity", part("8480-6", sys)});
    ix.composites.push_back({"component-code-value-quantity", part("8462-4", dia)});
    fhir::CompositePart code{"http://loinc.org", "85354-9", "", 0, false, 0, 0};
    fhir::CompositePart date{"", "", "", 0, true, when, when + kDay - 1};
    ix.composites.push_back({"code-value-date", {code, date}});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", id, k2020 + 200, ix)).ok());
  };
  bp("bp1", 120, 80, k2020);
  bp("bp2", 95, 130, k2020 + 40 * kDay);
  auto composite = [](std::string param, std::vector<SearchParamType> types,
                      std::vector<SearchValue> values, std::string mod = "") {
    SearchClause c =
        Clause(std::move(param), SearchParamType::kComposite, std::move(values), std::move(mod));
    c.component_types = std::move(types);
    return c;
  };
  auto tuple = [](SearchValue a, SearchValue b) {
    SearchValue v;
    v.components = {std::move(a), std::move(b)};
    return v;
  };
  const std::vector<SearchParamType> tq{SearchParamType::kToken, SearchParamType::kQuantity};
  auto ccvq = [&](std::vector<SearchValue> values) {
    return composite("component-code-value-quantity", tq, std::move(values));
  };
  EXPECT_EQ(Find("Observation",
                 {ccvq({tuple(Token("http://loinc.org", "8480-6"), Num(Prefix::kGt, 100))})}),
            (Ids{"bp1"}));
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8462-4"), Num(Prefix::kGt, 100))})}),
            (Ids{"bp2"}));
  // Each component's prefix: le, and eq with the value's implied precision.
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), Num(Prefix::kLe, 95))})}),
            (Ids{"bp2"}));
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), Num(Prefix::kEq, 120, 0.5))})}),
            (Ids{"bp1"}));
  // OR of tuples; AND of two composite clauses.
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), Num(Prefix::kGt, 110)),
                                       tuple(Val("8462-4"), Num(Prefix::kGt, 110))})}),
            (Ids{"bp1", "bp2"}));
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), Num(Prefix::kGt, 90))}),
                                 ccvq({tuple(Val("8462-4"), Num(Prefix::kLt, 100))})}),
            (Ids{"bp1"}));
  // The quantity component's unit: system|code, or code/unit alone.
  SearchValue mmhg = Num(Prefix::kGt, 100);
  mmhg.has_system = true;
  mmhg.system = "http://unitsofmeasure.org";
  mmhg.code = "mm[Hg]";
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), mmhg)})}), (Ids{"bp1"}));
  mmhg.system = "http://other";
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), mmhg)})}), (Ids{}));
  SearchValue by_unit = Num(Prefix::kGt, 1);
  by_unit.code = "mmHg";
  EXPECT_EQ(Find("Observation", {ccvq({tuple(Val("8480-6"), by_unit)})}), (Ids{"bp1", "bp2"}));
  // A date component keeps the date prefixes; a token component its system.
  auto cvd = [&](SearchValue date) {
    return composite("code-value-date", {SearchParamType::kToken, SearchParamType::kDate},
                     {tuple(Token("http://loinc.org", "85354-9"), std::move(date))});
  };
  EXPECT_EQ(Find("Observation", {cvd(Date(Prefix::kGe, k2020 + 10 * kDay, k2020 + 11 * kDay))}),
            (Ids{"bp2"}));
  EXPECT_EQ(Find("Observation", {cvd(Date(Prefix::kEq, k2020, k2020 + kDay - 1))}), (Ids{"bp1"}));
  EXPECT_EQ(Find("Observation",
                 {composite("code-value-date", {SearchParamType::kToken, SearchParamType::kDate},
                            {tuple(Token("http://snomed.info/sct", "85354-9"),
                                   Date(Prefix::kGe, 0, 1))})}),
            (Ids{}));
  // :missing, and a composite in a non-driving position.
  EXPECT_EQ(Find("Observation",
                 {composite("component-code-value-quantity", tq, {Val("true")}, "missing")}),
            (Ids{"o1", "o2", "o3"}));
  EXPECT_EQ(Find("Observation", {Clause("_id", SearchParamType::kToken, {Val("bp2")}),
                                 ccvq({tuple(Val("8462-4"), Num(Prefix::kGe, 130))})}),
            (Ids{"bp2"}));
}

TEST_F(SearchSql, MissingIdAndSystemSearch) {
  auto birth_missing = [](std::string v) {
    return Clause("birthdate", SearchParamType::kDate, {Val(v)}, "missing");
  };
  EXPECT_EQ(Find("Patient", {birth_missing("true")}), (Ids{"c"}));
  EXPECT_EQ(Find("Patient", {birth_missing("false")}), (Ids{"a", "b"}));
  EXPECT_EQ(
      Find("Patient", {Clause("_id", SearchParamType::kToken, {Val("b"), Val("c"), Val("d")})}),
      (Ids{"b", "c"}));
  EXPECT_EQ(Find("", {Clause("_id", SearchParamType::kToken, {Val("a"), Val("o1")})}),
            (Ids{"a", "o1"}));
  SearchQuery q;
  q.types = {"Observation"};
  q.sort = {{"_id", true}};
  auto r = store_->Search(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->matches.size(), 3u);
  EXPECT_EQ(r->matches[0].id, "o3");
  EXPECT_EQ(r->total, 3);
  // A type parameter in a system search is an error, not a silent full scan.
  q.clauses = {Clause("gender", SearchParamType::kToken, {Val("male")})};
  EXPECT_EQ(store_->Search(q).status().code(), StatusCode::kInvalid);
}

TEST_F(SearchSql, SortPagingAndTotal) {
  EXPECT_EQ(Find("Patient", {}, {{"_id", true}}), (Ids{"c", "b", "a"}));
  EXPECT_EQ(Find("Patient", {}, {{"_lastUpdated", true}}), (Ids{"c", "b", "a"}));
  EXPECT_EQ(Find("Patient", {}, {{"birthdate", false, SearchParamType::kDate}}),
            (Ids{"a", "b", "c"}));  // missing values last
  EXPECT_EQ(Find("Patient", {}, {{"birthdate", true, SearchParamType::kDate}}),
            (Ids{"b", "a", "c"}));
  EXPECT_EQ(Find("Patient", {}, {{"family", false, SearchParamType::kString}}),
            (Ids{"c", "a", "b"}));
  EXPECT_EQ(Find("Patient", {}, {{"gender", false, SearchParamType::kToken}, {"_id", true}}),
            (Ids{"b", "c", "a"}));
  EXPECT_EQ(Find("Observation", {}, {{"date", true, SearchParamType::kDate}}),
            (Ids{"o3", "o2", "o1"}));
  // Ties (same gender) keep a stable order across pages.
  Ids paged;
  for (int64_t offset = 0; offset < 3; ++offset) {
    Ids page = Find("Patient", {}, {{"gender", false, SearchParamType::kToken}}, 1, offset);
    EXPECT_EQ(last_total_, 3);
    paged.insert(paged.end(), page.begin(), page.end());
  }
  EXPECT_EQ(paged, Find("Patient", {}, {{"gender", false, SearchParamType::kToken}}));
  SearchQuery q;
  q.type = "Patient";
  q.count = 0;
  auto r = store_->Search(q);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matches.empty());
  EXPECT_EQ(r->total, 3);
  q.count = 10;
  q.want_total = false;
  EXPECT_EQ(store_->Search(q)->total, -1);
}

TEST_F(SearchSql, DeletionAndUpdateReplaceIndexRows) {
  auto gluc = Clause("code", SearchParamType::kToken, {Val("15074-8")});
  PreparedWrite del = MakeWrite("Observation", "o3", k2020 + 200);
  del.deleted = true;
  ASSERT_TRUE(PutNext(*store_, del).ok());
  EXPECT_EQ(Find("Observation", {gluc}), (Ids{"o1"}));
  fhir::IndexEntries ix;
  ix.tokens.push_back({"code", "http://loinc.org", "1234-5", ""});
  ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", "o1", k2020 + 300, ix)).ok());
  EXPECT_EQ(Find("Observation", {gluc}), (Ids{}));
  EXPECT_EQ(Find("Observation", {Clause("code", SearchParamType::kToken, {Val("1234-5")})}),
            (Ids{"o1"}));
  EXPECT_EQ(
      Find("Observation", {Clause("subject", SearchParamType::kReference, {Ref("Patient", "a")})}),
      (Ids{"o2"}));
}

TEST_F(SearchSql, SearchIdsInsideTheWriteTransaction) {
  SearchQuery q;
  q.type = "Patient";
  q.clauses = {Clause("identifier", SearchParamType::kToken, {Token("urn:mrn", "9")})};
  Status s = store_->Write([&](WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(auto before, txn.SearchIds(q, 2));
    EXPECT_TRUE(before.empty());
    fhir::IndexEntries ix;
    ix.tokens.push_back({"identifier", "urn:mrn", "9", ""});
    PreparedWrite w = MakeWrite("Patient", "e", k2020, ix);
    RETURN_IF_ERROR(txn.Put(w));
    ASSIGN_OR_RETURN(auto after, txn.SearchIds(q, 2));  // sees its own uncommitted write
    EXPECT_EQ(after, (std::vector<std::string>{"e"}));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SearchSql, ChainedSearch) {
  AddLinked();
  auto name = [](std::string v) { return Clause("name", SearchParamType::kString, {Str(v)}); };
  auto chain = [&](std::string v) {
    return Linked(ClauseLink::kChain, "subject", "Patient", name(std::move(v)));
  };
  EXPECT_EQ(Find("Observation", {chain("smith")}), (Ids{"o1", "o2"}));
  EXPECT_EQ(Find("Observation", {chain("smy")}), (Ids{"o3"}));
  EXPECT_EQ(Find("Observation", {chain("nobody")}), (Ids{}));
  // A deleted target (d, "Smith") does not match; combined with another clause (probe form).
  EXPECT_EQ(
      Find("Observation", {Clause("code", SearchParamType::kToken, {Val("15074-8")}), chain("sm")}),
      (Ids{"o1", "o3"}));
  EXPECT_EQ(
      Find("Observation", {chain("sm"), Clause("code", SearchParamType::kToken, {Val("15074-8")})}),
      (Ids{"o1", "o3"}));
  // Two levels: Observation -> Patient -> Practitioner.
  SearchClause two =
      Linked(ClauseLink::kChain, "subject", "Patient",
             Linked(ClauseLink::kChain, "general-practitioner", "Practitioner", name("hou")));
  EXPECT_EQ(Find("Observation", {two}), (Ids{"o4"}));
  // Several target types ORed (subject.name over Patient and Group).
  SearchClause alts = chain("grey");
  SearchClause group = name("grey");
  group.target_type = "Group";
  alts.linked.push_back(group);
  EXPECT_EQ(Find("Observation", {alts}), (Ids{"o4"}));
  // A chain ending in _id, and in :missing (a probe-only inner clause).
  EXPECT_EQ(Find("Observation", {Linked(ClauseLink::kChain, "subject", "Patient",
                                        Clause("_id", SearchParamType::kToken, {Val("b")}))}),
            (Ids{"o3"}));
  EXPECT_EQ(Find("Observation",
                 {Linked(ClauseLink::kChain, "subject", "Patient",
                         Clause("birthdate", SearchParamType::kDate, {Val("true")}, "missing"))}),
            (Ids{"o4"}));
}

// A chain's key listing walks its targets' references in (target id, key) order (decisions
// D75): every page follows from the last one's cursor (target id and key), a resource referring
// to two matching targets is listed once, the total is the number of resources, and a change
// between pages (the cursor's resource deleted, a new reference to an earlier target) neither
// repeats nor skips the resources the first page had not reached.
TEST_F(SearchSql, ChainPagesWalkTargetsInOrder) {
  auto practitioner = [&](const std::string& id, const std::string& name) {
    fhir::IndexEntries ix;
    ix.strings.push_back({"name", Lower(name), name});
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Practitioner", id, k2020, ix)).ok());
  };
  practitioner("pz", "Moss");  // created first, sorted last by id
  practitioner("pa", "Mossop");
  practitioner("pm", "Other");
  auto obs = [&](const std::string& id, std::vector<std::string> performers) {
    fhir::IndexEntries ix;
    for (const std::string& p : performers) {
      ix.references.push_back({"performer", "Practitioner", p, ""});
    }
    ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", id, k2020 + 1, ix)).ok());
  };
  obs("w1", {"pz"});
  obs("w2", {"pa"});
  obs("w3", {"pa", "pz"});  // two matching performers: listed once, at pa
  obs("w4", {"pm"});
  obs("w5", {"pz", "pm"});
  obs("w6", {"pa"});
  SearchQuery q;
  q.type = "Observation";
  q.clauses = {Linked(ClauseLink::kChain, "performer", "Practitioner",
                      Clause("name", SearchParamType::kString, {Str("moss")}))};
  q.want_total = true;
  auto walk = [&](int count, const std::function<void(int)>& between = nullptr) {
    SearchQuery paged = q;
    paged.count = count;
    Ids ids;
    for (int page = 0; page < 20; ++page) {
      SearchResult r = Run(paged);
      if (page == 0) {
        last_total_ = r.total;
      }
      for (const auto& m : r.matches) {
        ids.push_back(m.id);
      }
      if (!r.next) {
        break;
      }
      paged.after = r.next;
      paged.want_total = false;
      if (between) {
        between(page);
      }
    }
    return ids;
  };
  // pa's, then pz's, each in key order; PostgreSQL lists by key (its plans are its own).
  const bool sqlite = testing::PostgresTestServer().empty();
  const Ids in_order =
      sqlite ? Ids{"w2", "w3", "w6", "w1", "w5"} : Ids{"w1", "w2", "w3", "w5", "w6"};
  for (int count : {1, 2, 3, 100}) {
    EXPECT_EQ(walk(count), in_order) << count;
    EXPECT_EQ(last_total_, 5) << count;
  }
  // The count statement (a sorted page's total, a later page's without a carried total) walks
  // the chain too when capped, from the first target whatever the page, each resource once
  // (w3 has two matching performers); over the cap there is no total.
  for (int64_t cap : {int64_t{0}, int64_t{4}, int64_t{5}, int64_t{100}}) {
    SearchQuery sorted = q;
    sorted.count = 2;
    sorted.total_limit = cap;
    sorted.sort = {SortKey{"_id", false, SearchParamType::kToken}};
    EXPECT_EQ(Run(sorted).total, cap == 4 ? -1 : 5) << cap;
    SearchQuery later = q;
    later.count = 2;
    later.total_limit = cap;
    later.after = Run(later).next;
    ASSERT_TRUE(later.after.has_value());
    EXPECT_EQ(Run(later).total, cap == 4 ? -1 : 5) << cap;
  }
  // Changes between pages: after the first page (o2), o3 is deleted and o4 now also names pa.
  EXPECT_EQ(walk(1,
                 [&](int page) {
                   if (page != 0) {
                     return;
                   }
                   PreparedWrite gone = MakeWrite("Observation", "w3", k2020 + 2);
                   gone.deleted = true;
                   ASSERT_TRUE(PutNext(*store_, gone).ok());
                   obs("w4", {"pm", "pa"});
                 }),
            sqlite ? (Ids{"w2", "w4", "w6", "w1", "w5"}) : (Ids{"w1", "w2", "w4", "w5", "w6"}));
  // A token of another order is refused, not misread.
  if (sqlite) {
    SearchQuery other = q;
    other.count = 2;
    other.after = PageCursor{1, {}};
    EXPECT_FALSE(store_->Search(other).ok());
  }
}

TEST_F(SearchSql, ReverseChainedSearch) {
  AddLinked();
  auto code = [](std::string v) { return Clause("code", SearchParamType::kToken, {Val(v)}); };
  auto has = [&](std::string v) {
    return Linked(ClauseLink::kHas, "patient", "Observation", code(std::move(v)));
  };
  EXPECT_EQ(Find("Patient", {has("15074-8")}), (Ids{"a", "b"}));
  EXPECT_EQ(Find("Patient", {has("29463-7")}), (Ids{"a"}));
  EXPECT_EQ(Find("Patient", {has("0000-0")}), (Ids{}));
  EXPECT_EQ(Find("Patient", {has("15074-8"), has("29463-7")}), (Ids{"a"}));  // AND
  EXPECT_EQ(
      Find("Patient", {Clause("gender", SearchParamType::kToken, {Val("female")}), has("15074-8")}),
      (Ids{"b"}));
  // :not inside: patients with an Observation whose code is not 15074-8.
  EXPECT_EQ(
      Find("Patient", {Linked(ClauseLink::kHas, "patient", "Observation",
                              Clause("code", SearchParamType::kToken, {Val("15074-8")}, "not"))}),
      (Ids{"a", "g"}));
  // Nested: practitioners who are the GP of a patient with a heart-rate Observation.
  SearchClause nested = Linked(ClauseLink::kHas, "general-practitioner", "Patient",
                               Linked(ClauseLink::kHas, "patient", "Observation", code("8867-4")));
  EXPECT_EQ(Find("Practitioner", {nested}), (Ids{"pr1"}));
  // _has then chain: patients with an Observation performed by a practitioner named House.
  EXPECT_EQ(
      Find("Patient", {Linked(ClauseLink::kHas, "patient", "Observation",
                              Linked(ClauseLink::kChain, "performer", "Practitioner",
                                     Clause("name", SearchParamType::kString, {Str("house")})))}),
      (Ids{"g"}));
}

// Token rows carry the resource's patient (decisions D60) and `Patient?_has:T:patient:code=`
// reads it; where it is '' (no Patient, or several) the reference rows answer, so the result is
// exact. On SQLite, migration 6 fills the column of rows written before it.
std::vector<std::pair<std::string, std::string>> TokenPatients(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT r.id, t.patient FROM sp_token t JOIN resource r ON r.pk = "
                               "t.res WHERE t.code = '9999-9' ORDER BY r.id",
                               -1, &stmt, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<std::pair<std::string, std::string>> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                     reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The co-located (PostgreSQL) schema takes the same plan since its migration 9 (decisions D68),
// matching the '' rows' resources by (res, compartment_key).
TEST(SearchSqlHas, CoLocatedSchemaReadsPatientsFromTokenRowsToo) {
  struct CoLocated : SqlDialect {
    std::string Placeholder(int n) const override { return SqliteDialect().Placeholder(n); }
    std::string_view CaseInsensitiveLike() const override {
      return SqliteDialect().CaseInsensitiveLike();
    }
    std::string_view CoLocationColumn() const override { return "compartment_key"; }
    std::string IntListSubquery(const std::string& placeholder) const override {
      return SqliteDialect().IntListSubquery(placeholder);
    }
    std::string IntListArg(const std::vector<int64_t>& values) const override {
      return SqliteDialect().IntListArg(values);
    }
  } co_located;
  SearchQuery q;
  q.type = "Patient";
  q.clauses = {
      Linked(ClauseLink::kHas, "patient", "Observation",
             Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "2345-7")}))};
  auto sql = CompileSearch(q, co_located, SearchSqlMode::kKeys, 0, 21);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_NE(sql->sql.find("SELECT t.patient FROM sp_token t"), std::string::npos) << sql->sql;
  EXPECT_NE(sql->sql.find("(t.res, t.compartment_key) IN (SELECT t.res, t.compartment_key FROM "
                          "sp_token t"),
            std::string::npos)
      << sql->sql;
}

TEST(SearchSqlHas, PatientsFromTokenRowsAndFromReferencesWhereTheyHaveNone) {
  std::string path = TempDbPath("has-token-patient");
  auto store = OpenOrDie(path);
  for (const char* id : {"x", "y", "z", "w"}) {
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", id, k2020)).ok());
  }
  auto obs = [&](const std::string& id, std::vector<std::string> patients, const char* subject) {
    fhir::IndexEntries ix;
    ix.tokens.push_back({"code", "http://loinc.org", "9999-9", ""});
    ix.tokens.push_back({"status", "", "final", ""});
    for (const std::string& p : patients) {
      ix.references.push_back({"patient", "Patient", p, ""});
    }
    if (subject != nullptr) {
      ix.references.push_back({"subject", "Patient", subject, ""});
    }
    ASSERT_TRUE(PutNext(*store, MakeWrite("Observation", id, k2020 + 1, ix)).ok());
  };
  obs("o1", {"x"}, "x");
  obs("o2", {"y", "z"}, nullptr);  // two patients: '' on its token rows, found by reference
  obs("o3", {}, "w");              // no `patient` entry (a Group subject, say): never found
  obs("o4", {"x", "x"}, nullptr);  // the same patient twice is one patient
  auto has = [&](const char* code) {
    SearchQuery q;
    q.type = "Patient";
    q.clauses = {
        Linked(ClauseLink::kHas, "patient", "Observation",
               Clause("code", SearchParamType::kToken, {Token("http://loinc.org", code)}))};
    auto r = store->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    for (const auto& m : r.ok() ? r->matches : std::vector<ResourceVersion>{}) {
      ids.push_back(m.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const std::vector<std::string> want{"x", "y", "z"};
  EXPECT_EQ(has("9999-9"), want);
  EXPECT_EQ(has("0000-0"), std::vector<std::string>{});
  using Rows = std::vector<std::pair<std::string, std::string>>;
  const Rows rows{{"o1", "x"}, {"o2", ""}, {"o3", ""}, {"o4", "x"}};
  if (std::string uri = testing::PostgresUriFor(path); !uri.empty()) {
    // PostgreSQL: the writer fills the column (migration 8); migration 9 fills the rows of a
    // database written before it, with the same values.
    auto conn = pg::Connection::Open(uri);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto token_patients = [&] {
      auto r = (*conn)->Run(
          "SELECT r.id, t.patient FROM sp_token t JOIN resource r ON r.pk = t.res AND "
          "r.compartment_key = t.compartment_key WHERE t.code = '9999-9' ORDER BY r.id");
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      Rows out;
      for (int i = 0; r.ok() && i < r->size(); ++i) {
        out.emplace_back(r->Text(i, 0), r->Text(i, 1));
      }
      return out;
    };
    EXPECT_EQ(token_patients(), rows);
    // Rows written before migration 8 hold '': the plan reads their references, same answer.
    ASSERT_TRUE((*conn)->Exec("UPDATE sp_token SET patient = ''").ok());
    EXPECT_EQ(has("9999-9"), want);
    store->Close();
    store.reset();
    ASSERT_TRUE((*conn)->Exec("DELETE FROM schema_version WHERE version >= 9").ok());
    store = OpenOrDie(path);  // migrates: 9 (and 10) again
    EXPECT_EQ(token_patients(), rows);
    EXPECT_EQ(has("9999-9"), want);
    obs("o5", {"w"}, "w");
    EXPECT_EQ(token_patients().back(), (std::pair<std::string, std::string>{"o5", "w"}));
    EXPECT_EQ(has("9999-9"), (std::vector<std::string>{"w", "x", "y", "z"}));
    return;  // the rest reads the SQLite file
  }
  EXPECT_EQ(TokenPatients(path), rows);
  // The plan reads the code's index range and the references of the '' rows only.
  store->Close();
  store.reset();
  // A database written before migration 6: no column, the old index, no flag table.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX sp_token_patient; "  // migration 8's, on the column
                         "DROP INDEX sp_token_code; ALTER TABLE sp_token DROP COLUMN patient; "
                         "CREATE INDEX sp_token_value ON sp_token(param, code, sys); "
                         "DROP TABLE store_flag; DELETE FROM schema_version WHERE version >= 6",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  store = OpenOrDie(path);
  EXPECT_EQ(TokenPatients(path), rows);
  EXPECT_EQ(has("9999-9"), want);
  // Written after the migration: the writer fills the column.
  obs("o5", {"w"}, "w");
  EXPECT_EQ(TokenPatients(path).back(), (std::pair<std::string, std::string>{"o5", "w"}));
  EXPECT_EQ(has("9999-9"), (std::vector<std::string>{"w", "x", "y", "z"}));
}

// The Patients of `_has:T:patient:<code>` are found current in resource_current_patient
// (decisions D74): a deleted Patient, whose Observations keep their token rows, is not a match,
// on every page and in the total; recreated, it is again.
TEST(SearchSqlHas, DeletedPatientsAreNotMatchesAndRecreatedOnesAre) {
  auto store = OpenOrDie(TempDbPath("has-deleted"));
  for (const char* id : {"x", "y", "z"}) {
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", id, k2020)).ok());
    fhir::IndexEntries ix;
    ix.tokens.push_back({"code", "http://loinc.org", "9999-9", ""});
    ix.references.push_back({"patient", "Patient", id, ""});
    ASSERT_TRUE(PutNext(*store, MakeWrite("Observation", std::string("o-") + id, k2020, ix)).ok());
  }
  auto has = [&](int count) {
    SearchQuery q;
    q.type = "Patient";
    q.count = count;
    q.want_total = true;
    q.clauses = {
        Linked(ClauseLink::kHas, "patient", "Observation",
               Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "9999-9")}))};
    return AllPages(
        q, [&](const SearchQuery& page) { return store->Search(page); }, 10);
  };
  EXPECT_EQ(has(20), (PagedIds{{"x", "y", "z"}, 3}));
  PreparedWrite gone = MakeWrite("Patient", "y", k2020 + 1);
  gone.deleted = true;
  ASSERT_TRUE(PutNext(*store, gone).ok());
  EXPECT_EQ(has(20), (PagedIds{{"x", "z"}, 2}));
  EXPECT_EQ(has(1), (PagedIds{{"x", "z"}, 2}));  // paged: cursor and count
  ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", "y", k2020 + 2)).ok());
  EXPECT_EQ(has(20), (PagedIds{{"x", "y", "z"}, 3}));
}

// `Patient?_has:T:patient:<codes>` walked over the current Patients in id order (decisions
// D88) answers as the collected set does — the same Patients on every page, the same total
// under every cap — for Patients whose ids are not in key order, a deleted Patient whose
// Observation keeps its rows, an Observation of two Patients ('' on its rows, found by
// reference), one of none, several codes, and a code no one has. SQLite only (PostgreSQL keeps
// the set).
TEST(SearchSqlHas, WalkingThePatientsAnswersAsCollectingThem) {
  std::string path = TempDbPath("has-walk");
  if (!testing::PostgresUriFor(path).empty()) {
    GTEST_SKIP() << "the walk is SQLite's plan";
  }
  auto store = OpenOrDie(path);
  const std::vector<std::string> ids{"p07", "p02", "p11", "p00", "p05", "p09",
                                     "p01", "p10", "p03", "p08", "p04", "p06"};
  for (const std::string& id : ids) {  // keys in this order, ids in another
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", id, k2020)).ok());
  }
  int n = 0;
  auto obs = [&](const char* code, std::vector<std::string> patients) {
    fhir::IndexEntries ix;
    ix.tokens.push_back({"code", "http://loinc.org", code, ""});
    for (const std::string& p : patients) {
      ix.references.push_back({"patient", "Patient", p, ""});
    }
    ASSERT_TRUE(
        PutNext(*store, MakeWrite("Observation", "o" + std::to_string(n++), k2020 + 1, ix)).ok());
  };
  for (const char* p : {"p00", "p02", "p03", "p05", "p07", "p08", "p10"}) {
    obs("1-1", {p});
    obs("1-1", {p});  // two rows of one Patient: one match
  }
  obs("2-2", {"p01"});
  obs("2-2", {"p04", "p11"});  // two Patients: found by reference
  obs("2-2", {});              // none: never found
  obs("1-1", {"p09", "p06"});
  PreparedWrite gone = MakeWrite("Patient", "p05", k2020 + 2);
  gone.deleted = true;
  ASSERT_TRUE(PutNext(*store, gone).ok());
  auto conn = sqlite::Connection::Open(path, true);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto pages = [&](SearchQuery q, bool walk) {
    q.walk_has_patients = walk;
    return AllPages(
        q, [&](const SearchQuery& page) { return sqlite::RunSearch(**conn, page, k2020 + 10); });
  };
  const std::vector<std::vector<SearchValue>> codes{
      {Token("http://loinc.org", "1-1")},
      {Token("http://loinc.org", "2-2")},
      {Token("http://loinc.org", "1-1"), Token("http://loinc.org", "2-2")},
      {Val("2-2")},
      {Token("http://loinc.org", "9-9")}};
  for (const auto& values : codes) {
    for (int count : {1, 2, 20}) {
      for (int64_t cap : {int64_t{0}, int64_t{3}, int64_t{100}}) {
        SearchQuery q;
        q.type = "Patient";
        q.count = count;
        q.want_total = true;
        q.total_limit = cap;
        q.clauses = {Linked(ClauseLink::kHas, "patient", "Observation",
                            Clause("code", SearchParamType::kToken, values))};
        ASSERT_NE(PatientWalkClause(q), nullptr);
        PagedIds set = pages(q, false), walked = pages(q, true);
        std::sort(set.ids.begin(), set.ids.end());
        EXPECT_EQ(walked, set) << values[0].code << " x" << values.size() << " count " << count
                               << " cap " << cap;
        EXPECT_TRUE(std::is_sorted(walked.ids.begin(), walked.ids.end()));  // in id order
      }
    }
  }
  SearchQuery one;
  one.type = "Patient";
  one.clauses = {Linked(ClauseLink::kHas, "patient", "Observation",
                        Clause("code", SearchParamType::kToken, {Val("1-1")}))};
  EXPECT_EQ(pages(one, true).ids,
            (std::vector<std::string>{"p00", "p02", "p03", "p06", "p07", "p08", "p09", "p10"}));
  // A token of the other plan does not fit, and says so.
  one.after = PageCursor{3, {}};
  one.walk_has_patients = true;
  EXPECT_EQ(sqlite::RunSearch(**conn, one, k2020).status().code(), StatusCode::kInvalid);
  // Other forms are never walked: :not, another parameter, a sort, a second clause.
  SearchQuery other = one;
  other.clauses[0].linked[0].modifier = "not";
  EXPECT_EQ(PatientWalkClause(other), nullptr);
  other = one;
  other.clauses[0].param = "subject";
  EXPECT_EQ(PatientWalkClause(other), nullptr);
  other = one;
  other.sort = {SortKey{"_id", false, SearchParamType::kToken}};
  EXPECT_EQ(PatientWalkClause(other), nullptr);
  other = one;
  other.clauses.push_back(Clause("gender", SearchParamType::kToken, {Val("male")}));
  EXPECT_EQ(PatientWalkClause(other), nullptr);
}

// A date clause may drive instead of the token the ranks prefer (D110): the same matches, in
// the same order, with the same totals, page by page; the store's estimate picks it for a
// range of few rows only, and only for the forms it can count.
TEST(SearchSqlDateDriver, TheDateDrivesOnlyNarrowRangesAndAnswersAsTheToken) {
  std::string path = TempDbPath("date-driver");
  auto store = OpenOrDie(path);
  // 1,200 Patients born one day apart from 2020 on, alternately female and male; ids in an
  // order other than the keys'.
  constexpr int kPatients = 1200;
  ASSERT_TRUE(
      store
          ->Write([&](WriteTxn& txn) -> Status {
            for (int i = 0; i < kPatients; ++i) {
              fhir::IndexEntries ix;
              ix.tokens.push_back({"gender", "http://hl7.org/fhir/administrative-gender",
                                   i % 2 == 0 ? "female" : "male", ""});
              ix.dates.push_back({"birthdate", k2020 + i * kDay, k2020 + (i + 1) * kDay - 1});
              RETURN_IF_ERROR(txn.Put(
                  MakeWrite("Patient", "p" + std::to_string((i * 7919) % kPatients), k2020, ix)));
            }
            return Status::Ok();
          })
          .ok());
  testing::PlannedSearches planned(path);  // either backend (D114)
  auto query = [&](Prefix prefix, int day) {
    SearchQuery q;
    q.type = "Patient";
    q.clauses = {Clause("birthdate", SearchParamType::kDate,
                        {Date(prefix, k2020 + day * kDay, k2020 + (day + 1) * kDay - 1)}),
                 Clause("gender", SearchParamType::kToken, {Val("female")})};
    return q;
  };
  auto pages = [&](SearchQuery q, const std::string& driver) {
    q.driver_param = driver;
    return AllPages(
        q, [&](const SearchQuery& page) { return planned.Run(page, k2020); }, 200);
  };
  for (Prefix prefix : {Prefix::kGe, Prefix::kGt, Prefix::kLe, Prefix::kLt, Prefix::kEq,
                        Prefix::kSa, Prefix::kEb}) {
    for (int day : {-5, 3, 1150, 1199, 1300}) {
      // Small pages where the matches are few (a wide range's hundreds of pages would take
      // seconds), large ones everywhere.
      for (int count : {day >= 1150 ? 7 : 250, 250}) {
        for (int64_t cap : {int64_t{0}, int64_t{5}, int64_t{100}}) {
          SearchQuery q = query(prefix, day);
          q.count = count;
          q.want_total = true;
          q.total_limit = cap;
          EXPECT_EQ(pages(q, "birthdate"), pages(q, ""))
              << static_cast<int>(prefix) << " day " << day << " count " << count << " cap " << cap;
        }
      }
    }
  }
  // The hint changes the statement: the date's rows drive instead of the token's.
  for (const char* driver : {"birthdate", ""}) {
    SearchQuery q = query(Prefix::kGe, 1150);
    q.driver_param = driver;
    auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, k2020, 21);
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    const std::string drives = std::string("r.pk IN (SELECT t.res FROM ") +
                               (*driver ? "(SELECT t.res AS res FROM sp_date" : "sp_token");
    EXPECT_NE(sql->sql.find(drives), std::string::npos) << sql->sql;
  }
  // The estimate: a range of fewer than kMaxDriverRows rows drives; a wider one does not here,
  // where the token (600 female Patients) does not match over kRowsRatio times as many (D111;
  // SearchDateRanges.AWiderRangeDrivesWhereTheTokenMatchesManyTimesMore tests that case).
  DateDriverEstimates estimates;
  auto choose = [&](const SearchQuery& q) {
    auto r = estimates.Choose(planned.dialect(), planned.counter(), q, k2020);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "error";
  };
  EXPECT_EQ(choose(query(Prefix::kGe, 1150)), "birthdate");  // 50 rows
  EXPECT_EQ(choose(query(Prefix::kLe, 10)), "birthdate");
  EXPECT_EQ(choose(query(Prefix::kGe, 10)), "");  // 1,190 rows, the token 600
  EXPECT_EQ(choose(query(Prefix::kLe, 1100)), "");
  // Only plain forms with a token, string or uri clause that the ranks would prefer.
  SearchQuery q = query(Prefix::kGe, 1150);
  EXPECT_EQ(DateDriverEstimates::Candidate(q), 0);
  q.sort = {SortKey{"birthdate", true, SearchParamType::kDate}};
  EXPECT_EQ(DateDriverEstimates::Candidate(q), -1);
  q = query(Prefix::kGe, 1150);
  q.clauses[1].modifier = "not";  // ranked 0: the date drives already
  EXPECT_EQ(DateDriverEstimates::Candidate(q), -1);
  q = query(Prefix::kGe, 1150);
  q.clauses[0].values.push_back(q.clauses[0].values[0]);  // two ranges: not one count
  EXPECT_EQ(DateDriverEstimates::Candidate(q), -1);
  q = query(Prefix::kGe, 1150);
  q.clauses.push_back(Clause("general-practitioner", SearchParamType::kReference,
                             {Ref("Practitioner", "x")}));  // a reference drives
  EXPECT_EQ(DateDriverEstimates::Candidate(q), -1);
  q = query(Prefix::kNe, 1150);
  EXPECT_EQ(DateDriverEstimates::Candidate(q), -1);
}

// The walk is chosen where its probes cost less than collecting the codes' rows (D88).
TEST(SearchSqlHas, TheWalkIsChosenForCommonCodesOnly) {
  using sqlite::PatientWalkEstimates;
  // 10 k Patients; a lab code of 106,907 rows (counted up to 16,384), a first page with its
  // total capped at 100: the walk.
  EXPECT_TRUE(PatientWalkEstimates::WalkIsCheaper(16384, 249, 10000, 101));
  EXPECT_TRUE(PatientWalkEstimates::WalkIsCheaper(10944, 561, 1000, 101));  // 1 k patients
  // A rare code: a few hundred rows, the walk would probe most Patients.
  EXPECT_FALSE(PatientWalkEstimates::WalkIsCheaper(300, 300, 10000, 101));
  // Many rows held by few Patients, counted completely (3016-3 at 10 k: 3,983 rows, 384
  // Patients; the walk probed ~2,600 Patients for a page, 5-7 ms against 0.6-1.1 ms, D93).
  EXPECT_FALSE(PatientWalkEstimates::WalkIsCheaper(3983, 384, 10000, 101));
  EXPECT_TRUE(PatientWalkEstimates::WalkIsCheaper(10486, 933, 10000, 101));  // 14959-1
  // An exact total walks every Patient.
  EXPECT_FALSE(PatientWalkEstimates::WalkIsCheaper(16384, 249, 10000, 10000));
  EXPECT_FALSE(PatientWalkEstimates::WalkIsCheaper(0, 0, 0, 21));
}

// A first page that needs its total lists the keys once (SearchSqlMode::kKeys) and reads the
// page's bodies by key: the page, its next-page cursor, the total and the includes of the page's
// matches only must be those of the later pages' page-and-count path.
TEST_F(SearchSql, FirstPageFromOneKeyListing) {
  AddLinked();
  SearchQuery q;
  q.type = "Patient";
  q.clauses = {Linked(ClauseLink::kHas, "patient", "Observation",
                      Clause("code", SearchParamType::kToken, {Val("15074-8")}, "not"))};
  q.include_specs = {{false, false, "Patient", "general-practitioner", {}}};
  q.count = 1;
  SearchResult first = Run(q);
  EXPECT_EQ(first.total, 2);
  ASSERT_EQ(first.matches.size(), 1u);
  EXPECT_EQ(first.matches[0].id, "a");
  EXPECT_EQ(IdsOf(first.included), (Ids{}));  // a has no GP; g's comes with g's page
  ASSERT_TRUE(first.next.has_value());
  q.after = first.next;
  SearchResult second = Run(q);
  ASSERT_EQ(second.matches.size(), 1u);
  EXPECT_EQ(second.matches[0].id, "g");
  EXPECT_EQ(IdsOf(second.included), (Ids{"Practitioner/pr1"}));
  EXPECT_FALSE(second.next.has_value());
  // Over the cap: no total, the page and cursor unchanged.
  q.after.reset();
  q.total_limit = 1;
  SearchResult capped = Run(q);
  EXPECT_EQ(capped.total, -1);
  ASSERT_EQ(capped.matches.size(), 1u);
  EXPECT_TRUE(capped.next.has_value());
  // Keys listing SQL: only the key column, in key order, capped.
  auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, 0, 2);
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_TRUE(sql->sql.starts_with("SELECT r.pk FROM")) << sql->sql;
  EXPECT_NE(sql->sql.find("ORDER BY r.pk LIMIT"), std::string::npos) << sql->sql;
  q.sort = {{"_id", false, SearchParamType::kToken}};
  EXPECT_FALSE(CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, 0, 2).ok());
}

TEST_F(SearchSql, IdentifierModifierAndSystemSearch) {
  AddLinked();
  EXPECT_EQ(Find("Observation", {Clause("subject", SearchParamType::kReference,
                                        {Token("urn:mrn", "7")}, "identifier")}),
            (Ids{"o4"}));
  EXPECT_EQ(Find("Observation", {Clause("subject", SearchParamType::kReference,
                                        {Token("urn:mrn", "1")}, "identifier")}),
            (Ids{}));
  SearchQuery q;
  q.types = {"Patient", "Observation"};
  q.clauses = {Clause("_tag", SearchParamType::kToken, {Token("urn:tags", "vip")})};
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Observation/o4", "Patient/g"}));
  q.types.clear();  // every type
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Observation/o4", "Patient/g"}));
  q.types = {"Patient"};
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Patient/g"}));
}

TEST_F(SearchSql, IncludesAndRevincludes) {
  AddLinked();
  SearchQuery q;
  q.type = "Observation";
  q.clauses = {Clause("code", SearchParamType::kToken, {Val("15074-8")})};
  q.include_specs = {{false, false, "Observation", "subject", {}}};
  SearchResult r = Run(q);
  EXPECT_EQ(IdsOf(r.matches), (Ids{"Observation/o1", "Observation/o3"}));
  EXPECT_EQ(IdsOf(r.included), (Ids{"Patient/a", "Patient/b"}));
  EXPECT_EQ(r.total, 2);  // includes are never counted
  // A target type filter, and "*" (every reference of the matches).
  q.include_specs = {{false, false, "Observation", "subject", {"Group"}}};
  EXPECT_EQ(IdsOf(Run(q).included), (Ids{}));
  q.clauses = {Clause("_id", SearchParamType::kToken, {Val("o4")})};
  q.include_specs = {{false, false, "", "*", {}}};
  EXPECT_EQ(IdsOf(Run(q).included), (Ids{"Patient/g", "Practitioner/pr1"}));
  // :iterate follows included resources; without it only the first level is returned.
  q.include_specs = {{false, false, "Observation", "subject", {}},
                     {false, false, "Patient", "general-practitioner", {}}};
  EXPECT_EQ(IdsOf(Run(q).included), (Ids{"Patient/g"}));
  q.include_specs[1].iterate = true;
  EXPECT_EQ(IdsOf(Run(q).included), (Ids{"Patient/g", "Practitioner/pr1"}));
  // _revinclude: the Observations referring to the matched patients; Type:* too.
  SearchQuery p;
  p.type = "Patient";
  p.clauses = {Clause("_id", SearchParamType::kToken, {Val("a"), Val("g")})};
  p.include_specs = {{true, false, "Observation", "subject", {}}};
  r = Run(p);
  EXPECT_EQ(IdsOf(r.included), (Ids{"Observation/o1", "Observation/o2", "Observation/o4"}));
  p.include_specs = {{true, false, "Observation", "*", {}}};
  EXPECT_EQ(IdsOf(Run(p).included), (Ids{"Observation/o1", "Observation/o2", "Observation/o4"}));
  // A match is never repeated as an include; revinclude + iterate reaches the practitioner.
  p.clauses = {Clause("_id", SearchParamType::kToken, {Val("g")})};
  p.include_specs = {{true, false, "Observation", "patient", {}},
                     {false, true, "Observation", "performer", {}},
                     {false, true, "Observation", "subject", {}}};
  r = Run(p);
  EXPECT_EQ(IdsOf(r.matches), (Ids{"Patient/g"}));
  EXPECT_EQ(IdsOf(r.included), (Ids{"Observation/o4", "Practitioner/pr1"}));
}

TEST_F(SearchSql, CompartmentSearch) {
  AddLinked();
  SearchQuery q;
  q.type = "Observation";
  q.compartment_type = "Patient";
  q.compartment_id = "a";
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Observation/o1", "Observation/o2"}));
  q.clauses = {Clause("code", SearchParamType::kToken, {Val("29463-7")})};
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Observation/o2"}));
  q.clauses.clear();
  q.type.clear();
  q.include_owner = true;
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Observation/o1", "Observation/o2", "Patient/a"}));
  q.types = {"Patient"};
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"Patient/a"}));
  q.types.clear();
  q.compartment_id = "g";
  q.since_us = k2020 + 50;  // g was written at +7, o4 at +100
  q.include_specs = {{false, false, "", "*", {"Practitioner", "Organization"}}};
  SearchResult r = Run(q);
  EXPECT_EQ(IdsOf(r.matches), (Ids{"Observation/o4"}));
  EXPECT_EQ(IdsOf(r.included), (Ids{"Practitioner/pr1"}));
}

TEST_F(SearchSql, CompartmentMembersAreCountedOnce) {
  // o5 refers to patient a as subject and as performer (both Observation compartment
  // parameters): one member, on the page and in the total.
  fhir::IndexEntries ix;
  ix.references.push_back({"subject", "Patient", "a", ""});
  ix.references.push_back({"performer", "Patient", "a", ""});
  ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", "o5", k2020 + 200, ix)).ok());
  SearchQuery q;
  q.compartment_type = "Patient";
  q.compartment_id = "a";
  q.include_owner = true;
  SearchResult r = Run(q);
  EXPECT_EQ(IdsOf(r.matches),
            (Ids{"Observation/o1", "Observation/o2", "Observation/o5", "Patient/a"}));
  EXPECT_EQ(r.total, 4);
  q.count = 1;
  Ids paged;
  for (int page = 0; page < 10; ++page) {
    SearchResult p = Run(q);
    EXPECT_EQ(p.total, 4);
    for (const auto& m : p.matches) {
      paged.push_back(m.type + "/" + m.id);
    }
    if (!p.next) {
      break;
    }
    q.after = p.next;
  }
  std::sort(paged.begin(), paged.end());
  EXPECT_EQ(paged, (Ids{"Observation/o1", "Observation/o2", "Observation/o5", "Patient/a"}));
  // Without the owner (one type, or _type leaving Patient out) the key listing has no UNION to
  // remove o5's second row: still one member.
  q.after.reset();
  q.count = 20;
  q.types = {"Observation"};
  SearchResult typed = Run(q);
  EXPECT_EQ(IdsOf(typed.matches), (Ids{"Observation/o1", "Observation/o2", "Observation/o5"}));
  EXPECT_EQ(typed.total, 3);
  q.types.clear();
  q.type = "Observation";
  EXPECT_EQ(Run(q).total, 3);
}

TEST_F(SearchSql, CompartmentListingsLeaveOutAuditEventsUnlessAsked) {
  // The first page of $everything lists its keys from index rows (decisions D50): an
  // AuditEvent naming the patient is left out of every-type listings (D21) as the row form's
  // "type <> 'AuditEvent'" did, and found when _type asks for it.
  fhir::IndexEntries ix;
  ix.references.push_back({"patient", "Patient", "a", ""});
  ASSERT_TRUE(PutNext(*store_, MakeWrite("AuditEvent", "ae1", k2020 + 300, ix)).ok());
  SearchQuery q;
  q.compartment_type = "Patient";
  q.compartment_id = "a";
  q.include_owner = true;
  SearchResult every = Run(q);
  EXPECT_EQ(IdsOf(every.matches), (Ids{"Observation/o1", "Observation/o2", "Patient/a"}));
  EXPECT_EQ(every.total, 3);
  q.types = {"AuditEvent", "Patient"};
  EXPECT_EQ(IdsOf(Run(q).matches), (Ids{"AuditEvent/ae1", "Patient/a"}));
}

TEST_F(SearchSql, TotalLimitCountsUpToTheCapThenReportsNone) {
  SearchQuery q;
  q.type = "Observation";
  q.total_limit = 3;
  EXPECT_EQ(Run(q).total, 3);  // at the cap: exact
  q.total_limit = 2;
  SearchResult r = Run(q);
  EXPECT_EQ(r.total, -1);           // over it: not reported
  EXPECT_EQ(r.matches.size(), 3u);  // the page itself is complete
  q.total_limit = 0;
  EXPECT_EQ(Run(q).total, 3);
}

TEST_F(SearchSql, KeysetPagingStaysCorrectWhileDataChanges) {
  AddLinked();
  for (std::vector<SortKey> sort : std::vector<std::vector<SortKey>>{
           {},
           {{"date", true, SearchParamType::kDate}},
           {{"code", false, SearchParamType::kToken}, {"_lastUpdated", true}},
           {{"probability", false, SearchParamType::kNumber}}}) {
    SearchQuery q;
    q.type = "Observation";
    q.sort = sort;
    q.count = 100;
    Ids all;
    for (const auto& m : Run(q).matches) {
      all.push_back(m.id);
    }
    ASSERT_EQ(all.size(), 4u);
    q.count = 1;
    Ids paged;
    int pages = 0;
    for (std::optional<PageCursor> after; pages < 10; ++pages) {
      q.after = after;
      SearchResult r = Run(q);
      for (const auto& m : r.matches) {
        paged.push_back(m.id);
      }
      if (pages == 1) {  // a new match sorting first appears while paging: no repeat, no skip
        fhir::IndexEntries ix;
        ix.tokens.push_back({"code", "http://loinc.org", "0000-0", ""});
        ix.dates.push_back({"date", k2020 + 999 * kDay, k2020 + 999 * kDay});
        ix.numbers.push_back({"probability", -1});
        PreparedWrite w = MakeWrite("Observation", "new" + std::to_string(sort.size()), k2020, ix);
        ASSERT_TRUE(PutNext(*store_, w).ok());
      }
      if (!r.next) {
        break;
      }
      after = r.next;
    }
    all.erase(std::remove(all.begin(), all.end(), "new"), all.end());
    Ids without_new = paged;
    std::erase_if(without_new, [](const std::string& id) { return id.starts_with("new"); });
    EXPECT_EQ(without_new, all) << "sort keys: " << sort.size();
    std::set<std::string> unique(paged.begin(), paged.end());
    EXPECT_EQ(unique.size(), paged.size());
    ASSERT_TRUE(PutNext(*store_,
                        [&] {
                          PreparedWrite del = MakeWrite(
                              "Observation", "new" + std::to_string(sort.size()), k2020 + 1000);
                          del.deleted = true;
                          return del;
                        }())
                    .ok());
  }
}

// A driver on one system|code walks its index rows as a join (search_sql.cc): the same matches,
// pages and totals as the key-set form, with and without a sort and a second clause.
TEST_F(SearchSql, OneSystemCodeDriverPagesLikeTheKeySet) {
  for (int i = 0; i < 5; ++i) {
    Obs("g" + std::to_string(i), i % 2 ? "a" : "b", "15074-8", "glucose", 4.0 + i, "mmol/L",
        k2020 + i * kDay, k2020 + i * kDay);
  }
  auto qualified = Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "15074-8")});
  auto bare = Clause("code", SearchParamType::kToken, {Val("15074-8")});  // key set
  auto over = Clause("value-quantity", SearchParamType::kQuantity, {Num(Prefix::kGt, 5)});
  for (std::vector<SortKey> sort :
       std::vector<std::vector<SortKey>>{{}, {{"date", true, SearchParamType::kDate}}}) {
    for (bool with_value : {false, true}) {
      std::vector<SearchClause> by_join{qualified}, by_set{bare};
      if (with_value) {
        by_join.push_back(over);
        by_set.push_back(over);
      }
      Ids expected = Find("Observation", by_set, sort);
      int64_t expected_total = last_total_;
      ASSERT_EQ(expected.size(), with_value ? 5u : 7u);
      EXPECT_EQ(Find("Observation", by_join, sort), expected);
      EXPECT_EQ(last_total_, expected_total);
      SearchQuery q;
      q.type = "Observation";
      q.clauses = by_join;
      q.sort = sort;
      q.count = 2;
      Ids paged;
      for (int pages = 0; pages < 10; ++pages) {
        SearchResult r = Run(q);
        for (const auto& m : r.matches) {
          paged.push_back(m.id);
        }
        if (!r.next) {
          break;
        }
        q.after = r.next;
      }
      EXPECT_EQ(paged, expected) << "sort keys " << sort.size() << ", value " << with_value;
    }
  }
}

TEST_F(SearchSql, CodeAndValueMatchOneObservationsCodeAndValue) {
  // m1: two codings (LOINC glucose, a local code) and one value; the store answers
  // code&value-quantity from its code-value-quantity tuples (D58) on SQLite, from the two
  // parameters' rows elsewhere: the same matches.
  fhir::IndexEntries ix;
  ix.tokens.push_back({"code", "http://loinc.org", "15074-8", ""});
  ix.tokens.push_back({"code", "urn:local", "glu", ""});
  ix.quantities.push_back({"value-quantity", 9, "http://unitsofmeasure.org", "mmol/L", "mmol/L"});
  for (const char* code : {"15074-8", "glu"}) {
    const char* sys = code[0] == 'g' ? "urn:local" : "http://loinc.org";
    ix.composites.push_back({"code-value-quantity",
                             {{sys, code, "", 0, false, 0, 0},
                              {"http://unitsofmeasure.org", "mmol/L", "mmol/L", 9, false, 0, 0}}});
  }
  ASSERT_TRUE(PutNext(*store_, MakeWrite("Observation", "m1", k2020 + 300, ix)).ok());
  auto find = [&](SearchValue code, SearchValue value) {
    return Find("Observation", {Clause("code", SearchParamType::kToken, {std::move(code)}),
                                Clause("value-quantity", SearchParamType::kQuantity, {value})});
  };
  const SearchValue glucose = Token("http://loinc.org", "15074-8");
  EXPECT_EQ(find(glucose, Num(Prefix::kGt, 6)), (Ids{"o3", "m1"}));
  EXPECT_EQ(last_total_, 2);
  EXPECT_EQ(find(glucose, Num(Prefix::kGe, 5.4)), (Ids{"o1", "o3", "m1"}));
  EXPECT_EQ(find(glucose, Num(Prefix::kLt, 6)), (Ids{"o1"}));
  EXPECT_EQ(find(glucose, Num(Prefix::kEq, 7, 0.5)), (Ids{"o3"}));
  EXPECT_EQ(find(glucose, Num(Prefix::kGt, 80)), (Ids{}));
  EXPECT_EQ(find(Token("urn:local", "glu"), Num(Prefix::kGt, 8)), (Ids{"m1"}));
  EXPECT_EQ(find(Val("glu"), Num(Prefix::kGt, 8)), (Ids{"m1"}));
  EXPECT_EQ(find(Token("http://loinc.org", "29463-7"), Num(Prefix::kGt, 70)), (Ids{"o2"}));
  EXPECT_EQ(find(Token("http://loinc.org", "29463-7"), Num(Prefix::kGt, 80)), (Ids{}));
  SearchValue kg = Num(Prefix::kGt, 70);
  kg.has_system = true;
  kg.system = "http://unitsofmeasure.org";
  kg.code = "kg";
  EXPECT_EQ(find(Token("http://loinc.org", "29463-7"), kg), (Ids{"o2"}));
  kg.code = "g";
  EXPECT_EQ(find(Token("http://loinc.org", "29463-7"), kg), (Ids{}));
  // With another clause driving (the patient), the tuple is a probe.
  EXPECT_EQ(Find("Observation",
                 {Clause("patient", SearchParamType::kReference, {Ref("Patient", "b")}),
                  Clause("code", SearchParamType::kToken, {glucose}),
                  Clause("value-quantity", SearchParamType::kQuantity, {Num(Prefix::kGt, 6)})}),
            (Ids{"o3"}));
}

TEST(SearchSqlTuples, ADatabaseMigratedToCompositesLaterKeepsTheTwoParameters) {
  if (!testing::PostgresTestServer().empty()) {
    GTEST_SKIP() << "the composite-tuple plan and its schema check are SQLite's";
  }
  // A database whose migration 2 (composites) came after its first writes has no tuples for
  // those resources: the store must not answer code&value-quantity from them.
  std::string path = TempDbPath("late-composites");
  OpenOrDie(path).reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM store_flag WHERE name = 'composite_tuples_complete'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenOrDie(path);
  fhir::IndexEntries ix;  // no tuple, as before migration 2
  ix.tokens.push_back({"code", "http://loinc.org", "15074-8", ""});
  ix.quantities.push_back({"value-quantity", 9, "http://unitsofmeasure.org", "mmol/L", "mmol/L"});
  ASSERT_TRUE(PutNext(*store, MakeWrite("Observation", "old", k2020, ix)).ok());
  SearchQuery q;
  q.type = "Observation";
  q.clauses = {Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "15074-8")}),
               Clause("value-quantity", SearchParamType::kQuantity, {Num(Prefix::kGt, 8)})};
  auto r = store->Search(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->matches.size(), 1u);
  EXPECT_EQ(r->matches[0].id, "old");
  // A completed reindex of Observation records that the tuples are complete (D60), and the
  // store uses them from then on, also after a restart: the hand-made "old" row has no tuple
  // (a real reindex would have written one), so the tuple plan no longer finds it.
  ASSERT_TRUE(store->ReindexCompleted("Patient", "").ok());
  EXPECT_EQ(store->Search(q)->matches.size(), 1u);  // another type's reindex changes nothing
  ASSERT_TRUE(store->ReindexCompleted("Observation", "").ok());
  EXPECT_EQ(store->Search(q)->matches.size(), 0u);
  store->Close();
  store = OpenOrDie(path);
  EXPECT_EQ(store->Search(q)->matches.size(), 0u);
}

// Observations n0..n{count-1} of LOINC 2345-7 with values 0..count-1, every fifth without a
// quantity (so without a tuple), written in key order.
void WriteNumberedObservations(ResourceStore& store, int count, const std::string& system) {
  for (int i = 0; i < count; ++i) {
    fhir::IndexEntries ix;
    ix.tokens.push_back({"code", system, "2345-7", ""});
    if (i % 5 != 4) {
      const double v = i;
      ix.quantities.push_back({"value-quantity", v, "http://unitsofmeasure.org", "mg", "mg"});
      ix.composites.push_back({"code-value-quantity",
                               {{system, "2345-7", "", 0, false, 0, 0},
                                {"http://unitsofmeasure.org", "mg", "mg", v, false, 0, 0}}});
    }
    ASSERT_TRUE(
        PutNext(store, MakeWrite("Observation", "n" + std::to_string(i), k2020 + i, ix)).ok());
  }
}

TEST(SearchSqlTuples, TotalsCountedFromTheTuplesEqualEveryOtherPlans) {
  if (!testing::PostgresTestServer().empty()) {
    GTEST_SKIP() << "the composite-tuple plans are SQLite's";
  }
  // 600 Observations of one code, 480 with a value: whichever plan the store picks for a page
  // (the tuple range; the token rows with the total counted from the range, D76; the token
  // rows alone), the pages, the next cursor and the capped total are those of the rule.
  auto store = OpenOrDie(TempDbPath("tuple-totals"));
  WriteNumberedObservations(*store, 600, "http://loinc.org");
  const SearchValue code = Token("http://loinc.org", "2345-7");
  auto expected = [](double over) {
    std::vector<std::string> ids;
    for (int i = 0; i < 600; ++i) {
      if (i % 5 != 4 && i > over) {
        ids.push_back("n" + std::to_string(i));
      }
    }
    return ids;
  };
  for (double over : {-1.0, 10.0, 300.0, 590.0, 598.0, 1000.0}) {
    for (int64_t cap : {int64_t{0}, int64_t{100}, int64_t{1000}}) {
      for (bool want_total : {true, false}) {
        SearchQuery q;
        q.type = "Observation";
        q.clauses = {
            Clause("code", SearchParamType::kToken, {code}),
            Clause("value-quantity", SearchParamType::kQuantity, {Num(Prefix::kGt, over)})};
        q.count = 7;
        q.total_limit = cap;
        q.want_total = want_total;
        const std::vector<std::string> all = expected(over);
        std::vector<std::string> seen;
        auto r = store->Search(q);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        const auto n = static_cast<int64_t>(all.size());
        const int64_t total = !want_total ? -1 : (cap > 0 && n > cap ? -1 : n);
        EXPECT_EQ(r->total, total) << "gt" << over << " cap " << cap;
        while (true) {
          for (const auto& m : r->matches) {
            seen.push_back(m.id);
          }
          if (!r->next) {
            break;
          }
          q.after = r->next;
          r = store->Search(q);
          ASSERT_TRUE(r.ok()) << r.status().ToString();
        }
        EXPECT_EQ(seen, all) << "gt" << over << " cap " << cap;
      }
    }
  }
}

TEST(SearchSqlTuples, TheSampleOfACodesValuesIsBoundedAndSpreadOverItsRows) {
  if (!testing::PostgresTestServer().empty()) {
    GTEST_SKIP() << "the estimates read SQLite's index tables";
  }
  std::string path = TempDbPath("tuple-sample");
  auto store = OpenOrDie(path);
  // 2,000 Observations under LOINC, 500 under a local system: values 0..n-1 in key order.
  WriteNumberedObservations(*store, 2000, "http://loinc.org");
  for (int i = 0; i < 500; ++i) {
    fhir::IndexEntries ix;
    ix.tokens.push_back({"code", "urn:local", "2345-7", ""});
    ix.composites.push_back({"code-value-quantity",
                             {{"urn:local", "2345-7", "", 0, false, 0, 0},
                              {"http://unitsofmeasure.org", "mg", "mg", 5000.0 + i, false, 0, 0}}});
    ASSERT_TRUE(PutNext(*store, MakeWrite("Observation", "l" + std::to_string(i), k2020, ix)).ok());
  }
  auto conn = sqlite::Connection::Open(path, /*read_only=*/true);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto loinc = sqlite::TupleRangeEstimates::Take(**conn, "Observation",
                                                 Token("http://loinc.org", "2345-7"), 1);
  ASSERT_TRUE(loinc.ok()) << loinc.status().ToString();
  // 256 seeks over 2,000 rows, of which a fifth have no tuple: about 205 values, from the
  // whole span of the values (written in key order), and 1,600 tuples estimated.
  EXPECT_GT(loinc->values.size(), 150u);
  EXPECT_LE(loinc->values.size(), 256u);
  EXPECT_TRUE(std::is_sorted(loinc->values.begin(), loinc->values.end()));
  EXPECT_LT(loinc->values.front(), 20);
  EXPECT_GT(loinc->values.back(), 1980);
  EXPECT_NEAR(static_cast<double>(loinc->tuples), 1600, 160);
  // Without a system: both systems, each in proportion to its tuples.
  auto any = sqlite::TupleRangeEstimates::Take(**conn, "Observation", Val("2345-7"), 1);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_NEAR(static_cast<double>(any->tuples), 2100, 210);
  const auto local =
      std::count_if(any->values.begin(), any->values.end(), [](double v) { return v >= 5000; });
  EXPECT_NEAR(static_cast<double>(local) / static_cast<double>(any->values.size()), 500.0 / 2100,
              0.05);
  // A code never stored: nothing.
  auto none = sqlite::TupleRangeEstimates::Take(**conn, "Observation", Val("no-such-code"), 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->tuples, 0);
  EXPECT_TRUE(none->values.empty());
}

TEST(SearchSqlTuples, TheReindexesThatFillThePlannedTuples) {
  EXPECT_TRUE(ReindexFillsPlannedTuples("", ""));  // everything
  EXPECT_TRUE(ReindexFillsPlannedTuples("Observation", ""));
  EXPECT_TRUE(ReindexFillsPlannedTuples("Observation", "code-value-quantity"));
  EXPECT_FALSE(ReindexFillsPlannedTuples("Observation", "code"));
  EXPECT_FALSE(ReindexFillsPlannedTuples("Observation", "component-code-value-quantity"));
  EXPECT_FALSE(ReindexFillsPlannedTuples("Patient", ""));
}

TEST_F(SearchSql, TotalNoneAndEstimate) {
  SearchQuery q;
  q.type = "Observation";
  q.want_total = false;
  EXPECT_EQ(Run(q).total, -1);
  q.want_total = true;
  q.estimate_total = true;
  EXPECT_EQ(Run(q).total, 3);  // below the estimate's limit: exact
}

// EXPLAIN QUERY PLAN of a compiled search, as one line per step.
std::string Plan(const std::string& db_path, const CompiledSql& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string text = "EXPLAIN QUERY PLAN " + sql.sql;
  EXPECT_EQ(sqlite3_prepare_v2(db, text.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  for (size_t i = 0; i < sql.args.size(); ++i) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            sqlite3_bind_int64(stmt, static_cast<int>(i + 1), v);
          } else if constexpr (std::is_same_v<T, double>) {
            sqlite3_bind_double(stmt, static_cast<int>(i + 1), v);
          } else {
            sqlite3_bind_text(stmt, static_cast<int>(i + 1), v.c_str(), -1, SQLITE_TRANSIENT);
          }
        },
        sql.args[i]);
  }
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "\n";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return plan;
}

// The plan of `query` compiled in `mode` (`limit` as CompileSearch takes it); empty, with a test
// failure, when it does not compile.
std::string CompiledPlan(const std::string& db_path, const SearchQuery& query, SearchSqlMode mode,
                         int limit = 0) {
  auto sql = CompileSearch(query, SqliteDialect(), mode, 0, limit);
  EXPECT_TRUE(sql.ok()) << sql.status().ToString();
  return sql.ok() ? Plan(db_path, *sql) : std::string();
}

TEST(SearchSqlPlan, SelectiveSearchesUseTheValueIndexes) {
  std::string path = TempDbPath("plan");
  auto store = OpenOrDie(path);
  auto name = Clause("name", SearchParamType::kString, {Str("smi")});
  auto code = Clause("code", SearchParamType::kToken, {Val("1234-5")});
  struct Case {
    const char* what;
    SearchQuery q;
    std::vector<const char*> expect;
  };
  SearchQuery chain, has, compartment, keyset, coded, coded_next;
  chain.type = "Observation";
  chain.clauses = {Linked(ClauseLink::kChain, "subject", "Patient", name)};
  has.type = "Patient";
  has.clauses = {Linked(ClauseLink::kHas, "patient", "Observation", code)};
  compartment.type = "Observation";
  compartment.compartment_type = "Patient";
  compartment.compartment_id = "a";
  keyset.type = "Observation";
  keyset.clauses = {code};
  keyset.after = PageCursor{5, {}};
  // One system|code drives as a join over its index rows, already in key order: no key set
  // is built (no LIST SUBQUERY), no sorter, and the next page seeks past its cursor.
  coded.type = "Observation";
  coded.clauses = {Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "1-8")}),
                   Clause("value-quantity", SearchParamType::kQuantity, {Num(Prefix::kGt, 5)})};
  coded_next = coded;
  coded_next.after = PageCursor{5, {}};
  for (const SearchQuery& q : {coded, coded_next}) {
    std::string plan = CompiledPlan(path, q, SearchSqlMode::kPage);
    EXPECT_NE(plan.find("SEARCH d USING COVERING INDEX sp_token_code (param=? AND code=? AND "
                        "sys=?"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("LIST SUBQUERY"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  }
  EXPECT_NE(Plan(path, *CompileSearch(coded_next, SqliteDialect(), SearchSqlMode::kPage, 0))
                .find("res>?"),
            std::string::npos);
  // With complete composite tuples (D58) the code and the threshold are one range of
  // sp_composite(param, t1, s1, lo2): no walk of the code's token rows, no quantity probe.
  for (SearchQuery q : {coded, coded_next}) {
    q.composite_tuples_indexed = true;
    for (SearchSqlMode mode : {SearchSqlMode::kPage, SearchSqlMode::kKeys, SearchSqlMode::kCount}) {
      std::string plan = Plan(path, *CompileSearch(q, SqliteDialect(), mode, 0, 21));
      EXPECT_NE(plan.find("sp_composite_code_value (param=? AND t1=? AND s1=? AND lo2>?)"),
                std::string::npos)
          << plan;
      EXPECT_EQ(plan.find("sp_token"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("sp_quantity"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << plan;
    }
  }
  // _has:Observation:patient:code reads the patients from the code's token rows (migration 6,
  // D60), and the references, from one parameter's rows of sp_reference(param, res)
  // (migration 5), only of the resources whose token rows name no patient.
  {
    std::string plan =
        Plan(path, *CompileSearch(has, SqliteDialect(), SearchSqlMode::kKeys, 0, 21));
    EXPECT_NE(plan.find("SEARCH t USING COVERING INDEX sp_token_code (param=? AND code=?)"),
              std::string::npos)
        << plan;
    EXPECT_NE(plan.find("sp_reference_source (param=? AND res=?)"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
    // The patients are found current in resource_current_patient alone (migration 7, D74):
    // no resource row is read, neither a Patient's nor, in the outer listing, a match's.
    EXPECT_NE(plan.find("SEARCH r USING COVERING INDEX resource_current_patient (id=? AND "
                        "type=? AND deleted=?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
  }
  // A sorted page sorts the keys of its matches from index rows: the type of each key is
  // checked in resource(type), the rows (and their bodies) are read for the page only (D60).
  {
    SearchQuery sorted;
    sorted.type = "Observation";
    sorted.clauses = {Clause("patient", SearchParamType::kReference, {Ref("Patient", "a")})};
    sorted.sort = {SortKey{"date", true, SearchParamType::kDate}};
    std::string plan = Plan(path, *CompileSearch(sorted, SqliteDialect(), SearchSqlMode::kPage, 0));
    EXPECT_NE(plan.find("COVERING INDEX resource_type_pk (type=? AND rowid=?)"), std::string::npos)
        << plan;
    // Its count reads the patient's rows of sp_reference_value, never the parameter's whole
    // range of sp_reference_source (param, res), which a bare DISTINCT res would take for its
    // order (a regression of D76, 1 s per search at 1 k patients).
    for (int64_t cap : {int64_t{0}, int64_t{100}}) {
      SearchQuery counted = sorted;  // `patient=a`, as sent: no target type to narrow the rows
      counted.clauses = {Clause("patient", SearchParamType::kReference, {Ref("", "a")})};
      counted.total_limit = cap;
      std::string count =
          Plan(path, *CompileSearch(counted, SqliteDialect(), SearchSqlMode::kCount, 0));
      EXPECT_NE(count.find("sp_reference_value (param=? AND target_id=?"), std::string::npos)
          << count;
      EXPECT_EQ(count.find("sp_reference_source"), std::string::npos) << count;
    }
  }
  // A later page listed by key seeks past its cursor too.
  EXPECT_NE(Plan(path, *CompileSearch(coded_next, SqliteDialect(), SearchSqlMode::kKeys, 0, 21))
                .find("res>?"),
            std::string::npos);
  // A listing without a driving clause walks resource(type) in key order (migration 4): no
  // sorter, and a later page seeks past its cursor.
  SearchQuery listing;
  listing.type = "Observation";
  listing.after = PageCursor{5, {}};
  std::string listed =
      Plan(path, *CompileSearch(listing, SqliteDialect(), SearchSqlMode::kPage, 0));
  EXPECT_NE(listed.find("resource_type_pk (type=? AND rowid>?)"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("TEMP B-TREE"), std::string::npos) << listed;
  // A key listing or count from index rows checks each key's type in resource(type) and never
  // reads the row (whose page holds the JSON body); _has, whose keys are the target's, does,
  // unless its driver keeps the current Patients only (the patients of token rows, D74).
  SearchQuery has_subject = has;
  has_subject.clauses = {Linked(ClauseLink::kHas, "subject", "Observation", code)};
  for (auto& [what, q, from_index] : std::vector<std::tuple<const char*, SearchQuery, bool>>{
           {"coded", coded, true},
           {"chain", chain, true},
           {"keyset", keyset, true},
           {"_has patient", has, true},
           {"_has subject", has_subject, false}}) {
    q.after.reset();
    for (SearchSqlMode mode : {SearchSqlMode::kKeys, SearchSqlMode::kCount}) {
      if (std::string_view(what) == "chain" && mode == SearchSqlMode::kKeys) {
        continue;  // walked by target (below)
      }
      std::string plan = CompiledPlan(path, q, mode, 21);
      if (std::string_view(what) == "keyset" && mode == SearchSqlMode::kCount) {
        // One clause's count reads its index rows alone, each key once (D76).
        EXPECT_EQ(plan.find("SEARCH r "), std::string::npos) << plan;
        EXPECT_NE(plan.find("COVERING INDEX sp_token_code"), std::string::npos) << plan;
        continue;
      }
      std::string outer = plan.substr(0, plan.find("SUBQUERY"));
      EXPECT_EQ(outer.find("resource_type_pk (type=? AND rowid=?)") != std::string::npos,
                from_index)
          << what << ":\n"
          << plan;
      EXPECT_EQ(outer.find("r USING INTEGER PRIMARY KEY") == std::string::npos, from_index)
          << what << ":\n"
          << plan;
      EXPECT_EQ(plan.find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << what << ":\n" << plan;
    }
  }
  // A chain's key listing walks its targets' references, each target's in key order, and stops
  // after its LIMIT: no key set of every referring resource, no sorter, no resource row read
  // (the type from resource(type)); a later page starts at its cursor's target (D75).
  for (bool later : {false, true}) {
    SearchQuery q = chain;
    if (later) {
      q.after = PageCursor{5, {"sabc"}};
    }
    std::string plan = Plan(path, *CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, 0, 21));
    EXPECT_TRUE(
        plan.starts_with("SEARCH d USING COVERING INDEX sp_reference_value (param=? AND "
                         "target_id=? AND target_type=?)"))
        << plan;
    EXPECT_NE(plan.find("COVERING INDEX resource_type_pk (type=? AND rowid=?)"), std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  }
  // A chain's count up to a cap walks it like its listing and stops after the cap's rows: the
  // key set of every resource referring to any matching target (143,000 Observations for a
  // common name at 10 k patients) is not built. An exact count keeps the key set (D82).
  for (int64_t cap : {int64_t{0}, int64_t{100}}) {
    for (bool estimate : {false, true}) {
      SearchQuery q = chain;
      q.total_limit = estimate ? 0 : cap;
      q.estimate_total = estimate;
      q.after = PageCursor{5, {"sabc"}};  // a count ignores the page's cursor
      auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kCount, 0);
      ASSERT_TRUE(sql.ok()) << sql.status().ToString();
      std::string plan = Plan(path, *sql);
      const bool walks = cap > 0 || estimate;
      EXPECT_EQ(plan.find("SEARCH d USING COVERING INDEX sp_reference_value (param=? AND "
                          "target_id=? AND target_type=?)") != std::string::npos,
                walks)
          << plan;
      EXPECT_EQ(plan.find("LIST SUBQUERY") < plan.find("sp_reference_value"), !walks) << plan;
      EXPECT_EQ(sql->sql.find("AND r.id >="), std::string::npos) << sql->sql;
    }
  }
  // A compartment's key listing or count (the first page of $everything, decisions D50) reads
  // its members' index rows and the owner's (type, id), never a member's resource row; the
  // members' keys (one patient's record) are sorted.
  for (bool every_type : {false, true}) {
    SearchQuery q = compartment;
    if (every_type) {
      q.type.clear();
      q.include_owner = true;
    }
    for (SearchSqlMode mode : {SearchSqlMode::kKeys, SearchSqlMode::kCount}) {
      std::string plan = CompiledPlan(path, q, mode, 21);
      EXPECT_NE(plan.find("sp_reference_value"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("INTEGER PRIMARY KEY"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("SCAN t"), std::string::npos) << plan;  // "SCAN r": the key list
      EXPECT_EQ(plan.find("SCAN o"), std::string::npos) << plan;
    }
  }
  for (auto& [what, q, expect] :
       std::vector<Case>{{"chain", chain, {"sp_string_value", "sp_reference_value"}},
                         {"_has", has, {"sp_token_code", "resource_current_patient"}},
                         {"compartment", compartment, {"sp_reference_value"}},
                         {"keyset", keyset, {"sp_token_code"}}}) {
    std::string plan = CompiledPlan(path, q, SearchSqlMode::kPage);
    for (const char* index : expect) {
      EXPECT_NE(plan.find(index), std::string::npos) << what << ":\n" << plan;
    }
    EXPECT_EQ(plan.find("SCAN r\n"), std::string::npos) << what << ":\n" << plan;
    EXPECT_EQ(plan.find("SCAN t\n"), std::string::npos) << what << ":\n" << plan;
    // The driver's key set is walked in key order: the default sort needs no sorter (a page
    // stops after count + 1 rows instead of sorting every match).
    EXPECT_NE(plan.find("INTEGER PRIMARY KEY"), std::string::npos) << what << ":\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE FOR ORDER BY"), std::string::npos) << what << ":\n" << plan;
  }
}

// `Observation?patient=P&code=S|C` reads the patient's rows of the code, and the code's rows
// without one patient, from sp_token_patient (param, patient, code, sys) (migration 8,
// decisions D87): not the patient's every Observation probed for the code. The patient stays a
// probe of the reference rows.
// A chain's targets' ids come from resource_key_id (pk, type, id) (migration 9, D92), one seek
// per key found in the linked clause's index rows, for every type of the index's condition
// (which must agree with KeyIdIndexed): no target row is read — at 10 k patients each was a
// cold page of JSON. Listings (walked, first and later pages), capped and exact counts alike;
// a type the index does not hold, and a linked clause on the row's own columns, read the rows.
TEST(SearchSqlPlan, ChainTargetsIdsComeFromTheKeyIndex) {
  std::string path = TempDbPath("plan");
  auto store = OpenOrDie(path);
  const auto ident = Clause("identifier", SearchParamType::kToken, {Val("x")});
  for (const char* target :
       {"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Group",
        "RelatedPerson", "Device", "Medication", "Encounter"}) {
    const bool indexed = std::string_view(target) != "Encounter";
    SearchQuery q;
    q.type = "Observation";
    q.clauses = {Linked(ClauseLink::kChain, "subject", target, ident)};
    SearchQuery later = q, capped = q, exact = q;  // exact: total_limit 0
    later.after = PageCursor{5, {"sabc"}};
    capped.total_limit = 100;
    for (auto [what, query, mode] : {std::tuple{"listing", q, SearchSqlMode::kKeys},
                                     {"later", later, SearchSqlMode::kKeys},
                                     {"capped", capped, SearchSqlMode::kCount},
                                     {"exact", exact, SearchSqlMode::kCount},
                                     {"page", q, SearchSqlMode::kPage}}) {
      std::string plan = CompiledPlan(path, query, mode, 21);
      EXPECT_EQ(plan.find("COVERING INDEX resource_key_id (pk=? AND type=?)") != std::string::npos,
                indexed)
          << target << " " << what << ":\n"
          << plan;
      // The targets' rows, by key: "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)" below the
      // outer statement's own line.
      const std::string inner = plan.substr(plan.find('\n') + 1);
      EXPECT_EQ(inner.find("USING INTEGER PRIMARY KEY") != std::string::npos, !indexed)
          << target << " " << what << ":\n"
          << plan;
    }
  }
  // A linked clause on the row's own columns keeps reading the rows.
  SearchQuery by_id;
  by_id.type = "Observation";
  by_id.clauses = {Linked(ClauseLink::kChain, "subject", "Patient",
                          Clause("_id", SearchParamType::kToken, {Val("a")}))};
  EXPECT_EQ(CompiledPlan(path, by_id, SearchSqlMode::kKeys, 21).find("resource_key_id"),
            std::string::npos);
}

TEST(SearchSqlPlan, PatientAndCodeReadThePatientsRowsOfTheCode) {
  std::string path = TempDbPath("plan-patient-code");
  auto store = OpenOrDie(path);
  SearchQuery q;
  q.type = "Observation";
  q.clauses = {Clause("patient", SearchParamType::kReference, {Ref("", "a")}),
               Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "1-8")}),
               Clause("date", SearchParamType::kDate, {Date(Prefix::kGe, k2020, k2020)})};
  SearchQuery sorted = q;
  sorted.sort = {SortKey{"date", true, SearchParamType::kDate}};
  for (const auto& [query, mode] :
       std::vector<std::pair<SearchQuery, SearchSqlMode>>{{q, SearchSqlMode::kKeys},
                                                          {q, SearchSqlMode::kCount},
                                                          {q, SearchSqlMode::kPage},
                                                          {sorted, SearchSqlMode::kPage}}) {
    std::string plan = CompiledPlan(path, query, mode, 21);
    EXPECT_NE(plan.find("COVERING INDEX sp_token_patient (param=? AND patient=? AND code=? AND "
                        "sys=?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("sp_reference_value"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN t"), std::string::npos) << plan;  // "SCAN s": the sorted page
    EXPECT_EQ(plan.find("SCAN r"), std::string::npos) << plan;
  }
  // A patient named by URL, or a code with a modifier, keep the patient's references driving.
  SearchQuery text = q;
  text.clauses[1].modifier = "text";
  EXPECT_NE(Plan(path, *CompileSearch(text, SqliteDialect(), SearchSqlMode::kKeys, 0, 21))
                .find("sp_reference_value"),
            std::string::npos);
}

// The walked `_has` listing (D88) reads the current Patients in id order from
// resource_current_patient, probing each in sp_token_patient: no sorter, no resource row, and
// a later page seeks past its cursor's id.
TEST(SearchSqlPlan, WalkedHasProbesEachPatientsRowsOfTheCode) {
  std::string path = TempDbPath("plan-has-walk");
  auto store = OpenOrDie(path);
  for (bool later : {false, true}) {
    SearchQuery q;
    q.type = "Patient";
    q.walk_has_patients = true;
    q.clauses = {Linked(ClauseLink::kHas, "patient", "Observation",
                        Clause("code", SearchParamType::kToken, {Token("http://loinc.org", "1")}))};
    if (later) {
      q.after = PageCursor{5, {"sp05"}};
    }
    auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, 0, 21);
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    EXPECT_TRUE(sql->sql.starts_with("SELECT r.pk, r.id FROM resource r")) << sql->sql;
    std::string plan = Plan(path, *sql);
    EXPECT_TRUE(plan.starts_with(later ? "SEARCH r USING COVERING INDEX resource_current_patient "
                                         "(id>?)"
                                       : "SCAN r USING COVERING INDEX resource_current_patient"))
        << plan;
    EXPECT_NE(plan.find("SEARCH t USING COVERING INDEX sp_token_patient (param=? AND patient=? "
                        "AND code=? AND sys=?)"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("INTEGER PRIMARY KEY"), std::string::npos) << plan;
    if (later) {
      continue;
    }
    // Without the store's estimate, or as a count, the set as before.
    q.walk_has_patients = false;
    auto set = CompileSearch(q, SqliteDialect(), SearchSqlMode::kKeys, 0, 21);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    EXPECT_EQ(set->sql.find("INDEXED BY"), std::string::npos) << set->sql;
    q.walk_has_patients = true;
    auto count = CompileSearch(q, SqliteDialect(), SearchSqlMode::kCount, 0, 21);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(count->sql.find("INDEXED BY"), std::string::npos) << count->sql;
  }
}

// A code sent without a system whose rows all carry one system (Patient.gender: R4's codes,
// stored without one) drives as that system|code: the one-code join walks its rows in key order
// and stops after a page, with the same answer as the key set; a row of the code under another
// system, written later, is seen by the next search (D83).
TEST(SearchSqlPlan, ASystemLessCodeOfOneSystemDrivesAsItsSystem) {
  if (!testing::PostgresTestServer().empty()) {
    GTEST_SKIP() << "the store reads the code's systems from SQLite's index";
  }
  std::string path = TempDbPath("sole-system");
  auto store = OpenOrDie(path);
  auto patient = [&](const std::string& id, const std::string& system, const std::string& gender,
                     int64_t born) {
    fhir::IndexEntries ix;
    ix.tokens.push_back({"gender", system, gender, ""});
    ix.dates.push_back({"birthdate", born, born + kDay - 1});
    ASSERT_TRUE(PutNext(*store, MakeWrite("Patient", id, k2020, ix)).ok());
  };
  for (int i = 0; i < 8; ++i) {  // born 2020, 2021, ...; p7 male
    patient("p" + std::to_string(i), "", i == 7 ? "male" : "female", k2020 + i * 366 * kDay);
  }
  SearchQuery q;
  q.type = "Patient";
  q.clauses = {Clause("birthdate", SearchParamType::kDate,
                      {Date(Prefix::kGe, k2020 + 2 * 366 * kDay, k2020 + 2 * 366 * kDay)}),
               Clause("gender", SearchParamType::kToken, {Val("female")})};
  auto sole = [&]() -> std::optional<SearchQuery> {
    auto conn = sqlite::Connection::Open(path, /*read_only=*/true);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    auto out = sqlite::WithSoleTokenSystems(**conn, q);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : std::nullopt;
  };
  auto paged = [&]() {
    SearchQuery p = q;
    p.count = 1;
    PagedIds all = AllPages(p, [&](const SearchQuery& page) { return store->Search(page); });
    EXPECT_EQ(all.total, 5);
    return all.ids;
  };
  std::optional<SearchQuery> annotated = sole();
  ASSERT_TRUE(annotated.has_value());
  EXPECT_EQ(annotated->clauses[1].values[0].sole_system_key, std::optional<int64_t>(0));
  EXPECT_FALSE(annotated->clauses[0].values[0].sole_system_key.has_value());
  for (SearchSqlMode mode : {SearchSqlMode::kKeys, SearchSqlMode::kCount, SearchSqlMode::kPage}) {
    for (bool with_key : {false, true}) {
      SearchQuery c = with_key ? *annotated : q;
      c.total_limit = 100;
      std::string plan = Plan(path, *CompileSearch(c, SqliteDialect(), mode, 0, 21));
      EXPECT_EQ(plan.find("SEARCH d USING COVERING INDEX sp_token_code (param=? AND code=? AND "
                          "sys=?)") != std::string::npos,
                with_key)
          << plan;
      EXPECT_EQ(plan.find("LIST SUBQUERY") != std::string::npos, !with_key) << plan;
      EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    }
  }
  EXPECT_EQ(paged(), (std::vector<std::string>{"p2", "p3", "p4", "p5", "p6"}));
  // The same code under another system: the code is no longer one system's, and its new row
  // is found.
  patient("p8", "urn:other", "female", k2020 + 8 * 366 * kDay);
  EXPECT_FALSE(sole().has_value());
  q.clauses[0].values[0].low = q.clauses[0].values[0].high = k2020 + 3 * 366 * kDay;
  EXPECT_EQ(paged(), (std::vector<std::string>{"p3", "p4", "p5", "p6", "p8"}));
}

TEST(SearchSqlLimits, QueriesStopAtTheTimeLimit) {
  std::string path = TempDbPath("limit");
  {
    auto store = OpenOrDie(path);
    std::vector<PreparedWrite> writes;
    Status s = store->Write([&](WriteTxn& txn) -> Status {
      for (int i = 0; i < 20000; ++i) {
        fhir::IndexEntries ix;
        ix.strings.push_back({"name", "name" + std::to_string(i), ""});
        PreparedWrite w = MakeWrite("Patient", "p" + std::to_string(i), k2020 + i, ix);
        RETURN_IF_ERROR(txn.Put(w));
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  SqliteOptions options;
  options.path = path;
  options.max_query_ms = 1;
  auto store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok());
  SearchQuery q;
  q.type = "Patient";
  q.clauses = {Clause("name", SearchParamType::kString, {Str("9")}, "contains")};
  q.sort = {{"name", true, SearchParamType::kString}};
  auto r = (*store)->Search(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_NE(r.status().message().find("narrow the search"), std::string::npos);
  // The connection is usable afterwards, and a generous limit lets the same search finish.
  EXPECT_TRUE((*store)->Read("Patient", "p1").ok());
  options.max_query_ms = 60000;
  (*store)->Close();
  store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok());
  auto ok = (*store)->Search(q);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->total, 6878);  // numbers below 20000 with a 9
}

TEST(SearchSqlText, UserValuesAreBoundNeverSpliced) {
  SearchQuery q;
  q.type = "Patient";
  SearchValue v;
  v.raw = v.normalized = "robert'); DROP TABLE resource; --";
  q.clauses = {Clause("name", SearchParamType::kString, {v})};
  auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kPage, 0);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(sql->sql.find("robert"), std::string::npos);
  EXPECT_EQ(sql->sql.find("Patient"), std::string::npos);
  EXPECT_NE(sql->sql.find("LIMIT"), std::string::npos);
}

}  // namespace
}  // namespace carechart::store
