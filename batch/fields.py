"""The one field table: every column of the Werkgevers sheet, defined once.

The template writer, the reader (header matching), the normaliser, the pandera schema,
the documents and the README's column table are all derived from `FIELDS`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """How a field's raw cell text is parsed (see `batch.values`)."""

    TEXT = "text"
    DIGITS = "digits"
    # A kind name, not a password. Values of this kind have no whitespace inside (Client ID / Client Secret).
    TOKEN = "token"  # noqa: S105  # nosec B105
    JA_NEE = "ja_nee"
    VERLONING = "verloning"
    NAMES = "names"  # one or more names separated by ';'
    NUMBERS = "numbers"  # one or more digit strings separated by ';'
    KVK = "kvk"
    LOONHEFFINGENNUMMER = "loonheffingennummer"


class Need(Enum):
    """When a value must be filled in."""

    ALWAYS = "ja"
    OFFICE_DEFAULT = "ja¹"  # from the row, else from the Salarisverwerker sheet
    IF_DGA = "als DGA = Ja"
    NEVER = "nee"


JA, NEE = "Ja", "Nee"
MAANDELIJKS, VIERWEKELIJKS = "Maandelijks", "4-wekelijks"


@dataclass(frozen=True)
class Field:
    key: str
    header: str
    aliases: tuple[str, ...]
    column_required: bool
    need: Need
    kind: Kind
    rule: str  # the rule as PRODUCT.md words it (README column table)
    help: str  # Dutch input message in the template
    example: str
    width: int
    choices: tuple[str, ...] = ()
    secret: bool = False

    @property
    def as_text(self) -> bool:
        """Identifier columns are formatted as text in the template so leading zeros stay."""
        return self.kind in {Kind.DIGITS, Kind.TOKEN, Kind.NUMBERS, Kind.KVK, Kind.LOONHEFFINGENNUMMER}


