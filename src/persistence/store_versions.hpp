// SPDX-License-Identifier: MIT
// Solution versions (private to src/persistence/): the names the store accepts, and the rows a
// deletion takes out of every stored version.
#pragma once

#include <string>
#include <vector>

#include "tailor/types.hpp"

namespace tailor::detail {

/// Whether `name` may name a solution, filter or campaign: 1-63 characters of [A-Za-z0-9_-],
/// starting with a letter or digit (a solution's name is a file name in the store).
bool valid_solution_name(const std::string& name);

/// Throws, naming the file, when forget_in_versions() would fail on a stored version: its recipe
/// is not registered in this process, or its model cannot forget (Model::without).
void check_versions_forgettable(const std::string& dir);
/// Rewrites every stored solution version of the store in `dir` without the given users and items,
/// after deleting what interrupted saves left behind (which may hold them too).
void forget_in_versions(const std::string& dir, const std::vector<Index>& users,
                        const std::vector<Index>& items);

}  // namespace tailor::detail
