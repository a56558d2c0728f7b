"""Helpers the Markov-chain checks (exercises 2 and 3) share: not a checks file itself."""

from __future__ import annotations

from typing import Any

from grader.checks import fail


def build_chain(words: list[str]) -> dict[str, list[str]]:
    """word -> every word seen right after it, in order, repeats kept (the lesson's table)."""
    chain: dict[str, list[str]] = {}
    for current, following in zip(words, words[1:]):
        chain.setdefault(current, []).append(following)
    return chain


def bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


def sentence_words(result: Any, call: str) -> list[str]:
    """The words of a generated sentence; fail clearly if `result` is not one."""
    if isinstance(result, str):
        return result.split()
    if isinstance(result, list) and all(isinstance(w, str) for w in result):
        return result
    fail(f"{call} returned a {type(result).__name__}", "a sentence: a string of words",
         hint='return " ".join(out)')
