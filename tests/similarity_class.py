"""A class of exercise-3 solutions for similarity tests and benchmarks.

Independent solutions are assembled from interchangeable ways of writing each part
of the exercise (the corpus, the chain, generate, the final print), each student a
different combination with their own names and comments; planted copies take one
student's file and rename its variables, reorder its functions, or rewrite its
comments.
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from pathlib import Path

WORDS = " ".join(["the cat sat on the mat and the dog sat on the log while the bird sang",
                  "over the hill and the river ran past the mill to the sea by the town"]).split()

CORPUS = [
    'corpus = "{text}"\n',
    'corpus = (\n    "{half1} "\n    "{half2}"\n)\n',
    'lines = ["{half1}", "{half2}"]\ncorpus = " ".join(lines)\n',
    'corpus = """{text}"""\n',
    'corpus = "{text}".lower()\n',
    'text = "  {text}  "\ncorpus = text.strip()\n',
]

CHAIN = [
    "words = corpus.split()\nchain = {{}}\nfor i in range(len(words) - 1):\n"
    "    chain.setdefault(words[i], []).append(words[i + 1])\n",
    "words = corpus.split()\ntable = defaultdict(list)\nfor a, b in zip(words, words[1:]):\n"
    "    table[a].append(b)\nchain = dict(table)\n",
    "chain = {{}}\nprevious = None\nfor word in corpus.split():\n    if previous is not None:\n"
    "        if previous not in chain:\n            chain[previous] = []\n"
    "        chain[previous].append(word)\n    previous = word\n",
    "def build(text):\n    tokens = text.split()\n    table = {{}}\n    i = 0\n"
    "    while i < len(tokens) - 1:\n        key = tokens[i]\n"
    "        table[key] = table.get(key, []) + [tokens[i + 1]]\n        i += 1\n"
    "    return table\n\n\nchain = build(corpus)\n",
    "words = corpus.split()\npairs = list(zip(words[:-1], words[1:]))\nchain = {{}}\n"
    "for left, right in pairs:\n    followers = chain.get(left)\n    if followers is None:\n"
    "        followers = chain[left] = []\n    followers.append(right)\n",
    "words = corpus.split()\nchain = {{w: [] for w in words[:-1]}}\n"
    "for index, w in enumerate(words[:-1]):\n    chain[w].append(words[index + 1])\n",
    "words = corpus.split()\nchain = {{}}\nfor position, word in enumerate(words):\n"
    "    if position + 1 < len(words):\n        try:\n"
    "            chain[word].append(words[position + 1])\n        except KeyError:\n"
    "            chain[word] = [words[position + 1]]\n",
    "words = corpus.split()\nchain = {{}}\nfor w in sorted(set(words[:-1])):\n"
    "    chain[w] = [words[i + 1] for i in range(len(words) - 1) if words[i] == w]\n",
]

GENERATE = [
    "def generate(start, length):\n    word = start\n    out = [word]\n"
    "    while len(out) < length and word in chain:\n        word = random.choice(chain[word])\n"
    "        out.append(word)\n    return \" \".join(out)\n",
    "def generate(start, length):\n    sentence = [start]\n    for _ in range(length - 1):\n"
    "        options = chain.get(sentence[-1], [])\n        if not options:\n            break\n"
    "        sentence.append(random.choice(options))\n    return \" \".join(sentence)\n",
    "def generate(start, length):\n    if length <= 1 or start not in chain:\n"
    "        return start\n"
    "    return start + \" \" + generate(random.choice(chain[start]), length - 1)\n",
    "def next_word(word):\n    followers = chain[word]\n"
    "    return followers[random.randrange(len(followers))]\n\n\n"
    "def generate(start, length):\n    result = start\n    current = start\n    count = 1\n"
    "    while count < length:\n        if current not in chain:\n            break\n"
    "        current = next_word(current)\n        result += \" \" + current\n"
    "        count += 1\n    return result\n",
    "def generate(start, length):\n    picked = [start]\n    while True:\n"
    "        if len(picked) >= length:\n            return \" \".join(picked)\n"
    "        nexts = chain.get(picked[-1])\n        if not nexts:\n"
    "            return \" \".join(picked)\n        picked.append(random.choice(nexts))\n",
    "def walk(word):\n    while True:\n        yield word\n        if not chain.get(word):\n"
    "            return\n        word = random.choice(chain[word])\n\n\n"
    "def generate(start, length):\n    picked = []\n    for word in walk(start):\n"
    "        picked.append(word)\n        if len(picked) == length:\n            break\n"
    "    return \" \".join(picked)\n",
    "def generate(start, length):\n    out = [start]\n    while len(out) < length:\n"
    "        counts = Counter(chain.get(out[-1], []))\n        if not counts:\n            break\n"
    "        options = list(counts)\n"
    "        out.extend(random.choices(options, weights=[counts[o] for o in options]))\n"
    "    return \" \".join(out)\n",
]

PRINT = [
    'print(generate("the", 8))\n',
    "sentence = generate(corpus.split()[0], 10)\nprint(sentence)\n",
    "first = corpus.split()[0]\nprint(generate(first, 7))\n",
    "print(generate(random.choice(list(chain)), 9))\n",
]

COMMENTS = ["# my corpus", "# the table of next words", "# sample one word at a time",
            "# print a sentence", "# build it", "# done", "# words that follow",
            "# pick at random", "# Markov chain", "# the generator"]


def _text(rng: random.Random) -> tuple[str, str, str]:
    start = rng.randrange(len(WORDS) - 16)
    words = WORDS[start:start + 16]
    return " ".join(["the", *words]), " ".join(["the", *words[:8]]), " ".join(words[8:])


def independent(index: int) -> str:
    """Student `index`'s own solution: no two of the first 56 share a chain and a generate."""
    rng = random.Random(index)
    text, half1, half2 = _text(rng)
    chain, generate = CHAIN[index % len(CHAIN)], GENERATE[index % len(GENERATE)]
    header = "import random\n"
    if "defaultdict" in chain:
        header = "from collections import defaultdict\n" + header
    if "Counter" in generate:
        header = "from collections import Counter\n" + header
    if rng.random() < 0.5:
        header += f"\nrandom.seed({rng.randrange(100)})\n"
    parts = [header,
             CORPUS[(index + 2 * (index // 8)) % len(CORPUS)].format(
                 text=text, half1=half1, half2=half2),
             chain.format(), generate, PRINT[(index + index // 8) % len(PRINT)]]
    notes = rng.sample(COMMENTS, len(parts))
    return "\n\n".join(f"{note}\n{part}" if rng.random() < 0.7 else part
                       for note, part in zip(notes, parts))


def rename_variables(code: str, names: dict[str, str]) -> str:
    """`code` with every NAME token in `names` renamed (strings and comments untouched)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    renamed = [t._replace(string=names.get(t.string, t.string)) if t.type == tokenize.NAME
               else t for t in tokens]
    return tokenize.untokenize(renamed)


def reorder_functions(code: str) -> str:
    """`code` with its top-level functions in reverse order, moved to the top of the code."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    taken = {i for f in functions for i in range(f.lineno - 1, f.end_lineno or f.lineno)}
    header = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    head_end = max((n.end_lineno or n.lineno for n in header), default=0)
    moved = ["".join(lines[f.lineno - 1:f.end_lineno or f.lineno]) + "\n\n"
             for f in reversed(functions)]
    rest = [line for i, line in enumerate(lines) if i not in taken and i >= head_end]
    return "".join(lines[:head_end]) + "\n\n" + "".join(moved) + "".join(rest)


def rewrite_comments(code: str) -> str:
    """`code` without its comments, with new ones above every top-level statement."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
              if t.type != tokenize.COMMENT]
    bare = tokenize.untokenize(tokens)
    out = []
    for number, line in enumerate(bare.splitlines(keepends=True)):
        if line.strip() and not line[0].isspace() and not line.startswith((")", "]")):
            out.append(f"# step {number}: see the lesson notes\n")
        out.append(line)
    return "".join(out)


PLANTED = {  # original student -> (copy's student id, how it was disguised)
    3: ("s-copy-renamed", lambda code: rename_variables(
        code, {"chain": "model", "words": "tokens", "start": "first", "length": "size",
               "result": "text", "current": "now", "followers": "nexts", "count": "n"})),
    5: ("s-copy-reordered", reorder_functions),
    6: ("s-copy-comments", rewrite_comments),
}


def write_class(root: Path, students: int = 20, planted: bool = True,
                filename: str = "exercise_3_tiny_language_model.py") -> dict[str, str]:
    """Write one folder per student under `root`; return {student: code}."""
    files = {f"s{index:03d}": independent(index) for index in range(students)}
    if planted:
        for original, (copy, disguise) in PLANTED.items():
            files[copy] = disguise(files[f"s{original:03d}"])
    for student, code in files.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        (root / student / filename).write_text(code, encoding="utf-8")
    return files
