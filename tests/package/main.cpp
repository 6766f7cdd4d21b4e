// SPDX-License-Identifier: MIT
// find_package consumer: imports the sample data through the installed library.
#include <iostream>
#include <tailor/tailor.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer DATA_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  tailor::DatasetGroup group(
      tailor::Schema::load(dir + "/interactions_schema.json", tailor::DatasetKind::Interactions));
  tailor::ImportReport report =
      group.import_csv(tailor::DatasetKind::Interactions, dir + "/interactions.csv");
  std::cout << "tailor " << TAILOR_VERSION_STRING << ": " << report.summary() << "\n";
  return report.ok() && group.interactions().size() > 0 ? 0 : 1;
}
