"""Read RSNA CTP ``DicomPixelAnonymizer.script`` files into the machine table.

A script is a list of rules, each a signature in braces followed by regions in parentheses::

    // GE LOGIQ, 640 x 480
    { Manufacturer.containsIgnoreCase("GE") * ManufacturerModelName.containsIgnoreCase("LOGIQ")
      * Rows.equals("480") * Columns.equals("640") }
    (0,0,640,40) (0,440,200,40)

``*`` is AND, ``+`` is OR, ``!`` is NOT, parentheses group; an element is a keyword or a tag
``[0008,0070]``; a region is ``(x, y, width, height)``. Text outside braces and parentheses is a
comment, as is anything after ``//``. CTP blanks the regions of the first rule that matches.

The translation keeps that meaning exactly or not at all:

- a signature is expanded into its disjunctive normal form, one machine per alternative, in
  order, each with the rule's zones (so ``A + B`` becomes two machines; first-match order holds);
- equals / contains / startsWith / endsWith (and their IgnoreCase forms) become whole-value
  patterns with ``*``; Rows and Columns take equals with a number;
- anything else (negation, another method such as ``matches``, an element Gantry does not
  match on, two conditions on one element in one alternative, a value holding ``*``, a signature
  that matches every image, a region that is not four numbers) is reported with the rule's line
  number and the rule is skipped whole: never misread, never half imported.

CTP's ``equals`` is case-sensitive and Gantry ignores case: the imported machine matches a little
more, which blanks more, never less.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from gantry import ConfigError

from gantry_redact.machines import MATCH_KEYS, SIZE_KEYS, parse_machines

MAX_ALTERNATIVES = 64
PATTERNS = {"equals": "{}", "contains": "*{}*", "startswith": "{}*", "endswith": "*{}"}
_TOKEN = re.compile(r"""\s*(?:(?P<tag>\[[0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\])|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
                        |"(?P<string>[^"]*)"|(?P<symbol>[.*+!()]))""", re.VERBOSE)
_REGION = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")


class Unexpressible(Exception):
    """A part of a rule the machine table cannot say; the message names it (no patient data)."""


@attrs.frozen
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: rule skipped: {self.reason}"


@attrs.frozen
class CtpImport:
    machines: list[dict[str, Any]]
    problems: list[Problem]
    rules: int


@attrs.frozen
class _Rule:
    line: int
    signature: str
    regions: list[tuple[int, str]] = attrs.field(factory=list)


def import_ctp_script(text: str) -> CtpImport:
    machines: list[dict[str, Any]] = []
    problems: list[Problem] = []
    rules = _rules(text)
    for rule in rules:
        try:
            translated = _translate(rule)
            parse_machines(translated)  # the table's own checks: zone order, zones inside the size
        except (Unexpressible, ConfigError) as err:
            problems.append(Problem(rule.line, str(err).removeprefix("redact: ")))
            continue
        machines.extend(translated)
    return CtpImport(machines=machines, problems=problems, rules=len(rules))


def machines_yaml(result: CtpImport, source: str) -> str:
    """A de-identification configuration holding the machines (usable with ``extends``)."""
    import yaml

    header = [f"# Imported from CTP pixel script {source}: {result.rules} rules, "
              f"{len(result.machines)} machines"]
    header += [f"# {problem}" for problem in result.problems]
    body = yaml.safe_dump({"redaction": {"machines": result.machines}}, sort_keys=False,
                          default_flow_style=None, allow_unicode=True)
    return "\n".join(header) + "\n" + body


# -- reading the file: rules, their lines, their regions ---------------------------------------

def _rules(text: str) -> list[_Rule]:
    rules: list[_Rule] = []
    position, line = 0, 1
    while position < len(text):
        char = text[position]
        if text.startswith("//", position):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
            continue
        if char in "{(":
            closing = "}" if char == "{" else ")"
            end = _closing(text, position, closing)
            body = _strip_comments(text[position + 1:end])
            if char == "{":
                rules.append(_Rule(line, body))
            elif rules:  # regions before the first signature belong to no rule: a comment
                rules[-1].regions.append((line, body))
            line += text.count("\n", position, end)
            position = end + 1
            continue
        line += char == "\n"
        position += 1
    return rules


def _closing(text: str, start: int, closing: str) -> int:
    end = text.find(closing, start + 1)
    return len(text) if end < 0 else end


def _strip_comments(text: str) -> str:
    # ``//`` outside a quoted string runs to the end of its line.
    out, quoted, position = [], False, 0
    while position < len(text):
        char = text[position]
        if char == '"':
            quoted = not quoted
        elif not quoted and text.startswith("//", position):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
            continue
        out.append(char)
        position += 1
    return "".join(out)


# -- translating one rule ----------------------------------------------------------------------

