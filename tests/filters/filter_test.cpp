// SPDX-License-Identifier: MIT
// Filters, table-driven: every valid expression is checked item by item against a slow, obvious
// reference written from the data's own formulas; every invalid one must fail with a message
// that points at the problem.
#include "tailor/filters/filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "tailor/error.hpp"

namespace tailor {
namespace {

// --- the fixture data, and its formulas (the reference reads these, not tailor) -------------
constexpr int kItems = 60;  // i0..i59 have metadata; i60 appears only in interactions
constexpr int kUsers = 10;
const char* kGenres[] = {"horror", "comedy", "drama", "sci-fi"};

std::set<std::string> genres_of(int i) {
  if (i >= kItems || i % 7 == 0) return {};  // null
  std::set<std::string> g = {kGenres[i % 4]};
  if (i % 5 == 0) g.insert(kGenres[(i + 1) % 4]);
  return g;
}
std::optional<double> price_of(int i) {
  if (i >= kItems || i % 6 == 0) return std::nullopt;
  return (i % 10) * 10 + 0.5;
}
std::optional<double> rating_of(int i) {
  return i >= kItems ? std::nullopt : std::optional<double>(i % 5);
}
std::optional<double> created_of(int i) {
  return i >= kItems ? std::nullopt : std::optional<double>(1000 + i * 10);
}
std::optional<int> age_of(int u) { return u == 9 ? std::nullopt : std::optional<int>(15 + u * 3); }
std::string tier_of(int u) { return u % 3 == 0 ? "gold" : "silver"; }
const char* kEventTypes[] = {"click", "read", "Read", "purchase"};
// User u's events: item (u*7 + k*3) % 61 with type kEventTypes[k % 4], k = 0..19.
std::vector<std::pair<int, std::string>> events_of(int u) {
  std::vector<std::pair<int, std::string>> out;
  for (int k = 0; k < 20; ++k) out.emplace_back((u * 7 + k * 3) % 61, kEventTypes[k % 4]);
  return out;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

DatasetGroup make_group() {
  DatasetGroup g(Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                               DatasetKind::Interactions),
                 Schema::parse(R"({"type":"record","name":"Users","fields":[
        {"name":"USER_ID","type":"string"},{"name":"AGE","type":["null","int"]},
        {"name":"TIER","type":"string","categorical":true}]})",
                               DatasetKind::Users),
                 Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"ITEM_ID","type":"string"},
        {"name":"GENRE","type":["null","string"],"categorical":true},
        {"name":"PRICE","type":["null","double"]},{"name":"RATING","type":"int"},
        {"name":"PREMIUM","type":"boolean"},{"name":"TITLE","type":["null","string"],"textual":true},
        {"name":"CREATION_TIMESTAMP","type":"long"}]})",
                               DatasetKind::Items));
  // Item ids first, in index order, so that index i is item "i<i>".
  std::string interactions = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (int i = 0; i <= kItems; ++i) interactions += "u0,i" + std::to_string(i) + ",1,seed\n";
  for (int u = 0; u < kUsers; ++u) {
    auto ev = events_of(u);
    for (std::size_t k = 0; k < ev.size(); ++k) {
      interactions += "u" + std::to_string(u) + ",i" + std::to_string(ev[k].first) + "," +
                      std::to_string(100 + k) + "," + ev[k].second + "\n";
    }
  }
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions, interactions).ok());
  std::string items = "ITEM_ID,GENRE,PRICE,RATING,PREMIUM,TITLE,CREATION_TIMESTAMP\n";
  for (int i = 0; i < kItems; ++i) {
    std::string genre;
    for (const std::string& x : genres_of(i)) genre += (genre.empty() ? "" : "|") + x;
    std::string price = price_of(i) ? std::to_string(*price_of(i)) : "";
    items += "i" + std::to_string(i) + "," + genre + "," + price + "," + std::to_string(i % 5) +
             "," + (i % 2 ? "true" : "false") + ",title " + std::to_string(i) + "," +
             std::to_string(1000 + i * 10) + "\n";
  }
  ImportReport r = g.import_csv_text(DatasetKind::Items, items);
  EXPECT_TRUE(r.ok()) << r.summary();
  std::string users = "USER_ID,AGE,TIER\n";
  for (int u = 0; u < kUsers; ++u) {
    users += "u" + std::to_string(u) + "," + (age_of(u) ? std::to_string(*age_of(u)) : "") + "," +
             tier_of(u) + "\n";
  }
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Users, users).ok());
  return g;
}

// The "seed" events of u0 exist to intern ids in order; the reference ignores them by keeping
// them out of the expressions below (no case uses event type "seed" except where stated).
bool user_did(int u, int item, const std::set<std::string>& types_lower, bool any) {
  for (const auto& [i, t] : events_of(u)) {
    if (i == item && (any || types_lower.count(lower(t)))) return true;
  }
  if (u == 0 && any) return item <= kItems;  // u0's seed events
  return false;
}

bool has_genre(int i, std::initializer_list<const char*> any) {
  auto g = genres_of(i);
  return std::any_of(any.begin(), any.end(), [&](const char* x) { return g.count(x) > 0; });
}
bool genre_not_in(int i, std::initializer_list<const char*> none) {
  return !genres_of(i).empty() && !has_genre(i, none);
}
template <typename F>
bool num(std::optional<double> v, F f) {
  return v && f(*v);
}

