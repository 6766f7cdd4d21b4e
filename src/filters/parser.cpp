// SPDX-License-Identifier: MIT
// Recursive-descent parser for Personalize's filter expressions:
//   filter    := expr { "|" expr }
//   expr      := (INCLUDE | EXCLUDE) ItemID WHERE or_cond [ IF cond { AND cond } ]
//   or_cond   := and_cond { OR and_cond }
//   and_cond  := primary { AND primary }
//   primary   := "(" or_cond ")" | cond
//   cond      := field ( [NOT] IN list | op value )
//   list      := "(" value { "," value } ")" | $PARAM | CurrentItem.FIELD
//   value     := string | number | $PARAM | CurrentItem.FIELD
//   field     := Dataset "." FIELD
// Keywords and dataset names are case-insensitive; field names are not.
#include "filters/parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "filters/lexer.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {

const char* to_string(FilterDataset d) {
  switch (d) {
    case FilterDataset::Items:
      return "Items";
    case FilterDataset::Interactions:
      return "Interactions";
    case FilterDataset::Users:
      return "Users";
    case FilterDataset::CurrentUser:
      return "CurrentUser";
    case FilterDataset::CurrentItem:
      return "CurrentItem";
  }
  return "?";
}

const char* to_string(FilterOp op) {
  switch (op) {
    case FilterOp::In:
      return "IN";
    case FilterOp::NotIn:
      return "NOT IN";
    case FilterOp::Eq:
      return "=";
    case FilterOp::Lt:
      return "<";
    case FilterOp::Le:
      return "<=";
    case FilterOp::Gt:
      return ">";
    case FilterOp::Ge:
      return ">=";
  }
  return "?";
}

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  FilterAst parse() {
    FilterAst ast;
    ast.expressions.push_back(expression());
    while (peek().kind == Token::Kind::Pipe) {
      ++pos_;
      ast.expressions.push_back(expression());
    }
    if (peek().kind != Token::Kind::End)
      fail(peek(), "\"|\" between expressions, or the end of the expression");
    return ast;
  }

 private:
  const Token& peek() const { return t_[pos_]; }
  bool is_word(const Token& t, const char* word) const {
    return t.kind == Token::Kind::Word && upper(t.text) == word;
  }
  [[noreturn]] void fail(const Token& t, const std::string& expected) const {
    TAILOR_THROW(ErrorCode::ParseError, "filter expression, column ", t.column, ": expected ",
                 expected, ", found ", describe(t));
  }
  const Token& expect_word(const char* word, const std::string& what) {
    if (!is_word(peek(), word)) fail(peek(), what);
    return t_[pos_++];
  }

  FilterExpression expression() {
    FilterExpression e;
    e.column = peek().column;
    if (is_word(peek(), "INCLUDE"))
      e.include = true;
    else if (is_word(peek(), "EXCLUDE"))
      e.include = false;
    else
      fail(peek(), "INCLUDE or EXCLUDE");
    ++pos_;
    const Token& target = peek();
    if (target.kind != Token::Kind::Word) fail(target, "ItemID");
    const std::string what = upper(target.text);
    if (what == "USERID" || what == "ACTIONID") {
      TAILOR_THROW(ErrorCode::ParseError, "filter expression, column ", target.column, ": ",
                   target.text,
                   " filters select users or actions for segments; tailor filters "
                   "select items (expected ItemID)");
    }
    if (what != "ITEMID") fail(target, "ItemID");
    ++pos_;
    expect_word("WHERE", "WHERE");
    e.where = or_condition();
    if (is_word(peek(), "IF")) {
      ++pos_;
      e.if_conditions.push_back(condition());
      while (is_word(peek(), "AND")) {
        ++pos_;
        e.if_conditions.push_back(condition());
      }
    }
    return e;
  }

  ConditionNode or_condition() {
    ConditionNode first = and_condition();
    if (!is_word(peek(), "OR")) return first;
    ConditionNode node;
    node.kind = ConditionNode::Kind::Or;
    node.children.push_back(std::move(first));
    while (is_word(peek(), "OR")) {
      ++pos_;
      node.children.push_back(and_condition());
    }
    return node;
  }

  ConditionNode and_condition() {
    ConditionNode first = primary();
    if (!is_word(peek(), "AND")) return first;
    ConditionNode node;
    node.kind = ConditionNode::Kind::And;
    node.children.push_back(std::move(first));
    while (is_word(peek(), "AND")) {
      ++pos_;
      node.children.push_back(primary());
    }
    return node;
  }

  ConditionNode primary() {
    if (peek().kind == Token::Kind::LParen) {
      ++pos_;
      ConditionNode inner = or_condition();
      if (peek().kind != Token::Kind::RParen) fail(peek(), "\")\" closing the group, AND or OR");
      ++pos_;
      return inner;
    }
    ConditionNode leaf;
    leaf.leaf = condition();
    return leaf;
  }

  FieldRef field() {
    const Token& dataset = peek();
    if (dataset.kind != Token::Kind::Word) {
      fail(dataset, "a field such as Items.GENRE, Interactions.EVENT_TYPE or CurrentUser.AGE");
    }
    FieldRef f;
    f.column = dataset.column;
    const std::string d = upper(dataset.text);
    if (d == "ITEMS")
      f.dataset = FilterDataset::Items;
    else if (d == "INTERACTIONS")
      f.dataset = FilterDataset::Interactions;
    else if (d == "USERS")
      f.dataset = FilterDataset::Users;
    else if (d == "CURRENTUSER")
      f.dataset = FilterDataset::CurrentUser;
    else if (d == "CURRENTITEM")
      f.dataset = FilterDataset::CurrentItem;
    else
      fail(dataset, "a dataset (Items, Interactions, Users, CurrentUser or CurrentItem)");
    ++pos_;
    if (peek().kind != Token::Kind::Dot)
      fail(peek(), "\".\" and a field name after " + dataset.text);
    ++pos_;
    if (peek().kind != Token::Kind::Word) fail(peek(), "a field name after " + dataset.text + ".");
    f.field = t_[pos_++].text;
    return f;
  }

  FilterValue value() {
    const Token& t = peek();
    FilterValue v;
    v.column = t.column;
    switch (t.kind) {
      case Token::Kind::String:
        v.kind = FilterValue::Kind::String;
        v.text = t.text;
        ++pos_;
        return v;
      case Token::Kind::Number: {
        char* end = nullptr;
        v.number = std::strtod(t.text.c_str(), &end);
        if (*end != '\0') fail(t, "a number");
        v.kind = FilterValue::Kind::Number;
        v.text = t.text;
        ++pos_;
        return v;
      }
      case Token::Kind::Parameter:
        v.kind = FilterValue::Kind::Parameter;
        v.text = t.text;
        ++pos_;
        return v;
      case Token::Kind::Word:
        if (upper(t.text) == "CURRENTITEM") {
          v.kind = FilterValue::Kind::CurrentItemField;
          v.field = field();
          return v;
        }
        break;
      default:
        break;
    }
    fail(t, "a value: a \"string\", a number, a $PARAMETER or CurrentItem.FIELD");
  }

  Condition condition() {
    Condition c;
    c.column = peek().column;
    c.lhs = field();
    const Token& op = peek();
    if (is_word(op, "NOT")) {
      ++pos_;
      expect_word("IN", "IN after NOT");
      c.op = FilterOp::NotIn;
    } else if (is_word(op, "IN")) {
      ++pos_;
      c.op = FilterOp::In;
    } else if (op.kind == Token::Kind::Op) {
      if (op.text == "=")
        c.op = FilterOp::Eq;
      else if (op.text == "<")
        c.op = FilterOp::Lt;
      else if (op.text == "<=")
        c.op = FilterOp::Le;
      else if (op.text == ">")
        c.op = FilterOp::Gt;
      else if (op.text == ">=")
        c.op = FilterOp::Ge;
      else
        fail(op, "IN, NOT IN, =, <, <=, > or >=");
      ++pos_;
      c.values.push_back(value());
      return c;
    } else {
      fail(op, "IN, NOT IN, =, <, <=, > or >= after " + std::string(to_string(c.lhs.dataset)) +
                   "." + c.lhs.field);
    }
    // IN / NOT IN: a parenthesised list, or one parameter / CurrentItem field.
    if (peek().kind == Token::Kind::LParen) {
      ++pos_;
      if (peek().kind == Token::Kind::RParen) fail(peek(), "at least one value in IN ( ... )");
      c.values.push_back(value());
      while (peek().kind == Token::Kind::Comma) {
        ++pos_;
        c.values.push_back(value());
      }
      if (peek().kind != Token::Kind::RParen) fail(peek(), "\",\" or \")\" in the value list");
      ++pos_;
    } else if (peek().kind == Token::Kind::Parameter || is_word(peek(), "CURRENTITEM")) {
      c.values.push_back(value());
    } else {
      fail(peek(), "a value list in parentheses, a $PARAMETER or CurrentItem.FIELD");
    }
    return c;
  }

  std::vector<Token> t_;
  std::size_t pos_ = 0;
};

}  // namespace

FilterAst parse_filter(std::string_view expression) { return Parser(tokenize(expression)).parse(); }

}  // namespace tailor::detail
