"""Small learned models beside the rules of ``toolkit.checks``: a second opinion where word rules stop
generalising (polite buck-passing, sarcasm said with 您, another matter of the customer's own domain, a
3F part said in the trainee's own words).

Each is a logistic regression over character bigrams and trigrams, trained by ``scripts/train_models.py``
on our own labelled data (tests/eval, the readable halves of the holdouts, the course's √/× replies;
never a "-blind" half) and shipped as ``toolkit/data/models.json``. They ADD what the rules missed (a
fault to a reply the rules passed, rudeness or a part to a 3F reply). The one thing a model may take
away is a lone "no apology" finding, a judgement of the situation rather than of the reply's words
(``checks.VETOABLE``), so a stuffed, abusive or gamed reply the rules reject stays rejected.

Inference is plain Python over the JSON (no numpy or scikit-learn in the trainee's kernel), loaded on
first use.
"""

from __future__ import annotations

import json
import math
from itertools import repeat
from functools import cache
from importlib import resources

MODELS_FILE = "models.json"


def grams(bare: str, sizes: tuple[int, ...] = (2, 3)) -> list[str]:
    """Character n-grams (bigrams and trigrams unless ``sizes`` says otherwise) of a normalised text without
    punctuation (``views(text)[1].text``). Short questions need single characters too (谁, 吗)."""
    return [bare[i:i + n] for n in sizes for i in range(len(bare) - n + 1)]


def reply_features(bare: str, overlap: tuple[int, int] | None) -> list[str]:
    """A reply's features; ``overlap``: (content bigrams shared with the customer's turn, content bigrams
    of the turn), or None without a turn."""
    out = grams(bare)
    if overlap is None:
        out.append("<no-turn>")
    else:
        shared, size = overlap
        out.append(f"<shared:{min(shared, 3)}>")  # how many of the customer's words the reply takes up
        out.append(f"<share:{int(4 * shared / max(1, size))}>")  # and which part of them, in quarters
    return out


class Linear:
    """One trained model: ``weights`` feature -> weight (binary) or -> one weight per class."""

    def __init__(self, table: dict):
        self.weights, self.bias = table["weights"], table["bias"]
        self.classes, self.threshold = table.get("classes"), table.get("threshold")
        self.veto = table.get("veto", 0.0)  # below this probability the model dismisses a soft finding

    def probability(self, features: list[str]) -> float:
        """Binary model: the probability of the positive class (each feature counted once)."""
        features = set(features)
        z = self.bias + sum(map(self.weights.get, features, repeat(0.0, len(features))))  # C-speed lookups
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))

    def says(self, features: list[str]) -> bool:
        return self.probability(features) > self.threshold

    def scores(self, features: list[str]) -> dict[str, float]:
        """Each class's probability (a binary model's classes are [negative, positive])."""
        if not isinstance(self.bias, list):
            p = self.probability(features)
            return {self.classes[0]: 1 - p, self.classes[1]: p}
        z = list(self.bias)
        for f in set(features):
            for k, w in enumerate(self.weights.get(f, ())):
                z[k] += w
        top = max(z)
        e = [math.exp(v - top) for v in z]
        return {c: v / sum(e) for c, v in zip(self.classes, e)}

    def best(self, features: list[str]) -> str:
        scores = self.scores(features)
        return max(scores, key=scores.__getitem__)


# Models that never speak: the rules alone (``install(SILENT)``; the trainer reads the parts the cue words find).
SILENT = {name: {"classes": ["False", "True"], "bias": -60.0, "weights": {}, "threshold": 1.0, "veto": 0.0}
          for name in ("reply_fault", "three_f_rude")} | {
    "reply_kind": {"bias": [0.0], "weights": {}, "classes": ["buck"]},
    "three_f_part": {"bias": [0.0] * 4, "weights": {}, "classes": ["feel", "felt", "found", "other"], "threshold": 1.0}} | {
    name: {"bias": [0.0], "weights": {}, "classes": ["-"], "threshold": 1.0}
    for name in ("question_label", "spin_label", "complaint_label")}

_installed: dict | None = None  # models being trained (scripts/train_models.py), instead of the shipped ones


@cache
def shipped() -> dict:
    """The content of ``toolkit/data/models.json``, read once."""
    return json.loads(resources.files("toolkit").joinpath("data", MODELS_FILE).read_text(encoding="utf-8"))


@cache
def model(name: str) -> Linear:
    """``reply_fault`` (binary: not ok), ``reply_kind`` (which fault), ``three_f_rude`` (binary),
    ``three_f_part`` (a clause's role: feel, felt, found, other), and the labels of ``question_label``,
    ``spin_label``, ``complaint_label``."""
    return Linear((_installed or shipped())[name])


def install(tables: dict | None) -> None:
    """Judge with ``tables`` (the JSON's content) instead of the shipped models; None: the shipped ones again.
    For training: candidate models are measured through the real checkers."""
    global _installed
    _installed = tables
    model.cache_clear()
