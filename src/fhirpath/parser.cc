// FHIRPath parser: precedence climbing over the token list (lexer.h) into the Node tree (ast.h).
//
// Precedence, loosest first: implies; or xor; and; in contains; = ~ != !~; < > <= >=; |;
// is as; + - &; * / div mod; unary + -; then . and [] (invocation and indexer).
#include <re2/re2.h>

#include "fhirpath/ast.h"
#include "fhirpath/lexer.h"
#include "fhirpath/quantity.h"
#include "fhirpath/regex_cache.h"

namespace carechart::fhirpath {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  StatusOr<std::unique_ptr<Node>> ParseAll() {
    ASSIGN_OR_RETURN(auto node, ParseBinary(0));
    if (Peek().kind != TokenKind::kEnd) {
      return SyntaxError("unexpected '" + Peek().text + "'", Peek().position);
    }
    return node;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsSymbol(std::string_view s, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kSymbol && Peek(ahead).text == s;
  }
  bool IsKeyword(std::string_view s) const {
    return Peek().kind == TokenKind::kIdentifier && Peek().text == s;
  }
  Status Expect(std::string_view s) {
    if (!IsSymbol(s)) {
      return SyntaxError("expected '" + std::string(s) + "'", Peek().position);
    }
    ++pos_;
    return Status::Ok();
  }

  // The binary operator at the cursor belonging to precedence `level`, or empty.
  std::string_view OperatorAt(int level) const {
    static constexpr std::string_view kLevels[][4] = {{"implies"},
                                                      {"or", "xor"},
                                                      {"and"},
                                                      {"in", "contains"},
                                                      {"=", "~", "!=", "!~"},
                                                      {"<", ">", "<=", ">="},
                                                      {"|"},
                                                      {"is", "as"},
                                                      {"+", "-", "&"},
                                                      {"*", "/", "div", "mod"}};
    const Token& t = Peek();
    if (t.kind != TokenKind::kSymbol && t.kind != TokenKind::kIdentifier) {
      return {};
    }
    for (std::string_view op : kLevels[level]) {
      if (!op.empty() && t.text == op) {
        return op;
      }
    }
    return {};
  }

  StatusOr<std::unique_ptr<Node>> ParseBinary(int level) {
    if (level == 10) {
      return ParseUnary();
    }
    ASSIGN_OR_RETURN(auto left, ParseBinary(level + 1));
    while (true) {
      const std::string_view op = OperatorAt(level);
      if (op.empty()) {
        return left;
      }
      const int position = Next().position;
      auto node = std::make_unique<Node>();
      node->position = position;
      node->name = std::string(op);
      if (op == "is" || op == "as") {
        node->kind = NodeKind::kTypeOp;
        ASSIGN_OR_RETURN(std::string type_name, ParseQualifiedName());
        ASSIGN_OR_RETURN(node->type, ResolveTypeName(type_name, position));
        node->args.push_back(std::move(left));
      } else {
        node->kind = NodeKind::kBinary;
        ASSIGN_OR_RETURN(auto right, ParseBinary(level + 1));
        node->args.push_back(std::move(left));
        node->args.push_back(std::move(right));
      }
      left = std::move(node);
    }
  }

  StatusOr<std::string> ParseQualifiedName() {
    std::string name;
    while (true) {
      const Token& t = Next();
      if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kDelimitedIdentifier) {
        return SyntaxError("expected a type name", t.position);
      }
      name += t.text;
      if (!IsSymbol(".") || Peek(1).kind == TokenKind::kEnd || IsSymbol("(", 2)) {
        return name;
      }
      ++pos_;
      name += '.';
    }
  }

