"""What a clerk marks, and the rules it keeps: which state each mark leads to and from which, dates in their order
(linked, then submitted, then confirmed, then the first exchange), and submitting a confirmed (or ended) werkgever
again only as an explicit choice. Checked for every werkgever before anything is written: all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from batch.errors import UnusableInput

# What `mark` takes: the JSON codes, the Dutch names, and `note` for a note alone.
KINDS = ("linked", "submitted", "confirmed", "queried", "ended", "note")
DUTCH = {"gekoppeld": "linked", "aangemeld": "submitted", "bevestigd": "confirmed", "navragen": "queried",
         "beeindigd": "ended", "beëindigd": "ended", "notitie": "note"}
DONE = {"linked": "gekoppeld", "submitted": "aangemeld", "confirmed": "bevestigd", "queried": "op navragen gezet",
        "ended": "beëindigd", "note": "notitie vastgelegd"}
NOTE_LENGTH = 500


def kind_of(text: str) -> str | None:
    """A mark by its code or its Dutch name; None: no such mark."""
    chosen = text.strip().lower()
    return chosen if chosen in KINDS else DUTCH.get(chosen)


def clean_note(text: str) -> str:
    """A note as kept: one line (line breaks and tabs become spaces), at most NOTE_LENGTH characters, no other
    control characters. An empty note clears it."""
    note = re.sub(r"[\t\r\n]+", " ", text).strip()
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in note):
        raise UnusableInput("De notitie bevat een onzichtbaar stuurteken. Er is niets gewijzigd.",
                            "Typ de notitie opnieuw, zonder te plakken uit een ander programma.")
    if len(note) > NOTE_LENGTH:
        raise UnusableInput(f"De notitie is {len(note)} tekens lang; het register houdt er hoogstens {NOTE_LENGTH}. "
                            "Er is niets gewijzigd.", "Houd het kort: het kenmerk van a.s.r., wie u sprak en wanneer.")
    return note


def _day(value: date) -> str:
    return f"{value:%d-%m-%Y}"


@dataclass(frozen=True)
class Mark:
    """One mark for one or more werkgevers. `note`: None leaves the note as it is, "" clears it. `again`: submit a
    confirmed or ended werkgever anew (an explicit choice)."""

    kind: str
    on: date
    first_exchange: date | None = None
    note: str | None = None
    again: bool = False

    def detail(self) -> str:
        """The event log's detail (ISO dates, as every event has them)."""
        texts = {"linked": f"gekoppeld op {self.on}", "submitted": f"{'opnieuw ' if self.again else ''}aangemeld op "
                 f"{self.on}", "confirmed": f"bevestigd op {self.on}; eerste uitwisseling {self.first_exchange}",
                 "queried": f"navragen op {self.on}", "ended": f"beëindigd op {self.on}", "note": "notitie"}
        text = texts[self.kind]
        if self.note is not None:
            text += f"; notitie: {self.note}" if self.note else "; notitie gewist"
        return text

    def refusal(self, code: str, known: dict[str, Any]) -> tuple[str, str] | None:
        """Why this mark cannot be applied to this werkgever (message, fix), or None."""
        state, submitted, confirmed = known["state"], known["submitted_on"], known["confirmed_on"]
        linked = known.get("linked_on")
        if self.kind == "linked":
            if submitted is not None and self.on > submitted:
                return (f"gekoppeld op {_day(self.on)} ligt na de aanmelding op {_day(submitted)}; stap 1 gaat "
                        "vóór stap 2.", "Geef met --on de dag waarop de werkgever in Exact werd gekoppeld.")
        elif self.kind == "submitted":
            return self._submission(code, state, linked, confirmed, known)
        elif self.kind == "confirmed":
            return self._confirmation(code, state, submitted or self.on, linked)
        elif self.kind == "queried":
            if state in ("new", "ended"):
                return (f"{code} is {'nog niet aangemeld' if state == 'new' else 'beëindigd'}; a.s.r. kan er niet "
                        "over navragen.", f"Leg eerst de aanmelding vast: asr-batch mark submitted {code} --on DATUM.")
            if submitted is not None and self.on < submitted:
                return (f"navragen op {_day(self.on)} ligt vóór de aanmelding op {_day(submitted)}.",
                        "Geef met --on de dag waarop a.s.r. terugkwam.")
        return None

    def _submission(self, code: str, state: str, linked: date | None, confirmed: date | None,
                    known: dict[str, Any]) -> tuple[str, str] | None:
        if state in ("confirmed", "ended") and not self.again:
            ended: date | None = known.get("ended_on")
            day = confirmed if state == "confirmed" else ended
            what = ("al bevestigd" if state == "confirmed" else "beëindigd") + (f" op {_day(day)}" if day else "")
            return (f"{code} is {what}; opnieuw aanmelden is een bewuste keuze.",
                    f"Meldt u hem echt opnieuw aan (bijvoorbeeld met een nieuw Client Secret), gebruik dan 'asr-batch "
                    f"mark submitted {code} --opnieuw'; anders is er niets te doen.")
        if linked is not None and self.on < linked:
            return (f"aangemeld op {_day(self.on)} ligt vóór het koppelen in Exact op {_day(linked)}; stap 1 gaat vóór "
                    "stap 2.", "Controleer beide datums; geef met --on de dag van de aanmelding.")
        if confirmed is not None and self.on < confirmed:
            return (f"aangemeld op {_day(self.on)} ligt vóór de (eerdere) bevestiging op {_day(confirmed)}; een "
                    "nieuwe aanmelding komt na de bevestiging.",
                    "Geef met --on de dag van de nieuwe aanmelding.")
        return None

    def _confirmation(self, code: str, state: str, submitted: date, linked: date | None) -> tuple[str, str] | None:
        if state == "ended":
            return (f"{code} is beëindigd; een bevestiging hoort bij een aanmelding.",
                    f"Meld hem eerst opnieuw aan: asr-batch mark submitted {code} --opnieuw.")
        if self.on < submitted:
            return (f"bevestigd op {_day(self.on)} ligt vóór de aanmelding op {_day(submitted)}; eerst aangemeld, "
                    "dan bevestigd.", "Controleer beide datums; geef met --on de dag van de bevestiging door a.s.r.")
        if self.first_exchange is not None and self.first_exchange < self.on:
            return (f"de eerste uitwisseling op {_day(self.first_exchange)} ligt vóór de bevestiging op "
                    f"{_day(self.on)}.", "Controleer beide datums: --first-exchange is de datum die a.s.r. in de "
                    "bevestiging noemt, --on de dag van de bevestiging.")
        if linked is not None and submitted < linked:
            return (f"aangemeld op {_day(submitted)} ligt vóór het koppelen in Exact op {_day(linked)}.",
                    "Controleer de datums; geef met --on de dag van de bevestiging.")
        return None

    def values(self, known: dict[str, Any]) -> dict[str, Any]:
        """The register's columns once this mark is applied to the werkgever `known` (its columns now)."""
        marked = {"marked_fingerprint": known["fingerprint"], "marked_field_prints": known.get("field_prints"),
                  "marked_plain_values": known.get("plain_values")}
        values: dict[str, Any] = {}
        if self.kind == "linked":
            values = {"linked_on": self.on}
        elif self.kind == "submitted":  # the earlier confirmation dates stay until a new one (marked_state: earlier)
            values = {"state": "submitted", "submitted_on": self.on, "marked_state": "submitted", **marked}
        elif self.kind == "confirmed":
            values = {"state": "confirmed", "confirmed_on": self.on, "first_exchange": self.first_exchange,
                      "submitted_on": known["submitted_on"] or self.on, "marked_state": "confirmed", **marked}
        elif self.kind == "queried":
            values = {"state": "queried", "queried_on": self.on}
        elif self.kind == "ended":
            values = {"state": "ended", "ended_on": self.on}
        if self.note is not None:
            values["note"] = self.note or None
        return values


