/*
 * fuzz_dictionary.c - libFuzzer target: the .tid reader. Each input replaces the
 * .tid file of a small template segment (fuzz_util.c, fz_build_template)
 * and the whole segment is walked: opened, iterated, decoded and looked
 * up through every reader API (fz_walk_segment), then integrity-checked.
 * Checksums are bypassed in the fuzzing tree (KS_FUZZING, common/file.c),
 * so the mutations reach the structural validation.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_segfile_init(".tid");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_segfile_run(data, size);
  return 0;
}
