/*
 * korean_data.c - the data tables of the Korean analyzer (see korean_int.h
 * for their types and docs/analyzer.md for the rules that use them).
 *
 * Both tables are hand-maintained, kept sorted, and checked by
 * ks_ko_check_tables() in tests/unit/test_tok_analyzer.c. Any change to
 * either table changes analyzer output: bump KS_TOK_VERSION in kosearch/tok.h.
 *
 * ---- ks_ko_suffixes: particles and endings -----------------------------
 * Sorted by the REVERSED string so that entries sharing a last syllable are
 * adjacent (korean.c indexes those runs by last syllable).
 *
 * What is in it, and why (precision first: every wrong stem is a wrong
 * match, while a missing stem only costs recall, and the bigram field
 * still recovers part of that recall):
 *   - case particles (은/는 이/가 을/를 의 에 에서 에게 께서 한테 (으)로
 *     와/과) and the common auxiliary particles (도 만 까지 부터 보다 처럼
 *     마다 조차 마저 밖에 뿐 만큼 (이)나), plus the stacked forms that are
 *     frequent in news and encyclopedic text (에서는, 으로부터, 까지의 ...).
 *     Stacked forms must be listed: stripping is one longest match, not
 *     repeated.
 *   - the copula 이다 and its common forms (이었다/였다, 이며, 이고, 이자,
 *     이라고/라고, 이라는/라는 ...). 이다/이며/이고/이자/이었다 are ANY
 *     because formal writing keeps 이 after a vowel ("수도이며").
 *   - a few endings of 하다/되다 verbs (하는 했다 하였다 한다 하고 하여 하며
 *     된 된다 되었다 되는 ...): the stem of "개최했다" is the noun 개최.
 *     하/했/되/됐/된 have few or no Sino-Korean readings, so few nouns end
 *     in them. Their min_stem is 2: after one syllable they form verbs
 *     whose root is not a noun of its own (위하여, 대한다, 말했다, 속하는),
 *     and the lone syllable would match unrelated words (위, 대, 말, 속).
 *     한 (the adnominal past of 하다 verbs: 전공한, 개최한) has min_stem 2:
 *     after one syllable it is mostly a noun of its own (韓/限/漢: 북한,
 *     제한, 권한); 최소한/무제한 are exceptions. Likewise 받- (선고받은,
 *     인정받아) and 시키- (발전시킨) after a noun of two syllables or more.
 *     Deliberately NOT listed: 할 (역할, 분할), 해 (피해, 이해),
 *     인 (개인, 원인), 적 (경제적), the plural 들 (아들), bare 다 (바다,
 *     the dictionary form of every verb), 께 (함께), 대로 (세종대로),
 *     이든/든, 랑, 야.
 *   - question forms of the copula and of 하다/되다 verbs (인가, 인가요,
 *     이었는가/였는가, 이었나/였나, 일까, 이라; 하는가 했는가 되었는가
 *     됐나 하는지 ...): questions end in them ("사장이었는가", "무엇이라
 *     부르는가", "사퇴했는가"), encyclopedic text states the same facts
 *     with the forms above, so without them a question's key noun is
 *     never found as a word. "X인가" cannot be X인 + 가 (가 follows only
 *     an open syllable, 인 has a final consonant), so 인가 is safe after
 *     any noun. Not listed: 인지 (認知), bare 는가/나 after verbs
 *     (태어났는가 -> the non-word 태어났), 하나 ("one").
 * Batchim conditions follow the standard allomorphs: 은/이/을/과/(이)나/
 * 이라고 after a final consonant, 는/가/를/와/나/라고/였다 after a vowel;
 * 로 after a vowel or ㄹ, 으로 after any other final consonant.
 * min_stem is 2 for 나 and 만 (and 만의/만을/만은/만으로): single syllables
 * + 나/만 are mostly nouns (누나, 가나, 대만, 비만, 미만, 불만, 항만, 천만)
 * or foreign names (니나, 루나), not a particle use.
 * BLOCK entries (지만, 으나, 거나) are verb endings that end in a particle
 * look-alike: when one is the longest match nothing is stripped, so
 * 있지만/했으나/하거나 do not become the junk stems 있지/했으/하거.
 * ORPHAN-only entries (고, 며, 면서, 란) are never stripped (too many words
 * end in them) but are quotative endings that appear alone after a
 * closing quote: 있다”고 했다, ...”며.
 *
 * ---- ks_ko_exceptions: words that merely end like a particle -----------
 * Sorted by code unit. A token equal to one of these words, or to one of
 * them plus a listed particle, keeps the whole word as its stem
 * (회의 -> no stem; 회의에서 -> 회의, not 회).
 * How the list was chosen: candidates came from the 226,678-article Korean
 * Wikipedia sample: tokens T = S + particle whose own particle forms
 * (T+이/가, T+을/를, T+의, T+에 ...) are frequent, i.e. T is itself a noun,
 * and whose stripped form S is a different word in its own right (one
 * syllable, or a frequent word), so the wrong stem would match unrelated
 * documents. Every candidate was then reviewed by hand; dropped were
 * tokens that are more often S + particle (철학과 "philosophy and", 물의
 * "water's", 주제가 "the topic (subject)"), and long names whose stripped
 * form matches nothing (아르헨티나, 경상남도). Added by hand: the
 * adnominal forms of verbs/adjectives whose stripped form is a different
 * common noun (적은 -> 적 "enemy", 낮은 -> 낮 "daytime", 가는 -> 가,
 * 사는 -> 사), the 이다-verbs (보이다, 줄이고, 보였다), conjunctions
 * (그러나, 하지만, 게다가, 또는), adverbs and loanwords found by reviewing
 * the most frequent one- and two-syllable stems the analyzer produced on
 * the sample (주로 -> 주, 서로 -> 서, 바로 -> 바, 프로 -> 프, 제대로 ->
 * 제대), and frequent compounds whose head is an exception word
 * (정상회의, 국무회의, 수출전략회의 from the seed corpus). Exceptions are
 * whole words: other compounds ending in 회의 still get the stem X회,
 * because X회 + 의 (사회의, 위원회의) is far more common.
 */
