"""The query syntax recruiters type: ``AND``, ``OR``, ``NOT``, parentheses, ``-term``,
``"exact phrase"`` and the field prefixes ``title:``, ``skill:``, ``company:``::

    parsed = parse_search('Java AND (Spring OR 微服务) NOT 外包')
    parsed.keyword     # Clause(must=(Match(body, java), Clause(should=(spring, 微服务))))
    parsed.excluded    # (Match(body, 外包),): every result is filtered on these
    parsed.positive_text  # "Java Spring 微服务": what the semantic side encodes

Only UPPERCASE ``AND``/``OR``/``NOT`` are operators ("sales and marketing" is three words);
words side by side mean any of them (OR), as a query without operators always has. ``NOT``
binds tightest, then ``AND``, then ``OR``. A group of exclusions only (``-外包``) excludes
from the group around it. Malformed syntax raises ``QuerySyntaxError`` with the character
position (0-based) where it was found.

The result is resolved to index terms (``search_index.tokenize``; skills to canonical ids),
so backends translate ``Match``/``Clause`` to their own queries without reading the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from search_index.tokenize import tokenize
from taxonomy.skills import skill_vocabulary

# The index field a match reads: the segmented text, the segmented title, the canonical
# skill ids or the exact company name.
MatchField = Literal["body", "title", "skills", "company"]
_PREFIXES: dict[str, MatchField] = {"title": "title", "skill": "skills", "company": "company"}
_PREFIX_RE = re.compile(r"^(title|skill|company):", re.IGNORECASE)
_SPECIAL = '()"'


class QuerySyntaxError(ValueError):
    """Malformed query syntax at ``position`` (0-based character offset)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.reason = message
        self.position = position


@dataclass(frozen=True)
class Match:
    """Documents whose ``field`` holds any of ``tokens`` (``phrase``: all, adjacent, in order)."""

    field: MatchField
    tokens: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    """Every ``must``, at least one ``should`` (when there are any), none of ``must_not``."""

    must: tuple[KeywordQuery, ...] = ()
    should: tuple[KeywordQuery, ...] = ()
    must_not: tuple[KeywordQuery, ...] = ()


KeywordQuery = Match | Clause


@dataclass(frozen=True)
class ParsedSearch:
    keyword: KeywordQuery | None  # None: nothing positive to match (only exclusions)
    excluded: tuple[KeywordQuery, ...]  # excluded from every result, in both retrievers
    positive_text: str  # the words searched for, operators and exclusions left out
    plain: bool  # no syntax at all: search exactly as a query without operators always has


