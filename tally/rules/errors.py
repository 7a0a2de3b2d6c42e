"""Errors of the rules engine: plain words, and the article of law when a rule is broken."""

from __future__ import annotations

from tally.errors import RecordError


class RulesError(RecordError):
    """A rules configuration or a COUNTS document that is malformed or inconsistent."""


class LawError(RulesError):
    """A configuration or a nomination that breaks the law; ``article`` names the rule broken.

    The message always ends with the article, e.g. "(地方组织法 第二十七条)".
    """

    def __init__(self, message: str, article: str) -> None:
        super().__init__(f"{message} ({article})")
        self.article = article
