// SPDX-License-Identifier: MIT
// The `tailor` command line: every step of the journey on a dataset-group directory (a Store).
// Each command lives in a file of its own (commands.hpp); this file declares them, runs the one
// parsed and catches everything: errors go to stderr with a non-zero exit status.
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/mpi.hpp"
#include "tailor/kernels.hpp"
#include "tailor/version.hpp"

namespace {

// Exit statuses by error kind.
int exit_code(tailor::ErrorCode code) {
  switch (code) {
    case tailor::ErrorCode::InvalidArgument:
      return 2;
    case tailor::ErrorCode::NotFound:
      return 3;
    case tailor::ErrorCode::ParseError:
    case tailor::ErrorCode::SchemaMismatch:
      return 4;
    case tailor::ErrorCode::Io:
      return 5;
    case tailor::ErrorCode::Busy:
      return 6;
    default:
      return 1;
  }
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace tailor::cli;
  start_mpi_if_launched(argc, argv);  // under mpirun: train and batch run distributed
  CLI::App app{
      "tailor: an embedded recommender engine. Each command works on a dataset-group directory."};
  app.require_subcommand(1);
  // The kernel target is picked at run time from the CPU (TAILOR_CPU_TARGET forces a lower one).
  app.set_version_flag("--version", std::string("tailor ") + TAILOR_VERSION_STRING +
                                        " (kernels: " + std::string(tailor::kernel_target()) + ")");
  Common common;
  Commands commands;
  // In the order of --help.
  add_create(app, common, commands);
  add_import(app, common, commands);
  add_put(app, common, commands);
  add_train(app, common, commands);
  add_evaluate(app, common, commands);
  add_serving(app, common, commands);
  add_batch(app, common, commands);
  add_info(app, common, commands);
  add_inspect(app, common, commands);
  add_report(app, common, commands);
  add_activate(app, common, commands);
  add_repair(app, common, commands);
  add_delete(app, common, commands);
  add_serve(app, common, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a "parse error" with status 0 (its text goes to stdout); every real one is an
    // invalid argument: its message goes to stderr and the status is 2, like any other.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "tailor: " << e.what() << " (see --help)\n";
    return 2;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return 0;
} catch (const tailor::Error& e) {
  std::cerr << "tailor: " << e.what() << "\n";
  return tailor::cli::mpi_exit(exit_code(e.code()));
} catch (const std::exception& e) {
  std::cerr << "tailor: " << e.what() << "\n";
  return tailor::cli::mpi_exit(1);
}
