# xap_compare.awk - compare two batch runs written by
#   kosearch search ... --queries Q.tsv --json --run FILE
# (one {"qid","rank","id","score"} object per line): the first file is the
# reference (native, --ranking bm25-xapian), the second the Xapian backend.
# Usage: awk -v tol=1e-9 -f xap_compare.awk A.jsonl B.jsonl
# A query is "identical" when both runs list the same ids in the same order
# with scores equal to `tol` relative; "tied" when they differ only in the
# order of hits whose scores are equal (to tol); anything else is a
# mismatch, printed. Exit status 0 iff there is no mismatch.
function field(line, name,    re, s) {
  re = "\"" name "\":"
  s = substr(line, index(line, re) + length(re))
  if (substr(s, 1, 1) == "\"") { s = substr(s, 2); return substr(s, 1, index(s, "\"") - 1) }
  match(s, /^[-+0-9.eE]+/)
  return substr(s, 1, RLENGTH)
}
function close_enough(x, y,    d, m) {
  d = x - y; if (d < 0) d = -d
  m = x < 0 ? -x : x; if ((y < 0 ? -y : y) > m) m = (y < 0 ? -y : y)
  return d <= tol * m || d == 0
}
BEGIN { if (tol == "") tol = 1e-9 }
{
  q = field($0, "qid"); r = field($0, "rank") + 0; id = field($0, "id"); s = field($0, "score") + 0
  if (FILENAME == ARGV[1]) { A[q, r] = id; AS[q, r] = s; AN[q] = (r > AN[q] ? r : AN[q]); ASC[q, id] = s; qs[q] = 1 }
  else { B[q, r] = id; BS[q, r] = s; BN[q] = (r > BN[q] ? r : BN[q]); BSC[q, id] = s; qs[q] = 1 }
}
END {
  nq = 0; same = 0; tied = 0; bad = 0
  for (q in qs) {
    nq++
    if (AN[q] != BN[q]) { bad++; printf "MISMATCH %s: %d hits vs %d hits\n", q, AN[q], BN[q]; continue }
    ok = 1; exact = 1
    for (r = 1; r <= AN[q]; r++) {
      if (!close_enough(AS[q, r], BS[q, r])) { ok = 0; printf "MISMATCH %s rank %d: %s %.17g vs %s %.17g\n", q, r, A[q, r], AS[q, r], B[q, r], BS[q, r]; break }
      if (A[q, r] != B[q, r]) {
        exact = 0
        # a tie: the other run must give this id the same score if it lists it
        if (((q, A[q, r]) in BSC) && !close_enough(BSC[q, A[q, r]], AS[q, r])) { ok = 0; printf "MISMATCH %s: id %s scored %.17g vs %.17g\n", q, A[q, r], AS[q, r], BSC[q, A[q, r]]; break }
      }
    }
    if (!ok) bad++; else if (exact) same++; else tied++
  }
  printf "queries: %d, identical: %d, differing only among equal scores: %d, mismatched: %d\n", nq, same, tied, bad
  exit bad ? 1 : 0
}
