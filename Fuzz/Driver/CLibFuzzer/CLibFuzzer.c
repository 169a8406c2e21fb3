// The declaration in include/CLibFuzzer.h is libFuzzer's; this target compiles nothing of its own.
#include "CLibFuzzer.h"
