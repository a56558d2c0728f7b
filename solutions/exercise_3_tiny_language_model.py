"""Exercise 3 - Mini-challenge: your own tiny language model.

No blanks this time: build a Markov text generator from scratch. The checks
look for these exact names, so keep them:

    corpus              a string of your own text, several words, some repeated
    chain               a dict: each word -> the list of words that follow it
                        in corpus (in order, repeats kept), built from
                        corpus.split()
    generate(start, length)
                        returns a sentence (a string of words separated by
                        spaces) that starts with `start`, has at most `length`
                        words, and picks each next word at random from chain;
                        it stops early at a word nothing ever followed

Finally print one generated sentence on a line of its own.
Check your work with:  grade exercise-3
"""

import random

# EQUIVALENT MUTANT: the checks seed each draw; this seed only fixes what the file prints
random.seed(0)

# 1. A corpus with repeated words, so the next word has choices.
# BEGIN SOLUTION
corpus = (
    "the river runs to the sea and the sea runs to the sky "
    "and the sky rains on the river"
)
# END SOLUTION

# 2. The chain: word -> every word seen right after it.
# BEGIN SOLUTION
words = corpus.split()
chain = {}
for current, following in zip(words, words[1:]):
    chain.setdefault(current, []).append(following)
# END SOLUTION

# 3. generate(start, length): sample the next word until the length limit or a dead end.
# BEGIN SOLUTION
def generate(start, length):
    word = start
    out = [word]
    while len(out) < length and chain.get(word):
        word = random.choice(chain[word])
        out.append(word)
    return " ".join(out)
# END SOLUTION

# 4. Print one generated sentence.
# BEGIN SOLUTION
# EQUIVALENT MUTANT (constant): any sentence length of two words or more is right (0 is caught)
print(generate("the", 8))
# END SOLUTION
