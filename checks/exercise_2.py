"""Checks for exercise 2, finishing the Markov generator.

The checks build their own chains (from the lesson's corpus and from a hidden
one) and pass them to the learner's `generate`, so a learner's `chain` variable
cannot hide a wrong loop. Seeds are fixed, so verdicts are deterministic. The
check on the hidden corpus is hidden (`grade release` leaves it and the corpus out).

Soundness of the sampling checks, for a correct `random.choice(options)`:
- "several seeds give different sentences": from "i", no 6-word sentence has
  probability above 2/9, so 20 seeds all giving the same sentence has
  probability at most (2/9)^19 < 1e-12; `options[0]` gives one sentence only.
- "next words follow the corpus": 3,000 draws of the word after "i"; the
  Hoeffding tolerance for 2 outcomes at 1e-6 is 0.050, while a uniform choice
  over distinct words (50/50) misses by 0.167 and `options[0]` by 0.333.
- "words drawn from the whole corpus" produce bigrams the corpus never has
  (e.g. "i and"), caught by the bigram checks (150 sentences per corpus).
"""

from __future__ import annotations

from markov import bigrams, build_chain, sentence_words

from grader.checks import LearnerError, LearnerFunction, Submission, check, fail
from grader.checks.stats import expect_frequencies

LESSON_CORPUS = "i love ai and i love code and i build ai"
# Hidden: branching words ("the", "sat", "on"), and a dead end ("rug").
HIDDEN_CORPUS = "the cat sat on the mat the dog sat on the log the cat ran to the rug"
# Public: a dead end ("mat") that learners can see in their feedback.
EXAMPLE_CORPUS = "we sat on the mat"

# Hints deepen, nudge first (each failure on changed code shows one more); none is the answer.
BIGRAM_HINTS = ["pick the next word from chain[word], the words seen after it",
                "choosing from all the corpus's words ignores the current word; `options` "
                "already holds only the words that followed it",
                "after choosing, the chosen word becomes `word`, so the next pass looks up "
                "what follows it"]
DEAD_END_HINTS = ["when there are no options, stop the loop",
                  "an empty `options` list means no word ever followed this one: the "
                  "sentence is finished, and random.choice([]) would raise IndexError",
                  "Python has a one-word statement that leaves a for loop at once"]


def _bigrams_only(submission: Submission, name: str, corpus: str, start: str) -> None:
    """Fail unless 150 sentences from `corpus` only step along its word pairs."""
    generate = submission.function("generate")
    allowed = bigrams(corpus.split())
    call = f"generate(chain, {start!r}, 10)"
    for result in generate.draw(build_chain(corpus.split()), start, 10, n=150, seed=11):
        words = sentence_words(result, call)
        for pair in zip(words, words[1:]):
            if pair not in allowed:
                fail(f"with {name}, {call} produced {' '.join(words)!r}, where "
                     f"{pair[1]!r} follows {pair[0]!r}",
                     "only word pairs that occur in the corpus", hint=BIGRAM_HINTS)


def _stops_at_dead_end(generate: LearnerFunction, chain: dict[str, list[str]], start: str,
                       expected: list[str], where: str) -> None:
    """Fail unless generate(chain, start, 5) stops at the dead end, giving `expected`."""
    call = f"generate(chain, {start!r}, 5)"
    last = expected[-1]
    try:  # the usual miss: no stop, so choosing from an empty list raises
        result = generate(chain, start, 5, seed=1)
    except LearnerError as error:
        fail(f"{where}, {error.observed}", f"{' '.join(expected)!r}: nothing ever follows "
             f"{last!r}", hint=DEAD_END_HINTS)
    words = sentence_words(result, call)
    if words != expected:
        fail(f"{where}, {call} returned {' '.join(words)!r} although nothing ever follows "
             f"{last!r}", repr(" ".join(expected)), hint=DEAD_END_HINTS)


@check("The sentence starts with the start word", points=1)
def test_starts_with_start(submission: Submission) -> None:
    generate = submission.function("generate")
    for seed, start in enumerate(["i", "love", "and"]):
        call = f"generate(chain, {start!r}, 5)"
        chain = build_chain(LESSON_CORPUS.split())
        words = sentence_words(generate(chain, start, 5, seed=seed), call)
        if not words or words[0] != start:
            fail(f"{call} returned {' '.join(words)!r}", f"a sentence starting with {start!r}",
                 hint="`out` should begin with the start word")


