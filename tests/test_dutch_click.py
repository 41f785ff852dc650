"""Issue 28: Click's words never reach the clerk. Every command's --help and every kind of usage error is run
through the real entry (batch.usage.run_group) and held against a list of English words made from Click's own
msgids (every string its source passes to gettext) and the names of its value types ("TEXT", "PATH")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from batch.cli import main
from batch.usage import run_group

# Words of Click's msgids that are Dutch too, or that our own texts use as Dutch ("Start de pagina").
DUTCH_TOO = {"in", "is", "of", "argument", "start", "open", "extra", "windows", "bash"}


def _click_words() -> set[str]:
    msgids: set[str] = set()
    for source in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                msgids |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    type_names = {name for kind in vars(click.types).values()
                  if isinstance(kind, type) and issubclass(kind, click.ParamType)
                  and isinstance(name := vars(kind).get("name"), str)}
    text = " ".join(re.sub(r"\{[^}]*\}|%\([^)]*\)s", " ", m) for m in msgids | type_names)
    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text + " OPTIONS COMMAND ARGS")} - DUTCH_TOO


CLICK_WORDS = _click_words()


def english_in(text: str) -> set[str]:
    """Click's words in `text`, leaving out what is ours by name: options (--help), commands' program name,
    environment variables and addresses."""
    ours = re.sub(r"(?<![\w-])--?[\w-]+|asr-batch|\$\w+|\w+://\S*", " ", text)
    return {w for w in re.findall(r"[^\W\d_]{2,}", ours) if w.lower() in CLICK_WORDS}


def test_the_word_list_is_made_from_clicks_texts() -> None:
    assert {"usage", "options", "commands", "show", "message", "exit", "missing", "arguments", "error", "try",
            "default", "text", "path", "integer", "range", "aborted", "unexpected", "such"} <= CLICK_WORDS
    assert english_in("Usage: asr-batch [OPTIONS] FILE") == {"Usage", "OPTIONS", "FILE"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """asr-batch as the console entry runs it: exit code and everything it printed."""
    code = 0
    try:
        run_group(main, list(args))
    except SystemExit as done:
        code = int(done.code or 0)
    printed = capsys.readouterr()
    return code, printed.out + printed.err


COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_dutch(capsys: pytest.CaptureFixture[str], command: str | None) -> None:
    code, text = run(capsys, *([command] if command else []), "--help")
    assert code == 0
    assert text.startswith(f"Gebruik: asr-batch{' ' + command if command else ''} [OPTIES]")
    assert "Opties:" in text
    assert "Toon deze hulp en stop." in text
    assert english_in(text) == set(), text


def test_version_help_and_no_arguments_are_dutch(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(capsys)
    assert code == 2
    assert "Opdrachten:" in text and "Toon het versienummer en stop." in text
    assert english_in(text) == set()


def _wrong_options() -> list[tuple[str, ...]]:
    """Per command, each option used wrongly: a flag given a value, a value option given none."""
    wrong = []
    for name in [None, *COMMANDS]:
        command = main if name is None else main.commands[name]
        prefix = () if name is None else (name,)
        for param in command.params:
            if isinstance(param, click.Option):
                long = max(param.opts, key=len)
                wrong.append((*prefix, f"{long}=ja") if param.is_flag else (*prefix, long))
    return wrong


USAGE_ERRORS = [
    ("proces", "werkgevers.xlsx"), ("--debug",), ("validate",), ("process",), ("forget",),
    ("validate", "--geen-optie", "a.xlsx"), ("status", "--stat", "new"), ("--geen-optie",),
    ("validate", "a.xlsx", "b.xlsx"), ("template", "a.xlsx", "b.xlsx"), ("status", "extra"), ("purge", "x"),
    ("serve", "x"), ("process", "-j", "0", "a.xlsx"), ("process", "-j", "veel", "a.xlsx"),
    ("serve", "--port", "70000"), ("status", "--waiting-over", "-1"), ("process", "--format", "doc", "a.xlsx"),
    ("status", "--state", "klaar"), ("mark", "verstuurd", "1001"), ("process", "--templates", "pyproject.toml", "a"),
    *_wrong_options(),
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_every_usage_error_is_dutch_and_exits_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, text = run(capsys, *args)
    assert code == 2
    assert text.startswith("asr-batch: onjuiste opdracht: "), text
    assert "Oplossing: zie 'asr-batch" in text
    assert english_in(text) == set(), text


@pytest.mark.parametrize(("args", "message"), [
    (("proces", "a.xlsx"), "onbekende opdracht 'proces'; bedoelt u 'process'? Kies template, validate, process, "
                           "status, mark, forget, purge of serve."),
    (("--debug",), "geef een opdracht: kies template, validate, process, status, mark, forget, purge of serve."),
    (("process",), "het argument WERKMAP ontbreekt (bijvoorbeeld: werkgevers.xlsx)."),
    (("forget",), "het argument WERKGEVERSCODE ontbreekt (bijvoorbeeld: 1001 1002)."),
    (("mark", "verstuurd", "1001"), "ongeldige waarde voor STATUS: kies submitted (aangemeld), confirmed "
                                    "(bevestigd), linked (gekoppeld), queried (navragen), ended (beeindigd) of note "
                                    "(notitie), niet 'verstuurd'."),
    (("process", "--only-pendin", "a.xlsx"), "onbekende optie --only-pendin; bedoelt u --only-pending?"),
    (("process", "a.xlsx", "-o"), "bij -o hoort een waarde, direct erachter: -o MAP."),
    (("process", "--strict=ja", "a.xlsx"), "--strict is een schakelaar en neemt geen waarde; schrijf alleen "
                                            "--strict."),
    (("validate", "mijn", "werkgevers.xlsx"), "onverwacht argument 'werkgevers.xlsx'. Staat er een spatie in een "
                                              "bestandsnaam, zet de naam dan tussen aanhalingstekens (\"mijn "
                                              "werkgevers.xlsx\")."),
    (("validate", "a", "b", "c"), "onverwachte argumenten 'b' 'c'."),
    (("process", "-j", "0", "a.xlsx"), "ongeldige waarde voor '-j' / '--jobs': 0 is te klein; het moet minstens 1 "
                                       "zijn."),
    (("process", "-j", "veel", "a.xlsx"), "ongeldige waarde voor '-j' / '--jobs': 'veel' is geen geheel getal."),
    (("serve", "--port", "70000"), "ongeldige waarde voor '--port': 70000 ligt niet tussen 0 en 65535."),
    (("process", "--templates", "pyproject.toml", "a.xlsx"),
     "ongeldige waarde voor '--templates': 'pyproject.toml' is een bestand; hier hoort een map."),
])
def test_usage_messages(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    code, text = run(capsys, *args)
    assert code == 2
    assert text.splitlines()[0].startswith(f"asr-batch: onjuiste opdracht: {message}")


def test_the_fix_names_the_command_that_was_typed(capsys: pytest.CaptureFixture[str]) -> None:
    _, text = run(capsys, "mark", "--on")
    assert text.splitlines() == ["asr-batch: onjuiste opdracht: bij --on hoort een waarde, direct erachter: --on "
                                 "DATUM.", "Oplossing: zie 'asr-batch mark --help'."]
