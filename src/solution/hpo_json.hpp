// SPDX-License-Identifier: MIT
// What the hyperparameter search's config and record files share with the search: JSON text of
// values and of a recipe's hyperparameters with some replaced.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/json.hpp"

namespace tailor::hpo_detail {

/// Parses JSON; a syntax error is InvalidArgument (a config is an argument).
detail::Json parse(std::string_view text, const char* what);
/// A categorical value as the JSON text it stands for: numbers and true/false as themselves,
/// anything else as a string.
std::string value_text(const std::string& value);
/// A number to 6 significant digits.
std::string format_real(double v);
/// `base` (a flat JSON object) with `values` (name, JSON text) put in place or added.
std::string overlay(const std::string& base,
                    const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace tailor::hpo_detail
