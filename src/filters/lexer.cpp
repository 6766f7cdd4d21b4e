// SPDX-License-Identifier: MIT
// Filter expression lexer.
#include "filters/lexer.hpp"

#include <cctype>

#include "tailor/error.hpp"

namespace tailor::detail {

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::End:
      return "the end of the expression";
    case Token::Kind::String:
      return "the string \"" + t.text + "\"";
    case Token::Kind::Parameter:
      return "$" + t.text;
    default:
      return "\"" + t.text + "\"";
  }
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  auto fail = [&](std::size_t at, const std::string& what) {
    TAILOR_THROW(ErrorCode::ParseError, "filter expression, column ", at + 1, ": ", what);
  };
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    Token t;
    t.column = i + 1;
    if (c == '"') {
      // String literal; \" and \\ are escapes.
      t.kind = Token::Kind::String;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) {
          t.text.push_back(s[i + 1]);
          i += 2;
        } else if (s[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          t.text.push_back(s[i++]);
        }
      }
      if (!closed) fail(t.column - 1, "unterminated string (expected a closing \")");
    } else if (c == '$') {
      t.kind = Token::Kind::Parameter;
      ++i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        t.text.push_back(s[i++]);
      if (t.text.empty())
        fail(t.column - 1, "expected a parameter name after $ (letters, digits, _)");
    } else if (std::isdigit(c) ||
               ((c == '-' || c == '.') && i + 1 < s.size() &&
                (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '.'))) {
      t.kind = Token::Kind::Number;
      t.text.push_back(s[i++]);
      while (i < s.size() &&
             (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
              s[i] == 'E' ||
              ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E')))) {
        t.text.push_back(s[i++]);
      }
    } else if (std::isalpha(c) || c == '_') {
      t.kind = Token::Kind::Word;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        t.text.push_back(s[i++]);
    } else if (c == '<' || c == '>' || c == '=' || c == '!') {
      t.kind = Token::Kind::Op;
      t.text.push_back(s[i++]);
      if (i < s.size() && s[i] == '=' && c != '=') t.text.push_back(s[i++]);
      if (t.text == "!") fail(t.column - 1, "unexpected '!' (use NOT IN)");
    } else if (c == '(') {
      t.kind = Token::Kind::LParen;
      t.text = "(";
      ++i;
    } else if (c == ')') {
      t.kind = Token::Kind::RParen;
      t.text = ")";
      ++i;
    } else if (c == ',') {
      t.kind = Token::Kind::Comma;
      t.text = ",";
      ++i;
    } else if (c == '.') {
      t.kind = Token::Kind::Dot;
      t.text = ".";
      ++i;
    } else if (c == '|') {
      t.kind = Token::Kind::Pipe;
      t.text = "|";
      ++i;
    } else {
      fail(i, std::string("unexpected character '") + static_cast<char>(c) + "'");
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.kind = Token::Kind::End;
  end.column = s.size() + 1;
  out.push_back(end);
  return out;
}

}  // namespace tailor::detail
