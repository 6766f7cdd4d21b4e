// SPDX-License-Identifier: MIT
// The commands of the `tailor` command line. Each add_* declares its subcommands on `app`, their
// common options bound to `common`, and appends them with what runs them to `commands`.
#pragma once

#include "cli/common.hpp"

namespace tailor::cli {

void add_create(CLI::App& app, Common& common, Commands& commands);
void add_import(CLI::App& app, Common& common, Commands& commands);
/// put-events, put-users and put-items.
void add_put(CLI::App& app, Common& common, Commands& commands);
void add_train(CLI::App& app, Common& common, Commands& commands);
void add_evaluate(CLI::App& app, Common& common, Commands& commands);
/// recommend and rank.
void add_serving(CLI::App& app, Common& common, Commands& commands);
void add_batch(CLI::App& app, Common& common, Commands& commands);
void add_info(CLI::App& app, Common& common, Commands& commands);
void add_activate(CLI::App& app, Common& common, Commands& commands);
void add_repair(CLI::App& app, Common& common, Commands& commands);
/// delete-users and delete-items.
void add_delete(CLI::App& app, Common& common, Commands& commands);
/// serve: the group over HTTP.
void add_serve(CLI::App& app, Common& common, Commands& commands);
/// inspect: a user's history beside their recommendations.
void add_inspect(CLI::App& app, Common& common, Commands& commands);
/// report: an HTML evaluation report of a solution.
void add_report(CLI::App& app, Common& common, Commands& commands);

}  // namespace tailor::cli
