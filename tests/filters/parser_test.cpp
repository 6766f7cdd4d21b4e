// SPDX-License-Identifier: MIT
// The filter parser's tree: precedence, lists, IF clauses and pipes.
#include "filters/parser.hpp"

#include <gtest/gtest.h>

#include "filters/lexer.hpp"
#include "tailor/error.hpp"

namespace tailor::detail {
namespace {

TEST(FiltersParser, AndBindsTighterThanOrAndPipesSplitExpressions) {
  const std::string text =
      R"(INCLUDE ItemID WHERE Items.A IN ("x") OR Items.B = 1 AND Items.C < $P | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*") IF CurrentUser.AGE >= 18 AND CurrentUser.T IN ("g"))";
  FilterAst ast = parse_filter(text);
  ASSERT_EQ(ast.expressions.size(), 2u);
  const FilterExpression& first = ast.expressions[0];
  EXPECT_TRUE(first.include);
  ASSERT_EQ(first.where.kind, ConditionNode::Kind::Or);
  ASSERT_EQ(first.where.children.size(), 2u);
  EXPECT_EQ(first.where.children[1].kind, ConditionNode::Kind::And);
  EXPECT_EQ(first.where.children[1].children[1].leaf.values[0].kind, FilterValue::Kind::Parameter);
  EXPECT_EQ(first.where.children[1].children[1].leaf.values[0].text, "P");
  const FilterExpression& second = ast.expressions[1];
  EXPECT_FALSE(second.include);
  EXPECT_EQ(second.where.leaf.values[0].text, "*");
  ASSERT_EQ(second.if_conditions.size(), 2u);
  EXPECT_EQ(second.if_conditions[0].op, FilterOp::Ge);
  EXPECT_EQ(second.if_conditions[0].values[0].number, 18);
  EXPECT_EQ(second.column, text.find("EXCLUDE") + 1);
}

TEST(FiltersParser, ListsParametersAndCurrentItem) {
  FilterAst ast = parse_filter(
      R"(INCLUDE ItemID WHERE Items.G NOT IN ("a", "b\"c", $P) AND Items.H IN CurrentItem.H)");
  const ConditionNode& where = ast.expressions[0].where;
  ASSERT_EQ(where.kind, ConditionNode::Kind::And);
  EXPECT_EQ(where.children[0].leaf.op, FilterOp::NotIn);
  ASSERT_EQ(where.children[0].leaf.values.size(), 3u);
  EXPECT_EQ(where.children[0].leaf.values[1].text, "b\"c");
  EXPECT_EQ(where.children[1].leaf.values[0].kind, FilterValue::Kind::CurrentItemField);
  EXPECT_EQ(where.children[1].leaf.values[0].field.field, "H");
}

TEST(FiltersParser, TokensCarryColumns) {
  auto tokens = tokenize(R"(Items.PRICE <= -2.5e1)");
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[3].text, "<=");
  EXPECT_EQ(tokens[3].column, 13u);
  EXPECT_EQ(tokens[4].kind, Token::Kind::Number);
  EXPECT_EQ(tokens[4].text, "-2.5e1");
  EXPECT_THROW(tokenize("a ! b"), Error);
}

}  // namespace
}  // namespace tailor::detail