struct Case {
  const char* name;
  std::string expression;
  FilterValues values;
  int user;          // -1: no user
  int current_item;  // -1: none
  std::function<bool(int)> expected;
  friend void PrintTo(const Case& c, std::ostream* os) { *os << c.expression; }
};

std::vector<Case> valid_cases() {
  const std::set<std::string> click = {"click"}, read = {"read"},
                              purchase_click = {"purchase", "click"};
  return {
      {"ExcludeClicked",
       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))",
       {},
       1,
       -1,
       [=](int i) { return !user_did(1, i, click, false); }},
      {"EventTypeCaseInsensitive",
       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("READ"))",
       {},
       2,
       -1,
       [=](int i) { return !user_did(2, i, read, false); }},
      {"Wildcard",
       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*"))",
       {},
       3,
       -1,
       [=](int i) { return !user_did(3, i, {}, true); }},
      {"IncludeTwoTypes",
       R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase", "click"))",
       {},
       4,
       -1,
       [=](int i) { return user_did(4, i, purchase_click, false); }},
      {"EventTypeNotIn",
       R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click"))",
       {},
       5,
       -1,
       [=](int i) {
         for (const auto& [item, t] : events_of(5))
           if (item == i && lower(t) != "click") return true;
         return false;
       }},
      {"EventTypeEquals",
       R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE = "purchase")",
       {},
       6,
       -1,
       [=](int i) { return user_did(6, i, {"purchase"}, false); }},
      {"EventTypeOr",
       R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click") OR Interactions.EVENT_TYPE IN ("purchase"))",
       {},
       7,
       -1,
       [=](int i) { return user_did(7, i, purchase_click, false); }},
      {"EventTypeParameter",
       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T))",
       {{"T", {"CLICK"}}},
       8,
       -1,
       [=](int i) { return !user_did(8, i, click, false); }},
      {"NoUserExcludesNothing",
       R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*"))",
       {},
       -1,
       -1,
       [](int) { return true; }},
      {"GenreIn",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror"))",
       {},
       -1,
       -1,
       [](int i) { return has_genre(i, {"horror"}); }},
      {"GenreInTwo",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror", "drama"))",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror", "drama"});
       }},
      {"GenreNotIn",
       R"(INCLUDE ItemID WHERE Items.GENRE NOT IN ("horror"))",
       {},
       -1,
       -1,
       [](int i) { return genre_not_in(i, {"horror"}); }},
      {"ExcludeGenre",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("comedy"))",
       {},
       -1,
       -1,
       [](int i) { return !has_genre(i, {"comedy"}); }},
      {"ExcludeGenreNotIn",
       R"(EXCLUDE ItemID WHERE Items.GENRE NOT IN ("comedy"))",
       {},
       -1,
       -1,
       [](int i) { return !genre_not_in(i, {"comedy"}); }},
      {"GenreEquals",
       R"(INCLUDE ItemID WHERE Items.GENRE = "sci-fi")",
       {},
       -1,
       -1,
       [](int i) { return has_genre(i, {"sci-fi"}); }},
      {"PriceLess",
       R"(INCLUDE ItemID WHERE Items.PRICE < 30)",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p < 30; }); }},
      {"PriceLessEqual",
       R"(INCLUDE ItemID WHERE Items.PRICE <= 30.5)",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p <= 30.5; }); }},
      {"PriceGreater",
       R"(INCLUDE ItemID WHERE Items.PRICE > 50)",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p > 50; }); }},
      {"PriceGreaterEqual",
       R"(INCLUDE ItemID WHERE Items.PRICE >= 50.5)",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p >= 50.5; }); }},
      {"PriceEquals",
       R"(INCLUDE ItemID WHERE Items.PRICE = 20.5)",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p == 20.5; }); }},
      {"PriceIn",
       R"(INCLUDE ItemID WHERE Items.PRICE IN (10.5, 20.5))",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p == 10.5 || p == 20.5; }); }},
      {"PriceNotIn",
       R"(INCLUDE ItemID WHERE Items.PRICE NOT IN (10.5))",
       {},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p != 10.5; }); }},
      {"NegativeNumber",
       R"(INCLUDE ItemID WHERE Items.PRICE > -1)",
       {},
       -1,
       -1,
       [](int i) { return price_of(i).has_value(); }},
      {"RatingAtLeast",
       R"(INCLUDE ItemID WHERE Items.RATING >= 3)",
       {},
       -1,
       -1,
       [](int i) { return num(rating_of(i), [](double r) { return r >= 3; }); }},
      {"RatingIn",
       R"(INCLUDE ItemID WHERE Items.RATING IN (1, 3))",
       {},
       -1,
       -1,
       [](int i) { return num(rating_of(i), [](double r) { return r == 1 || r == 3; }); }},
      {"CreatedAfter",
       R"(INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP > 1300)",
       {},
       -1,
       -1,
       [](int i) { return num(created_of(i), [](double c) { return c > 1300; }); }},
      {"CreatedParameter",
       R"(INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP <= $SINCE)",
       {{"SINCE", {"1100"}}},
       -1,
       -1,
       [](int i) { return num(created_of(i), [](double c) { return c <= 1100; }); }},
      {"And",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") AND Items.PRICE < 50)",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror"}) && num(price_of(i), [](double p) { return p < 50; });
       }},
      {"Or",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") OR Items.PRICE < 20)",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror"}) || num(price_of(i), [](double p) { return p < 20; });
       }},
      {"ParenthesesFirst",
       R"(INCLUDE ItemID WHERE (Items.GENRE IN ("horror") OR Items.GENRE IN ("drama")) AND Items.RATING = 2)",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror", "drama"}) && i % 5 == 2;
       }},
      {"ParenthesesLast",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") AND (Items.PRICE < 20 OR Items.PRICE > 80))",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror"}) &&
                num(price_of(i), [](double p) { return p < 20 || p > 80; });
       }},
      {"AndBindsTighterThanOr",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("comedy") OR Items.GENRE IN ("drama") AND Items.RATING > 2)",
       {},
       -1,
       -1,
       [](int i) { return has_genre(i, {"comedy"}) || (has_genre(i, {"drama"}) && i % 5 > 2); }},
      {"Parameter",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))",
       {{"G", {"horror"}}},
       -1,
       -1,
       [](int i) { return has_genre(i, {"horror"}); }},
      {"ParameterTwoValues",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))",
       {{"G", {"horror", "comedy"}}},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror", "comedy"});
       }},
      {"ParameterMixedWithLiteral",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("drama", $G))",
       {{"G", {"horror"}}},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror", "drama"});
       }},
      {"NumericParameter",
       R"(INCLUDE ItemID WHERE Items.PRICE < $P)",
       {{"P", {"40"}}},
       -1,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p < 40; }); }},
      {"ParameterEquals",
       R"(INCLUDE ItemID WHERE Items.RATING = $R)",
       {{"R", {"2"}}},
       -1,
       -1,
       [](int i) { return i < kItems && i % 5 == 2; }},
      {"ExcludeMissingParameterIsSkipped",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ($G))",
       {},
       -1,
       -1,
       [](int) { return true; }},
      {"IncludeParamExcludeRead",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ($G) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*"))",
       {{"G", {"drama"}}},
       4,
       -1,
       [=](int i) { return has_genre(i, {"drama"}) && !user_did(4, i, {}, true); }},
      {"IncludeUnion",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") | INCLUDE ItemID WHERE Items.PRICE < 15)",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror"}) || num(price_of(i), [](double p) { return p < 15; });
       }},
      {"ExcludeUnion",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("horror") | EXCLUDE ItemID WHERE Items.PRICE < 15)",
       {},
       -1,
       -1,
       [](int i) {
         return !has_genre(i, {"horror"}) && !num(price_of(i), [](double p) { return p < 15; });
       }},
      {"TwoIncludesTwoExcludes",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") | INCLUDE ItemID WHERE Items.GENRE IN ("drama") | EXCLUDE ItemID WHERE Items.PRICE > 70 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))",
       {},
       2,
       -1,
       [=](int i) {
         return has_genre(i, {"horror", "drama"}) &&
                !num(price_of(i), [](double p) { return p > 70; }) && !user_did(2, i, click, false);
       }},
      {"OrderIrrelevant",
       R"(EXCLUDE ItemID WHERE Items.PRICE > 70 | INCLUDE ItemID WHERE Items.GENRE IN ("horror"))",
       {},
       -1,
       -1,
       [](int i) {
         return has_genre(i, {"horror"}) && !num(price_of(i), [](double p) { return p > 70; });
       }},
      {"IncludeItemsOrInteractions",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") | INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))",
       {},
       1,
       -1,
       [=](int i) { return has_genre(i, {"horror"}) || user_did(1, i, click, false); }},
      {"IfAppliesToMinor",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < 18)",
       {},
       0,
       -1,
       [](int i) { return !has_genre(i, {"horror"}); }},
      {"IfSkippedForAdult",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < 18)",
       {},
       1,
       -1,
       [](int) { return true; }},
      {"IfSkippedForNullAge",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < 18)",
       {},
       9,
       -1,
       [](int) { return true; }},
      {"IfSkippedWithoutUser",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < 18)",
       {},
       -1,
       -1,
       [](int) { return true; }},
      {"IfCategorical",
       R"(INCLUDE ItemID WHERE Items.PRICE > 60 IF CurrentUser.TIER IN ("gold"))",
       {},
       3,
       -1,
       [](int i) { return num(price_of(i), [](double p) { return p > 60; }); }},
      {"IfCategoricalFails",
       R"(INCLUDE ItemID WHERE Items.PRICE > 60 IF CurrentUser.TIER IN ("gold"))",
       {},
       4,
       -1,
       [](int) { return true; }},
      {"IfWithAnd",
       R"(INCLUDE ItemID WHERE Items.RATING = 0 IF CurrentUser.AGE > 16 AND CurrentUser.TIER = "silver")",
       {},
       2,
       -1,
       [](int i) { return i < kItems && i % 5 == 0; }},
      {"IfWithAndFails",
       R"(INCLUDE ItemID WHERE Items.RATING = 0 IF CurrentUser.AGE > 16 AND CurrentUser.TIER = "silver")",
       {},
       3,
       -1,
       [](int) { return true; }},
      {"IfParameter",
       R"(EXCLUDE ItemID WHERE Items.GENRE IN ("drama") IF CurrentUser.AGE = $AGE)",
       {{"AGE", {"15"}}},
       0,
       -1,
       [](int i) { return !has_genre(i, {"drama"}); }},
      {"UsersConditionTrue",
       R"(INCLUDE ItemID WHERE Users.TIER IN ("gold"))",
       {},
       3,
       -1,
       [](int) { return true; }},
      {"UsersConditionFalse",
       R"(INCLUDE ItemID WHERE Users.TIER IN ("gold"))",
       {},
       1,
       -1,
       [](int) { return false; }},
      {"UsersExclude",
       R"(EXCLUDE ItemID WHERE Users.AGE < 18)",
       {},
       0,
       -1,
       [](int) { return false; }},
      {"CurrentItemPrice",
       R"(INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE)",
       {},
       -1,
       25,
       [](int i) { return num(price_of(i), [](double p) { return p < *price_of(25); }); }},
      {"CurrentItemGenre",
       R"(INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE)",
       {},
       -1,
       10,
       [](int i) {
         for (const std::string& g : genres_of(10))
           if (genres_of(i).count(g)) return true;
         return false;
       }},
      {"CurrentItemBoth",
       R"(INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE)",
       {},
       -1,
       25,
       [](int i) {
         bool genre = false;
         for (const std::string& g : genres_of(25)) genre = genre || genres_of(i).count(g) > 0;
         return genre && num(price_of(i), [](double p) { return p < *price_of(25); });
       }},
      {"ItemIdIn",
       R"(INCLUDE ItemID WHERE Items.ITEM_ID IN ("i1", "i2", "nope"))",
       {},
       -1,
       -1,
       [](int i) { return i == 1 || i == 2; }},
      {"ItemIdExclude",
       R"(EXCLUDE ItemID WHERE Items.ITEM_ID IN ("i3"))",
       {},
       -1,
       -1,
       [](int i) { return i != 3; }},
      {"ItemIdNotIn",
       R"(INCLUDE ItemID WHERE Items.ITEM_ID NOT IN ("i3"))",
       {},
       -1,
       -1,
       [](int i) { return i != 3; }},
      {"InjectionIsData",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))",
       {{"G", {"\") OR (1=1"}}},
       -1,
       -1,
       [](int) { return false; }},
      {"QuoteInValueIsData",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))",
       {{"G", {"hor\"ror", "drama"}}},
       -1,
       -1,
       [](int i) { return has_genre(i, {"drama"}); }},
      {"KeywordsAnyCase",
       R"(include itemid where items.GENRE in ("horror"))",
       {},
       -1,
       -1,
       [](int i) { return has_genre(i, {"horror"}); }},
      {"ValueCaseSensitive",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("Horror"))",
       {},
       -1,
       -1,
       [](int) { return false; }},
      {"UnknownValue",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("western"))",
       {},
       -1,
       -1,
       [](int) { return false; }},
      {"EscapedQuoteLiteral",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("sci-fi", "a\"b"))",
       {},
       -1,
       -1,
       [](int i) { return has_genre(i, {"sci-fi"}); }},
  };
}