  StatusOr<std::unique_ptr<Node>> ParseUnary() {
    // Every nesting (parentheses, arguments, indexers, unary signs) passes here. Expressions come
    // from outside (custom SearchParameters), so deep nesting is an error, not a stack overflow.
    if (depth_ >= kMaxNesting) {
      return SyntaxError(
          "the expression nests more than " + std::to_string(kMaxNesting) + " levels deep",
          Peek().position);
    }
    ++depth_;
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    if (IsSymbol("+") || IsSymbol("-")) {
      auto node = std::make_unique<Node>();
      node->kind = NodeKind::kUnary;
      node->position = Peek().position;
      node->name = Next().text;
      ASSIGN_OR_RETURN(auto operand, ParseUnary());
      node->args.push_back(std::move(operand));
      return node;
    }
    ASSIGN_OR_RETURN(auto node, ParseTerm());
    while (true) {
      if (IsSymbol(".")) {
        ++pos_;
        ASSIGN_OR_RETURN(auto right, ParseInvocation(/*term_level=*/false));
        auto invoke = std::make_unique<Node>();
        invoke->kind = NodeKind::kInvoke;
        invoke->position = right->position;
        invoke->args.push_back(std::move(node));
        invoke->args.push_back(std::move(right));
        node = std::move(invoke);
      } else if (IsSymbol("[")) {
        auto indexer = std::make_unique<Node>();
        indexer->kind = NodeKind::kIndexer;
        indexer->position = Next().position;
        ASSIGN_OR_RETURN(auto index, ParseBinary(0));
        RETURN_IF_ERROR(Expect("]"));
        indexer->args.push_back(std::move(node));
        indexer->args.push_back(std::move(index));
        node = std::move(indexer);
      } else {
        return node;
      }
    }
  }

