#ifndef C_LIB_FUZZER_H
#define C_LIB_FUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for a program with its own main (llvm.org/docs/LibFuzzer.html, "Using
/// LLVMFuzzerRunDriver"): parses libFuzzer's flags from argc/argv and fuzzes `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
