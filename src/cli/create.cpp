// SPDX-License-Identifier: MIT
// tailor create: a dataset group from schema files.
#include <iostream>
#include <optional>

#include "cli/commands.hpp"

namespace tailor::cli {
namespace {

struct CreateArgs {
  std::string interactions_schema, users_schema, items_schema;
};

int run_create(const Common& common, const CreateArgs& o) {
  std::optional<Schema> us, is;
  if (!o.users_schema.empty()) us = Schema::load(o.users_schema, DatasetKind::Users);
  if (!o.items_schema.empty()) is = Schema::load(o.items_schema, DatasetKind::Items);
  Store::create(
      common.dir,
      DatasetGroup(Schema::load(o.interactions_schema, DatasetKind::Interactions), us, is));
  if (common.json) {
    std::cout << "{\"created\":true}\n";
  } else {
    std::cout << "created dataset group " << common.dir << "\n";
  }
  return 0;
}

}  // namespace

void add_create(CLI::App& app, Common& common, Commands& commands) {
  auto o = std::make_shared<CreateArgs>();
  CLI::App* cmd = add_command(app, common, "create", "create a dataset group from schema files");
  cmd->add_option("--interactions-schema", o->interactions_schema,
                  "Interactions schema (Avro JSON)")
      ->required();
  cmd->add_option("--users-schema", o->users_schema, "Users schema");
  cmd->add_option("--items-schema", o->items_schema, "Items schema");
  commands.push_back({cmd, [&common, o] { return run_create(common, *o); }});
}

}  // namespace tailor::cli
