// Existence, filtering/projection, subsetting and combining functions (spec 5.1-5.4), plus
// iif, not, aggregate and sort.
#include <algorithm>

#include "fhirpath/functions.h"
#include "fhirpath/model.h"

namespace carechart::fhirpath {
namespace {

// Evaluates criteria `arg` for item i and reads it as a singleton Boolean.
Status Criteria(Evaluator& ev, const Env& env, const Node& arg, const Collection& input, size_t i,
                std::optional<bool>* out) {
  Collection r;
  RETURN_IF_ERROR(ev.EvalFor(arg, input[i], static_cast<int64_t>(i), env, &r));
  return SingletonBoolean(r, out, arg.position);
}

FHIRPATH_FUNCTION(Empty) {
  out->push_back(Item::Boolean(input.empty()));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Exists) {
  if (call.args.empty()) {
    out->push_back(Item::Boolean(!input.empty()));
    return Status::Ok();
  }
  for (size_t i = 0; i < input.size(); ++i) {
    std::optional<bool> b;
    RETURN_IF_ERROR(Criteria(ev, env, *call.args[0], input, i, &b));
    if (b == true) {
      out->push_back(Item::Boolean(true));
      return Status::Ok();
    }
  }
  out->push_back(Item::Boolean(false));
  return Status::Ok();
}

FHIRPATH_FUNCTION(All) {
  for (size_t i = 0; i < input.size(); ++i) {
    std::optional<bool> b;
    RETURN_IF_ERROR(Criteria(ev, env, *call.args[0], input, i, &b));
    if (b != true) {
      out->push_back(Item::Boolean(false));
      return Status::Ok();
    }
  }
  out->push_back(Item::Boolean(true));
  return Status::Ok();
}

// allTrue / anyTrue / allFalse / anyFalse.
Status BooleanAggregate(const Node& call, const Collection& input, bool want, bool all,
                        Collection* out) {
  bool result = all;
  for (const Item& item : input) {
    Item scratch;
    const Item* v = SystemView(item, &scratch);
    if (v == nullptr || v->kind != ItemKind::kBoolean) {
      return EvalError(call.name + "() expects Booleans", call.position);
    }
    if (all && v->boolean != want) {
      result = false;
    }
    if (!all && v->boolean == want) {
      result = true;
    }
  }
  out->push_back(Item::Boolean(result));
  return Status::Ok();
}
FHIRPATH_FUNCTION(AllTrue) { return BooleanAggregate(call, input, true, true, out); }
FHIRPATH_FUNCTION(AnyTrue) { return BooleanAggregate(call, input, true, false, out); }
FHIRPATH_FUNCTION(AllFalse) { return BooleanAggregate(call, input, false, true, out); }
FHIRPATH_FUNCTION(AnyFalse) { return BooleanAggregate(call, input, false, false, out); }

Status SubsetCheck(Evaluator& ev, const Env& env, const Node& call, const Collection& input,
                   bool subset, Collection* out) {
  Collection other;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[0], &other));
  const Collection& small = subset ? input : other;
  const Collection& big = subset ? other : input;
  bool result = true;
  for (const Item& item : small) {
    if (!ContainsItem(big, item)) {
      result = false;
      break;
    }
  }
  out->push_back(Item::Boolean(result));
  return Status::Ok();
}
FHIRPATH_FUNCTION(SubsetOf) { return SubsetCheck(ev, env, call, input, true, out); }
FHIRPATH_FUNCTION(SupersetOf) { return SubsetCheck(ev, env, call, input, false, out); }

FHIRPATH_FUNCTION(Count) {
  out->push_back(Item::Integer(static_cast<int64_t>(input.size())));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Distinct) {
  UnionInto(input, out, out->size());
  return Status::Ok();
}

FHIRPATH_FUNCTION(IsDistinct) {
  Collection unique;
  UnionInto(input, &unique, 0);
  out->push_back(Item::Boolean(unique.size() == input.size()));
  return Status::Ok();
}

