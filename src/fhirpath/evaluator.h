// Tree-walking evaluation of the compiled Node tree (internal to cc_fhirpath).
//
// Eval(node, env, input) evaluates `node` against the collection `input` (the result of the
// expression left of a '.'; for a term-level node, $this). Env carries $this, $index and $total
// for the criteria of where/select/all/aggregate...; function arguments that are not criteria are
// evaluated with the caller's Env, so `$this` in `a.combine($this.b)` is the outer focus.
#pragma once

#include <optional>

#include "fhirpath/ast.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhirpath {

struct Env {
  const Collection* this_items = nullptr;  // $this
  int64_t index = -1;                      // $index, -1 when none
  const Collection* total = nullptr;       // $total
};

class Evaluator {
 public:
  Evaluator(const EvaluationContext& context, const json::Value& resource);

  Status Eval(const Node& node, const Env& env, const Collection& input, Collection* out);
  Status EvalRoot(const Node& node, Collection* out);

  // A non-criteria argument, evaluated with the caller's $this.
  Status EvalArg(const Env& env, const Node& arg, Collection* out) {
    return Eval(arg, env, *env.this_items, out);
  }
  // A criteria argument for one item: $this = item, $index = index.
  Status EvalFor(const Node& arg, const Item& item, int64_t index, const Env& env, Collection* out,
                 const Collection* total = nullptr);

  const EvaluationContext& context() const { return context_; }
  bool use_model() const { return context_.use_model; }
  int64_t now_micros();
  // %resource as a collection (built on first use).
  const Collection& resource_items();
  const json::Value& resource() const { return resource_; }
  // %rootResource's JSON: where "#id" references are looked up.
  const json::Value* root_node() const {
    return root_items_.empty() ? &resource_ : root_items_[0].node;
  }

 private:
  Status EvalMember(const Node& node, const Collection& input, Collection* out);
  Status EvalIndexer(const Node& node, const Env& env, const Collection& input, Collection* out);
  Status EvalVariable(const Node& node, Collection* out);
  Status EvalTypeOp(const Node& node, const Env& env, const Collection& input, Collection* out);
  Status EvalUnary(const Node& node, const Env& env, const Collection& input, Collection* out);

  // The value of a `memo` node, evaluated on first use (see ast.h).
  StatusOr<const Collection*> Memo(const Node& node, const Env& env, const Collection& input);
  Status EvalUncached(const Node& node, const Env& env, const Collection& input, Collection* out);

  const EvaluationContext& context_;
  const json::Value& resource_;
  std::vector<std::pair<const std::string*, std::unique_ptr<Collection>>> memo_;
  Collection resource_items_;
  Collection root_items_;  // %rootResource when it differs from %resource
  Collection context_items_;
  int64_t now_micros_;
};

// Binary operators (operators.cc).
Status EvalBinary(Evaluator& ev, const Node& node, const Env& env, const Collection& input,
                  Collection* out);

// Shared semantics (semantics.cc).
// Equality of two items: nullopt when unknown (dates of different precision, incomparable units).
std::optional<bool> ItemsEqual(const Item& a, const Item& b);
bool ItemsEquivalent(const Item& a, const Item& b);
// Collection equality (=) and equivalence (~) as the spec defines them.
std::optional<bool> CollectionsEqual(const Collection& a, const Collection& b);
bool CollectionsEquivalent(const Collection& a, const Collection& b);
bool ContainsItem(const Collection& c, const Item& item);
// Appends the items of `add` not already in out[start..] (union semantics, operators.cc).
void UnionInto(const Collection& add, Collection* out, size_t start);
// Singleton evaluation as a Boolean: empty → nullopt; a Boolean → its value; any other single
// item → true; several items → error.
Status SingletonBoolean(const Collection& c, std::optional<bool>* out, int position);
// The single item of `c` (error when several); nullptr when empty. Converts FHIR primitives.
Status Singleton(const Collection& c, Item* scratch, const Item** out, int position);
// -1/0/1 for ordered comparison; nullopt when incomparable precision; error for mixed types.
Status CompareItems(const Item& a, const Item& b, std::optional<int>* out, int position);
// Error at a position of the expression (kInvalid).
Status EvalError(std::string message, int position);

}  // namespace carechart::fhirpath
