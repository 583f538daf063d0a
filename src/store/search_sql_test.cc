// Search semantics of the SQL compiler over the SQLite store, with hand-built index entries and
// hand-built queries (independent of the extractor and of ParseSearch).
#include <gtest/gtest.h>

#include "store/resource_store.h"
#include "store/search_sql.h"
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
  return {std::move(param), std::move(modifier), type, std::move(values)};
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
    ix.tokens.push_back({"code", "http://loinc.org", code, text});
    ix.references.push_back({"subject", "Patient", patient, ""});
    ix.references.push_back({"patient", "Patient", patient, ""});
    ix.dates.push_back({"date", low, high});
    ix.quantities.push_back({"value-quantity", value, "http://unitsofmeasure.org", unit, unit});
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
  std::unique_ptr<ResourceStore> store_;
  int64_t last_total_ = -1;
};

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

TEST(SearchSqlText, UserValuesAreBoundNeverSpliced) {
  SearchQuery q;
  q.type = "Patient";
  SearchValue v;
  v.raw = v.normalized = "robert'); DROP TABLE resource; --";
  q.clauses = {{"name", "", SearchParamType::kString, {v}}};
  auto sql = CompileSearch(q, SqliteDialect(), SearchSqlMode::kPage, 0);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(sql->sql.find("robert"), std::string::npos);
  EXPECT_EQ(sql->sql.find("Patient"), std::string::npos);
  EXPECT_NE(sql->sql.find("LIMIT"), std::string::npos);
}

}  // namespace
}  // namespace carechart::store
