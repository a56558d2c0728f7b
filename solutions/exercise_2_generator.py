"""Exercise 2 - Finish the generator.

A Markov chain is the smallest autoregressive language model: it picks each
next word by looking only at the current one. The learning is done for you:
`chain` maps every word of the corpus to the list of words seen right after it
(a word that follows twice is listed twice, so it is twice as likely).

Finish `generate` so it samples one new word at a time. Fill in the three
blanks marked ___ and check your work with:  grade exercise-2
"""

import random

# EQUIVALENT MUTANT: the checks seed each draw; this seed only fixes what the file prints
random.seed(2)

corpus = "i love ai and i love code and i build ai"
words = corpus.split()

# LEARN: word -> every word seen right after it (done for you)
chain = {}
for current, following in zip(words, words[1:]):
    chain.setdefault(current, []).append(following)


def generate(chain, start, length):
    """A sentence of at most `length` words that begins with `start`."""
    word = start
    out = [word]
    for _ in range(length - 1):
        options = chain.get(word, [])
        if not options:
            break  # BLANK: break | a dead end: no word ever followed this one. What now?
        word = random.choice(options)  # BLANK: random.choice(options) | sample the next word from options
        out.append(word)  # BLANK: word
    return " ".join(out)


if __name__ == "__main__":
    for _ in range(3):
        print(generate(chain, "i", 6))
