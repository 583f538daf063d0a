// Function lookup by name and the argument helpers shared by the function groups.
#include "fhirpath/functions.h"

#include <string_view>
#include <unordered_map>

#include "fhirpath/model.h"

namespace carechart::fhirpath {

const FunctionDef* FindFunction(std::string_view name) {
  static const auto* const index = [] {
    auto* m = new std::unordered_map<std::string_view, const FunctionDef*>();
    for (auto table : {CollectionFunctions(), ConversionFunctions(), StringFunctions(),
                       MathFunctions(), UtilityFunctions()}) {
      for (const FunctionDef& f : table) {
        m->emplace(f.name, &f);
      }
    }
    return m;
  }();
  const auto it = index->find(name);
  return it == index->end() ? nullptr : it->second;
}

Status ArgSingleton(Evaluator& ev, const Env& env, const Node& call, size_t i, Item* scratch,
                    const Item** out) {
  Collection values;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[i], &values));
  if (values.size() == 1 && values[0].kind != ItemKind::kNode) {
    *scratch = std::move(values[0]);
    *out = scratch;
    return Status::Ok();
  }
  Item tmp;
  RETURN_IF_ERROR(Singleton(values, &tmp, out, call.args[i]->position));
  if (*out != nullptr) {
    *scratch = **out;
    *out = scratch;
  }
  return Status::Ok();
}

Status ArgString(Evaluator& ev, const Env& env, const Node& call, size_t i, std::string* out,
                 bool* present) {
  Item scratch;
  const Item* v = nullptr;
  RETURN_IF_ERROR(ArgSingleton(ev, env, call, i, &scratch, &v));
  *present = v != nullptr;
  if (v == nullptr) {
    return Status::Ok();
  }
  if (v->kind != ItemKind::kString) {
    return EvalError(call.name + "() expects a string argument", call.args[i]->position);
  }
  *out = v->text;
  return Status::Ok();
}

Status ArgInteger(Evaluator& ev, const Env& env, const Node& call, size_t i, int64_t* out,
                  bool* present) {
  Item scratch;
  const Item* v = nullptr;
  RETURN_IF_ERROR(ArgSingleton(ev, env, call, i, &scratch, &v));
  *present = v != nullptr;
  if (v == nullptr) {
    return Status::Ok();
  }
  if (v->kind != ItemKind::kInteger && v->kind != ItemKind::kLong) {
    return EvalError(call.name + "() expects an integer argument", call.args[i]->position);
  }
  *out = v->integer;
  return Status::Ok();
}

Status InputSingleton(const Node& call, const Collection& input, Item* scratch, const Item** out) {
  return Singleton(input, scratch, out, call.position);
}

Status InputString(const Node& call, const Collection& input, Item* scratch, const Item** out) {
  RETURN_IF_ERROR(Singleton(input, scratch, out, call.position));
  if (*out != nullptr && (*out)->kind != ItemKind::kString) {
    return EvalError(call.name + "() expects a string input", call.position);
  }
  return Status::Ok();
}

}  // namespace carechart::fhirpath
