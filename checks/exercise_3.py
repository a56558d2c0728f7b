"""Hidden checks for exercise 3, the learner's own tiny language model.

Everything is judged against the learner's own `corpus`: the checks rebuild the
table from it and compare, and every sentence `generate` returns or the file
prints must only step along word pairs that occur in that corpus.

Soundness of "generate samples": the check picks the corpus word whose two most
frequent followers are most balanced, with share q for the rarer of the two,
and draws n = ceil(ln(1e-6) / ln(1 - q)) next words after one fixed seed. A
correct sampler shows only one follower in all n draws with probability at
most (1 - q)^n <= 1e-6; a fixed choice (`options[0]`) shows one always.
"""

from __future__ import annotations

import math
from collections import Counter

from markov import bigrams, build_chain, sentence_words

from grader.checks import Submission, check, fail

MIN_WORDS = 8


def _corpus_words(submission: Submission) -> list[str]:
    corpus = submission.value("corpus")
    if not isinstance(corpus, str):
        fail(f"`corpus` is a {type(corpus).__name__}", "a string of text",
             hint='write it as corpus = "your words here"')
    return corpus.split()


def _check_sentence(words: list[str], allowed: set[tuple[str, str]], what: str) -> None:
    for pair in zip(words, words[1:]):
        if pair not in allowed:
            fail(f"{what} {' '.join(words)!r} has {pair[1]!r} right after {pair[0]!r}",
                 "only word pairs that occur in your corpus",
                 hint=["pick each next word from chain[word]",
                       "a word picked from the whole corpus ignores the current word; "
                       "chain[word] holds only the words that followed it",
                       "after picking, the picked word becomes the current word, so the "
                       "next pick looks up what follows it"])


@check("Your corpus has several words, some repeated", points=2)
def test_corpus(submission: Submission) -> str:
    words = _corpus_words(submission)
    if len(words) < MIN_WORDS:
        fail(f"your corpus has {len(words)} words", f"at least {MIN_WORDS}",
             hint="write a few sentences of your own")
    repeated = [w for w, n in Counter(words).items() if n > 1]
    if not repeated:
        fail("no word appears twice in your corpus", "some repeated words",
             hint="repeats give the chain choices, which is what makes sampling interesting")
    return f"{len(words)} words, {len(repeated)} of them repeated"


@check("chain holds exactly the word pairs of your corpus", points=2)
def test_chain_matches_corpus(submission: Submission) -> None:
    expected = build_chain(_corpus_words(submission))
    chain = submission.value("chain")
    if not isinstance(chain, dict):
        fail(f"`chain` is a {type(chain).__name__}", "a dict of word -> list of next words")
    for word in expected:
        if word not in chain:
            fail(f"chain has no entry for {word!r}", f"{word!r} -> {expected[word]}",
                 hint="every word that has a next word needs an entry")
    for word, followers in chain.items():
        if word not in expected:
            fail(f"chain has an entry for {word!r}", "no entry: nothing follows it in corpus",
                 hint="build the chain from corpus.split() and its neighbouring pairs")
        if not isinstance(followers, list) or Counter(map(str, followers)) != Counter(
                expected[word]):
            fail(f"chain[{word!r}] is {followers!r}",
                 f"the {len(expected[word])} words that follow {word!r} in your corpus, "
                 "repeats included",
                 hint=["append every following word, even when it is already in the list",
                       "a set, or an `if w not in` test, drops repeats; the repeats are "
                       "what make a frequent next word more likely",
                       "walk corpus.split() in neighbouring pairs (current, following) and "
                       "append `following` to current's list, every time"])


@check("generate only uses word pairs from your corpus", points=2)
def test_generate_in_corpus(submission: Submission) -> str:
    words = _corpus_words(submission)
    allowed = bigrams(words)
    generate = submission.function("generate")
    starts = list(dict.fromkeys(words))[:5]
    for seed, start in enumerate(starts):
        call = f"generate({start!r}, 10)"
        for result in generate.draw(start, 10, n=40, seed=seed):
            sentence = sentence_words(result, call)
            if not sentence or sentence[0] != start:
                fail(f"{call} returned {' '.join(sentence)!r}", f"a sentence starting {start!r}")
            _check_sentence(sentence, allowed, f"{call} returned")
    return f"{len(starts) * 40} sentences from {len(starts)} start words"


@check("generate respects the length limit", points=1)
def test_length(submission: Submission) -> None:
    words = _corpus_words(submission)
    generate = submission.function("generate")
    for length in range(1, 7):
        call = f"generate({words[0]!r}, {length})"
        sentence = sentence_words(generate(words[0], length, seed=length), call)
        if len(sentence) > length:
            fail(f"{call} returned {len(sentence)} words", f"at most {length}")


@check("The sentence you print comes from your corpus", points=1)
def test_printed_sentence(submission: Submission) -> None:
    allowed = bigrams(_corpus_words(submission))
    lines = [line for line in submission.printed.splitlines() if line.strip()]
    if not lines:
        fail("your file printed nothing", "one generated sentence",
             hint=["end the file with print(generate(...)), at the top level "
                   "(not under if __name__ == \"__main__\":)",
                   "the grader imports your file, so code under `if __name__ == "
                   "\"__main__\":` never runs; printing must happen at import",
                   "the last line of the file, not indented: a print of one generated "
                   "sentence from a word of your corpus"])
    sentence = lines[-1].split()
    if len(sentence) < 2:
        fail(f"the last line printed is {lines[-1]!r}", "a sentence of two words or more")
    _check_sentence(sentence, allowed, "the printed sentence")


@check("generate samples the next word at random", points=2)
def test_sampled(submission: Submission) -> str:
    chain = build_chain(_corpus_words(submission))
    branching = {w: Counter(f).most_common(2) for w, f in chain.items() if len(set(f)) > 1}
    if not branching:
        fail("no word in your corpus is followed by two different words",
             "at least one word with a choice of next words",
             hint="repeat a word in different places, e.g. 'the cat ... the dog'")
    start, top = max(branching.items(), key=lambda item: item[1][1][1] / len(chain[item[0]]))
    q = top[1][1] / len(chain[start])
    draws = min(20_000, math.ceil(math.log(1e-6) / math.log(1 - q)))
    call = f"generate({start!r}, 2)"
    seen = {" ".join(sentence_words(r, call)[1:2]) or "(nothing)"
            for r in submission.function("generate").draw(start, 2, n=draws, seed=3)}
    if len(seen) < 2:
        fail(f"in {draws} calls of {call} the next word was always "
             f"{seen.pop()!r}", f"sometimes {top[0][0]!r}, sometimes {top[1][0]!r}",
             hint=["pick the next word at random from the list of next words",
                   "`chain[word][0]`, or the most frequent word, is always the same "
                   "choice; the `random` module can pick for you",
                   "one function of `random` takes a whole list and returns one of its "
                   "items; give it chain[word] as it is"])
    return f"{len(seen)} different next words after {start!r} in {draws} draws"
