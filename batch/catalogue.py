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
             "'{column}' is leeg en tabblad Salarisverwerker geeft geen standaardwaarde.",
             "Vul '{column}' in deze rij in, of vul de standaard '{column}' in op tabblad Salarisverwerker."),
        Code("alleen_cijfers", E, "Alleen cijfers toegestaan",
             "'{column}' moet uit cijfers bestaan, maar is '{value}'.",
             "Laat letters, spaties en leestekens weg, bijvoorbeeld 1001."),
        Code("spatie", E, "Spatie in waarde",
             "'{column}' bevat een spatie of ander witruimteteken.",
             "Kopieer de waarde opnieuw uit Exact (tabblad 'Web API gebruiker'), zonder spaties."),
        Code("ja_nee", E, "Geen Ja of Nee",
             "'{column}' moet Ja of Nee zijn, maar is '{value}'.",
             "Kies Ja of Nee uit de keuzelijst."),
        Code("verloning_onbekend", E, "Onbekende verloning",
             "'{column}' is '{value}'; dat is geen verloningsperiode die asr-batch herkent.",
             "Kies Maandelijks of 4-wekelijks uit de keuzelijst."),
        Code("verloning_niet_ondersteund", E, "Verloning niet mogelijk bij a.s.r.",
             "'{column}' is '{value}', maar a.s.r. ondersteunt alleen maandelijkse en 4-wekelijkse verloning.",
             "Kies Maandelijks of 4-wekelijks; een andere verloning kan niet via de salariskoppeling."),
        Code("kvk_formaat", E, "Ongeldig KvK-nummer",
             "'{column}' moet 8 cijfers zijn, maar is '{value}'.",
             "Neem het KvK-nummer van 8 cijfers over uit het handelsregister, of laat de cel leeg."),
        Code("loonheffingennummer_formaat", E, "Ongeldig loonheffingennummer",
             "'{column}' moet 9 cijfers, de letter L en 2 cijfers zijn, maar is '{value}'.",
             "Schrijf het als 123456782L01, zonder spaties of punten, of laat de cel leeg."),
        Code("loonheffingennummer_elfproef", E, "Loonheffingennummer klopt niet",
             "De 9 cijfers van '{column}' ('{value}') voldoen niet aan de elfproef; er zit een tikfout in.",
             "Controleer het nummer op de loonaangifte of in Exact en typ het opnieuw over."),
        Code("datum", E, "Datum op de verkeerde plek",
             "'{column}' bevat een datum ({value}); hier hoort {expected}.",
             "Zet de cel op opmaak Tekst of Standaard en typ {expected}."),
        Code("formule_zonder_waarde", E, "Formule zonder berekende waarde",
             "'{column}' bevat een formule waarvan geen uitkomst is opgeslagen.",
             "Open het bestand in Excel, laat het herberekenen en sla het op; of vervang de formule door de waarde."),
        Code("excel_fout", E, "Excel-foutwaarde",
             "'{column}' bevat de Excel-foutwaarde {value}.",
             "Herstel de formule of typ de waarde zelf in."),
        Code("getal_met_decimalen", E, "Getal met decimalen",
             "'{column}' is het getal {value}; hier hoort een geheel nummer.",
             "Zet de cel op opmaak Tekst en typ het nummer zonder komma of punt."),
        # --- DGA ------------------------------------------------------------------------------------
        Code("dga_naam_ontbreekt", E, "Naam DGA ontbreekt",
             "DGA in verloning is Ja, maar '{column}' is leeg.",
             "Vul de naam van elke DGA in (meer namen scheiden met ;), of zet DGA in verloning op Nee."),
        Code("dga_nummer_ontbreekt", E, "Medewerkersnummer DGA ontbreekt",
             "DGA in verloning is Ja, maar '{column}' is leeg.",
             "Vul het medewerkersnummer van elke DGA in, in dezelfde volgorde als de namen (scheiden met ;)."),
        Code("dga_aantal", E, "Aantal namen en nummers verschilt",
             "Er staan {names} DGA-naam/namen maar {numbers} medewerkersnummer(s).",
             "Geef bij elke DGA-naam precies één medewerkersnummer, in dezelfde volgorde, gescheiden met ;."),
        Code("dga_overbodig", W, "DGA-gegevens bij DGA = Nee",
             "DGA in verloning is Nee, maar '{column}' is ingevuld.",
             "Zet DGA in verloning op Ja als er een DGA op de loonlijst staat; anders maakt u '{column}' leeg."),
        Code("dga_bsn", W, "Medewerkersnummer lijkt op een BSN",
             "Medewerkersnummer DGA '{value}' heeft 9 cijfers en voldoet aan de elfproef: het lijkt een BSN.",
             "Gebruik het medewerkersnummer uit Exact; een BSN mag niet als medewerkersnummer worden gebruikt."),
        # --- across rows ------------------------------------------------------------------------------
        Code("dubbele_werkgeverscode", E, "Werkgeverscode komt vaker voor",
             "Werkgeverscode {value} staat ook in rij {others}.",
             "Elke werkgever hoort één keer in het bestand; verwijder de dubbele rij of corrigeer de code."),
        Code("secret_conflict", E, "Tweede Client Secret bij dezelfde Client ID",
             "Deze Client ID heeft in rij {first} een ander Client Secret dan hier.",
             "Eén Web API gebruiker heeft één Client Secret; neem het juiste secret over uit Exact in alle rijen."),
        # --- file level -------------------------------------------------------------------------------
        Code("kolom_onbekend", W, "Onbekende kolom",
             "Kolom '{column}' wordt niet herkend en wordt genegeerd.",
             "{suggestion}"),
        Code("kolom_dubbel", W, "Kolom komt twee keer voor",
             "Kolom '{column}' betekent hetzelfde als kolom '{first}'; alleen '{first}' wordt gelezen.",
             "Verwijder een van de twee kolommen."),
        Code("salarisverwerker_ontbreekt", W, "Tabblad Salarisverwerker ontbreekt",
             "Het tabblad Salarisverwerker ontbreekt; de aanmeldingen krijgen geen kantoorgegevens.",
             "Voeg het tabblad toe (zie asr-batch template) met naam, contactpersoon en e-mailadres."),
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
    fill = {"column": column or "", "value": "***" if secret else (value or ""), **params}
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