class FiltersFilterValid : public ::testing::TestWithParam<Case> {};

TEST_P(FiltersFilterValid, MatchesTheReference) {
  static const DatasetGroup group = make_group();
  const Case& c = GetParam();
  Filter f = Filter::compile(c.expression, group);
  FilterRequest request;
  request.user = c.user < 0 ? kNoIndex : group.user_ids().find("u" + std::to_string(c.user));
  request.current_item =
      c.current_item < 0 ? kNoIndex : group.item_ids().find("i" + std::to_string(c.current_item));
  request.values = &c.values;
  Bitmap allowed = f.evaluate(group, request);
  ASSERT_EQ(allowed.size(), static_cast<std::size_t>(kItems + 1));
  for (int i = 0; i <= kItems; ++i) {
    const Index index = group.item_ids().find("i" + std::to_string(i));
    ASSERT_EQ(allowed.test(index), c.expected(i)) << c.expression << "\n  item i" << i;
  }
  // A second evaluation (cached where possible) gives the same answer.
  EXPECT_EQ(f.evaluate(group, request), allowed);
}

INSTANTIATE_TEST_SUITE_P(Expressions, FiltersFilterValid, ::testing::ValuesIn(valid_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.name);
                         });

struct BadCase {
  const char* name;
  std::string expression;
  const char* message;  // part of the error message
  friend void PrintTo(const BadCase& c, std::ostream* os) { *os << c.expression.substr(0, 200); }
};