#include "korean_int.h"

#define SUFFIX(lit, cond, flags, min_stem)                                 \
  {lit, (uint8_t)(sizeof(lit) / sizeof(char16_t) - 1), KS_KO_AFTER_##cond, \
   (uint8_t)(flags), (uint8_t)(min_stem)}
#define STRIP KS_KO_STRIP
#define ORPHAN KS_KO_ORPHAN
#define BLOCK KS_KO_BLOCK
#define WORD(lit) {lit, (uint8_t)(sizeof(lit) / sizeof(char16_t) - 1)}

const ks_ko_suffix ks_ko_suffixes[] = {
    SUFFIX(u"가", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"됐는가", ANY, STRIP, 2),
    SUFFIX(u"되는가", ANY, STRIP, 2),
    SUFFIX(u"되었는가", ANY, STRIP, 2),
    SUFFIX(u"이었는가", ANY, STRIP, 1),
    SUFFIX(u"였는가", OPEN, STRIP, 1),
    SUFFIX(u"하였는가", ANY, STRIP, 2),
    SUFFIX(u"하는가", ANY, STRIP, 2),
    SUFFIX(u"했는가", ANY, STRIP, 2),
    SUFFIX(u"인가", ANY, STRIP, 1),
    SUFFIX(u"에게", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"고", ANY, ORPHAN, 1),
    SUFFIX(u"됐고", ANY, STRIP, 2),
    SUFFIX(u"되고", ANY, STRIP, 2),
    SUFFIX(u"라고", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"이라고", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"받고", ANY, STRIP, 2),
    SUFFIX(u"되었고", ANY, STRIP, 2),
    SUFFIX(u"이었고", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"였고", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"하였고", ANY, STRIP, 2),
    SUFFIX(u"이고", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"하고", ANY, STRIP, 2),
    SUFFIX(u"했고", ANY, STRIP, 2),
    SUFFIX(u"과", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"일까", ANY, STRIP, 1),
    SUFFIX(u"나", OPEN, STRIP | ORPHAN, 2),
    SUFFIX(u"거나", ANY, BLOCK, 1),
    SUFFIX(u"됐나", ANY, STRIP, 2),
    SUFFIX(u"되었나", ANY, STRIP, 2),
    SUFFIX(u"이었나", ANY, STRIP, 1),
    SUFFIX(u"였나", OPEN, STRIP, 1),
    SUFFIX(u"하였나", ANY, STRIP, 2),
    SUFFIX(u"으나", ANY, BLOCK, 1),
    SUFFIX(u"이나", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"했나", ANY, STRIP, 2),
    SUFFIX(u"는", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"에게는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"과는", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"보다는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"되는", ANY, STRIP, 2),
    SUFFIX(u"라는", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"이라는", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"로는", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로는", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"받는", ANY, STRIP, 2),
    SUFFIX(u"께서는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에서는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"와는", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"까지는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"시키는", ANY, STRIP, 2),
    SUFFIX(u"부터는", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"하는", ANY, STRIP, 2),
    SUFFIX(u"됐다", ANY, STRIP, 2),
    SUFFIX(u"된다", ANY, STRIP, 2),
    SUFFIX(u"마다", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"보다", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"받았다", ANY, STRIP, 2),
    SUFFIX(u"되었다", ANY, STRIP, 2),
    SUFFIX(u"이었다", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"였다", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"하였다", ANY, STRIP, 2),
    SUFFIX(u"이다", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"시켰다", ANY, STRIP, 2),
    SUFFIX(u"한다", ANY, STRIP, 2),
    SUFFIX(u"했다", ANY, STRIP, 2),
    SUFFIX(u"됐던", ANY, STRIP, 2),
    SUFFIX(u"받았던", ANY, STRIP, 2),
    SUFFIX(u"되었던", ANY, STRIP, 2),
    SUFFIX(u"이었던", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"였던", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"하던", ANY, STRIP, 2),
    SUFFIX(u"했던", ANY, STRIP, 2),
    SUFFIX(u"도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에게도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"과도", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"보다도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"라도", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"이라도", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"로도", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로도", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"께서도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에서도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"와도", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"까지도", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"된", ANY, STRIP, 2),
    SUFFIX(u"이라", FINAL, STRIP, 1),
    SUFFIX(u"란", OPEN, ORPHAN, 1),
    SUFFIX(u"이란", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"처럼", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"로", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"만으로", ANY, STRIP | ORPHAN, 2),
    SUFFIX(u"를", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"만", ANY, STRIP | ORPHAN, 2),
    SUFFIX(u"로만", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로만", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"에서만", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에만", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"지만", ANY, BLOCK, 1),
    SUFFIX(u"며", OPEN, ORPHAN, 1),
    SUFFIX(u"되며", ANY, STRIP, 2),
    SUFFIX(u"라며", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"이라며", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"됐으며", ANY, STRIP, 2),
    SUFFIX(u"되었으며", ANY, STRIP, 2),
    SUFFIX(u"이었으며", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"였으며", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"하였으며", ANY, STRIP, 2),
    SUFFIX(u"했으며", ANY, STRIP, 2),
    SUFFIX(u"이며", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"하며", ANY, STRIP, 2),
    SUFFIX(u"되면", ANY, STRIP, 2),
    SUFFIX(u"하면", ANY, STRIP, 2),
    SUFFIX(u"뿐", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에게서", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"께서", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"로서", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로서", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"면서", ANY, ORPHAN, 1),
    SUFFIX(u"하면서", ANY, STRIP, 2),
    SUFFIX(u"에서", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"한테서", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에선", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"로써", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로써", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"받아", ANY, STRIP, 2),
    SUFFIX(u"해야", ANY, STRIP, 2),
    SUFFIX(u"되어", ANY, STRIP, 2),
    SUFFIX(u"에", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"밖에", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"하여", ANY, STRIP, 2),
    SUFFIX(u"와", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"인가요", ANY, STRIP, 1),
    SUFFIX(u"은", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"만은", ANY, STRIP | ORPHAN, 2),
    SUFFIX(u"받은", ANY, STRIP, 2),
    SUFFIX(u"을", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"만을", ANY, STRIP | ORPHAN, 2),
    SUFFIX(u"받을", ANY, STRIP, 2),
    SUFFIX(u"의", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"과의", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"로의", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로의", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"만의", ANY, STRIP | ORPHAN, 2),
    SUFFIX(u"에서의", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"에의", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"와의", OPEN, STRIP | ORPHAN, 1),
    SUFFIX(u"까지의", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"이", FINAL, STRIP | ORPHAN, 1),
    SUFFIX(u"이자", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"마저", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"까지", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"되는지", ANY, STRIP, 2),
    SUFFIX(u"되었는지", ANY, STRIP, 2),
    SUFFIX(u"하는지", ANY, STRIP, 2),
    SUFFIX(u"했는지", ANY, STRIP, 2),
    SUFFIX(u"조차", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"시켜", ANY, STRIP, 2),
    SUFFIX(u"만큼", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"시킨", ANY, STRIP, 2),
    SUFFIX(u"부터", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"로부터", OPEN_L, STRIP | ORPHAN, 1),
    SUFFIX(u"으로부터", FINAL_NL, STRIP | ORPHAN, 1),
    SUFFIX(u"에서부터", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"한테", ANY, STRIP | ORPHAN, 1),
    SUFFIX(u"한", ANY, STRIP, 2),
};

const size_t ks_ko_nsuffixes = sizeof ks_ko_suffixes / sizeof ks_ko_suffixes[0];

const ks_ko_word ks_ko_exceptions[] = {
    WORD(u"가가"), WORD(u"가는"), WORD(u"가로"), WORD(u"가속도"),
    WORD(u"가지는"), WORD(u"각도"), WORD(u"각료회의"), WORD(u"간단한"),
    WORD(u"간도"), WORD(u"강도"), WORD(u"강의"), WORD(u"강화도"),
    WORD(u"거의"), WORD(u"건의"), WORD(u"검은"), WORD(u"게다가"),
    WORD(u"결과"), WORD(u"결의"), WORD(u"경과"), WORD(u"경기도"),
    WORD(u"경도"), WORD(u"경사로"), WORD(u"경의"), WORD(u"고가"),
    WORD(u"고도"), WORD(u"고로"), WORD(u"고속도로"), WORD(u"고양이"),
    WORD(u"고위도"), WORD(u"고의"), WORD(u"공산주의"), WORD(u"과로"),
    WORD(u"광도"), WORD(u"교도"), WORD(u"교의"), WORD(u"교차로"),
    WORD(u"구덩이"), WORD(u"구도"), WORD(u"국도"), WORD(u"국무회의"),
    WORD(u"국민회의"), WORD(u"국제회의"), WORD(u"군도"), WORD(u"군법회의"),
    WORD(u"굳은"), WORD(u"궤도"), WORD(u"그대로"), WORD(u"그러나"),
    WORD(u"그러므로"), WORD(u"그리스도"), WORD(u"기도"), WORD(u"기와"),
    WORD(u"길이"), WORD(u"김정은"), WORD(u"깊이"), WORD(u"끄는"),
    WORD(u"끓이다"), WORD(u"나가"), WORD(u"남은"), WORD(u"낮은"),
    WORD(u"내는"), WORD(u"너무나"), WORD(u"넓이"), WORD(u"년도"),
    WORD(u"녹이다"), WORD(u"논의"), WORD(u"놀이"), WORD(u"농도"),
    WORD(u"높이"), WORD(u"높이다"), WORD(u"놓이다"), WORD(u"다가"),
    WORD(u"담은"), WORD(u"대가"), WORD(u"대도"), WORD(u"대로"),
    WORD(u"대륙회의"), WORD(u"대체로"), WORD(u"도가"), WORD(u"도도"),
    WORD(u"도로"), WORD(u"독도"), WORD(u"돌멩이"), WORD(u"동의"),
    WORD(u"두는"), WORD(u"들이다"), WORD(u"따로"), WORD(u"떡볶이"),
    WORD(u"또는"), WORD(u"뛰는"), WORD(u"뜨는"), WORD(u"레이다"),
    WORD(u"리가"), WORD(u"먹이"), WORD(u"먹이다"), WORD(u"모였다"),
    WORD(u"모의"), WORD(u"모이다"), WORD(u"모퉁이"), WORD(u"무도"),
    WORD(u"무인도"), WORD(u"무제한"), WORD(u"무한"), WORD(u"묵은"),
    WORD(u"문과"), WORD(u"미로"), WORD(u"민의"), WORD(u"민족주의"),
    WORD(u"민주주의"), WORD(u"밀도"), WORD(u"바로"), WORD(u"반도"),
    WORD(u"발의"), WORD(u"벌이"), WORD(u"벌이다"), WORD(u"변이"),
    WORD(u"별도"), WORD(u"별로"), WORD(u"병과"), WORD(u"보는"),
    WORD(u"보도"), WORD(u"보였다"), WORD(u"보이고"), WORD(u"보이다"),
    WORD(u"보이며"), WORD(u"보이자"), WORD(u"복도"), WORD(u"본회의"),
    WORD(u"부도"), WORD(u"분과"), WORD(u"붙이다"), WORD(u"빈도"),
    WORD(u"사가"), WORD(u"사는"), WORD(u"사도"), WORD(u"사이다"),
    WORD(u"사회주의"), WORD(u"상수도"), WORD(u"새로"), WORD(u"생도"),
    WORD(u"샤를"), WORD(u"서는"), WORD(u"서로"), WORD(u"선도"),
    WORD(u"성과"), WORD(u"성도"), WORD(u"세는"), WORD(u"세로"),
    WORD(u"속도"), WORD(u"속이다"), WORD(u"솔로"), WORD(u"송도"),
    WORD(u"쇼와"), WORD(u"수도"), WORD(u"수로"), WORD(u"수출전략회의"),
    WORD(u"숙의"), WORD(u"순도"), WORD(u"숨은"), WORD(u"쉬는"),
    WORD(u"스스로"), WORD(u"습도"), WORD(u"시가"), WORD(u"시도"),
    WORD(u"식도"), WORD(u"신도"), WORD(u"신뢰도"), WORD(u"심도"),
    WORD(u"심의"), WORD(u"십자가"), WORD(u"쌍둥이"), WORD(u"쌓이다"),
    WORD(u"쓰였다"), WORD(u"쓰이다"), WORD(u"아를"), WORD(u"악의"),
    WORD(u"안도"), WORD(u"안은"), WORD(u"애도"), WORD(u"야마다"),
    WORD(u"양도"), WORD(u"어린이"), WORD(u"엉덩이"), WORD(u"여가"),
    WORD(u"연도"), WORD(u"연석회의"), WORD(u"열도"), WORD(u"영도"),
    WORD(u"예의"), WORD(u"오는"), WORD(u"온도"), WORD(u"완도"),
    WORD(u"완성도"), WORD(u"왕도"), WORD(u"외가"), WORD(u"외도"),
    WORD(u"요가"), WORD(u"요도"), WORD(u"용도"), WORD(u"우도"),
    WORD(u"원숭이"), WORD(u"원자로"), WORD(u"위도"), WORD(u"위험도"),
    WORD(u"유가"), WORD(u"유도"), WORD(u"유로"), WORD(u"유한"),
    WORD(u"의도"), WORD(u"의의"), WORD(u"이승만"), WORD(u"인과"),
    WORD(u"인도"), WORD(u"인지도"), WORD(u"일어나"), WORD(u"임의"),
    WORD(u"입은"), WORD(u"자는"), WORD(u"자본주의"), WORD(u"자유도"),
    WORD(u"자유주의"), WORD(u"저가"), WORD(u"적도"), WORD(u"적은"),
    WORD(u"전년도"), WORD(u"전도"), WORD(u"전략회의"), WORD(u"전문의"),
    WORD(u"전이"), WORD(u"전체회의"), WORD(u"절도"), WORD(u"젊은이"),
    WORD(u"정도"), WORD(u"정상회의"), WORD(u"정의"), WORD(u"제국주의"),
    WORD(u"제대로"), WORD(u"제도"), WORD(u"제로"), WORD(u"제의"),
    WORD(u"조도"), WORD(u"종이"), WORD(u"주가"), WORD(u"주교회의"),
    WORD(u"주는"), WORD(u"주도"), WORD(u"주로"), WORD(u"주의"),
    WORD(u"죽은"), WORD(u"죽이다"), WORD(u"줄이고"), WORD(u"줄이다"),
    WORD(u"줄이며"), WORD(u"중도"), WORD(u"지는"), WORD(u"지도"),
    WORD(u"지명도"), WORD(u"지지도"), WORD(u"진도"), WORD(u"진의"),
    WORD(u"질의"), WORD(u"차이나"), WORD(u"참의"), WORD(u"채도"),
    WORD(u"처가"), WORD(u"척도"), WORD(u"천도"), WORD(u"철도"),
    WORD(u"철로"), WORD(u"첼로"), WORD(u"최고인민회의"), WORD(u"최대한"),
    WORD(u"최소한"), WORD(u"추가"), WORD(u"측도"), WORD(u"치는"),
    WORD(u"카를"), WORD(u"카이로"), WORD(u"크는"), WORD(u"타는"),
    WORD(u"타도"), WORD(u"태도"), WORD(u"토로"), WORD(u"토의"),
    WORD(u"통과"), WORD(u"파는"), WORD(u"파도"), WORD(u"판도"),
    WORD(u"편의"), WORD(u"포도"), WORD(u"포로"), WORD(u"풀이"),
    WORD(u"프로"), WORD(u"피는"), WORD(u"피로"), WORD(u"하지만"),
    WORD(u"학과"), WORD(u"학년도"), WORD(u"한도"), WORD(u"함의"),
    WORD(u"합의"), WORD(u"항의"), WORD(u"해도"), WORD(u"해로"),
    WORD(u"해상도"), WORD(u"허가"), WORD(u"현도"), WORD(u"혐의"),
    WORD(u"협의"), WORD(u"호랑이"), WORD(u"호의"), WORD(u"혹은"),
    WORD(u"화가"), WORD(u"활로"), WORD(u"황도"), WORD(u"회로"),
    WORD(u"회의"), WORD(u"효도"), WORD(u"휘도"), WORD(u"휴가"),
};

const size_t ks_ko_nexceptions =
    sizeof ks_ko_exceptions / sizeof ks_ko_exceptions[0];

/* ---- ks_ko_question_words: words a question asks with -----------------
 * Sorted by code unit. In the ranked-OR words of a query (not in phrases,
 * +required or -excluded clauses, and never in documents), a word whose
 * stem (or, without a stem, the word itself) is one of these is dropped:
 * it names what is asked, not what the answer is about, so it only adds
 * noise (documents rarely contain 무엇 or 어디; when they do, it is not
 * why they are relevant). Also dropped: 몇 + a counter written as one word
 * (몇년, 몇년도, 몇개, 몇명 ...), except 몇몇 "several".
 * 누가 (who, subject form) is listed as a whole: its regular stem would
 * be the syllable 누. 누군가/어딘가 are "is it who/where" in questions.
 */
const ks_ko_word ks_ko_question_words[] = {
    WORD(u"누가"),   WORD(u"누구"),   WORD(u"누군가"), WORD(u"며칠"),
    WORD(u"몇"),     WORD(u"무슨"),   WORD(u"무엇"),   WORD(u"무엇무엇"),
    WORD(u"뭐"),     WORD(u"뭔가"),   WORD(u"어느"),   WORD(u"어디"),
    WORD(u"어디서"), WORD(u"어딘가"), WORD(u"어떠한"), WORD(u"어떤"),
    WORD(u"어떻게"), WORD(u"어째서"), WORD(u"어찌"),   WORD(u"언제"),
    WORD(u"얼마"),   WORD(u"얼마나"), WORD(u"왜"),
};

const size_t ks_ko_nquestion_words =
    sizeof ks_ko_question_words / sizeof ks_ko_question_words[0];
