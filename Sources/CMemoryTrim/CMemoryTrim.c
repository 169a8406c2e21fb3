// The module's one function is inline in its header; SwiftPM needs a source file for a C target.
#include "CMemoryTrim.h"