std::vector<BadCase> compile_errors() {
  std::string many_values = "INCLUDE ItemID WHERE Items.GENRE IN (";
  for (int k = 0; k < 101; ++k)
    many_values += std::string(k ? "," : "") + "\"g" + std::to_string(k) + "\"";
  many_values += ")";
  std::string many_params = "INCLUDE ItemID WHERE Items.GENRE IN (";
  for (int k = 0; k < 26; ++k) many_params += std::string(k ? "," : "") + "$P" + std::to_string(k);
  many_params += ")";
  return {
      {"Empty", "", "column 1: expected INCLUDE or EXCLUDE, found the end of the expression"},
      {"MissingWhere", R"(INCLUDE ItemID Items.GENRE IN ("a"))",
       "column 16: expected WHERE, found \"Items\""},
      {"UserIdFilter", R"(INCLUDE UserID WHERE Users.TIER IN ("gold"))", "expected ItemID"},
      {"UnknownField", R"(INCLUDE ItemID WHERE Items.COLOUR IN ("red"))",
       "unknown field Items.COLOUR"},
      {"TextualField", R"(INCLUDE ItemID WHERE Items.TITLE IN ("a"))",
       "textual fields cannot be filtered"},
      {"BooleanField", R"(INCLUDE ItemID WHERE Items.PREMIUM = 1)",
       "boolean and textual fields cannot be filtered"},
      {"OrderOnString", R"(INCLUDE ItemID WHERE Items.GENRE < 3)",
       "operator < needs a numeric field"},
      {"StringForNumber", R"(INCLUDE ItemID WHERE Items.PRICE IN ("cheap"))",
       "expected a number, found the string"},
      {"NumberForString", R"(INCLUDE ItemID WHERE Items.GENRE IN (3))",
       "expected a quoted value, found the number 3"},
      {"EmptyIn", R"(INCLUDE ItemID WHERE Items.GENRE IN ())", "at least one value"},
      {"UnclosedList", R"(INCLUDE ItemID WHERE Items.GENRE IN ("a")", "expected \",\" or \")\""},
      {"UnknownOperator", R"(INCLUDE ItemID WHERE Items.GENRE LIKE "a")",
       "expected IN, NOT IN, =, <, <=, > or >="},
      {"NotWithoutIn", R"(INCLUDE ItemID WHERE Items.GENRE NOT ("a"))", "IN after NOT"},
      {"InteractionsOtherField", R"(INCLUDE ItemID WHERE Interactions.ITEM_ID IN ("x"))",
       "only Interactions.EVENT_TYPE"},
      {"MixedDatasets",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Interactions.EVENT_TYPE IN ("click"))",
       "must use one dataset"},
      {"CurrentUserInWhere", R"(INCLUDE ItemID WHERE CurrentUser.AGE > 3)",
       "belongs in an IF clause"},
      {"IfOnItems", R"(INCLUDE ItemID WHERE Items.PRICE > 3 IF Items.GENRE IN ("a"))",
       "IF condition must be on CurrentUser"},
      {"CurrentItemOnLeft", R"(INCLUDE ItemID WHERE CurrentItem.PRICE < 3)",
       "can only stand on the right"},
      {"CurrentItemTypeMismatch", R"(INCLUDE ItemID WHERE Items.PRICE < CurrentItem.GENRE)",
       "differ in type"},
      {"UnterminatedString", R"(INCLUDE ItemID WHERE Items.GENRE IN ("abc))",
       "column 38: unterminated string"},
      {"BadCharacter", R"(INCLUDE ItemID WHERE Items.GENRE IN ("a") # comment)",
       "unexpected character '#'"},
      {"BareDollar", R"(INCLUDE ItemID WHERE Items.GENRE IN ($))", "parameter name after $"},
      {"TrailingWords", R"(INCLUDE ItemID WHERE Items.GENRE IN ("a") extra)", "found \"extra\""},
      {"DanglingPipe", R"(INCLUDE ItemID WHERE Items.GENRE IN ("a") |)",
       "expected INCLUDE or EXCLUDE"},
      {"UnclosedGroup", R"(INCLUDE ItemID WHERE (Items.GENRE IN ("a"))", "\")\" closing the group"},
      {"UnknownDataset", R"(INCLUDE ItemID WHERE Products.X IN ("a"))", "expected a dataset"},
      {"MissingFieldName", R"(INCLUDE ItemID WHERE Items. = 3)",
       "column 29: expected a field name after Items."},
      {"TooManyFields",
       R"(INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Items.PRICE > 1 AND Items.RATING > 1 AND Items.CREATION_TIMESTAMP > 1 AND Items.ITEM_ID IN ("x") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("a"))",
       "6 distinct fields, more than the limit of 5"},
      {"TooManyParameters", many_params, "26 parameters, more than the limit of 25"},
      {"TooManyValues", many_values, "101 values in one list, more than the limit of 100"},
      {"TooLong", "INCLUDE ItemID WHERE Items.GENRE IN (\"" + std::string(2600, 'x') + "\")",
       "more than the limit of 2500"},
      {"IfWithoutCondition", R"(INCLUDE ItemID WHERE Items.PRICE > 3 IF)", "expected a field"},
  };
}

