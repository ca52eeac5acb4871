#ifndef EVTOP_FUZZER_DRIVER_H
#define EVTOP_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (LLVMFuzzerRunDriver, from the runtime -sanitize=fuzzer links) on `callback`
/// with the process's arguments; returns its exit status.
int evtop_fuzz_run(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));

#endif
