#ifndef ABL_FUZZ_DRIVER_H
#define ABL_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer on the target's `LLVMFuzzerTestOneInput` (defined in Swift with @_cdecl) with
/// the process's arguments. SwiftPM gives every executable its own `main`, so libFuzzer's is not
/// used: each target's main calls this instead.
int abl_fuzz_main(int argc, char **argv);
#endif
