// SPDX-License-Identifier: MIT
// tailor::Error: code, message, and where it was raised.
#include "tailor/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

void refuse(int value) {
  TAILOR_THROW_IF(value < 0, ErrorCode::InvalidArgument, "value ", value, " is negative");
}

TEST(DetailError, CarriesItsCodeAndMessageAndInDebugBuildsWhereItWasRaised) {
  try {
    refuse(-3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_STREQ(e.what(), "value -3 is negative");  // the message is the same in every build
#ifdef NDEBUG
    EXPECT_EQ(e.where(), "");
#else
    EXPECT_EQ(e.where().rfind("error_test.cpp:", 0), 0u) << e.where();  // no directory
    EXPECT_NE(e.where().find("(refuse)"), std::string::npos) << e.where();
#endif
  }
  EXPECT_NO_THROW(refuse(2));
  EXPECT_EQ(Error(ErrorCode::Io, "plain").where(), "");  // made directly: nothing recorded
}

TEST(DetailError, EveryCodeHasAName) {
  EXPECT_STREQ(to_string(ErrorCode::Busy), "Busy");
  EXPECT_STREQ(to_string(ErrorCode::ParseError), "ParseError");
}

}  // namespace
}  // namespace tailor
