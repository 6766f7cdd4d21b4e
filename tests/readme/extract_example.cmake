# SPDX-License-Identifier: MIT
# Writes the README's C++ example (the first ```cpp block under "## Using tailor from C++") into
# OUTPUT as a program: its #include lines on top, the rest as the body of main().
#   cmake -DREADME=README.md -DOUTPUT=readme_example.cpp -P extract_example.cmake
file(READ "${README}" text)
string(FIND "${text}" "## Using tailor from C++" section)
if(section EQUAL -1)
  message(FATAL_ERROR "${README}: no \"## Using tailor from C++\" section")
endif()
string(SUBSTRING "${text}" ${section} -1 text)
string(FIND "${text}" "```cpp\n" begin)
if(begin EQUAL -1)
  message(FATAL_ERROR "${README}: no ```cpp block under \"## Using tailor from C++\"")
endif()
math(EXPR begin "${begin} + 7")
string(SUBSTRING "${text}" ${begin} -1 text)
string(FIND "${text}" "\n```" end)
string(SUBSTRING "${text}" 0 ${end} code)

set(includes "#include <exception>\n#include <iostream>\n")
set(body "")
string(REPLACE ";" "\\;" code "${code}")
string(REPLACE "\n" ";" lines "${code}")
foreach(line IN LISTS lines)
  if(line MATCHES "^#include")
    string(APPEND includes "${line}\n")
  else()
    string(APPEND body "  ${line}\n")
  endif()
endforeach()
file(WRITE "${OUTPUT}.new"
  "// Generated from README.md by tests/readme/extract_example.cmake: edit the README, not this.\n"
  "${includes}\nint main() try {\n${body}  return 0;\n} catch (const std::exception& e) {\n"
  "  std::cerr << \"error: \" << e.what() << \"\\n\";\n  return 1;\n}\n")
# Rewritten only when it changed, so that an edit elsewhere in the README rebuilds nothing.
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.new")
