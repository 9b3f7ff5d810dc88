"""chat_drill: online chat support (在线客服). The buyer's messages arrive one by one; the trainee
types each reply and ``checks.review_reply`` judges it against that message, with the chat's own
tone rules (toolkit.chattone; data in toolkit/data/chat.toml): no over-familiar words, tone
particles in measure, and a reply within the shop's response time.
"""

from __future__ import annotations

import time

import ipywidgets as w

from .. import checks, kb
from ..chattone import chat_tone, response_limit
from ._common import GREEN, GREY, RED, Deck, Drill, bullets, esc, para, prompt, t

SHOP_BG, BUYER_BG, YOU_BG = "#f6f8fa", "#fff8c5", "#dafbe1"


def chats() -> list:
    return list(kb.load("chat")["chat"])


def judge(text: str, buyer: str) -> tuple[bool, checks.Review, list[str]]:
    """(ok, review, tone notes) for a chat reply to ``buyer``'s message."""
    review = checks.review_reply(text, customer=buyer)
    notes = chat_tone(text)
    return review.ok and not notes, review, notes


def _bubble(who: str, text: str, color: str, right: bool = False) -> str:
    align = "margin-left:20%" if right else "margin-right:20%"
    return (f'<div style="{align};background:{color};border-radius:8px;padding:4px 8px;margin:4px 0">'
            f'<b>{esc(who)}</b>{esc(text)}</div>')


class ChatDrill(Drill):
    """One conversation per round: the shop's auto-reply, then each buyer message in turn.

    Controls: ``textarea`` (the reply), ``submit`` (发送), ``next_round`` (换一位买家),
    ``feedback``, ``transcript`` (HTML chat log). State: ``chat`` (the conversation), ``index``
    (the buyer message now waiting), ``buyer`` (its text), ``results`` (one dict per answered
    message: buyer, reply, ok, review, notes, seconds), ``finished``.
    """

    def __init__(self, seed=None):
        super().__init__("online_chat", seed, t("chat", "title"), t("chat", "intro"))
        self.deck = Deck(chats(), self.rng)
        self.transcript = w.HTML(layout=w.Layout(width="100%"))
        self.textarea = w.Textarea(placeholder=t("chat", "placeholder"), layout=w.Layout(width="100%", height="5em"))
        self.submit.description = t("chat", "send")
        self.next_round.description = t("chat", "next_buyer")
        self.body.children = (self.transcript, self.textarea)
        self._new_round()

    def new_round(self) -> None:
        self.chat = self.deck.draw(1)[0]
        self.results: list[dict] = []
        self.finished = False
        self._log = [para(esc(t("chat", "stage_" + self.chat["stage"]) + "｜" + self.chat["title"]), GREY, bold=True),
                     _bubble(t("chat", "auto"), self.chat["auto_reply"], SHOP_BG)]
        self._arrive(0)

    def _arrive(self, index: int) -> None:
        self.index = index
        self.buyer = self.chat["messages"][index]["buyer"]
        self._log.append(_bubble(t("chat", "buyer"), self.buyer, BUYER_BG))
        self.transcript.value = "".join(self._log)
        self.textarea.value = ""
        self.textarea.disabled = False
        self._started = time.monotonic()

    def check(self) -> None:
        if self.finished:
            self.feedback.value = prompt(t("chat", "finished"))
            return
        text = self.textarea.value
        if not isinstance(text, str) or not text.strip():
            self.feedback.value = prompt(t("text", "empty_reply"))
            return
        seconds = self.elapsed()
        message = self.chat["messages"][self.index]
        ok, review, notes = judge(text, self.buyer)
        self.results.append({"buyer": self.buyer, "reply": text, "ok": ok, "review": review, "notes": notes,
                             "seconds": seconds})
        self.record(f"{self.chat['id']}:{self.index + 1}", text, ok, seconds)
        slow = seconds > response_limit()
        self.feedback.value = (
            para(esc(t("text", "correct" if ok else "wrong")), GREEN if ok else RED, bold=True)
            + para(esc(review.why if not review.ok or not notes else t("chat", "review_ok_tone")))
            + bullets(esc(n) for n in notes)
            + para(esc(t("chat", "slow" if slow else "fast", seconds=round(seconds), limit=response_limit())),
                   RED if slow else GREY)
            + para(f"<b>{esc(t('chat', 'reference'))}</b><span style=\"color:{GREEN}\">{esc(message['reference'])}</span>")
            + para(f"<b>{esc(t('chat', 'tip'))}</b>{esc(message['tip'])}")
        )
        self._log.append(_bubble(t("chat", "you"), text, YOU_BG, right=True))
        if self.index + 1 < len(self.chat["messages"]):
            self._arrive(self.index + 1)
            return
        self.finished = True
        self.textarea.disabled = True
        self.submit.disabled = True
        self.transcript.value = "".join(self._log)
        right = sum(r["ok"] for r in self.results)
        average = sum(r["seconds"] for r in self.results) / len(self.results)
        self.feedback.value += para(esc(t("chat", "done", n=len(self.results), right=right, seconds=round(average))),
                                    bold=True)


def chat_drill(seed=None) -> w.VBox:
    """A chat with a buyer: type a reply to each message as it arrives; each is reviewed against it.

    Returns a VBox; ``.drill`` is the :class:`ChatDrill`.
    """
    return ChatDrill(seed).widget
