#include "fhir/definitions.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fhir/structure.h"

namespace carechart::fhir {
namespace {

TEST(Definitions, ResourceTypes) {
  const auto types = ResourceTypes();
  EXPECT_EQ(types.size(), 146u);
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(IsResourceType("Patient"));
  EXPECT_TRUE(IsResourceType("Bundle"));
  EXPECT_FALSE(IsResourceType("DomainResource"));
  EXPECT_FALSE(IsResourceType("HumanName"));
  EXPECT_FALSE(IsResourceType("patient"));
}

TEST(Definitions, SearchParams) {
  const SearchParamDef* birthdate = FindSearchParam("Patient", "birthdate");
  ASSERT_NE(birthdate, nullptr);
  EXPECT_EQ(birthdate->type, SearchParamType::kDate);
  EXPECT_EQ(birthdate->expression, "Patient.birthDate");
  const SearchParamDef* name = FindSearchParam("Practitioner", "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->expression,
            "Practitioner.name");  // its part of a multi-base expression
  const SearchParamDef* id = FindSearchParam("Observation", "_id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->expression, "Resource.id");
  EXPECT_NE(FindSearchParam("Bundle", "_lastUpdated"), nullptr);
  EXPECT_NE(FindSearchParam("Patient", "_text"), nullptr);
  const SearchParamDef* subject = FindSearchParam("Observation", "subject");
  ASSERT_NE(subject, nullptr);
  EXPECT_EQ(subject->type, SearchParamType::kReference);
  EXPECT_NE(std::find(subject->targets.begin(), subject->targets.end(), "Patient"),
            subject->targets.end());
  const SearchParamDef* value = FindSearchParam("Observation", "value-quantity");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->expression,
            "(Observation.value as Quantity) | (Observation.value as SampledData)");
  EXPECT_EQ(FindSearchParam("Patient", "nope"), nullptr);
  EXPECT_TRUE(SearchParams("Nope").empty());
  EXPECT_EQ(SearchParamTypeName(SearchParamType::kQuantity), "quantity");
}

TEST(Definitions, PatientCompartment) {
  const auto obs = PatientCompartmentParams("Observation");
  EXPECT_NE(std::find(obs.begin(), obs.end(), "subject"), obs.end());
  EXPECT_NE(std::find(obs.begin(), obs.end(), "performer"), obs.end());
  EXPECT_TRUE(PatientCompartmentParams("Organization").empty());
  EXPECT_FALSE(PatientCompartmentParams("Patient").empty());
}

TEST(Definitions, Structure) {
  using namespace structure;
  const TypeInfo* q = FindType("Questionnaire");
  ASSERT_NE(q, nullptr);
  const ElementInfo* item = FindElement(ElementsOf(*q), "item", nullptr);
  ASSERT_NE(item, nullptr);
  ASSERT_TRUE(item->is_backbone);
  const ElementInfo* nested = FindElement(ChildrenOf(*item), "item", nullptr);
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->children_begin, item->children_begin);  // contentReference #Questionnaire.item
  const TypeInfo* obs = FindType("Observation");
  const TypeInfo* t = nullptr;
  const ElementInfo* v = FindElement(ElementsOf(*obs), "valueQuantity", &t);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->is_choice);
  EXPECT_EQ(t->name, "Quantity");
  EXPECT_EQ(FindElement(ElementsOf(*obs), "valueFoo", &t), nullptr);
  const ElementInfo* status = FindElement(ElementsOf(*obs), "status", &t);
  ASSERT_NE(ValueSetOf(*status), nullptr);
  EXPECT_TRUE(ValueSetOf(*status)->checked);
  EXPECT_TRUE(ValueSetContains(*ValueSetOf(*status), {}, "final"));
  EXPECT_FALSE(ValueSetContains(*ValueSetOf(*status), {}, "done"));
  EXPECT_TRUE(HasConstraint(*FindType("Period"), "per-1"));
  int unchecked = 0;
  for (const ValueSetInfo& vs : ValueSetTable()) {
    unchecked += vs.checked ? 0 : 1;
  }
  std::printf("required value sets: %zu, not checkable from the definitions: %d\n",
              ValueSetTable().size(), unchecked);
}

}  // namespace
}  // namespace carechart::fhir