@check("The sentence has at most `length` words", points=2)
def test_length_limit(submission: Submission) -> None:
    generate = submission.function("generate")
    chain = build_chain(LESSON_CORPUS.split())
    for length in range(1, 9):
        call = f"generate(chain, 'i', {length})"
        words = sentence_words(generate(chain, "i", length, seed=length), call)
        if len(words) > length:
            fail(f"{call} returned {len(words)} words", f"at most {length}",
                 hint=["each pass of the loop should add exactly one word",
                       "`out` starts with the start word, so the loop has length - 1 "
                       "passes: one word appended per pass gives exactly `length` words",
                       "look for a second append in the loop, or a word appended both "
                       "before and after choosing it"])
        if len(words) < length and words and chain.get(words[-1]):
            fail(f"{call} returned only {len(words)} words", f"{length} words "
                 "(the chain had not reached a dead end)",
                 hint=["keep adding words until the length is reached",
                       "each pass must append the word it chose to `out`",
                       "is the append inside the loop, after the new word is chosen? Only "
                       "a dead end (no options) may end the loop early"])


@check("Every pair of neighbouring words appears in the corpus", points=1)
def test_bigrams_in_corpus(submission: Submission) -> None:
    if submission.value("chain") != build_chain(LESSON_CORPUS.split()):
        fail("`chain` no longer holds the word pairs of the corpus",
             "the table the file builds from the corpus",
             hint="the learning part is done for you: leave it as it was")
    _bigrams_only(submission, "the lesson's corpus", LESSON_CORPUS, "i")


@check("A dead-end word ends the sentence instead of crashing", points=1)
def test_dead_end(submission: Submission) -> None:
    generate = submission.function("generate")
    _stops_at_dead_end(generate, build_chain(EXAMPLE_CORPUS.split()), "the", ["the", "mat"],
                       f"with the corpus {EXAMPLE_CORPUS!r}")
    chain = build_chain(LESSON_CORPUS.split())
    words = sentence_words(generate(chain, "word-not-in-chain", 4, seed=1),
                           "generate(chain, 'word-not-in-chain', 4)")
    if words != ["word-not-in-chain"]:
        fail(f"for a start word the chain has never seen, generate returned "
             f"{' '.join(words)!r}", "just the start word")


@check("A corpus you never saw: only its word pairs, and its dead end ends the sentence",
       points=2, visibility="hidden")
def test_unseen_corpus(submission: Submission) -> None:
    _bigrams_only(submission, "a corpus you never saw", HIDDEN_CORPUS, "the")
    _stops_at_dead_end(submission.function("generate"), build_chain(HIDDEN_CORPUS.split()),
                       "rug", ["rug"], "with a corpus you never saw")


@check("The next word is sampled, not fixed", points=2)
def test_sampled(submission: Submission) -> None:
    generate = submission.function("generate")
    chain = build_chain(LESSON_CORPUS.split())
    sentences = {" ".join(sentence_words(generate(chain, "i", 6, seed=seed), "generate"))
                 for seed in range(20)}
    if len(sentences) < 2:
        fail(f"20 different seeds all gave {sentences.pop()!r}",
             "different sentences where the chain branches (after 'i': love or build)",
             hint=["choose the next word at random from the options, not always the same one",
                   "options[0] is always the first word the corpus had after this one; "
                   "the `random` module can pick for you",
                   "one function of `random` takes a whole list and returns one of its "
                   "items; give it the options list as it is"])


@check("Next words come up as often as in the corpus", points=1)
def test_next_word_frequencies(submission: Submission) -> str:
    generate = submission.function("generate")
    results = generate.draw(build_chain(LESSON_CORPUS.split()), "i", 2, n=3000, seed=5)
    seconds = [w[1] if len(w) > 1 else "(nothing)"
               for w in (sentence_words(r, "generate(chain, 'i', 2)") for r in results)]
    return expect_frequencies(
        seconds, {"love": 2 / 3, "build": 1 / 3}, what="the word after 'i'",
        hint=["'love' follows 'i' twice in the corpus and 'build' once; pick from the "
              "options list as it is, repeats included",
              "removing repeats (set(options)) makes every next word equally likely; "
              "the repeats are what make 'love' twice as likely",
              "pick one item of `options` itself, with every position equally likely"])