# -- lexing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "phrase", "and", "or", "not", "minus", "open", "close", "field"]
    text: str
    position: int


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(_Token("open", char, i))
            i += 1
        elif char == ")":
            tokens.append(_Token("close", char, i))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unclosed quote", i)
            tokens.append(_Token("phrase", query[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
                i += 1
            word = query[start:i]
            if char == "-" and len(word) == 1 and i < n and query[i] in '("':
                tokens.append(_Token("minus", "-", start))  # -"phrase", -(group)
                continue
            if char == "-" and len(word) > 1 and word[1] != "-":
                tokens.append(_Token("minus", "-", start))
                word, start = word[1:], start + 1
            tokens.extend(_word_tokens(word, start, query, i))
    return tokens


def _word_tokens(word: str, start: int, query: str, end: int) -> list[_Token]:
    if word in ("AND", "OR", "NOT"):
        return [_Token(word.lower(), word, start)]  # type: ignore[arg-type]
    prefix = _PREFIX_RE.match(word)
    if prefix is None:
        return [_Token("word", word, start)]
    field = _Token("field", prefix.group(1).lower(), start)
    rest = word[prefix.end() :]
    if rest:
        return [field, _Token("word", rest, start + prefix.end())]
    if end < len(query) and query[end] in '("':
        return [field]
    raise QuerySyntaxError(f"nothing after {word}", start)


# -- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    text: str
    field: MatchField
    phrase: bool


@dataclass(frozen=True)
class _Node:
    op: Literal["and", "or", "not"]
    children: tuple[_Ast, ...]


_Ast = _Term | _Node


class _Parser:
    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens = tokens
        self.at = 0
        self.length = length

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def position(self) -> int:
        token = self.peek()
        return token.position if token is not None else self.length

    def parse(self) -> _Ast:
        node = self.any_of()
        token = self.peek()
        if token is not None:  # only a stray ")" stops any_of early
            raise QuerySyntaxError("unbalanced parenthesis: no ( for this )", token.position)
        return node

    def any_of(self) -> _Ast:
        """and_terms joined by OR or side by side."""
        items = [self.all_of()]
        while (token := self.peek()) is not None and token.kind != "close":
            if token.kind == "or":
                self.take()
                if (nxt := self.peek()) is None or nxt.kind in ("close", "or", "and"):
                    raise QuerySyntaxError("OR needs a term after it", token.position)
            items.append(self.all_of())
        return items[0] if len(items) == 1 else _Node("or", tuple(items))

    def all_of(self) -> _Ast:
        items = [self.unary()]
        while (token := self.peek()) is not None and token.kind == "and":
            self.take()
            if (nxt := self.peek()) is None or nxt.kind in ("close", "or", "and"):
                raise QuerySyntaxError("AND needs a term after it", token.position)
            items.append(self.unary())
        return items[0] if len(items) == 1 else _Node("and", tuple(items))

    def unary(self) -> _Ast:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("a term is missing", self.length)
        if token.kind in ("not", "minus"):
            self.take()
            if (nxt := self.peek()) is None or nxt.kind in ("close", "or", "and"):
                raise QuerySyntaxError(f"{token.text} needs a term after it", token.position)
            return _Node("not", (self.unary(),))
        return self.atom(None)

    def atom(self, field: MatchField | None) -> _Ast:
        token = self.take()
        if token.kind == "field":
            if field is not None:
                raise QuerySyntaxError("a field prefix inside another", token.position)
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("word", "phrase", "open"):
                raise QuerySyntaxError(f"nothing after {token.text}:", token.position)
            return self.atom(_PREFIXES[token.text])
        if token.kind == "word":
            return _Term(token.text, field or "body", phrase=False)
        if token.kind == "phrase":
            return _Term(token.text, field or "body", phrase=True)
        if token.kind == "open":
            if (nxt := self.peek()) is None:
                raise QuerySyntaxError("unbalanced parenthesis: ( is not closed", token.position)
            if nxt.kind == "close":
                raise QuerySyntaxError("empty parentheses", token.position)
            inner = self.any_of()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QuerySyntaxError("unbalanced parenthesis: ( is not closed", token.position)
            self.take()
            return _with_field(inner, field) if field is not None else inner
        if token.kind in ("and", "or"):
            raise QuerySyntaxError(f"{token.text} needs a term before it", token.position)
        raise QuerySyntaxError("unbalanced parenthesis: no ( for this )", token.position)


def _with_field(node: _Ast, field: MatchField) -> _Ast:
    if isinstance(node, _Term):
        return _Term(node.text, field, node.phrase) if node.field == "body" else node
    return _Node(node.op, tuple(_with_field(child, field) for child in node.children))


# -- resolving -------------------------------------------------------------------------------


def _match(term: _Term, company_field: bool) -> Match | None:
    text = term.text.strip()
    if term.field == "skills":
        return Match("skills", (skill_vocabulary().canonical_id(text),)) if text else None
    if term.field == "company" and company_field:
        return Match("company", (text,)) if text else None
    if term.field == "company":
        # No company field (a candidate's employers are in the text): the name as a phrase.
        term = _Term(text, "body", phrase=True)
    tokens = tuple(tokenize(text))
    if not tokens:
        return None  # stop words and punctuation only: nothing to match, as today
    if term.phrase and len(tokens) > 1:
        return Match(term.field, tokens, phrase=True)
    return Match(term.field, tuple(dict.fromkeys(tokens)))


def _resolve(
    node: _Ast, company_field: bool
) -> tuple[KeywordQuery | None, tuple[KeywordQuery, ...]]:
    """The positive query of ``node`` and what it excludes at its own level."""
    if isinstance(node, _Term):
        return _match(node, company_field), ()
    if node.op == "not":
        positive, inner = _resolve(node.children[0], company_field)
        if positive is None:
            return None, ()
        # NOT (a -b) keeps out a, except where b is.
        return None, (_clause(positive, inner) if inner else positive,)
    positives: list[KeywordQuery] = []
    excluded: list[KeywordQuery] = []
    for child in node.children:
        positive, child_excluded = _resolve(child, company_field)
        if isinstance(child, _Node) and child.op != "not" and positive is not None:
            # A group's exclusions apply to that group only.
            positives.append(_clause(positive, child_excluded) if child_excluded else positive)
            continue
        # NOT b, or a group of exclusions only: excluded from this level.
        excluded.extend(child_excluded)
        if positive is not None:
            positives.append(positive)
    if len(positives) <= 1:
        return (positives[0] if positives else None), tuple(excluded)
    if node.op == "and":
        return Clause(must=tuple(positives)), tuple(excluded)
    return Clause(should=tuple(positives)), tuple(excluded)


def _clause(positive: KeywordQuery, excluded: tuple[KeywordQuery, ...]) -> Clause:
    if isinstance(positive, Clause) and not positive.must_not:
        return Clause(must=positive.must, should=positive.should, must_not=excluded)
    return Clause(must=(positive,), must_not=excluded)


def _positive_words(node: _Ast) -> list[str]:
    if isinstance(node, _Term):
        return [node.text]
    if node.op == "not":
        return []
    return [word for child in node.children for word in _positive_words(child)]


def _is_plain(tokens: list[_Token]) -> bool:
    return all(token.kind == "word" for token in tokens)


def parse_search(query: str, *, company_field: bool = True) -> ParsedSearch:
    """The query's keyword structure, root exclusions and positive text (see the module
    docstring); raises ``QuerySyntaxError`` on malformed syntax. Without ``company_field``
    (candidates) ``company:`` matches the name as a phrase in the text."""
    tokens = _lex(query)
    if not tokens:
        return ParsedSearch(keyword=None, excluded=(), positive_text="", plain=True)
    ast = _Parser(tokens, len(query)).parse()
    if _is_plain(tokens):
        return ParsedSearch(keyword=None, excluded=(), positive_text=query.strip(), plain=True)
    keyword, excluded = _resolve(ast, company_field)
    return ParsedSearch(
        keyword=keyword,
        excluded=excluded,
        positive_text=" ".join(_positive_words(ast)).strip(),
        plain=False,
    )


def body_tokens(query: KeywordQuery) -> list[str]:
    """The text tokens ``query`` searches for (positive ones), in order, once each."""
    if isinstance(query, Match):
        return list(query.tokens) if query.field in ("body", "title") else []
    found = [t for child in (*query.must, *query.should) for t in body_tokens(child)]
    return list(dict.fromkeys(found))
