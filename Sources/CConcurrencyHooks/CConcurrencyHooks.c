// The target's interface is its header; SwiftPM needs one source file to build it.
#include "CConcurrencyHooks.h"
