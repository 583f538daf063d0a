# Included by the top-level CMakeLists.txt when CARECHART_FUZZ is ON, before the libraries are
# added: every library is instrumented for libFuzzer (coverage) and built with ASan and UBSan;
# the targets in fuzz/ then link libFuzzer's main. clang only.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "CARECHART_FUZZ needs clang (libFuzzer): use fuzz/run.sh, or "
                      "-DCMAKE_CXX_COMPILER=clang++-14")
endif()
# UBSan findings stop the run (UBSAN_OPTIONS=halt_on_error=1, set by fuzz/run.sh); they are
# recoverable only so that fuzz/ubsan.supp can silence the ones inside Debian's headers.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fsanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