FIELDS: tuple[Field, ...] = (
    Field(
        key="werkgeverscode",
        header="Werkgeverscode",
        aliases=("code werkgever", "werkgevercode", "werkgever code", "werkgeversnummer", "werkgevernummer",
                 "nummer werkgever", "wg code", "wgcode", "code"),
        column_required=True,
        need=Need.ALWAYS,
        kind=Kind.DIGITS,
        rule="digits only; kept as text (leading zeros stay, Excel's `1001.0` is `1001`); unique in the file",
        help="Het nummer vóór de bedrijfsnaam op tabblad 'Autorisatie Werkgevers' in Exact. Alleen cijfers.",
        example="1001",
        width=16,
    ),
    Field(
        key="naam",
        header="Naam werkgever",
        aliases=("werkgever naam", "werkgeversnaam", "naam", "werkgever", "bedrijfsnaam", "naam bedrijf",
                 "bedrijf", "onderneming", "naam onderneming", "organisatie", "statutaire naam"),
        column_required=True,
        need=Need.ALWAYS,
        kind=Kind.TEXT,
        rule="not blank",
        help="De naam van de werkgever zoals in Exact HR Salaris & Gemak.",
        example="Bakkerij De Korenaar B.V.",
        width=30,
    ),
    Field(
        key="client_id",
        header="Client ID",
        aliases=("clientid", "client_id", "web api client id", "id client", "client identifier"),
        column_required=False,
        need=Need.OFFICE_DEFAULT,
        kind=Kind.TOKEN,
        rule="no spaces inside; a placeholder such as `-` or `nvt` is refused",
        help="In Exact: Onderhoud → Systeembeheer → Toegangsbeheer, tabblad 'Web API gebruiker'. "
             "Leeg = de standaard van tabblad Salarisverwerker.",
        example="a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
        width=38,
    ),
    Field(
        key="client_secret",
        header="Client Secret",
        aliases=("clientsecret", "client_secret", "secret", "web api client secret", "geheim", "client geheim"),
        column_required=False,
        need=Need.OFFICE_DEFAULT,
        kind=Kind.TOKEN,
        rule="no spaces inside; no placeholder; one Client ID has one secret throughout the file",
        help="In Exact: Onderhoud → Systeembeheer → Toegangsbeheer, tabblad 'Web API gebruiker'. Vertrouwelijk. "
             "Leeg = de standaard van tabblad Salarisverwerker.",
        example="s3cr3t-Voorbeeld-9f8e7d",
        width=30,
        secret=True,
    ),
    Field(
        key="dga",
        header="DGA in verloning",
        aliases=("dga", "dga aanwezig", "dga in de verloning", "dga op loonlijst", "dga verloond",
                 "directeur grootaandeelhouder", "dga ja nee", "dga in salarisadministratie"),
        column_required=True,
        need=Need.ALWAYS,
        kind=Kind.JA_NEE,
        rule="Ja / Nee",
        help="Staat er een directeur-grootaandeelhouder (DGA) op de loonlijst? Ja of Nee.",
        example=NEE,
        width=11,
        choices=(JA, NEE),
    ),
    Field(
        key="dga_naam",
        header="Naam DGA",
        aliases=("dga naam", "namen dga", "dga namen", "naam dga s", "naam directeur grootaandeelhouder"),
        column_required=False,
        need=Need.IF_DGA,
        kind=Kind.NAMES,
        rule="one or more names, separated by `;`",
        help="Alleen bij DGA = Ja. Meer DGA's: scheid de namen met ;",
        example="J. de Vries; M. Öztürk",
        width=26,
    ),
    Field(
        key="dga_medewerkersnummer",
        header="Medewerkersnummer DGA",
        aliases=("dga medewerkersnummer", "medewerkernummer dga", "personeelsnummer dga",
                 "dga personeelsnummer", "werknemersnummer dga", "dga werknemersnummer", "dga nummer",
                 "nummer dga", "medewerkersnummers dga"),
        column_required=False,
        need=Need.IF_DGA,
        kind=Kind.NUMBERS,
        rule="digits; as many as names, in the same order",
        help="Alleen bij DGA = Ja. Het medewerkersnummer in Exact (geen BSN). Meer DGA's: scheid met ; "
             "in dezelfde volgorde als de namen.",
        example="12; 15",
        width=15,
    ),
    Field(
        key="dertiende_maand",
        header="13e maand",
        aliases=("13de maand", "dertiende maand", "13 maand", "13e maand uitkering", "13e maands uitkering",
                 "dertiende maand uitkering", "13emaand"),
        column_required=True,
        need=Need.ALWAYS,
        kind=Kind.JA_NEE,
        rule="Ja / Nee",
        help="Krijgen de medewerkers een 13e maand? Ja of Nee.",
        example=JA,
        width=10,
        choices=(JA, NEE),
    ),
    Field(
        key="verloning",
        header="Verloning",
        aliases=("verloningsperiode", "verloningstermijn", "verloningsfrequentie", "verloningsritme",
                 "loonperiode", "salarisperiode", "betaalperiode", "periode", "frequentie", "tijdvak",
                 "aangiftetijdvak"),
        column_required=True,
        need=Need.ALWAYS,
        kind=Kind.VERLONING,
        rule="Maandelijks / 4-wekelijks",
        help="Hoe vaak wordt er verloond? Maandelijks of 4-wekelijks (a.s.r. kent alleen deze twee).",
        example=MAANDELIJKS,
        width=13,
        choices=(MAANDELIJKS, VIERWEKELIJKS),
    ),
    Field(
        key="kvk_nummer",
        header="KvK-nummer",
        aliases=("kvk", "kvknummer", "kvk nummer", "kvk nr", "kamer van koophandel", "kvk inschrijving"),
        column_required=False,
        need=Need.NEVER,
        kind=Kind.KVK,
        rule="8 digits",
        help="Optioneel. Het KvK-nummer van 8 cijfers.",
        example="12345678",
        width=12,
    ),
    Field(
        key="loonheffingennummer",
        header="Loonheffingennummer",
        aliases=("loonheffingnummer", "loonheffingen nummer", "lh nummer", "lhnr", "lh nr",
                 "loonheffingennr", "loonheffingsnummer"),
        column_required=False,
        need=Need.NEVER,
        kind=Kind.LOONHEFFINGENNUMMER,
        rule="9 digits + `L` + 2 digits; the 9 digits pass the 11-test",
        help="Optioneel. 9 cijfers, de letter L en 2 cijfers, bijvoorbeeld 123456782L01.",
        example="123456782L01",
        width=15,
    ),
    Field(
        key="opmerkingen",
        header="Opmerkingen",
        aliases=("opmerking", "toelichting", "notities", "notitie", "bijzonderheden", "memo"),
        column_required=False,
        need=Need.NEVER,
        kind=Kind.TEXT,
        rule="free text, printed on the document",
        help="Optioneel. Vrije tekst; komt op het aanmeldingsdocument.",
        example="",
        width=32,
    ),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
SECRET_FIELDS: frozenset[str] = frozenset(f.key for f in FIELDS if f.secret)
# What offices type when they do not have a value yet. In a Client ID or Secret it is rejected by
# validation, and the redaction does not hunt for it (it would mask every '-' in a report).
PLACEHOLDERS = frozenset({"-", "--", "---", ".", "/", "?", "x", "xx", "xxx", "nvt", "n.v.t.", "n.v.t", "nb", "n.b.",
                          "geen", "leeg", "onbekend", "volgt", "tbd", "todo", "n/a", "na", "none", "null", "0"})


def is_placeholder(value: str) -> bool:
    return value.casefold() in PLACEHOLDERS or not any(c.isalnum() for c in value)


@dataclass(frozen=True)
class OfficeField:
    """A key/value line of the Salarisverwerker sheet."""

    key: str
    label: str
    aliases: tuple[str, ...]
    help: str
    default_for: str | None = None  # the Werkgevers field this value is the default of
    secret: bool = False


OFFICE_FIELDS: tuple[OfficeField, ...] = (
    OfficeField("naam", "Naam salarisverwerker", ("salarisverwerker", "naam", "naam kantoor",
                                                  "administratiekantoor", "kantoor"),
                "De naam van uw kantoor."),
    OfficeField("contactpersoon", "Contactpersoon", ("contact", "naam contactpersoon"),
                "Wie a.s.r. kan bellen over deze aanmeldingen."),
    OfficeField("email", "E-mailadres", ("email", "e mail", "mail", "e mailadres contactpersoon"),
                "Hierop bevestigt a.s.r. de koppeling."),
    OfficeField("telefoon", "Telefoonnummer", ("telefoon", "tel", "telefoonnummer contactpersoon"),
                "Telefoonnummer van de contactpersoon."),
    OfficeField("client_id", "Client ID", ("standaard client id", "clientid", "client id standaard"),
                "Standaard Client ID van de Web API gebruiker, voor rijen zonder eigen Client ID.",
                default_for="client_id"),
    OfficeField("client_secret", "Client Secret", ("standaard client secret", "clientsecret",
                                                   "client secret standaard", "secret"),
                "Standaard Client Secret, voor rijen zonder eigen Client Secret. Vertrouwelijk.",
                default_for="client_secret", secret=True),
)

SHEET_TOELICHTING = "Toelichting"
SHEET_OFFICE = "Salarisverwerker"
SHEET_WERKGEVERS = "Werkgevers"
SHEET_LISTS = "Keuzelijsten"

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(text: str) -> str:
    """Header text to a comparable key: case, accents, spacing and punctuation do not count."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub("", ascii_only.casefold())


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for field in FIELDS:
        for name in (field.header, field.key, *field.aliases):
            table.setdefault(normalise_header(name), field.key)
    return table


HEADER_ALIASES: dict[str, str] = _alias_table()
OFFICE_ALIASES: dict[str, str] = {
    normalise_header(name): f.key for f in OFFICE_FIELDS for name in (f.label, f.key, *f.aliases)
}


def match_header(text: str) -> str | None:
    """The field key a header names, or None for an unknown column."""
    return HEADER_ALIASES.get(normalise_header(text))


def readme_table() -> str:
    """The README's column table, derived from the field table."""
    required = {Need.ALWAYS: "yes", Need.OFFICE_DEFAULT: "yes¹", Need.IF_DGA: "if DGA = Ja", Need.NEVER: "no"}
    lines = ["| header | field key | required | rule |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        lines.append(f"| {f.header} | `{f.key}` | {required[f.need]} | {f.rule} |")
    return "\n".join(lines)