class FiltersFilterInvalid : public ::testing::TestWithParam<BadCase> {};

TEST_P(FiltersFilterInvalid, FailsToCompileWithAUsefulMessage) {
  static const DatasetGroup group = make_group();
  const BadCase& c = GetParam();
  try {
    Filter::compile(c.expression, group);
    FAIL() << "compiled: " << c.expression;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << "message: " << e.what();
    EXPECT_TRUE(e.code() == ErrorCode::ParseError || e.code() == ErrorCode::InvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(Expressions, FiltersFilterInvalid, ::testing::ValuesIn(compile_errors()),
                         [](const ::testing::TestParamInfo<BadCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(FiltersFilter, AGroupWithoutTheCompiledDatasetsOrFieldsIsRefusedAtEvaluation) {
  const DatasetGroup g = make_group();
  const Filter f = Filter::compile(R"(INCLUDE ItemID WHERE Items.GENRE IN ("drama"))", g);
  FilterRequest request;
  // A group built from the same schemas evaluates it.
  const DatasetGroup same(g.schema(DatasetKind::Interactions), g.users()->schema(),
                          g.items()->schema());
  EXPECT_EQ(f.evaluate(same, request).size(), 0u);
  auto refused = [&](const DatasetGroup& other, const char* why) {
    try {
      f.evaluate(other, request);
      ADD_FAILURE() << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << why;
      EXPECT_NE(std::string(e.what()).find("other schemas"), std::string::npos) << e.what();
    }
  };
  refused(DatasetGroup(g.schema(DatasetKind::Interactions)), "no Items dataset");
  refused(DatasetGroup(g.schema(DatasetKind::Interactions), std::nullopt,
                       Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"ITEM_ID","type":"string"},{"name":"GENRE","type":"string"}]})",
                                     DatasetKind::Items)),
          "GENRE not categorical");
  // A filter that names no Users field does not need the Users dataset.
  const Filter items_only = Filter::compile(
      R"(INCLUDE ItemID WHERE Items.GENRE IN ("drama"))",
      FilterSchemas{g.schema(DatasetKind::Interactions), std::nullopt, g.items()->schema()});
  EXPECT_EQ(items_only
                .evaluate(DatasetGroup(g.schema(DatasetKind::Interactions), std::nullopt,
                                       g.items()->schema()),
                          request)
                .size(),
            0u);
}

