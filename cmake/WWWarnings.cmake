# Compiler warnings and sanitizer flags shared by every target.
add_compile_options(-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes
                    -Wmissing-prototypes -Wno-unused-parameter
                    -Wno-format-truncation -fno-strict-aliasing -D_GNU_SOURCE)
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