  // identifier | function call.
  StatusOr<std::unique_ptr<Node>> ParseInvocation(bool term_level) {
    const Token& t = Next();
    auto node = std::make_unique<Node>();
    node->position = t.position;
    node->term_level = term_level;
    if (t.kind == TokenKind::kSpecial && !term_level) {
      return SyntaxError("unexpected '" + t.text + "'", t.position);
    }
    if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kDelimitedIdentifier) {
      return SyntaxError(
          t.kind == TokenKind::kEnd ? "unexpected end of expression" : "expected an identifier",
          t.position);
    }
    node->name = t.text;
    if (t.kind == TokenKind::kIdentifier && IsSymbol("(")) {
      ++pos_;
      node->kind = NodeKind::kFunction;
      if (!IsSymbol(")")) {
        while (true) {
          ASSIGN_OR_RETURN(auto arg, ParseBinary(0));
          node->args.push_back(std::move(arg));
          if (!IsSymbol(",")) {
            break;
          }
          ++pos_;
        }
      }
      RETURN_IF_ERROR(Expect(")"));
      RETURN_IF_ERROR(BindFunction(node.get()));
      return node;
    }
    node->kind = NodeKind::kMember;
    return node;
  }

  Status BindFunction(Node* node) {
    node->function = FindFunction(node->name);
    if (node->function == nullptr) {
      return SyntaxError("unknown function '" + node->name + "'", node->position);
    }
    const int n = static_cast<int>(node->args.size());
    if (n < node->function->min_args || n > node->function->max_args) {
      return SyntaxError("wrong number of arguments for " + node->name + "()", node->position);
    }
    if ((node->name == "is" || node->name == "as" || node->name == "ofType") && n == 1) {
      ASSIGN_OR_RETURN(std::string type_name, TypeNameOf(*node->args[0]));
      ASSIGN_OR_RETURN(node->type, ResolveTypeName(type_name, node->position));
    }
    const bool regex =
        node->name == "matches" || node->name == "matchesFull" || node->name == "replaceMatches";
    if (regex && (n == 1 || node->name == "replaceMatches") &&
        node->args[0]->kind == NodeKind::kLiteral &&
        node->args[0]->literal.kind == ItemKind::kString && !node->args[0]->empty_literal) {
      node->regex = CompileRegex(node->args[0]->literal.text, node->name == "matchesFull");
      if (node->regex == nullptr) {
        return SyntaxError("invalid regular expression", node->args[0]->position);
      }
    }
    return Status::Ok();
  }

  // The dotted name a type argument was parsed as (`FHIR.Patient` is an invocation chain).
  StatusOr<std::string> TypeNameOf(const Node& arg) {
    if (arg.kind == NodeKind::kMember) {
      return arg.name;
    }
    if (arg.kind == NodeKind::kInvoke && arg.args[0]->kind == NodeKind::kMember &&
        arg.args[1]->kind == NodeKind::kMember) {
      return arg.args[0]->name + "." + arg.args[1]->name;
    }
    return SyntaxError("expected a type name", arg.position);
  }

  StatusOr<std::unique_ptr<Node>> ParseTerm() {
    const Token& t = Peek();
    auto node = std::make_unique<Node>();
    node->position = t.position;
    switch (t.kind) {
      case TokenKind::kEnd:
        return SyntaxError("unexpected end of expression", t.position);
      case TokenKind::kString:
        node->literal = Item::String(Next().text);
        return node;
      case TokenKind::kLongNumber: {
        const auto d = Decimal::Parse(Next().text);
        const auto v = d ? d->ToInt64() : std::nullopt;
        if (!v) {
          return SyntaxError("integer out of range", t.position);
        }
        node->literal = Item::Long(*v);
        return node;
      }
      case TokenKind::kNumber:
        return ParseNumber(std::move(node));
      case TokenKind::kDateTime: {
        const auto v = DateTimeValue::ParseLiteral(Next().text);
        if (!v) {
          return SyntaxError("invalid date/time literal '@" + t.text + "'", t.position);
        }
        node->literal = Item::FromDate(*v);
        return node;
      }
      case TokenKind::kVariable:
        node->kind = NodeKind::kVariable;
        node->name = Next().text;
        return node;
      case TokenKind::kSpecial:
        node->kind = t.text == "$this"    ? NodeKind::kThis
                     : t.text == "$index" ? NodeKind::kIndex
                     : t.text == "$total" ? NodeKind::kTotal
                                          : NodeKind::kLiteral;
        if (node->kind == NodeKind::kLiteral) {
          return SyntaxError("unknown '" + t.text + "'", t.position);
        }
        ++pos_;
        return node;
      case TokenKind::kSymbol:
        if (t.text == "(") {
          ++pos_;
          ASSIGN_OR_RETURN(auto inner, ParseBinary(0));
          RETURN_IF_ERROR(Expect(")"));
          return inner;
        }
        if (t.text == "{") {
          ++pos_;
          RETURN_IF_ERROR(Expect("}"));
          node->empty_literal = true;
          return node;
        }
        return SyntaxError("unexpected '" + t.text + "'", t.position);
      case TokenKind::kIdentifier:
        if ((t.text == "true" || t.text == "false") && !IsSymbol("(", 1)) {
          node->literal = Item::Boolean(Next().text == "true");
          return node;
        }
        [[fallthrough]];
      case TokenKind::kDelimitedIdentifier:
        return ParseInvocation(/*term_level=*/true);
    }
    return SyntaxError("unexpected token", t.position);
  }

  // Number, optionally followed by a unit: 4 'mg', 3 days.
  StatusOr<std::unique_ptr<Node>> ParseNumber(std::unique_ptr<Node> node) {
    const Token& t = Next();
    const auto d = Decimal::Parse(t.text);
    if (!d) {
      return SyntaxError("number out of range", t.position);
    }
    if (Peek().kind == TokenKind::kString) {
      node->literal = Item::FromQuantity(*d, Next().text);
      return node;
    }
    if (Peek().kind == TokenKind::kIdentifier) {
      if (const auto unit = CalendarKeyword(Peek().text)) {
        ++pos_;
        node->literal = Item::FromQuantity(*d, std::string(*unit));
        return node;
      }
    }
    if (t.text.find('.') != std::string::npos) {
      node->literal = Item::FromDecimal(*d);
    } else {
      const auto v = d->ToInt64();
      if (!v) {
        return SyntaxError("integer out of range", t.position);
      }
      node->literal = Item::Integer(*v);
    }
    return node;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  static constexpr int kMaxNesting = 128;
  int depth_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Node>> Parse(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(std::move(tokens));
  return parser.ParseAll();
}

}  // namespace carechart::fhirpath
