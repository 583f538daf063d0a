// MemberPath (fhirpath.h): member navigation walked without the evaluator.
//
// Plan() accepts a tree made only of the nodes whose evaluation is navigation: the leading
// member (a type name the focus is of, which selects the focus, or a member name), `.member`
// steps, `as` type tests and `|` unions. Select() repeats what Evaluator::EvalMember,
// EvalTypeOp and EvalBinary do for those nodes (AppendChildren, IsOfType, UnionInto), with the
// collections of a chain's steps reused across calls instead of one vector per step.
#include <array>

#include "fhir/structure.h"
#include "fhirpath/ast.h"
#include "fhirpath/evaluator.h"
#include "fhirpath/fhirpath.h"
#include "fhirpath/model.h"

namespace carechart::fhirpath {
namespace {

bool StartsUpper(std::string_view s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

// Steps of one chain at most (R4's longest search path has 5), so that Walk keeps them on the
// stack: a heap vector per walk cost as much as the evaluator's set-up saved.
constexpr size_t kMaxSteps = 16;

size_t ChainSteps(const Node& node) {
  size_t n = 0;
  for (const Node* head = &node; head->kind == NodeKind::kInvoke; head = head->args[0].get()) {
    ++n;
  }
  return n;
}

bool Plannable(const Node& node, const fhir::structure::TypeInfo* focus_type) {
  if (node.memo) {
    return false;  // evaluated once per Evaluate(): not a plain path (never set at the top)
  }
  switch (node.kind) {
    case NodeKind::kMember:
      if (!node.term_level) {
        return false;  // only as the right side of an Invoke (checked there)
      }
      if (!StartsUpper(node.name)) {
        return node.name != "resourceType";
      }
      // `Observation` selects the focus when it is an Observation (EvalMember's first case).
      if (node.type.fhir == nullptr || focus_type == nullptr) {
        return false;
      }
      {
        TypeSpec spec;
        spec.fhir = node.type.fhir;
        return IsOfType(Item::Node(nullptr, focus_type), spec);
      }
    case NodeKind::kInvoke: {
      const Node& step = *node.args[1];
      return step.kind == NodeKind::kMember && !step.term_level && !step.memo &&
             ChainSteps(node) <= kMaxSteps && Plannable(*node.args[0], focus_type);
    }
    case NodeKind::kTypeOp:
      return node.name == "as" && Plannable(*node.args[0], focus_type);
    case NodeKind::kBinary:
      return node.name == "|" && Plannable(*node.args[0], focus_type) &&
             Plannable(*node.args[1], focus_type);
    default:
      return false;
  }
}

// Appends what `node` selects from `focus` to `out`; kInvalid where the evaluator fails
// (`as` on several items when collections are not filtered).
Status Walk(const Node& node, const Item& focus, const EvaluationContext& context,
            Collection* out) {
  switch (node.kind) {
    case NodeKind::kMember:
      if (StartsUpper(node.name)) {
        out->push_back(focus);  // the focus is of the leading type (Plannable)
      } else {
        AppendChildren(focus, node.name, context.use_model, out);
      }
      return Status::Ok();
    case NodeKind::kInvoke: {
      // A chain `A.b.c`: walked step by step through two reused collections.
      std::array<const Node*, kMaxSteps> steps;
      size_t count = 0;
      const Node* head = &node;
      while (head->kind == NodeKind::kInvoke) {
        steps[count++] = head->args[1].get();
        head = head->args[0].get();
      }
      thread_local Collection current, next;
      Collection base;
      Collection* from = &current;
      if (head->kind == NodeKind::kMember) {
        from->clear();
        RETURN_IF_ERROR(Walk(*head, focus, context, from));
      } else {
        RETURN_IF_ERROR(Walk(*head, focus, context, &base));  // a union or `as` in parentheses
        from = &base;
      }
      for (size_t i = count; i-- > 0;) {
        Collection* to = i == 0 ? out : (from == &current ? &next : &current);
        if (to != out) {
          to->clear();
        }
        for (const Item& item : *from) {
          AppendChildren(item, steps[i]->name, context.use_model, to);
        }
        from = to;
      }
      return Status::Ok();
    }
    case NodeKind::kTypeOp: {  // `as`
      Collection left;
      RETURN_IF_ERROR(Walk(*node.args[0], focus, context, &left));
      if (left.size() > 1 && !context.as_filters_collections) {
        return EvalError("'" + node.name + "' needs a single item", node.position);
      }
      for (Item& item : left) {
        if (IsOfType(item, node.type)) {
          out->push_back(std::move(item));
        }
      }
      return Status::Ok();
    }
    case NodeKind::kBinary: {  // `|`
      Collection l, r;
      RETURN_IF_ERROR(Walk(*node.args[0], focus, context, &l));
      RETURN_IF_ERROR(Walk(*node.args[1], focus, context, &r));
      const size_t start = out->size();
      UnionInto(l, out, start);
      UnionInto(r, out, start);
      return Status::Ok();
    }
    default:
      return InternalError("FHIRPath: not a member path");
  }
}

}  // namespace

std::optional<MemberPath> MemberPath::Plan(const Expression& expression,
                                           std::string_view focus_type) {
  const fhir::structure::TypeInfo* type =
      focus_type.empty() ? nullptr : fhir::structure::FindType(focus_type);
  if (!Plannable(*expression.program().root, type)) {
    return std::nullopt;
  }
  MemberPath path;
  path.program_ = expression.program_;
  return path;
}

Status MemberPath::Select(const Item& focus, const EvaluationContext& context,
                          Collection* out) const {
  out->clear();
  return Walk(*program_->root, focus, context, out);
}

}  // namespace carechart::fhirpath
