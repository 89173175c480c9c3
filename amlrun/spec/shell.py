"""Where a placeholder sits in a shell command: the quoting context the shell sees there.

Values never enter the script text (see amlrun.spec.render): each placeholder becomes a
reference to a shell variable, and how that reference is written depends on the context
(unquoted word, single or double quotes, heredoc body...). Some contexts cannot take a
literal at all (a quoted heredoc expands nothing; a backslash or ``$`` would glue onto the
reference; arithmetic evaluates its text); the scanner names them so the command is refused.
The scanner is a small POSIX-sh lexer fed text pieces in order, asked at each placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass

#: contexts in which a placeholder is rendered as one unquoted-shell word ("${v}" in quotes)
WORD = "word"
DQUOTE = "dquote"  # inside "...", or ${...} inside quotes
HEREDOC = "heredoc"  # the body of a heredoc with an unquoted delimiter
SQUOTE = "squote"
ARITH = "arith"
COMMENT = "comment"

#: constructs where a placeholder cannot be one literal, and how to fix the command
ARITHMETIC = "inside arithmetic, $(( )) or (( ))"
QUOTED_HEREDOC = "in a heredoc with a quoted delimiter (nothing expands there)"
AFTER_BACKSLASH = "directly after a backslash"
AFTER_DOLLAR = "directly after '$'"
IN_DELIMITER = "in a heredoc delimiter word"
FIXES = {
    ARITHMETIC: "declare the parameter as type: integer (integers are allowed in "
    "arithmetic), or compute outside the shell",
    QUOTED_HEREDOC: "unquote the delimiter (<<EOF instead of <<'EOF') so the value expands, "
    "or pass it as an argument",
    AFTER_BACKSLASH: "remove the backslash before the placeholder",
    AFTER_DOLLAR: "remove the '$' before the placeholder",
    IN_DELIMITER: "use a fixed heredoc delimiter such as EOF",
}

_COMMANDS = ("cmd", "(", "$(", "`")  # contexts where the text is parsed as commands
_WORD_BREAK = frozenset(" \t\n;&|()<>")
_DELIM_END = frozenset(" \t\n;&|()<>")


@dataclass(frozen=True)
class Slot:
    """The context of one placeholder; ``problem`` names a construct that refuses literals."""

    context: str
    problem: str | None
    line: int  # 1-based line of the command text


@dataclass
class _Heredoc:
    delim: str
    quoted: bool
    strip_tabs: bool


class ShellScanner:
    """Incremental lexer: ``feed`` text, ``placeholder`` at each value position."""

    def __init__(self) -> None:
        self.stack: list[str] = ["cmd"]
        self.arith_depth: list[int] = []
        self.escaped = False  # the previous character was an escaping backslash
        self.carry = ""  # a trailing '$' or '<' whose meaning depends on what follows
        self.prev: str | None = None  # previous character (None: start of the script)
        self.line = 1
        self.pending: list[_Heredoc] = []  # heredocs whose bodies start at the next newline
        self.heredoc: _Heredoc | None = None  # the body being read
        self.hd_line = ""
        self.hd_dirty = False  # the current body line holds a placeholder or expansion
        self.delim: list | None = None  # [word, quoted, strip_tabs, quote char] while reading

    # ------------------------------------------------------------------ public
    def feed(self, text: str) -> None:
        text, self.carry = self.carry + text, ""
        i = 0
        while i < len(text):
            i = self._step(text, i)

    def placeholder(self) -> Slot:
        """The slot of a placeholder at the current position; the scanner moves past it."""
        slot = Slot(self._context(), self._problem(), self.line)
        self.carry = ""
        self.escaped = False
        self.prev = "a"
        self.hd_dirty = True
        return slot

    # ------------------------------------------------------------------ context
    def _context(self) -> str:
        top = self.stack[-1]
        if top == "'":
            return SQUOTE
        if top == '"':
            return DQUOTE
        if top == "heredoc":
            return HEREDOC
        if top == "$((":
            return ARITH
        if top == "comment":
            return COMMENT
        if top == "${":
            below = next((c for c in reversed(self.stack) if c != "${"), "cmd")
            return DQUOTE if below in ('"', "heredoc") else WORD
        return WORD

    def _problem(self) -> str | None:
        if self.delim is not None or self.carry == "<<":
            return IN_DELIMITER
        if self.stack[-1] == "qheredoc":
            return QUOTED_HEREDOC
        if self.escaped:
            return AFTER_BACKSLASH
        if self.carry == "$":
            return AFTER_DOLLAR
        if self.stack[-1] == "$((":
            return ARITHMETIC
        return None

    # ------------------------------------------------------------------ lexing
    def _step(self, text: str, i: int) -> int:
        ch = text[i]
        if ch == "\n":
            self.line += 1
        if self.delim is not None and self._delim_char(ch):
            self.prev = ch
            return i + 1
        top = self.stack[-1]
        if top in ("heredoc", "qheredoc"):
            return self._heredoc_char(text, i)
        if top == "comment":
            if ch == "\n":
                self.stack.pop()
                self.line -= 1  # the newline is read again by the enclosing context
                return i
            return i + 1
        if self.escaped:
            self.escaped = False
            self.prev = "a"
            return i + 1
        if top == "'":
            if ch == "'":
                self.stack.pop()
            self.prev = ch
            return i + 1
        return self._expanding_char(text, i, top)

    def _expanding_char(self, text: str, i: int, top: str) -> int:
        ch = text[i]
        if ch == "\\":
            self.escaped = True
            return i + 1
        if ch == "$":
            return self._dollar(text, i)
        if ch == "`":
            self._toggle("`")
        elif top == '"':
            if ch == '"':
                self.stack.pop()
        elif top == "$((":
            self._arith_char(text, i)
            if self.stack[-1] != "$((" and text.startswith("))", i):
                self.prev = ")"
                return i + 2
        elif ch == "}" and top == "${":
            self.stack.pop()
        elif ch in "'\"" and not (ch == "'" and self._context() == DQUOTE):
            self.stack.append(ch)
        elif top in _COMMANDS:
            i = self._command_char(text, i)
        self.prev = ch
        return i + 1

    def _command_char(self, text: str, i: int) -> int:
        """Operators of command contexts; returns the index of the last character consumed."""
        ch = text[i]
        if ch == "#" and self._at_word_start():
            self.stack.append("comment")
        elif ch == "(" and text.startswith("((", i) and self._at_word_start():
            self.stack.append("$((")  # an arithmetic command (bash, ksh): evaluated as $(( ))
            self.arith_depth.append(0)
            return i + 1
        elif ch == "(":
            self.stack.append("(")
        elif ch == ")" and self.stack[-1] in ("(", "$("):
            self.stack.pop()
        elif ch == "\n" and self.pending:
            self._start_body()
        elif ch == "<" and text.startswith("<<", i):
            if i + 2 >= len(text):
                self.carry = text[i:]
                return len(text)
            if text[i + 2] != "<":  # '<<<' (a bash here-string) is not a heredoc
                strip = text[i + 2] == "-"
                self.delim = ["", False, strip, None]
                return i + 1 + strip
        return i

    def _at_word_start(self) -> bool:
        return self.prev is None or self.prev in _WORD_BREAK

    def _dollar(self, text: str, i: int) -> int:
        if i + 1 >= len(text):
            self.carry = "$"
            return i + 1
        if text.startswith("$((", i):
            self.stack.append("$((")
            self.arith_depth.append(0)
            return i + 3
        if text[i + 1] in "({":
            self.stack.append("$" + text[i + 1])
            return i + 2
        self.prev = "$"
        return i + 1

    def _arith_char(self, text: str, i: int) -> None:
        ch = text[i]
        if ch == "(":
            self.arith_depth[-1] += 1
        elif ch == ")":
            if self.arith_depth[-1] == 0 and text.startswith("))", i):
                self.stack.pop()
                self.arith_depth.pop()
            elif self.arith_depth[-1] > 0:
                self.arith_depth[-1] -= 1

    def _toggle(self, ch: str) -> None:
        if self.stack[-1] == ch:
            self.stack.pop()
        else:
            self.stack.append(ch)

    # ------------------------------------------------------------------ heredocs
    def _delim_char(self, ch: str) -> bool:
        """Read the delimiter word after '<<'; False when ``ch`` is for the normal lexer."""
        word, quoted, strip, quote = self.delim
        if quote is not None:
            if ch == quote:
                self.delim[3] = None
            else:
                self.delim[0] += ch
            return True
        if self.escaped:
            self.escaped = False
            self.delim[0] += ch
            return True
        if ch in " \t" and not word:
            return True
        if ch in _DELIM_END:
            self.pending.append(_Heredoc(word, quoted, strip))
            self.delim = None
            return False
        if ch in "'\"":
            self.delim[1], self.delim[3] = True, ch
        elif ch == "\\":
            self.delim[1], self.escaped = True, True
        else:
            self.delim[0] += ch
        return True

    def _start_body(self) -> None:
        self.heredoc = self.pending.pop(0)
        self.stack.append("qheredoc" if self.heredoc.quoted else "heredoc")
        self.hd_line, self.hd_dirty = "", False

    def _heredoc_char(self, text: str, i: int) -> int:
        ch = text[i]
        hd = self.heredoc
        assert hd is not None
        if ch == "\n" and not self.escaped:
            line = self.hd_line.lstrip("\t") if hd.strip_tabs else self.hd_line
            self.hd_line, dirty, self.hd_dirty = "", self.hd_dirty, False
            if line == hd.delim and not dirty:
                self.stack.pop()
                self.heredoc = None
                if self.pending:
                    self._start_body()
            return i + 1
        self.hd_line += ch
        if hd.quoted:
            return i + 1
        if self.escaped:
            self.escaped = False
            return i + 1
        if ch == "\\":
            self.escaped = True
            return i + 1
        if ch == "`" or (ch == "$" and (i + 1 >= len(text) or text[i + 1] in "({")):
            self.hd_dirty = True
            self.hd_line = self.hd_line[:-1]
            return self._dollar(text, i) if ch == "$" else self._push_backtick(i)
        return i + 1

    def _push_backtick(self, i: int) -> int:
        self.stack.append("`")
        return i + 1
