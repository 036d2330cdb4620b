# gen_queries.awk - random queries (qid<TAB>query) over a corpus written by
# gen_corpus.awk: 1-4 clauses each; words and 2-3 word phrases taken from
# the documents' texts (so phrases do match), some with '+' or '-'.
# Usage: awk -v seed=7 -v nq=100 -f gen_queries.awk corpus.jsonl > q.tsv
{
  t = $0
  sub(/.*"text":"/, "", t); sub(/"}$/, "", t)
  gsub(/,/, "", t)
  docs[++nd] = t
}
END {
  if (seed == "") seed = 7
  if (nq == "") nq = 100
  srand(seed)
  for (q = 1; q <= nq; q++) {
    nc = 1 + int(rand() * 4); s = ""
    for (c = 1; c <= nc; c++) {
      r = rand(); op = (r < 0.15) ? "+" : (r < 0.3) ? "-" : ""
      n = split(docs[1 + int(rand() * nd)], w, " ")
      i = 1 + int(rand() * n)
      if (rand() < 0.25 && n >= 3) {
        len = 2 + int(rand() * 2); if (i + len - 1 > n) i = n - len + 1
        cl = "\"" w[i]; for (k = 1; k < len; k++) cl = cl " " w[i + k]; cl = cl "\""
      } else cl = w[i]
      s = s (c > 1 ? " " : "") op cl
    }
    printf "q%d\t%s\n", q, s
  }
}
