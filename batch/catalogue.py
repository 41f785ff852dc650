"""The issue catalogue: every code the tool can report, with its severity, message and fix, in one place.

Messages are Dutch `str.format` templates. Positions (row, field, column header, cell) are filled by
`make_issue`, never by the caller's string building, so every issue has the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str  # short Dutch title, for reports
    message: str  # Dutch template: what is wrong
    fix: str  # Dutch template: how to fix it


E, W = Severity.ERROR, Severity.WARNING

CATALOGUE: dict[str, Code] = {
    c.code: c
    for c in (
        # --- values -------------------------------------------------------------------------------
        Code("verplicht", E, "Verplicht veld is leeg",
             "'{column}' is leeg.",
             "Vul '{column}' in; dit veld is verplicht."),
        Code("verplicht_standaard", E, "Verplicht veld is leeg",
             "'{column}' is leeg en op tabblad Salarisverwerker is geen standaardwaarde voor '{column}' ingevuld.",
             "Vul '{column}' in deze rij in, of vul de standaard '{column}' in op tabblad Salarisverwerker."),
        Code("verplicht_eigen_paar", E, "Client ID en Client Secret horen bij elkaar",
             "'{column}' is leeg, maar deze rij heeft een eigen {other}; de standaard van tabblad Salarisverwerker "
             "hoort bij een andere Web API gebruiker.",
             "Vul ook '{column}' van deze Web API gebruiker in (Exact, tabblad 'Web API gebruiker'), of maak {other} "
             "leeg om de standaard van tabblad Salarisverwerker te gebruiken."),
        Code("alleen_cijfers", E, "Alleen cijfers toegestaan",
             "'{column}' moet uit cijfers bestaan, maar is '{value}'.",
             "Laat letters, spaties en leestekens weg, bijvoorbeeld {example}."),
        Code("spatie", E, "Spatie in waarde",
             "'{column}' bevat een spatie, tab of regeleinde.",
             "Kopieer de waarde opnieuw uit Exact (Onderhoud → Systeembeheer → Toegangsbeheer, tabblad "
             "'Web API gebruiker'), zonder spaties."),
        Code("plaatshouder", E, "Geen echte waarde",
             "'{column}' bevat een opvulling (zoals '-' of 'nvt') in plaats van de waarde uit Exact.",
             "Kopieer '{column}' uit Exact (Onderhoud → Systeembeheer → Toegangsbeheer, tabblad 'Web API gebruiker'), "
             "of laat de cel leeg; dan geldt de standaard van tabblad Salarisverwerker."),
        Code("ja_nee", E, "Geen Ja of Nee",
             "'{column}' moet Ja of Nee zijn, maar is '{value}'.",
             "Vul Ja of Nee in (of kies uit de keuzelijst)."),
        Code("ja_nee_bijna", E, "Ja of Nee verkeerd gespeld",
             "'{column}' is '{value}'; bedoelt u {suggestion}?",
             "Vul {suggestion} in (of kies uit de keuzelijst)."),
        Code("verloning_bijna", E, "Verloning verkeerd gespeld",
             "'{column}' is '{value}'; bedoelt u {suggestion}?",
             "Vul {suggestion} in (of kies uit de keuzelijst)."),
        Code("verloning_onbekend", E, "Onbekende verloning",
             "'{column}' is '{value}'; dat is geen verloningsperiode die asr-batch herkent.",
             "Vul Maandelijks of 4-wekelijks in (of kies uit de keuzelijst)."),
        Code("verloning_niet_ondersteund", E, "Verloning niet mogelijk bij a.s.r.",
             "'{column}' is '{value}', maar a.s.r. ondersteunt alleen maandelijkse en 4-wekelijkse verloning.",
             "Kies Maandelijks of 4-wekelijks; een andere verloning kan niet via de salariskoppeling."),
        Code("kvk_formaat", E, "Ongeldig KvK-nummer",
             "'{column}' moet 8 cijfers zijn, maar is '{value}'.",
             "Neem het KvK-nummer van 8 cijfers over uit het Handelsregister. Begint het met een 0? Zet de cel op "
             "opmaak Tekst en typ het opnieuw, anders haalt Excel de 0 weg. Of laat de cel leeg."),
        Code("loonheffingennummer_formaat", E, "Ongeldig loonheffingennummer",
             "'{column}' moet 9 cijfers, de letter L en 2 cijfers zijn, maar is '{value}'.",
             "Schrijf het als 123456782L01, zonder spaties of punten, of laat de cel leeg."),
        Code("loonheffingennummer_elfproef", E, "Loonheffingennummer klopt niet",
             "De 9 cijfers van '{column}' ('{value}') voldoen niet aan de elfproef; er zit waarschijnlijk een "
             "tikfout in.",
             "Controleer het nummer op de aangifte loonheffingen of in Exact en typ het opnieuw over."),
        Code("datum", E, "Datum op de verkeerde plek",
             "'{column}' bevat een datum ({value}); hier hoort {expected}.",
             "Zet de cel op opmaak Tekst of Standaard en typ opnieuw {expected}."),
        Code("formule_zonder_waarde", E, "Formule zonder berekende waarde",
             "'{column}' bevat een formule waarvan geen uitkomst is opgeslagen.",
             "Open het bestand in Excel, laat het herberekenen en sla het op; of vervang de formule door de waarde."),
        Code("excel_fout", E, "Excel-foutwaarde",
             "'{column}' bevat de Excel-foutwaarde {value}.",
             "Herstel de formule of typ de waarde zelf in."),
        Code("getal_met_decimalen", E, "Getal met decimalen",
             "'{column}' is het getal {value}; hier hoort een geheel nummer.",
             "Zet de cel op opmaak Tekst en typ het nummer zonder komma of punt."),
        # --- what a spreadsheet did to the data (it guessed a type) ---------------------------------
        Code("getal_zonder_voorloopnullen", W, "Code als getal opgeslagen",
             "'{column}' staat als getal in de cel ({value}): getal zonder voorloopnullen? Excel en LibreOffice "
             "maken van 0087 het getal 87.",
             "Maak de kolom tekst en typ de code zoals in Exact (opmaak Tekst, of begin met een apostrof: '0087). "
             "Klopt {value} precies, dan kunt u deze waarschuwing negeren."),
        Code("datum_in_tekst", W, "Tekst is een datum geworden",
             "'{column}' is een datum geworden ({value}); een spreadsheet maakt van tekst als 1-4 of 1/4 een datum "
             "en zet er een jaar bij.",
             "Controleer wat er hoort te staan: zet de cel op opmaak Tekst en typ de tekst opnieuw."),
        Code("werkgeverscode_in_register", E, "Werkgever staat al in het register met voorloopnullen",
             "Werkgeverscode {value} staat niet in het register, maar {known} wel: dezelfde code met andere "
             "voorloopnullen. Er is niets voor deze rij vastgelegd; een werkgever mag niet twee keer in het "
             "register staan.",
             "Bedoelt u {known}? Zet de kolom op opmaak Tekst en typ de code zoals in Exact ({known}). Is {known} "
             "in het register een vergissing, haal die dan weg met 'asr-batch forget {known}'."),
        # --- DGA ------------------------------------------------------------------------------------
        Code("dga_naam_ontbreekt", E, "Naam DGA ontbreekt",
             "'{dga_column}' is Ja, maar {missing}.",
             "Vul de naam van elke DGA in (meer namen scheiden met ;), of zet '{dga_column}' op Nee."),
        Code("dga_nummer_ontbreekt", E, "Medewerkersnummer DGA ontbreekt",
             "'{dga_column}' is Ja, maar {missing}.",
             "Vul het medewerkersnummer van elke DGA in, in dezelfde volgorde als de namen (scheiden met ;)."),
        Code("dga_aantal", E, "Aantal namen en nummers verschilt",
             "Het aantal DGA-namen ({names}) en het aantal medewerkersnummers ({numbers}) is niet gelijk.",
             "Geef elke DGA precies één medewerkersnummer, in dezelfde volgorde als de namen. Scheid namen en "
             "nummers met een puntkomma (;)."),
        Code("dga_scheidingsteken", E, "DGA's gescheiden met een ander teken dan ;",
             "In '{column}' staan {parts} gescheiden door {separator}; asr-batch scheidt alleen bij een puntkomma "
             "(;), dus leest het daar één {noun}.",
             "Schrijf de rij met puntkomma's, in dezelfde volgorde: '{names_column}': {names}, "
             "'{numbers_column}': {numbers}."),
        Code("dga_overbodig", W, "DGA-gegevens bij DGA = Nee",
             "'{dga_column}' is Nee, maar '{column}' is ingevuld.",
             "Zet '{dga_column}' op Ja als er een DGA op de loonlijst staat; anders maakt u '{column}' leeg."),
        Code("dga_bsn", W, "Medewerkersnummer lijkt op een BSN",
             "'{column}' bevat 9 cijfers die voldoen aan de elfproef, dus mogelijk een BSN.",
             "Vul het medewerkersnummer uit Exact in, nooit een BSN (AVG). Is dit echt het medewerkersnummer, "
             "dan kunt u deze waarschuwing negeren."),
        # --- across rows ------------------------------------------------------------------------------
        Code("dubbele_werkgeverscode", E, "Werkgeverscode komt vaker voor",
             "Werkgeverscode {value} staat ook in rij {others}.",
             "Elke werkgever hoort één keer in het bestand; verwijder de dubbele rij of corrigeer de code."),
        Code("werkgeverscode_voorloopnullen", E, "Werkgeverscode komt vaker voor, met andere voorloopnullen",
             "Werkgeverscode {value} staat ook in rij {others} als {other}: dezelfde code met andere voorloopnullen, "
             "dus dezelfde werkgever.",
             "Elke werkgever hoort één keer in het bestand, met de code zoals in Exact; verwijder de dubbele rij of "
             "corrigeer de code. Zet de kolom op opmaak Tekst, zodat voorloopnullen blijven staan."),
        Code("secret_conflict", E, "Tweede Client Secret bij dezelfde Client ID",
             "Client ID is hetzelfde als in rij {first}, maar het Client Secret verschilt.",
             "Eén Web API gebruiker heeft één Client Secret. Zoek het juiste Client Secret op in Exact (tabblad "
             "'Web API gebruiker') en zet dat in alle rijen met deze Client ID."),
        # --- file level -------------------------------------------------------------------------------
        Code("kolom_onbekend", W, "Onbekende kolom",
             "Kolom '{column}' wordt niet herkend en wordt genegeerd.",
             "{suggestion}"),
        Code("kolom_dubbel", W, "Kolom komt twee keer voor",
             "Kolom '{column}' betekent hetzelfde als kolom '{first}'; alleen '{first}' wordt gelezen.",
             "Verwijder een van de twee kolommen."),
        Code("salarisverwerker_ontbreekt", W, "Tabblad Salarisverwerker ontbreekt",
             "Het tabblad Salarisverwerker ontbreekt: er zijn geen kantoorgegevens en geen standaard Client ID en "
             "Client Secret.",
             "Voeg het tabblad Salarisverwerker toe (neem het over uit een lege werkmap van asr-batch template) met "
             "naam, contactpersoon, e-mailadres en de standaard Client ID en Client Secret."),
    )
}


@dataclass(frozen=True)
class Issue:
    severity: Severity
    code: str
    message: str
    fix: str
    row: int | None = None
    field: str | None = None
    column: str | None = None
    cell: str | None = None
    value: str | None = None  # the cell's text for reports; None for secret fields

    def to_dict(self) -> dict[str, object]:
        """The schema's issue object (resultaat.json)."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "field": self.field,
            "column": self.column,
            "cell": self.cell,
            "message": f"{self.message} {self.fix}",
        }


def make_issue(
    code: str,
    *,
    row: int | None = None,
    field: str | None = None,
    column: str | None = None,
    cell: str | None = None,
    value: str | None = None,
    secret: bool = False,
    **params: object,
) -> Issue:
    """Fill a catalogue entry with its position. A secret value is never put into the message."""
    entry = CATALOGUE[code]
    shown = None if secret else value
    fill = {"column": column or "", "value": "***" if secret else (value or ""), "dga_column": "DGA in verloning",
            "example": "", "missing": "", "other": "", **params}
    return Issue(
        severity=entry.severity,
        code=code,
        message=entry.message.format(**fill),
        fix=entry.fix.format(**fill),
        row=row,
        field=field,
        column=column,
        cell=cell,
        value=shown,
    )