def _translate(rule: _Rule) -> list[dict[str, Any]]:
    zones = [_zone(line, body) for line, body in rule.regions]
    if not zones:
        raise Unexpressible("the rule has no region")
    alternatives = _dnf(_Parser(rule.signature).parse())
    machines = []
    for conditions in alternatives:
        if not conditions:
            raise Unexpressible("the signature matches every image")
        match: dict[str, Any] = {}
        for key, value in conditions:
            if key in match and match[key] != value:
                raise Unexpressible(f"two conditions on {key} in one alternative")
            match[key] = value
        machines.append({"match": match, "zones": [list(zone) for zone in zones]})
    return machines


def _zone(line: int, body: str) -> tuple[int, int, int, int]:
    found = _REGION.match(body)
    if not found:
        raise Unexpressible(f"the region on line {line} is not four whole numbers (x, y, width, height)")
    x, y, width, height = map(int, found.groups())
    if not width or not height:
        raise Unexpressible(f"the region on line {line} is empty")
    return (y, x, y + height, x + width)


Condition = tuple[str, Any]


def _dnf(node: Any) -> list[list[Condition]]:
    kind = node[0]
    if kind == "cond":
        return [[node[1]]]
    if kind == "true":
        return [[]]
    if kind == "or":
        alternatives = [alternative for child in node[1] for alternative in _dnf(child)]
    else:  # and
        alternatives = [[]]
        for child in node[1]:
            alternatives = [left + right for left in alternatives for right in _dnf(child)]
    if len(alternatives) > MAX_ALTERNATIVES:
        raise Unexpressible(f"the signature expands to more than {MAX_ALTERNATIVES} alternatives")
    return alternatives


class _Parser:
    """expr := term ('+' term)* ; term := factor ('*' factor)* ;
    factor := '!' factor | '(' expr ')' | 'true' | element '.' method '(' [string] ')'"""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self) -> Any:
        if not self.tokens:
            raise Unexpressible("the signature is empty")
        node = self._expr()
        if self.position != len(self.tokens):
            raise Unexpressible(f"unexpected {self.tokens[self.position][1]!r} in the signature")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, kind: str, value: str | None = None) -> str:
        token = self._peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            seen = "the end" if token is None else repr(token[1])
            raise Unexpressible(f"the signature cannot be read: expected {value or kind}, found {seen}")
        self.position += 1
        return token[1]

    def _expr(self) -> Any:
        terms = [self._term()]
        while self._peek() == ("symbol", "+"):
            self.position += 1
            terms.append(self._term())
        return terms[0] if len(terms) == 1 else ("or", terms)

    def _term(self) -> Any:
        factors = [self._factor()]
        while self._peek() == ("symbol", "*"):
            self.position += 1
            factors.append(self._factor())
        return factors[0] if len(factors) == 1 else ("and", factors)

    def _factor(self) -> Any:
        token = self._peek()
        if token == ("symbol", "!"):
            raise Unexpressible("negation (!) cannot be expressed as a machine match")
        if token == ("symbol", "("):
            self.position += 1
            node = self._expr()
            self._take("symbol", ")")
            return node
        if token == ("name", "true"):
            self.position += 1
            return ("true",)
        return ("cond", self._condition())

    def _condition(self) -> Condition:
        token = self._peek()
        element = self._take("tag") if token is not None and token[0] == "tag" else self._take("name")
        self._take("symbol", ".")
        method = self._take("name")
        self._take("symbol", "(")
        value = self._take("string") if self._peek() and self._peek()[0] == "string" else None  # type: ignore[index]
        self._take("symbol", ")")
        return _match_condition(_keyword(element), method, value)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found or found.end() == position:
            raise Unexpressible(f"the signature cannot be read at {text[position:].strip()[:20]!r}")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _keyword(element: str) -> str:
    if not element.startswith("["):
        return element
    from pydicom.datadict import keyword_for_tag

    tag = int(element[1:5] + element[6:10], 16)
    return keyword_for_tag(tag) or element


def _match_condition(keyword: str, method: str, value: str | None) -> Condition:
    if keyword not in MATCH_KEYS:
        raise Unexpressible(f"a condition on {keyword}; machines match on {', '.join(MATCH_KEYS)}")
    base = method.removesuffix("IgnoreCase").lower()
    if base not in PATTERNS:
        raise Unexpressible(f"the method {method} on {keyword}")
    if value is None or not value.strip():
        raise Unexpressible(f"{keyword}.{method} without a value")
    if keyword in SIZE_KEYS:
        if base != "equals" or not value.strip().isdigit():
            raise Unexpressible(f"{keyword}.{method}: sizes match by equals with a number")
        return keyword, int(value)
    if "*" in value:
        raise Unexpressible(f"a value of {keyword} holding '*', which Gantry reads as a wildcard")
    return keyword, PATTERNS[base].format(value.strip())
