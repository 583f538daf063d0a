// FHIRPath evaluation: navigation, variables, indexer, unary and type operators, and the public
// Compile/Evaluate entry points.
#include "fhirpath/evaluator.h"

#include <chrono>

#include "fhir/structure.h"
#include "fhirpath/model.h"

namespace carechart::fhirpath {
namespace {

bool StartsUpper(std::string_view s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status EvalError(std::string message, int position) {
  return InvalidError("FHIRPath: " + std::move(message), "@" + std::to_string(position));
}

Evaluator::Evaluator(const EvaluationContext& context, const json::Value& resource)
    : context_(context), resource_(resource), now_micros_(context.now_micros) {
  if (context.root_resource != nullptr) {
    root_items_.push_back(ResourceItem(*context.root_resource, context.use_model));
  }
  if (context.focus != nullptr) {
    context_items_.push_back(*context.focus);
  } else if (context.context != nullptr) {
    context_items_.push_back(ResourceItem(*context.context, context.use_model));
  } else {
    context_items_ = resource_items();
  }
}

const Collection& Evaluator::resource_items() {
  if (resource_items_.empty()) {
    resource_items_.push_back(context_.base_path.empty()
                                  ? ResourceItem(resource_, context_.use_model)
                                  : PartItem(resource_, context_.base_path, context_.use_model));
  }
  return resource_items_;
}

int64_t Evaluator::now_micros() {
  if (now_micros_ < 0) {
    now_micros_ = WallClockMicros();  // read once per evaluation, if at all
  }
  return now_micros_;
}

StatusOr<const Collection*> Evaluator::Memo(const Node& node, const Env& env,
                                            const Collection& input) {
  for (const auto& [key, value] : memo_) {
    if (*key == node.memo_key) {
      return value.get();
    }
  }
  auto value = std::make_unique<Collection>();
  RETURN_IF_ERROR(EvalUncached(node, env, input, value.get()));
  memo_.emplace_back(&node.memo_key, std::move(value));
  return memo_.back().second.get();
}

Status Evaluator::EvalRoot(const Node& node, Collection* out) {
  Env env;
  env.this_items = &context_items_;
  return Eval(node, env, context_items_, out);
}

Status Evaluator::EvalFor(const Node& arg, const Item& item, int64_t index, const Env& env,
                          Collection* out, const Collection* total) {
  Collection focus{item};
  Env inner;
  inner.this_items = &focus;
  inner.index = index;
  inner.total = total != nullptr ? total : env.total;
  return Eval(arg, inner, focus, out);
}

Status Evaluator::Eval(const Node& node, const Env& env, const Collection& input, Collection* out) {
  if (node.memo) {
    ASSIGN_OR_RETURN(const Collection* value, Memo(node, env, input));
    out->insert(out->end(), value->begin(), value->end());
    return Status::Ok();
  }
  return EvalUncached(node, env, input, out);
}

Status Evaluator::EvalUncached(const Node& node, const Env& env, const Collection& input,
                               Collection* out) {
  const Collection& in = node.term_level ? *env.this_items : input;
  switch (node.kind) {
    case NodeKind::kLiteral:
      if (!node.empty_literal) {
        out->push_back(node.literal);
      }
      return Status::Ok();
    case NodeKind::kMember:
      return EvalMember(node, in, out);
    case NodeKind::kFunction:
      return node.function->impl(*this, env, node, in, out);
    case NodeKind::kInvoke: {
      if (node.args[0]->memo) {  // navigate from the memoised value without copying it
        ASSIGN_OR_RETURN(const Collection* left, Memo(*node.args[0], env, input));
        return Eval(*node.args[1], env, *left, out);
      }
      Collection left;
      RETURN_IF_ERROR(Eval(*node.args[0], env, input, &left));
      return Eval(*node.args[1], env, left, out);
    }
    case NodeKind::kIndexer:
      return EvalIndexer(node, env, input, out);
    case NodeKind::kUnary:
      return EvalUnary(node, env, input, out);
    case NodeKind::kBinary:
      return EvalBinary(*this, node, env, input, out);
    case NodeKind::kTypeOp:
      return EvalTypeOp(node, env, input, out);
    case NodeKind::kThis:
      out->insert(out->end(), env.this_items->begin(), env.this_items->end());
      return Status::Ok();
    case NodeKind::kIndex:
      if (env.index >= 0) {
        out->push_back(Item::Integer(env.index));
      }
      return Status::Ok();
    case NodeKind::kTotal:
      if (env.total != nullptr) {
        out->insert(out->end(), env.total->begin(), env.total->end());
      }
      return Status::Ok();
    case NodeKind::kVariable:
      return EvalVariable(node, out);
  }
  return InternalError("FHIRPath: unknown node");
}

Status Evaluator::EvalMember(const Node& node, const Collection& input, Collection* out) {
  if (node.term_level && StartsUpper(node.name)) {
    // `Patient.name`: a leading type name selects the focus when it is of that type (or, without
    // a known type, when its resourceType says so).
    const fhir::structure::TypeInfo* type = node.type.fhir;  // bound at compile time
    TypeSpec spec;
    spec.fhir = type;
    bool matched = false;
    for (const Item& item : input) {
      if (type != nullptr && item.kind == ItemKind::kNode && item.type == type) {
        out->push_back(item);  // the common case: `Patient.name` on a Patient
        matched = true;
        continue;
      }
      const bool named = item.kind == ItemKind::kNode && item.node != nullptr &&
                         item.node->is_object() &&
                         item.node->string_at("resourceType") == node.name;
      if (named || (type != nullptr && IsOfType(item, spec))) {
        out->push_back(item);
        matched = true;
      }
    }
    if (matched || (type != nullptr && type->kind == fhir::structure::TypeKind::kResource)) {
      return Status::Ok();
    }
  }
  for (const Item& item : input) {
    if (item.kind == ItemKind::kQuantity) {
      if (node.name == "value") {
        out->push_back(Item::FromDecimal(item.decimal));
      }
      if (node.name == "unit") {
        out->push_back(Item::String(item.text));
      }
      continue;
    }
    if (item.kind == ItemKind::kTypeInfo) {
      if (node.name == "name") {
        out->push_back(Item::String(item.text));
      }
      if (node.name == "namespace") {
        out->push_back(Item::String(std::string(item.type_namespace)));
      }
      continue;
    }
    AppendChildren(item, node.name, use_model(), out);
  }
  return Status::Ok();
}

Status Evaluator::EvalIndexer(const Node& node, const Env& env, const Collection& input,
                              Collection* out) {
  Collection left, index;
  RETURN_IF_ERROR(Eval(*node.args[0], env, input, &left));
  RETURN_IF_ERROR(EvalArg(env, *node.args[1], &index));
  if (index.empty()) {
    return Status::Ok();
  }
  Item scratch;
  const Item* i = nullptr;
  RETURN_IF_ERROR(Singleton(index, &scratch, &i, node.position));
  if (i->kind != ItemKind::kInteger) {
    return EvalError("index must be an integer", node.position);
  }
  if (i->integer >= 0 && static_cast<size_t>(i->integer) < left.size()) {
    out->push_back(std::move(left[i->integer]));
  }
  return Status::Ok();
}

Status Evaluator::EvalVariable(const Node& node, Collection* out) {
  for (const auto& [name, value] : context_.variables) {
    if (name == node.name) {
      out->insert(out->end(), value.begin(), value.end());
      return Status::Ok();
    }
  }
  const std::string_view name = node.name;
  if (name == "resource" || (name == "rootResource" && root_items_.empty())) {
    const Collection& items = resource_items();
    out->insert(out->end(), items.begin(), items.end());
  } else if (name == "rootResource") {
    out->insert(out->end(), root_items_.begin(), root_items_.end());
  } else if (name == "context") {
    out->insert(out->end(), context_items_.begin(), context_items_.end());
  } else if (name == "ucum") {
    out->push_back(Item::String("http://unitsofmeasure.org"));
  } else if (name == "sct") {
    out->push_back(Item::String("http://snomed.info/sct"));
  } else if (name == "loinc") {
    out->push_back(Item::String("http://loinc.org"));
  } else if (name.starts_with("vs-")) {
    out->push_back(Item::String("http://hl7.org/fhir/ValueSet/" + std::string(name.substr(3))));
  } else if (name.starts_with("ext-")) {
    out->push_back(
        Item::String("http://hl7.org/fhir/StructureDefinition/" + std::string(name.substr(4))));
  } else {
    return EvalError("unknown variable %" + node.name, node.position);
  }
  return Status::Ok();
}

Status Evaluator::EvalTypeOp(const Node& node, const Env& env, const Collection& input,
                             Collection* out) {
  Collection left;
  RETURN_IF_ERROR(Eval(*node.args[0], env, input, &left));
  if (left.empty()) {
    return Status::Ok();
  }
  if (left.size() > 1 && node.name == "as" && context_.as_filters_collections) {
    for (Item& item : left) {
      if (IsOfType(item, node.type)) {
        out->push_back(std::move(item));
      }
    }
    return Status::Ok();
  }
  if (left.size() > 1) {
    return EvalError("'" + node.name + "' needs a single item", node.position);
  }
  const bool match = IsOfType(left[0], node.type);
  if (node.name == "is") {
    out->push_back(Item::Boolean(match));
  } else if (match) {
    out->push_back(std::move(left[0]));
  }
  return Status::Ok();
}

Status Evaluator::EvalUnary(const Node& node, const Env& env, const Collection& input,
                            Collection* out) {
  Collection operand;
  RETURN_IF_ERROR(Eval(*node.args[0], env, input, &operand));
  if (operand.empty()) {
    return Status::Ok();
  }
  Item scratch;
  const Item* v = nullptr;
  RETURN_IF_ERROR(Singleton(operand, &scratch, &v, node.position));
  Item result = *v;
  switch (result.kind) {
    case ItemKind::kInteger:
    case ItemKind::kLong:
      if (node.name == "-") {
        result.integer = -result.integer;
      }
      break;
    case ItemKind::kDecimal:
    case ItemKind::kQuantity:
      if (node.name == "-") {
        result.decimal.units = -result.decimal.units;
      }
      break;
    default:
      return EvalError("unary " + node.name + " needs a number", node.position);
  }
  out->push_back(std::move(result));
  return Status::Ok();
}

const std::string& Expression::text() const { return program_->text; }

namespace {

// Whether `node`'s value depends on neither its input nor $this/$index/$total (only on
// literals, %variables and functions of them), and has no side effect (trace). Writes a
// canonical text of the subexpression to `key`.
bool ContextFree(const Node& node, std::string* key) {
  switch (node.kind) {
    case NodeKind::kLiteral:
      *key += node.empty_literal ? "{}"
                                 : std::to_string(static_cast<int>(node.literal.kind)) + "'" +
                                       ToDisplayString(node.literal) + "'";
      return true;
    case NodeKind::kVariable:
      *key += "%" + node.name;
      return true;
    case NodeKind::kInvoke:
      if (!ContextFree(*node.args[0], key)) {
        return false;
      }
      *key += ".";
      if (node.args[1]->kind == NodeKind::kMember) {
        *key += node.args[1]->name;
        return true;
      }
      if (node.args[1]->kind != NodeKind::kFunction || node.args[1]->name == "trace") {
        return false;
      }
      *key += node.args[1]->name + "(";
      if (node.args[1]->function != nullptr && !node.args[1]->type.name.empty()) {
        *key += node.args[1]->type.name;  // is/as/ofType: the argument is a type name
      } else {
        for (const auto& arg : node.args[1]->args) {
          if (!ContextFree(*arg, key)) {
            return false;
          }
          *key += ",";
        }
      }
      *key += ")";
      return true;
    case NodeKind::kBinary:
    case NodeKind::kIndexer:
      *key += "(";
      if (!ContextFree(*node.args[0], key)) {
        return false;
      }
      *key += " " + node.name + " ";
      if (!ContextFree(*node.args[1], key)) {
        return false;
      }
      *key += ")";
      return true;
    case NodeKind::kUnary:
    case NodeKind::kTypeOp:
      *key += "(" + node.name + " " + node.type.name;
      if (!ContextFree(*node.args[0], key)) {
        return false;
      }
      *key += ")";
      return true;
    default:
      return false;  // members, term-level functions, $this, $index, $total
  }
}

// Marks the context-free subexpressions inside function arguments (see Node::memo), and the
// context-free parts of them that start a chain (`%resource.descendants()` in
// `%resource.descendants().reference`), so equal parts are evaluated once.
void MarkMemo(Node* node, bool in_argument) {
  std::string key;
  if (in_argument && node->kind != NodeKind::kLiteral && node->kind != NodeKind::kVariable &&
      ContextFree(*node, &key)) {
    node->memo = true;
    node->memo_key = std::move(key);
    // Inner chains: `%resource.descendants()` is shared by `....reference` and `....as(uri)`.
    for (Node* n = node; n->kind == NodeKind::kInvoke;) {
      n = n->args[0].get();
      std::string inner;
      if (n->kind == NodeKind::kInvoke && ContextFree(*n, &inner)) {
        n->memo = true;
        n->memo_key = std::move(inner);
      }
    }
    if (node->kind == NodeKind::kBinary) {
      for (auto& arg : node->args) {
        MarkMemo(arg.get(), true);
      }
    }
    return;
  }
  const bool args_of_function = node->kind == NodeKind::kFunction;
  for (auto& arg : node->args) {
    MarkMemo(arg.get(), in_argument || args_of_function);
  }
}

// `Patient` in `Patient.name`: the type a leading type name selects, resolved once.
void BindTypeNames(Node* node) {
  if (node->kind == NodeKind::kMember && node->term_level && StartsUpper(node->name)) {
    node->type.fhir = fhir::structure::FindType(node->name);
  }
  for (auto& arg : node->args) {
    BindTypeNames(arg.get());
  }
}

}  // namespace

StatusOr<Expression> Compile(std::string_view text) {
  auto program = std::make_shared<Program>();
  program->text = std::string(text);
  ASSIGN_OR_RETURN(program->root, Parse(text));
  MarkMemo(program->root.get(), false);
  BindTypeNames(program->root.get());
  Expression e;
  e.program_ = std::move(program);
  return e;
}

StatusOr<Collection> Evaluate(const Expression& expression, const json::Value& resource,
                              const EvaluationContext& context) {
  Collection out;
  RETURN_IF_ERROR(Evaluate(expression, resource, context, &out));
  return out;
}

Status Evaluate(const Expression& expression, const json::Value& resource,
                const EvaluationContext& context, Collection* out) {
  out->clear();
  Evaluator ev(context, resource);
  return ev.EvalRoot(*expression.program().root, out);
}

StatusOr<Collection> Evaluate(std::string_view expression, const json::Value& resource,
                              const EvaluationContext& context) {
  ASSIGN_OR_RETURN(Expression e, Compile(expression));
  return Evaluate(e, resource, context);
}

}  // namespace carechart::fhirpath
