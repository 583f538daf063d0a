// The FHIRPath subset evaluator of search_index (see path_eval.h).
#include "fhir/path_eval.h"

#include <cctype>

#include "fhir/definitions.h"

namespace carechart::fhir::path {
namespace {

using Op = Expression::Op;
using Term = Expression::Term;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool Parse(Term* out) {
    *out = Union();
    Skip();
    return ok_ && pos_ == s_.size();
  }

 private:
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) {
      ++pos_;
    }
  }
  bool Accept(char c) {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Expect(char c) { ok_ = Accept(c) && ok_; }
  std::string Identifier() {
    Skip();
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
      ++pos_;
    }
    if (start == pos_) {
      ok_ = false;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  bool PeekKeyword(std::string_view word) {
    Skip();
    if (s_.substr(pos_, word.size()) != word) {
      return false;
    }
    const size_t end = pos_ + word.size();
    return end == s_.size() || !std::isalnum(static_cast<unsigned char>(s_[end]));
  }
  std::string Literal() {
    Skip();
    std::string out;
    if (pos_ >= s_.size() || s_[pos_] != '\'') {
      ok_ = false;
      return out;
    }
    for (++pos_; pos_ < s_.size() && s_[pos_] != '\''; ++pos_) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
        ++pos_;
      }
      out.push_back(s_[pos_]);
    }
    ok_ = Accept('\'') && ok_;
    return out;
  }

  Term Union() {
    Term first = Chain();
    if (!Accept('|')) {
      return first;
    }
    Term u;
    u.alternatives.push_back(std::move(first));
    do {
      u.alternatives.push_back(Chain());
    } while (ok_ && Accept('|'));
    return u;
  }

  Term Chain() {
    Term t;
    if (Accept('(')) {
      t.alternatives.push_back(Union());
      Expect(')');
    } else {
      std::string name = Identifier();
      if (!name.empty() && std::islower(static_cast<unsigned char>(name[0]))) {
        t.root = "$this";  // "name | alias": a field of the resource itself
        t.ops.push_back({Op::Kind::kField, std::move(name), {}, 0});
      } else {
        t.root = std::move(name);
      }
    }
    while (ok_) {
      if (Accept('.')) {
        std::string name = Identifier();
        if (Accept('(')) {
          Function(name, &t);
        } else {
          t.ops.push_back({Op::Kind::kField, std::move(name), {}, 0});
        }
      } else if (Accept('[')) {
        Skip();
        int n = 0;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
          n = n * 10 + (s_[pos_++] - '0');
        }
        Expect(']');
        t.ops.push_back({Op::Kind::kIndex, {}, {}, n});
      } else if (PeekKeyword("as")) {
        pos_ += 2;
        t.ops.push_back({Op::Kind::kAs, Identifier(), {}, 0});
      } else {
        break;
      }
    }
    return t;
  }

  // After "name(": parses the arguments and the closing parenthesis.
  void Function(const std::string& name, Term* t) {
    if (name == "as" || name == "ofType") {
      t->ops.push_back({Op::Kind::kAs, Identifier(), {}, 0});
    } else if (name == "first") {
      t->ops.push_back({Op::Kind::kFirst, {}, {}, 0});
    } else if (name == "where" && PeekKeyword("resolve")) {
      Identifier();
      Expect('(');
      Expect(')');
      ok_ = PeekKeyword("is") && ok_;
      pos_ += 2;
      t->ops.push_back({Op::Kind::kResolveIs, Identifier(), {}, 0});
    } else if (name == "where") {
      std::string field = Identifier();
      Expect('=');
      t->ops.push_back({Op::Kind::kWhereEquals, std::move(field), Literal(), 0});
    } else {
      ok_ = false;
    }
    Expect(')');
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void AddValue(const json::Value& v, const structure::ElementInfo& e,
              const structure::TypeInfo* type, std::vector<Node>* out) {
  auto add = [&](const json::Value& item) {
    if (item.is_null()) {
      return;
    }
    Node n{&item, type, {}};
    if (e.is_backbone) {
      n.type = nullptr;
      n.elements = structure::ChildrenOf(e);
    } else if (type != nullptr && type->kind == structure::TypeKind::kResource) {
      n.type = structure::FindType(item.string_at("resourceType"));
      if (n.type == nullptr) {
        return;
      }
      n.elements = structure::ElementsOf(*n.type);
    } else if (type != nullptr) {
      n.elements = structure::ElementsOf(*type);
    }
    out->push_back(n);
  };
  if (v.is_array()) {
    for (const json::Value& item : v.items()) {
      add(item);
    }
  } else {
    add(v);
  }
}

void Field(const Node& node, std::string_view name, std::vector<Node>* out) {
  if (node.value == nullptr || !node.value->is_object()) {
    return;
  }
  for (const structure::ElementInfo& e : node.elements) {
    if (e.name != name) {
      continue;
    }
    if (!e.is_choice) {
      if (const json::Value* v = node.value->find(name)) {
        AddValue(*v, e, e.types_count ? &structure::ElementType(e, 0) : nullptr, out);
      }
      return;
    }
    for (const auto& [key, value] : node.value->members()) {
      const structure::TypeInfo* type = nullptr;
      if (key.size() > name.size() && key.compare(0, name.size(), name) == 0 &&
          structure::FindElement(node.elements, key, &type) == &e) {
        AddValue(value, e, type, out);
      }
    }
    return;
  }
}

bool Matches(const Node& n, const Op& op) {
  switch (op.kind) {
    case Op::Kind::kAs:
      return n.type != nullptr && n.type->name == op.name;
    case Op::Kind::kResolveIs:
      return n.value->is_object() && ReferenceType(n.value->string_at("reference")) == op.name;
    case Op::Kind::kWhereEquals:
      return n.value->is_object() && n.value->string_at(op.name) == op.value;
    default:
      return false;
  }
}

void Apply(const Op& op, std::vector<Node>* nodes) {
  std::vector<Node> next;
  switch (op.kind) {
    case Op::Kind::kField:
      for (const Node& n : *nodes) {
        Field(n, op.name, &next);
      }
      break;
    case Op::Kind::kIndex:
    case Op::Kind::kFirst:
      if (static_cast<size_t>(op.index) < nodes->size()) {
        next.push_back((*nodes)[op.index]);
      }
      break;
    default:
      for (const Node& n : *nodes) {
        if (Matches(n, op)) {
          next.push_back(n);
        }
      }
  }
  nodes->swap(next);
}

void EvaluateTerm(const Term& t, const json::Value& resource, std::vector<Node>* out) {
  std::vector<Node> nodes;
  if (t.root.empty()) {
    for (const Term& alt : t.alternatives) {
      EvaluateTerm(alt, resource, &nodes);
    }
  } else {
    const std::string_view type_name = resource.string_at("resourceType");
    if (t.root == type_name || t.root == "Resource" || t.root == "DomainResource" ||
        t.root == "$this") {
      const structure::TypeInfo* type = structure::FindType(type_name);
      if (type != nullptr) {
        nodes.push_back({&resource, type, structure::ElementsOf(*type)});
      }
    }
  }
  for (const Op& op : t.ops) {
    if (nodes.empty()) {
      break;
    }
    Apply(op, &nodes);
  }
  out->insert(out->end(), nodes.begin(), nodes.end());
}

}  // namespace

std::optional<Expression> Expression::Compile(std::string_view text) {
  Expression e;
  Parser parser(text);
  if (text.empty() || !parser.Parse(&e.term_)) {
    return std::nullopt;
  }
  return e;
}

void Expression::Evaluate(const json::Value& resource, std::vector<Node>* out) const {
  EvaluateTerm(term_, resource, out);
}

std::string_view ReferenceType(std::string_view reference) {
  if (reference.empty() || reference[0] == '#' || reference.substr(0, 4) == "urn:") {
    return {};
  }
  size_t end = reference.find_first_of("?#");
  std::string_view path = reference.substr(0, end);
  if (const size_t h = path.find("/_history/"); h != std::string_view::npos) {
    path = path.substr(0, h);
  }
  const size_t id_slash = path.rfind('/');
  if (id_slash == std::string_view::npos || id_slash == 0) {
    return {};
  }
  const size_t type_slash = path.rfind('/', id_slash - 1);
  const std::string_view type =
      path.substr(type_slash == std::string_view::npos ? 0 : type_slash + 1,
                  id_slash - (type_slash == std::string_view::npos ? 0 : type_slash + 1));
  return IsResourceType(type) ? type : std::string_view();
}

}  // namespace carechart::fhir::path
