/* libFuzzer glue: CMake (-DGTP_FUZZ=ON) compiles this once per target with
 * -DGTP_FUZZ_ENTRY=gtp_fuzz_<target>. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return GTP_FUZZ_ENTRY(data, size);
}