def check_mark(mark: Mark) -> Mark:
    """What holds for every werkgever alike: a date that happened, a note where one belongs. Returns the mark with
    its note as kept (clean_note)."""
    if mark.kind not in KINDS:
        raise UnusableInput(f"Onbekende stap '{mark.kind}'. Er is niets gewijzigd.",
                            "Kies linked, submitted, confirmed, queried, ended of note.")
    if mark.note is not None:
        mark = replace(mark, note=clean_note(mark.note))
    if mark.kind == "confirmed" and mark.first_exchange is None:
        raise UnusableInput("Bij een bevestiging hoort de datum van de eerste gegevensuitwisseling.",
                            "Geef die datum mee (--first-exchange).")
    if mark.kind != "note" and mark.on > date.today():
        raise UnusableInput(f"De datum {mark.on:%d-%m-%Y} ligt in de toekomst. Er is niets gewijzigd.",
                            "Geef bij --on de dag waarop het gebeurde, of laat --on weg voor vandaag.")
    if mark.kind in ("queried", "note") and not mark.note:
        what = "navragen" if mark.kind == "queried" else "notitie"
        raise UnusableInput(f"Bij 'mark {what}' hoort een notitie: wat a.s.r. vroeg of weigerde, hun kenmerk, wie u "
                            "sprak.", "Voeg --note toe, bijvoorbeeld --note \"a.s.r. vraagt loonheffingennummer, "
                            "kenmerk 12345\".")
    return mark


def check_all(mark: Mark, chosen: list[str], known: dict[str, dict[str, Any]]) -> None:
    """Every werkgever first: one that cannot take the mark stops all of them, with every reason named."""
    refused = [(code, found) for code in chosen if (found := mark.refusal(code, known[code])) is not None]
    if not refused:
        return
    if len(refused) == 1:
        code, (message, fix) = refused[0]
        text = message if message.startswith(code) else f"{code}: {message}"
        raise UnusableInput(f"{text[0].upper()}{text[1:]} Er is niets gewijzigd.", fix)
    listed = "; ".join(message if message.startswith(code) else f"{code}: {message}" for code, (message, _) in refused)
    raise UnusableInput(f"Niet vastgelegd: {listed} Er is niets gewijzigd.", refused[0][1][1])