TEST(FiltersFilter, RequestTimeErrors) {
  const DatasetGroup group = make_group();
  auto message = [&](const char* expression, FilterValues values, Index item = kNoIndex) {
    Filter f = Filter::compile(expression, group);
    FilterRequest r;
    r.values = &values;
    r.current_item = item;
    try {
      f.evaluate(group, r);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))", {}).find("$G has no value"),
            std::string::npos);
  EXPECT_NE(message(R"(INCLUDE ItemID WHERE Items.PRICE < $P)", {{"P", {"cheap"}}})
                .find("is not a number"),
            std::string::npos);
  EXPECT_NE(message(R"(INCLUDE ItemID WHERE Items.PRICE < $P)", {{"P", {"1", "2"}}})
                .find("compares with one value"),
            std::string::npos);
  EXPECT_NE(message(R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))",
                    {{"G", std::vector<std::string>(101, "x")}})
                .find("101 values"),
            std::string::npos);
  EXPECT_NE(
      message(R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))", {{"G", {std::string(1001, 'x')}}})
          .find("1001 characters"),
      std::string::npos);
  EXPECT_NE(
      message(R"(INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE)", {}).find("CurrentItem"),
      std::string::npos);
  EXPECT_EQ(message(R"(EXCLUDE ItemID WHERE Items.GENRE IN ($G))", {}), "no error");
}

TEST(FiltersFilter, DescribesItsParametersAndDependencies) {
  const DatasetGroup group = make_group();
  Filter f = Filter::compile(
      R"(INCLUDE ItemID WHERE Items.GENRE IN ($G, $H) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T))",
      group);
  EXPECT_EQ(f.parameters(), (std::vector<std::string>{"G", "H", "T"}));
  EXPECT_TRUE(f.uses_current_user());
  EXPECT_FALSE(f.uses_current_item());
  Filter g = Filter::compile(R"(INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE)", group);
  EXPECT_FALSE(g.uses_current_user());
  EXPECT_TRUE(g.uses_current_item());
}

TEST(FiltersFilter, InteractionBoundKeepsTheMostRecentPerEventType) {
  const DatasetGroup group = make_group();
  FilterLimits limits;
  limits.interactions_per_event_type = 2;
  Filter f = Filter::compile(R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))", group,
                             limits);
  FilterRequest r;
  r.user = group.user_ids().find("u1");
  Bitmap b = f.evaluate(group, r);
  // u1's clicks are events k = 0, 4, 8, 12, 16; the two most recent are k = 16 and 12.
  std::set<Index> expected = {group.item_ids().find("i" + std::to_string((7 + 16 * 3) % 61)),
                              group.item_ids().find("i" + std::to_string((7 + 12 * 3) % 61))};
  EXPECT_EQ(b.count(), expected.size());
  for (Index i : expected) EXPECT_TRUE(b.test(i));
}

// A heavy reader: 150 "read" events (item r<k> at time 1000 + k, imported newest first so that
// import order is not time order) and 20 "click" events on other items.
DatasetGroup heavy_reader_group() {
  DatasetGroup g(Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}]})",
                               DatasetKind::Interactions));
  std::string csv = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n";
  for (int k = 149; k >= 0; --k)
    csv += "heavy,r" + std::to_string(k) + "," + std::to_string(1000 + k) + ",read\n";
  for (int k = 0; k < 20; ++k)
    csv += "heavy,c" + std::to_string(k) + "," + std::to_string(2000 + k) + ",click\n";
  EXPECT_TRUE(g.import_csv_text(DatasetKind::Interactions, csv).ok());
  return g;
}

TEST(FiltersFilter, FiltersSeeTheWholeHistoryByDefault) {
  const DatasetGroup g = heavy_reader_group();
  EXPECT_EQ(FilterLimits().interactions_per_event_type, 0u);  // 0: no cap
  const char* expression = R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))";
  FilterRequest r;
  r.user = g.user_ids().find("heavy");
  const Bitmap all = Filter::compile(expression, g).evaluate(g, r);
  for (int k = 0; k < 150; ++k)
    EXPECT_FALSE(all.test(g.item_ids().find("r" + std::to_string(k)))) << k;
  EXPECT_EQ(all.count(), 20u);  // the clicked items only

  // Personalize's cap keeps the 100 most recent reads: the 50 oldest come back.
  FilterLimits capped;
  capped.interactions_per_event_type = FilterLimits::kPersonalizeInteractionsPerEventType;
  const Bitmap recent = Filter::compile(expression, g, capped).evaluate(g, r);
  for (int k = 0; k < 150; ++k)
    EXPECT_EQ(recent.test(g.item_ids().find("r" + std::to_string(k))), k < 50) << k;
  EXPECT_EQ(recent.count(), 70u);
  // The cap counts per event type: 20 clicks are under it, whatever the reads.
  const Bitmap clicked =
      Filter::compile(R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))", g, capped)
          .evaluate(g, r);
  EXPECT_EQ(clicked.count(), 20u);
}

