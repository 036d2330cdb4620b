# gen_corpus.awk - a small random Korean corpus in JSON Lines for the Xapian
# tests (deterministic for a given seed).
# Usage: awk -v seed=7 -v ndocs=200 -f gen_corpus.awk > corpus.jsonl
# Words are drawn from a Zipf-like distribution over a fixed vocabulary of
# nouns (some compounds, so bigrams matter), with particles attached at
# random (so stems matter), a few Latin words and numbers; every 25th
# document repeats an earlier id (replacement).
BEGIN {
  if (seed == "") seed = 7
  if (ndocs == "") ndocs = 200
  srand(seed)
  nv = split("대통령 보스턴 클러스터 첨단산업 산업 바이오 연구 대학 정부 경제 서울 한국 미국 기술 혁신 생태계 전략 회의 기업 시장 경쟁 협력 인재 투자 과학 역량 국제 수출 하하하 산학공동연구 글로벌 마곡 창업 허브 MIT 2023 K-바이오 AI", V, " ")
  np = split("은 는 이 가 을 를 의 에 에서 으로 로 과 와 도 만", P, " ")
  for (d = 1; d <= ndocs; d++) {
    id = (d % 25 == 0) ? sprintf("doc-%03d", int(rand() * (d - 1)) + 1) : sprintf("doc-%03d", d)
    title = words(1 + int(rand() * 4))
    text = words(3 + int(rand() * 60))
    printf "{\"id\":\"%s\",\"title\":\"%s\",\"text\":\"%s\"}\n", id, title, text
  }
}
function word(   i, w) {
  i = int(nv * rand() ^ 2) + 1
  w = V[i]
  if (rand() < 0.35) w = w P[int(rand() * np) + 1]
  return w
}
function words(n,   s, k) {
  s = word()
  for (k = 1; k < n; k++) s = s ((rand() < 0.1) ? ", " : " ") word()
  return s
}
