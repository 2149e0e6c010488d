# Sanitizer options: -DREFIR_SANITIZE_ADDRESS=ON and/or -DREFIR_SANITIZE_UNDEFINED=ON.
set(_refir_sanitizers "")
if(REFIR_SANITIZE_ADDRESS)
  list(APPEND _refir_sanitizers address)
endif()
if(REFIR_SANITIZE_UNDEFINED)
  list(APPEND _refir_sanitizers undefined)
endif()
if(_refir_sanitizers)
  list(JOIN _refir_sanitizers "," _refir_sanitizer_list)
  add_compile_options(-fsanitize=${_refir_sanitizer_list} -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${_refir_sanitizer_list})
endif()

# Fuzzing: coverage instrumentation plus ASan and UBSan for every library; the
# fuzz targets add -fsanitize=fuzzer (libFuzzer's main) when linking.
if(REFIR_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "REFIR_FUZZ needs clang: CC=clang CXX=clang++ cmake -DREFIR_FUZZ=ON ...")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
