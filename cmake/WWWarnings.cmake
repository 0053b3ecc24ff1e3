# Compiler warnings and sanitizer flags shared by every target.
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes
                    -Wmissing-prototypes -Wno-unused-parameter
                    -fno-strict-aliasing -D_GNU_SOURCE)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-format-truncation)
else()
  add_compile_options(-Wno-format-nonliteral)
endif()
if(WW_WERROR)
  add_compile_options(-Werror)
endif()
if(WW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

# Banned functions (strcpy, sprintf, atoi, ...) are checked by
# tests/banned_functions.sh rather than by macros, which break system headers.

set(WW_FUZZ_SECONDS 15 CACHE STRING "Seconds each fuzzer runs under ctest")
if(WW_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WW_FUZZ needs clang: CC=clang cmake -DWW_FUZZ=ON ...")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