TEST(FiltersFilter, CachedParameterisedResultsFollowTheValuesAndTheItems) {
  DatasetGroup group = make_group();
  Filter f = Filter::compile(R"(INCLUDE ItemID WHERE Items.GENRE IN ($G))", group);
  auto items_of = [&](std::vector<std::string> genres) {
    FilterValues values{{"G", std::move(genres)}};
    FilterRequest r;
    r.values = &values;
    return f.evaluate(group, r);
  };
  auto reference = [&](const std::set<std::string>& wanted) {
    std::size_t n = 0;
    for (int i = 0; i < kItems; ++i) {
      for (const std::string& g : genres_of(i)) {
        if (wanted.count(g)) {
          ++n;
          break;
        }
      }
    }
    return n;
  };
  // Each set of values gets its own answer, evaluated or cached, in any order.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(items_of({"horror"}).count(), reference({"horror"}));
    EXPECT_EQ(items_of({"comedy", "drama"}).count(), reference({"comedy", "drama"}));
    EXPECT_EQ(items_of({"drama", "comedy"}).count(), reference({"comedy", "drama"}));
  }
  // Values whose concatenations agree are still different values.
  EXPECT_EQ(items_of({"horr", "or"}).count(), 0u);
  EXPECT_EQ(items_of({"horror"}).count(), reference({"horror"}));
  // A bad value is an error every time, never a cached answer.
  EXPECT_THROW(items_of({std::string(2000, 'x')}), Error);
  EXPECT_THROW(items_of({std::string(2000, 'x')}), Error);
  // An item update is seen by the next evaluation with the same values.
  ImportOptions inc;
  inc.mode = ImportMode::Incremental;
  ASSERT_TRUE(group
                  .import_csv_text(
                      DatasetKind::Items,
                      "ITEM_ID,GENRE,RATING,PREMIUM,CREATION_TIMESTAMP\ni98,horror,1,true,5\n", inc)
                  .ok());
  Bitmap after = items_of({"horror"});
  EXPECT_EQ(after.count(), reference({"horror"}) + 1);
  EXPECT_TRUE(after.test(group.item_ids().find("i98")));
  // More distinct value lists than the cache holds: answers stay right.
  for (int k = 0; k < 300; ++k) EXPECT_EQ(items_of({"none" + std::to_string(k)}).count(), 0u);
  EXPECT_EQ(items_of({"comedy", "drama"}).count(), reference({"comedy", "drama"}));
}

// Two groups whose items differ but whose items_version agree: a filter's cached answer for one
// is never the answer for the other, nor for a copy that has since changed differently.
TEST(FiltersFilter, CacheNeverSharesAnAnswerBetweenGroups) {
  auto group_with = [](const std::string& genre_of_i1) {
    DatasetGroup g(Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"}]})",
                                 DatasetKind::Interactions),
                   std::nullopt,
                   Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"ITEM_ID","type":"string"},{"name":"GENRE","type":"string","categorical":true}]})",
                                 DatasetKind::Items));
    EXPECT_TRUE(g.import_csv_text(DatasetKind::Items,
                                  "ITEM_ID,GENRE\ni0,horror\ni1," + genre_of_i1 + "\ni2,drama\n")
                    .ok());
    return g;
  };
  DatasetGroup first = group_with("horror");
  DatasetGroup second = group_with("comedy");
  ASSERT_EQ(first.items_version(), second.items_version());
  ASSERT_EQ(first.item_ids().size(), second.item_ids().size());
  const Filter f = Filter::compile(R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror"))", first);
  EXPECT_EQ(f.evaluate(first, {}).count(), 2u);  // cached now
  EXPECT_EQ(f.evaluate(second, {}).count(), 1u);
  EXPECT_EQ(f.evaluate(first, {}).count(), 2u);

  // A copy starts equal, then each changes its own way to the same items_version.
  DatasetGroup copy = first;
  EXPECT_EQ(f.evaluate(copy, {}).count(), 2u);
  ImportOptions inc;
  inc.mode = ImportMode::Incremental;
  ASSERT_TRUE(first.import_csv_text(DatasetKind::Items, "ITEM_ID,GENRE\ni2,horror\n", inc).ok());
  EXPECT_EQ(f.evaluate(first, {}).count(), 3u);
  ASSERT_TRUE(copy.import_csv_text(DatasetKind::Items, "ITEM_ID,GENRE\ni0,drama\n", inc).ok());
  ASSERT_EQ(copy.items_version(), first.items_version());
  EXPECT_EQ(f.evaluate(copy, {}).count(), 1u);
  EXPECT_EQ(f.evaluate(first, {}).count(), 3u);
  // Assigning one group over another gives the target a new identity too.
  second = copy;
  EXPECT_EQ(f.evaluate(second, {}).count(), 1u);
  ASSERT_TRUE(second.import_csv_text(DatasetKind::Items, "ITEM_ID,GENRE\ni0,horror\n", inc).ok());
  EXPECT_EQ(f.evaluate(second, {}).count(), 2u);
  EXPECT_EQ(f.evaluate(copy, {}).count(), 1u);
}