FHIRPATH_FUNCTION(Where) {
  for (size_t i = 0; i < input.size(); ++i) {
    std::optional<bool> b;
    RETURN_IF_ERROR(Criteria(ev, env, *call.args[0], input, i, &b));
    if (b == true) {
      out->push_back(input[i]);
    }
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Select) {
  for (size_t i = 0; i < input.size(); ++i) {
    RETURN_IF_ERROR(ev.EvalFor(*call.args[0], input[i], static_cast<int64_t>(i), env, out));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Repeat) {
  Collection frontier = input;
  Collection seen;
  for (int depth = 0; !frontier.empty() && depth < 1000; ++depth) {
    Collection next;
    for (size_t i = 0; i < frontier.size(); ++i) {
      Collection r;
      RETURN_IF_ERROR(ev.EvalFor(*call.args[0], frontier[i], static_cast<int64_t>(i), env, &r));
      for (Item& item : r) {
        if (!ContainsItem(seen, item)) {
          seen.push_back(item);
          out->push_back(item);
          next.push_back(std::move(item));
        }
      }
    }
    frontier = std::move(next);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(OfType) {
  for (const Item& item : input) {
    if (IsOfType(item, call.type)) {
      out->push_back(item);
    }
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Is) {
  if (input.empty()) {
    return Status::Ok();
  }
  if (input.size() > 1) {
    return EvalError("is() needs a single item", call.position);
  }
  out->push_back(Item::Boolean(IsOfType(input[0], call.type)));
  return Status::Ok();
}

FHIRPATH_FUNCTION(As) {
  if (input.size() > 1 && ev.context().as_filters_collections) {
    return OfType(ev, env, call, input, out);
  }
  if (input.size() > 1) {
    return EvalError("as() needs a single item", call.position);
  }
  if (!input.empty() && IsOfType(input[0], call.type)) {
    out->push_back(input[0]);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Single) {
  if (input.size() > 1) {
    return EvalError("single() on several items", call.position);
  }
  out->insert(out->end(), input.begin(), input.end());
  return Status::Ok();
}

FHIRPATH_FUNCTION(First) {
  if (!input.empty()) {
    out->push_back(input.front());
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Last) {
  if (!input.empty()) {
    out->push_back(input.back());
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Tail) {
  if (input.size() > 1) {
    out->insert(out->end(), input.begin() + 1, input.end());
  }
  return Status::Ok();
}

Status SkipTake(Evaluator& ev, const Env& env, const Node& call, const Collection& input, bool skip,
                Collection* out) {
  int64_t n = 0;
  bool present = false;
  RETURN_IF_ERROR(ArgInteger(ev, env, call, 0, &n, &present));
  if (!present) {
    return Status::Ok();
  }
  const size_t k =
      static_cast<size_t>(std::clamp<int64_t>(n, 0, static_cast<int64_t>(input.size())));
  if (skip) {
    out->insert(out->end(), input.begin() + k, input.end());
  } else {
    out->insert(out->end(), input.begin(), input.begin() + k);
  }
  return Status::Ok();
}
FHIRPATH_FUNCTION(Skip) { return SkipTake(ev, env, call, input, true, out); }
FHIRPATH_FUNCTION(Take) { return SkipTake(ev, env, call, input, false, out); }

FHIRPATH_FUNCTION(Intersect) {
  Collection other;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[0], &other));
  Collection result;
  for (const Item& item : input) {
    if (ContainsItem(other, item) && !ContainsItem(result, item)) {
      result.push_back(item);
    }
  }
  out->insert(out->end(), result.begin(), result.end());
  return Status::Ok();
}

FHIRPATH_FUNCTION(Exclude) {
  Collection other;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[0], &other));
  for (const Item& item : input) {
    if (!ContainsItem(other, item)) {
      out->push_back(item);
    }
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Union) {
  Collection other;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[0], &other));
  const size_t start = out->size();
  UnionInto(input, out, start);
  UnionInto(other, out, start);
  return Status::Ok();
}

FHIRPATH_FUNCTION(Combine) {
  Collection other;
  RETURN_IF_ERROR(ev.EvalArg(env, *call.args[0], &other));
  out->insert(out->end(), input.begin(), input.end());
  out->insert(out->end(), other.begin(), other.end());
  return Status::Ok();
}

FHIRPATH_FUNCTION(Iif) {
  // On an explicit input (`x.iif(...)`), that input is $this for the arguments.
  if (!call.term_level && input.size() > 1) {
    return EvalError("iif() needs a single input item", call.position);
  }
  Env inner = env;
  if (!call.term_level) {
    inner.this_items = &input;
  }
  Collection cond;
  RETURN_IF_ERROR(ev.EvalArg(inner, *call.args[0], &cond));
  std::optional<bool> b;
  RETURN_IF_ERROR(SingletonBoolean(cond, &b, call.args[0]->position));
  if (b == true) {
    return ev.EvalArg(inner, *call.args[1], out);
  }
  if (call.args.size() > 2) {
    return ev.EvalArg(inner, *call.args[2], out);
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Not) {
  std::optional<bool> b;
  RETURN_IF_ERROR(SingletonBoolean(input, &b, call.position));
  if (b) {
    out->push_back(Item::Boolean(!*b));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Aggregate) {
  Collection total;
  if (call.args.size() > 1) {
    RETURN_IF_ERROR(ev.EvalArg(env, *call.args[1], &total));
  }
  for (size_t i = 0; i < input.size(); ++i) {
    Collection next;
    RETURN_IF_ERROR(
        ev.EvalFor(*call.args[0], input[i], static_cast<int64_t>(i), env, &next, &total));
    total = std::move(next);
  }
  out->insert(out->end(), total.begin(), total.end());
  return Status::Ok();
}

FHIRPATH_FUNCTION(Sort) {
  // Keys per item, then a stable sort; a key expression starting with unary '-' sorts descending.
  struct Keyed {
    std::vector<Collection> keys;
    size_t index;
  };
  std::vector<Keyed> rows(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    rows[i].index = i;
    if (call.args.empty()) {
      rows[i].keys.push_back(Collection{input[i]});
    }
    for (const auto& arg : call.args) {
      Collection key;
      const Node& expr = arg->kind == NodeKind::kUnary && arg->name == "-" ? *arg->args[0] : *arg;
      RETURN_IF_ERROR(ev.EvalFor(expr, input[i], static_cast<int64_t>(i), env, &key));
      rows[i].keys.push_back(std::move(key));
    }
  }
  Status error;
  std::stable_sort(rows.begin(), rows.end(), [&](const Keyed& a, const Keyed& b) {
    for (size_t k = 0; k < a.keys.size(); ++k) {
      const bool desc = k < call.args.size() && call.args[k]->kind == NodeKind::kUnary &&
                        call.args[k]->name == "-";
      if (a.keys[k].empty() || b.keys[k].empty()) {
        if (a.keys[k].empty() != b.keys[k].empty()) {
          return a.keys[k].empty() != desc;
        }
        continue;
      }
      std::optional<int> c;
      const Status s = CompareItems(a.keys[k][0], b.keys[k][0], &c, call.position);
      if (!s.ok()) {
        error = s;
        return false;
      }
      if (c && *c != 0) {
        return desc ? *c > 0 : *c < 0;
      }
    }
    return false;
  });
  RETURN_IF_ERROR(error);
  for (const Keyed& row : rows) {
    out->push_back(input[row.index]);
  }
  return Status::Ok();
}

constexpr FunctionDef kFunctions[] = {
    {"empty", 0, 0, Empty},
    {"exists", 0, 1, Exists},
    {"all", 1, 1, All},
    {"allTrue", 0, 0, AllTrue},
    {"anyTrue", 0, 0, AnyTrue},
    {"allFalse", 0, 0, AllFalse},
    {"anyFalse", 0, 0, AnyFalse},
    {"subsetOf", 1, 1, SubsetOf},
    {"supersetOf", 1, 1, SupersetOf},
    {"count", 0, 0, Count},
    {"distinct", 0, 0, Distinct},
    {"isDistinct", 0, 0, IsDistinct},
    {"where", 1, 1, Where},
    {"select", 1, 1, Select},
    {"repeat", 1, 1, Repeat},
    {"ofType", 1, 1, OfType},
    {"is", 1, 1, Is},
    {"as", 1, 1, As},
    {"single", 0, 0, Single},
    {"first", 0, 0, First},
    {"last", 0, 0, Last},
    {"tail", 0, 0, Tail},
    {"skip", 1, 1, Skip},
    {"take", 1, 1, Take},
    {"intersect", 1, 1, Intersect},
    {"exclude", 1, 1, Exclude},
    {"union", 1, 1, Union},
    {"combine", 1, 1, Combine},
    {"iif", 2, 3, Iif},
    {"not", 0, 0, Not},
    {"aggregate", 1, 2, Aggregate},
    {"sort", 0, 8, Sort},
};

}  // namespace

std::span<const FunctionDef> CollectionFunctions() { return kFunctions; }

}  // namespace carechart::fhirpath
