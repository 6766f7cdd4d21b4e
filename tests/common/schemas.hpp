// SPDX-License-Identifier: MIT
// Schemas shared by the tests.
#pragma once

#include <string>

namespace tailor::test {

inline const std::string kInteractionsSchema = R"({
  "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"},
    {"name": "EVENT_TYPE", "type": "string"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
    {"name": "DEVICE", "type": ["null", "string"], "categorical": true}
  ],
  "version": "1.0"})";

inline const std::string kUsersSchema = R"({
  "type": "record", "name": "Users", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "AGE", "type": ["null", "int"]},
    {"name": "DEPARTMENT", "type": "string", "categorical": true}
  ],
  "version": "1.0"})";

inline const std::string kItemsSchema = R"({
  "type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
  "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TAGS", "type": ["null", "string"], "categorical": true},
    {"name": "PRICE", "type": ["null", "double"]},
    {"name": "PREMIUM", "type": ["null", "boolean"]},
    {"name": "TITLE", "type": ["null", "string"], "textual": true},
    {"name": "CREATION_TIMESTAMP", "type": ["null", "long"]}
  ],
  "version": "1.0"})";

}  // namespace tailor::test