// Compiling needs only the schemas: no group exists yet, and the filter then serves any group
// built from them. Fields are resolved as against a group, with the same errors.
TEST(FiltersFilter, CompilesAgainstSchemasAlone) {
  FilterSchemas schemas{Schema::parse(R"({"type":"record","name":"Interactions","fields":[
        {"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
        {"name":"TIMESTAMP","type":"long"}]})",
                                      DatasetKind::Interactions),
                        std::nullopt, std::nullopt};
  auto error_of = [&](const char* expression) {
    try {
      Filter::compile(expression, schemas);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
      return std::string(e.what());
    }
    return std::string("compiled");
  };
  EXPECT_NE(error_of(R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror"))").find("no Items dataset"),
            std::string::npos);
  EXPECT_NE(error_of(R"(INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click"))")
                .find("no EVENT_TYPE field"),
            std::string::npos);
  schemas.items = Schema::parse(R"({"type":"record","name":"Items","fields":[
        {"name":"PRICE","type":"double"},{"name":"ITEM_ID","type":"string"},
        {"name":"GENRE","type":"string","categorical":true},{"name":"NEW","type":"boolean"}]})",
                                DatasetKind::Items);
  EXPECT_NE(error_of(R"(INCLUDE ItemID WHERE Items.COLOR IN ("red"))")
                .find("unknown field Items.COLOR (the Items schema has PRICE, GENRE, NEW)"),
            std::string::npos);
  EXPECT_NE(error_of(R"(INCLUDE ItemID WHERE Items.NEW IN ("true"))").find("boolean"),
            std::string::npos);
  // GENRE comes after the id field in the schema: it is still the group's column for GENRE.
  const Filter f = Filter::compile(
      R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") | EXCLUDE ItemID WHERE Items.PRICE > 5)",
      schemas);
  DatasetGroup group(schemas.interactions, schemas.users, schemas.items);
  ASSERT_TRUE(group
                  .import_csv_text(DatasetKind::Items,
                                   "ITEM_ID,PRICE,GENRE,NEW\ni0,1,horror,true\ni1,9,horror,false\n"
                                   "i2,1,drama,false\n")
                  .ok());
  const Bitmap allowed = f.evaluate(group, {});
  EXPECT_EQ(allowed.count(), 1u);
  EXPECT_TRUE(allowed.test(group.item_ids().find("i0")));
  EXPECT_EQ(Filter::compile(f.expression(), FilterSchemas::of(group)).evaluate(group, {}), allowed);
}

TEST(FiltersFilter, SeesNewDataAndItemUpdates) {
  DatasetGroup group = make_group();
  Filter genre = Filter::compile(R"(INCLUDE ItemID WHERE Items.GENRE IN ("western"))", group);
  Filter read =
      Filter::compile(R"(EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("read"))", group);
  EXPECT_EQ(genre.evaluate(group, {}).count(), 0u);  // cached now
  ImportOptions inc;
  inc.mode = ImportMode::Incremental;
  ASSERT_TRUE(
      group
          .import_csv_text(DatasetKind::Items,
                           "ITEM_ID,GENRE,RATING,PREMIUM,CREATION_TIMESTAMP\ni5,western,1,true,5\n"
                           "i99,western|drama,1,false,6\n",
                           inc)
          .ok());
  Bitmap after = genre.evaluate(group, {});
  EXPECT_EQ(after.size(),
            static_cast<std::size_t>(kItems + 2));  // the new item i99 is in the catalog
  EXPECT_EQ(after.count(), 2u);
  EXPECT_TRUE(after.test(group.item_ids().find("i5")));
  // i5 is no longer in its old genre: the inverted index moved it.
  Filter old_genre = Filter::compile(R"(INCLUDE ItemID WHERE Items.GENRE IN ("comedy"))", group);
  EXPECT_FALSE(old_genre.evaluate(group, {}).test(group.item_ids().find("i5")));
  FilterRequest r;
  r.user = group.user_ids().find("u9");
  EXPECT_TRUE(read.evaluate(group, r).test(group.item_ids().find("i42")));
  ASSERT_TRUE(group
                  .import_csv_text(DatasetKind::Interactions,
                                   "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu9,i42,999,read\n", inc)
                  .ok());
  EXPECT_FALSE(read.evaluate(group, r).test(group.item_ids().find("i42")));
}

TEST(FiltersFilter, ConcurrentEvaluationAgrees) {
  const DatasetGroup group = make_group();
  Filter f = Filter::compile(
      R"(INCLUDE ItemID WHERE Items.GENRE IN ("horror") | EXCLUDE ItemID WHERE Items.PRICE > 50)",
      group);
  const Bitmap expected = f.evaluate(group, {});
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        if (!(f.evaluate(group, {}) == expected)) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(FiltersFilter, ParsesPersonalizeWireValues) {
  EXPECT_EQ(parse_filter_value_list(R"("horror","comedy")"),
            (std::vector<std::string>{"horror", "comedy"}));
  EXPECT_EQ(parse_filter_value_list(R"( "a\"b" , "c,d" )"),
            (std::vector<std::string>{"a\"b", "c,d"}));
  EXPECT_EQ(parse_filter_value_list("plain"), (std::vector<std::string>{"plain"}));
  EXPECT_THROW(parse_filter_value_list(R"("open)"), Error);
  EXPECT_THROW(parse_filter_value_list(R"("a" "b")"), Error);
}

}  // namespace
}  // namespace tailor
