// SPDX-License-Identifier: MIT
// Filter expression tokens.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tailor::detail {

struct Token {
  enum class Kind { Word, String, Number, Parameter, Op, LParen, RParen, Comma, Dot, Pipe, End };
  Kind kind = Kind::End;
  std::string text;        // word, unescaped string, number as written, parameter name, operator
  std::size_t column = 0;  // 1-based
};

/// Splits an expression into tokens. Throws Error(ParseError) naming the column of a bad
/// character or an unterminated string.
std::vector<Token> tokenize(std::string_view expression);

/// Text of a token for messages: "end of expression", "\"IN\"", ...
std::string describe(const Token& t);

}  // namespace tailor::detail
