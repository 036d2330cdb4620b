/*
 * fuzz_manifest.c - libFuzzer target: the MANIFEST reader. Each input
 * replaces the MANIFEST of a small template index (fuzz_util.c,
 * fz_build_template) and is read with ks_manifest_read; a manifest it
 * accepts is then opened as an index and exercised (fz_walk_index:
 * statistics, searches with every algorithm, documents, snippets, the
 * integrity check), so that the segment list, counts and generations it
 * names are validated against the files. Checksums are bypassed in the
 * fuzzing tree (KS_FUZZING, common/file.c). Checks that an accepted
 * manifest keeps what docs/format/manifest.md ("A reader must reject")
 * promises, and that the integrity check never passes an index that
 * opening refuses.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "manifest_int.h"

static char *dir, *path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  dir = fz_tmpdir("manifest");
  fz_build_template(dir, 0, NULL, NULL);
  path = fz_join(dir, "MANIFEST");
  int check_rc;
  if (fz_walk_index(dir, NULL, &check_rc) != KS_OK || check_rc != KS_OK)
    fz_fail("the template index does not walk cleanly");
  fz_remove_prefixed(dir, "LEASE.");
  fz_seed_out(path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_write(path, data, size);
  ks_manifest m;
  ks_err e;
  if (ks_manifest_read(dir, &m, &e) != KS_OK) return 0;
  for (uint32_t i = 0; i < m.nsegs; i++) {
    const ks_manifest_seg *s = &m.segs[i];
    if (s->segno >= m.next_segno) fz_fail("segment %u >= next_segno %u", s->segno, m.next_segno);
    if ((s->del_gen == 0) != (s->ndeleted == 0))
      fz_fail("segment %u: del_gen %llu with %u deleted", s->segno,
              (unsigned long long)s->del_gen, s->ndeleted);
    if (s->ndeleted > s->ndocs) fz_fail("segment %u: %u of %u deleted", s->segno,
                                        s->ndeleted, s->ndocs);
    if (s->ndocs == 0 || s->del_gen > m.generation)
      fz_fail("segment %u: %u documents, del_gen %llu (generation %llu)", s->segno,
              s->ndocs, (unsigned long long)s->del_gen, (unsigned long long)m.generation);
    for (uint32_t j = 0; j < i; j++)
      if (m.segs[j].segno == s->segno) fz_fail("segment %u listed twice", s->segno);
  }
  if (m.generation == 0 || m.index_id == 0 || (m.tok.stems != 0 && m.tok.stems != 1) ||
      (m.tok.bigrams != 0 && m.tok.bigrams != 1) || m.tok.min_stem < 1 || m.tok.min_stem > 64)
    fz_fail("invalid header field accepted");
  ks_manifest_free(&m);
  /* `kosearch check` must refuse whatever opening refuses */
  int open_rc, check_rc;
  (void)fz_walk_index(dir, &open_rc, &check_rc);
  if (check_rc == KS_OK && open_rc != KS_OK)
    fz_fail("ks_index_check accepts an index that ks_index_open refuses (%d)", open_rc);
  /* each generation an input names leaves a lease file behind */
  fz_remove_prefixed(dir, "LEASE.");
  return 0;
}
